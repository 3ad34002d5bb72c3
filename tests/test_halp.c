/* HALP (De Sa et al., "High-accuracy low-precision training", 2018): SVRG
 * on an 8 or 16-bit model centred at the snapshot converges linearly to the
 * least-squares solution (consistent and noisy systems, 1 and 2 workers),
 * where plain 8-bit SGD stops at its horizon; the fixed point rounding of
 * the dense part is unbiased; with 8-bit data it solves the quantized
 * problem; one thread with a fixed seed is bit-for-bit reproducible; the
 * configuration rules name their fields. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>

#include "internal.h"
#include "engine.h"

TestSuite(halp, .timeout = 120);

/* Named bands */
#define HALP_BAND 1e-8      /* ||x-x_LS||^2/||x_LS||^2 reached by HALP */
#define HALP_MID_BAND 1e-4  /* ... already at a third of its budget: a steady linear rate */
#define HALP_EPOCHS 45.0
#define SGD8_HORIZON 1e-6   /* plain 8-bit SGD stays above this on the noisy system */
#define UNBIASED_SE 4.5     /* mean of the roundings vs the exact step, in standard errors */
#define QUANT_GAP 10.0      /* HALP on 8-bit data is this much closer to the quantized
                               problem's solution than to the float one */

#include "solve_ok.h"

static struct feral_dataset *gen(enum feral_gen_kind kind, uint64_t n, uint64_t d, double noise,
                                 uint64_t seed)
{
	/* sparse: 12 nonzeros a row (the generator's default is 1 here) */
	return gen_problem(kind, n, d, noise, seed, kind == FERAL_GEN_SPARSE ? 12.0 / (double)d : 0);
}


static double *lstsq(const struct feral_dataset *ds)
{
	double *x = malloc(ds->d * sizeof *x);
	struct feral_error e = {0};
	cr_assert_eq(feral_lstsq(ds, x, 0, &e), FERAL_OK, "%s", e.msg);
	return x;
}

static void halp_config(struct feral_config *c, int threads, enum feral_precision mp)
{
	feral_config_init(c);
	c->method = FERAL_METHOD_HALP;
	c->model_precision = mp;
	c->threads = threads;
	c->bind = FERAL_BIND_NONE;
	c->tol = 0;
	c->epochs = HALP_EPOCHS;
	c->seed = 3;
}

/* The trace's relative error (to x* given to the solve) at the first point
 * at or after `updates`. */
static double trace_err_at(const struct feral_trace *tr, uint64_t updates)
{
	for (size_t k = 0; k < tr->len; k++)
		if (tr->pts[k].updates >= updates)
			return tr->pts[k].rel_error;
	return NAN;
}

/* Least squares, 8 or 16-bit model on float data: x_LS to HALP_BAND, and
 * already to HALP_MID_BAND at a third of the budget. */
static void ls_case_of(enum feral_gen_kind kind, double noise, int threads,
                       enum feral_precision mp)
{
	struct feral_dataset *ds = kind == FERAL_GEN_SPARSE ? gen(kind, 6000, 60, noise, 7)
	                                                    : gen(kind, 4000, 20, noise, 7);
	uint64_t d = ds->d;
	double *xls = lstsq(ds), *x = calloc(d, sizeof *x);
	struct feral_config c;
	halp_config(&c, threads, mp);
	struct feral_result r;
	struct feral_trace tr = {0};
	SOLVE_OK(ds, &c, xls, x, &r, &tr);
	double err = rel_err2(x, xls, d);
	double mid = trace_err_at(&tr, (uint64_t)(HALP_EPOCHS / 3 * (double)ds->n));
	cr_assert(err <= HALP_BAND, "noise %g, %d threads, %d bits: ||x-x_LS||^2/||x_LS||^2 = %.3g > %g",
	          noise, threads, feral_precision_bits(mp), err, HALP_BAND);
	cr_assert(mid <= HALP_MID_BAND, "noise %g, %d threads: %.3g at a third of the budget > %g",
	          noise, threads, mid, HALP_MID_BAND);
	cr_assert(fabs(r.rel_error - err) <= 1e-6 * err + 1e-300, "reported %g, measured %g",
	          r.rel_error, err);
	cr_assert(r.model_scale > 0 && r.model_scale < 1e-3, "the grid shrank: scale %g",
	          r.model_scale);
	feral_trace_free(&tr);
	free(x);
	free(xls);
	feral_dataset_destroy(&ds);
}

