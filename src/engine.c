/* The solver: weighted SGD and randomized Kaczmarz, run the Hogwild! way.
 *
 * Needell, Srebro & Ward: draw row i with p_i = lambda/n + (1-lambda) L_i/sum L
 * and step  x <- x - (gamma / (n p_i)) grad f_i(x).  The reweighting keeps the
 * expected step equal to the full gradient, so the objective and its
 * minimiser are those of uniform SGD; the weights change only the constants
 * (sup L_w, sigma2_w) of the rate.  For least squares with p_i ~ ||a_i||^2 and
 * gamma = 1/Lbar this is exactly the Strohmer-Vershynin Kaczmarz projection.
 * The classic normalised projection (--method kaczmarz) is kept apart: it
 * does not reweight, so with uniform rows it solves the row-weighted problem
 * min sum (a_i.x - b_i)^2/||a_i||^2 (MATH.md section 3).
 *
 * Hogwild! (Niu, Recht, Re, Wright): T workers, one OpenMP region, each with
 * its own RNG stream and alias sampler over its node's shard, read the shared
 * iterate and write their update back coordinate-wise without locks.  The
 * intended races go through FERAL_RACY_* / feral_racy_* (plain accesses, or
 * relaxed atomics in the RACES=atomic build that ThreadSanitizer checks).
 * Buckwild! (De Sa et al.): the iterate may be int16/int8 fixed point, x = s q,
 * written with unbiased stochastic rounding of each increment (kernels/).
 *
 * Replicas (DimmWitted): one model per machine, per node or per worker;
 * replicas are averaged every `average_every` updates of each worker (all
 * workers meet at a barrier) and at the end.
 *
 * The monitor is worker 0: every trace_every updates (summed over workers) it
 * snapshots the model(s) into doubles and evaluates the snapshot while the
 * other workers go on.  Its time is measured and excluded from throughput. */
#include "internal.h"
#include "engine.h"
#include "stepsize.h"
#include "topo.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define EVAL_ROWS_MAX 16384 /* trace points evaluate on at most this many rows */
#ifndef FERAL_SCALE_HEADROOM
/* Fixed point scale: headroom over the warm-up's max |x_j|.  Measured on
 * Fashion-MNIST logistic (8-bit model): 1.0 -> 94.87%, 1.25 -> 94.93%,
 * 1.5 -> 94.74%, 2.0 -> 94.59% test accuracy (f32: 95.12%): a finer grid
 * beats the few saturations it causes. */
#define FERAL_SCALE_HEADROOM 1.25
#endif

/* ---- plan: placements, shards, replicas -------------------------------------- */

void feral_plan_free(struct feral_plan *plan)
{
	if (!plan)
		return;
	for (int k = 0; k < plan->nshards; k++) {
		free(plan->shards[k].rows);
		free(plan->shards[k].mass);
		feral_alias_free(&plan->shards[k].alias);
	}
	free(plan->shards);
	free(plan->place);
	free(plan->shard_of);
	free(plan->rep_node);
	free(plan->rep_of);
	memset(plan, 0, sizeof *plan);
}

enum feral_status feral_plan_from_placements(const struct feral_placement *place, int T,
                                             enum feral_replicas replicas, const double *p,
                                             uint64_t n, struct feral_plan *plan,
                                             struct feral_error *err)
{
	memset(plan, 0, sizeof *plan);
	plan->nthreads = T;
	plan->place = malloc((size_t)T * sizeof *plan->place);
	plan->shard_of = malloc((size_t)T * sizeof *plan->shard_of);
	plan->rep_of = malloc((size_t)T * sizeof *plan->rep_of);
	plan->rep_node = malloc((size_t)T * sizeof *plan->rep_node);
	plan->shards = calloc((size_t)T, sizeof *plan->shards);
	if (!plan->place || !plan->shard_of || !plan->rep_of || !plan->rep_node || !plan->shards) {
		feral_plan_free(plan);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (plan)");
	}
	memcpy(plan->place, place, (size_t)T * sizeof *place);
	/* one shard per distinct node, in order of first appearance */
	for (int t = 0; t < T; t++) {
		int k;
		for (k = 0; k < plan->nshards; k++)
			if (plan->shards[k].node == place[t].node)
				break;
		if (k == plan->nshards) {
			plan->shards[k].node = place[t].node;
			plan->nshards++;
		}
		plan->shards[k].workers++;
		plan->shard_of[t] = k;
	}
	/* replicas */
	for (int t = 0; t < T; t++) {
		switch (replicas) {
		case FERAL_REPLICAS_CORE:
			plan->rep_of[t] = t;
			plan->rep_node[t] = place[t].node;
			plan->nrep = T;
			break;
		case FERAL_REPLICAS_NODE:
			plan->rep_of[t] = plan->shard_of[t];
			plan->rep_node[plan->shard_of[t]] = place[t].node;
			plan->nrep = plan->nshards;
			break;
		default:
			plan->rep_of[t] = 0;
			plan->rep_node[0] = place[0].node;
			plan->nrep = 1;
		}
	}
	if (plan->nshards == 1) {
		struct feral_shard *s = &plan->shards[0];
		s->len = n;
		enum feral_status st = feral_alias_build(&s->alias, p, n, err);
		if (st)
			feral_plan_free(plan);
		return st;
	}
	/* Cut the cumulative mass at C_k = sum_{k' < k} t_k' / T. */
	double cut_lo = 0;
	uint64_t i = 0;
	double row_lo = 0; /* cumulative mass before row i */
	for (int k = 0; k < plan->nshards; k++) {
		struct feral_shard *s = &plan->shards[k];
		double cut_hi = k == plan->nshards - 1 ? INFINITY : cut_lo + (double)s->workers / T;
		uint64_t cap = 1024, len = 0;
		s->rows = malloc(cap * sizeof *s->rows);
		s->mass = malloc(cap * sizeof *s->mass);
		uint64_t j = i;
		double lo = row_lo;
		while (j < n && lo < cut_hi) {
			double hi = lo + p[j];
			double m = fmin(hi, cut_hi) - fmax(lo, cut_lo);
			if (m > 0) {
				if (len == cap) {
					cap *= 2;
					uint32_t *r2 = realloc(s->rows, cap * sizeof *r2);
					double *m2 = realloc(s->mass, cap * sizeof *m2);
					if (r2) s->rows = r2;
					if (m2) s->mass = m2;
					if (!r2 || !m2) {
						s->len = len;
						feral_plan_free(plan);
						return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
					}
				}
				if (!s->rows || !s->mass)
					break;
				s->rows[len] = (uint32_t)j;
				s->mass[len] = m;
				len++;
			}
			if (hi <= cut_hi) { /* row ends inside this shard */
				j++;
				lo = hi;
			} else {
				break; /* row straddles the cut: it continues in the next shard */
			}
		}
		s->len = len;
		if (!s->rows || !s->mass) {
			feral_plan_free(plan);
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
		}
		if (len == 0) { /* no mass here (e.g. all p on zero rows): borrow row j */
			s->rows[0] = (uint32_t)(j < n ? j : n - 1);
			s->mass[0] = 1;
			s->len = len = 1;
		}
		enum feral_status st = feral_alias_build(&s->alias, s->mass, len, err);
		if (st) {
			feral_plan_free(plan);
			return st;
		}
		i = j;
		row_lo = lo;
		cut_lo = cut_hi;
	}
	return FERAL_OK;
}

