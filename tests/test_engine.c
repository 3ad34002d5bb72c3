/* The solver: accuracy against LAPACK, Kaczmarz vs weighted SGD on
 * inconsistent systems, reproducibility, asynchronous bands, faults. */
#define _GNU_SOURCE /* pthread_getaffinity_np, CPU_EQUAL */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal.h"

TestSuite(engine, .timeout = 120);

/* Named tolerance bands */
#define REL_ERR_SOLVE 1e-12 /* ||x-x*||^2/||x*||^2 for "1e-6 relative error" */
#define REL_ERR_ASYNC 1e-4  /* band of the asynchronous tests */
#define ASYNC_EPOCHS 40.0   /* budget of the asynchronous tests */
#define RIDGE_BAND 5e-3     /* decaying-step ridge vs the exact solution */

#include "solve_ok.h"

static struct feral_dataset *gen(enum feral_gen_kind kind, uint64_t n, uint64_t d, double noise,
                                 uint64_t seed, double **xs)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, kind);
	o.n = n;
	o.d = d;
	if (noise >= 0)
		o.noise = noise;
	o.seed = seed;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_gen(&o, &ds, xs, &e), FERAL_OK, "gen: %s", e.msg);
	return ds;
}

/* Least-squares solution of min ||diag(w) (A x - b)|| by LAPACK dgels. */
static void lapack_ls(const struct feral_dataset *ds, const double *rw, double *x)
{
	uint64_t n = ds->n, d = ds->d;
	double *A = calloc(n * d, sizeof *A), *b = malloc(n * sizeof *b);
	for (uint64_t i = 0; i < n; i++) {
		double w = rw ? rw[i] : 1.0;
		if (ds->layout == FERAL_LAYOUT_CSR) {
			for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
				A[i * d + ds->indices[k]] = w * feral_dataset_value(ds, i, k);
		} else {
			for (uint64_t j = 0; j < d; j++)
				A[i * d + j] = w * feral_dataset_value(ds, i, i * d + j);
		}
		b[i] = w * ds->y[i];
	}
	lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)n, (lapack_int)d, 1, A,
	                                (lapack_int)d, b, 1);
	cr_assert_eq(info, 0, "dgels info %d", (int)info);
	memcpy(x, b, d * sizeof *x);
	free(A);
	free(b);
}

Test(engine, test_solve_reaches_1e6_under_each_sampling_mode)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 20000, 200, 0.0, 3, &xs);
	double *ref = malloc(ds->d * sizeof *ref), *x = calloc(ds->d, sizeof *x);
	lapack_ls(ds, NULL, ref);
	cr_assert_lt(rel_err2(ref, xs, ds->d), 1e-12, "LAPACK disagrees with the planted x*");
	const double lambdas[] = {0.0, 0.5, 1.0};
	for (int k = 0; k < 3; k++) {
		struct feral_config c;
		feral_config_init(&c);
		c.lambda = lambdas[k];
		c.tol = 1e-13;
		c.epochs = 30;
		memset(x, 0, ds->d * sizeof *x);
		struct feral_result r;
		struct feral_error e = {0};
		cr_assert_eq(feral_solve(ds, &c, ref, x, &r, NULL, &e), FERAL_OK, "%s", e.msg);
		double err = rel_err2(x, ref, ds->d);
		cr_assert_lt(err, REL_ERR_SOLVE,
		             "lambda %g: ||x-x_LS||^2/||x_LS||^2 = %g after %llu updates", lambdas[k],
		             err, (unsigned long long)r.updates);
	}
	free(ref);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_kaczmarz_uniform_solves_the_row_weighted_problem)
{
	/* Inconsistent system with very unequal row norms: the classic normalised
	 * projection with uniform rows converges to argmin sum (a_i x-b_i)^2/||a_i||^2,
	 * weighted SGD (any lambda, decaying step) to x_LS (docs/math.md). */
	enum { N = 400, D = 5 };
	struct feral_dataset *ds = NULL;
	cr_assert_eq(feral_dataset_create(N, D, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds, NULL),
	             FERAL_OK);
	struct feral_rng g;
	feral_rng_seed(&g, 21, 0);
	float *v = ds->values;
	for (int i = 0; i < N; i++) {
		double sc = (i % 4 == 0) ? 10.0 : 0.3;
		for (int j = 0; j < D; j++)
			v[i * D + j] = (float)(sc * feral_rng_normal(&g));
		/* large rows agree with x1 = e_0, small rows with x2 = e_1: x_LS sits
		 * near x1, the row-weighted solution x_W between the two */
		ds->y[i] = (i % 4 == 0 ? v[i * D] : v[i * D + 1]) + 0.01 * feral_rng_normal(&g);
	}
	feral_dataset_update_norms(ds);
	double xls[D], xw[D], rw[N], x[D];
	for (int i = 0; i < N; i++)
		rw[i] = 1.0 / sqrt(ds->row_sq_norm[i]);
	lapack_ls(ds, NULL, xls);
	lapack_ls(ds, rw, xw);
	double gap = rel_err2(xw, xls, D);
	cr_assert_gt(gap, 0.1, "test problem too easy: x_W and x_LS differ by only %g", gap);

	struct feral_config c;
	feral_config_init(&c);
	c.method = FERAL_METHOD_KACZMARZ;
	c.lambda = 1.0;
	c.relax = 0.01;
	c.epochs = 1000;
	c.tol = 0;
	memset(x, 0, sizeof x);
	SOLVE_OK(ds, &c, NULL, x, NULL, NULL);
	double to_w = rel_err2(x, xw, D), to_ls = rel_err2(x, xls, D);
	cr_assert_lt(to_w, gap / 20, "kaczmarz/uniform: distance to x_W %g, x_W-x_LS gap %g", to_w, gap);
	cr_assert_gt(to_ls, gap / 4, "kaczmarz/uniform ended near x_LS (%g)", to_ls);

	feral_config_init(&c);
	c.lambda = 1.0;
	c.step_auto = 0;
	c.step = 0.05;
	c.step_decay = 0.5;
	c.epochs = 400;
	c.tol = 0;
	memset(x, 0, sizeof x);
	SOLVE_OK(ds, &c, NULL, x, NULL, NULL);
	to_ls = rel_err2(x, xls, D);
	cr_assert_lt(to_ls, gap / 20, "weighted SGD/uniform: distance to x_LS %g, gap %g", to_ls, gap);
	feral_dataset_destroy(&ds);
}

