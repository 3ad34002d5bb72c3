/* The solver: weighted SGD and randomized Kaczmarz, run the Hogwild! way.
 *
 * Needell, Srebro & Ward: draw row i with p_i = lambda/n + (1-lambda) L_i/sum L
 * and step  x <- x - (gamma / (n p_i)) grad f_i(x).  The reweighting keeps the
 * expected step equal to the full gradient, so the objective and its
 * minimiser are those of uniform SGD; the weights change only the constants
 * (sup L_w, sigma2_w) of the rate.  For least squares with p_i ~ ||a_i||^2 and
 * gamma = 1/Lbar this is exactly the Strohmer-Vershynin Kaczmarz projection.
 * The classic normalised projection (method FERAL_METHOD_KACZMARZ) is kept
 * apart: it does not reweight, so with uniform rows it solves the
 * row-weighted problem min sum (a_i.x - b_i)^2/||a_i||^2 (docs/math.md).
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
 * workers meet at a barrier) and at the end.  Hot coordinates (hot.c): on
 * the shared model of sparse rows, each worker updates the most often
 * drawn columns in a private copy and adds its change into their shared
 * values every hot_every updates (the less hot tier every FERAL_HOT_TIER
 * times that) and at the end of every round, where they are folded into
 * the model.
 *
 * This file holds the context, the worker loop and feral_solve, which runs
 * the phases of engine.h's other modules in order (plan.c, model.c,
 * monitor.c, policy.c); one update is update.h's, the prefetch pipeline
 * prefetch.h's (both private to this file). */
#include "internal.h"
#include "engine.h"
#include "prefetch.h"
#include "update.h"
#include "topo.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- the worker loop ------------------------------------------------------------- */

static void barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

/* Pin the calling worker to its placement (a failure is a warning), having
 * saved its affinity in *saved for worker_main to put back. */