enum feral_status feral_plan_build(const struct feral_topo *topo, int T, enum feral_bind bind,
                                   enum feral_replicas replicas, const double *p, uint64_t n,
                                   struct feral_plan *plan, struct feral_error *err)
{
	struct feral_placement *place = malloc((size_t)T * sizeof *place);
	if (!place)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (plan)");
	int over = 0;
	enum feral_status st = feral_topo_plan(topo, T, bind, place, &over, err);
	if (st == FERAL_OK)
		st = feral_plan_from_placements(place, T, replicas, p, n, plan, err);
	if (st == FERAL_OK)
		plan->oversubscribed = over;
	free(place);
	return st;
}

/* ---- shard data on its node -------------------------------------------------------- */

void feral_plan_free_data(const struct feral_plan *plan, struct feral_dataset **shard_ds,
                          double **shard_w)
{
	for (int k = 0; k < plan->nshards; k++) {
		if (shard_ds)
			feral_dataset_destroy(&shard_ds[k]);
		if (shard_w) {
			free(shard_w[k]);
			shard_w[k] = NULL;
		}
	}
}

enum feral_status feral_plan_place_data(const struct feral_plan *plan,
                                        const struct feral_dataset *ds, const double *wstep,
                                        const struct feral_topo *topo,
                                        struct feral_dataset **shard_ds, double **shard_w,
                                        struct feral_error *err)
{
	for (int k = 0; k < plan->nshards; k++) {
		shard_ds[k] = NULL;
		shard_w[k] = NULL;
	}
	if (plan->nshards < 2)
		return FERAL_OK;
	size_t esz = feral_precision_size(ds->precision);
	for (int k = 0; k < plan->nshards; k++) {
		const struct feral_shard *sh = &plan->shards[k];
		uint64_t nnz = 0;
		for (uint64_t e = 0; e < sh->len; e++) {
			uint64_t r = shard_row(sh, e);
			nnz += ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r + 1] - ds->indptr[r] : ds->d;
		}
		struct feral_dataset *l = NULL;
		enum feral_status st = feral_dataset_create(sh->len, ds->d, nnz ? nnz : 1, ds->layout,
		                                            ds->precision, &l, err);
		shard_w[k] = feral_big_alloc(sh->len * sizeof *shard_w[k]);
		if (st || !shard_w[k]) {
			feral_dataset_destroy(&l);
			feral_plan_free_data(plan, shard_ds, shard_w);
			return st ? st : feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "shard weights");
		}
		shard_ds[k] = l;
		if (topo) { /* values and indices are what the workers stream */
			int os = feral_topo_node_os_index(topo, sh->node);
			feral_numa_place(l->values, (size_t)nnz * esz, os);
			if (l->indices)
				feral_numa_place(l->indices, (size_t)nnz * sizeof *l->indices, os);
		}
		uint64_t at = 0;
		for (uint64_t e = 0; e < sh->len; e++) {
			uint64_t r = shard_row(sh, e);
			uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r] : r * ds->d;
			uint64_t len = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r + 1] - b : ds->d;
			memcpy((char *)l->values + at * esz, (const char *)ds->values + b * esz, len * esz);
			if (ds->layout == FERAL_LAYOUT_CSR) {
				memcpy(l->indices + at, ds->indices + b, len * sizeof *l->indices);
				l->indptr[e + 1] = at + len;
			}
			at += len;
			l->y[e] = ds->y[r];
			l->row_sq_norm[e] = ds->row_sq_norm[r];
			if (ds->row_scale)
				l->row_scale[e] = ds->row_scale[r];
			shard_w[k][e] = wstep[r];
		}
		l->nnz = at;
	}
	return FERAL_OK;
}

/* ---- models --------------------------------------------------------------------- */

static double qmax_of(enum feral_precision p)
{
	return p == FERAL_PRECISION_I8 ? 127.0 : p == FERAL_PRECISION_I16 ? 32767.0 : INFINITY;
}

/* model element j as a real number */
static inline double model_get(const void *x, enum feral_precision mp, double s, uint64_t j)
{
	switch (mp) {
	case FERAL_PRECISION_F64: return feral_racy_load_f64((const double *)x + j);
	case FERAL_PRECISION_F32: return feral_racy_load_f32((const float *)x + j);
	case FERAL_PRECISION_I16: return s * FERAL_RACY_LOAD((const int16_t *)x + j);
	case FERAL_PRECISION_I8: return s * FERAL_RACY_LOAD((const int8_t *)x + j);
	default: return NAN;
	}
}

/* Store a real value (rounded stochastically for fixed point, u in [0,1)). */
static inline int model_set(void *x, enum feral_precision mp, double s, uint64_t j, double v,
                            double u)
{
	switch (mp) {
	case FERAL_PRECISION_F64: feral_racy_store_f64((double *)x + j, v); return 0;
	case FERAL_PRECISION_F32: feral_racy_store_f32((float *)x + j, (float)v); return 0;
	default: break;
	}
	double qm = qmax_of(mp);
	double q = floor(v / s + u);
	int sat = 0;
	if (q > qm) { q = qm; sat = 1; }
	if (q < -qm) { q = -qm; sat = 1; }
	if (mp == FERAL_PRECISION_I16)
		FERAL_RACY_STORE((int16_t *)x + j, (int16_t)q);
	else
		FERAL_RACY_STORE((int8_t *)x + j, (int8_t)q);
	return sat;
}

/* ---- the solve context ------------------------------------------------------------ */

struct worker {
	uint64_t updates;     /* written by its worker only, read by the monitor */
	uint64_t saturations;
	uint64_t writes;
} FERAL_ALIGN64;

struct ctx {
	const struct feral_dataset *ds;
	const struct feral_config *cfg;
	const double *x_star;
	double xstar_sq;
	feral_k_dot_fn dot;
	feral_k_axpy_fn axpy;
	size_t esz;               /* bytes per stored data element */
	const double *wstep;      /* 1/(n p_i) */
	const double *l2c;        /* eta / P_j, or NULL */
	double gamma;             /* absolute step */
	double decay_per_update;  /* step_decay / n */
	enum feral_precision mp;
	double scale;             /* model scale (1 for float) */
	/* bit centring (cfg->recenter): model value j = center[j] + scale q_j */
	double *center;
	float *fcenter;           /* the same in f32, for the dot kernel */
	feral_k_dot_fn cdot;      /* data x f32 dot */
	double *maxq;             /* per worker: largest |q| of its slice */
	struct feral_plan plan;
	struct feral_dataset **shard_ds; /* per shard, on its node (NULL: one shard) */
	double **shard_w;
	void **models;
	struct worker *w;
	uint64_t *quota;
	uint64_t round_len;       /* updates per worker between replica averages */
	int *finished;            /* per worker: quota exhausted */
	int stop;                 /* shared stop flag */
	int stop_status;
	int all_done;             /* decided at the averaging barrier */
	struct feral_topo *topo;
	/* monitor (worker 0 only) */
	struct feral_trace *trace;
	uint64_t trace_every, next_trace;
	double *snap, *good;
	uint64_t *eval_rows;
	uint64_t n_eval;
	double obj0, prev_obj;
	double t0, monitor_s, avg_s, last_ckpt;
	uint64_t total_budget; /* updates, summed over workers (UINT64_MAX/4: none) */
	/* tail averaging (worker 0): sum of snapshots taken from tail_from on */
	double *tail_sum;
	uint64_t tail_n, tail_from, tail_every, next_tail;
	int converged;
	int bind_failures;
	char warning[256];
};