Test(engine, test_weighted_sgd_with_unit_step_is_kaczmarz)
{
	/* lambda = 0, relative step 1, least squares: the same iterates as the
	 * Kaczmarz projection with weighted rows and relax 1 (same seed) */
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 500, 20, 0.5, 8, &xs);
	double x1[20] = {0}, x2[20] = {0};
	struct feral_config c;
	feral_config_init(&c);
	c.lambda = 0;
	c.step_auto = 0;
	c.step = 1.0;
	c.max_updates = 3000;
	c.epochs = 0;
	c.tol = 0;
	SOLVE_OK(ds, &c, NULL, x1, NULL, NULL);
	c.method = FERAL_METHOD_KACZMARZ;
	c.relax = 1.0;
	SOLVE_OK(ds, &c, NULL, x2, NULL, NULL);
	for (int j = 0; j < 20; j++)
		cr_assert_float_eq(x1[j], x2[j], 1e-9 * (1 + fabs(x2[j])), "x[%d]: sgd %g, kaczmarz %g",
		                   j, x1[j], x2[j]);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_one_thread_fixed_seed_is_bit_reproducible)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 3000, 40, 0.1, 4, &xs);
	double a[40] = {0}, b[40] = {0}, c2[40] = {0};
	struct feral_config c;
	feral_config_init(&c);
	c.epochs = 3;
	c.tol = 0;
	c.trace_every = 500;
	struct feral_trace ta = {0}, tb = {0};
	SOLVE_OK(ds, &c, xs, a, NULL, &ta);
	SOLVE_OK(ds, &c, xs, b, NULL, &tb);
	cr_assert_eq(memcmp(a, b, sizeof a), 0, "two runs with seed %llu differ",
	             (unsigned long long)c.seed);
	cr_assert_eq(ta.len, tb.len);
	for (size_t k = 0; k < ta.len; k++) {
		cr_assert_eq(ta.pts[k].updates, tb.pts[k].updates);
		cr_assert_eq(memcmp(&ta.pts[k].objective, &tb.pts[k].objective, sizeof(double)), 0,
		             "trace point %zu differs", k);
	}
	c.seed = 2;
	SOLVE_OK(ds, &c, xs, c2, NULL, NULL);
	cr_assert_neq(memcmp(a, c2, sizeof a), 0, "a different seed gave the same iterate");
	feral_trace_free(&ta);
	feral_trace_free(&tb);
	free(xs);
	feral_dataset_destroy(&ds);
}

/* A converged asynchronous solve: the solver says it met the tolerance, and
 * the iterate it returned is checked against x* here, not through the
 * solver's own rel_error. */
#define ASSERT_RETURNED_IN_BAND(r, x, xs, d, ...)                                          \
	do {                                                                              \
		cr_assert((r).converged, __VA_ARGS__);                                    \
		double e2_ = rel_err2(x, xs, d);                                          \
		cr_assert_lt(e2_, REL_ERR_ASYNC, "returned iterate: relative error %g", e2_); \
	} while (0)

