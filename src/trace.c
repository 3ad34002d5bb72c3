/* Trace analysis: horizon estimation, time to target, CSV output (trace.h). */
#include "trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void feral_horizon_estimate(const double *x, const double *e, size_t len,
                            struct feral_horizon *out)
{
	memset(out, 0, sizeof *out);
	out->horizon = NAN;
	out->tail_drop = NAN;
	out->tail_spread = NAN;
	double *lx = malloc((len ? len : 1) * sizeof *lx);
	double *le = malloc((len ? len : 1) * sizeof *le);
	if (!lx || !le) {
		free(lx);
		free(le);
		return;
	}
	size_t m = 0;
	double last = NAN;
	for (size_t k = 0; k < len; k++) {
		double xv = x ? x[k] : (double)k;
		if (!isfinite(e[k]) || !(e[k] > 0) || !isfinite(xv))
			continue;
		lx[m] = xv;
		le[m] = log10(e[k]);
		last = e[k];
		m++;
	}
	out->points = m;
	if (m == 0)
		goto done;
	out->horizon = last;
	if (m < FERAL_HORIZON_MIN_POINTS)
		goto done;
	/* the last third, at least FERAL_HORIZON_MIN_TAIL points */
	size_t tail = m / 3;
	if (tail < FERAL_HORIZON_MIN_TAIL)
		tail = FERAL_HORIZON_MIN_TAIL;
	const double *tx = lx + (m - tail), *te = le + (m - tail);
	out->tail = tail;
	/* least-squares line through (tx, te) */
	double mx = 0, me = 0;
	for (size_t k = 0; k < tail; k++) {
		mx += tx[k];
		me += te[k];
	}
	mx /= (double)tail;
	me /= (double)tail;
	double sxx = 0, sxe = 0, lo = te[0], hi = te[0];
	for (size_t k = 0; k < tail; k++) {
		sxx += (tx[k] - mx) * (tx[k] - mx);
		sxe += (tx[k] - mx) * (te[k] - me);
		lo = fmin(lo, te[k]);
		hi = fmax(hi, te[k]);
	}
	double slope = sxx > 0 ? sxe / sxx : 0;
	out->tail_drop = slope * (tx[tail - 1] - tx[0]);
	out->tail_spread = hi - lo;
	if (fabs(out->tail_drop) < FERAL_HORIZON_FLAT_DECADES) {
		/* sorting the tail in place is fine: te is not used after this */
		qsort(le + (m - tail), tail, sizeof *le, cmp_double);
		double med = tail % 2 ? te[tail / 2] : 0.5 * (te[tail / 2 - 1] + te[tail / 2]);
		out->horizon = pow(10.0, med);
		out->plateau_reached = 1;
	}
done:
	free(lx);
	free(le);
}

const char *feral_trace_metric_name(enum feral_trace_metric m)
{
	static const char *const names[] = {"relative_error", "objective", "relative_residual"};
	return (unsigned)m < FERAL_TRACE_METRIC_COUNT ? names[m] : "?";
}

double feral_trace_value(const struct feral_trace_point *p, enum feral_trace_metric m)
{
	switch (m) {
	case FERAL_TRACE_REL_ERROR: return p->rel_error;
	case FERAL_TRACE_OBJECTIVE: return p->objective;
	case FERAL_TRACE_REL_RESIDUAL: return p->rel_residual;
	default: return NAN;
	}
}

void feral_trace_horizon(const struct feral_trace *t, enum feral_trace_metric metric,
                         struct feral_horizon *out)
{
	size_t len = t && t->len > 1 ? t->len - 1 : 0;
	double *x = malloc((len ? len : 1) * sizeof *x), *e = malloc((len ? len : 1) * sizeof *e);
	if (!x || !e) {
		free(x);
		free(e);
		feral_horizon_estimate(NULL, NULL, 0, out);
		return;
	}
	for (size_t k = 0; k < len; k++) {
		x[k] = (double)t->pts[k + 1].updates;
		e[k] = feral_trace_value(&t->pts[k + 1], metric);
	}
	feral_horizon_estimate(x, e, len, out);
	free(x);
	free(e);
}

double feral_trace_time_to_target(const struct feral_trace *t, enum feral_trace_metric metric,
                                  double target)
{
	if (!t || !isfinite(target))
		return NAN;
	for (size_t k = 0; k < t->len; k++) {
		double v = feral_trace_value(&t->pts[k], metric);
		if (isfinite(v) && v <= target)
			return t->pts[k].seconds;
	}
	return NAN;
}

int feral_trace_write_csv(FILE *f, const char *prefix, const struct feral_trace *t)
{
	const char *sep = prefix && prefix[0] ? "," : "";
	for (size_t k = 0; t && k < t->len; k++) {
		const struct feral_trace_point *p = &t->pts[k];
		fprintf(f, "%s%s%llu,%.6g,%.10g,%.6g,%.6g\n", prefix ? prefix : "", sep,
		        (unsigned long long)p->updates, p->seconds, p->objective, p->rel_residual,
		        p->rel_error);
	}
	return ferror(f) ? -1 : 0;
}

void feral_trace_append(struct feral_trace *t, const struct feral_trace_point *pt)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct feral_trace_point *np = realloc(t->pts, cap * sizeof *np);
		if (!np)
			return;
		t->pts = np;
		t->cap = cap;
	}
	t->pts[t->len++] = *pt;
}
