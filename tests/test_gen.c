/* Synthetic problems (src/gen.c): determinism, shapes, consistency, the
 * GAUSSIAN condition number and row spread, SPARSE column skew, the
 * Needell-Srebro-Ward cases' structure, and option validation. */
#include <criterion/criterion.h>
#include "internal.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef FERAL_HAVE_LAPACKE
#include <cblas.h>
#include <lapacke.h>
#endif

TestSuite(gen, .timeout = 60);

struct gen_out {
	struct feral_dataset *ds;
	double *x;
};

static struct gen_out gen_ok(const struct feral_gen_options *o)
{
	struct gen_out g = {NULL, NULL};
	struct feral_error e = {0};
	enum feral_status st = feral_gen(o, &g.ds, &g.x, &e);
	cr_assert_eq(st, FERAL_OK, "feral_gen(%s, n=%llu, d=%llu) = %d: %s",
	             feral_gen_kind_name(o->kind), (unsigned long long)o->n,
	             (unsigned long long)o->d, (int)st, e.msg);
	cr_assert_not_null(g.x, "%s: x_star not set", feral_gen_kind_name(o->kind));
	return g;
}

static void gen_free(struct gen_out *g)
{
	feral_dataset_destroy(&g->ds);
	free(g->x);
	g->x = NULL;
}

static struct feral_gen_options small_opts(enum feral_gen_kind k, uint64_t seed)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, k);
	o.n = 300;
	o.d = k == FERAL_GEN_SPARSE ? 400 : 30;
	if (k == FERAL_GEN_SPARSE)
		o.density = 0.02;
	if (k == FERAL_GEN_GAUSSIAN)
		o.spread = 4;
	o.seed = seed;
	return o;
}

static const float *fvals(const struct feral_dataset *ds)
{
	return ds->values;
}

/* a_i . x in double from the stored floats */
static double row_dot(const struct feral_dataset *ds, uint64_t i, const double *x)
{
	const float *v = fvals(ds);
	double s = 0;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
			s += (double)v[k] * x[ds->indices[k]];
	} else {
		for (uint64_t j = 0; j < ds->d; j++)
			s += (double)v[i * ds->d + j] * x[j];
	}
	return s;
}

/* ||A x - y|| / ||y|| */
static double rel_residual(const struct feral_dataset *ds, const double *x)
{
	double r = 0, yy = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double t = row_dot(ds, i, x) - ds->y[i];
		r += t * t;
		yy += ds->y[i] * ds->y[i];
	}
	return sqrt(r / yy);
}

static bool same_dataset(const struct feral_dataset *a, const struct feral_dataset *b,
                         const double *xa, const double *xb)
{
	if (a->n != b->n || a->d != b->d || a->nnz != b->nnz || a->layout != b->layout)
		return false;
	if (memcmp(a->values, b->values, a->nnz * sizeof(float)) ||
	    memcmp(a->y, b->y, a->n * sizeof(double)) || memcmp(xa, xb, a->d * sizeof(double)))
		return false;
	if (a->layout == FERAL_LAYOUT_CSR &&
	    (memcmp(a->indptr, b->indptr, (a->n + 1) * sizeof(uint64_t)) ||
	     memcmp(a->indices, b->indices, a->nnz * sizeof(uint32_t))))
		return false;
	return true;
}

Test(gen, test_kind_names_roundtrip_and_unknown_is_usage)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		const char *name = feral_gen_kind_name((enum feral_gen_kind)k);
		enum feral_gen_kind back = FERAL_GEN_COUNT;
		cr_assert_eq(feral_gen_kind_from_name(name, &back), FERAL_OK, "name '%s'", name);
		cr_assert_eq((int)back, k, "'%s' -> %d, expected %d", name, (int)back, k);
	}
	const char *want[] = {"nsw1", "nsw2", "nsw3", "nsw4", "nsw5", "gaussian", "sparse",
	                      "logistic"};
	for (int k = 0; k < FERAL_GEN_COUNT; k++)
		cr_assert_str_eq(feral_gen_kind_name((enum feral_gen_kind)k), want[k]);
	enum feral_gen_kind out;
	cr_assert_eq(feral_gen_kind_from_name("nsw6", &out), FERAL_STATUS_USAGE);
	cr_assert_eq(feral_gen_kind_from_name("", &out), FERAL_STATUS_USAGE);
	cr_assert_eq(feral_gen_kind_from_name(NULL, &out), FERAL_STATUS_USAGE);
	cr_assert_str_eq(feral_gen_kind_name(FERAL_GEN_COUNT), "unknown");
}