static void async_band_every(int threads, enum feral_replicas rep, enum feral_layout layout,
                             uint64_t average_every)
{
	double *xs = NULL;
	struct feral_dataset *ds =
		layout == FERAL_LAYOUT_CSR ? gen(FERAL_GEN_SPARSE, 20000, 200, 0.0, 5, &xs)
		                           : gen(FERAL_GEN_GAUSSIAN, 4000, 50, 0.0, 5, &xs);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	feral_config_init(&c);
	c.threads = threads;
	c.replicas = rep;
	c.average_every = average_every;
	c.bind = FERAL_BIND_NONE;
	c.tol = REL_ERR_ASYNC;
	c.epochs = ASYNC_EPOCHS;
	c.trace_every = ds->n / 4;
	struct feral_result r;
	struct feral_error e = {0};
	cr_assert_eq(feral_solve(ds, &c, xs, x, &r, NULL, &e), FERAL_OK, "%s", e.msg);
	ASSERT_RETURNED_IN_BAND(r, x, xs, ds->d,
	                        "%d threads, replicas %d, %s: not converged (relative error %g "
	                        "after %llu updates)",
	                        threads, (int)rep, layout == FERAL_LAYOUT_CSR ? "sparse" : "dense",
	                        r.rel_error, (unsigned long long)r.updates);
	cr_assert_eq(r.threads, threads);
	cr_assert_neq(r.replicas_mode, FERAL_REPLICAS_AUTO, "the mode used is reported resolved");
	if (rep != FERAL_REPLICAS_AUTO)
		cr_assert_eq(r.replicas_mode, rep);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

static void async_band(int threads, enum feral_replicas rep, enum feral_layout layout)
{
	async_band_every(threads, rep, layout, 500);
}

Test(engine, test_async_band_1_thread) { async_band(1, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_2_threads_machine) { async_band(2, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_machine) { async_band(4, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_2_threads_node) { async_band(2, FERAL_REPLICAS_NODE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_node) { async_band(4, FERAL_REPLICAS_NODE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_2_threads_core) { async_band(2, FERAL_REPLICAS_CORE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_core) { async_band(4, FERAL_REPLICAS_CORE, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_sparse) { async_band(4, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_CSR); }
Test(engine, test_async_band_1_thread_sparse) { async_band(1, FERAL_REPLICAS_MACHINE, FERAL_LAYOUT_CSR); }
Test(engine, test_async_band_2_threads_auto) { async_band(2, FERAL_REPLICAS_AUTO, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_auto) { async_band(4, FERAL_REPLICAS_AUTO, FERAL_LAYOUT_DENSE); }
Test(engine, test_async_band_4_threads_auto_sparse) { async_band(4, FERAL_REPLICAS_AUTO, FERAL_LAYOUT_CSR); }
/* the library default: auto replicas, averaged only at the end */
Test(engine, test_async_band_4_threads_auto_average_at_end)
{
	async_band_every(4, FERAL_REPLICAS_AUTO, FERAL_LAYOUT_DENSE, 0);
}

/* A run that ends on its budget with a returned x inside the tolerance is
 * certified by the final evaluation (here the monitor never runs: no trace
 * point before the budget ends); one that ends outside it is not. */
Test(engine, test_budget_end_certifies_returned_iterate)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.0, 4, &xs);
	for (int k = 0; k < 2; k++) {
		double x[20] = {0};
		struct feral_config c;
		feral_config_init(&c);
		c.threads = 1;
		c.method = FERAL_METHOD_SGD;
		c.bind = FERAL_BIND_NONE;
		c.tol = REL_ERR_ASYNC;
		c.epochs = k == 0 ? ASYNC_EPOCHS : 0.05; /* enough; far too little */
		c.trace_every = UINT64_MAX / 4;
		struct feral_result r;
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		double e2 = rel_err2(x, xs, 20);
		if (k == 0) {
			cr_assert_lt(e2, REL_ERR_ASYNC, "budget too small for the test: %g", e2);
			cr_assert(r.converged, "returned x within tol (%g) but not certified", e2);
		} else {
			cr_assert_gt(e2, REL_ERR_ASYNC, "0.05 epochs reached the tolerance: %g", e2);
			cr_assert(!r.converged, "returned x outside tol (%g) reported converged", e2);
		}
	}
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_atomic_update_baseline_converges)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 3000, 30, 0.0, 6, &xs);
	double x[30] = {0};
	struct feral_config c;
	feral_config_init(&c);
	c.threads = 2;
	c.update = FERAL_UPDATE_ATOMIC;
	c.bind = FERAL_BIND_NONE;
	c.tol = REL_ERR_ASYNC;
	c.epochs = ASYNC_EPOCHS;
	struct feral_result r;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	ASSERT_RETURNED_IN_BAND(r, x, xs, 30, "atomic updates: not converged (%g)", r.rel_error);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_l2_sparse_matches_dense_minimiser)
{
	/* ridge: the lazy/degree L2 on CSR data must reach the same minimiser as
	 * the dense storage of the same matrix */
	double *xs = NULL;
	struct feral_dataset *sp = gen(FERAL_GEN_SPARSE, 3000, 60, 0.1, 9, &xs);
	struct feral_dataset *de = NULL;
	cr_assert_eq(feral_dataset_create(sp->n, sp->d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32,
	                                  &de, NULL), FERAL_OK);
	for (uint64_t i = 0; i < sp->n; i++) {
		for (uint64_t k = sp->indptr[i]; k < sp->indptr[i + 1]; k++)
			((float *)de->values)[i * sp->d + sp->indices[k]] = ((float *)sp->values)[k];
		de->y[i] = sp->y[i];
	}
	feral_dataset_update_norms(de);
	/* exact ridge solution: (A^T A / n + eta I) x = A^T b / n */
	enum { D = 60 };
	double eta = 0.2, M[D * D] = {0}, rhs[D] = {0};
	for (uint64_t i = 0; i < de->n; i++) {
		const float *a = (const float *)de->values + i * D;
		for (int j = 0; j < D; j++) {
			rhs[j] += a[j] * de->y[i] / (double)de->n;
			for (int k = 0; k < D; k++)
				M[j * D + k] += (double)a[j] * a[k] / (double)de->n;
		}
	}
	for (int j = 0; j < D; j++)
		M[j * D + j] += eta;
	/* and at 2 eta, to check that the band can tell eta from 2 eta */
	double M2[D * D], rhs2[D];
	memcpy(M2, M, sizeof M2);
	memcpy(rhs2, rhs, sizeof rhs2);
	for (int j = 0; j < D; j++)
		M2[j * D + j] += eta;
	lapack_int ipiv[D];
	cr_assert_eq(LAPACKE_dgesv(LAPACK_ROW_MAJOR, D, 1, M, D, ipiv, rhs, 1), 0);
	cr_assert_eq(LAPACKE_dgesv(LAPACK_ROW_MAJOR, D, 1, M2, D, ipiv, rhs2, 1), 0);
	struct feral_dataset *sets[2] = {sp, de};
	for (int s = 0; s < 2; s++) {
		double x[D] = {0};
		struct feral_config c;
		feral_config_init(&c);
		c.l2 = eta;
		c.step_auto = 0;
		c.step = 0.1;
		c.step_decay = 0.3;
		c.epochs = 150;
		c.tol = 0;
		SOLVE_OK(sets[s], &c, NULL, x, NULL, NULL);
		double e = rel_err2(x, rhs, D);
		cr_assert_lt(e, RIDGE_BAND, "%s storage: ridge relative error %g", s ? "dense" : "sparse", e);
		/* the band is meaningful: unregularised least squares is far outside it */
		cr_assert_gt(rel_err2(rhs2, rhs, D), 10 * RIDGE_BAND, "eta too small to test");
	}
	free(xs);
	feral_dataset_destroy(&sp);
	feral_dataset_destroy(&de);
}

Test(engine, test_divergence_is_reported_and_last_good_iterate_kept)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.0, 2, &xs);
	double x[20] = {0};
	struct feral_config c;
	feral_config_init(&c);
	c.step_auto = 0;
	c.step = 50; /* far beyond 2/supL */
	c.epochs = 20;
	c.trace_every = 100;
	struct feral_result r;
	struct feral_error e = {0};
	cr_assert_eq(feral_solve(ds, &c, xs, x, &r, NULL, &e), FERAL_STATUS_DIVERGED,
	             "a step of 50/Lbar did not diverge");
	cr_assert(strstr(e.msg, "diverged") != NULL, "message: %s", e.msg);
	for (int j = 0; j < 20; j++)
		cr_assert(isfinite(x[j]), "x[%d] = %g is not the last good iterate", j, x[j]);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_stop_flag_interrupts)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.0, 2, &xs);
	double x[20] = {0};
	volatile sig_atomic_t flag = 1;
	struct feral_config c;
	feral_config_init(&c);
	c.stop_flag = &flag;
	c.trace_every = 100;
	c.tol = 0;
	struct feral_result r;
	cr_assert_eq(feral_solve(ds, &c, xs, x, &r, NULL, NULL), FERAL_STATUS_INTERRUPTED);
	cr_assert_lt(r.updates, 1000, "ran %llu updates after the stop flag",
	             (unsigned long long)r.updates);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_logistic_training_separates_planted_labels)
{
	double *w = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_LOGISTIC, 4000, 20, -1, 12, &w);
	double x[20] = {0};
	const enum feral_loss losses[] = {FERAL_LOSS_LOGISTIC, FERAL_LOSS_HINGE};
	for (int k = 0; k < 2; k++) {
		struct feral_config c;
		feral_config_init(&c);
		c.loss = losses[k];
		c.epochs = 10;
		c.tol = 0;
		memset(x, 0, sizeof x);
		SOLVE_OK(ds, &c, NULL, x, NULL, NULL);
		double acc = feral_accuracy(ds, x);
		cr_assert_gt(acc, 0.9, "loss %d: train accuracy %g", (int)losses[k], acc);
	}
	free(w);
	feral_dataset_destroy(&ds);
}

