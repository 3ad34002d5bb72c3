/* SVRG (Johnson & Zhang, "Accelerating stochastic gradient descent using
 * predictive variance reduction", NIPS 2013) with the weighted sampling of
 * Needell, Srebro & Ward.
 *
 * Every epoch the workers meet (engine.c's between-epochs hook), take the
 * snapshot x~ (the mean of the replicas, just averaged), and compute
 * together c_i = phi'(a_i.x~, y_i) for every row (rows split among them) and
 * g_bar = (1/n) sum_j c_j a_j (each worker sums its rows into its own
 * d-vector, on pages of its own, then each reduces a slice of the
 * coordinates).  A trace point due at the snapshot is evaluated in the same
 * pass, from the margins a_i.x~ of its evaluation rows, by every worker
 * (monitor.c); the monitor no longer evaluates it alone while the others
 * wait at the barrier (docs/design.md, "SVRG's epoch").  The inner steps
 * (engine.h's feral_method_step and feral_svrg_dense_coef) use them:
 *   v = w_i (phi'(a_i.x, y_i) - c_i) a_i + eta x + g_bar,   w_i = 1/(n p_i),
 * whose expectation over i ~ p is grad F(x) and whose variance vanishes as
 * x and x~ approach x*, so a constant step converges to the optimum
 * (docs/math.md, "Variance reduction").  The full gradient at x~ is
 * g_bar + eta x~: its norm is the certified stop, at no extra cost.
 *
 * HALP (De Sa et al., "High-accuracy low-precision training", 2018) is the
 * same method on a fixed point model that holds the offset from the
 * snapshot: at each snapshot the offsets are folded into the full precision
 * centre (round_end, model.c), so the centre is x~ and the offsets are 0,
 * and the grid is rescaled (halp_rescale) to the offsets the coming epoch
 * will need, which shrink with the error: linear convergence at 8 bits. */
#include "internal.h"
#include "engine.h"

#include <math.h>

static void barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

/* HALP's grid at a snapshot (worker 0; the offsets were just folded into
 * the centre and are 0, so the model is exact at any scale).  The grid must
 * hold the coming epoch's offsets x - x~ and no more: the rounding noise of
 * an epoch grows with the grid spacing s, and the error contracts only
 * while that noise stays below it.  De Sa et al.'s rule covers the ball
 * ||x~ - x*|| <= ||grad F(x~)|| / mu, s = ||grad F(x~)|| / (mu qmax), but
 * that bounds the 2-norm where the grid bounds each coordinate, and with
 * kappa: measured on a Gaussian LS problem (100000 x 100, cond 10, 8-bit
 * model, the true mu) it diverges within 7 epochs, also at a quarter of it.
 * So mu is measured instead, in the max norm, from the last epoch: its
 * largest offset (maxq quanta at the old scale, recorded by the fold) over
 * the gradient norm at its start, times the gradient norm now:
 *   s <- H s maxq (gn / gn_prev) / qmax,   H = FERAL_HALP_HEADROOM,
 * by a factor at most 1 (a coarser grid is more noise, which makes larger
 * offsets: growing on them runs away), and at least 1/16; an epoch whose
 * largest offset saturated (maxq = qmax) grows the grid, by 2 at least.
 * With a known mu (cfg->mu, else l2) the paper's bound, twice over, caps
 * it: the offsets of a contracting epoch fit in 2 ||grad F(x~)|| / mu.  The
 * first epoch's scale is the warm-up's (engine.c's choose_scale). */
static void halp_rescale(struct feral_ctx *c, struct feral_svrg *s, double gn)
{
	const struct feral_config *cfg = c->cfg;
	double qm = feral_qmax(c->mp);
	if (s->snapshots > 0 && gn > 0 && s->gn_prev > 0) {
		double mq = 0;
		for (int t = 0; t < c->plan.nthreads; t++)
			mq = fmax(mq, c->maxq[t]);
		double f = FERAL_HALP_HEADROOM * mq * (gn / s->gn_prev) / qm;
		f = mq < qm ? fmax(fmin(f, 1.0), 1.0 / 16) : fmax(f, 2.0);
		double ns = c->scale * f;
		double mu = cfg->mu > 0 ? cfg->mu : cfg->l2;
		if (mu > 0)
			ns = fmin(ns, 2 * gn / (mu * qm));
		if (isfinite(ns) && ns > 0)
			feral_set_scale(c, fmax(ns, 1e-300));
	}
	s->gn_prev = gn;
}