Test(gen, test_options_init_gives_documented_defaults)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		struct feral_gen_options o;
		feral_gen_options_init(&o, (enum feral_gen_kind)k);
		cr_assert_eq((int)o.kind, k);
		cr_assert(o.n >= 1 && o.d >= 1, "kind %d: n=%llu d=%llu", k,
		          (unsigned long long)o.n, (unsigned long long)o.d);
		cr_assert_eq(o.seed, 1);
		cr_assert_float_eq(o.cond, 10.0, 1e-12, "kind %d: cond %g", k, o.cond);
		cr_assert_float_eq(o.spread, 1.0, 1e-12, "kind %d: spread %g", k, o.spread);
		cr_assert_float_eq(o.power, 1.5, 1e-12, "kind %d: power %g", k, o.power);
		cr_assert_eq(o.density, 0.0, "kind %d: density %g, expected 0 (about 20 a row)", k,
		             o.density);
		cr_assert_lt(o.noise, 0.0, "kind %d: noise %g should mean 'kind default'", k,
		             o.noise);
	}
}

Test(gen, test_same_seed_gives_identical_arrays)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		struct feral_gen_options o = small_opts((enum feral_gen_kind)k, 42);
		struct gen_out a = gen_ok(&o), b = gen_ok(&o);
		cr_assert(same_dataset(a.ds, b.ds, a.x, b.x), "%s: seed 42 twice differs",
		          feral_gen_kind_name(o.kind));
		gen_free(&a);
		gen_free(&b);
	}
}

Test(gen, test_different_seed_gives_different_arrays)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		struct feral_gen_options o = small_opts((enum feral_gen_kind)k, 1);
		struct gen_out a = gen_ok(&o);
		o.seed = 2;
		struct gen_out b = gen_ok(&o);
		cr_assert_neq(memcmp(a.ds->values, b.ds->values, a.ds->nnz * sizeof(float)), 0,
		              "%s: seeds 1 and 2 give the same values", feral_gen_kind_name(o.kind));
		cr_assert_neq(memcmp(a.x, b.x, a.ds->d * sizeof(double)), 0,
		              "%s: seeds 1 and 2 give the same x*", feral_gen_kind_name(o.kind));
		gen_free(&a);
		gen_free(&b);
	}
}

Test(gen, test_output_does_not_depend_on_thread_count)
{
#ifdef _OPENMP
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		struct feral_gen_options o = small_opts((enum feral_gen_kind)k, 7);
		o.n = 5000; /* several row blocks */
		omp_set_num_threads(1);
		struct gen_out a = gen_ok(&o);
		omp_set_num_threads(3);
		struct gen_out b = gen_ok(&o);
		cr_assert(same_dataset(a.ds, b.ds, a.x, b.x), "%s: 1 vs 3 threads differ",
		          feral_gen_kind_name(o.kind));
		gen_free(&a);
		gen_free(&b);
	}
#else
	cr_skip_test("built without OpenMP");
#endif
}

