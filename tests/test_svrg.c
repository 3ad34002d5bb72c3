/* SVRG and the certified stop: the variance-reduced direction is unbiased
 * under importance sampling (dense and CSR), SVRG solves noisy least squares
 * to LAPACK's solution and L2 logistic regression to Newton's optimum, a
 * stalled run is reported as such (library and CLI), one thread with a
 * fixed seed is bit-for-bit reproducible, the trace point at a snapshot
 * (evaluated in the gradient pass) is the snapshot's, at 1 and 2 workers. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>

#include "internal.h"
#include "engine.h"
#include "shell.h"

TestSuite(svrg, .timeout = SHELL_TIMEOUT(120));

/* Named bands */
#define UNBIASED_SE 4.0     /* mean of the draws vs the full gradient, in standard errors */
#define LS_SERIAL 1e-10     /* ||x-x_LS||^2/||x_LS||^2, one thread */
#define LS_ASYNC 1e-8       /* the same, 2 and 4 workers (Hogwild! races, replicas) */
#define LOGISTIC_OBJ 1e-6   /* relative objective gap to Newton's optimum */
#define LS_EPOCHS 60.0

#include "solve_ok.h"

static struct feral_dataset *gen(enum feral_gen_kind kind, uint64_t n, uint64_t d, double noise,
                                 uint64_t seed)
{
	return gen_problem(kind, n, d, noise, seed, 0);
}


/* The full gradient of F at x, computed here element by element (not by
 * the library's kernels). */
static void full_gradient(const struct feral_dataset *ds, const struct feral_config *cfg,
                          const double *x, double *g)
{
	uint64_t n = ds->n, d = ds->d;
	for (uint64_t j = 0; j < d; j++)
		g[j] = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * d;
		uint64_t e = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] : b + d;
		double t = 0;
		for (uint64_t k = b; k < e; k++)
			t += feral_dataset_value(ds, i, k) * x[ds->layout == FERAL_LAYOUT_CSR ? ds->indices[k] : k - b];
		double c = feral_loss_dphi(cfg->loss, t, ds->y[i]);
		for (uint64_t k = b; k < e; k++)
			g[ds->layout == FERAL_LAYOUT_CSR ? ds->indices[k] : k - b] +=
			        c * feral_dataset_value(ds, i, k);
	}
	for (uint64_t j = 0; j < d; j++)
		g[j] = g[j] / (double)n + cfg->l2 * x[j];
}

/* A context holding one f64 model at xsnap, with SVRG's state taken there
 * by the between-epochs hook (one worker, outside a parallel region). */
struct fixture {
	struct feral_ctx c;
	double *L, *p, *w, *good;
	void *models[1];
};