Test(engine, test_invalid_configs_are_rejected_before_work)
{
	struct {
		const char *what;
		void (*set)(struct feral_config *);
	} bad[] = {
#define BAD(name, stmt) {name, ({ void f(struct feral_config *c) { stmt; } f; })}
		BAD("negative threads", c->threads = -1),
		BAD("lambda > 1", c->lambda = 1.5),
		BAD("lambda < 0", c->lambda = -0.1),
		BAD("step <= 0", (c->step_auto = 0, c->step = 0)),
		BAD("NaN step", (c->step_auto = 0, c->step = NAN)),
		BAD("no budget", (c->epochs = 0, c->seconds = 0, c->max_updates = 0)),
		BAD("kaczmarz with logistic", (c->method = FERAL_METHOD_KACZMARZ, c->loss = FERAL_LOSS_LOGISTIC)),
		BAD("relax 2", (c->method = FERAL_METHOD_KACZMARZ, c->relax = 2)),
		BAD("unknown precision", c->model_precision = (enum feral_precision)9),
		BAD("atomic int8 model", (c->update = FERAL_UPDATE_ATOMIC, c->model_precision = FERAL_PRECISION_I8)),
		BAD("negative l2", c->l2 = -1),
		BAD("recenter with a float model", c->recenter = 1),
		BAD("recenter 2", (c->recenter = 2, c->model_precision = FERAL_PRECISION_I8)),
#undef BAD
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct feral_config c;
		feral_config_init(&c);
		cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK, "defaults must be valid");
		bad[k].set(&c);
		struct feral_error e = {0};
		cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE, "%s accepted", bad[k].what);
		cr_assert_gt(strlen(e.msg), 5, "%s: no message", bad[k].what);
	}
}