Test(gen, test_shapes_layouts_and_norms_are_consistent)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		struct feral_gen_options o = small_opts((enum feral_gen_kind)k, 3);
		struct gen_out g = gen_ok(&o);
		struct feral_dataset *ds = g.ds;
		const char *nm = feral_gen_kind_name(o.kind);
		cr_assert_eq(ds->n, o.n, "%s: n %llu, expected %llu", nm, (unsigned long long)ds->n,
		             (unsigned long long)o.n);
		cr_assert_eq(ds->d, o.d, "%s: d %llu, expected %llu", nm, (unsigned long long)ds->d,
		             (unsigned long long)o.d);
		cr_assert_eq(ds->precision, FERAL_PRECISION_F32, "%s: precision %d", nm,
		             (int)ds->precision);
		if (o.kind == FERAL_GEN_SPARSE) {
			cr_assert_eq(ds->layout, FERAL_LAYOUT_CSR, "%s: layout", nm);
			cr_assert_eq(ds->nnz, o.n * 8, "%s: nnz %llu, expected n * 8", nm,
			             (unsigned long long)ds->nnz);
		} else {
			cr_assert_eq(ds->layout, FERAL_LAYOUT_DENSE, "%s: layout", nm);
			cr_assert_eq(ds->nnz, o.n * o.d, "%s: nnz %llu", nm, (unsigned long long)ds->nnz);
		}
		struct feral_error e = {0};
		cr_assert_eq(feral_dataset_check(ds, &e), FERAL_OK, "%s: check: %s", nm, e.msg);
		double *kept = malloc(ds->n * sizeof *kept);
		memcpy(kept, ds->row_sq_norm, ds->n * sizeof *kept);
		feral_dataset_update_norms(ds);
		for (uint64_t i = 0; i < ds->n; i++)
			cr_assert_eq(kept[i], ds->row_sq_norm[i],
			             "%s: row %llu norm %.17g, update_norms gives %.17g", nm,
			             (unsigned long long)i, kept[i], ds->row_sq_norm[i]);
		free(kept);
		gen_free(&g);
	}
}

Test(gen, test_noiseless_systems_are_consistent)
{
	for (int k = 0; k < FERAL_GEN_COUNT; k++) {
		if (k == FERAL_GEN_LOGISTIC)
			continue;
		struct feral_gen_options o = small_opts((enum feral_gen_kind)k, 5);
		o.noise = 0;
		struct gen_out g = gen_ok(&o);
		double rr = rel_residual(g.ds, g.x);
		cr_assert_lt(rr, 1e-5, "%s, noise 0: ||A x* - b|| / ||b|| = %g, expected < 1e-5",
		             feral_gen_kind_name(o.kind), rr);
		gen_free(&g);
	}
}

Test(gen, test_noise_option_sets_the_residual_std)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 4000;
	o.d = 20;
	o.noise = 0.5;
	struct gen_out g = gen_ok(&o);
	double ss = 0;
	for (uint64_t i = 0; i < g.ds->n; i++) {
		double t = g.ds->y[i] - row_dot(g.ds, i, g.x);
		ss += t * t;
	}
	double sd = sqrt(ss / (double)g.ds->n);
	cr_assert(sd > 0.45 && sd < 0.55, "std of b - A x* = %g, expected ~0.5 (noise 0.5)", sd);
	gen_free(&g);
}

#ifdef FERAL_HAVE_LAPACKE
/* sigma_max / sigma_min of a stored dense dataset */
static double measured_cond(const struct feral_dataset *ds)
{
	uint64_t n = ds->n, d = ds->d, r = n < d ? n : d;
	double *A = malloc(n * d * sizeof *A), *s = malloc(r * sizeof *s);
	double *sup = malloc(r * sizeof *sup);
	for (uint64_t k = 0; k < n * d; k++)
		A[k] = fvals(ds)[k];
	lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)d,
	                                 A, (lapack_int)d, s, NULL, 1, NULL, 1, sup);
	cr_assert_eq(info, 0, "dgesvd info %d", (int)info);
	double c = s[0] / s[r - 1];
	free(A);
	free(s);
	free(sup);
	return c;
}
#endif

Test(gen, test_gaussian_condition_number_matches_request)
{
#ifdef FERAL_HAVE_LAPACKE
	double conds[] = {1, 10, 100, 1000};
	for (int t = 0; t < 4; t++) {
		struct feral_gen_options o;
		feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
		o.n = 400;
		o.d = 40;
		o.cond = conds[t];
		struct gen_out g = gen_ok(&o);
		double c = measured_cond(g.ds);
		cr_assert(c >= 0.8 * o.cond && c <= 1.25 * o.cond,
		          "400 x 40, cond %g, spread 1: measured %g, expected in [%g, %g]", o.cond, c,
		          0.8 * o.cond, 1.25 * o.cond);
		/* typical rows have norm ~ sqrt(d) */
		double fro = 0;
		for (uint64_t i = 0; i < g.ds->n; i++)
			fro += g.ds->row_sq_norm[i];
		double mean = fro / (double)g.ds->n;
		cr_assert(mean > 0.9 * (double)o.d && mean < 1.1 * (double)o.d,
		          "cond %g: mean ||a_i||^2 %g, expected ~d = %llu", o.cond, mean,
		          (unsigned long long)o.d);
		gen_free(&g);
	}
	/* wide: n < d gives rank n with the same spectrum */
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 30;
	o.d = 80;
	o.cond = 50;
	struct gen_out g = gen_ok(&o);
	double c = measured_cond(g.ds);
	cr_assert(c >= 0.8 * o.cond && c <= 1.25 * o.cond, "30 x 80, cond 50: measured %g", c);
	gen_free(&g);
#else
	cr_skip_test("built without LAPACKE");
#endif
}

