/* Kernels' integer axpys: exact saturation counts, unbiased stochastic
 * rounding through each ISA's axpy (10^6 roundings and more per case), and
 * NEAREST's half to even.  (Moved from tests/test_kernels.c.) */
#include <criterion/criterion.h>
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "kernel_util.h"

TestSuite(kernels, .timeout = 60);

static const char *const ISAS[] = {"ref", "avx2", "avx512", "avx512vnni"};
#define NISAS (sizeof ISAS / sizeof ISAS[0])
static const enum feral_precision MPS[] = {FERAL_PRECISION_F64, FERAL_PRECISION_F32,
                                           FERAL_PRECISION_I16, FERAL_PRECISION_I8};
static const char *PN[] = {"f32", "f64", "i16", "i8"};
static const char *LN[] = {"dense", "csr"};
static const char *MN[] = {"independent", "shared", "nearest"};

/* Exactly sized heap buffers, so a write past the end shows under ASan. */
static void *buf(enum feral_precision p, size_t n)
{
	void *b = malloc(n ? n * feral_precision_size(p) : 1);
	cr_assert_not_null(b);
	return b;
}

/* Two generator states are the same: lanes, lagged-Fibonacci ring and its
 * index, and the scalar stream (compared by its next draw, on copies). */
static bool same_generators(const struct feral_k_rng *x, const struct feral_k_rng *y)
{
	struct feral_k_rng a = *x, b = *y;
	return memcmp(a.lane, b.lane, sizeof a.lane) == 0 && memcmp(a.lf, b.lf, sizeof a.lf) == 0 &&
	       a.lf_i == b.lf_i && feral_rng_next(&a.scalar) == feral_rng_next(&b.scalar);
}

/* ---- saturation is counted exactly -------------------------------------------
 * Increments of +-10: alpha 10 with a = +-1 (int8 x int8: the 16-bit lane
 * path), and alpha +-0.375 with a = +-27 (+-10.125; int8 x int8: the byte
 * path).  Every
 * third element sits 3 inside the bound it moves to; every ninth of the
 * others sits 9 inside, so its sum is exactly -M-1 or M+1 (saturated too). */
Test(kernels, test_saturation_count_is_exact)
{
	const size_t len = 77; /* 4 vectors of 16 (one of 64) and a tail of 13 */
	static const double alphas[] = {10.0, 0.375, -0.375}; /* exact at F = 3, 8 */
	static const int amag[] = {1, 27, 27};
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (int mi = 2; mi < 4; mi++)
			for (int mode = 0; mode < FERAL_ROUNDING_COUNT; mode++)
				if (mode != FERAL_ROUNDING_SHARED) /* removed: no kernel reads it */
				for (int l = 0; l < 2; l++)
					for (size_t ai = 0; ai < 3; ai++) {
						enum feral_precision mp = MPS[mi];
						int M = qmax(mp);
						void *x = buf(mp, len);
						int8_t a[77];
						uint32_t idx[77];
						int dir[77];
						uint64_t want = 0;
						for (size_t k = 0; k < len; k++) {
							idx[k] = (uint32_t)k;
							a[k] = (int8_t)(k % 2 ? amag[ai] : -amag[ai]);
							dir[k] = (a[k] > 0) == (alphas[ai] > 0) ? 1 : -1;
							int in = k % 3 == 0 ? 3 : k % 9 == 1 ? 9 : 0;
							want += in != 0;
							set(x, mp, k, in ? dir[k] * (M - in) : 0);
						}
						struct feral_k_rng rng;
						feral_k_rng_seed(&rng, 5, 0);
						/* increment ~10: crosses the bound, others stay */
						uint64_t got = t->axpy[l][FERAL_PRECISION_I8][mp](
							x, a, l ? idx : NULL, len, alphas[ai], mode, &rng);
						cr_assert_eq(got, want,
						             "%s %s i8 x %s %s alpha %g len %zu: %llu saturated, "
						             "want %llu",
						             ISAS[i], LN[l], PN[mp], MN[mode], alphas[ai], len,
						             (unsigned long long)got, (unsigned long long)want);
						for (size_t k = 0; k < len; k++) {
							int in = k % 3 == 0 ? 3 : k % 9 == 1 ? 9 : 0;
							if (in)
								cr_assert_eq(get(x, mp, k), dir[k] * M,
								             "%s alpha %g x[%zu] = %g", ISAS[i],
								             alphas[ai], k, get(x, mp, k));
							else
								cr_assert(fabs(get(x, mp, k) - dir[k] * 10) <= 1,
								          "%s alpha %g x[%zu] = %g, want ~%d", ISAS[i],
								          alphas[ai], k, get(x, mp, k), dir[k] * 10);
						}
						free(x);
					}
	}
}

