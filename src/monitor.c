/* The monitor: worker 0, every trace_every updates (summed over workers),
 * snapshots the model(s) into doubles and evaluates the snapshot on a fixed
 * row subsample while the other workers go on; it records the trace, checks
 * the stop rules (divergence, tolerance, time, the caller's stop flag),
 * writes checkpoints and keeps the tail average (Polyak & Juditsky,
 * "Acceleration of stochastic approximation by averaging", 1992).  Its time
 * is measured and excluded from throughput.  Everything here is off the
 * update path: the worker loop calls feral_monitor_tick only at the counts
 * it returns. */
#include "internal.h"
#include "engine.h"
#include "trace.h"

#include <math.h>
#include <time.h>

#define EVAL_ROWS_MAX 16384 /* trace points evaluate on at most this many rows */
/* With more than one worker, worker 0 looks at the total at least every
 * this many of its own updates (the others' rates may differ from its own). */
#define CHECK_GAP_MAX 256

/* Objective, residual (LS: ||Ax-b||/||b||; else error rate) and relative
 * error of x from the sums over m evaluation rows. */
static void eval_finish(const struct feral_ctx *c, const double *x, const struct feral_eval_sums *e,
                        uint64_t m, struct feral_trace_point *pt)
{
	const struct feral_dataset *ds = c->ds;
	const struct feral_config *cfg = c->cfg;
	double xx = 0;
	for (uint64_t j = 0; j < ds->d; j++)
		xx += x[j] * x[j];
	pt->objective = e->obj / (double)m + 0.5 * cfg->l2 * xx;
	if (cfg->loss == FERAL_LOSS_LS)
		pt->rel_residual = e->bb > 0 ? sqrt(e->rr / e->bb) : sqrt(e->rr);
	else
		pt->rel_residual = (double)e->wrong / (double)m;
	pt->rel_error = NAN;
	if (c->x_star)
		pt->rel_error = feral_rel_dist2(x, c->x_star, ds->d, c->xstar_sq);
	if (!isfinite(xx))
		pt->objective = NAN;
}

/* The same of x over `rows` (NULL = all rows). */
static void evaluate(const struct feral_ctx *c, const double *x, const uint64_t *rows, uint64_t m,
                     struct feral_trace_point *pt)
{
	const struct feral_dataset *ds = c->ds;
	struct feral_eval_sums e = {0};
	for (uint64_t k = 0; k < m; k++) {
		uint64_t i = rows ? rows[k] : k;
		feral_eval_add(&e, c->cfg->loss, feral_row_dot(ds, i, x), ds->y[i]);
	}
	eval_finish(c, x, &e, m, pt);
}

uint64_t feral_total_updates(const struct feral_ctx *c)
{
	uint64_t s = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		s += __atomic_load_n(&c->w[t].updates, __ATOMIC_RELAXED);
	return s;
}

/* A trace point pt of x (the model's snapshot) at `total` updates, its
 * evaluation begun at t_start, of the model at time t_at (0: its end):
 * record it, decide stopping. */