static void snapshot(struct ctx *c, double *out)
{
	uint64_t d = c->ds->d;
	int R = c->plan.nrep;
	for (uint64_t j = 0; j < d; j++) {
		double s = 0;
		for (int r = 0; r < R; r++)
			s += model_get(c->models[r], c->mp, c->scale, j);
		out[j] = s / R + (c->center ? c->center[j] : 0);
	}
}

/* Objective, residual (LS: ||Ax-b||/||b||; else error rate) and relative
 * error of x over `rows` (NULL = all rows). */
static void evaluate(const struct ctx *c, const double *x, const uint64_t *rows, uint64_t m,
                     struct feral_trace_point *pt)
{
	const struct feral_dataset *ds = c->ds;
	const struct feral_config *cfg = c->cfg;
	double obj = 0, rr = 0, bb = 0, xx = 0;
	uint64_t wrong = 0;
	for (uint64_t k = 0; k < m; k++) {
		uint64_t i = rows ? rows[k] : k;
		double t = feral_row_dot(ds, i, x);
		obj += feral_loss_phi(cfg->loss, t, ds->y[i]);
		rr += (t - ds->y[i]) * (t - ds->y[i]);
		bb += ds->y[i] * ds->y[i];
		wrong += (t >= 0) != (ds->y[i] > 0);
	}
	for (uint64_t j = 0; j < ds->d; j++)
		xx += x[j] * x[j];
	pt->objective = obj / (double)m + 0.5 * cfg->l2 * xx;
	if (cfg->loss == FERAL_LOSS_LS)
		pt->rel_residual = bb > 0 ? sqrt(rr / bb) : sqrt(rr);
	else
		pt->rel_residual = (double)wrong / (double)m;
	pt->rel_error = NAN;
	if (c->x_star) {
		double e = 0;
		for (uint64_t j = 0; j < ds->d; j++)
			e += (x[j] - c->x_star[j]) * (x[j] - c->x_star[j]);
		pt->rel_error = c->xstar_sq > 0 ? e / c->xstar_sq : e;
	}
	if (!isfinite(xx))
		pt->objective = NAN;
}

static uint64_t total_updates(const struct ctx *c)
{
	uint64_t s = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		s += __atomic_load_n(&c->w[t].updates, __ATOMIC_RELAXED);
	return s;
}

static void request_stop(struct ctx *c, enum feral_status st)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&c->stop, &expected, 1, 0, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		c->stop_status = st;
}

/* Worker 0 at a trace point: snapshot, evaluate, record, decide stopping. */
static void monitor(struct ctx *c, uint64_t total, int final)
{
	if (c->converged) /* keep c->good: the snapshot that met the tolerance */
		return;
	double t_start = feral_now();
	snapshot(c, c->snap);
	struct feral_trace_point pt;
	evaluate(c, c->snap, c->eval_rows, c->n_eval, &pt);
	pt.updates = total;
	double t_end = feral_now();
	c->monitor_s += t_end - t_start;
	pt.seconds = t_end - c->t0 - c->monitor_s / c->plan.nthreads;
	const struct feral_config *cfg = c->cfg;
	bool bad = !isfinite(pt.objective) ||
	           pt.objective > cfg->diverge * fmax(c->obj0, 1.0);
	if (bad) {
		request_stop(c, FERAL_STATUS_DIVERGED);
		return;
	}
	memcpy(c->good, c->snap, c->ds->d * sizeof *c->good);
	if (cfg->checkpoint && cfg->checkpoint_every > 0 && !final &&
	    t_end - c->last_ckpt >= cfg->checkpoint_every) {
		double t_ck = feral_now();
		if (cfg->checkpoint(cfg->checkpoint_arg, c->snap, c->ds->d, total) != 0 &&
		    !c->warning[0])
			snprintf(c->warning, sizeof c->warning, "writing a checkpoint failed");
		c->last_ckpt = feral_now();
		c->monitor_s += c->last_ckpt - t_ck;
	}
	if (c->trace) {
		struct feral_trace *tr = c->trace;
		if (tr->len == tr->cap) {
			size_t cap = tr->cap ? 2 * tr->cap : 64;
			struct feral_trace_point *np = realloc(tr->pts, cap * sizeof *np);
			if (np) {
				tr->pts = np;
				tr->cap = cap;
			}
		}
		if (tr->len < tr->cap)
			tr->pts[tr->len++] = pt;
	}
	if (!final && cfg->tol > 0) {
		bool hit;
		if (c->x_star)
			hit = pt.rel_error <= cfg->tol;
		else if (cfg->loss == FERAL_LOSS_LS)
			hit = pt.rel_residual <= cfg->tol;
		else /* classification: the objective stopped improving */
			hit = isfinite(c->prev_obj) &&
			      fabs(c->prev_obj - pt.objective) <= cfg->tol * fabs(c->prev_obj);
		c->prev_obj = pt.objective;
		if (hit) {
			c->converged = 1;
			request_stop(c, FERAL_OK);
		}
	}
	if (cfg->progress && !final) {
		double f = c->total_budget < UINT64_MAX / 4
		                   ? (double)total / (double)c->total_budget
		                   : 0.0;
		if (cfg->seconds > 0)
			f = fmax(f, (t_end - c->t0) / cfg->seconds);
		cfg->progress(cfg->progress_arg, &pt, fmin(f, 1.0));
	}
	if (cfg->seconds > 0 && t_end - c->t0 >= cfg->seconds)
		request_stop(c, FERAL_OK);
	if (cfg->stop_flag && *cfg->stop_flag)
		request_stop(c, FERAL_STATUS_INTERRUPTED);
}

/* Tail averaging: add a snapshot of the model(s) to the running sum once the
 * tail has begun (the monitor's own time; no evaluation). */
static void tail_snapshot(struct ctx *c, uint64_t total)
{
	if (total < c->tail_from)
		return;
	double t = feral_now();
	snapshot(c, c->snap);
	for (uint64_t j = 0; j < c->ds->d; j++)
		c->tail_sum[j] += c->snap[j];
	c->tail_n++;
	c->monitor_s += feral_now() - t;
}

/* L2 by degree: x_j -= gamma eta/P_j x_j for the row's coordinates, which is
 * unbiased for the dense decay gamma eta x and O(nnz_i) (MATH.md section 2). */
