/* Trace analysis: the convergence horizon and the time to a target.
 *
 * The horizon is the level the error settles at (Needell-Srebro-Ward
 * Theorem 2.1: gamma sigma^2 / (mu (1 - gamma sup L)) for SGD; Buckwild!
 * adds the rounding noise of the data and the model).  It is estimated from
 * a trace of (x_k, e_k) pairs, x increasing (updates or seconds), e > 0 (the
 * relative error ||x - x*||^2/||x*||^2, or the objective when x* is unknown):
 *
 *   1. Keep the finite, positive points; work on log10(e).
 *   2. Take the last third of them (at least FERAL_HORIZON_MIN_TAIL points;
 *      fewer than FERAL_HORIZON_MIN_POINTS in all: no estimate).
 *   3. Fit a least-squares line log10(e) = a + b x on that tail; its change
 *      over the tail is drop = b (x_last - x_first) decades.
 *   4. |drop| < FERAL_HORIZON_FLAT_DECADES: a plateau.  The horizon is
 *      10^median(log10 e over the tail) and plateau_reached = 1.
 *      Otherwise plateau_reached = 0 and the horizon is the last value (an
 *      upper bound on the plateau while the error is still falling).
 *
 * Internal to the library (not in feral.h); bench and the tests use it. */
#ifndef FERAL_TRACE_H
#define FERAL_TRACE_H

#include "feral.h"

#include <stdio.h>

/* A tail whose fitted line changes by less than this many decades is flat. */
#define FERAL_HORIZON_FLAT_DECADES 0.25
/* Fewer usable points than this: no estimate (horizon = last value, no plateau). */
#define FERAL_HORIZON_MIN_POINTS 6
/* The tail holds at least this many points. */
#define FERAL_HORIZON_MIN_TAIL 3

struct feral_horizon {
	double horizon;     /* plateau level, or the last value when no plateau; NaN: no data */
	int plateau_reached;
	double tail_drop;   /* fitted change over the tail in decades (negative = falling) */
	double tail_spread; /* max - min of log10(e) over the tail, decades */
	size_t points;      /* usable points */
	size_t tail;        /* points in the tail */
};

/* Estimate the horizon from len pairs (x[k], e[k]); x may be NULL (then the
 * index is used).  Non-finite or non-positive e are skipped.  Never fails:
 * with no usable point, horizon = NaN and plateau_reached = 0. */
void feral_horizon_estimate(const double *x, const double *e, size_t len,
                            struct feral_horizon *out);

/* Which trace column the horizon is taken on. */
enum feral_trace_metric {
	FERAL_TRACE_REL_ERROR = 0, /* ||x-x*||^2/||x*||^2 */
	FERAL_TRACE_OBJECTIVE,     /* F(x) */
	FERAL_TRACE_REL_RESIDUAL,  /* ||Ax-b||/||b|| or error rate */
	FERAL_TRACE_METRIC_COUNT
};
const char *feral_trace_metric_name(enum feral_trace_metric m);
double feral_trace_value(const struct feral_trace_point *p, enum feral_trace_metric m);

/* The horizon of a solver trace, on `metric`, against the update count.
 * The first point (x0, before any update) is left out. */
void feral_trace_horizon(const struct feral_trace *t, enum feral_trace_metric metric,
                         struct feral_horizon *out);

/* Solver seconds at the first trace point whose metric is <= target; NaN
 * when never reached. */
double feral_trace_time_to_target(const struct feral_trace *t, enum feral_trace_metric metric,
                                  double target);

/* Append pt to t, growing it by doubling; a point that finds no memory is
 * dropped (a trace is a record, not part of the solve). */
void feral_trace_append(struct feral_trace *t, const struct feral_trace_point *pt);

/* CSV rows "prefix,updates,seconds,objective,relative_residual,relative_error"
 * (prefix may be NULL or "" for none).  Returns 0, or -1 on a write error. */
int feral_trace_write_csv(FILE *f, const char *prefix, const struct feral_trace *t);
#endif
