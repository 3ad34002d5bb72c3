/* Trust-region Newton with (diagonally preconditioned) conjugate gradient,
 * for the smooth losses (method NEWTON; docs/math.md section 7).
 *
 *   F(x) = (1/n) sum_i phi(a_i.x, y_i) + (eta/2) ||x||^2,
 *   grad F = (1/n) A^T c + eta x,        c_i = phi'(a_i.x, y_i),
 *   H v    = (1/n) A^T (D (A v)) + eta v, D_ii = phi''(a_i.x, y_i).
 *
 * Every iteration takes one gradient pass over the rows (which also
 * recomputes z = A x exactly, the objective, the Hessian diagonal D and
 * the preconditioner diag H) and then solves H s = -g approximately by
 * Steihaug's truncated CG inside the trust region ||s||_M <= Delta, one
 * Hessian-vector pass per CG iteration; CG also accumulates A s (from the
 * A p of each Hessian-vector product), so the trial objective F(x + s)
 * costs O(n), not a pass.  The step is taken when the actual reduction is
 * a fair share of the model's, and the radius follows the ratio, as in
 * Lin, Weng & Keerthi, "Trust region Newton method for large-scale
 * logistic regression" (JMLR 2008) and Steihaug (SIAM J. Numer. Anal.
 * 1983); the Jacobi preconditioner follows Hsia, Chiang & Lin (ACML 2018).
 *
 * Threads: each pass is one OpenMP region; rows are split into B fixed
 * blocks (by nonzeros, about 4 a thread) that the threads take as they come
 * free, each block sums into its own d-vector, and the blocks are reduced
 * in block order, so a run is bit-for-bit reproducible for a given T (a
 * short team runs the same blocks).  Nothing is pinned:
 * the caller's and the pool's affinity are left as they are. */
#include "internal.h"
#include "engine.h"
#include "trace.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* CG's forcing term: stop when ||r|| <= min(XI_MAX, sqrt(||g||/||g0||)) ||g||,
 * or at half the tolerance's gradient (tol ||g0|| / 2): no further */
#define XI_MAX 0.5
/* the preconditioner M = (1 - PRECOND_MIX) eta I + PRECOND_MIX diag H */
#define PRECOND_MIX 0.1
#define MIN_NNZ_PER_THREAD FERAL_NEWTON_NNZ_PER_THREAD /* internal.h */
/* row blocks per thread (taken dynamically), unless their partial sums
 * (2 d doubles each) would pass BLOCK_BYTES */
#define BLOCKS_PER_THREAD 4
#define BLOCK_BYTES ((uint64_t)64 << 20)
/* trust-region constants: accept above ETA0; shrink below ETA1; grow above ETA2 */
#define ETA0 1e-4
#define ETA1 0.25
#define ETA2 0.75
/* consecutive rejected steps before the solve is declared stalled */
#define MAX_REJECT 40

struct newton {
	const struct feral_dataset *ds;
	const struct feral_config *cfg;
	feral_k_dot_fn dot;
	feral_k_axpy_fn axpy;
	uint64_t n, d;
	int T;
	int B;         /* row blocks: several a thread, taken dynamically */
	uint64_t *lo;  /* B + 1 row bounds of the blocks */
	double *part;  /* 2 B x d partial sums (gradient or Hv, diag H) */
	double *sc;    /* B x 8 partial scalars (padded) */
	double *z;     /* n: a_i.x */
	double *dd;    /* n: phi''(z_i) */
	double *ap;    /* n: a_i.p of the last Hessian-vector product */
	double *as;    /* n: A s */
	double *zt;    /* n: trial z + A s */
	uint64_t passes;
	double grad_s;
	double deadline; /* feral_now() at which --seconds runs out (INFINITY: none) */
};

/* The budget in time or a stop request (signal, caller): checked before
 * every pass, so that one long CG run (least squares at a tight or zero
 * tolerance) cannot outlive --seconds or ignore Ctrl-C. */
