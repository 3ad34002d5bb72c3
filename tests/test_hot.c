/* Hot coordinates (hot.c): one worker with the hot set forced on is the plain
 * shared-model solve bit for bit; concurrent merges lose no update; the
 * split update (hot part in the private copy, cold part in the shared
 * model) is the unbiased SGD step of the whole row; two workers on a
 * power-law problem reach the one-worker band; the hot set's selection
 * (threshold, cap, share) and its policy. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal.h"
#include "engine.h"
#include "shell.h"
#include "solve_ok.h"

TestSuite(hot, .timeout = SHELL_TIMEOUT(120));

/* Named bands */
#define STEP_BAND 1e-12    /* one update vs its closed form, relative */
#define BAND_VS_SERIAL 1.25 /* 2 workers' relative error over 1 worker's, same budget */
#define SGD_BAND 0.04      /* relative error, SGD, 20 epochs (1 worker: 0.024) */
#define SVRG_BAND 0.08     /* relative error, SVRG, 20 epochs (1 worker: 0.054) */
#define I8_SPLIT_BAND 0.1  /* int8 x int8, one worker: hot vs plain, relative distance */

/* ---- a hand-built matrix ---------------------------------------------------------
 * HOT_COLS hot columns, HOT_COL(h) = 3 + 6 h (spread, so that slot h and
 * column differ: a slot used as a column fails the tests), in most rows (a
 * row takes each with probability 0.8); the other columns are cold.  Each
 * row lists its hot entries first, then its cold ones, so the hot-first
 * copy has the same entry order as the plain rows (CSR rows need not be
 * sorted).  one_cold: every row has exactly one cold entry, the
 * (i % cold)-th cold column.  With at most one cold entry the two dot
 * products (hot, cold) add up in the order of the one-call dot, so float
 * models are bit-exact too; with several cold entries only integer x
 * integer dots (exact) are. */
#define HOT_COLS 6
#define HOT_COL(h) (3 + 6 * (uint64_t)(h))
static int is_hot(uint64_t j)
{
	return j % 6 == 3 && j / 6 < HOT_COLS;
}
/* the k-th cold column */
static uint64_t cold_col(uint64_t k)
{
	uint64_t j = 0;
	for (;; j++)
		if (!is_hot(j) && k-- == 0)
			return j;
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11;
}
static double unif(uint64_t *s) /* [0, 1) */
{
	return (double)lcg(s) / 9007199254740992.0;
}

static struct feral_dataset *hand_matrix(uint64_t n, uint64_t d, int one_cold, uint64_t seed)
{
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_create(n, d, n * d, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds,
	                                  &e),
	             FERAL_OK, "%s", e.msg);
	uint64_t s = seed, at = 0;
	double *xs = malloc(d * sizeof *xs);
	for (uint64_t j = 0; j < d; j++)
		xs[j] = 2 * unif(&s) - 1;
	float *v = ds->values;
	uint64_t ncold = d - HOT_COLS;
	for (uint64_t i = 0; i < n; i++) {
		double dot = 0;
		for (uint64_t q = 0; q < d; q++) { /* the hot columns, then the cold ones */
			uint64_t j = q < HOT_COLS ? HOT_COL(q) : cold_col(q - HOT_COLS);
			int take = q < HOT_COLS ? unif(&s) < 0.8
			                        : one_cold ? q - HOT_COLS == i % ncold
			                                   : unif(&s) < 3.0 / (double)ncold;
			if (!take)
				continue;
			float a = (float)(2 * unif(&s) - 1);
			ds->indices[at] = (uint32_t)j;
			v[at++] = a;
			dot += a * xs[j];
		}
		ds->indptr[i + 1] = at;
		ds->y[i] = dot + 0.01 * (2 * unif(&s) - 1);
	}
	ds->nnz = at;
	feral_dataset_update_norms(ds);
	free(xs);
	return ds;
}

/* ---- (a) one worker, hot set forced: the plain solve bit for bit ----------------- */

struct exact_case {
	enum feral_method method;
	enum feral_precision data, model;
	enum feral_update update;
	double l2;
	int one_cold;
};