Test(engine, test_tail_averaging_lowers_the_horizon)
{
	/* Constant step on a noisy system: the last iterate sits at the horizon;
	 * the tail average is much closer to x_LS (named factor). */
	const double factor = 5.0;
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_NSW3);
	o.seed = 2;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	cr_assert_eq(feral_gen(&o, &ds, &xs, NULL), FERAL_OK);
	double *ref = malloc(ds->d * sizeof *ref), *x = calloc(ds->d, sizeof *x);
	cr_assert_eq(feral_lstsq(ds, ref, 0, NULL), FERAL_OK);
	struct feral_config c;
	feral_config_init(&c);
	c.step_auto = 0;
	c.step = 0.5;
	c.tol = 0;
	c.epochs = 40;
	struct feral_result last, avg;
	SOLVE_OK(ds, &c, ref, x, &last, NULL);
	memset(x, 0, ds->d * sizeof *x);
	c.average_iterates = 1;
	SOLVE_OK(ds, &c, ref, x, &avg, NULL);
	cr_assert_gt(avg.averaged, 10, "only %llu iterates averaged", (unsigned long long)avg.averaged);
	cr_assert_lt(avg.rel_error * factor, last.rel_error,
	             "tail average %g is not %gx below the last iterate's %g", avg.rel_error, factor,
	             last.rel_error);
	free(ref);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

/* Bit centring: f32 data, an int8 model, a consistent system.  Without it
 * the iterate's floor is the int8 grid at the scale of |x*| (about 1e-5 in
 * squared relative error); re-centring each epoch shrinks the grid with the
 * offset, so the floor falls by orders of magnitude (named factor). */