static void ls_case(double noise, int threads, enum feral_precision mp)
{
	ls_case_of(FERAL_GEN_GAUSSIAN, noise, threads, mp);
}

Test(halp, test_ls_consistent_8bit_1_thread) { ls_case(0, 1, FERAL_PRECISION_I8); }
Test(halp, test_ls_noisy_8bit_1_thread) { ls_case(0.5, 1, FERAL_PRECISION_I8); }
Test(halp, test_ls_consistent_8bit_2_threads) { ls_case(0, 2, FERAL_PRECISION_I8); }
Test(halp, test_ls_noisy_8bit_2_threads) { ls_case(0.5, 2, FERAL_PRECISION_I8); }
Test(halp, test_ls_noisy_16bit_2_threads) { ls_case(0.5, 2, FERAL_PRECISION_I16); }
/* CSR rows: the dense part on the row's support, over P_j */
Test(halp, test_ls_noisy_sparse_8bit_1_thread)
{
	ls_case_of(FERAL_GEN_SPARSE, 0.5, 1, FERAL_PRECISION_I8);
}
Test(halp, test_ls_noisy_sparse_8bit_2_threads)
{
	ls_case_of(FERAL_GEN_SPARSE, 0.5, 2, FERAL_PRECISION_I8);
}

/* The contrast HALP removes: plain 8-bit SGD on the same noisy system and
 * budget stops at its horizon, far above HALP's band. */
Test(halp, test_plain_8bit_sgd_stops_at_its_horizon)
{
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 4000, 20, 0.5, 7);
	double *xls = lstsq(ds), *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.method = FERAL_METHOD_SGD;
	struct feral_result r;
	SOLVE_OK(ds, &c, xls, x, &r, NULL);
	double err = rel_err2(x, xls, ds->d);
	cr_assert(err > SGD8_HORIZON, "8-bit SGD reached %.3g: the contrast is gone", err);
	free(x);
	free(xls);
	feral_dataset_destroy(&ds);
}

/* One thread, a fixed seed: the same bits twice. */
Test(halp, test_one_thread_is_reproducible)
{
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 3000, 16, 0.5, 11);
	uint64_t d = ds->d;
	double *x1 = calloc(d, sizeof *x1), *x2 = calloc(d, sizeof *x2);
	struct feral_config c;
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.epochs = 6;
	struct feral_result r1, r2;
	SOLVE_OK(ds, &c, NULL, x1, &r1, NULL);
	SOLVE_OK(ds, &c, NULL, x2, &r2, NULL);
	cr_assert(memcmp(x1, x2, d * sizeof *x1) == 0, "two runs differ");
	cr_assert_eq(r1.saturations, r2.saturations);
	cr_assert(r1.model_scale == r2.model_scale);
	free(x1);
	free(x2);
	feral_dataset_destroy(&ds);
}

/* 8-bit data: the problem solved is the quantized one.  HALP reaches its
 * least-squares solution, which differs from the float problem's. */