static void bind_worker(struct feral_ctx *c, int tid, struct feral_affinity *saved)
{
	const struct feral_placement *pl = &c->plan.place[tid];
	saved->saved = 0;
	if (pl->pu < 0 || !c->topo)
		return;
	feral_affinity_save(saved);
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

/* Worker tid's merge of its hot coordinates after its update `done` (all:
 * the slow tier's too), and the staleness instrument's record of it. */
static void hot_merge(struct feral_ctx *c, int tid, uint64_t done, bool all)
{
	c->w[tid].saturations += feral_hot_merge(c, tid, all ? c->hot.H : c->hot.nfast);
	feral_async_merged(c, tid, done, all);
}

/* Worker tid's pull of the hot values after a fold (or at its start). */
static void hot_pull(struct feral_ctx *c, int tid)
{
	feral_hot_pull(c, tid);
	feral_async_pulled(c, tid);
}

/* The end of a round: the replicas meet, are averaged (and re-centred), the
 * method's between-epochs hook runs, and all decide together whether to go
 * on.  Returns true when the solve is over. */
static bool round_end(struct feral_ctx *c, int tid, struct feral_rng *rng, feral_epoch_hook hook)
{
	double t_avg = feral_now();
	barrier();
	if (tid == 0) {
		int all = 1;
		for (int t = 0; t < c->plan.nthreads; t++)
			all &= c->finished[t];
		c->all_done = all || __atomic_load_n(&c->stop, __ATOMIC_RELAXED);
		/* a trace point due now is the snapshot's: the hook's workers
		 * evaluate it (its rows in their gradient pass); without a
		 * snapshot worker 0 takes it below, once the folds are done */
		int due = feral_monitor_round_end(c, hook && !c->all_done);
		c->trace_due = due == FERAL_TRACE_SNAPSHOT;
		c->trace_now = due == FERAL_TRACE_NOW;
	}
	if (c->hot.H) /* every merge done: the hot coordinates into the model, by slice */
		feral_hot_fold(c, tid);
	feral_model_average(c, tid, rng);
	if (c->center)
		feral_model_recenter_fold(c, tid); /* the same slice: no barrier needed */
	barrier();
	if (c->center) {
		if (tid == 0)
			feral_model_recenter_scale(c);
		barrier();
	}
	if (tid == 0)
		c->avg_s += feral_now() - t_avg;
	if (tid == 0 && c->trace_now) { /* the others no longer fold or average */
		c->trace_now = 0;
		feral_monitor_round_point(c);
	}
	if (hook && !c->all_done) {
		enum feral_status st = hook(c, tid);
		if (st)
			feral_request_stop(c, st);
		barrier();
		if (tid == 0 && __atomic_load_n(&c->stop, __ATOMIC_RELAXED))
			c->all_done = 1;
		barrier();
	}
	return c->all_done;
}

/* Worker tid's updates, specialised per method m (always inlined into
 * worker_main's switch, so m is a constant and the update inlines). */
static inline __attribute__((always_inline)) void worker_loop(struct feral_ctx *c, int tid,
                                                             const enum feral_method m)
{
	struct feral_worker *w = &c->w[tid];
	struct feral_rng rng;
	struct feral_k_rng krng;
	feral_rng_seed(&rng, c->cfg->seed, (uint64_t)tid + 1);
	feral_k_rng_seed(&krng, c->cfg->seed ^ 0x5eed5eedull, (uint64_t)tid + 1);
	const struct feral_shard *sh = &c->plan.shards[c->plan.shard_of[tid]];
	void *x = c->models[c->plan.rep_of[tid]];
	uint64_t quota = c->quota[tid], done = 0, rounds = 0;
	/* worker 0: next own count at which the monitor looks at the total */
	uint64_t check_at = tid == 0 ? feral_monitor_first_check(c) : 0;
	feral_epoch_hook hook = feral_method_between_epochs(m);
	/* Prefetch pipeline (prefetch.h: pf_depths), so no demand load of an update waits
	 * on memory: picks[] holds split draws, ring[] resolved rows, both
	 * indexed by update number.  The random stream is consumed in update
	 * order, so results are those of plain draw-then-update. */
	const struct feral_alias *al = &sh->alias;
	/* rows come from the shard's own copy on its node (entry e is local row
	 * e), or from the whole dataset (one shard: entry e is global row e) */
	int k_sh = c->plan.shard_of[tid];
	const struct feral_shard *map = c->shard_ds ? NULL : sh;
	const struct feral_dataset *rds = c->shard_ds ? c->shard_ds[k_sh] : c->ds;
	const struct feral_rowrec *rrec = c->shard_ds ? c->shard_rec[k_sh] : c->rec;
	/* the method's per-row data, indexed like rrec (SVRG: c_i) */
	const double *aux = NULL;
	if (m == FERAL_METHOD_SVRG) {
		const struct feral_svrg *s = c->method_state;
		aux = s->cshard ? s->cshard[k_sh] : s->cval;
	}
	/* the row this worker is in, as the others see it (async.c) */
	const uint64_t inflight_tag = (uint64_t)(c->shard_ds ? k_sh : 0) << 32;
	(void)inflight_tag;
	/* hot coordinates (hot.c): rows from the hot-first copy of rds, the
	 * hot part of each update in the private copy, merged into the shared
	 * hot values (hot.c) every K own updates (the fast tier; every slot
	 * each FERAL_HOT_TIER K) and at the end of every round */
	struct hot_ref hr = {0};
	uint64_t merge_at = UINT64_MAX;
	const struct feral_dataset *ods = rds; /* the rows in their own columns (async.c) */
	if (c->hot.H) {
		const struct feral_hot_view *v = &c->hot.view[c->shard_ds ? k_sh : 0];
		rds = &v->ds;
		hr = (struct hot_ref){c->hot.priv[tid], v->split, c->hot.col};
		hot_pull(c, tid);
		merge_at = c->hot.every;
	}
	const struct pf_depths pd = pf_depths(rds, c->esz);
	uint64_t ring[PF_RING_MAX];
	struct feral_alias_pick picks[PF_RING_MAX];
	for (unsigned j = 0; j < pd.split; j++) {
		picks[j] = feral_alias_split(al, feral_rng_next(&rng));
		if (j >= pd.draw) {
			__builtin_prefetch(al->e + picks[j].i);
			continue;
		}
		ring[j] = entry_row(map, feral_alias_resolve(al, picks[j]));
		prefetch_meta(m, rds, rrec, aux, hr.split, ring[j]);
		if (j < pd.row)
			prefetch_row(c, rds, ring[j]);
	}
	if (hook) { /* the method's state at x0 (SVRG: the first full gradient) */
		enum feral_status st = hook(c, tid);
		if (st)
			feral_request_stop(c, st);
		barrier();
	}
	for (;;) {
		uint64_t round_stop = quota - done < c->round_len ? quota : done + c->round_len;
		if (tid == 0 && hook) /* the total at the coming snapshot */
			feral_monitor_round_begin(c, done);
		while (done < round_stop) {
			if ((done & 63) == 0 && __atomic_load_n(&c->stop, __ATOMIC_RELAXED))
				break;
			uint64_t i = ring[done % PF_RING_MAX];
			uint64_t ahead = entry_row(
				map, feral_alias_resolve(al, picks[(done + pd.draw) % PF_RING_MAX]));
			ring[(done + pd.draw) % PF_RING_MAX] = ahead;
			struct feral_alias_pick pk = feral_alias_split(al, feral_rng_next(&rng));
			picks[(done + pd.split) % PF_RING_MAX] = pk;
			__builtin_prefetch(al->e + pk.i);
			prefetch_meta(m, rds, rrec, aux, hr.split, ahead);
			uint64_t soon = ring[(done + pd.row) % PF_RING_MAX];
			prefetch_row(c, rds, soon);
			prefetch_meta(m, rds, rrec, aux, hr.split, soon);
			prefetch_model(c, rds, hr.split, x, ring[(done + pd.model) % PF_RING_MAX]);
			uint64_t k = done * (uint64_t)c->plan.nthreads; /* ~ global update count */
			double gamma = c->decay_per_update > 0
			                       ? c->gamma / (1.0 + c->decay_per_update * (double)k)
			                       : c->gamma;
#if FERAL_ASYNC_SAMPLE_EVERY /* ---- async hook (async.c): publish the row, sample ---- */
			__atomic_store_n(&w->inflight, inflight_tag | i, __ATOMIC_RELAXED);
			if (FERAL_UNLIKELY((done & (FERAL_ASYNC_SAMPLE_EVERY - 1)) == 0))
				feral_async_read(c, tid, ods, i);
#endif
			if (FERAL_UNLIKELY(!update_row(m, c, w, x, rds, rrec, aux, i, gamma, &krng, &rng,
			                               &hr, soon))) {
				feral_request_stop(c, FERAL_STATUS_DIVERGED);
				break;
			}
			done++;
			__atomic_store_n(&w->updates, done, __ATOMIC_RELAXED);
#if FERAL_ASYNC_SAMPLE_EVERY /* ---- async hook: a sampled write landed ---- */
			if (FERAL_UNLIKELY(w->async->land_seen != FERAL_ASYNC_NONE))
				feral_async_landed(c, tid);
#endif
			if (FERAL_UNLIKELY(done == merge_at)) { /* the fast tier, or all */
				hot_merge(c, tid, done, done % c->hot.every_slow == 0);
				merge_at += c->hot.every;
			}
			if (FERAL_UNLIKELY(tid == 0 && done == check_at))
				check_at = feral_monitor_tick(c, done);
		}
		/* ---- async hook: the writes still queued (cfg->delay) land before
		 * the round ends ---- */
		for (const struct feral_delayed *e; (e = feral_delay_pop(w->async));) {
			write_row(m, c, w, x, rds, e->i, e->a, e->idx, e->base, e->len, e->h, e->rs, e->g,
			          e->gamma, &krng, &rng, &hr);
			if (FERAL_ASYNC_SAMPLE_EVERY && w->async->land_seen != FERAL_ASYNC_NONE)
				feral_async_landed(c, tid);
		}
		__atomic_store_n(&w->inflight, FERAL_INFLIGHT_NONE, __ATOMIC_RELAXED);
		if (c->hot.H) /* every update merged before the workers meet (or leave) */
			hot_merge(c, tid, done, true);
		if (done >= quota)
			c->finished[tid] = 1;
		__atomic_store_n(&w->arrived, ++rounds, __ATOMIC_RELEASE);
		if (tid == 0 && c->plan.nthreads > 1) /* the others may still be updating */
			feral_monitor_wait(c, rounds);
		if (c->round_len == UINT64_MAX || round_end(c, tid, &rng, hook))
			break;
		if (c->hot.H) /* the others' merges */
			hot_pull(c, tid);
	}
}

static void worker_main(struct feral_ctx *c, int tid)
{
	struct feral_affinity saved;
	bind_worker(c, tid, &saved);
	switch (c->cfg->method) { /* one specialisation of the loop per method */
	case FERAL_METHOD_KACZMARZ: worker_loop(c, tid, FERAL_METHOD_KACZMARZ); break;
	case FERAL_METHOD_SVRG: /* HALP: SVRG on fixed point offsets */
	case FERAL_METHOD_HALP: worker_loop(c, tid, FERAL_METHOD_SVRG); break;
	default: worker_loop(c, tid, FERAL_METHOD_SGD); break;
	}
	/* the caller (worker 0) and the runtime's pool threads leave as they came */
	feral_affinity_restore(&saved);
}
/* ---- the phases of a solve ------------------------------------------------------ */

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
	pc.hot_threshold = -1; /* one worker, plain shared model */
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
	pc.delay = 0;             /* the serial reference: no simulated asynchrony */
	pc.staleness_hist = NULL; /* the caller's is for the solve itself */
	memcpy(out, x0, ds->d * sizeof *out);
	struct feral_result r;
	return feral_solve(ds, &pc, NULL, out, &r, NULL, err);
}