static void solve_with(const struct feral_dataset *ds, const struct exact_case *k, double thr,
                       double *x, struct feral_result *r)
{
	struct feral_config c;
	feral_config_init(&c);
	c.method = k->method;
	c.model_precision = k->model;
	c.update = k->update;
	c.l2 = k->l2;
	c.step_auto = k->method == FERAL_METHOD_SVRG; /* SGD: a step that moves it */
	c.step = 0.3;
	c.threads = 1;
	c.bind = FERAL_BIND_NONE;
	c.tol = 0;
	c.epochs = 6;
	c.seed = 7;
	c.hot_threshold = thr;
	c.hot_every = 5; /* many merges */
	memset(x, 0, ds->d * sizeof *x);
	SOLVE_OK(ds, &c, NULL, x, r, NULL);
}

static void exact(struct exact_case k)
{
	struct feral_dataset *f = hand_matrix(500, 40, k.one_cold, 11), *ds = f;
	if (k.data != FERAL_PRECISION_F32) {
		struct feral_error e = {0};
		cr_assert_eq(feral_dataset_quantize(f, k.data, 3, &ds, &e), FERAL_OK, "%s", e.msg);
	}
	double *plain = malloc(ds->d * sizeof *plain), *hot = malloc(ds->d * sizeof *hot);
	struct feral_result rp, rh;
	solve_with(ds, &k, -1, plain, &rp);
	solve_with(ds, &k, 0.5, hot, &rh);
	cr_assert_eq(rp.hot_coords, 0);
	cr_assert_eq(rh.hot_coords, HOT_COLS, "hot set of %llu columns, expected the %d hot ones",
	             (unsigned long long)rh.hot_coords, HOT_COLS);
	cr_assert(rh.hot_nnz_share > 0.5 && rh.hot_nnz_share < 1, "share %g", rh.hot_nnz_share);
	cr_assert_eq(rp.updates, rh.updates);
	if (k.data == FERAL_PRECISION_I8 && k.model == FERAL_PRECISION_I8) {
		/* the int8 x int8 kernel rounds its alpha stochastically once a
		 * call (kernels.h), and the split update is two calls: as
		 * unbiased, not the same draws.  The two runs agree in a band. */
		double dd = 0, pp = 0;
		for (uint64_t j = 0; j < ds->d; j++) {
			dd += (plain[j] - hot[j]) * (plain[j] - hot[j]);
			pp += plain[j] * plain[j];
		}
		cr_assert_lt(sqrt(dd / pp), I8_SPLIT_BAND, "||x_hot - x_plain|| / ||x_plain|| = %g",
		             sqrt(dd / pp));
	} else {
		cr_assert_eq(rp.saturations, rh.saturations, "saturations: plain %llu, hot %llu",
		             (unsigned long long)rp.saturations, (unsigned long long)rh.saturations);
		for (uint64_t j = 0; j < ds->d; j++)
			cr_assert(memcmp(&plain[j], &hot[j], sizeof *hot) == 0,
			          "x[%llu]: plain %.17g, hot %.17g", (unsigned long long)j, plain[j],
			          hot[j]);
	}
	/* and it moved: a test of an untouched iterate would prove nothing */
	double nx = 0;
	for (uint64_t j = 0; j < ds->d; j++)
		nx += hot[j] * hot[j];
	cr_assert_gt(nx, 0.1);
	free(plain);
	free(hot);
	if (ds != f)
		feral_dataset_destroy(&ds);
	feral_dataset_destroy(&f);
}

Test(hot, test_one_worker_exact_f32_sgd_l2)
{
	exact((struct exact_case){FERAL_METHOD_SGD, FERAL_PRECISION_F32, FERAL_PRECISION_F32,
	                          FERAL_UPDATE_RACY, 1e-3, 1});
}
Test(hot, test_one_worker_exact_f32_svrg_l2)
{
	exact((struct exact_case){FERAL_METHOD_SVRG, FERAL_PRECISION_F32, FERAL_PRECISION_F32,
	                          FERAL_UPDATE_RACY, 1e-3, 1});
}
Test(hot, test_one_worker_exact_f64_svrg_atomic)
{
	exact((struct exact_case){FERAL_METHOD_SVRG, FERAL_PRECISION_F32, FERAL_PRECISION_F64,
	                          FERAL_UPDATE_ATOMIC, 1e-3, 1});
}
Test(hot, test_one_worker_exact_i8_model_sgd_l2)
{
	exact((struct exact_case){FERAL_METHOD_SGD, FERAL_PRECISION_F32, FERAL_PRECISION_I8,
	                          FERAL_UPDATE_RACY, 1e-3, 1});
}
/* int8 data (row scales), f32 model */
Test(hot, test_one_worker_exact_i8_data_f32_model)
{
	exact((struct exact_case){FERAL_METHOD_SGD, FERAL_PRECISION_I8, FERAL_PRECISION_F32,
	                          FERAL_UPDATE_RACY, 1e-3, 1});
}
/* int16 data, int8 model: the dots are exact integer sums, so any row works,
 * several cold entries included */