static void apply_l2(struct ctx *c, void *x, const uint32_t *idx, size_t len, double gamma,
                     struct feral_rng *rng)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t j = idx ? idx[k] : k;
		double f = gamma * c->l2c[j];
		if (f > 1)
			f = 1; /* never overshoot zero on rarely touched coordinates */
		double z = c->center ? c->center[j] : 0;
		double v = z + model_get(x, c->mp, c->scale, j);
		double u = feral_precision_fixed(c->mp) ? feral_rng_uniform(rng) : 0;
		model_set(x, c->mp, c->scale, j, v - f * v - z, u);
	}
}

static void atomic_add_f64(double *p, double v)
{
	uint64_t *q = (uint64_t *)p, old = __atomic_load_n(q, __ATOMIC_RELAXED), nw;
	do {
		double o, s;
		memcpy(&o, &old, sizeof o);
		s = o + v;
		memcpy(&nw, &s, sizeof nw);
	} while (!__atomic_compare_exchange_n(q, &old, nw, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static void atomic_add_f32(float *p, float v)
{
	uint32_t *q = (uint32_t *)p, old = __atomic_load_n(q, __ATOMIC_RELAXED), nw;
	do {
		float o, s;
		memcpy(&o, &old, sizeof o);
		s = o + v;
		memcpy(&nw, &s, sizeof nw);
	} while (!__atomic_compare_exchange_n(q, &old, nw, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static void axpy_atomic(const struct ctx *c, const struct feral_dataset *ds, void *x, uint64_t i,
                        const uint32_t *idx, uint64_t base, size_t len, double g)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t j = idx ? idx[k] : k;
		double v = g * feral_dataset_value(ds, i, base + k);
		if (c->mp == FERAL_PRECISION_F64)
			atomic_add_f64((double *)x + j, v);
		else
			atomic_add_f32((float *)x + j, (float)v);
	}
}

/* Prefetch pipeline depths, in updates ahead of use.  An update's draw is
 * split PF_SPLIT ahead (its alias entry prefetched), resolved PF_DRAW ahead
 * (the row's metadata prefetched) and its row prefetched PF_ROW ahead.
 * Measured with bench on 1 GiB of dense rows, d = 1024, one thread (the
 * updates/s of D8M8 and D32M32 before -> after; run to run noise ~10 %):
 *  - rows prefetched to L2 (prefetcht2) rather than L1: 3.6M -> 4.7M and
 *    1.45M -> 2.0M.  One core's L1 miss buffers are the limit, and L1
 *    prefetches hold them until the line arrives;
 *  - a dense row's prefetches in two bursts, half before the update and
 *    half after its dot product, rather than one burst of d/64 lines that
 *    stalls the core while the miss queue is full: 4.7M -> 5.0M and
 *    2.0M -> 2.6M;
 *  - the metadata prefetched twice, when drawn and with the row (the first
 *    ones are sometimes dropped while the miss queue is full): +5-10 %.
 * The distances matter less (+-10 % for PF_ROW 2..4). */
enum { PF_RING = 8, PF_SPLIT = 6, PF_DRAW = 4, PF_ROW = 3 };

/* The prefetch helpers are always_inline: GCC 12's IPA mod-ref analysis
 * deems a call that only prefetches free of effects and deletes it when it
 * is not inlined first, which silently removed every row prefetch. */
#define FERAL_PREFETCHER static inline __attribute__((always_inline)) void

/* Metadata of row i: CSR offsets, target, step weight (row norm for
 * Kaczmarz), scale. */
FERAL_PREFETCHER prefetch_meta(const struct ctx *c, const struct feral_dataset *ds,
                               const double *wstep, uint64_t i)
{
	if (ds->layout == FERAL_LAYOUT_CSR)
		__builtin_prefetch(ds->indptr + i);
	if (c->cfg->method == FERAL_METHOD_KACZMARZ)
		__builtin_prefetch(ds->row_sq_norm + i);
	__builtin_prefetch(ds->y + i);
	__builtin_prefetch(wstep + i);
	if (ds->row_scale)
		__builtin_prefetch(ds->row_scale + i);
}

/* Dense row i's values. */
static inline const char *dense_row(const struct ctx *c, const struct feral_dataset *ds,
                                    uint64_t i)
{
	return (const char *)ds->values + i * ds->d * c->esz;
}

/* Bytes [from, to) of a row's values, into L2. */
FERAL_PREFETCHER prefetch_bytes(const char *p, size_t from, size_t to)
{
	for (size_t off = from; off < to; off += 64)
		__builtin_prefetch(p + off, 0, 1);
}

/* Row i: a CSR row's values and indices (its offsets now cached), or the
 * first half of a dense row's values (update_row prefetches the rest). */
FERAL_PREFETCHER prefetch_row(const struct ctx *c, const struct feral_dataset *ds, uint64_t i)
{
	if (ds->layout == FERAL_LAYOUT_CSR) {
		uint64_t b = ds->indptr[i];
		__builtin_prefetch(ds->indices + b, 0, 1);
		prefetch_bytes((const char *)ds->values + b * c->esz, 0,
		               (ds->indptr[i + 1] - b) * c->esz);
	} else {
		prefetch_bytes(dense_row(c, ds, i), 0, ds->d * c->esz / 2);
	}
}

/* The row to read for shard entry e: the global row (map = the shard), or e
 * itself when the worker reads its shard's own copy (map = NULL). */
static inline uint64_t entry_row(const struct feral_shard *map, uint64_t e)
{
	return map ? shard_row(map, e) : e;
}

/* One update on row i.  Returns false when the step is not finite. */
static inline bool update_row(struct ctx *c, struct worker *w, void *x,
                              const struct feral_dataset *ds, const double *wstep, uint64_t i,
                              double gamma, struct feral_k_rng *krng, struct feral_rng *rng,
                              uint64_t pf /* a dense row to prefetch */)
{
	const struct feral_config *cfg = c->cfg;
	const void *a;
	const uint32_t *idx;
	size_t len;
	uint64_t base;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		base = ds->indptr[i];
		len = ds->indptr[i + 1] - base;
		idx = ds->indices + base;
	} else {
		base = i * ds->d;
		len = ds->d;
		idx = NULL;
	}
	a = (const char *)ds->values + base * c->esz;
	double rs = ds->row_scale ? ds->row_scale[i] : 1.0;
	double t = c->dot(a, idx, x, len) * c->scale;
	if (c->center)
		t += c->cdot(a, idx, c->fcenter, len);
	t *= rs;
	if (!idx) /* the second half of the dense row prefetch_row began */
		prefetch_bytes(dense_row(c, ds, pf), ds->d * c->esz / 2, ds->d * c->esz);
	double g; /* x += g a_i */
	if (cfg->method == FERAL_METHOD_KACZMARZ) {
		double nn = ds->row_sq_norm[i];
		if (!(nn > 0))
			return true;
		g = cfg->relax * (ds->y[i] - t) / nn;
	} else {
		g = -gamma * wstep[i] * feral_loss_dphi(cfg->loss, t, ds->y[i]);
	}
	if (FERAL_UNLIKELY(!isfinite(g)))
		return false;
	if (c->l2c)
		apply_l2(c, x, idx, len, gamma, rng);
	if (g != 0) {
		if (cfg->update == FERAL_UPDATE_ATOMIC) {
			axpy_atomic(c, ds, x, i, idx, base, len, g);
		} else {
			w->saturations += c->axpy(x, a, idx, len, g * rs / c->scale, cfg->rounding, krng);
			w->writes += len;
		}
	}
	return true;
}

/* Average the replicas: each worker takes a slice of the coordinates. */
static void average_replicas(struct ctx *c, int tid, struct feral_rng *rng)
{
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t d = c->ds->d;
	uint64_t lo = d * (uint64_t)tid / (uint64_t)T, hi = d * (uint64_t)(tid + 1) / (uint64_t)T;
	for (uint64_t j = lo; j < hi; j++) {
		double s = 0;
		for (int r = 0; r < R; r++)
			s += model_get(c->models[r], c->mp, c->scale, j);
		s /= R;
		double u = feral_precision_fixed(c->mp) ? feral_rng_uniform(rng) : 0;
		for (int r = 0; r < R; r++)
			model_set(c->models[r], c->mp, c->scale, j, s, u);
	}
}

/* Bit centring, part 1, at the round barrier after the replicas are
 * averaged (so every replica holds the same offset): each worker folds its
 * slice of the offset into the centre, zeroes it, and notes its largest
 * |q|.  Raw quanta (scale 1) are read and written, so nothing is rounded. */
static void recenter_fold(struct ctx *c, int tid)
{
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t d = c->ds->d;
	uint64_t lo = d * (uint64_t)tid / (uint64_t)T, hi = d * (uint64_t)(tid + 1) / (uint64_t)T;
	double m = 0;
	for (uint64_t j = lo; j < hi; j++) {
		double q = model_get(c->models[0], c->mp, 1.0, j);
		m = fmax(m, fabs(q));
		c->center[j] += c->scale * q;
		c->fcenter[j] = (float)c->center[j];
		for (int r = 0; r < R; r++)
			model_set(c->models[r], c->mp, 1.0, j, 0, 0);
	}
	c->maxq[tid] = m;
}

/* Part 2, worker 0 after a barrier: the new scale makes the largest offset
 * of the round that ended 1/1.25 of the range (FERAL_SCALE_HEADROOM), by a
 * factor in [1/8, 2]: the next round moves less (a decaying step, an
 * iterate that settles), and a saturated round (|q| = qmax) grows it. */
static void recenter_scale(struct ctx *c)
{
	double m = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		m = fmax(m, c->maxq[t]);
	double f = FERAL_SCALE_HEADROOM * m / qmax_of(c->mp);
	c->scale *= fmin(fmax(f, 0.125), 2.0);
}

static void barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

static void worker_main(struct ctx *c, int tid)
{
	const struct feral_config *cfg = c->cfg;
	struct worker *w = &c->w[tid];
	const struct feral_placement *pl = &c->plan.place[tid];
	if (pl->pu >= 0 && c->topo) {
		struct feral_error warn = {0};
		if (feral_topo_bind_self(c->topo, pl, &warn) != 0) {
			__atomic_fetch_add(&c->bind_failures, 1, __ATOMIC_RELAXED);
#ifdef _OPENMP
#pragma omp critical(feral_warning)
#endif
			if (!c->warning[0])
				snprintf(c->warning, sizeof c->warning, "binding failed, running unpinned: %.200s",
				         warn.msg);
		}
	}
	struct feral_rng rng;
	struct feral_k_rng krng;
	feral_rng_seed(&rng, cfg->seed, (uint64_t)tid + 1);
	feral_k_rng_seed(&krng, cfg->seed ^ 0x5eed5eedull, (uint64_t)tid + 1);
	const struct feral_shard *sh = &c->plan.shards[c->plan.shard_of[tid]];
	void *x = c->models[c->plan.rep_of[tid]];
	uint64_t quota = c->quota[tid], done = 0;
	uint64_t check_at = 0; /* worker 0: next own count at which to look at the total */
	if (tid == 0) {
		check_at = c->trace_every;
		if (c->plan.nthreads > 1 && check_at > 256)
			check_at = 256;
	}
	/* Prefetch pipeline (PF_* above), so no demand load of an update waits
	 * on memory: picks[] holds split draws, ring[] resolved rows, both
	 * indexed by update number.  The random stream is consumed in update
	 * order, so results are those of plain draw-then-update. */
	const struct feral_alias *al = &sh->alias;
	/* rows come from the shard's own copy on its node (entry e is local row
	 * e), or from the whole dataset (one shard: entry e is global row e) */
	int k_sh = c->plan.shard_of[tid];
	const struct feral_shard *map = c->shard_ds ? NULL : sh;
	const struct feral_dataset *rds = c->shard_ds ? c->shard_ds[k_sh] : c->ds;
	const double *rw = c->shard_ds ? c->shard_w[k_sh] : c->wstep;
	uint64_t ring[PF_RING];
	struct feral_alias_pick picks[PF_RING];
	for (int j = 0; j < PF_SPLIT; j++) {
		picks[j] = feral_alias_split(al, feral_rng_next(&rng));
		if (j >= PF_DRAW) {
			__builtin_prefetch(al->e + picks[j].i);
			continue;
		}
		ring[j] = entry_row(map, feral_alias_resolve(al, picks[j]));
		prefetch_meta(c, rds, rw, ring[j]);
		if (j < PF_ROW)
			prefetch_row(c, rds, ring[j]);
	}
	for (;;) {
		uint64_t round_end = quota - done < c->round_len ? quota : done + c->round_len;
		while (done < round_end) {
			if ((done & 63) == 0 && __atomic_load_n(&c->stop, __ATOMIC_RELAXED))
				break;
			uint64_t i = ring[done % PF_RING];
			uint64_t ahead = entry_row(map, feral_alias_resolve(al, picks[(done + PF_DRAW) %
			                                                                  PF_RING]));
			ring[(done + PF_DRAW) % PF_RING] = ahead;
			struct feral_alias_pick pk = feral_alias_split(al, feral_rng_next(&rng));
			picks[(done + PF_SPLIT) % PF_RING] = pk;
			__builtin_prefetch(al->e + pk.i);
			prefetch_meta(c, rds, rw, ahead);
			uint64_t soon = ring[(done + PF_ROW) % PF_RING];
			prefetch_row(c, rds, soon);
			prefetch_meta(c, rds, rw, soon);
			uint64_t k = done * (uint64_t)c->plan.nthreads; /* ~ global update count */
			double gamma = c->decay_per_update > 0
			                       ? c->gamma / (1.0 + c->decay_per_update * (double)k)
			                       : c->gamma;
			if (FERAL_UNLIKELY(!update_row(c, w, x, rds, rw, i, gamma, &krng, &rng, soon))) {
				request_stop(c, FERAL_STATUS_DIVERGED);
				break;
			}
			done++;
			__atomic_store_n(&w->updates, done, __ATOMIC_RELAXED);
			if (tid == 0 && done == check_at) {
				uint64_t tot = total_updates(c);
				if (tot >= c->next_trace) {
					monitor(c, tot, 0);
					c->next_trace = tot + c->trace_every;
					tot = total_updates(c);
				}
				if (c->tail_sum && tot >= c->next_tail) {
					tail_snapshot(c, tot);
					c->next_tail = tot + c->tail_every;
				}
				uint64_t upcoming = c->next_trace;
				if (c->tail_sum && c->next_tail < upcoming)
					upcoming = c->next_tail;
				uint64_t gap = upcoming > tot ? upcoming - tot : 1;
				if (c->plan.nthreads > 1 && gap > 256)
					gap = 256;
				check_at = done + gap;
				if (cfg->seconds > 0 && feral_now() - c->t0 >= cfg->seconds)
					request_stop(c, FERAL_OK);
				if (cfg->stop_flag && *cfg->stop_flag)
					request_stop(c, FERAL_STATUS_INTERRUPTED);
			}
		}
		if (done >= quota)
			c->finished[tid] = 1;
		if (c->round_len == UINT64_MAX)
			break;
		/* replicas meet: average, then decide together whether to go on */
		double t_avg = feral_now();
		barrier();
		if (tid == 0) {
			int all = 1;
			for (int t = 0; t < c->plan.nthreads; t++)
				all &= c->finished[t];
			c->all_done = all || __atomic_load_n(&c->stop, __ATOMIC_RELAXED);
		}
		average_replicas(c, tid, &rng);
		if (c->center)
			recenter_fold(c, tid); /* the same slice: no barrier needed */
		barrier();
		if (c->center) {
			if (tid == 0)
				recenter_scale(c);
			barrier();
		}
		if (tid == 0)
			c->avg_s += feral_now() - t_avg;
		if (c->all_done)
			break;
	}
}

/* ---- setup ----------------------------------------------------------------------- */

static enum feral_status check_inputs(const struct feral_dataset *ds,
                                      const struct feral_config *cfg, const double *x,
                                      struct feral_error *err)
{
	enum feral_status st = feral_config_validate(cfg, err);
	if (st)
		return st;
	if (!ds || !x)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "feral_solve: NULL dataset or x");
	if (ds->precision == FERAL_PRECISION_F64 || ds->precision >= FERAL_PRECISION_COUNT)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "bad dataset precision");
	if (ds->d > UINT32_MAX || ds->n > UINT32_MAX)
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                  "%llu x %llu: more than 2^32-1 rows or columns",
		                  (unsigned long long)ds->n, (unsigned long long)ds->d);
	for (uint64_t j = 0; j < ds->d; j++)
		if (!isfinite(x[j]))
			return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
			                  "starting point x[%llu] is not finite", (unsigned long long)j);
	if (cfg->loss != FERAL_LOSS_LS)
		for (uint64_t i = 0; i < ds->n; i++)
			if (ds->y[i] != 1 && ds->y[i] != -1)
				return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
				                  "row %llu: label %g; classification needs labels -1/+1",
				                  (unsigned long long)i + 1, ds->y[i]);
	return FERAL_OK;
}