Test(gen, test_gaussian_large_uses_scaled_columns_with_approximate_cond)
{
#ifdef FERAL_HAVE_LAPACKE
	/* 200000 x 200 is past the exact construction's limits (4 n d^2 flops);
	 * expect cond within (1 + sqrt(d/n)) / (1 - sqrt(d/n)) ~ 1.07, band 1.3. */
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 200000;
	o.d = 200;
	o.cond = 30;
	struct gen_out g = gen_ok(&o);
	uint64_t d = o.d, chunk = 4096;
	double *G = calloc(d * d, sizeof *G), *buf = malloc(chunk * d * sizeof *buf);
	for (uint64_t i0 = 0; i0 < o.n; i0 += chunk) {
		uint64_t m = o.n - i0 < chunk ? o.n - i0 : chunk;
		for (uint64_t k = 0; k < m * d; k++)
			buf[k] = fvals(g.ds)[i0 * d + k];
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, buf, (int)d,
		            1.0, G, (int)d);
	}
	double *ev = malloc(d * sizeof *ev);
	lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, G,
	                                (lapack_int)d, ev);
	cr_assert_eq(info, 0, "dsyev info %d", (int)info);
	double c = sqrt(ev[d - 1] / ev[0]);
	cr_assert(c >= o.cond / 1.3 && c <= o.cond * 1.3,
	          "200000 x 200, cond %g: measured %g, expected within a factor 1.3", o.cond, c);
	free(G);
	free(buf);
	free(ev);
	gen_free(&g);
#else
	cr_skip_test("built without LAPACKE");
#endif
}

static double norm_ratio(const struct feral_dataset *ds)
{
	double lo = INFINITY, hi = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double v = sqrt(ds->row_sq_norm[i]);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	return hi / lo;
}

Test(gen, test_gaussian_row_norm_spread_follows_request)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 2000;
	o.d = 50;
	o.cond = 2;
	struct gen_out g = gen_ok(&o);
	double flat = norm_ratio(g.ds);
	gen_free(&g);
	/* the exact construction's rows vary a little by themselves */
	cr_assert_lt(flat, 3.0, "spread 1: max/min row norm %g, expected < 3", flat);
	double spreads[] = {10, 100};
	for (int t = 0; t < 2; t++) {
		o.spread = spreads[t];
		g = gen_ok(&o);
		double r = norm_ratio(g.ds);
		cr_assert(r > o.spread / 2 && r < o.spread * 2,
		          "spread %g: max/min row norm %g, expected within a factor 2", o.spread, r);
		gen_free(&g);
	}
}

Test(gen, test_sparse_rows_have_requested_nnz_and_sorted_distinct_columns)
{
	struct {
		uint64_t d;
		double density, power;
	} cases[] = {
		{2000, 0.01, 1.5}, /* the usual: 20 a row */
		{2000, 0.2, 8},    /* skew too strong for distinct draws: uniform top-up */
		{50, 0.9, 8},      /* near dense: Fisher-Yates top-up */
		{50, 1.0, 1.5},    /* fully dense rows */
		{1000, 1e-6, 1.5}, /* rounds to 0: at least 1 */
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct feral_gen_options o;
		feral_gen_options_init(&o, FERAL_GEN_SPARSE);
		o.n = 2000;
		o.d = cases[c].d;
		o.density = cases[c].density;
		o.power = cases[c].power;
		struct gen_out g = gen_ok(&o);
		uint64_t k = (uint64_t)llround(o.density * (double)o.d);
		if (k < 1)
			k = 1;
		struct feral_error e = {0};
		cr_assert_eq(feral_dataset_check(g.ds, &e), FERAL_OK,
		             "d %llu density %g power %g: %s", (unsigned long long)o.d, o.density,
		             o.power, e.msg);
		for (uint64_t i = 0; i < o.n; i++)
			cr_assert_eq(g.ds->indptr[i + 1] - g.ds->indptr[i], k,
			             "d %llu density %g: row %llu has %llu nonzeros, expected %llu",
			             (unsigned long long)o.d, o.density, (unsigned long long)i,
			             (unsigned long long)(g.ds->indptr[i + 1] - g.ds->indptr[i]),
			             (unsigned long long)k);
		gen_free(&g);
	}
}