Test(hot, test_one_worker_exact_i16_data_i8_model_general_rows)
{
	exact((struct exact_case){FERAL_METHOD_SGD, FERAL_PRECISION_I16, FERAL_PRECISION_I8,
	                          FERAL_UPDATE_RACY, 1e-3, 0});
}
/* int8 data and model (the Buckwild! path): a band, see exact() */
Test(hot, test_one_worker_i8_data_i8_model_in_band)
{
	exact((struct exact_case){FERAL_METHOD_SGD, FERAL_PRECISION_I8, FERAL_PRECISION_I8,
	                          FERAL_UPDATE_RACY, 1e-3, 0});
}

/* ---- (b) no lost update: concurrent merges ---------------------------------------
 * Two workers add known integer increments to their private copies (slot s
 * of worker t gets +1 at step k when (s + k + t) % 3 != 0, a different set
 * at every step, so that merges of changed and unchanged slots interleave)
 * and merge every 7 steps (the first half of the slots, as a fast tier,
 * three times in four; all of them otherwise) and at the end.  The shared
 * hot values, folded into the model, must then hold exactly the sum of
 * every increment (the values stay small integers, exact in every
 * precision), and no other coordinate may move.
 * The workers meet after every merge period, so each period's two merges
 * start from the same shared values: a merge that stored its copy instead
 * of adding its change, or counted a change twice (base not reset), fails
 * it on any scheduling, and one that lost a concurrent add (no atomic) when
 * the two merges overlap. */
#define CONS_D 64
#define CONS_H 20
#define CONS_STEPS 4000
#define CONS_EVERY 7

static void conservation(enum feral_precision mp)
{
	struct feral_ctx c;
	memset(&c, 0, sizeof c);
	c.mp = mp;
	c.scale = 1;
	c.plan.nthreads = 2;
	uint32_t *col = malloc(CONS_H * sizeof *col);
	for (uint32_t s = 0; s < CONS_H; s++)
		col[s] = 3 * s + 1; /* spread over the model, several a cache line */
	c.hot.H = CONS_H;
	c.hot.col = col;
	void *x = calloc(CONS_D, 8);
	for (uint64_t j = 0; j < CONS_D; j++) /* start at 5 everywhere */
		feral_model_set(x, mp, 1, j, 5, 0);
	struct feral_dataset dsd;
	memset(&dsd, 0, sizeof dsd);
	dsd.d = CONS_D;
	c.ds = &dsd;
	c.models = &x;
	/* priv, base and the shared part, as feral_hot_create sets them up */
	cr_assert_eq(feral_hot_state_create(&c, NULL), FERAL_OK);
	void **priv = c.hot.priv;
	uint64_t sat[2] = {0, 0};
#pragma omp parallel num_threads(2)
	{
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		feral_hot_pull(&c, t);
		for (int k = 0; k < CONS_STEPS; k++) {
			for (uint32_t s = 0; s < CONS_H; s++)
				if ((s + (uint32_t)k + (uint32_t)t) % 3 != 0)
					feral_model_set(priv[t], mp, 1, s,
					                feral_model_get(priv[t], mp, 1, s) + 1, 0);
			if ((k + 1) % CONS_EVERY == 0) {
				/* the fast tier (the first half) three times in four */
				uint32_t n = ((k + 1) / CONS_EVERY) % 4 ? CONS_H / 2 : CONS_H;
				sat[t] += feral_hot_merge(&c, t, n);
				/* both have merged before either goes on: every
				 * period the two merges meet on the same base,
				 * whatever the scheduling */
#pragma omp barrier
			}
		}
		sat[t] += feral_hot_merge(&c, t, CONS_H);
	}
	feral_hot_fold(&c, -1); /* into the model's columns */
	for (uint64_t j = 0; j < CONS_D; j++) {
		double want = 5;
		if (j % 3 == 1 && j / 3 < CONS_H) {
			uint32_t s = (uint32_t)(j / 3);
			for (int t = 0; t < 2; t++)
				for (int k = 0; k < CONS_STEPS; k++)
					want += (s + (uint32_t)k + (uint32_t)t) % 3 != 0;
		}
		cr_assert_eq(feral_model_get(x, mp, 1, j), want, "x[%llu] = %g, expected %g",
		             (unsigned long long)j, feral_model_get(x, mp, 1, j), want);
	}
	cr_assert_eq(sat[0] + sat[1], 0);
	feral_hot_free(&c);
	free(x);
}

