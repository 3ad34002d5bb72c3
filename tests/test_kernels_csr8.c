/* The sparse-row kernels into an int8 model (kernels/csr8.h): each writes
 * what its definition says (lengths 0..70, strided columns), and its
 * stochastic rounding is unbiased over >= 10^6 roundings per case, through
 * the CSR slot of every table; deliberately biased variants of the same
 * loops must fail the same check, so it has the power to see a bias. */
#include <criterion/criterion.h>
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "csr8.h"
#include "kernel_util.h"

TestSuite(kernels_csr8, .timeout = 60);

static const char *const ISAS[] = {"ref", "avx2", "avx512", "avx512vnni"};
#define NISAS (sizeof ISAS / sizeof ISAS[0])
#define I8 FERAL_PRECISION_I8
#define CSR FERAL_LAYOUT_CSR

/* ---- the int8 x int8 loop is its definition ---------------------------------
 * Recomputed here from the comment in csr8.h: aq from feral_k_fx8_alpha on
 * a copy of the generator, v_k the 16-bit field k mod 4 (from the top) of
 * the k/4-th wyrand output of lane[12], increment floor((a_k aq +
 * floor(v_k / 2^(16-F))) / 2^F), clamp to +-127.  Columns 3k + 1 of a model
 * of 3 len + 2; the others must not move. */