/* The context, with its row arrays and kernels; NULL: out of memory. */
static struct feral_ctx *ctx_new(const struct feral_dataset *ds, const struct feral_config *cfg,
                                 const double *x_star, struct feral_trace *trace,
                                 const struct feral_kernels *kt, struct feral_result *res,
                                 struct feral_error *err)
{
	struct feral_ctx *c = calloc(1, sizeof *c);
	uint64_t n = ds->n;
	if (c) {
		c->L = malloc(n * sizeof *c->L);
		c->p = malloc(n * sizeof *c->p);
		c->wstep = feral_big_alloc(n * sizeof *c->wstep);
	}
	if (!c || !c->L || !c->p || !c->wstep) {
		if (c) {
			free(c->L);
			free(c->p);
			free(c->wstep);
		}
		free(c);
		feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (%llu rows)",
		           (unsigned long long)n);
		return NULL;
	}
	c->ds = ds;
	c->cfg = cfg;
	c->x_star = x_star;
	c->trace = trace;
	c->esz = feral_precision_size(ds->precision);
	c->mp = cfg->model_precision;
	c->msz = feral_precision_size(c->mp);
	c->mfixed = feral_precision_fixed(c->mp);
	c->fcsr = ds->layout == FERAL_LAYOUT_CSR && ds->precision == FERAL_PRECISION_F32 &&
	                          (c->mp == FERAL_PRECISION_F64 || c->mp == FERAL_PRECISION_F32)
	                  ? (c->mp == FERAL_PRECISION_F64 ? FERAL_FCSR_F64 : FERAL_FCSR_F32)
	                  : 0;
	c->dot = kt->dot[ds->layout][ds->precision][c->mp];
	c->axpy = kt->axpy[ds->layout][ds->precision][c->mp];
	c->cdot = kt->dot[ds->layout][ds->precision][cfg->method == FERAL_METHOD_HALP
	                                                     ? FERAL_PRECISION_F64
	                                                     : FERAL_PRECISION_F32];
	feral_set_scale(c, 1.0);
	c->gnorm0 = NAN;
	c->grad_rel = NAN;
	res->kernel = kt->name;
	return c;
}