static int out_of_time(const struct newton *nt)
{
	const struct feral_config *cfg = nt->cfg;
	if (cfg->stop_flag && __atomic_load_n(cfg->stop_flag, __ATOMIC_RELAXED))
		return 1;
	return feral_now() >= nt->deadline;
}

/* phi, phi' and phi'' at t (label or target y), one exp and one log1p for
 * the logistic loss. */
static void loss3(enum feral_loss loss, double t, double y, double *f, double *d1, double *d2)
{
	if (loss == FERAL_LOSS_LS) {
		*f = 0.5 * (t - y) * (t - y);
		*d1 = t - y;
		*d2 = 1.0;
		return;
	}
	double m = y * t, e = exp(-fabs(m)); /* no overflow either side */
	*f = (m < 0 ? -m : 0.0) + log1p(e);
	*d1 = m > 0 ? -y * e / (1 + e) : -y / (1 + e);
	*d2 = e / ((1 + e) * (1 + e));
}

static void row_span(const struct feral_dataset *ds, uint64_t i, const void **a,
                     const uint32_t **idx, uint64_t *len)
{
	uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * ds->d;
	*len = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] - b : ds->d;
	*a = (const char *)ds->values + b * feral_precision_size(ds->precision);
	*idx = ds->layout == FERAL_LAYOUT_CSR ? ds->indices + b : NULL;
}

static double rdot(const struct newton *nt, uint64_t i, const double *x)
{
	const void *a;
	const uint32_t *idx;
	uint64_t len;
	row_span(nt->ds, i, &a, &idx, &len);
	double s = nt->dot(a, idx, x, len);
	return nt->ds->row_scale ? s * nt->ds->row_scale[i] : s;
}

static void raxpy(const struct newton *nt, uint64_t i, double alpha, double *out)
{
	const void *a;
	const uint32_t *idx;
	uint64_t len;
	row_span(nt->ds, i, &a, &idx, &len);
	if (nt->ds->row_scale)
		alpha *= nt->ds->row_scale[i];
	nt->axpy(out, a, idx, len, alpha, FERAL_ROUNDING_NEAREST, NULL); /* exact f64 target */
}

/* out[j] += alpha a_ij^2 (the preconditioner's diagonal), one loop per
 * stored type (dense f32 rows vectorise). */
#define SQ_AXPY(type)                                                                   \
	do {                                                                            \
		const type *v = a;                                                      \
		if (idx)                                                                \
			for (uint64_t k = 0; k < len; k++)                              \
				out[idx[k]] += alpha * ((double)v[k] * (double)v[k]);   \
		else                                                                    \
			for (uint64_t k = 0; k < len; k++)                              \
				out[k] += alpha * ((double)v[k] * (double)v[k]);        \
	} while (0)
static void rsq_axpy(const struct newton *nt, uint64_t i, double alpha, double *out)
{
	const void *a;
	const uint32_t *idx;
	uint64_t len;
	row_span(nt->ds, i, &a, &idx, &len);
	if (nt->ds->row_scale)
		alpha *= (double)nt->ds->row_scale[i] * nt->ds->row_scale[i];
	switch (nt->ds->precision) {
	case FERAL_PRECISION_I16: SQ_AXPY(int16_t); break;
	case FERAL_PRECISION_I8: SQ_AXPY(int8_t); break;
	default: SQ_AXPY(float); break;
	}
}
#undef SQ_AXPY