/* Probability that coordinate j is touched by a draw: P_j = sum_{i: a_ij != 0} p_i. */
static double *degree_l2(const struct feral_dataset *ds, double eta, const double *p)
{
	double *c = calloc(ds->d, sizeof *c);
	if (!c)
		return NULL;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		for (uint64_t i = 0; i < ds->n; i++)
			for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
				c[ds->indices[k]] += p[i];
		for (uint64_t j = 0; j < ds->d; j++)
			c[j] = c[j] > 0 ? eta / c[j] : 0;
	} else {
		for (uint64_t j = 0; j < ds->d; j++)
			c[j] = eta;
	}
	return c;
}

/* A short serial run used by the auto step (pilot for sigma2_w) and by the
 * fixed point scale (warm-up). */
static enum feral_status pilot_run(const struct feral_dataset *ds, const struct feral_config *cfg,
                                   double rel_step, uint64_t updates, const double *x0,
                                   double *out, struct feral_error *err)
{
	struct feral_config pc = *cfg;
	pc.step_auto = 0;
	pc.step = rel_step;
	pc.threads = 1;
	pc.replicas = FERAL_REPLICAS_MACHINE;
	pc.model_precision = FERAL_PRECISION_F64;
	pc.update = FERAL_UPDATE_RACY;
	pc.tol = 0;
	pc.epochs = 0;
	pc.seconds = 0;
	pc.max_updates = updates;
	pc.trace_every = updates;
	pc.bind = FERAL_BIND_NONE;
	pc.checkpoint = NULL;
	pc.progress = NULL;
	pc.average_iterates = 0;
	pc.recenter = 0;
	memcpy(out, x0, ds->d * sizeof *out);
	struct feral_result r;
	return feral_solve(ds, &pc, NULL, out, &r, NULL, err);
}