/* The same at lengths past the SIMD kernels' blocks of 16-bit saturation
 * counters (2^13 steps of 16 or 32 elements): every element saturates. */
Test(kernels, test_i16_fixed_point_saturation_count_over_blocks)
{
	static const size_t lens[] = {262143, 262144, 300001, 540000};
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
			size_t len = lens[li];
			int16_t *a = malloc(2 * len), *x = malloc(2 * len);
			for (size_t k = 0; k < len; k++) {
				a[k] = (int16_t)(k % 2 ? 40 : -40);
				x[k] = (int16_t)(k % 2 ? 32767 : -32767); /* every increment pushes out */
			}
			struct feral_k_rng rng;
			feral_k_rng_seed(&rng, 9, 0);
			uint64_t got = t->axpy[0][FERAL_PRECISION_I16][FERAL_PRECISION_I16](
				x, a, NULL, len, 0.25, FERAL_ROUNDING_INDEPENDENT, &rng);
			cr_assert_eq(got, len, "%s i16 x i16 len %zu: %llu saturated, want all", ISAS[i],
			             len, (unsigned long long)got);
			free(a);
			free(x);
		}
	}
}

/* The int16 x int16 fixed-point path (INDEPENDENT, |alpha| < 1/2): alpha =
 * +-0.25 and a = +-40 make aq = 2^14 and a aq a multiple of 2^16, so every
 * increment is exactly +-10 whatever the random bits.  Elements 3 or 9
 * inside the bound they move to (and -32767 + -10 -> -32777, below the
 * int16 range's -32768) saturate, the others move by 10. */
Test(kernels, test_i16_fixed_point_saturation_count_is_exact)
{
	const size_t len = 77; /* two steps of 32 and a tail of 13 */
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (int sgn = -1; sgn <= 1; sgn += 2) {
			int16_t a[77], x[77];
			int dir[77];
			uint64_t want = 0;
			for (size_t k = 0; k < len; k++) {
				a[k] = (int16_t)(k % 2 ? 40 : -40);
				dir[k] = (a[k] > 0) == (sgn > 0) ? 1 : -1;
				int in = k % 3 == 0 ? 3 : k % 9 == 1 ? 9 : k % 9 == 5 ? 0 : -1;
				want += in >= 0;
				x[k] = (int16_t)(in >= 0 ? dir[k] * (32767 - in) : 0);
			}
			struct feral_k_rng rng;
			feral_k_rng_seed(&rng, 8, 0);
			uint64_t got = t->axpy[0][FERAL_PRECISION_I16][FERAL_PRECISION_I16](
				x, a, NULL, len, sgn * 0.25, FERAL_ROUNDING_INDEPENDENT, &rng);
			cr_assert_eq(got, want, "%s i16 x i16 alpha %g: %llu saturated, want %llu", ISAS[i],
			             sgn * 0.25, (unsigned long long)got, (unsigned long long)want);
			for (size_t k = 0; k < len; k++) {
				int in = k % 3 == 0 ? 3 : k % 9 == 1 ? 9 : k % 9 == 5 ? 0 : -1;
				int w = in >= 0 ? dir[k] * 32767 : dir[k] * 10;
				cr_assert_eq(x[k], w, "%s alpha %g x[%zu] = %d, want %d", ISAS[i], sgn * 0.25,
				             k, x[k], w);
			}
		}
	}
}