Test(halp, test_8bit_data_solves_the_quantized_problem)
{
	struct feral_dataset *ds = gen(FERAL_GEN_GAUSSIAN, 4000, 20, 0.5, 7), *q = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_quantize(ds, FERAL_PRECISION_I8, 5, &q, &e), FERAL_OK, "%s",
	             e.msg);
	double *xf = lstsq(ds), *xq = lstsq(q), *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	halp_config(&c, 1, FERAL_PRECISION_I8);
	struct feral_result r;
	SOLVE_OK(q, &c, xq, x, &r, NULL);
	double eq = rel_err2(x, xq, ds->d), ef = rel_err2(x, xf, ds->d);
	double gap = rel_err2(xq, xf, ds->d);
	cr_assert(eq <= HALP_BAND, "to the quantized problem's solution: %.3g > %g", eq, HALP_BAND);
	cr_assert(ef > QUANT_GAP * eq && fabs(ef - gap) <= 0.5 * gap,
	          "to the float solution %.3g: expected about the quantization gap %.3g", ef, gap);
	free(x);
	free(xf);
	free(xq);
	feral_dataset_destroy(&q);
	feral_dataset_destroy(&ds);
}

/* L2 logistic regression (l2 gives mu): HALP at 8 bits reaches SVRG's
 * float optimum. */
Test(halp, test_logistic_l2_reaches_the_optimum)
{
	struct feral_dataset *ds = gen(FERAL_GEN_LOGISTIC, 4000, 20, -1, 5);
	uint64_t d = ds->d;
	double *xo = calloc(d, sizeof *xo), *x = calloc(d, sizeof *x);
	struct feral_config c;
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.loss = FERAL_LOSS_LOGISTIC;
	c.l2 = 1e-3;
	struct feral_config f = c;
	f.method = FERAL_METHOD_SVRG;
	f.model_precision = FERAL_PRECISION_F64;
	f.epochs = 100;
	struct feral_result r;
	SOLVE_OK(ds, &f, NULL, xo, &r, NULL);
	SOLVE_OK(ds, &c, xo, x, &r, NULL);
	double err = rel_err2(x, xo, d);
	cr_assert(err <= HALP_BAND, "||x-x*||^2/||x*||^2 = %.3g > %g", err, HALP_BAND);
	free(x);
	free(xo);
	feral_dataset_destroy(&ds);
}

/* The dense part's rounding (feral_halp_dense): each write moves q_j to a
 * neighbour of q_j - gamma coef_j / s, and the mean over many roundings is
 * the exact step.  Dense rows (every coordinate) and CSR rows (the row's
 * support, over P_j). */
static void unbiased_case(int csr)
{
	enum { D = 16, K = 20000 };
	struct feral_config cfg;
	feral_config_init(&cfg);
	cfg.l2 = 0.3;
	double center[D], gbar[D], invp[D];
	int8_t q0[D], q[D];
	uint32_t idx[D / 2];
	for (int j = 0; j < D; j++) {
		center[j] = 0.1 * j - 0.7;
		gbar[j] = 0.37 * sin(1.0 + j);
		invp[j] = 1.0 + 0.25 * j;
		q0[j] = (int8_t)(j * 7 - 50);
	}
	for (int k = 0; k < D / 2; k++)
		idx[k] = (uint32_t)(2 * k + 1);
	struct feral_svrg s = {0};
	s.gbar = gbar;
	s.invp = csr ? invp : NULL;
	struct feral_ctx c = {0};
	c.cfg = &cfg;
	c.mp = FERAL_PRECISION_I8;
	c.scale = 0.01;
	c.center = center;
	c.method_state = &s;
	double gamma = 0.0123;
	double sum[D] = {0};
	struct feral_rng rng;
	feral_rng_seed(&rng, 42, 0);
	size_t len = csr ? D / 2 : D;
	for (int k = 0; k < K; k++) {
		memcpy(q, q0, sizeof q);
		cr_assert_eq(feral_halp_dense(&c, q, csr ? idx : NULL, len, gamma, &rng), 0);
		for (int j = 0; j < D; j++)
			sum[j] += q[j];
	}
	for (int j = 0; j < D; j++) {
		int touched = !csr || (j % 2 == 1);
		double v = center[j] + c.scale * q0[j];
		double want = q0[j];
		if (touched)
			want -= gamma * feral_svrg_dense_coef(&s, cfg.l2, (uint64_t)j, v) / c.scale;
		double fr = want - floor(want);
		double se = sqrt(fr * (1 - fr) / K);
		double mean = sum[j] / K;
		if (!touched || fr == 0) {
			cr_assert(mean == want, "coordinate %d: moved to %g (expected %g)", j, mean, want);
			continue;
		}
		cr_assert(fabs(mean - want) <= UNBIASED_SE * se,
		          "coordinate %d: mean %.6f vs exact %.6f (%.1f standard errors)", j, mean, want,
		          fabs(mean - want) / se);
	}
	/* one rounding lands on a neighbour of the exact value */
	memcpy(q, q0, sizeof q);
	feral_halp_dense(&c, q, csr ? idx : NULL, len, gamma, &rng);
	for (size_t k = 0; k < len; k++) {
		int j = csr ? (int)idx[k] : (int)k;
		double v = center[j] + c.scale * q0[j];
		double want = q0[j] - gamma * feral_svrg_dense_coef(&s, cfg.l2, (uint64_t)j, v) / c.scale;
		cr_assert(q[j] == floor(want) || q[j] == ceil(want), "coordinate %d: %d for %g", j, q[j],
		          want);
	}
}