#define RECENTER_GAIN 100.0
static void recenter_case(int threads, enum feral_replicas rep, double *plain_err,
                          double *centred_err, double *x_out)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 4000, 50, 0.0, 7, &xs);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	feral_config_init(&c);
	c.model_precision = FERAL_PRECISION_I8;
	c.threads = threads;
	c.replicas = rep;
	c.average_every = 500;
	c.bind = FERAL_BIND_NONE;
	c.tol = 0;
	c.epochs = 30;
	struct feral_result r;
	if (plain_err) {
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		*plain_err = r.rel_error;
		memset(x, 0, ds->d * sizeof *x);
	}
	c.recenter = 1;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	*centred_err = r.rel_error;
	cr_assert_lt(r.model_scale, 1e-3, "final scale %g did not shrink", r.model_scale);
	if (x_out)
		memcpy(x_out, x, ds->d * sizeof *x);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(engine, test_recenter_lowers_the_int8_floor)
{
	double plain, centred;
	recenter_case(1, FERAL_REPLICAS_MACHINE, &plain, &centred, NULL);
	cr_assert_lt(centred * RECENTER_GAIN, plain,
	             "int8 model: re-centred error %g is not %gx below the plain %g", centred,
	             RECENTER_GAIN, plain);
	cr_assert_lt(centred, REL_ERR_ASYNC, "re-centred error %g", centred);
}

Test(engine, test_recenter_one_thread_is_bit_reproducible)
{
	double a[50], b[50], ea, eb;
	recenter_case(1, FERAL_REPLICAS_MACHINE, NULL, &ea, a);
	recenter_case(1, FERAL_REPLICAS_MACHINE, NULL, &eb, b);
	cr_assert_eq(memcmp(a, b, sizeof a), 0, "two re-centred runs differ");
}

Test(engine, test_recenter_async_band)
{
	double e2, e4;
	recenter_case(2, FERAL_REPLICAS_MACHINE, NULL, &e2, NULL);
	cr_assert_lt(e2, REL_ERR_ASYNC, "2 threads, shared model: %g", e2);
	recenter_case(4, FERAL_REPLICAS_CORE, NULL, &e4, NULL);
	cr_assert_lt(e4, REL_ERR_ASYNC, "4 threads, core replicas: %g", e4);
}

#include "engine.h"
#include "topo.h"

Test(engine, test_shard_data_copies_hold_exactly_their_rows)
{
	double *xs = NULL;
	struct feral_dataset *sets[2] = {gen(FERAL_GEN_SPARSE, 3000, 200, 0.0, 7, &xs), NULL};
	free(xs);
	sets[1] = gen(FERAL_GEN_GAUSSIAN, 1500, 30, 0.0, 7, &xs);
	free(xs);
	for (int s = 0; s < 2; s++) {
		struct feral_dataset *ds = sets[s];
		uint64_t n = ds->n;
		double *p = malloc(n * sizeof *p), *w = malloc(n * sizeof *w);
		double sum = 0;
		for (uint64_t i = 0; i < n; i++)
			sum += (p[i] = 1.0 + (double)(i % 17));
		for (uint64_t i = 0; i < n; i++) {
			p[i] /= sum;
			w[i] = 1.0 / ((double)n * p[i]);
		}
		struct feral_placement place[4] = {{.pu = -1, .node = 0}, {.pu = -1, .node = 1},
		                                   {.pu = -1, .node = 1}, {.pu = -1, .node = 3}};
		struct feral_plan plan;
		cr_assert_eq(feral_plan_from_placements(place, 4, FERAL_REPLICAS_NODE, p, n, &plan, NULL),
		             FERAL_OK);
		struct feral_dataset *sd[4];
		struct feral_rowrec *sw[4], *rec = malloc(n * sizeof *rec);
		for (uint64_t i = 0; i < n; i++) /* the step weight in the records the engine builds */
			rec[i] = (struct feral_rowrec){.w = w[i]};
		cr_assert_eq(feral_plan_place_data(&plan, ds, rec, NULL, sd, sw, NULL), FERAL_OK);
		for (int k = 0; k < plan.nshards; k++) {
			const struct feral_shard *sh = &plan.shards[k];
			cr_assert_not_null(sd[k]);
			cr_assert_eq(sd[k]->n, sh->len);
			for (uint64_t e = 0; e < sh->len; e++) {
				uint64_t r = shard_row(sh, e);
				cr_assert_eq(sd[k]->y[e], ds->y[r], "shard %d entry %llu", k,
				             (unsigned long long)e);
				cr_assert_eq(sd[k]->row_sq_norm[e], ds->row_sq_norm[r]);
				cr_assert_eq(sw[k][e].w, w[r]);
				double x[200];
				for (uint64_t j = 0; j < ds->d; j++)
					x[j] = (double)(j * 7 % 13) - 6;
				cr_assert_eq(feral_row_dot(sd[k], e, x), feral_row_dot(ds, r, x),
				             "shard %d entry %llu (row %llu): different values", k,
				             (unsigned long long)e, (unsigned long long)r);
			}
		}
		feral_plan_free_data(&plan, sd, sw);
		feral_plan_free(&plan);
		free(rec);
		free(p);
		free(w);
		feral_dataset_destroy(&ds);
	}
}