static void ctx_free(struct feral_ctx *c)
{
	if (feral_method_vr(c->cfg->method))
		feral_svrg_free(c);
	feral_hot_free(c);
	feral_model_free(c);
	feral_monitor_free(c);
	feral_async_free(c);
	free(c->w);
	free(c->quota);
	free(c->finished);
	if (c->shard_ds)
		feral_plan_free_data(&c->plan, c->shard_ds, c->shard_rec);
	free(c->shard_ds);
	free(c->shard_rec);
	free(c->rec);
	feral_plan_free(&c->plan);
	free((void *)c->l2c);
	feral_topo_destroy(&c->topo);
	free(c->L);
	free(c->p);
	free(c->wstep);
	free(c);
}

/* Sampling: p_i from the row constants L_i (the Kaczmarz projection samples
 * by ||a_i||^2 like LS), step weights 1/(n p_i), Lbar. */
static enum feral_status sample_rows(struct feral_ctx *c, struct feral_error *err)
{
	const struct feral_dataset *ds = c->ds;
	uint64_t n = ds->n;
	feral_objective_row_constants(ds, c->cfg, c->L);
	enum feral_status st = feral_sampling_probs(c->L, n, c->cfg->lambda, c->p, err);
	if (st)
		return st;
	double lbar = 0;
	for (uint64_t i = 0; i < n; i++) {
		lbar += c->L[i];
		c->wstep[i] = c->p[i] > 0 ? 1.0 / ((double)n * c->p[i]) : 0;
	}
	c->lbar = lbar / (double)n;
	if (c->x_star)
		for (uint64_t j = 0; j < ds->d; j++)
			c->xstar_sq += c->x_star[j] * c->x_star[j];
	return FERAL_OK;
}