/* ---- stochastic rounding is unbiased -------------------------------------------
 * A zeroed model of L elements gets x += alpha * 1 (int8 data) T times; the
 * grand mean must be within 4 standard errors of (float)alpha.  The standard
 * error comes from the spread of the T per-call means, so it holds whatever
 * the correlation inside a call (the int8 x int8 fixed-point path: one draw
 * rounds alpha for the whole call, and s is shared by its elements). */
/* The bands, in standard errors of the grand mean (the spread of per-call
 * means over T calls, so correlation inside a call is accounted for): 4 SE
 * is a false alarm below 6.4e-5 a case under normality; 4.5 SE (below 6.8e-6)
 * where many groups are checked at once.  Seeds are fixed. */
#define BAND_SE 4.0
#define BAND_SE_GROUPS 4.5
static void check_unbiased(const char *isa, enum feral_precision mp, enum feral_rounding mode,
                           double v)
{
	const struct feral_kernels *t = need(isa);
	enum { L = 64 };
	const size_t T = 100000; /* T x L = 6.4 10^6 roundings */
	int8_t a[L];
	memset(a, 1, sizeof a);
	void *x = buf(mp, L);
	struct feral_k_rng rng;
	feral_k_rng_seed(&rng, 1234, 3);
	double sum = 0, sum2 = 0;
	for (size_t trial = 0; trial < T; trial++) {
		memset(x, 0, L * feral_precision_size(mp));
		t->axpy[0][FERAL_PRECISION_I8][mp](x, a, NULL, L, v, mode, &rng);
		double m = 0;
		for (size_t k = 0; k < L; k++)
			m += get(x, mp, k);
		m /= L;
		sum += m;
		sum2 += m * m;
	}
	double target = (double)(float)v, mean = sum / (double)T;
	double var = (sum2 - sum * sum / (double)T) / (double)(T - 1);
	double se = sqrt(var / (double)T);
	cr_assert(se > 0, "%s i8 x %s %s rounding of %g: results never vary", isa, PN[mp], MN[mode], v);
	cr_assert(fabs(mean - target) <= BAND_SE * se,
	          "%s i8 x %s %s rounding of %.9g: mean %.9g over %zu x %d, |diff| %.3g > %g SE "
	          "= %.3g",
	          isa, PN[mp], MN[mode], target, mean, T, L, fabs(mean - target), BAND_SE,
	          BAND_SE * se);
	free(x);
}
static void check_unbiased_all(const char *isa)
{
	/* int8 x int8: 0.3 and -0.3 take the byte path at F = 8, 0.0625 and
	 * -0.0173 at F = 11 and 12, 0.001 at F = 14; -2.71 the 16-bit lanes. */
	static const double vals[] = {0.3, -2.71, 0.0625, 0.001, -0.3, -0.0173};
	for (int mi = 2; mi < 4; mi++)
		for (size_t vi = 0; vi < 6; vi++)
			check_unbiased(isa, MPS[mi], FERAL_ROUNDING_INDEPENDENT, vals[vi]);
}
Test(kernels, test_ref_stochastic_rounding_is_unbiased) { check_unbiased_all("ref"); }
Test(kernels, test_avx2_stochastic_rounding_is_unbiased) { check_unbiased_all("avx2"); }
Test(kernels, test_avx512_stochastic_rounding_is_unbiased) { check_unbiased_all("avx512"); }
Test(kernels, test_avx512vnni_stochastic_rounding_is_unbiased) { check_unbiased_all("avx512vnni"); }

/* The same with data over the whole int8 range (-128..127, both signs in
 * even and odd positions; for |alpha| near 1 and above, -am..am so that
 * |alpha a| < 127): the int8 x int8 byte paths form even and odd
 * elements separately, so the per-call sums of x_k - alpha a_k are taken
 * over four groups (even/odd position x positive/negative a), and each
 * group's mean over T calls must be within 4.5 standard errors of 0 (4
 * groups x 6 values per ISA: a false alarm below 10^-3 per run, and the
 * seed is fixed).  E[x_k] = alpha a_k exactly on the fixed-point path. */