static void *alloc_model(enum feral_precision mp, uint64_t d, int node)
{
	size_t bytes = d * feral_precision_size(mp);
	void *m = feral_numa_alloc(bytes, node);
	if (m)
		memset(m, 0, bytes);
	return m;
}

enum feral_status feral_solve(const struct feral_dataset *ds, const struct feral_config *cfg,
                              const double *x_star, double *x, struct feral_result *res,
                              struct feral_trace *trace, struct feral_error *err)
{
	struct feral_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->rel_error = NAN;
	res->mu = NAN;
	enum feral_status st = check_inputs(ds, cfg, x, err);
	if (st)
		return st;
	const struct feral_kernels *kt = feral_kernels_get(err);
	if (!kt)
		return err ? err->status : FERAL_STATUS_UNSUPPORTED;

	struct ctx *c = calloc(1, sizeof *c);
	uint64_t n = ds->n, d = ds->d;
	double *L = malloc(n * sizeof *L), *p = malloc(n * sizeof *p);
	double *wstep = feral_big_alloc(n * sizeof *wstep);
	if (!c || !L || !p || !wstep) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (%llu rows)",
		                (unsigned long long)n);
		goto out_early;
	}
	c->ds = ds;
	c->cfg = cfg;
	c->x_star = x_star;
	c->trace = trace;
	c->esz = feral_precision_size(ds->precision);
	c->mp = cfg->model_precision;
	c->dot = kt->dot[ds->layout][ds->precision][c->mp];
	c->axpy = kt->axpy[ds->layout][ds->precision][c->mp];
	res->kernel = kt->name;

	/* sampling: the Kaczmarz projection samples by ||a_i||^2 like LS */
	feral_objective_row_constants(ds, cfg, L);
	st = feral_sampling_probs(L, n, cfg->lambda, p, err);
	if (st)
		goto out_early;
	double lbar = 0;
	for (uint64_t i = 0; i < n; i++) {
		lbar += L[i];
		wstep[i] = p[i] > 0 ? 1.0 / ((double)n * p[i]) : 0;
	}
	lbar /= (double)n;
	c->wstep = wstep;
	if (x_star)
		for (uint64_t j = 0; j < d; j++)
			c->xstar_sq += x_star[j] * x_star[j];

	/* step */
	double rel_step = cfg->step;
	double decay = cfg->step_decay;
	if (cfg->method == FERAL_METHOD_SGD && cfg->step_auto) {
		double sup = feral_sup_lw(L, p, n);
		double mu = feral_estimate_mu(ds, cfg);
		double base = lbar / (2 * sup);
		double sigma2 = 0, eps = NAN;
		if (cfg->loss != FERAL_LOSS_LS) {
			/* Classification: hinge is non-smooth (Corollary 2.2 does not
			 * apply), and for logistic sigma2_w at the optimum is large, so
			 * the Corollary's step for a tight tol is tiny.  Use the
			 * realizable step 1/(2 supL_w) with a 1/(1 + epoch) decay,
			 * which converges to the optimum. */
			rel_step = base;
			if (decay == 0)
				decay = 1.0;
		} else {
			const double *xr = x_star;
			double *pilot = NULL;
			if (!xr) {
				pilot = malloc(d * sizeof *pilot);
				if (!pilot) {
					st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "pilot");
					goto out_early;
				}
				uint64_t pu = 2 * n < 200000 ? 2 * n : 200000;
				st = pilot_run(ds, cfg, base, pu, x, pilot, err);
				if (st) {
					free(pilot);
					goto out_early;
				}
				xr = pilot;
			}
			double xx = 0;
			for (uint64_t j = 0; j < d; j++)
				xx += xr[j] * xr[j];
			sigma2 = feral_sigma2_w(ds, cfg, p, xr);
			/* a consistent system has sigma2 ~ 0 up to the pilot's error:
			 * treat sigma2 below tol * (sup L_w ||x||)^2 ... as zero */
			if (sigma2 < 1e-24 * sup * sup * fmax(xx, 1e-300))
				sigma2 = 0;
			/* tol 0 means "do not stop on tol": size the step for 1e-6 */
			eps = (cfg->tol > 0 ? cfg->tol : 1e-6) * (xx > 0 ? xx : 1.0);
			free(pilot);
			rel_step = feral_auto_step(lbar, sup, sigma2, mu, eps);
		}
		res->mu = mu;
	}
	res->step = cfg->method == FERAL_METHOD_KACZMARZ ? cfg->relax : rel_step;
	c->gamma = rel_step / lbar;
	c->decay_per_update = decay / (double)n;
	if (cfg->l2 > 0 && cfg->method == FERAL_METHOD_SGD) {
		c->l2c = degree_l2(ds, cfg->l2, p);
		if (!c->l2c) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "L2 degrees");
			goto out_early;
		}
	}

	/* fixed point model scale */
	c->scale = 1.0;
	if (feral_precision_fixed(c->mp)) {
		if (cfg->model_scale > 0) {
			c->scale = cfg->model_scale;
		} else {
			/* Rule: s = 1.25 max_j |x_warm_j| / qmax, where x_warm is a
			 * short serial f64 warm-up from x0 (min(n, 20000 + 20 d)
			 * updates): the factor leaves headroom for |x*| above the
			 * warm-up's (FERAL_SCALE_HEADROOM). */
			double *xw = malloc(d * sizeof *xw);
			if (!xw) {
				st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "warm-up");
				goto out_early;
			}
			uint64_t wu = 20000 + 20 * d;
			if (wu > n)
				wu = n;
			struct feral_config wc = *cfg;
			wc.model_precision = FERAL_PRECISION_F64;
			st = pilot_run(ds, &wc, cfg->method == FERAL_METHOD_KACZMARZ ? 0.5 : rel_step,
			               wu, x, xw, err);
			double m = 0; /* with bit centring, of the offset from the centre x0 */
			for (uint64_t j = 0; j < d; j++)
				m = fmax(m, cfg->recenter ? fabs(xw[j] - x[j])
				                          : fmax(fabs(xw[j]), fabs(x[j])));
			free(xw);
			if (st)
				goto out_early;
			c->scale = (m > 0 ? FERAL_SCALE_HEADROOM * m : 1.0) / qmax_of(c->mp);
		}
	}

	/* threads and plan */
	int T = cfg->threads;
	st = feral_topo_create(NULL, &c->topo, err);
	if (st) {
		c->topo = NULL; /* carry on unpinned */
		st = FERAL_OK;
	}
	if (T == 0)
		T = c->topo ? feral_topo_npus(c->topo) : 1;