static void record(struct feral_ctx *c, const double *x, struct feral_trace_point *pt,
                   uint64_t total, int final, double t_start, double t_at)
{
	pt->updates = total;
	const struct feral_config *cfg = c->cfg;
	/* The certified stop: the full gradient at the snapshot, at most once an
	 * epoch (SVRG has it at every snapshot, in its hook). */
	bool grad_hit = false;
	if (!final && feral_grad_rule(c) && !feral_method_vr(cfg->method) &&
	    total >= c->next_grad && isfinite(pt->objective)) {
		double t_g = feral_now();
		double gn = feral_grad_norm(c->ds, cfg, x);
		c->grad_rel = c->gnorm0 > 0 ? gn / c->gnorm0 : (gn > 0 ? INFINITY : 0);
		grad_hit = gn <= cfg->tol * c->gnorm0;
		c->next_grad = total + c->ds->n;
		c->grad_s += feral_now() - t_g;
	}
	double t_end = feral_now();
	c->monitor_s += t_end - t_start;
	pt->seconds = (t_at > 0 ? t_at : t_end) - c->t0 - c->monitor_s / c->plan.nthreads;
	bool bad = !isfinite(pt->objective) ||
	           pt->objective > cfg->diverge * fmax(c->obj0, 1.0);
	if (bad) {
		feral_request_stop(c, FERAL_STATUS_DIVERGED);
		return;
	}
	memcpy(c->good, x, c->ds->d * sizeof *c->good);
	if (cfg->checkpoint && cfg->checkpoint_every > 0 && !final &&
	    t_end - c->last_ckpt >= cfg->checkpoint_every) {
		double t_ck = feral_now();
		if (cfg->checkpoint(cfg->checkpoint_arg, x, c->ds->d, total) != 0) {
			/* the same lock as the workers' binding warnings: a late worker may
			 * still be writing one */
#pragma omp critical(feral_warning)
			if (!c->warning[0])
				snprintf(c->warning, sizeof c->warning, "writing a checkpoint failed");
		}
		c->last_ckpt = feral_now();
		c->monitor_s += c->last_ckpt - t_ck;
	}
	if (c->trace)
		feral_trace_append(c->trace, pt);
	if (!final && cfg->tol > 0) {
		/* certified only: the distance to a known x*, else the relative
		 * gradient norm (smooth losses); the hinge loss without x* has no
		 * certificate and runs its budget */
		bool hit = c->x_star ? pt->rel_error <= cfg->tol : grad_hit;
		if (hit) {
			c->converged = 1;
			feral_request_stop(c, FERAL_OK);
		}
	}
	if (cfg->progress && !final) {
		double f = c->total_budget < UINT64_MAX / 4
		                   ? (double)total / (double)c->total_budget
		                   : 0.0;
		if (cfg->seconds > 0)
			f = fmax(f, (t_end - c->t0) / cfg->seconds);
		cfg->progress(cfg->progress_arg, pt, fmin(f, 1.0));
	}
	if (cfg->seconds > 0 && t_end - c->t0 >= cfg->seconds)
		feral_request_stop(c, FERAL_OK);
	if (cfg->stop_flag && __atomic_load_n(cfg->stop_flag, __ATOMIC_RELAXED))
		feral_request_stop(c, FERAL_STATUS_INTERRUPTED);
}

/* Worker 0 at a trace point: snapshot, evaluate, record, decide stopping. */
static void monitor(struct feral_ctx *c, uint64_t total, int final)
{
	if (c->converged) /* keep c->good: the snapshot that met the tolerance */
		return;
	double t_start = feral_now(), cpu0 = feral_thread_cpu();
	feral_model_snapshot(c, c->snap);
	struct feral_trace_point pt;
	evaluate(c, c->snap, c->eval_rows, c->n_eval, &pt);
	record(c, c->snap, &pt, total, final, t_start, 0);
	c->monitor_cpu_s += feral_thread_cpu() - cpu0;
}

void feral_monitor_round_begin(struct feral_ctx *c, uint64_t done)
{
	uint64_t end = done > UINT64_MAX - c->round_len ? UINT64_MAX : done + c->round_len, tot = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		tot += c->quota[t] < end ? c->quota[t] : end;
	c->snap_total = tot;
}

int feral_monitor_round_end(struct feral_ctx *c, bool hook_runs)
{
	uint64_t tot = feral_total_updates(c);
	if (c->converged || tot < c->next_trace || tot < c->snap_total)
		return FERAL_TRACE_NONE; /* none due, or the ticks took it (a round cut short) */
	if (hook_runs) {
		c->trace_due_t = feral_now(); /* the point's time: its updates' end */
		return FERAL_TRACE_SNAPSHOT;
	}
	return FERAL_TRACE_NOW; /* no snapshot follows (the last round, no hook) */
}

void feral_monitor_round_point(struct feral_ctx *c)
{
	uint64_t tot = feral_total_updates(c);
	monitor(c, tot, 0);
	c->next_trace = tot + c->trace_every;
}

void feral_monitor_eval_range(const struct feral_ctx *c, uint64_t ilo, uint64_t ihi,
                              uint64_t *klo, uint64_t *khi)
{
	uint64_t b[2] = {ilo, ihi};
	for (int s = 0; s < 2; s++) { /* the first k with eval row >= b[s] */
		uint64_t lo = 0, hi = c->n_eval;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			if (feral_monitor_eval_row(c, mid) < b[s])
				lo = mid + 1;
			else
				hi = mid;
		}
		b[s] = lo;
	}
	*klo = b[0];
	*khi = b[1];
}