static void check_unbiased_data(const char *isa, double alpha)
{
	const struct feral_kernels *t = need(isa);
	enum { L = 128, G = 4 };
	const size_t T = 25000; /* T x L = 3.2 10^6 roundings */
	int8_t a[L], x[L];
	/* |alpha| >= 126/128: data in [-am, am], so that no write saturates */
	int am = fabs(alpha) < 126.0 / 128 ? 128 : (int)(126 / fabs(alpha));
	for (int k = 0; k < L; k++)
		a[k] = (int8_t)(am == 128 ? (k * 83 + 11) % 256 - 128
		                          : (k * 83 + 11) % (2 * am + 1) - am);
	struct feral_k_rng rng;
	feral_k_rng_seed(&rng, 555, 2);
	double sum[G] = {0}, sum2[G] = {0};
	for (size_t trial = 0; trial < T; trial++) {
		memset(x, 0, sizeof x);
		t->axpy[0][FERAL_PRECISION_I8][FERAL_PRECISION_I8](x, a, NULL, L, alpha,
		                                                   FERAL_ROUNDING_INDEPENDENT, &rng);
		double z[G] = {0};
		for (int k = 0; k < L; k++)
			z[(k & 1) * 2 + (a[k] < 0)] += x[k] - alpha * a[k];
		for (int g = 0; g < G; g++) {
			sum[g] += z[g];
			sum2[g] += z[g] * z[g];
		}
	}
	for (int g = 0; g < G; g++) {
		double mean = sum[g] / (double)T;
		double var = (sum2[g] - sum[g] * sum[g] / (double)T) / (double)(T - 1);
		double se = sqrt(var / (double)T);
		cr_assert(se > 0, "%s: group %d never varies", isa, g);
		cr_assert(fabs(mean) <= BAND_SE_GROUPS * se,
		          "%s i8 x i8 independent alpha %g, %s elements with %s data: per-call bias "
		          "%.4g > 4.5 SE = %.4g",
		          isa, alpha, g / 2 ? "odd" : "even", g % 2 ? "negative" : "positive", mean,
		          BAND_SE_GROUPS * se);
	}
}
static void check_unbiased_data_all(const char *isa)
{
	/* F = 8 with either sign, F = 9, 12 and 14 (the s pre-add); the 16-bit
	 * lanes (feral_k_fx_dense): F = 7 either sign, 6, 5 and 3 */
	static const double vals[] = {0.3,  -0.3, -0.19, 0.0173, -0.0041,
	                              0.9, -0.6, 1.7,   -2.55,  11.3};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		check_unbiased_data(isa, vals[i]);
}
Test(kernels, test_ref_rounding_unbiased_over_int8_data) { check_unbiased_data_all("ref"); }
Test(kernels, test_avx2_rounding_unbiased_over_int8_data) { check_unbiased_data_all("avx2"); }
Test(kernels, test_avx512_rounding_unbiased_over_int8_data) { check_unbiased_data_all("avx512"); }

/* int16 x int16 INDEPENDENT (fixed point for |alpha| < 1/2): data over the
 * whole int16 range, per-call sums of x_k - alpha a_k over two groups (by
 * the sign of a), each group's mean within 4.5 standard errors of 0. */