static void fixture_make(struct fixture *f, const struct feral_dataset *ds,
                         const struct feral_config *cfg, double *xsnap)
{
	memset(f, 0, sizeof *f);
	uint64_t n = ds->n;
	f->L = malloc(n * sizeof *f->L);
	f->p = malloc(n * sizeof *f->p);
	f->w = malloc(n * sizeof *f->w);
	f->good = malloc(ds->d * sizeof *f->good);
	feral_objective_row_constants(ds, cfg, f->L);
	struct feral_error e = {0};
	cr_assert_eq(feral_sampling_probs(f->L, n, cfg->lambda, f->p, &e), FERAL_OK, "%s", e.msg);
	for (uint64_t i = 0; i < n; i++)
		f->w[i] = 1.0 / ((double)n * f->p[i]);
	struct feral_ctx *c = &f->c;
	c->ds = ds;
	c->cfg = cfg;
	c->p = f->p;
	c->wstep = f->w;
	c->L = f->L;
	c->mp = FERAL_PRECISION_F64;
	c->scale = 1;
	c->plan.nthreads = 1;
	c->plan.nrep = 1;
	f->models[0] = xsnap;
	c->models = f->models;
	c->good = f->good;
	c->gnorm0 = NAN;
	c->grad_rel = NAN;
	cr_assert_eq(feral_svrg_create(c, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(feral_svrg_epoch(c, 0), FERAL_OK);
}

/* Row i's record as the engine builds it (engine.c, make_records). */
static struct feral_rowrec rec_of(const struct fixture *f, uint64_t i)
{
	const struct feral_dataset *ds = f->c.ds;
	return (struct feral_rowrec){ds->y[i], f->w[i], ds->row_sq_norm[i],
	                             ds->row_scale ? ds->row_scale[i] : 1.0f, 0};
}

static void fixture_free(struct fixture *f)
{
	feral_svrg_free(&f->c);
	free(f->L);
	free(f->p);
	free(f->w);
	free(f->good);
}

/* Draw rows with p_i (inverse CDF, independent of the engine's alias
 * tables), form v = -g a_i + dense part on the row's support (CSR) or
 * everywhere (dense) exactly as the engine does, and compare the mean with
 * the full gradient at x coordinate by coordinate. */
static void unbiased_case(enum feral_layout layout, enum feral_loss loss)
{
	struct feral_dataset *ds =
	        layout == FERAL_LAYOUT_CSR ? gen(FERAL_GEN_SPARSE, 300, 30, -1, 4)
	                                   : gen(FERAL_GEN_GAUSSIAN, 200, 12, 0.3, 4);
	uint64_t n = ds->n, d = ds->d;
	if (loss == FERAL_LOSS_LOGISTIC)
		for (uint64_t i = 0; i < n; i++)
			ds->y[i] = ds->y[i] >= 0 ? 1 : -1;
	struct feral_config cfg;
	feral_config_init(&cfg);
	cfg.loss = loss;
	cfg.method = FERAL_METHOD_SVRG;
	cfg.l2 = 0.05;
	cfg.lambda = 0.3;
	cfg.tol = 0;
	struct feral_rng rng;
	feral_rng_seed(&rng, 11, 1);
	double *xsnap = malloc(d * sizeof *xsnap), *x = malloc(d * sizeof *x);
	for (uint64_t j = 0; j < d; j++) {
		xsnap[j] = feral_rng_normal(&rng);
		x[j] = xsnap[j] + 0.5 * feral_rng_normal(&rng);
	}
	struct fixture f;
	fixture_make(&f, ds, &cfg, xsnap);
	const struct feral_svrg *s = f.c.method_state;
	/* the hook's g_bar + eta x~ is the full gradient at x~ */
	double *g = malloc(d * sizeof *g), *vs = calloc(d, sizeof *vs), *v2 = calloc(d, sizeof *v2);
	full_gradient(ds, &cfg, xsnap, g);
	for (uint64_t j = 0; j < d; j++)
		cr_assert(fabs(s->gbar[j] + cfg.l2 * xsnap[j] - g[j]) <= 1e-10 * (1 + fabs(g[j])),
		          "g_bar at %llu: %.17g vs %.17g", (unsigned long long)j,
		          s->gbar[j] + cfg.l2 * xsnap[j], g[j]);
	full_gradient(ds, &cfg, x, g);
	double *cdf = malloc(n * sizeof *cdf), acc = 0;
	for (uint64_t i = 0; i < n; i++)
		cdf[i] = acc += f.p[i];
	const uint64_t K = 400000;
	double *vk = malloc(d * sizeof *vk);
	for (uint64_t k = 0; k < K; k++) {
		double u = feral_rng_uniform(&rng) * acc;
		uint64_t lo = 0, hi = n - 1;
		while (lo < hi) {
			uint64_t mid = (lo + hi) / 2;
			if (cdf[mid] > u)
				hi = mid;
			else
				lo = mid + 1;
		}
		uint64_t i = lo;
		double t = feral_row_dot(ds, i, x), gi;
		struct feral_rowrec r = rec_of(&f, i);
		cr_assert(feral_method_step(FERAL_METHOD_SVRG, &f.c, &r, s->cval, i, t, 1.0, &gi));
		memset(vk, 0, d * sizeof *vk);
		uint64_t b = layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * d;
		uint64_t e = layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] : b + d;
		for (uint64_t q = b; q < e; q++) {
			uint64_t j = layout == FERAL_LAYOUT_CSR ? ds->indices[q] : q - b;
			vk[j] = -gi * feral_dataset_value(ds, i, q) +
			        feral_svrg_dense_coef(s, cfg.l2, j, x[j]);
		}
		for (uint64_t j = 0; j < d; j++) {
			vs[j] += vk[j];
			v2[j] += vk[j] * vk[j];
		}
	}
	int checked = 0;
	for (uint64_t j = 0; j < d; j++) {
		double mean = vs[j] / (double)K;
		double var = fmax(v2[j] / (double)K - mean * mean, 0);
		double se = sqrt(var / (double)K);
		if (f.c.ds->layout == FERAL_LAYOUT_CSR && s->invp[j] == 0)
			continue; /* a column no row touches */
		checked++;
		cr_assert(fabs(mean - g[j]) <= UNBIASED_SE * se + 1e-12,
		          "coordinate %llu: mean %.10g vs gradient %.10g (%.2f standard errors)",
		          (unsigned long long)j, mean, g[j], fabs(mean - g[j]) / se);
	}
	cr_assert(checked >= (int)d / 2, "only %d columns checked", checked);
	if (layout == FERAL_LAYOUT_DENSE) {
		/* at the snapshot every draw gives the full gradient: no variance */
		full_gradient(ds, &cfg, xsnap, g);
		for (uint64_t i = 0; i < n; i += 17) {
			double gi;
			struct feral_rowrec r = rec_of(&f, i);
			feral_method_step(FERAL_METHOD_SVRG, &f.c, &r, s->cval, i,
			                  feral_row_dot(ds, i, xsnap), 1.0, &gi);
			for (uint64_t j = 0; j < d; j++) {
				double vj = -gi * feral_dataset_value(ds, i, i * d + j) +
				            feral_svrg_dense_coef(s, cfg.l2, j, xsnap[j]);
				cr_assert(fabs(vj - g[j]) <= 1e-9 * (1 + fabs(g[j])), "row %llu: %g vs %g",
				          (unsigned long long)i, vj, g[j]);
			}
		}
	}
	fixture_free(&f);
	free(cdf);
	free(vk);
	free(g);
	free(vs);
	free(v2);
	free(x);
	free(xsnap);
	feral_dataset_destroy(&ds);
}

Test(svrg, test_direction_is_unbiased_dense_ls) { unbiased_case(FERAL_LAYOUT_DENSE, FERAL_LOSS_LS); }
Test(svrg, test_direction_is_unbiased_csr_ls) { unbiased_case(FERAL_LAYOUT_CSR, FERAL_LOSS_LS); }
Test(svrg, test_direction_is_unbiased_dense_logistic)
{
	unbiased_case(FERAL_LAYOUT_DENSE, FERAL_LOSS_LOGISTIC);
}
Test(svrg, test_direction_is_unbiased_csr_logistic)
{
	unbiased_case(FERAL_LAYOUT_CSR, FERAL_LOSS_LOGISTIC);
}

static void svrg_config(struct feral_config *c, int threads, enum feral_replicas rep)
{
	feral_config_init(c);
	c->method = FERAL_METHOD_SVRG;
	c->threads = threads;
	c->replicas = rep;
	c->bind = FERAL_BIND_NONE;
	c->tol = 0;
	c->epochs = LS_EPOCHS;
}

/* Noisy least squares, far from consistent: plain SGD stops at its horizon,
 * SVRG goes on to x_LS. */
static void ls_case(int threads, enum feral_replicas rep, enum feral_layout layout, double band)
{
	struct feral_dataset *ds = layout == FERAL_LAYOUT_CSR
	                                   ? gen(FERAL_GEN_SPARSE, 3000, 40, 0.5, 7)
	                                   : gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.5, 7);
	uint64_t d = ds->d;
	double *xls = malloc(d * sizeof *xls), *x = calloc(d, sizeof *x);
	struct feral_error e = {0};
	cr_assert_eq(feral_lstsq(ds, xls, 0, &e), FERAL_OK, "%s", e.msg);
	struct feral_config c;
	svrg_config(&c, threads, rep);
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	double err = rel_err2(x, xls, d);
	cr_assert(err <= band, "%d threads, replicas %d, layout %d: ||x-x_LS||^2/||x_LS||^2 = %.3g > %g",
	          threads, (int)rep, (int)layout, err, band);
	cr_assert(!r.converged, "tol 0 never converges");
	cr_assert(isnan(r.grad_norm_rel), "tol 0: no gradient norm (%g)", r.grad_norm_rel);
	free(x);
	free(xls);
	feral_dataset_destroy(&ds);
}