enum feral_status feral_svrg_create(struct feral_ctx *c, struct feral_error *err)
{
	const struct feral_dataset *ds = c->ds;
	uint64_t n = ds->n, d = ds->d;
	int T = c->plan.nthreads;
	struct feral_svrg *s = calloc(1, sizeof *s);
	if (!s)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (SVRG)");
	c->method_state = s;
	s->xs = malloc(d * sizeof *s->xs);
	s->cval = feral_big_alloc(n * sizeof *s->cval);
	s->gbar = calloc(d, sizeof *s->gbar);
	/* each worker's partial sum on pages of its own (docs/design.md,
	 * "SVRG's epoch"): side by side, two workers' sums met at a line pair
	 * that both wrote every row, and the pass cost ~1.4x the CPU a row */
	const uint64_t pg = FERAL_GPART_ALIGN / sizeof *s->gpart;
	s->gstride = (d + pg - 1) / pg * pg;
	size_t gbytes = (size_t)T * s->gstride * sizeof *s->gpart;
	if (gbytes >= ((size_t)2 << 20)) { /* 2 MiB aligned, huge pages */
		s->gpart = feral_big_alloc(gbytes);
	} else {
		void *gp = NULL;
		if (posix_memalign(&gp, FERAL_GPART_ALIGN, gbytes) == 0)
			s->gpart = gp;
	}
	s->sq = calloc((size_t)T * 8, sizeof *s->sq);
	s->es = feral_aligned_alloc((size_t)T * sizeof *s->es);
	if (!s->xs || !s->cval || !s->gbar || !s->gpart || !s->sq || !s->es)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                  "out of memory (SVRG: %llu rows, %d x %llu partial sums)",
		                  (unsigned long long)n, T, (unsigned long long)d);
	if (ds->layout == FERAL_LAYOUT_CSR) {
		s->invp = feral_l2_degrees(ds, 1.0, c->p); /* 1 / P_j */
		if (!s->invp)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (SVRG)");
	}
	if (c->shard_ds) { /* each shard's workers read their rows' c_i by entry */
		s->cshard = calloc((size_t)c->plan.nshards, sizeof *s->cshard);
		if (!s->cshard)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (SVRG)");
		for (int k = 0; k < c->plan.nshards; k++) {
			s->cshard[k] = malloc(c->plan.shards[k].len * sizeof **s->cshard);
			if (!s->cshard[k])
				return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
				                  "out of memory (SVRG)");
		}
	}
	s->axpy64 = feral_axpy64_of(ds);
	/* dense rows without L2: the dense part is -gamma g_bar, the same for
	 * the whole epoch, through the SIMD axpy kernel (f32 "data" -g_bar):
	 * HALP's fixed point model (unbiased rounding) and an f32 model (where
	 * the scalar loop over d cost as much as the row's own update) */
	if ((c->cfg->method == FERAL_METHOD_HALP || c->mp == FERAL_PRECISION_F32) &&
	    ds->layout == FERAL_LAYOUT_DENSE && c->cfg->l2 == 0) {
		const struct feral_kernels *kt = feral_kernels_get(NULL);
		if (!kt)
			kt = feral_kernels_named("ref");
		s->gaxpy = kt->axpy[FERAL_LAYOUT_DENSE][FERAL_PRECISION_F32][c->mp];
		s->gneg = feral_aligned_alloc(d * sizeof *s->gneg);
		if (!s->gneg)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (SVRG)");
	}
	return FERAL_OK;
}

void feral_svrg_free(struct feral_ctx *c)
{
	struct feral_svrg *s = c->method_state;
	if (!s)
		return;
	if (s->cshard)
		for (int k = 0; k < c->plan.nshards; k++)
			free(s->cshard[k]);
	free(s->cshard);
	free(s->xs);
	free(s->cval);
	free(s->gbar);
	free(s->gpart);
	free(s->sq);
	free(s->es);
	free(s->gneg);
	free((void *)s->invp);
	free(s);
	c->method_state = NULL;
}

/* The snapshot and the full gradient, by all workers (each calls this).
 * Phases, separated by barriers: x~ (coordinate slices), c_i and the
 * partial sums (row slices), g_bar and ||g_bar + eta x~||^2 (coordinate
 * slices), then worker 0 decides the certified stop. */