static void check_unbiased_i16(const char *isa, double alpha)
{
	const struct feral_kernels *t = need(isa);
	enum { L = 96, G = 2 };
	const size_t T = 20000; /* T x L = 1.9 10^6 roundings */
	int16_t a[L], x[L];
	for (int k = 0; k < L; k++)
		a[k] = (int16_t)((k * 21851 + 977) % 65536 - 32768);
	struct feral_k_rng rng;
	feral_k_rng_seed(&rng, 556, 2);
	double sum[G] = {0}, sum2[G] = {0};
	for (size_t trial = 0; trial < T; trial++) {
		memset(x, 0, sizeof x);
		t->axpy[0][FERAL_PRECISION_I16][FERAL_PRECISION_I16](x, a, NULL, L, alpha,
		                                                     FERAL_ROUNDING_INDEPENDENT, &rng);
		double z[G] = {0};
		for (int k = 0; k < L; k++)
			z[a[k] < 0] += x[k] - alpha * a[k];
		for (int g = 0; g < G; g++) {
			sum[g] += z[g];
			sum2[g] += z[g] * z[g];
		}
	}
	for (int g = 0; g < G; g++) {
		double mean = sum[g] / (double)T;
		double var = (sum2[g] - sum[g] * sum[g] / (double)T) / (double)(T - 1);
		double se = sqrt(var / (double)T);
		cr_assert(se > 0, "%s: group %d never varies", isa, g);
		cr_assert(fabs(mean) <= BAND_SE_GROUPS * se,
		          "%s i16 x i16 independent alpha %g, %s data: per-call bias %.4g > 4.5 SE = "
		          "%.4g",
		          isa, alpha, g ? "negative" : "positive", mean, BAND_SE_GROUPS * se);
	}
}
static void check_unbiased_i16_all(const char *isa)
{
	/* aq = alpha 2^16 = 19660.8, -806.1, 2.16, -0.19 (aq's own rounding
	 * carries most of the mean); 0.7 takes the f32 path */
	static const double vals[] = {0.3, -0.0123, 3.3e-5, -2.9e-6, 0.7};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		check_unbiased_i16(isa, vals[i]);
}
/* The per-call multiplier (kernels.h, feral_k_fx16_alpha): N = A0 2^16 + f16
 * is alpha 2^32 rounded stochastically, so its mean is alpha 2^32 exactly.
 * The axpy tests above cannot see a bias at this level (< 2^-16 of a unit),
 * so this checks N itself: alpha 2^32 with fractions 3/8 and 7/10 (either
 * sign; 5/8 of a unit at 2^-32 takes the largest shift, sh = 53), 2*10^5 draws,
 * the mean within 5 standard errors of alpha 2^32 (truncating or rounding
 * to nearest fail it by > 100 of them). */
Test(kernels, test_fx16_alpha_rounding_is_unbiased)
{
	static const double P[] = {1234567.375, -1234567.375, 987654321.7, -0.625, 0.625};
	struct feral_k_rng rng;
	feral_k_rng_seed(&rng, 91, 5);
	enum { T = 200000 };
	for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
		double alpha = P[i] * 0x1p-32, base = floor(P[i]), up = 0;
		for (int k = 0; k < T; k++) {
			int32_t f16;
			int16_t A0 = feral_k_fx16_alpha(alpha, &rng, &f16);
			double n = (double)A0 * 65536.0 + (double)f16 - base;
			cr_assert(n == 0 || n == 1, "alpha 2^32 = %.3f: N - floor = %g", P[i], n);
			up += n;
		}
		double p = P[i] - base, se = sqrt(p * (1 - p) / T);
		cr_assert(fabs(up / T - p) <= 5 * se,
		          "alpha 2^32 = %.3f: mean N - floor %.5f, want %.5f (+- %.5f)", P[i], up / T, p,
		          5 * se);
	}
}
Test(kernels, test_ref_i16_rounding_unbiased) { check_unbiased_i16_all("ref"); }
Test(kernels, test_avx2_i16_rounding_unbiased) { check_unbiased_i16_all("avx2"); }
Test(kernels, test_avx512_i16_rounding_unbiased) { check_unbiased_i16_all("avx512"); }

/* NEAREST is half-to-even: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2. */
Test(kernels, test_nearest_rounds_half_to_even)
{
	static const double in[] = {0.5, 1.5, -2.5, 2.4999, -0.75};
	static const double out[] = {0, 2, -2, 2, -1};
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t v = 0; v < 5; v++) {
			int8_t a[40], x[40] = {0};
			memset(a, 1, sizeof a);
			t->axpy[0][FERAL_PRECISION_I8][FERAL_PRECISION_I8](x, a, NULL, 40, in[v],
			                                                   FERAL_ROUNDING_NEAREST, NULL);
			for (int k = 0; k < 40; k++)
				cr_assert_eq(x[k], out[v], "%s nearest(%g) at %d: %d, want %g", ISAS[i],
				             in[v], k, x[k], out[v]);
		}
	}
}