Test(svrg, test_ls_reaches_lstsq_1_thread) { ls_case(1, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE, LS_SERIAL); }
Test(svrg, test_ls_reaches_lstsq_1_thread_sparse) { ls_case(1, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_CSR, LS_SERIAL); }
Test(svrg, test_ls_band_2_threads_machine) { ls_case(2, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE, LS_ASYNC); }
Test(svrg, test_ls_band_4_threads_machine) { ls_case(4, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE, LS_ASYNC); }
Test(svrg, test_ls_band_2_threads_core) { ls_case(2, FERAL_REPLICAS_CORE, FERAL_LAYOUT_DENSE, LS_ASYNC); }
Test(svrg, test_ls_band_4_threads_core) { ls_case(4, FERAL_REPLICAS_CORE, FERAL_LAYOUT_DENSE, LS_ASYNC); }
Test(svrg, test_ls_band_4_threads_node) { ls_case(4, FERAL_REPLICAS_NODE, FERAL_LAYOUT_DENSE, LS_ASYNC); }
Test(svrg, test_ls_band_4_threads_sparse) { ls_case(4, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_CSR, LS_ASYNC); }

/* The certified stop: without x* the solve stops when ||grad F|| <= tol
 * ||grad F(x0)||, says so, and the returned point meets it. */
