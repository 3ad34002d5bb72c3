/* feral_dataset_quantize: scales, range, unbiasedness over seeds,
 * determinism (seed only, not thread count), CSR structure, y and norms. */
#include <criterion/criterion.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal.h"

TestSuite(quantize, .timeout = 60);

static const float ROW[] = {1.0f, 0.3f, -0.77f, 0.0105f, -0.5f, 0.0f};
#define D (sizeof ROW / sizeof ROW[0])

/* n copies of ROW (dense), y_i = i. */
static struct feral_dataset *rows(uint64_t n)
{
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(n, D, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK, "%s", e.msg);
	for (uint64_t i = 0; i < n; i++) {
		memcpy((float *)ds->values + i * D, ROW, sizeof ROW);
		ds->y[i] = (double)i;
	}
	feral_dataset_update_norms(ds);
	return ds;
}

static struct feral_dataset *quant(const struct feral_dataset *ds, enum feral_precision p,
                                   uint64_t seed)
{
	struct feral_dataset *q;
	struct feral_error e;
	cr_assert_eq(feral_dataset_quantize(ds, p, seed, &q, &e), FERAL_OK, "%s", e.msg);
	return q;
}

/* Mean of the dequantized values over n rows x S seeds within 4 standard
 * errors of the input (N = 10^6 samples a column). */
static void check_unbiased(enum feral_precision p)
{
	const uint64_t n = 20000, S = 50;
	struct feral_dataset *ds = rows(n);
	double sum[D] = {0};
	float scale = 0;
	for (uint64_t s = 0; s < S; s++) {
		struct feral_dataset *q = quant(ds, p, 1000 + s);
		scale = q->row_scale[0];
		for (uint64_t i = 0; i < n; i++)
			for (size_t j = 0; j < D; j++)
				sum[j] += feral_dataset_value(q, i, i * D + j);
		feral_dataset_destroy(&q);
	}
	int M = p == FERAL_PRECISION_I16 ? 32767 : 127;
	cr_assert(scale >= 1.0f / M && scale <= nextafterf(1.0f / M, 1), "%d-bit scale %.9g, want %.9g",
	          feral_precision_bits(p), scale, 1.0 / M);
	for (size_t j = 0; j < D; j++) {
		double v = ROW[j] / (double)scale, f = v - floor(v);
		double se = scale * sqrt(f * (1 - f) / (double)(n * S));
		double mean = sum[j] / (double)(n * S);
		cr_assert(fabs(mean - ROW[j]) <= 4 * se + 1e-12,
		          "%d-bit column %zu: mean %.9g, value %.9g, |diff| %.3g > 4 SE = %.3g",
		          feral_precision_bits(p), j, mean, ROW[j], fabs(mean - ROW[j]), 4 * se);
	}
	feral_dataset_destroy(&ds);
}
Test(quantize, test_int8_stochastic_rounding_is_unbiased) { check_unbiased(FERAL_PRECISION_I8); }
Test(quantize, test_int16_stochastic_rounding_is_unbiased) { check_unbiased(FERAL_PRECISION_I16); }