/* ---- the int8 dense INDEPENDENT paths are bit-exact against ref -------------
 * int8 x int8, INDEPENDENT, dense (kernels.h: feral_k_fx8_dense for |alpha|
 * < 1/2, feral_k_fx_dense for 1/2 <= |alpha| < 64): every ISA must write
 * the same model, count the same saturations and leave the same generator
 * states as ref, for every length 0..70 (every tail of AVX2's 32 and
 * AVX-512's 64, with 0, 1 or 2 vector steps before it), the lengths in
 * longs, and row / model starts off any alignment. */
static void fx8_bit_exact(const double *alphas, size_t nal, const size_t *longs, size_t nlong,
                          uint64_t seed)
{
	static const size_t offs[] = {0, 1, 3, 17, 31};
	const struct feral_kernels *ref = need("ref");
	struct feral_rng r;
	feral_rng_seed(&r, seed, 0);
	enum { MAXL = 1100, PAD = 40 };
	static int8_t a[MAXL + PAD], x0[MAXL + PAD], xr[MAXL + PAD], xs[MAXL + PAD];
	for (size_t i = 1; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t li = 0; li <= 70 + nlong; li++)
			for (size_t oi = 0; oi < 5; oi++)
				for (size_t ai = 0; ai < nal; ai++) {
					size_t len = li <= 70 ? li : longs[li - 71];
					cr_assert(len <= MAXL);
					size_t oa = offs[oi], ox = offs[(oi + 2) % 5], n = len + PAD;
					for (size_t k = 0; k < n; k++) {
						a[k] = (int8_t)(feral_rng_next(&r) >> 56); /* -128..127 */
						/* model values near both bounds, so writes saturate */
						x0[k] = (int8_t)((int)(feral_rng_next(&r) % 255) - 127);
					}
					memcpy(xr, x0, n);
					memcpy(xs, x0, n);
					struct feral_k_rng rr, rs;
					feral_k_rng_seed(&rr, 31 + len, 2);
					rs = rr;
					uint64_t sr = ref->axpy[0][FERAL_PRECISION_I8][FERAL_PRECISION_I8](
						xr + ox, a + oa, NULL, len, alphas[ai], FERAL_ROUNDING_INDEPENDENT, &rr);
					uint64_t ss = t->axpy[0][FERAL_PRECISION_I8][FERAL_PRECISION_I8](
						xs + ox, a + oa, NULL, len, alphas[ai], FERAL_ROUNDING_INDEPENDENT, &rs);
					cr_assert_eq(ss, sr, "%s len %zu offs %zu/%zu alpha %g: %llu saturated, ref %llu",
					             ISAS[i], len, oa, ox, alphas[ai], (unsigned long long)ss,
					             (unsigned long long)sr);
					for (size_t k = 0; k < n; k++)
						cr_assert_eq(xs[k], xr[k],
						             "%s len %zu offs %zu/%zu alpha %g: x[%d] = %d, ref %d", ISAS[i],
						             len, oa, ox, alphas[ai], (int)k - (int)ox, xs[k], xr[k]);
					cr_assert(same_generators(&rs, &rr),
					          "%s len %zu alpha %g: generator states differ from ref", ISAS[i],
					          len, alphas[ai]);
				}
	}
}

/* The byte path, at F = 8..14 with either sign (each of fx8.h's loops: m =
 * 0, 1 and >= 2). */
Test(kernels, test_fx8_matches_ref_bit_for_bit)
{
	/* F = 8 (m = 0), 9 (m = 1: fx8.h's loop with the immediate shift), 10, 12, 14 */
	static const double alphas[] = {0.49,    -0.3,   0.19,    -0.14, 0.11,
	                                -0.0625, 0.0173, -0.0041, 0.001, -0.0009};
	fx8_bit_exact(alphas, sizeof alphas / sizeof alphas[0], NULL, 0, 4242);
}