Test(hot, test_merges_lose_no_update_f64) { conservation(FERAL_PRECISION_F64); }
Test(hot, test_merges_lose_no_update_f32) { conservation(FERAL_PRECISION_F32); }
Test(hot, test_merges_lose_no_update_i16) { conservation(FERAL_PRECISION_I16); }

/* An int8 merge saturates at +-127 and counts it. */
Test(hot, test_int8_merge_saturates_and_counts)
{
	struct feral_ctx c;
	memset(&c, 0, sizeof c);
	c.mp = FERAL_PRECISION_I8;
	c.plan.nthreads = 1;
	uint32_t col[2] = {0, 2};
	int8_t buf[128] = {0};
	void *priv[1] = {buf};
	int8_t xh[64] = {0};
	c.hot = (struct feral_hot){.H = 2, .col = col, .priv = priv, .base_off = 64, .xh = xh};
	int8_t x[4] = {120, 0, -3, 0};
	void *models[1] = {x};
	struct feral_dataset dsd;
	memset(&dsd, 0, sizeof dsd);
	dsd.d = 4;
	c.ds = &dsd;
	c.models = models;
	xh[0] = 120;
	xh[1] = -3;
	feral_hot_pull(&c, 0);
	cr_assert_eq(buf[0], 120);
	cr_assert_eq(buf[1], -3);
	xh[0] = 100; /* another worker's merge: -20 */
	buf[0] = 127; /* ours: +7 */
	buf[1] = -1;  /* ours: +2 */
	cr_assert_eq(feral_hot_merge(&c, 0, 2), 0);
	cr_assert_eq(xh[0], 107);
	cr_assert_eq(xh[1], -1);
	cr_assert_eq(x[0], 120, "the model's columns move only at a fold");
	cr_assert_eq(buf[0], 107, "priv takes the merged value");
	cr_assert_eq(buf[64], 107, "base too");
	feral_hot_fold(&c, -1);
	cr_assert_eq(x[0], 107);
	cr_assert_eq(x[2], -1);
	buf[0] = 127; /* +20 onto 120 */
	xh[0] = 120;
	cr_assert_eq(feral_hot_merge(&c, 0, 2), 1);
	cr_assert_eq(xh[0], 127);
}

/* ---- (c) the split update is the unbiased step of the whole row -------------------
 * With uniform sampling (lambda = 1, weights 1) one update of weighted SGD
 * on row i from x0 is x0 - (step / Lbar) (a_i.x0 - y_i) a_i: unbiased, its
 * mean over the draw is x0 - (step / Lbar) grad F(x0).  One worker, hot set
 * forced, one update per solve, 48 seeds: the row drawn is read off the
 * change (row i alone has the i-th cold column), and the change must be
 * that step, hot and cold coordinates alike. */