Test(gen, test_sparse_default_density_means_about_20_a_row)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_SPARSE);
	o.n = 100;
	o.d = 50000; /* set after init: the default still means about 20 a row */
	struct gen_out g = gen_ok(&o);
	cr_assert_eq(g.ds->nnz, 2000, "nnz %llu, expected 100 rows x 20",
	             (unsigned long long)g.ds->nnz);
	gen_free(&g);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

Test(gen, test_sparse_column_popularity_is_skewed)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_SPARSE);
	o.n = 20000;
	o.d = 2000;
	o.density = 0.01;
	struct gen_out g = gen_ok(&o);
	uint64_t *cnt = calloc(o.d, sizeof *cnt);
	for (uint64_t k = 0; k < g.ds->nnz; k++)
		cnt[g.ds->indices[k]]++;
	qsort(cnt, o.d, sizeof *cnt, cmp_u64);
	uint64_t top = cnt[o.d - 1], med = cnt[o.d / 2];
	cr_assert_gt(top, 20 * (med > 0 ? med : 1),
	             "power %g: most popular column in %llu rows, median %llu: expected > 20x",
	             o.power, (unsigned long long)top, (unsigned long long)med);
	free(cnt);
	gen_free(&g);
	/* power 0 is uniform: the top column is within a few sigma of the mean */
	o.power = 0;
	g = gen_ok(&o);
	cnt = calloc(o.d, sizeof *cnt);
	for (uint64_t k = 0; k < g.ds->nnz; k++)
		cnt[g.ds->indices[k]]++;
	qsort(cnt, o.d, sizeof *cnt, cmp_u64);
	double mean = (double)g.ds->nnz / (double)o.d;
	cr_assert_lt((double)cnt[o.d - 1], mean + 6 * sqrt(mean),
	             "power 0: top column in %llu rows, mean %g", (unsigned long long)cnt[o.d - 1],
	             mean);
	free(cnt);
	gen_free(&g);
}

Test(gen, test_nsw1_last_row_dominates_the_norms)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_NSW1);
	struct gen_out g = gen_ok(&o);
	double other = 0, fro = 0, last = g.ds->row_sq_norm[o.n - 1];
	for (uint64_t i = 0; i + 1 < o.n; i++)
		other = g.ds->row_sq_norm[i] > other ? g.ds->row_sq_norm[i] : other;
	for (uint64_t i = 0; i < o.n; i++)
		fro += g.ds->row_sq_norm[i];
	cr_assert_gt(last, 100 * other, "nsw1: last row ||a||^2 %g, largest other %g", last, other);
	cr_assert_gt(last / fro, 0.5, "nsw1: last row holds %g of ||A||_F^2", last / fro);
	gen_free(&g);
}

Test(gen, test_nsw2_rows_are_nearly_equal_in_norm)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_NSW2);
	struct gen_out g = gen_ok(&o);
	double r = norm_ratio(g.ds);
	cr_assert_lt(r, 3.0, "nsw2: max/min row norm %g", r);
	gen_free(&g);
}

/* sqrt(mean (b - A x*)^2) over rows [i0, i1) */
static double noise_rms(const struct gen_out *g, uint64_t i0, uint64_t i1)
{
	double ss = 0;
	for (uint64_t i = i0; i < i1; i++) {
		double t = g->ds->y[i] - row_dot(g->ds, i, g->x);
		ss += t * t;
	}
	return sqrt(ss / (double)(i1 - i0));
}