/* The 16-bit-lane path (F = 1..7: 1/2 <= |alpha| < 64), either sign, F = 7
 * (0.5, exactly 1/2, to 0.99), 6, 5 (2.5, 2.99: the range a step size of
 * the solvers reaches) and 4..1, and rows past a few ring steps. */
Test(kernels, test_fx8_low_f_matches_ref_bit_for_bit)
{
	static const double alphas[] = {0.5, -0.5, 0.51, -0.6, 0.7,   -0.99, 1.0,
	                                1.5, -2.5, 2.99, 5.3,  -11.0, 31.7,  -63.9};
	static const size_t longs[] = {127, 128, 129, 191, 1000, 1061};
	fx8_bit_exact(alphas, sizeof alphas / sizeof alphas[0], longs,
	              sizeof longs / sizeof longs[0], 4244);
}

/* Many consecutive calls of the dense INDEPENDENT axpy of precision p (int8
 * or int16 data and model) on one generator, every ISA against ref: rows of
 * 0..maxl elements, so the lagged-Fibonacci ring (100 entries) wraps many
 * times; same saturations, same model, and the same ring (whole: also the
 * xorshift lanes and the scalar stream). */
static void ring_over_calls(enum feral_precision p, size_t maxl, uint64_t seed, uint64_t kseed,
                            bool whole, double amax)
{
	enum { MAXL = 1200, CALLS = 600 };
	static int16_t a[MAXL], xr[MAXL], xs[MAXL]; /* int8 rows use the low bytes */
	const struct feral_kernels *ref = need("ref");
	int bits = p == FERAL_PRECISION_I8 ? 8 : 16, q = (1 << (bits - 1)) - 1;
	size_t esz = (size_t)bits / 8;
	for (size_t i = 1; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		struct feral_rng r;
		feral_rng_seed(&r, seed, 1);
		struct feral_k_rng rr, rs;
		feral_k_rng_seed(&rr, kseed, 4);
		rs = rr;
		for (size_t k = 0; k < maxl; k++) {
			int v = (int)(feral_rng_next(&r) % (uint64_t)(2 * q + 1)) - q;
			if (bits == 8)
				((int8_t *)xr)[k] = ((int8_t *)xs)[k] = (int8_t)v;
			else
				xr[k] = xs[k] = (int16_t)v;
		}
		for (int c = 0; c < CALLS; c++) {
			size_t len = (size_t)(feral_rng_next(&r) % (maxl + 1));
			double alpha = (feral_rng_uniform(&r) - 0.5) * 2 * amax;
			for (size_t k = 0; k < len; k++) {
				uint64_t u = feral_rng_next(&r);
				if (bits == 8)
					((int8_t *)a)[k] = (int8_t)(u >> 56);
				else
					a[k] = (int16_t)(u >> 48);
			}
			uint64_t sr = ref->axpy[0][p][p](xr, a, NULL, len, alpha,
			                                 FERAL_ROUNDING_INDEPENDENT, &rr);
			uint64_t ss = t->axpy[0][p][p](xs, a, NULL, len, alpha,
			                               FERAL_ROUNDING_INDEPENDENT, &rs);
			cr_assert_eq(ss, sr, "%s call %d len %zu: %llu saturated, ref %llu", ISAS[i], c,
			             len, (unsigned long long)ss, (unsigned long long)sr);
			cr_assert(memcmp(xs, xr, maxl * esz) == 0, "%s call %d len %zu: models differ",
			          ISAS[i], c, len);
			if (whole)
				cr_assert(same_generators(&rs, &rr),
				          "%s call %d len %zu: generator states differ from ref", ISAS[i],
				          c, len);
			else
				cr_assert(rs.lf_i == rr.lf_i && memcmp(rs.lf, rr.lf, sizeof rr.lf) == 0,
				          "%s call %d len %zu: ring differs from ref", ISAS[i], c, len);
		}
	}
}

/* rows of 0..300 elements, AVX2 rows ending after either half of a step */
Test(kernels, test_fx8_ring_matches_ref_over_calls)
{
	ring_over_calls(FERAL_PRECISION_I8, 300, 77, 9, false, 0.1);
}