Test(hot, test_split_update_is_the_rows_sgd_step)
{
	const uint64_t n = 30, d = HOT_COLS + 30;
	struct feral_dataset *ds = hand_matrix(n, d, 1, 5);
	double lbar = 0;
	for (uint64_t i = 0; i < n; i++)
		lbar += ds->row_sq_norm[i] / (double)n;
	double *x0 = malloc(d * sizeof *x0), *x = malloc(d * sizeof *x);
	uint64_t s = 9;
	for (uint64_t j = 0; j < d; j++)
		x0[j] = 2 * unif(&s) - 1;
	int seen[30] = {0}, with_hot = 0;
	for (uint64_t seed = 1; seed <= 48; seed++) {
		struct feral_config c;
		feral_config_init(&c);
		c.threads = 1;
		c.bind = FERAL_BIND_NONE;
		c.lambda = 1;
		c.step_auto = 0;
		c.step = 0.5;
		c.tol = 0;
		c.epochs = 0;
		c.max_updates = 1;
		c.seed = seed;
		c.hot_threshold = 0.5;
		memcpy(x, x0, d * sizeof *x);
		struct feral_result r;
		SOLVE_OK(ds, &c, NULL, x, &r, NULL);
		cr_assert_eq(r.hot_coords, HOT_COLS);
		int64_t row = -1;
		for (uint64_t k = 0; k < n; k++)
			if (x[cold_col(k)] != x0[cold_col(k)]) {
				cr_assert_eq(row, -1, "two cold columns moved");
				row = (int64_t)k;
			}
		cr_assert_neq(row, -1, "no cold column moved");
		uint64_t i = (uint64_t)row;
		seen[i] = 1;
		double t = 0;
		for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
			t += feral_dataset_value(ds, i, k) * x0[ds->indices[k]];
		double g = -(c.step / lbar) * (t - ds->y[i]);
		double *want = malloc(d * sizeof *want);
		memcpy(want, x0, d * sizeof *want);
		for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++) {
			want[ds->indices[k]] += g * feral_dataset_value(ds, i, k);
			with_hot += is_hot(ds->indices[k]);
		}
		for (uint64_t j = 0; j < d; j++)
			cr_assert(fabs(x[j] - want[j]) <= STEP_BAND * (fabs(want[j] - x0[j]) + fabs(x0[j])),
			          "seed %llu, row %llu, x[%llu]: %.17g, the step gives %.17g",
			          (unsigned long long)seed, (unsigned long long)i, (unsigned long long)j,
			          x[j], want[j]);
		free(want);
	}
	int rows = 0;
	for (uint64_t i = 0; i < n; i++)
		rows += seen[i];
	cr_assert_geq(rows, 15, "the seeds drew only %d rows", rows);
	cr_assert_gt(with_hot, 0);
	free(x0);
	free(x);
	feral_dataset_destroy(&ds);
}

/* ---- (d) two workers on a power-law problem ---------------------------------------
 * 30000 x 5000, power 1.2 (feral gen sparse --power 1.2), 20 nonzeros a
 * row, f64 model: AUTO resolves to the shared model with a hot set. */
static void band(enum feral_method m, double tol_band)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_SPARSE);
	o.n = 30000;
	o.d = 5000;
	o.power = 1.2;
	o.density = 20.0 / 5000;
	o.noise = 0;
	o.seed = 3;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_gen(&o, &ds, &xs, &e), FERAL_OK, "%s", e.msg);
	double err[2];
	for (int T = 1; T <= 2; T++) {
		struct feral_config c;
		feral_config_init(&c);
		c.method = m;
		c.threads = T;
		c.bind = FERAL_BIND_NONE;
		c.tol = 0;
		c.epochs = 20;
		c.seed = 1;
		double *x = calloc(ds->d, sizeof *x);
		struct feral_result r;
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		cr_assert_eq(r.replicas_mode, FERAL_REPLICAS_MACHINE);
		if (T == 1) {
			cr_assert_eq(r.hot_coords, 0, "auto: no hot set for one worker");
		} else {
			cr_assert(r.hot_coords > 10 && r.hot_coords <= FERAL_HOT_MAX, "hot set %llu",
			          (unsigned long long)r.hot_coords);
			cr_assert(r.hot_nnz_share > 0.3 && r.hot_nnz_share < 1, "share %g",
			          r.hot_nnz_share);
		}
		err[T - 1] = r.rel_error;
		free(x);
	}
	cr_assert_lt(err[1], tol_band, "2 workers: relative error %g", err[1]);
	cr_assert_lt(err[1], BAND_VS_SERIAL * err[0], "2 workers %g, 1 worker %g", err[1], err[0]);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(hot, test_power_law_2_workers_sgd_band) { band(FERAL_METHOD_SGD, SGD_BAND); }
Test(hot, test_power_law_2_workers_svrg_band) { band(FERAL_METHOD_SVRG, SVRG_BAND); }