/* Blocks of about equal nonzeros (rows for dense data). */
static void split_rows(struct newton *nt)
{
	const struct feral_dataset *ds = nt->ds;
	nt->lo[0] = 0;
	for (int t = 1; t < nt->B; t++) {
		if (ds->layout != FERAL_LAYOUT_CSR) {
			nt->lo[t] = nt->n * (uint64_t)t / (uint64_t)nt->B;
			continue;
		}
		uint64_t want = ds->indptr[nt->n] / (uint64_t)nt->B * (uint64_t)t, a = nt->lo[t - 1],
		         b = nt->n;
		while (a < b) { /* first row whose start reaches want */
			uint64_t m = a + (b - a) / 2;
			if (ds->indptr[m] < want)
				a = m + 1;
			else
				b = m;
		}
		nt->lo[t] = a;
	}
	nt->lo[nt->B] = nt->n;
}

enum pass_kind { PASS_GRAD, PASS_HV };

/* One pass over the rows, all blocks.  PASS_GRAD at x: z = A x, c, D, the
 * loss sum (sc[t*8]), the error count or squared residual (sc[t*8+1]);
 * out = grad F(x); diag (if not NULL) = diag H.  PASS_HV for v: ap = A v;
 * out = H v. */
static void pass(struct newton *nt, enum pass_kind kind, const double *v, double *out,
                 double *diag)
{
	const uint64_t d = nt->d, n = nt->n;
	const int T = nt->T, B = nt->B;
	const enum feral_loss loss = nt->cfg->loss;
	const double *y = nt->ds->y;
	const double eta = nt->cfg->l2;
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
	{
		/* blocks go to whichever thread is free (one the OS has descheduled
		 * holds up only its current block); a short team runs them all */
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
		for (int t = 0; t < B; t++) {
			double *p = nt->part + (size_t)t * d;
			double *pd = diag ? nt->part + (size_t)(B + t) * d : NULL;
			memset(p, 0, d * sizeof *p);
			if (pd)
				memset(pd, 0, d * sizeof *pd);
			double s0 = 0, s1 = 0;
			for (uint64_t i = nt->lo[t]; i < nt->lo[t + 1]; i++) {
				if (kind == PASS_GRAD) {
					double zi = rdot(nt, i, v);
					nt->z[i] = zi;
					double fi, ci, di;
					loss3(loss, zi, y[i], &fi, &ci, &di);
					s0 += fi;
					if (loss == FERAL_LOSS_LS)
						s1 += (zi - y[i]) * (zi - y[i]);
					else
						s1 += (zi >= 0) != (y[i] > 0);
					nt->dd[i] = di;
					if (ci != 0)
						raxpy(nt, i, ci, p);
					if (pd && di != 0)
						rsq_axpy(nt, i, di, pd);
				} else {
					double ti = rdot(nt, i, v);
					nt->ap[i] = ti;
					if (ti != 0 && nt->dd[i] != 0)
						raxpy(nt, i, nt->dd[i] * ti, p);
				}
			}
			nt->sc[(size_t)t * 8] = s0;
			nt->sc[(size_t)t * 8 + 1] = s1;
		}
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1024)
#endif
		for (uint64_t j = 0; j < d; j++) { /* block order: reproducible */
			double s = 0, sd = 0;
			for (int t = 0; t < B; t++) {
				s += nt->part[(size_t)t * d + j];
				if (diag)
					sd += nt->part[(size_t)(B + t) * d + j];
			}
			out[j] = s / (double)n + eta * v[j];
			if (diag)
				diag[j] = sd / (double)n + eta;
		}
	}
	nt->passes++;
}

static double vdot(const double *a, const double *b, uint64_t d)
{
	double s = 0;
	for (uint64_t j = 0; j < d; j++)
		s += a[j] * b[j];
	return s;
}

/* sum over blocks of the partial scalars k (block order) */
static double scal(const struct newton *nt, int k)
{
	double s = 0;
	for (int t = 0; t < nt->B; t++)
		s += nt->sc[(size_t)t * 8 + k];
	return s;
}

/* tau >= 0 with ||s + tau p||_M = delta, from sMs, sMp, pMp. */
static double to_boundary(double sms, double smp, double pmp, double delta)
{
	double rad = smp * smp + pmp * (delta * delta - sms);
	rad = sqrt(fmax(rad, 0));
	return smp >= 0 ? (delta * delta - sms) / (smp + rad) : (rad - smp) / pmp;
}