void feral_monitor_snapshot_point(struct feral_ctx *c, const double *x,
                                  const struct feral_eval_sums *es, int T)
{
	if (c->converged)
		return;
	double t_start = feral_now(), cpu0 = feral_thread_cpu();
	uint64_t tot = feral_total_updates(c);
	struct feral_eval_sums e = es[0];
	for (int t = 1; t < T; t++) {
		e.obj += es[t].obj;
		e.rr += es[t].rr;
		e.bb += es[t].bb;
		e.wrong += es[t].wrong;
	}
	struct feral_trace_point pt;
	eval_finish(c, x, &e, c->n_eval, &pt);
	record(c, x, &pt, tot, 0, t_start, c->trace_due_t);
	c->next_trace = tot + c->trace_every;
	c->monitor_cpu_s += feral_thread_cpu() - cpu0;
}

/* Tail averaging: add a snapshot of the model(s) to the running sum once the
 * tail has begun (the monitor's own time; no evaluation). */
static void tail_snapshot(struct feral_ctx *c, uint64_t total)
{
	if (total < c->tail_from)
		return;
	double t = feral_now(), cpu0 = feral_thread_cpu();
	feral_model_snapshot(c, c->snap);
	for (uint64_t j = 0; j < c->ds->d; j++)
		c->tail_sum[j] += c->snap[j];
	c->tail_n++;
	c->monitor_s += feral_now() - t;
	c->monitor_cpu_s += feral_thread_cpu() - cpu0;
}

enum feral_status feral_monitor_start(struct feral_ctx *c, const double *x0,
                                      struct feral_error *err)
{
	const struct feral_dataset *ds = c->ds;
	uint64_t n = ds->n, d = ds->d;
	c->snap = malloc(d * sizeof *c->snap);
	c->good = malloc(d * sizeof *c->good);
	if (!c->snap || !c->good)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (monitor)");
	if (c->cfg->average_iterates) {
		c->tail_sum = calloc(d, sizeof *c->tail_sum);
		if (!c->tail_sum)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "tail average");
		c->tail_every = n / 8 ? n / 8 : 1;
		/* the second half of an update budget; with only a time budget,
		 * every snapshot after the first epoch */
		c->tail_from = c->total_budget < UINT64_MAX / 4 ? c->total_budget / 2 : n;
		c->next_tail = c->tail_from > c->tail_every ? c->tail_from : c->tail_every;
	}
	/* a fixed, deterministic subsample of rows for trace points */
	c->trace_every = c->cfg->trace_every ? c->cfg->trace_every : n;
	c->next_trace = c->trace_every;
	c->snap_total = UINT64_MAX;
	c->n_eval = n < EVAL_ROWS_MAX ? n : EVAL_ROWS_MAX;
	if (c->n_eval < n) {
		c->eval_rows = malloc(c->n_eval * sizeof *c->eval_rows);
		if (!c->eval_rows)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "eval rows");
		for (uint64_t k = 0; k < c->n_eval; k++) /* evenly spaced rows */
			c->eval_rows[k] = (uint64_t)((double)k * (double)n / (double)c->n_eval);
	}
	struct feral_trace_point p0;
	evaluate(c, x0, c->eval_rows, c->n_eval, &p0);
	c->obj0 = p0.objective;
	c->prev_obj = NAN;
	/* ||grad F(0)||, the certified stop's reference, as liblinear's TRON
	 * takes it: at 0 even from a warm start x0, whose own gradient may be
	 * tiny already.  From x0 = 0, SVRG's first snapshot is x0: its hook
	 * takes it at no extra cost. */
	c->next_grad = c->trace_every < n ? n : c->trace_every;
	int x0_zero = 1;
	for (uint64_t j = 0; j < d && x0_zero; j++)
		x0_zero = x0[j] == 0;
	if (c->cfg->tol > 0 && c->cfg->loss != FERAL_LOSS_HINGE &&
	    (!feral_method_vr(c->cfg->method) || !x0_zero)) {
		double t_g = feral_now();
		double *z = x0_zero ? NULL : calloc(d, sizeof *z);
		if (!x0_zero && !z)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "gradient reference");
		c->gnorm0 = feral_grad_norm(ds, c->cfg, x0_zero ? x0 : z);
		free(z);
		c->grad_s += feral_now() - t_g;
	}
	memcpy(c->good, x0, d * sizeof *c->good);
	struct feral_trace *trace = c->trace;
	if (trace) {
		p0.updates = 0;
		p0.seconds = 0;
		struct feral_trace_point *np = realloc(trace->pts, (trace->len + 64) * sizeof *np);
		if (np) {
			trace->pts = np;
			trace->cap = trace->len + 64;
			trace->pts[trace->len++] = p0;
		}
	}
	return FERAL_OK;
}