/* ---- (e) the hot set ---------------------------------------------------------------
 * 4 rows, uniform p: column masses P = 1, 1/2, 1/4, 1/4, 1/4, 0 (sum 9/4). */
Test(hot, test_selection_threshold_cap_share)
{
	struct feral_dataset *ds = NULL;
	cr_assert_eq(feral_dataset_create(4, 6, 9, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds, NULL),
	             FERAL_OK);
	const uint32_t idx[9] = {0, 1, 2, 0, 1, 0, 3, 0, 4};
	const uint64_t ptr[5] = {0, 3, 5, 7, 9};
	memcpy(ds->indices, idx, sizeof idx);
	memcpy(ds->indptr, ptr, sizeof ptr);
	for (int k = 0; k < 9; k++)
		((float *)ds->values)[k] = 1;
	const double p[4] = {0.25, 0.25, 0.25, 0.25};
	double *P = feral_column_mass(ds, p);
	const double want_P[6] = {1, 0.5, 0.25, 0.25, 0.25, 0};
	for (int j = 0; j < 6; j++)
		cr_assert_float_eq(P[j], want_P[j], 1e-15);
	uint32_t cols[6];
	double share;
	cr_assert_eq(feral_hot_select(P, 6, 0.5, 10, cols, &share), 2);
	cr_assert(cols[0] == 0 && cols[1] == 1);
	cr_assert_float_eq(share, 1.5 / 2.25, 1e-15);
	cr_assert_eq(feral_hot_select(P, 6, 0.3, 10, cols, &share), 2);
	/* the cap keeps the most probable, ties to the lower column, in column order */
	cr_assert_eq(feral_hot_select(P, 6, 0.25, 3, cols, &share), 3);
	cr_assert(cols[0] == 0 && cols[1] == 1 && cols[2] == 2, "%u %u %u", cols[0], cols[1],
	          cols[2]);
	cr_assert_float_eq(share, 1.75 / 2.25, 1e-15);
	cr_assert_eq(feral_hot_select(P, 6, 0.25, 10, cols, &share), 5);
	cr_assert_eq(feral_hot_select(P, 6, 1.01, 10, cols, &share), 0);
	cr_assert_eq(share, 0);
	cr_assert_eq(feral_hot_select(P, 6, -1, 10, cols, &share), 0);
	free(P);
	feral_dataset_destroy(&ds);
}

/* The policy: auto is 2 / K with several workers on the shared model of CSR
 * data, none with one worker, an explicit threshold applies with one worker,
 * an explicit replica mode, dense rows, bit centring or off: none. */
Test(hot, test_threshold_policy)
{
	struct feral_config c;
	feral_config_init(&c);
	struct feral_dataset csr = {.n = 10, .d = 100000, .nnz = 100, .layout = FERAL_LAYOUT_CSR};
	struct feral_dataset dense = {.n = 10, .d = 10, .nnz = 100, .layout = FERAL_LAYOUT_DENSE};
	const enum feral_replicas M = FERAL_REPLICAS_MACHINE;
	cr_assert_float_eq(feral_hot_threshold(&c, &csr, M, 2),
	                   2.0 / (FERAL_HOT_TIER * FERAL_HOT_EVERY_AUTO), 1e-15);
	c.hot_every = 256;
	cr_assert_float_eq(feral_hot_threshold(&c, &csr, M, 4), 2.0 / (FERAL_HOT_TIER * 256), 1e-15);
	cr_assert_lt(feral_hot_threshold(&c, &csr, M, 1), 0);
	cr_assert_lt(feral_hot_threshold(&c, &dense, M, 2), 0);
	cr_assert_lt(feral_hot_threshold(&c, &csr, FERAL_REPLICAS_CORE, 2), 0);
	c.hot_threshold = 0.1;
	cr_assert_float_eq(feral_hot_threshold(&c, &csr, M, 1), 0.1, 1e-15);
	c.hot_threshold = -1;
	cr_assert_lt(feral_hot_threshold(&c, &csr, M, 2), 0);
	c.hot_threshold = 0;
	c.replicas = FERAL_REPLICAS_MACHINE;
	cr_assert_lt(feral_hot_threshold(&c, &csr, M, 2), 0);
	c.replicas = FERAL_REPLICAS_AUTO;
	c.recenter = 1;
	cr_assert_lt(feral_hot_threshold(&c, &csr, M, 2), 0);
}