Test(halp, test_dense_part_rounding_is_unbiased_dense) { unbiased_case(0); }
Test(halp, test_dense_part_rounding_is_unbiased_csr) { unbiased_case(1); }

/* Saturation: a step past the range is clamped to +-qmax and counted. */
Test(halp, test_dense_part_saturates_and_counts)
{
	struct feral_config cfg;
	feral_config_init(&cfg);
	double center[2] = {0, 0}, gbar[2] = {-1e3, 1e3};
	int8_t q[2] = {100, -100};
	struct feral_svrg s = {0};
	s.gbar = gbar;
	struct feral_ctx c = {0};
	c.cfg = &cfg;
	c.mp = FERAL_PRECISION_I8;
	c.scale = 1;
	c.center = center;
	c.method_state = &s;
	struct feral_rng rng;
	feral_rng_seed(&rng, 1, 0);
	cr_assert_eq(feral_halp_dense(&c, q, NULL, 2, 1.0, &rng), 2);
	cr_assert(q[0] == 127 && q[1] == -127, "clamped to %d, %d", q[0], q[1]);
}

/* Configuration: HALP needs a fixed point model and a smooth loss, SVRG a
 * float model; each message starts with the field it is about. */
static void expect_bad(struct feral_config *c, const char *field, const char *mention)
{
	struct feral_error e = {0};
	cr_assert_eq(feral_config_validate(c, &e), FERAL_STATUS_USAGE, "accepted (%s)", field);
	cr_assert(strncmp(e.msg, field, strlen(field)) == 0, "'%s' does not start with '%s'", e.msg,
	          field);
	cr_assert_not_null(strstr(e.msg, mention), "'%s' does not mention '%s'", e.msg, mention);
}

Test(halp, test_config_rules)
{
	struct feral_config c;
	halp_config(&c, 1, FERAL_PRECISION_I8);
	cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK);
	c.model_precision = FERAL_PRECISION_I16;
	cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK);
	c.model_precision = FERAL_PRECISION_F32;
	expect_bad(&c, "method HALP", "model_precision");
	c.model_precision = FERAL_PRECISION_F64;
	expect_bad(&c, "method HALP", "SVRG");
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.loss = FERAL_LOSS_HINGE;
	expect_bad(&c, "method HALP", "smooth");
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.recenter_every = 100;
	expect_bad(&c, "recenter_every", "HALP");
	halp_config(&c, 1, FERAL_PRECISION_I8);
	c.method = FERAL_METHOD_SVRG;
	expect_bad(&c, "method SVRG", "HALP");
}