Test(svrg, test_certified_stop_meets_its_tolerance)
{
	for (int m = 0; m < 2; m++) { /* SVRG (at its snapshots), SGD (at trace points) */
		/* SVRG on a noisy system; SGD on a consistent one, where its
		 * constant step converges too */
		struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, m == 0 ? 0.5 : 0, 9);
		uint64_t d = ds->d;
		double *x = calloc(d, sizeof *x), *x0 = calloc(d, sizeof *x0);
		struct feral_config c;
		svrg_config(&c, 1, FERAL_REPLICAS_MACHINE);
		c.tol = m == 0 ? 1e-8 : 1e-5;
		c.method = m == 0 ? FERAL_METHOD_SVRG : FERAL_METHOD_SGD;
		c.epochs = 200;
		struct feral_result r;
		SOLVE_OK(ds, &c, NULL, x, &r, NULL);
		cr_assert(r.converged, "method %d: not converged: gradient %g", m, r.grad_norm_rel);
		double g = feral_grad_norm(ds, &c, x) / feral_grad_norm(ds, &c, x0);
		cr_assert(g <= c.tol, "method %d: returned ||grad||/||grad0|| = %g > tol %g", m, g, c.tol);
		cr_assert(fabs(r.grad_norm_rel - g) <= 1e-6 * g, "method %d: reported %g, measured %g",
		          m, r.grad_norm_rel, g);
		cr_assert(r.grad_seconds > 0, "method %d: gradient time not reported", m);
		free(x);
		free(x0);
		feral_dataset_destroy(&ds);
	}
}

/* A budget that runs out first: converged false, the gradient norm reached. */
Test(svrg, test_stalled_run_is_not_converged)
{
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.5, 9);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	svrg_config(&c, 1, FERAL_REPLICAS_MACHINE);
	c.tol = 1e-6;
	c.epochs = 0;
	c.max_updates = 100;
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	cr_assert(!r.converged);
	cr_assert(isfinite(r.grad_norm_rel) && r.grad_norm_rel > c.tol, "gradient %g",
	          r.grad_norm_rel);
	free(x);
	feral_dataset_destroy(&ds);
}