static double mnorm2(const double *a, const double *b, const double *m, uint64_t d)
{
	double s = 0;
	for (uint64_t j = 0; j < d; j++)
		s += m[j] * a[j] * b[j];
	return s;
}

/* Steihaug's CG on H s = -g inside ||s||_M <= delta (M = diag m), at
 * most max_it Hessian-vector passes.  Fills s, r (the residual -g - H s)
 * and nt->as (A s); returns 1 when it stopped on the boundary. */
static int cg(struct newton *nt, const double *g, const double *m, double delta, double rtol,
              uint64_t max_it, double *s, double *r, double *p, double *hp, double *yv)
{
	const uint64_t d = nt->d, n = nt->n;
	memset(s, 0, d * sizeof *s);
	memset(nt->as, 0, n * sizeof *nt->as);
	for (uint64_t j = 0; j < d; j++) {
		r[j] = -g[j];
		yv[j] = r[j] / m[j];
		p[j] = yv[j];
	}
	double ry = vdot(r, yv, d), sms = 0, smp = 0, pmp = mnorm2(p, p, m, d);
	for (uint64_t it = 0; it < max_it; it++) {
		if (sqrt(vdot(r, r, d)) <= rtol)
			return 0;
		if (it > 0 && out_of_time(nt))
			return 0; /* stop where CG is: s still lowers the model */
		pass(nt, PASS_HV, p, hp, NULL);
		double php = vdot(p, hp, d);
		double alpha = php > 0 ? ry / php : INFINITY;
		if (!(php > 0) && isinf(delta))
			return 0; /* flat direction, no region: stop where CG is */
		if (!(php > 0) || sms + 2 * alpha * smp + alpha * alpha * pmp >= delta * delta) {
			double tau = to_boundary(sms, smp, pmp, delta);
			for (uint64_t j = 0; j < d; j++) {
				s[j] += tau * p[j];
				r[j] -= tau * hp[j];
			}
			for (uint64_t i = 0; i < n; i++)
				nt->as[i] += tau * nt->ap[i];
			return 1;
		}
		for (uint64_t j = 0; j < d; j++) {
			s[j] += alpha * p[j];
			r[j] -= alpha * hp[j];
			yv[j] = r[j] / m[j];
		}
		for (uint64_t i = 0; i < n; i++)
			nt->as[i] += alpha * nt->ap[i];
		double ry_new = vdot(r, yv, d), beta = ry_new / ry;
		ry = ry_new;
		sms += 2 * alpha * smp + alpha * alpha * pmp;
		for (uint64_t j = 0; j < d; j++)
			p[j] = yv[j] + beta * p[j];
		smp = beta * (smp + alpha * pmp);
		pmp = ry + beta * beta * pmp;
	}
	return 0;
}

static void record(const struct newton *nt, struct feral_trace *tr, double f, double resid,
                   const double *x, const double *x_star, double xs2, double sec)
{
	if (!tr)
		return;
	struct feral_trace_point pt = {.updates = nt->passes * nt->n, .seconds = sec,
	                               .objective = f, .rel_residual = resid,
	                               .rel_error = x_star ? feral_rel_dist2(x, x_star, nt->d, xs2)
	                                                   : NAN};
	feral_trace_append(tr, &pt);
}

/* The gradient pass at x: objective, residual measure, gradient norm. */
static void grad_at(struct newton *nt, const double *x, double *g, double *diag, double *f,
                    double *resid, double *gn, double bb)
{
	double t0 = feral_now();
	pass(nt, PASS_GRAD, x, g, diag);
	double xx = vdot(x, x, nt->d);
	*f = scal(nt, 0) / (double)nt->n + 0.5 * nt->cfg->l2 * xx;
	double s1 = scal(nt, 1);
	*resid = nt->cfg->loss == FERAL_LOSS_LS ? (bb > 0 ? sqrt(s1 / bb) : sqrt(s1))
	                                        : s1 / (double)nt->n;
	*gn = sqrt(vdot(g, g, nt->d));
	nt->grad_s += feral_now() - t0;
}