/* the same with |alpha| < 3, so calls of the byte path (|alpha| < 1/2) and
 * of the 16-bit-lane path (F < 8) share the ring; whole generator states */
Test(kernels, test_fx8_low_f_ring_matches_ref_over_calls)
{
	ring_over_calls(FERAL_PRECISION_I8, 300, 79, 11, true, 3.0);
}

/* ---- the int16 dense path is bit-exact against ref ---------------------------
 * INDEPENDENT int16 x int16 at |alpha| < 1/2 (kernels.h, feral_k_fx16_dense):
 * every ISA must write the same model, count the same saturations and leave
 * the same generator states (ring, xorshift lanes, scalar) as ref, for every
 * length 0..70 and lengths around the multipliers' 512 elements, with row /
 * model starts off any alignment and either sign. */
Test(kernels, test_fx16_matches_ref_bit_for_bit)
{
	static const double alphas[] = {0.49, -0.3, 0.0173, -0.0009, 3.3e-5, -2.9e-6};
	static const size_t offs[] = {0, 1, 3, 17, 31};
	static const size_t longs[] = {480, 511, 512, 513, 543, 544, 1023, 1055, 1061};
	const struct feral_kernels *ref = need("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 4343, 0);
	enum { MAXL = 1061, PAD = 40, NAL = sizeof alphas / sizeof alphas[0] };
	static int16_t a[MAXL + PAD], x0[MAXL + PAD], xr[MAXL + PAD], xs[MAXL + PAD];
	for (size_t i = 1; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t li = 0; li <= 70 + sizeof longs / sizeof longs[0]; li++)
			for (size_t oi = 0; oi < 5; oi++)
				for (size_t ai = 0; ai < NAL; ai++) {
					size_t len = li <= 70 ? li : longs[li - 71];
					size_t oa = offs[oi], ox = offs[(oi + 2) % 5];
					for (int k = 0; k < MAXL + PAD; k++) {
						a[k] = (int16_t)(feral_rng_next(&r) >> 48);
						/* model values near both bounds, so writes saturate */
						int64_t v = (int64_t)(feral_rng_next(&r) % 601) - 300;
						x0[k] = (int16_t)(v < 0 ? -32767 - v : 32767 - v);
					}
					memcpy(xr, x0, sizeof x0);
					memcpy(xs, x0, sizeof x0);
					struct feral_k_rng rr, rs;
					feral_k_rng_seed(&rr, 41 + len, 3);
					rs = rr;
					uint64_t sr = ref->axpy[0][FERAL_PRECISION_I16][FERAL_PRECISION_I16](
						xr + ox, a + oa, NULL, len, alphas[ai], FERAL_ROUNDING_INDEPENDENT, &rr);
					uint64_t ss = t->axpy[0][FERAL_PRECISION_I16][FERAL_PRECISION_I16](
						xs + ox, a + oa, NULL, len, alphas[ai], FERAL_ROUNDING_INDEPENDENT, &rs);
					cr_assert_eq(ss, sr, "%s len %zu offs %zu/%zu alpha %g: %llu saturated, ref %llu",
					             ISAS[i], len, oa, ox, alphas[ai], (unsigned long long)ss,
					             (unsigned long long)sr);
					for (int k = 0; k < MAXL + PAD; k++)
						cr_assert_eq(xs[k], xr[k],
						             "%s len %zu offs %zu/%zu alpha %g: x[%d] = %d, ref %d", ISAS[i],
						             len, oa, ox, alphas[ai], k - (int)ox, xs[k], xr[k]);
					cr_assert(same_generators(&rs, &rr),
					          "%s len %zu alpha %g: generator states differ from ref", ISAS[i],
					          len, alphas[ai]);
				}
	}
}

/* rows of 0..1200 elements, so the multipliers' xorshift steps fall at
 * every offset of a row's tail */
Test(kernels, test_fx16_ring_matches_ref_over_calls)
{
	ring_over_calls(FERAL_PRECISION_I16, 1200, 78, 10, true, 0.1);
}