static uint64_t wyrand(uint64_t *g)
{
	*g += 0xa0761d6478bd642full;
	unsigned __int128 p = (unsigned __int128)*g * (*g ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(p >> 64) ^ (uint64_t)p;
}
static int64_t floor_div(int64_t v, int F) { return (v - (((v % (1 << F)) + (1 << F)) % (1 << F))) / (1 << F); }

Test(kernels_csr8, test_i8_i8_csr_is_its_definition)
{
	static const double alphas[] = {0.49, -0.3, 0.11, -0.0625, 0.0173, -0.0041, 0.001, -3e-7};
	const struct feral_kernels *ref = need("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 808, 0);
	enum { MAXL = 70, D = 3 * MAXL + 2 };
	int8_t a[MAXL + 1], x0[D], x[D];
	uint32_t idx[MAXL + 1];
	for (size_t len = 0; len <= MAXL; len++)
		for (size_t ai = 0; ai < sizeof alphas / sizeof alphas[0]; ai++) {
			for (size_t k = 0; k < len; k++) {
				a[k] = (int8_t)(feral_rng_next(&r) >> 56);
				idx[k] = (uint32_t)(3 * k + 1);
			}
			for (int j = 0; j < D; j++)
				x0[j] = (int8_t)((int)(feral_rng_next(&r) % 256) - 128); /* -128 too */
			memcpy(x, x0, sizeof x);
			struct feral_k_rng kr, mine;
			feral_k_rng_seed(&kr, 17 + len, 1);
			mine = kr;
			uint64_t sat = ref->axpy[CSR][I8][I8](x, a, idx, len, alphas[ai],
			                                      FERAL_ROUNDING_INDEPENDENT, &kr);
			uint64_t want_sat = 0, w = 0;
			if (len) {
				int16_t aq;
				int32_t s;
				int F = feral_k_fx8_alpha(alphas[ai], &mine, &aq, &s);
				uint64_t *g = &mine.lane[FERAL_K_CSR8_LANE];
				(void)s;
				for (size_t k = 0; k < len; k++) {
					if (k % 4 == 0)
						w = wyrand(g);
					int64_t vk = (int64_t)((w >> (48 - 16 * (k % 4))) & 0xffff);
					int64_t v = x0[idx[k]] +
					            floor_div((int64_t)a[k] * aq + (vk >> (16 - F)), F);
					want_sat += v > 127 || v < -127;
					v = v > 127 ? 127 : v < -127 ? -127 : v;
					cr_assert_eq(x[idx[k]], v, "len %zu alpha %g k %zu: x = %d, want %lld",
					             len, alphas[ai], k, x[idx[k]], (long long)v);
				}
			}
			cr_assert_eq(sat, want_sat, "len %zu alpha %g: %llu saturated, want %llu", len,
			             alphas[ai], (unsigned long long)sat, (unsigned long long)want_sat);
			for (int j = 0; j < D; j++)
				if (j % 3 != 1 || (size_t)j >= 3 * len)
					cr_assert_eq(x[j], x0[j], "len %zu: x[%d] outside the row moved", len, j);
			cr_assert(memcmp(kr.lane, mine.lane, sizeof kr.lane) == 0 &&
			                  memcmp(&kr.scalar, &mine.scalar, sizeof kr.scalar) == 0,
			          "len %zu alpha %g: generator state differs from the definition's", len,
			          alphas[ai]);
		}
}

/* ---- unbiased -----------------------------------------------------------------
 * T calls of a row of L elements (columns 2k + 1) into a zeroed model; the
 * per-call sums of x_k - E[x_k] over three groups (all elements, a_k > 0,
 * a_k < 0) have means within BAND standard errors of 0, the standard error
 * from the spread of the T per-call sums (so it holds whatever the
 * correlation inside a call: aq and s are drawn once per call).  Returns the
 * largest |mean| / SE of the groups.  4.5 SE: a false alarm below 7e-6 a
 * group under normality; seeds are fixed. */
#define BAND 4.5
typedef uint64_t (*axpy_fn)(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                            double alpha, struct feral_k_rng *rng);
enum { L = 40, T = 200000, DM = 2 * L + 1 }; /* 8 10^6 roundings a case */

static double bias_z(axpy_fn f, const void *a, const double *want, double alpha)
{
	uint32_t idx[L];
	for (int k = 0; k < L; k++)
		idx[k] = (uint32_t)(2 * k + 1);
	struct feral_k_rng rng;
	feral_k_rng_seed(&rng, 2026, 4);
	double sum[3] = {0}, sum2[3] = {0};
	int8_t x[DM];
	for (int t = 0; t < T; t++) {
		memset(x, 0, sizeof x);
		f(x, a, idx, L, alpha, &rng);
		double z[3] = {0};
		for (int k = 0; k < L; k++) {
			double e = x[idx[k]] - want[k];
			z[0] += e;
			z[want[k] > 0 ? 1 : 2] += e;
		}
		for (int g = 0; g < 3; g++) {
			sum[g] += z[g];
			sum2[g] += z[g] * z[g];
		}
		for (int j = 0; j < DM; j += 2)
			cr_assert_eq(x[j], 0, "column %d outside the row moved", j);
	}
	double zmax = 0;
	for (int g = 0; g < 3; g++) {
		double mean = sum[g] / T, var = (sum2[g] - sum[g] * sum[g] / T) / (T - 1);
		double se = sqrt(var / T);
		cr_assert(se > 0, "alpha %g group %d: results never vary", alpha, g);
		zmax = fmax(zmax, fabs(mean) / se);
	}
	return zmax;
}

/* Through the tables: the CSR slot of each ISA. */
static const struct feral_kernels *cur;
static uint64_t via_table_i8(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                             double alpha, struct feral_k_rng *rng)
{
	return cur->axpy[CSR][I8][I8](x, a, idx, len, alpha, FERAL_ROUNDING_INDEPENDENT, rng);
}
static uint64_t via_table_f32(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                              double alpha, struct feral_k_rng *rng)
{
	return cur->axpy[CSR][FERAL_PRECISION_F32][I8](x, a, idx, len, alpha,
	                                               FERAL_ROUNDING_INDEPENDENT, rng);
}
static uint64_t via_table_i16(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                              double alpha, struct feral_k_rng *rng)
{
	return cur->axpy[CSR][FERAL_PRECISION_I16][I8](x, a, idx, len, alpha,
	                                               FERAL_ROUNDING_INDEPENDENT, rng);
}

/* Biased on purpose, each a plausible slip: the int8 loop with only 8
 * random bits where F are discarded (the dense path's fresh byte without
 * its shared bits: E[R] falls by (2^(F-8) - 1)/2, -0.0019 of a unit at F =
 * 14), and dividing the signed sum by 2^16 (C's /, toward zero) instead of
 * flooring it; the float loop truncating toward zero instead of flooring. */
/* The int8 loop with the random field masked to `mask` and the signed sum
 * floored (shift) or divided toward zero (div). */
static uint64_t biased_loop(int8_t *x, const void *a_, const uint32_t *idx, size_t len,
                            double alpha, struct feral_k_rng *rng, int32_t mask, bool div)
{
	const int8_t *a = a_;
	int16_t aq;
	int32_t s;
	int F = feral_k_fx8_alpha(alpha, rng, &aq, &s);
	uint64_t w = 0;
	for (size_t k = 0; k < len; k++) {
		if (k % 4 == 0)
			w = feral_k_csr8_next(&rng->lane[FERAL_K_CSR8_LANE]);
		int32_t v = (int32_t)(w >> (48 - 16 * (k % 4))) & mask;
		int32_t p = a[k] * aq * (1 << (16 - F)) + v;
		x[idx[k]] = (int8_t)(x[idx[k]] + (div ? p / 65536 : p >> 16));
	}
	return 0;
}
static uint64_t biased_8bits(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                             double alpha, struct feral_k_rng *rng)
{
	return biased_loop(x, a, idx, len, alpha, rng, 0xff00, false);
}
static uint64_t biased_div(int8_t *x, const void *a, const uint32_t *idx, size_t len,
                           double alpha, struct feral_k_rng *rng)
{
	return biased_loop(x, a, idx, len, alpha, rng, 0xffff, true);
}
static uint64_t biased_trunc(int8_t *x, const void *a_, const uint32_t *idx, size_t len,
                             double alpha, struct feral_k_rng *rng)
{
	const float *a = a_;
	for (size_t k = 0; k < len; k++) {
		uint64_t w = feral_k_csr8_next(&rng->lane[FERAL_K_CSR8_LANE]);
		float t = (float)alpha * a[k] + (float)(w >> 40) * 0x1.0p-24f;
		x[idx[k]] = (int8_t)(x[idx[k]] + (int32_t)t);
	}
	return 0;
}

/* int8 data over the whole range; E[x_k] = alpha a_k.  alpha: F = 8 (both
 * signs), 12, 14 (the shared bits at their widest), and below 2^-20 (aq
 * from a second draw). */
static const double ALPHAS_I8[] = {0.3, -0.3, 0.0173, -0.0041, 0.00093, 4e-7};
#define NA_I8 (sizeof ALPHAS_I8 / sizeof ALPHAS_I8[0])
static void data_i8(int8_t *a, double alpha, double *want)
{
	for (int k = 0; k < L; k++) {
		a[k] = (int8_t)((k * 83 + 11) % 256 - 128);
		if (a[k] == 0)
			a[k] = 1;
		want[k] = alpha * a[k];
	}
}
/* float data off any grid, |increments| up to ~5 units. */
static void data_f32(float *a, double alpha, double *want, double scale)
{
	for (int k = 0; k < L; k++) {
		a[k] = (float)((k % 2 ? 1 : -1) * (0.37 + 0.0913 * k) * scale);
		want[k] = (double)((float)alpha * a[k]);
	}
}

Test(kernels_csr8, test_i8_i8_csr_rounding_is_unbiased)
{
	int8_t a[L];
	double want[L];
	for (size_t i = 0; i < NISAS; i++) {
		if (!(cur = feral_kernels_named(ISAS[i])))
			continue;
		for (size_t ai = 0; ai < NA_I8; ai++) {
			data_i8(a, ALPHAS_I8[ai], want);
			double z = bias_z(via_table_i8, a, want, ALPHAS_I8[ai]);
			cr_assert(z <= BAND, "%s csr i8 x i8 alpha %g: bias %.2f SE > %g", ISAS[i],
			          ALPHAS_I8[ai], z, BAND);
		}
	}
}

Test(kernels_csr8, test_float_data_csr_rounding_is_unbiased)
{
	static const double alphas[] = {3.1, -1.7, 0.013};
	float af[L];
	int16_t ah[L];
	double want[L];
	for (size_t i = 0; i < NISAS; i++) {
		if (!(cur = feral_kernels_named(ISAS[i])))
			continue;
		for (size_t ai = 0; ai < 3; ai++) {
			data_f32(af, alphas[ai], want, ai == 2 ? 100.0 : 1.0);
			double z = bias_z(via_table_f32, af, want, alphas[ai]);
			cr_assert(z <= BAND, "%s csr f32 x i8 alpha %g: bias %.2f SE > %g", ISAS[i],
			          alphas[ai], z, BAND);
			/* int16 data: the same loop over int16 values */
			for (int k = 0; k < L; k++) {
				ah[k] = (int16_t)((k % 2 ? 1 : -1) * (3 + 7 * k));
				want[k] = (double)((float)alphas[ai] * 0.01f * (float)ah[k]);
			}
			z = bias_z(via_table_i16, ah, want, (double)((float)alphas[ai] * 0.01f));
			cr_assert(z <= BAND, "%s csr i16 x i8 alpha %g: bias %.2f SE > %g", ISAS[i],
			          alphas[ai] * 0.01, z, BAND);
		}
	}
}

Test(kernels_csr8, test_biased_variants_fail_the_check)
{
	int8_t a[L];
	float af[L];
	double want[L];
	/* at F = 14 (8 random bits where 14 are discarded) */
	data_i8(a, -0.0041, want);
	double z = bias_z(biased_8bits, a, want, -0.0041);
	cr_assert(z > BAND, "8 random bits at F = 14 went unseen: %.2f SE", z);
	data_i8(a, 0.0173, want);
	z = bias_z(biased_div, a, want, 0.0173);
	cr_assert(z > BAND, "division toward zero went unseen: %.2f SE", z);
	data_f32(af, -1.7, want, 1.0);
	z = bias_z(biased_trunc, af, want, -1.7);
	cr_assert(z > BAND, "truncation went unseen: %.2f SE", z);
}

/* Saturation is counted exactly on the float path too: increments of
 * +-10.25 (alpha 0.5, a = +-20.5), every third element 3 inside the bound it
 * moves to. */
Test(kernels_csr8, test_float_data_csr_saturation_count_is_exact)
{
	enum { N = 37 };
	float a[N];
	int8_t x[2 * N];
	uint32_t idx[N];
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		memset(x, 0, sizeof x);
		uint64_t want = 0;
		for (int k = 0; k < N; k++) {
			a[k] = k % 2 ? 20.5f : -20.5f;
			idx[k] = (uint32_t)(2 * k);
			if (k % 3 == 0) {
				x[2 * k] = (int8_t)(k % 2 ? 124 : -124);
				want++;
			}
		}
		struct feral_k_rng rng;
		feral_k_rng_seed(&rng, 9, 0);
		uint64_t got = t->axpy[CSR][FERAL_PRECISION_F32][I8](x, a, idx, N, 0.5,
		                                                    FERAL_ROUNDING_INDEPENDENT, &rng);
		cr_assert_eq(got, want, "%s: %llu saturated, want %llu", ISAS[i],
		             (unsigned long long)got, (unsigned long long)want);
		for (int k = 0; k < N; k++) {
			int v = x[2 * k], s = k % 2 ? 1 : -1;
			if (k % 3 == 0)
				cr_assert_eq(v, 127 * s, "%s: x[%d] = %d", ISAS[i], 2 * k, v);
			else
				cr_assert(v == 10 * s || v == 11 * s, "%s: x[%d] = %d", ISAS[i], 2 * k, v);
			cr_assert_eq(x[2 * k + 1], 0, "%s: x[%d] outside the row moved", ISAS[i], 2 * k + 1);
		}
	}
}

/* The float path draws one word per element, in order, so a row split into
 * two calls (hot coordinates: the hot part, then the cold part) writes the
 * same bytes as the row in one call: one worker with a hot set stays the
 * plain solve bit for bit (tests/test_hot.c). */
Test(kernels_csr8, test_float_data_csr_split_row_is_the_whole_row)
{
	enum { MAXL = 70, D = 2 * MAXL + 1 };
	const struct feral_kernels *ref = need("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 99, 0);
	float a[MAXL];
	uint32_t idx[MAXL];
	int8_t x1[D], x2[D];
	for (size_t len = 0; len <= MAXL; len++)
		for (size_t h = 0; h <= len; h += 1 + len / 7) {
			for (size_t k = 0; k < len; k++) {
				a[k] = (float)((int)(feral_rng_next(&r) % 2001) - 1000) * 0.0371f;
				idx[k] = (uint32_t)(2 * k + (k & 1));
			}
			for (int j = 0; j < D; j++)
				x1[j] = x2[j] = (int8_t)((int)(feral_rng_next(&r) % 255) - 127);
			struct feral_k_rng r1, r2;
			feral_k_rng_seed(&r1, 5 + len, 0);
			r2 = r1;
			feral_k_axpy_fn f = ref->axpy[CSR][FERAL_PRECISION_F32][I8];
			uint64_t s1 = f(x1, a, idx, len, -0.83, FERAL_ROUNDING_INDEPENDENT, &r1);
			uint64_t s2 = f(x2, a, idx, h, -0.83, FERAL_ROUNDING_INDEPENDENT, &r2) +
			              f(x2, a + h, idx + h, len - h, -0.83, FERAL_ROUNDING_INDEPENDENT, &r2);
			cr_assert_eq(s1, s2, "len %zu split %zu: saturations %llu, split %llu", len, h,
			             (unsigned long long)s1, (unsigned long long)s2);
			cr_assert(memcmp(x1, x2, sizeof x1) == 0, "len %zu split %zu: models differ", len, h);
			cr_assert(memcmp(r1.lane, r2.lane, sizeof r1.lane) == 0, "len %zu split %zu: states",
			          len, h);
		}
}