enum feral_status feral_svrg_epoch(struct feral_ctx *c, int tid)
{
	struct feral_svrg *s = c->method_state;
	const struct feral_dataset *ds = c->ds;
	const struct feral_config *cfg = c->cfg;
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t n = ds->n, d = ds->d;
	uint64_t jlo = d * (uint64_t)tid / (uint64_t)T, jhi = d * (uint64_t)(tid + 1) / (uint64_t)T;
	uint64_t ilo = n * (uint64_t)tid / (uint64_t)T, ihi = n * (uint64_t)(tid + 1) / (uint64_t)T;
	double t0 = tid == 0 ? feral_now() : 0;
	/* x~: the mean of the replicas (equal after an average), plus the
	 * centre (HALP: the offsets were just folded into it, and are 0) */
	for (uint64_t j = jlo; j < jhi; j++) {
		double v = 0;
		for (int r = 0; r < R; r++)
			v += feral_model_get(c->models[r], c->mp, c->scale, j);
		s->xs[j] = v / R + (c->center ? c->center[j] : 0);
	}
	barrier();
	double *part = s->gpart + (size_t)tid * s->gstride;
	memset(part, 0, d * sizeof *part);
	/* the trace point due at this snapshot (c->trace_due): its evaluation
	 * rows in this slice, from the margins the pass computes anyway */
	struct feral_eval_sums es = {0}; /* in registers: s->es[tid] after */
	uint64_t ke = 0, khi = 0;
	if (c->trace_due)
		feral_monitor_eval_range(c, ilo, ihi, &ke, &khi);
	uint64_t next_e = ke < khi ? feral_monitor_eval_row(c, ke) : UINT64_MAX;
	for (uint64_t i = ilo; i < ihi; i++) {
		double t = feral_row_dot(ds, i, s->xs);
		double ci = feral_loss_dphi(cfg->loss, t, ds->y[i]);
		s->cval[i] = ci;
		if (ci != 0)
			feral_row_axpy(ds, s->axpy64, i, ci, part);
		if (i == next_e) {
			feral_eval_add(&es, cfg->loss, t, ds->y[i]);
			next_e = ++ke < khi ? feral_monitor_eval_row(c, ke) : UINT64_MAX;
		}
	}
	s->es[tid] = es;
	barrier();
	double sq = 0;
	for (uint64_t j = jlo; j < jhi; j++) {
		double v = 0;
		for (int t = 0; t < T; t++)
			v += s->gpart[(size_t)t * s->gstride + j];
		s->gbar[j] = v / (double)n;
		if (s->gneg)
			s->gneg[j] = (float)-s->gbar[j];
		double gj = s->gbar[j] + cfg->l2 * s->xs[j];
		sq += gj * gj;
	}
	s->sq[tid * 8] = sq;
	if (s->cshard) { /* each shard's entries, by the shard's global rows */
		for (int k = 0; k < c->plan.nshards; k++) {
			const struct feral_shard *sh = &c->plan.shards[k];
			uint64_t elo = sh->len * (uint64_t)tid / (uint64_t)T;
			uint64_t ehi = sh->len * (uint64_t)(tid + 1) / (uint64_t)T;
			for (uint64_t e = elo; e < ehi; e++)
				s->cshard[k][e] = s->cval[shard_row(sh, e)];
		}
	}
	barrier();
	if (tid == 0) {
		if (c->trace_due) { /* before the stop rules, as the monitor's tick was */
			double tm = feral_now();
			feral_monitor_snapshot_point(c, s->xs, s->es, T);
			c->trace_due = 0;
			t0 += feral_now() - tm; /* the monitor's time, not the gradient's */
		}
		double tot = 0;
		for (int t = 0; t < T; t++)
			tot += s->sq[t * 8];
		double gn = sqrt(tot);
		if (!isfinite(gn))
			return FERAL_STATUS_DIVERGED;
		if (isnan(c->gnorm0))
			c->gnorm0 = gn;
		if (c->cfg->method == FERAL_METHOD_HALP)
			halp_rescale(c, s, gn);
		s->snapshots++;
		if (feral_grad_rule(c) && !c->converged) {
			c->grad_rel = c->gnorm0 > 0 ? gn / c->gnorm0 : (gn > 0 ? INFINITY : 0);
			if (gn <= cfg->tol * c->gnorm0) { /* certified at x~: return it */
				c->converged = 1;
				memcpy(c->good, s->xs, d * sizeof *c->good);
				feral_request_stop(c, FERAL_OK);
			}
		}
		c->grad_s += feral_now() - t0;
	}
	return FERAL_OK;
}