Test(engine, test_async_band_on_a_synthetic_four_node_machine)
{
	/* hwloc reads HWLOC_SYNTHETIC: the engine then plans 4 shards (one per
	 * node, each with its own copy of its rows) and, for node/core modes,
	 * 4 replicas; binding to PUs this machine may lack only warns */
	setenv("HWLOC_SYNTHETIC", "package:2 numa:2 core:2 pu:1", 1);
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 4000, 50, 0.0, 5, &xs);
	const enum feral_replicas reps[] = {FERAL_REPLICAS_MACHINE, FERAL_REPLICAS_NODE,
	                                    FERAL_REPLICAS_CORE};
	for (int m = 0; m < 3; m++) {
		double *x = calloc(ds->d, sizeof *x);
		struct feral_config c;
		feral_config_init(&c);
		c.threads = 4;
		c.bind = FERAL_BIND_SCATTER;
		c.replicas = reps[m];
		c.average_every = 500;
		c.tol = REL_ERR_ASYNC;
		c.epochs = ASYNC_EPOCHS;
		struct feral_result r;
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		cr_assert_eq(r.shards, 4, "mode %d: %d shards", m, r.shards);
		cr_assert_eq(r.replicas, m == 0 ? 1 : 4, "mode %d: %d replicas", m, r.replicas);
		ASSERT_RETURNED_IN_BAND(r, x, xs, ds->d, "mode %d: not converged (%g)", m, r.rel_error);
		free(x);
	}
	free(xs);
	feral_dataset_destroy(&ds);
}

/* FERAL_REPLICAS_AUTO: a replica per worker where two concurrent updates
 * share at least one model cache line on average (l^2/L, l lines written
 * by an update of L), the shared model below that, and always with one
 * worker.  Figures worked by hand from the rule in policy.c. */
#define LINES_BAND 1e-9
Test(engine, test_replicas_auto_follows_the_shared_line_rule)
{
	struct feral_config c;
	feral_config_init(&c);
	c.replicas = FERAL_REPLICAS_AUTO;
	c.model_precision = FERAL_PRECISION_F32;
	struct feral_dataset dense = {.n = 1000, .d = 256, .nnz = 256000, .layout = FERAL_LAYOUT_DENSE};
	/* 256 f32 = 16 lines, all written by every update */
	cr_assert_float_eq(feral_shared_lines_per_update(&dense, FERAL_PRECISION_F32), 16.0, LINES_BAND);
	cr_assert_float_eq(feral_shared_lines_per_update(&dense, FERAL_PRECISION_F64), 32.0, LINES_BAND);
	cr_assert_eq(feral_replicas_resolve(&c, &dense, 2), FERAL_REPLICAS_CORE);
	cr_assert_eq(feral_replicas_resolve(&c, &dense, 4), FERAL_REPLICAS_CORE);
	cr_assert_eq(feral_replicas_resolve(&c, &dense, 1), FERAL_REPLICAS_MACHINE);
	/* a model of one line: every pair of updates shares it */
	struct feral_dataset tiny = {.n = 10, .d = 8, .nnz = 80, .layout = FERAL_LAYOUT_DENSE};
	cr_assert_float_eq(feral_shared_lines_per_update(&tiny, FERAL_PRECISION_I8), 1.0, LINES_BAND);
	cr_assert_eq(feral_replicas_resolve(&c, &tiny, 2), FERAL_REPLICAS_CORE);
	/* 10 nonzeros a row over 6250 lines: l = 6250 (1 - (1 - 1/6250)^10) */
	struct feral_dataset wide = {.n = 1000, .d = 100000, .nnz = 10000, .layout = FERAL_LAYOUT_CSR};
	double l = 6250.0 * (1.0 - pow(1.0 - 1.0 / 6250.0, 10));
	cr_assert_float_eq(feral_shared_lines_per_update(&wide, FERAL_PRECISION_F32), l * l / 6250.0,
	                   1e-12);
	cr_assert_lt(l * l / 6250.0, 0.02);
	cr_assert_eq(feral_replicas_resolve(&c, &wide, 2), FERAL_REPLICAS_MACHINE);
	/* 20 nonzeros a row over 13 lines (d = 200): most lines shared */
	struct feral_dataset narrow = {.n = 1000, .d = 200, .nnz = 20000, .layout = FERAL_LAYOUT_CSR};
	l = 13.0 * (1.0 - pow(12.0 / 13.0, 20));
	cr_assert_float_eq(feral_shared_lines_per_update(&narrow, FERAL_PRECISION_F32), l * l / 13.0,
	                   1e-12);
	cr_assert_eq(feral_replicas_resolve(&c, &narrow, 2), FERAL_REPLICAS_CORE);
	/* an explicit mode is kept */
	c.replicas = FERAL_REPLICAS_MACHINE;
	cr_assert_eq(feral_replicas_resolve(&c, &dense, 4), FERAL_REPLICAS_MACHINE);
	c.replicas = FERAL_REPLICAS_NODE;
	cr_assert_eq(feral_replicas_resolve(&c, &wide, 4), FERAL_REPLICAS_NODE);
}