/* The step (policy.c), with the pilot run it may need. */
static enum feral_status choose_step(struct feral_ctx *c, const double *x,
                                     struct feral_result *res, struct feral_error *err)
{
	const struct feral_config *cfg = c->cfg;
	struct feral_step_choice sc;
	feral_step_begin(c, c->x_star, &sc);
	if (sc.needs_ref) {
		const double *xr = c->x_star;
		double *pilot = NULL;
		if (!xr) {
			pilot = malloc(c->ds->d * sizeof *pilot);
			if (!pilot)
				return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "pilot");
			enum feral_status st = pilot_run(c->ds, cfg, sc.base, sc.pilot_updates, x, pilot,
			                                 err);
			if (st) {
				free(pilot);
				return st;
			}
			xr = pilot;
		}
		feral_step_finish(c, xr, &sc);
		free(pilot);
	}
	res->mu = sc.mu;
	res->step = cfg->method == FERAL_METHOD_KACZMARZ ? cfg->relax : sc.rel_step;
	c->gamma = sc.rel_step / c->lbar;
	c->decay_per_update = sc.decay / (double)c->ds->n;
	if (cfg->l2 > 0 && cfg->method == FERAL_METHOD_SGD) {
		c->l2c = feral_l2_degrees(c->ds, cfg->l2, c->p);
		if (!c->l2c)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "L2 degrees");
	}
	return FERAL_OK;
}