Test(quantize, test_values_stay_in_symmetric_range_and_norms_match)
{
	struct feral_dataset *ds;
	struct feral_error e;
	const uint64_t n = 600, d = 33;
	cr_assert_eq(feral_dataset_create(n, d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK);
	struct feral_rng r;
	feral_rng_seed(&r, 3, 0);
	float *v = ds->values;
	for (uint64_t k = 0; k < n * d; k++)
		v[k] = (float)(feral_rng_normal(&r) * pow(10, (double)(k / d % 7) - 3));
	memset(v + 5 * d, 0, d * sizeof *v); /* a zero row */
	for (int pi = 0; pi < 2; pi++) {
		enum feral_precision p = pi ? FERAL_PRECISION_I16 : FERAL_PRECISION_I8;
		int M = pi ? 32767 : 127;
		struct feral_dataset *q = quant(ds, p, 9);
		cr_assert_eq(q->precision, p);
		cr_assert_eq(q->row_scale[5], 0.0f, "zero row: scale %g, want 0", q->row_scale[5]);
		for (uint64_t i = 0; i < n; i++) {
			double mx = 0, sq = 0;
			for (uint64_t j = 0; j < d; j++) {
				mx = fmax(mx, fabs(v[i * d + j]));
				double qv = pi ? ((int16_t *)q->values)[i * d + j] : ((int8_t *)q->values)[i * d + j];
				cr_assert(fabs(qv) <= M, "row %llu: q = %g beyond +-%d", (unsigned long long)i, qv, M);
				double x = feral_dataset_value(q, i, i * d + j);
				sq += x * x;
				/* stochastic rounding moves a value by less than one step */
				cr_assert(fabs(x - v[i * d + j]) <= q->row_scale[i] * 1.000001,
				          "row %llu col %llu: %g -> %g (scale %g)", (unsigned long long)i,
				          (unsigned long long)j, v[i * d + j], x, q->row_scale[i]);
			}
			if (mx > 0)
				cr_assert(q->row_scale[i] * (double)M >= mx && q->row_scale[i] * (double)M <= mx * (1 + 1e-6),
				          "row %llu: scale %g for max %g", (unsigned long long)i, q->row_scale[i], mx);
			cr_assert(fabs(q->row_sq_norm[i] - sq) <= 1e-12 * sq, "row %llu norm %g, want %g",
			          (unsigned long long)i, q->row_sq_norm[i], sq);
			cr_assert_eq(q->y[i], ds->y[i]);
		}
		feral_dataset_destroy(&q);
	}
	feral_dataset_destroy(&ds);
}

Test(quantize, test_deterministic_in_seed_and_independent_of_threads)
{
	struct feral_dataset *ds = rows(5000);
	struct feral_dataset *a = quant(ds, FERAL_PRECISION_I8, 77);
#ifdef _OPENMP
	int nt = omp_get_max_threads();
	omp_set_num_threads(1);
#endif
	struct feral_dataset *b = quant(ds, FERAL_PRECISION_I8, 77);
#ifdef _OPENMP
	omp_set_num_threads(nt > 1 ? nt : 3);
#endif
	struct feral_dataset *c = quant(ds, FERAL_PRECISION_I8, 78);
	cr_assert(memcmp(a->values, b->values, ds->nnz) == 0, "same seed, different thread count: differs");
	cr_assert(memcmp(a->values, c->values, ds->nnz) != 0, "different seeds gave identical data");
	feral_dataset_destroy(&a);
	feral_dataset_destroy(&b);
	feral_dataset_destroy(&c);
	feral_dataset_destroy(&ds);
}

Test(quantize, test_csr_keeps_structure)
{
	struct feral_dataset *ds;
	struct feral_error e;
	/* rows: {0: 2, 7: -1}, {}, {3: 0.25} */
	cr_assert_eq(feral_dataset_create(3, 9, 3, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds, &e), FERAL_OK);
	uint64_t ip[] = {0, 2, 2, 3};
	uint32_t ix[] = {0, 7, 3};
	float vv[] = {2, -1, 0.25f};
	memcpy(ds->indptr, ip, sizeof ip);
	memcpy(ds->indices, ix, sizeof ix);
	memcpy(ds->values, vv, sizeof vv);
	ds->y[0] = 1;
	ds->y[2] = -1;
	struct feral_dataset *q = quant(ds, FERAL_PRECISION_I16, 1);
	cr_assert_eq(q->layout, FERAL_LAYOUT_CSR);
	cr_assert_eq(q->nnz, 3);
	cr_assert(memcmp(q->indptr, ip, sizeof ip) == 0 && memcmp(q->indices, ix, sizeof ix) == 0);
	cr_assert_eq(((int16_t *)q->values)[0], 32767);
	cr_assert(((int16_t *)q->values)[1] == -16383 || ((int16_t *)q->values)[1] == -16384,
	          "-1 at scale 2/32767 -> %d", ((int16_t *)q->values)[1]);
	cr_assert_eq(((int16_t *)q->values)[2], 32767, "a row's max maps to M");
	cr_assert_eq(q->y[0], 1.0);
	cr_assert_eq(q->y[2], -1.0);
	cr_assert_eq(q->row_sq_norm[1], 0.0);
	cr_assert_eq(feral_dataset_check(q, &e), FERAL_OK, "%s", e.msg);
	feral_dataset_destroy(&q);
	feral_dataset_destroy(&ds);
}

Test(quantize, test_f32_is_a_copy_and_bad_requests_fail)
{
	struct feral_dataset *ds = rows(3), *q;
	struct feral_error e;
	q = quant(ds, FERAL_PRECISION_F32, 0);
	cr_assert(memcmp(q->values, ds->values, 3 * D * sizeof(float)) == 0);
	cr_assert_null(q->row_scale);
	feral_dataset_destroy(&q);
	cr_assert_eq(feral_dataset_quantize(ds, FERAL_PRECISION_F64, 0, &q, &e), FERAL_STATUS_USAGE);
	cr_assert_null(q);
	((float *)ds->values)[4] = NAN;
	cr_assert_eq(feral_dataset_quantize(ds, FERAL_PRECISION_I8, 0, &q, &e), FERAL_STATUS_RANGE);
	cr_assert_null(q);
	feral_dataset_destroy(&ds);
}