/* L2 logistic regression: the optimum by Newton's method (d = 10, LAPACK
 * Cholesky), then SVRG to 1e-6 of its objective. */
Test(svrg, test_logistic_reaches_newton_optimum)
{
	struct feral_dataset *ds = gen(FERAL_GEN_LOGISTIC, 1500, 10, -1, 5);
	uint64_t n = ds->n, d = ds->d;
	struct feral_config c;
	svrg_config(&c, 1, FERAL_REPLICAS_MACHINE);
	c.loss = FERAL_LOSS_LOGISTIC;
	c.l2 = 1.0 / (double)n;
	c.tol = 1e-9;
	c.epochs = 200;
	double *w = calloc(d, sizeof *w), *g = malloc(d * sizeof *g), *H = malloc(d * d * sizeof *H);
	for (int it = 0; it < 50; it++) {
		full_gradient(ds, &c, w, g);
		memset(H, 0, d * d * sizeof *H);
		for (uint64_t i = 0; i < n; i++) {
			double t = feral_row_dot(ds, i, w), s = 1 / (1 + exp(-t)), h = s * (1 - s);
			for (uint64_t a = 0; a < d; a++)
				for (uint64_t b = 0; b < d; b++)
					H[a * d + b] += h * feral_dataset_value(ds, i, i * d + a) *
					                feral_dataset_value(ds, i, i * d + b) / (double)n;
		}
		for (uint64_t a = 0; a < d; a++)
			H[a * d + a] += c.l2;
		cr_assert_eq(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, 1, H, (lapack_int)d, g, 1), 0);
		for (uint64_t j = 0; j < d; j++)
			w[j] -= g[j];
	}
	double fstar = feral_objective(ds, &c, w);
	double *x = calloc(d, sizeof *x);
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	double f = feral_objective(ds, &c, x);
	cr_assert(r.converged, "not converged: gradient %g", r.grad_norm_rel);
	cr_assert(f >= fstar - 1e-12 && (f - fstar) / fstar <= LOGISTIC_OBJ,
	          "objective %.12g vs Newton %.12g (gap %.3g)", f, fstar, (f - fstar) / fstar);
	free(x);
	free(w);
	free(g);
	free(H);
	feral_dataset_destroy(&ds);
}

Test(svrg, test_one_thread_fixed_seed_is_bit_reproducible)
{
	struct feral_dataset *ds = gen(FERAL_GEN_SPARSE, 3000, 40, 0.5, 3);
	uint64_t d = ds->d;
	double *a = calloc(d, sizeof *a), *b = calloc(d, sizeof *b);
	struct feral_config c;
	svrg_config(&c, 1, FERAL_REPLICAS_MACHINE);
	c.epochs = 5;
	c.l2 = 0.01;
	c.tol = 1e-12;
	c.trace_every = 500;
	struct feral_result ra, rb;
	struct feral_trace ta = {0}, tb = {0};
	SOLVE_OK(ds, &c, NULL, a, &ra, &ta);
	SOLVE_OK(ds, &c, NULL, b, &rb, &tb);
	cr_assert_eq(memcmp(a, b, d * sizeof *a), 0, "iterates differ");
	cr_assert_eq(ta.len, tb.len);
	for (size_t k = 0; k < ta.len; k++)
		cr_assert(ta.pts[k].objective == tb.pts[k].objective, "trace point %zu", k);
	cr_assert(ra.grad_norm_rel == rb.grad_norm_rel);
	feral_trace_free(&ta);
	feral_trace_free(&tb);
	free(a);
	free(b);
	feral_dataset_destroy(&ds);
}

/* The snapshot's trace point (evaluated by the workers in the gradient
 * pass): at the end of every epoch, and the objective of the snapshot
 * itself, which the checkpoint hook receives at the same point. */
struct snap_seen {
	const struct feral_dataset *ds;
	const struct feral_config *cfg;
	uint64_t updates[16];
	double obj[16];
	int k;
};

static int snap_checkpoint(void *arg, const double *x, uint64_t d, uint64_t updates)
{
	(void)d;
	struct snap_seen *s = arg;
	if (s->k < 16) {
		s->updates[s->k] = updates;
		s->obj[s->k++] = feral_objective(s->ds, s->cfg, x);
	}
	return 0;
}