/* M = (1 - PRECOND_MIX) eta I + PRECOND_MIX diag H (Jacobi without L2): m
 * holds diag H on entry. */
static void precond_mix(const struct newton *nt, double *m)
{
	const double al = PRECOND_MIX;
	double eta = nt->cfg->l2;
	for (uint64_t j = 0; j < nt->d; j++) {
		if (eta > 0)
			m[j] = (1 - al) * eta + al * m[j];
		if (!(m[j] > 0))
			m[j] = 1;
	}
}

static void newton_free(struct newton *nt)
{
	free(nt->lo);
	free(nt->part);
	free(nt->sc);
	free(nt->z);
	free(nt->dd);
	free(nt->ap);
	free(nt->as);
	free(nt->zt);
}

enum feral_status feral_newton_solve(const struct feral_dataset *ds,
                                     const struct feral_config *cfg, const double *x_star,
                                     double *x, struct feral_result *res,
                                     struct feral_trace *trace, struct feral_error *err)
{
	const struct feral_kernels *kt = feral_kernels_get(err);
	if (!kt)
		return err ? err->status : FERAL_STATUS_UNSUPPORTED;
	struct newton nt = {.ds = ds, .cfg = cfg, .n = ds->n, .d = ds->d};
	nt.dot = kt->dot[ds->layout][ds->precision][FERAL_PRECISION_F64];
	nt.axpy = kt->axpy[ds->layout][ds->precision][FERAL_PRECISION_F64];
	int T = cfg->threads > 0 ? cfg->threads : feral_default_threads();
#ifdef _OPENMP
	if (T > omp_get_thread_limit()) {
		snprintf(res->warning, sizeof res->warning,
		         "the OpenMP thread limit is %d: running %d threads instead of %d",
		         omp_get_thread_limit(), omp_get_thread_limit(), T);
		T = omp_get_thread_limit();
	}
#else
	T = 1;
#endif
	uint64_t tmax = ds->nnz / MIN_NNZ_PER_THREAD;
	if ((uint64_t)T > tmax)
		T = tmax > 1 ? (int)tmax : 1;
	nt.T = T;
	/* BLOCKS_PER_THREAD blocks a thread, fewer where their partial sums
	 * would pass BLOCK_BYTES; 1 block for 1 thread */
	uint64_t bmax = BLOCK_BYTES / (2 * 8 * (ds->d ? ds->d : 1));
	nt.B = T == 1 ? 1 : (int)fmin(fmax((double)T, fmin((double)T * BLOCKS_PER_THREAD, (double)bmax)),
	                              fmax(1.0, (double)ds->n));
	uint64_t n = ds->n, d = ds->d;
	res->threads = T;
	res->kernel = kt->name;
	res->replicas = 1;
	res->shards = 1;
	res->replicas_mode = FERAL_REPLICAS_MACHINE;
	res->model_scale = 1;
	res->step = NAN;
	nt.lo = malloc(((size_t)nt.B + 1) * sizeof *nt.lo);
	nt.part = feral_big_alloc(2 * (size_t)nt.B * d * sizeof *nt.part);
	nt.sc = calloc((size_t)nt.B * 8, sizeof *nt.sc);
	nt.z = malloc(n * sizeof *nt.z);
	nt.dd = malloc(n * sizeof *nt.dd);
	nt.ap = malloc(n * sizeof *nt.ap);
	nt.as = malloc(n * sizeof *nt.as);
	nt.zt = malloc(n * sizeof *nt.zt);
	double *vec = malloc(9 * d * sizeof *vec);
	if (!nt.lo || !nt.part || !nt.sc || !nt.z || !nt.dd || !nt.ap || !nt.as || !nt.zt || !vec) {
		newton_free(&nt);
		free(vec);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                  "out of memory (Newton: %llu rows, 2 x %d x %llu partial sums)",
		                  (unsigned long long)n, nt.B, (unsigned long long)d);
	}
	double *g = vec, *m = vec + d, *s = vec + 2 * d, *r = vec + 3 * d, *p = vec + 4 * d,
	       *hp = vec + 5 * d, *yv = vec + 6 * d, *xt = vec + 7 * d, *zero = vec + 8 * d;
	split_rows(&nt);
	double bb = 0, xs2 = 0;
	for (uint64_t i = 0; i < n; i++)
		bb += ds->y[i] * ds->y[i];
	if (x_star)
		xs2 = vdot(x_star, x_star, d);
	uint64_t max_passes = UINT64_MAX;
	if (cfg->epochs > 0)
		max_passes = (uint64_t)fmax(1, ceil(cfg->epochs));
	if (cfg->max_updates > 0)
		max_passes = fmin((double)max_passes, fmax(1, ceil((double)cfg->max_updates / (double)n)));
	double t0 = feral_now();
	nt.deadline = cfg->seconds > 0 ? t0 + cfg->seconds : INFINITY;
	enum feral_status st = FERAL_OK;
	/* the certified stop's reference: ||grad F(0)||, also from a warm start */
	int x0_zero = 1;
	for (uint64_t j = 0; j < d && x0_zero; j++)
		x0_zero = x[j] == 0;
	double f, resid, gn, gn0;
	if (!x0_zero) {
		memset(zero, 0, d * sizeof *zero);
		grad_at(&nt, zero, g, NULL, &f, &resid, &gn0, bb);
	}
	grad_at(&nt, x, g, m, &f, &resid, &gn, bb);
	if (x0_zero)
		gn0 = gn;
	precond_mix(&nt, m);
	record(&nt, trace, f, resid, x, x_star, xs2, 0);
	double delta = NAN, last_ckpt = 0; /* the first step sets delta */
	int converged = 0, rejects = 0, stalled = 0;
	for (;;) {
		double grel = gn0 > 0 ? gn / gn0 : (gn > 0 ? INFINITY : 0);
		if (cfg->tol > 0) {
			if (x_star ? feral_rel_dist2(x, x_star, d, xs2) <= cfg->tol : grel <= cfg->tol) {
				converged = 1;
				break;
			}
		}
		if (gn == 0)
			break; /* the exact optimum (tol 0 runs to here too) */
		if (nt.passes >= max_passes || feral_now() >= nt.deadline)
			break;
		if (cfg->stop_flag && __atomic_load_n(cfg->stop_flag, __ATOMIC_RELAXED)) {
			st = feral_fail(err, FERAL_STATUS_INTERRUPTED, NULL, 0,
			                "interrupted after %llu passes", (unsigned long long)nt.passes);
			break;
		}
		if (rejects >= MAX_REJECT) {
			stalled = 1;
			break;
		}
		double gmg = 0; /* ||g||_{M^-1}: the first radius, as TRON's ||g|| */
		for (uint64_t j = 0; j < d; j++)
			gmg += g[j] * g[j] / m[j];
		/* least squares: F is its own quadratic model (rho = 1), so no trust
		 * region, and one CG run straight to the tolerance (restarting CG
		 * would throw its Krylov space away) */
		int quad = cfg->loss == FERAL_LOSS_LS;
		if (isnan(delta))
			delta = quad ? INFINITY : sqrt(gmg);
		double xi = quad ? 0.0 : fmin(XI_MAX, sqrt(grel));
		/* at least one Hessian-vector pass, and the rest of the budget */
		uint64_t left = max_passes > nt.passes ? max_passes - nt.passes : 1;
		int hit = cg(&nt, g, m, delta, fmax(xi * gn, 0.5 * cfg->tol * gn0), left, s, r, p, hp, yv);
		double gs = vdot(g, s, d), sr = vdot(s, r, d);
		double prered = -0.5 * (gs - sr);
		double snorm = sqrt(mnorm2(s, s, m, d));
		if (nt.passes == 2 + !x0_zero && delta > snorm && !quad)
			delta = snorm; /* the first radius: not beyond the first step */
		double ft = 0;
		for (uint64_t i = 0; i < n; i++) {
			nt.zt[i] = nt.z[i] + nt.as[i];
			ft += feral_loss_phi(cfg->loss, nt.zt[i], ds->y[i]);
		}
		for (uint64_t j = 0; j < d; j++)
			xt[j] = x[j] + s[j];
		ft = ft / (double)n + 0.5 * cfg->l2 * vdot(xt, xt, d);
		double ared = f - ft;
		/* below the objective's rounding the ratio means nothing: trust
		 * the model (near the optimum the Newton step is accurate) */
		double rho = fabs(prered) <= 1e-14 * fabs(f) && fabs(ared) <= 1e-13 * fabs(f)
		                     ? 1.0
		             : prered > 0 ? ared / prered
		                          : -1.0;
		if (!isfinite(ft))
			rho = -1.0;
		if (rho < ETA1)
			delta = ETA1 * fmin(delta, snorm);
		else if (rho > ETA2 && hit)
			delta = fmin(4 * delta, 1e300);
		if (rho > ETA0 && prered > 0) {
			memcpy(x, xt, d * sizeof *x);
			rejects = 0;
			grad_at(&nt, x, g, m, &f, &resid, &gn, bb);
			precond_mix(&nt, m);
			double now = feral_now() - t0;
			record(&nt, trace, f, resid, x, x_star, xs2, now);
			if (cfg->checkpoint && cfg->checkpoint_every > 0 &&
			    now - last_ckpt >= cfg->checkpoint_every) {
				if (cfg->checkpoint(cfg->checkpoint_arg, x, d, nt.passes * n) != 0 &&
				    !res->warning[0])
					snprintf(res->warning, sizeof res->warning,
					         "writing a checkpoint failed");
				last_ckpt = now;
			}
			if (cfg->progress) {
				struct feral_trace_point pt = {.updates = nt.passes * n, .seconds = now,
				                               .objective = f, .rel_residual = resid,
				                               .rel_error = NAN};
				double fr = max_passes < UINT64_MAX ? (double)nt.passes / (double)max_passes
				                                    : 0;
				if (cfg->seconds > 0)
					fr = fmax(fr, now / cfg->seconds);
				cfg->progress(cfg->progress_arg, &pt, fmin(fr, 1.0));
			}
		} else {
			rejects++;
			if (!(delta > 0))
				rejects = MAX_REJECT;
		}
	}
	double wall = feral_now() - t0;
	res->updates = nt.passes * n;
	res->seconds = wall;
	res->updates_per_s = wall > 0 ? (double)res->updates / wall : 0;
	res->objective = f;
	res->rel_residual = resid;
	if (x_star) {
		double e = 0;
		for (uint64_t j = 0; j < d; j++)
			e += (x[j] - x_star[j]) * (x[j] - x_star[j]);
		res->rel_error = xs2 > 0 ? e / xs2 : e;
	}
	res->converged = converged;
	res->grad_norm_rel = cfg->tol > 0 ? (gn0 > 0 ? gn / gn0 : (gn > 0 ? INFINITY : 0)) : NAN;
	res->grad_seconds = nt.grad_s;
	if (stalled && !res->warning[0])
		snprintf(res->warning, sizeof res->warning,
		         "Newton stalled: %d steps in a row rejected at relative gradient norm %.3g "
		         "(rounding limits the objective's decrease)",
		         MAX_REJECT, res->grad_norm_rel);
	newton_free(&nt);
	free(vec);
	return st;
}