/* The fixed point model scale: given, or from a serial f64 warm-up. */
static enum feral_status choose_scale(struct feral_ctx *c, const double *x,
                                      const struct feral_result *res, struct feral_error *err)
{
	const struct feral_config *cfg = c->cfg;
	uint64_t d = c->ds->d;
	if (!feral_precision_fixed(c->mp))
		return FERAL_OK;
	if (cfg->model_scale > 0) {
		feral_set_scale(c, cfg->model_scale);
		return FERAL_OK;
	}
	double *xw = malloc(d * sizeof *xw);
	if (!xw)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "warm-up");
	struct feral_config wc = *cfg;
	wc.model_precision = FERAL_PRECISION_F64;
	if (wc.method == FERAL_METHOD_HALP) /* its first epoch's offsets: an SGD warm-up */
		wc.method = FERAL_METHOD_SGD;
	enum feral_status st = pilot_run(c->ds, &wc, feral_scale_warmup_step(cfg, res->step),
	                                 feral_scale_warmup_updates(c->ds), x, xw, err);
	if (!st)
		feral_set_scale(c, feral_scale_from_warmup(cfg, c->mp, xw, x, d));
	free(xw);
	return st;
}

/* Threads, replica mode, plan, shard data on their nodes (plan.c). */
static enum feral_status plan_threads(struct feral_ctx *c, struct feral_result *res,
                                      struct feral_error *err)
{
	const struct feral_config *cfg = c->cfg;
	int T = cfg->threads;
	if (feral_topo_create(NULL, &c->topo, err) != FERAL_OK)
		c->topo = NULL; /* carry on unpinned */
	if (T == 0)
		T = c->topo ? feral_topo_npus(c->topo) : 1;
#ifndef _OPENMP
	if (T > 1) {
		snprintf(c->warning, sizeof c->warning,
		         "built without OpenMP: running 1 worker instead of %d", T);
		T = 1;
	}
#else
	if (T > omp_get_thread_limit()) {
		snprintf(c->warning, sizeof c->warning,
		         "the OpenMP thread limit is %d: running %d workers instead of %d",
		         omp_get_thread_limit(), omp_get_thread_limit(), T);
		T = omp_get_thread_limit();
	}
#endif
	c->replicas = feral_replicas_resolve(cfg, c->ds, T);
	enum feral_status st = feral_plan_make(c->topo, T, cfg->bind, c->replicas, c->p, c->ds->n,
	                                       &c->plan, err);
	if (st)
		return st;
	res->threads = T;
	res->oversubscribed = c->plan.oversubscribed;
	res->shards = c->plan.nshards;
	res->replicas = c->plan.nrep;
	res->replicas_mode = c->replicas;
	if (c->plan.nshards < 2)
		return FERAL_OK;
	c->shard_ds = calloc((size_t)c->plan.nshards, sizeof *c->shard_ds);
	c->shard_rec = calloc((size_t)c->plan.nshards, sizeof *c->shard_rec);
	if (!c->shard_ds || !c->shard_rec)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "shards");
	st = feral_plan_place_data(&c->plan, c->ds, c->rec, c->topo, c->shard_ds, c->shard_rec,
	                           err);
	if (st == FERAL_OK) { /* the workers read their shard's copies */
		free(c->rec);
		c->rec = NULL;
	}
	return st;
}

/* The row records (feral_rowrec) of the dataset, from its arrays and the
 * step weights, which they then replace. */
static enum feral_status make_records(struct feral_ctx *c, struct feral_error *err)
{
	const struct feral_dataset *ds = c->ds;
	if (!(c->rec = feral_big_alloc(ds->n * sizeof *c->rec)))
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "row records");
	for (uint64_t i = 0; i < ds->n; i++)
		c->rec[i] = (struct feral_rowrec){ds->y[i], c->wstep[i], ds->row_sq_norm[i],
		                                  ds->row_scale ? ds->row_scale[i] : 1.0f, 0};
	free(c->wstep);
	c->wstep = NULL;
	return FERAL_OK;
}