#ifndef _OPENMP
	if (T > 1) {
		snprintf(c->warning, sizeof c->warning,
		         "built without OpenMP: running 1 worker instead of %d", T);
		T = 1;
	}
#endif
	if (c->topo) {
		st = feral_plan_build(c->topo, T, cfg->bind, cfg->replicas, p, n, &c->plan, err);
	} else {
		struct feral_placement *pl = calloc((size_t)T, sizeof *pl);
		if (!pl) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
			goto out_early;
		}
		for (int t = 0; t < T; t++)
			pl[t].pu = -1;
		st = feral_plan_from_placements(pl, T, cfg->replicas, p, n, &c->plan, err);
		free(pl);
	}
	if (st)
		goto out_early;
	res->threads = T;
	res->oversubscribed = c->plan.oversubscribed;
	res->shards = c->plan.nshards;
	res->replicas = c->plan.nrep;
	if (c->plan.nshards > 1) {
		c->shard_ds = calloc((size_t)c->plan.nshards, sizeof *c->shard_ds);
		c->shard_w = calloc((size_t)c->plan.nshards, sizeof *c->shard_w);
		if (!c->shard_ds || !c->shard_w) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "shards");
			goto out;
		}
		st = feral_plan_place_data(&c->plan, ds, wstep, c->topo, c->shard_ds, c->shard_w, err);
		if (st)
			goto out;
	}

	/* models, one allocation each, placed on their node */
	int R = c->plan.nrep;
	c->models = calloc((size_t)R, sizeof *c->models);
	c->w = feral_aligned_alloc((size_t)T * sizeof *c->w);
	c->quota = calloc((size_t)T, sizeof *c->quota);
	c->finished = calloc((size_t)T, sizeof *c->finished);
	c->snap = malloc(d * sizeof *c->snap);
	c->good = malloc(d * sizeof *c->good);
	if (!c->models || !c->w || !c->quota || !c->finished || !c->snap || !c->good) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (models)");
		goto out;
	}
	memset(c->w, 0, (size_t)T * sizeof *c->w);
	if (cfg->recenter) { /* the centre starts at x0, the offsets at 0 */
		c->center = malloc(d * sizeof *c->center);
		c->fcenter = feral_aligned_alloc(d * sizeof *c->fcenter);
		c->maxq = calloc((size_t)T, sizeof *c->maxq);
		c->cdot = kt->dot[ds->layout][ds->precision][FERAL_PRECISION_F32];
		if (!c->center || !c->fcenter || !c->maxq) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (centre)");
			goto out;
		}
		for (uint64_t j = 0; j < d; j++) {
			c->center[j] = x[j];
			c->fcenter[j] = (float)x[j];
		}
	}
	for (int r = 0; r < R; r++) {
		int node = c->topo ? feral_topo_node_os_index(c->topo, c->plan.rep_node[r]) : -1;
		c->models[r] = alloc_model(c->mp, d, node);
		if (!c->models[r]) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (model)");
			goto out;
		}
		struct feral_rng qr;
		feral_rng_seed(&qr, cfg->seed ^ 0x9e37ull, 0);
		for (uint64_t j = 0; j < d; j++)
			res->saturations += (uint64_t)model_set(
			        c->models[r], c->mp, c->scale, j, c->center ? 0 : x[j],
			        feral_precision_fixed(c->mp) ? feral_rng_uniform(&qr) : 0);
	}

	/* budget: total updates split evenly across workers */
	uint64_t total = UINT64_MAX / 4;
	if (cfg->epochs > 0)
		total = (uint64_t)fmin(cfg->epochs * (double)n, (double)total);
	if (cfg->max_updates > 0 && cfg->max_updates < total)
		total = cfg->max_updates;
	c->total_budget = total;
	for (int t = 0; t < T; t++)
		c->quota[t] = total / (uint64_t)T + ((uint64_t)t < total % (uint64_t)T);
	if (cfg->average_iterates) {
		c->tail_sum = calloc(d, sizeof *c->tail_sum);
		if (!c->tail_sum) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "tail average");
			goto out;
		}
		c->tail_every = n / 8 ? n / 8 : 1;
		/* the second half of an update budget; with only a time budget,
		 * every snapshot after the first epoch */
		c->tail_from = total < UINT64_MAX / 4 ? total / 2 : n;
		c->next_tail = c->tail_from > c->tail_every ? c->tail_from : c->tail_every;
	}
	c->round_len = (R > 1 && cfg->average_every > 0) ? cfg->average_every : UINT64_MAX;
	if (R > 1 && c->round_len == UINT64_MAX)
		c->round_len = UINT64_MAX / 2; /* one round: replicas meet once, at the end */
	if (c->center) {
		/* Re-centre every recenter_every updates per worker, and at every
		 * replica average.  Auto: 16 times an epoch (Fashion-MNIST, 8-bit
		 * model, validation split: once an epoch 95.31 %, 4 times 95.44 %,
		 * 16 times 95.55 %, 64 times 95.46 % with saturations, f32 95.57 %),
		 * but never so often that the O(d) fold costs more than 1/16 of the
		 * work between folds (sparse rows, large d). */
		uint64_t per = cfg->recenter_every;
		if (per == 0) {
			double nnz_row = ds->n ? (double)ds->nnz / (double)ds->n : 1;
			double by_fold = 16.0 * (double)d / fmax(nnz_row, 1.0);
			per = (uint64_t)ceil(fmax((double)n / 16.0, by_fold) / (double)T); /* >= 1 */
		}
		if (per < c->round_len)
			c->round_len = per;
	}

	/* monitor: a fixed, deterministic subsample of rows for trace points */
	c->trace_every = cfg->trace_every ? cfg->trace_every : n;
	c->next_trace = c->trace_every;
	c->n_eval = n < EVAL_ROWS_MAX ? n : EVAL_ROWS_MAX;
	if (c->n_eval < n) {
		c->eval_rows = malloc(c->n_eval * sizeof *c->eval_rows);
		if (!c->eval_rows) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "eval rows");
			goto out;
		}
		for (uint64_t k = 0; k < c->n_eval; k++) /* evenly spaced rows */
			c->eval_rows[k] = (uint64_t)((double)k * (double)n / (double)c->n_eval);
	}
	struct feral_trace_point p0;
	evaluate(c, x, c->eval_rows, c->n_eval, &p0);
	c->obj0 = p0.objective;
	c->prev_obj = NAN;
	memcpy(c->good, x, d * sizeof *c->good);
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

	c->t0 = feral_now();
	c->last_ckpt = c->t0;
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
	worker_main(c, omp_get_thread_num());