Test(svrg, test_snapshot_trace_point_is_the_snapshot)
{
	struct feral_dataset *ds = gen(FERAL_GEN_LOGISTIC, 4000, 16, 0.0, 5); /* n <= 16384: every row */
	uint64_t n = ds->n, d = ds->d;
	for (int threads = 1; threads <= 2; threads++) {
		double *x = calloc(d, sizeof *x);
		struct feral_config c;
		svrg_config(&c, threads, FERAL_REPLICAS_CORE);
		c.loss = FERAL_LOSS_LOGISTIC;
		c.l2 = 1e-3;
		c.epochs = 5;
		struct snap_seen seen = {ds, &c, {0}, {0}, 0};
		c.checkpoint = snap_checkpoint;
		c.checkpoint_arg = &seen;
		c.checkpoint_every = 1e-12; /* every trace point */
		struct feral_result r;
		struct feral_trace tr = {0};
		SOLVE_OK(ds, &c, NULL, x, &r, &tr);
		/* x0, epochs 1..4 at their snapshots, the last round's, the final */
		cr_assert_eq(tr.len, 7, "%d threads: %zu points", threads, tr.len);
		cr_assert_eq(seen.k, 5, "%d threads: %d checkpoints", threads, seen.k);
		for (int k = 0; k < 5; k++) {
			const struct feral_trace_point *pt = &tr.pts[k + 1];
			cr_assert_eq(pt->updates, (uint64_t)(k + 1) * n, "%d threads, point %d: %llu",
			             threads, k, (unsigned long long)pt->updates);
			cr_assert_eq(seen.updates[k], pt->updates);
			cr_assert(fabs(pt->objective - seen.obj[k]) <= 1e-12 * seen.obj[k],
			          "%d threads, point %d: %.17g vs %.17g", threads, k, pt->objective,
			          seen.obj[k]);
		}
		feral_trace_free(&tr);
		free(x);
	}
	feral_dataset_destroy(&ds);
}

Test(svrg, test_svrg_rejects_hinge_and_fixed_point_models)
{
	struct feral_config c;
	svrg_config(&c, 1, FERAL_REPLICAS_MACHINE);
	struct feral_error e = {0};
	c.loss = FERAL_LOSS_HINGE;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "method") && strstr(e.msg, "loss"), "%s", e.msg);
	c.loss = FERAL_LOSS_LS;
	c.model_precision = FERAL_PRECISION_I8;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "method") && strstr(e.msg, "model_precision"), "%s", e.msg);
}

static void setup(void)
{
	tmpdir_make("svrg");
}

/* The CLI: svrg by default for tall dense least squares (n >= 128 d; newton
 * otherwise, test_newton.c), a warning and converged
 * false when the budget runs out first, a clear error for svrg + hinge. */
Test(svrg, test_cli_default_warning_and_errors, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian -o g.npy --n 3000 --d 20 --noise 0.5"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --threads 1 --json"), 0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"svrg\"") && strstr(out, "\"converged\":true"), "%s",
	          out);
	cr_assert(json_num("grad_norm_rel") <= 1e-6, "%s", out);
	cr_assert_eq(shell_feral(1, "solve g.npy g.b.npy --threads 1 --updates 100 --json"), 0, "%s", out);
	cr_assert(strstr(out, "\"converged\":false"), "%s", out);
	cr_assert(strstr(out, "warning: the budget ran out before the tolerance: relative gradient "
	                      "norm"),
	          "no warning: %s", out);
	cr_assert(strstr(out, "asked --tol 1e-06"), "%s", out);
	cr_assert_eq(shell_feral(1, "train g.npy --loss hinge --method svrg"), 2, "%s", out);
	cr_assert(strstr(out, "--method svrg") && strstr(out, "hinge"), "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --threads 1 --method sgd --epochs 2 --json"), 0,
	             "%s", out);
	cr_assert(strstr(out, "\"method\":\"sgd\""), "%s", out);
}