/* The budget: total updates split evenly across workers, and the rounds
 * (replica averages, re-centrings, the method's between-epochs hook). */
static enum feral_status set_budget(struct feral_ctx *c, struct feral_error *err)
{
	const struct feral_config *cfg = c->cfg;
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t n = c->ds->n;
	c->w = feral_aligned_alloc((size_t)T * sizeof *c->w);
	c->quota = calloc((size_t)T, sizeof *c->quota);
	c->finished = calloc((size_t)T, sizeof *c->finished);
	if (!c->w || !c->quota || !c->finished)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (workers)");
	memset(c->w, 0, (size_t)T * sizeof *c->w);
	uint64_t total = UINT64_MAX / 4;
	if (cfg->epochs > 0)
		total = (uint64_t)fmin(cfg->epochs * (double)n, (double)total);
	if (cfg->max_updates > 0 && cfg->max_updates < total)
		total = cfg->max_updates;
	c->total_budget = total;
	for (int t = 0; t < T; t++)
		c->quota[t] = total / (uint64_t)T + ((uint64_t)t < total % (uint64_t)T);
	c->round_len = (R > 1 && cfg->average_every > 0) ? cfg->average_every : UINT64_MAX;
	if (R > 1 && c->round_len == UINT64_MAX)
		c->round_len = UINT64_MAX / 2; /* one round: replicas meet once, at the end */
	uint64_t per = UINT64_MAX;
	if (c->center)
		per = feral_recenter_period(cfg, c->ds, T);
	if (feral_method_between_epochs(cfg->method)) /* an epoch: n updates in all */
		per = per < (n + (uint64_t)T - 1) / (uint64_t)T ? per : (n + (uint64_t)T - 1) / (uint64_t)T;
	if (per < c->round_len)
		c->round_len = per;
	return FERAL_OK;
}

/* All workers, one OpenMP region; *wall gets its time.  Returns the team
 * size the runtime delivered: when it is short of the plan (a thread limit,
 * dynamic teams, a nested region), no worker starts (quotas, shards and
 * barriers are planned for every worker) and the caller re-plans. */
static int run_workers(struct feral_ctx *c, double *wall)
{
	int T = c->plan.nthreads, team = T;
	c->t0 = feral_now();
	c->last_ckpt = c->t0;
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
	{
		int got = omp_get_num_threads(); /* the same in every member */
		if (got == T) {
			double cpu0 = feral_thread_cpu();
			worker_main(c, omp_get_thread_num());
			double dc = feral_thread_cpu() - cpu0;
#pragma omp atomic
			c->cpu_s += dc;
		}
		else if (omp_get_thread_num() == 0)
			team = got;
	}
#else
	double cpu0 = feral_thread_cpu();
	worker_main(c, 0);
	c->cpu_s += feral_thread_cpu() - cpu0;
#endif
	*wall = feral_now() - c->t0;
	if (c->hot.H && team == T) /* after the last round's merges */
		feral_hot_fold(c, -1);
	return team;
}

/* ---- the solve -------------------------------------------------------------------- */

/* Re-plans when the runtime delivers a short team; a team that keeps
 * shrinking (dynamic adjustment under load) fails after this many. */
#define TEAM_ATTEMPTS 3

/* One attempt with cfg->threads as given: the phases in order.  *team gets
 * the team size delivered when it was short of the plan (then nothing ran:
 * x, res and the trace are as on entry), else 0. */