uint64_t feral_monitor_first_check(const struct feral_ctx *c)
{
	uint64_t at = c->trace_every;
	if (c->plan.nthreads > 1 && at > CHECK_GAP_MAX)
		at = CHECK_GAP_MAX;
	return at;
}

__attribute__((noinline, cold)) uint64_t feral_monitor_tick(struct feral_ctx *c, uint64_t done)
{
	const struct feral_config *cfg = c->cfg;
	uint64_t tot = feral_total_updates(c);
	if (tot >= c->next_trace && tot < c->snap_total) { /* else the snapshot's */
		monitor(c, tot, 0);
		c->next_trace = tot + c->trace_every;
		tot = feral_total_updates(c);
	}
	if (c->tail_sum && tot >= c->next_tail) {
		tail_snapshot(c, tot);
		c->next_tail = tot + c->tail_every;
	}
	uint64_t upcoming = c->next_trace;
	if (c->tail_sum && c->next_tail < upcoming)
		upcoming = c->next_tail;
	uint64_t gap = upcoming > tot ? upcoming - tot : 1;
	if (c->plan.nthreads > 1 && gap > CHECK_GAP_MAX)
		gap = CHECK_GAP_MAX;
	if (cfg->seconds > 0 && feral_now() - c->t0 >= cfg->seconds)
		feral_request_stop(c, FERAL_OK);
	if (cfg->stop_flag && __atomic_load_n(cfg->stop_flag, __ATOMIC_RELAXED))
		feral_request_stop(c, FERAL_STATUS_INTERRUPTED);
	return done + gap;
}

/* Polling period of a monitor whose own updates are done: short next to a
 * trace interval, long enough to leave the core to the workers. */
#define WAIT_POLL_NS 100000L

__attribute__((noinline, cold)) void feral_monitor_wait(struct feral_ctx *c, uint64_t round)
{
	for (;;) {
		int waiting = 0;
		for (int t = 1; t < c->plan.nthreads; t++)
			waiting |= __atomic_load_n(&c->w[t].arrived, __ATOMIC_ACQUIRE) < round;
		if (!waiting)
			return;
		feral_monitor_tick(c, 0);
		struct timespec ts = {0, WAIT_POLL_NS};
		nanosleep(&ts, NULL);
	}
}