Test(gen, test_nsw3_to_5_rows_grow_and_noise_falls_from_case_3_to_5)
{
	double rms[3];
	for (int c = 0; c < 3; c++) {
		struct feral_gen_options o;
		feral_gen_options_init(&o, (enum feral_gen_kind)(FERAL_GEN_NSW3 + c));
		struct gen_out g = gen_ok(&o);
		uint64_t n = o.n, tenth = n / 10;
		double lo = 0, hi = 0;
		for (uint64_t i = 0; i < tenth; i++) {
			lo += g.ds->row_sq_norm[i];
			hi += g.ds->row_sq_norm[n - 1 - i];
		}
		cr_assert_gt(hi, 100 * lo, "nsw%d: last tenth ||a||^2 sum %g, first tenth %g", 3 + c,
		             hi, lo);
		/* the noise is largest on the small rows (documented in gen.c) */
		double small = noise_rms(&g, 0, tenth), big = noise_rms(&g, n - tenth, n);
		cr_assert_gt(small, 5 * big, "nsw%d: noise rms first tenth %g, last tenth %g", 3 + c,
		             small, big);
		rms[c] = noise_rms(&g, 0, n);
		gen_free(&g);
	}
	cr_assert_gt(rms[0], 2 * rms[1], "noise rms nsw3 %g, nsw4 %g", rms[0], rms[1]);
	cr_assert_gt(rms[1], 10 * rms[2], "noise rms nsw4 %g, nsw5 %g", rms[1], rms[2]);
}

Test(gen, test_logistic_labels_follow_the_planted_w)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_LOGISTIC);
	o.n = 20000;
	o.d = 20;
	struct gen_out g = gen_ok(&o);
	uint64_t agree = 0;
	for (uint64_t i = 0; i < o.n; i++) {
		double y = g.ds->y[i];
		cr_assert(y == 1.0 || y == -1.0, "row %llu: label %g", (unsigned long long)i, y);
		agree += (row_dot(g.ds, i, g.x) >= 0) == (y > 0);
	}
	/* default noise 0.25 on a N(0,1) margin flips atan(0.25)/pi = 7.8% */
	double frac = (double)agree / (double)o.n;
	cr_assert(frac > 0.9 && frac < 0.95, "labels agreeing with sign(a.w): %g, expected ~0.922",
	          frac);
	gen_free(&g);
	o.noise = 0;
	g = gen_ok(&o);
	for (uint64_t i = 0; i < o.n; i++)
		cr_assert_eq(row_dot(g.ds, i, g.x) >= 0, g.ds->y[i] > 0,
		             "noise 0: row %llu label %g, margin %g", (unsigned long long)i,
		             g.ds->y[i], row_dot(g.ds, i, g.x));
	gen_free(&g);
}

/* Bad option t (0..BAD_OPTS-1) applied to o; returns the word its message must contain. */
#define BAD_OPTS 13
static const char *bad_option(int t, struct feral_gen_options *o)
{
	switch (t) {
	case 0: o->n = 0; return "n =";
	case 1: o->d = 0; return "d =";
	case 2: o->d = 1ull << 33; return "d =";
	case 3: o->density = 1.5; return "density";
	case 4: o->density = -0.1; return "density";
	case 5: o->density = NAN; return "density";
	case 6: o->cond = 0.5; return "cond";
	case 7: o->cond = INFINITY; return "cond";
	case 8: o->spread = 0.99; return "spread";
	case 9: o->power = -1; return "power";
	case 10: o->noise = NAN; return "noise";
	case 11: o->kind = FERAL_GEN_COUNT; return "kind";
	default: o->n = 1ull << 40; o->d = 1ull << 30; return "too large";
	}
}

Test(gen, test_bad_options_are_usage_naming_the_option)
{
	for (int t = 0; t < BAD_OPTS; t++) {
		struct feral_gen_options o;
		feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
		const char *what = bad_option(t, &o);
		struct feral_dataset *ds = (void *)1;
		double *x = (void *)1;
		struct feral_error e = {0};
		enum feral_status st = feral_gen(&o, &ds, &x, &e);
		cr_assert_eq(st, FERAL_STATUS_USAGE, "case %d (%s): status %d, expected USAGE", t,
		             what, (int)st);
		cr_assert_not_null(strstr(e.msg, what), "case %d: message '%s' lacks '%s'", t, e.msg,
		                   what);
		cr_assert_null(ds, "case %d: *out not cleared", t);
		cr_assert_null(x, "case %d: *x_star not cleared", t);
	}
	struct feral_dataset *ds;
	cr_assert_eq(feral_gen(NULL, &ds, NULL, NULL), FERAL_STATUS_USAGE);
}