static enum feral_status solve_attempt(const struct feral_dataset *ds,
                                       const struct feral_config *cfg, const double *x_star,
                                       double *x, struct feral_result *res,
                                       struct feral_trace *trace, const char *warning,
                                       int *team, struct feral_error *err)
{
	enum feral_status st;
	const struct feral_kernels *kt = feral_kernels_get(err);
	if (!kt)
		return err ? err->status : FERAL_STATUS_UNSUPPORTED;
	struct feral_ctx *c = ctx_new(ds, cfg, x_star, trace, kt, res, err);
	if (!c)
		return FERAL_STATUS_NOMEM;
	snprintf(c->warning, sizeof c->warning, "%s", warning);
	size_t trace_len = trace ? trace->len : 0;
	*team = 0;
	if ((st = sample_rows(c, err)) == FERAL_OK &&          /* p_i, 1/(n p_i), Lbar */
	    (st = choose_step(c, x, res, err)) == FERAL_OK &&  /* step, pilot, L2 */
	    (st = choose_scale(c, x, res, err)) == FERAL_OK && /* fixed point scale, warm-up */
	    (st = make_records(c, err)) == FERAL_OK &&         /* y, 1/(n p_i), scale a row */
	    (st = plan_threads(c, res, err)) == FERAL_OK &&    /* threads, replicas, shards */
	    (st = feral_model_create(c, x, &res->saturations, err)) == FERAL_OK &&
	    (st = set_budget(c, err)) == FERAL_OK &&           /* quotas, rounds */
	    (st = feral_async_create(c, err)) == FERAL_OK &&   /* instruments, delay queues */
	    (st = feral_hot_create(c, res, err)) == FERAL_OK && /* hot set, hot-first rows */
	    (!feral_method_vr(c->cfg->method) ||                /* SVRG's snapshot state */
	     (st = feral_svrg_create(c, err)) == FERAL_OK) &&
	    (st = feral_monitor_start(c, x, err)) == FERAL_OK) { /* eval rows, x0's point */
		double wall;
		int got = run_workers(c, &wall);
		if (got < c->plan.nthreads) {
			*team = got;
			if (trace)
				trace->len = trace_len; /* x0's point is recorded again */
		} else {
			st = feral_monitor_finish(c, x, wall, res, err); /* x, result */
		}
	}
	ctx_free(c);
	return st;
}

static void result_reset(struct feral_result *res)
{
	memset(res, 0, sizeof *res);
	res->rel_error = NAN;
	res->mu = NAN;
	res->staleness_mean = NAN; /* no sample */
	res->conflict_rate = NAN;
}

enum feral_status feral_solve(const struct feral_dataset *ds, const struct feral_config *cfg,
                              const double *x_star, double *x, struct feral_result *res,
                              struct feral_trace *trace, struct feral_error *err)
{
	struct feral_result dummy;
	if (!res)
		res = &dummy;
	result_reset(res);
	enum feral_status st = check_inputs(ds, cfg, x, err);
	if (st)
		return st;
	if (cfg->staleness_hist) /* read only now that struct_size is known to be right */
		memset(cfg->staleness_hist, 0, FERAL_STALENESS_BUCKETS * sizeof *cfg->staleness_hist);
	if (cfg->method == FERAL_METHOD_NEWTON) /* not a worker loop: newton.c */
		return feral_newton_solve(ds, cfg, x_star, x, res, trace, err);
	struct feral_config run = *cfg; /* threads: what the runtime delivers */
	char warning[256] = "";
	for (int attempt = 0;; attempt++) {
		if (attempt > 0)
			result_reset(res); /* a re-planned attempt reports afresh */
		int team = 0, asked = run.threads;
		st = solve_attempt(ds, &run, x_star, x, res, trace, warning, &team, err);
		if (st || team == 0)
			return st;
		if (attempt + 1 == TEAM_ATTEMPTS)
			return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
			                  "the OpenMP runtime ran %d of the %d threads planned, %d times "
			                  "(dynamic teams or a nested parallel region): set threads to %d",
			                  team, res->threads, TEAM_ATTEMPTS, team);
		snprintf(warning, sizeof warning,
		         "the OpenMP runtime ran %d of the %d threads planned (dynamic teams or a "
		         "nested parallel region): re-planned for %d",
		         team, asked ? asked : res->threads, team);
		run.threads = team;
	}
}