/* ---- threads: short teams, affinity ------------------------------------------ */

#ifdef _OPENMP
/* A nested parallel region beyond max-active-levels runs with one thread
 * whatever num_threads asks: the solve must notice the short team and
 * re-plan for it, not wait at a replica barrier for a worker that never
 * started (it spun forever).  The suite timeout catches a hang. */
Test(engine, test_short_team_is_replanned)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 4000, 50, 0.0, 5, &xs);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	feral_config_init(&c);
	c.threads = 2;
	c.replicas = FERAL_REPLICAS_CORE;
	c.bind = FERAL_BIND_NONE;
	c.tol = REL_ERR_ASYNC;
	c.epochs = ASYNC_EPOCHS;
	struct feral_result r;
	struct feral_error e = {0};
	enum feral_status st = FERAL_STATUS_USAGE;
	int outer = 0;
	omp_set_max_active_levels(1);
#pragma omp parallel num_threads(2)
	{
#pragma omp single
		{
			outer = omp_get_num_threads();
			st = feral_solve(ds, &c, xs, x, &r, NULL, &e);
		}
	}
	cr_assert_eq(st, FERAL_OK, "%s", e.msg);
	if (outer > 1) /* else the inner region was not nested in an active one */
		cr_assert_eq(r.threads, 1, "ran %d workers in a team of 1", r.threads);
	cr_assert(strstr(r.warning, "re-planned") || outer == 1, "warning: '%s'", r.warning);
	ASSERT_RETURNED_IN_BAND(r, x, xs, ds->d, "short team: not converged (%g)", r.rel_error);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}
#endif

#ifdef __linux__
/* Binding pins the caller (worker 0) and the runtime's pool threads; they
 * must leave feral_solve with the affinity they came with. */
Test(engine, test_solve_restores_thread_affinity)
{
	cpu_set_t before;
	cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
	double *xs = NULL;
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 2000, 20, 0.0, 5, &xs);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	feral_config_init(&c);
	c.threads = 2;
	c.bind = FERAL_BIND_COMPACT;
	c.epochs = 2;
	c.tol = 0;
	struct feral_result r;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	cpu_set_t after;
	cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
	cr_assert(CPU_EQUAL(&before, &after), "the caller's affinity changed: %d -> %d CPUs",
	          CPU_COUNT(&before), CPU_COUNT(&after));
#ifdef _OPENMP
	int changed = 0;
#pragma omp parallel num_threads(2) reduction(+ : changed)
	{
		cpu_set_t mine;
		pthread_getaffinity_np(pthread_self(), sizeof mine, &mine);
		changed += !CPU_EQUAL(&before, &mine);
	}
	cr_assert_eq(changed, 0, "%d pool threads kept the solve's binding", changed);
#endif
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}
#endif

/* Worker 0 (the monitor) done with its own updates while another worker
 * still runs: the stop checks go on.  The waiting monitor must see the stop
 * flag (raised, as by a signal, while worker 1 is busy); the test waits for
 * that event, then lets worker 1 "arrive". */
struct wait_arg {
	struct feral_ctx *c;
};
static void *monitor_waits(void *p)
{
	struct wait_arg *a = p;
	feral_monitor_wait(a->c, 1);
	return NULL;
}
Test(engine, test_monitor_checks_stops_after_its_own_quota)
{
	struct feral_config cfg;
	feral_config_init(&cfg);
	volatile sig_atomic_t flag = 0;
	cfg.stop_flag = &flag;
	struct feral_worker w[2];
	memset(w, 0, sizeof w);
	w[0].arrived = 1; /* worker 0's round is done, worker 1's is not */
	struct feral_ctx c;
	memset(&c, 0, sizeof c);
	c.cfg = &cfg;
	c.plan.nthreads = 2;
	c.w = w;
	c.next_trace = UINT64_MAX; /* no trace point due: only the stop checks */
	c.t0 = feral_now();
	struct wait_arg a = {&c};
	pthread_t th;
	flag = 1;
	cr_assert_eq(pthread_create(&th, NULL, monitor_waits, &a), 0);
	while (!__atomic_load_n(&c.stop, __ATOMIC_ACQUIRE))
		sched_yield();
	__atomic_store_n(&w[1].arrived, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	cr_assert_eq(c.stop_status, FERAL_STATUS_INTERRUPTED);
}