Test(hot, test_config_validation_names_the_field)
{
	struct feral_config c;
	struct feral_error e = {0};
	feral_config_init(&c);
	c.hot_threshold = 1.5;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "hot_threshold"), "%s", e.msg);
	c.hot_threshold = NAN;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	c.hot_threshold = 0.1;
	c.replicas = FERAL_REPLICAS_CORE;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "replicas"), "%s", e.msg);
	c.replicas = FERAL_REPLICAS_AUTO;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_OK, "%s", e.msg);
	c.hot_threshold = -1;
	c.replicas = FERAL_REPLICAS_CORE;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_OK, "%s", e.msg);
}

/* ---- the command line -------------------------------------------------------------- */
static void setup(void)
{
	tmpdir_make("hot");
}

Test(hot, test_cli_options_and_json, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen sparse -o z.feral --n 2000 --d 20000 --density 0.001 "
	                            "--power 1.2 --seed 2"),
	             0, "%s", out);
	const char *run = "solve z.feral --method sgd --epochs 1 --tol 0 --json";
	/* auto, one thread: none; an explicit threshold: a hot set, K reported */
	cr_assert_eq(shell_feral(0, "%s --threads 1", run), 0, "%s", out);
	cr_assert_null(strstr(out, "\"hot_"), "no hot set, no hot keys: %s", out);
	cr_assert_eq(shell_feral(0, "%s --threads 1 --hot-threshold 0.05", run), 0, "%s", out);
	cr_assert_gt(json_num("hot_coords"), 0);
	cr_assert_gt(json_num("hot_nnz_share"), 0);
	cr_assert_eq(json_num("hot_every"), FERAL_HOT_EVERY_AUTO);
	cr_assert_eq(shell_feral(0, "%s --threads 2 --hot-every 16", run), 0, "%s", out);
	cr_assert_gt(json_num("hot_coords"), 0);
	cr_assert_eq(json_num("hot_every"), 16);
	cr_assert_eq(shell_feral(0, "%s --threads 2 --hot-threshold off", run), 0, "%s", out);
	cr_assert_null(strstr(out, "\"hot_"), "%s", out);
	/* bad values name the option; a threshold with an explicit mode is refused */
	cr_assert_eq(shell_feral(1, "%s --hot-threshold 0", run), 2, "%s", out);
	cr_assert_not_null(strstr(out, "hot-threshold"), "%s", out);
	cr_assert_eq(shell_feral(1, "%s --hot-every 0", run), 2, "%s", out);
	cr_assert_not_null(strstr(out, "hot-every"), "%s", out);
	cr_assert_neq(shell_feral(1, "%s --hot-threshold 0.1 --replicas core", run), 0, "%s", out);
	cr_assert_not_null(strstr(out, "replicas"), "%s", out);
}

/* With every touched column hot, no update's cold support is left to race:
 * the conflict rate (counted on cold columns only) is exactly 0 however the
 * two workers interleave, where the plain shared model's rows of 20 Zipf
 * columns nearly always overlap the row in flight. */
Test(hot, test_conflict_rate_counts_cold_columns_only)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_SPARSE);
	o.n = 20000;
	o.d = 4000; /* <= FERAL_HOT_MAX: all can be hot */
	o.power = 1.2;
	o.density = 20.0 / 4000;
	o.seed = 5;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_gen(&o, &ds, &xs, &e), FERAL_OK, "%s", e.msg);
	struct feral_config c;
	feral_config_init(&c);
	c.method = FERAL_METHOD_SGD;
	c.threads = 2;
	c.bind = FERAL_BIND_NONE;
	c.tol = 0;
	c.epochs = 3;
	c.seed = 1;
	c.hot_threshold = 1e-12; /* every touched column */
	double *x = calloc(ds->d, sizeof *x);
	struct feral_result r;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	cr_assert(r.hot_coords > 0, "no hot set");
	cr_assert(r.hot_nnz_share > 0.999, "share %g", r.hot_nnz_share);
	cr_assert(!isnan(r.conflict_rate), "no sample");
	cr_assert_eq(r.conflict_rate, 0.0, "conflict rate %g with no cold column", r.conflict_rate);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}