enum feral_status feral_monitor_finish(struct feral_ctx *c, double *x, double wall,
                                       struct feral_result *res, struct feral_error *err)
{
	uint64_t n = c->ds->n, d = c->ds->d;
	int T = c->plan.nthreads;
	enum feral_status st;
	uint64_t upd = feral_total_updates(c);
	/* the monitor's time inside the wall (the final trace point below is
	 * taken after it, and subtracting it made a short run's seconds < 0) */
	const double monitor_in_wall = c->monitor_s;
	if (c->stop && c->stop_status == FERAL_STATUS_DIVERGED) {
		memcpy(x, c->good, d * sizeof *x);
		st = feral_fail(err, FERAL_STATUS_DIVERGED, NULL, 0,
		                "diverged after %llu updates (step %g): kept the last good iterate; "
		                "try a smaller step",
		                (unsigned long long)upd, res->step);
	} else {
		/* Converged: the snapshot that met the tolerance, not the iterate
		 * the other workers moved on to (Hogwild! noise could take it back
		 * over the tolerance before they saw the stop). */
		if (c->converged)
			memcpy(x, c->good, d * sizeof *x);
		else
			feral_model_snapshot(c, x);
		if (c->tail_n > 0) { /* the last iterate joins the tail average */
			for (uint64_t j = 0; j < d; j++)
				x[j] = (c->tail_sum[j] + x[j]) / (double)(c->tail_n + 1);
			res->averaged = c->tail_n + 1;
		}
		if (c->trace && !c->converged)
			monitor(c, upd, 1);
		st = (c->stop && c->stop_status == FERAL_STATUS_INTERRUPTED) ? FERAL_STATUS_INTERRUPTED
		                                                            : FERAL_OK;
		if (st)
			feral_fail(err, st, NULL, 0, "interrupted after %llu updates",
			           (unsigned long long)upd);
	}
	struct feral_trace_point fin;
	evaluate(c, x, NULL, n, &fin);
	/* the relative gradient norm at the returned x: known when a gradient
	 * certified it (and no tail average moved it), else one more pass */
	res->grad_norm_rel = NAN;
	if (c->cfg->tol > 0 && c->cfg->loss != FERAL_LOSS_HINGE && st != FERAL_STATUS_DIVERGED) {
		if (c->converged && !c->x_star && c->tail_n == 0 && !isnan(c->grad_rel)) {
			res->grad_norm_rel = c->grad_rel;
		} else if (!isnan(c->gnorm0)) {
			double t_g = feral_now();
			double gn = feral_grad_norm(c->ds, c->cfg, x);
			res->grad_norm_rel = c->gnorm0 > 0 ? gn / c->gnorm0 : (gn > 0 ? INFINITY : 0);
			c->grad_s += feral_now() - t_g;
		}
	}
	/* A run that ends on its budget is still certified when the returned x
	 * meets the tolerance: it was just evaluated (the distance to x*, or the
	 * full gradient at x).  Without this, a run whose monitor never saw the
	 * converged model (worker 0 descheduled, replicas averaged only at the
	 * end) reported "not converged" beside a relative error of 1e-14. */
	if (!c->converged && st == FERAL_OK && c->cfg->tol > 0) {
		if (c->x_star)
			c->converged = fin.rel_error <= c->cfg->tol;
		else if (!isnan(res->grad_norm_rel))
			c->converged = res->grad_norm_rel <= c->cfg->tol;
	}
	res->grad_seconds = c->grad_s;
	res->updates = upd;
	/* Worker 0 is the monitor: while it evaluates, the other T-1 workers go
	 * on, so the monitor costs 1/T of the capacity for its duration. */
	res->seconds = wall - monitor_in_wall / T;
	res->monitor_seconds = c->monitor_s;
	res->avg_seconds = c->avg_s;
	res->updates_per_s = res->seconds > 0 ? (double)upd / res->seconds : 0;
	res->cpu_seconds = c->cpu_s > c->monitor_cpu_s ? c->cpu_s - c->monitor_cpu_s : 0;
	res->objective = fin.objective;
	res->rel_residual = fin.rel_residual;
	res->rel_error = fin.rel_error;
	res->converged = c->converged;
	res->bind_failures = c->bind_failures;
	for (int t = 0; t < T; t++) {
		res->saturations += c->w[t].saturations;
		res->writes += c->w[t].writes;
	}
	res->model_scale = c->scale; /* with bit centring, the last re-centring's */
	feral_async_result(c, res);  /* staleness, conflict rate, cfg->staleness_hist */
	if (c->warning[0])
		snprintf(res->warning, sizeof res->warning, "%s", c->warning);
	else if (res->writes && (double)res->saturations > 1e-3 * (double)res->writes)
		snprintf(res->warning, sizeof res->warning,
		         "%.2f%% of fixed point writes saturated: raise model_scale",
		         100.0 * (double)res->saturations / (double)res->writes);
	return st;
}

void feral_monitor_free(struct feral_ctx *c)
{
	free(c->snap);
	free(c->good);
	free(c->eval_rows);
	free(c->tail_sum);
	c->snap = c->good = c->tail_sum = NULL;
	c->eval_rows = NULL;
}