#else
	worker_main(c, 0);
#endif
	double wall = feral_now() - c->t0;

	uint64_t upd = total_updates(c);
	if (c->stop && c->stop_status == FERAL_STATUS_DIVERGED) {
		memcpy(x, c->good, d * sizeof *x);
		st = feral_fail(err, FERAL_STATUS_DIVERGED, NULL, 0,
		                "diverged after %llu updates (step %g): kept the last good iterate; "
		                "try a smaller --step",
		                (unsigned long long)upd, res->step);
	} else {
		/* Converged: the snapshot that met the tolerance, not the iterate
		 * the other workers moved on to (Hogwild! noise could take it back
		 * over the tolerance before they saw the stop). */
		if (c->converged)
			memcpy(x, c->good, d * sizeof *x);
		else
			snapshot(c, x);
		if (c->tail_n > 0) { /* the last iterate joins the tail average */
			for (uint64_t j = 0; j < d; j++)
				x[j] = (c->tail_sum[j] + x[j]) / (double)(c->tail_n + 1);
			res->averaged = c->tail_n + 1;
		}
		if (trace && !c->converged)
			monitor(c, upd, 1);
		st = (c->stop && c->stop_status == FERAL_STATUS_INTERRUPTED) ? FERAL_STATUS_INTERRUPTED
		                                                            : FERAL_OK;
		if (st)
			feral_fail(err, st, NULL, 0, "interrupted after %llu updates",
			           (unsigned long long)upd);
	}
	struct feral_trace_point fin;
	evaluate(c, x, NULL, n, &fin);
	res->updates = upd;
	/* Worker 0 is the monitor: while it evaluates, the other T-1 workers go
	 * on, so the monitor costs 1/T of the capacity for its duration. */
	res->seconds = wall - c->monitor_s / T;
	res->monitor_seconds = c->monitor_s;
	res->avg_seconds = c->avg_s;
	res->updates_per_s = res->seconds > 0 ? (double)upd / res->seconds : 0;
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
	if (c->warning[0])
		snprintf(res->warning, sizeof res->warning, "%s", c->warning);
	else if (res->writes && (double)res->saturations > 1e-3 * (double)res->writes)
		snprintf(res->warning, sizeof res->warning,
		         "%.2f%% of fixed point writes saturated: raise --model-scale",
		         100.0 * (double)res->saturations / (double)res->writes);

out:
	if (c->models)
		for (int r = 0; r < c->plan.nrep; r++)
			if (c->models[r])
				feral_numa_free(c->models[r], d * feral_precision_size(c->mp));
	free(c->models);
	free(c->w);
	free(c->quota);
	free(c->finished);
	free(c->snap);
	free(c->good);
	free(c->eval_rows);
	free(c->tail_sum);
	free(c->center);
	free(c->fcenter);
	free(c->maxq);
	if (c->shard_ds)
		feral_plan_free_data(&c->plan, c->shard_ds, c->shard_w);
	free(c->shard_ds);
	free(c->shard_w);
	feral_plan_free(&c->plan);
out_early:
	if (c) {
		free((void *)c->l2c);
		feral_topo_destroy(&c->topo);
	}
	free(c);
	free(L);
	free(p);
	free(wstep);
	return st;
}
