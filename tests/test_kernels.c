/* Kernels: every slot of every table this CPU supports against the _ref twin
 * (lengths that hit every tail, dense and sparse), dispatch and FERAL_KERNEL,
 * and no overflow of integer dots at extreme operands.  Saturation counts and
 * unbiased stochastic rounding: tests/test_kernels_rounding.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "kernels.h"
#include "kernel_util.h"

TestSuite(kernels, .timeout = 60);

/* Named tolerances, relative to sum_k |a_k| |x_k| (plus a tiny absolute). */
#define TOL_DOT_G32 1e-5  /* f32 accumulators (any dot with a float side, no f64) */
#define TOL_DOT_G64 1e-12 /* double accumulators (f64 model) */
/* integer x integer dots, float axpy, NEAREST integer axpy: exact.
 * INDEPENDENT integer axpy: each element within 1 unit of ref; 2 on the
 * int16 x int16 fixed-point path, whose multiplier aq (A0 or A0 + 1, drawn
 * per group of 16 elements, kernels.h) may differ too: |a| 2^-16 < 1/2 more.
 * (Dense int16 and int8 rows are also bit-exact against ref:
 * test_kernels_rounding.c.) */
#define TOL_AXPY_INDEPENDENT 1
#define TOL_AXPY_FX16 2
/* The ref kernels' double sums against a long double one: at most len
 * roundings of 2^-53 of sum |a_k x_k| (len <= 4099 here). */
#define TOL_DOT_REF 1e-12

/* 577, 650, 767: 1, 2 and 3 whole remainder steps after the four-pair VNNI
 * loop (rows from 512 bytes; shorter ones keep two pairs), and odd and even
 * step counts of the i16 x i16 L/H blocks (from 512 elements) */
static const size_t LENS[] = {0,  1,  3,  7,   8,   9,   15,  16,  17,   31,
                              33, 63, 64, 65, 127, 129, 577, 650, 767, 1023, 4099};
#define NLENS (sizeof LENS / sizeof LENS[0])
static const char *const ISAS[] = {"ref", "avx2", "avx512", "avx512vnni"};
#define NISAS (sizeof ISAS / sizeof ISAS[0])
static const enum feral_precision DPS[] = {FERAL_PRECISION_F32, FERAL_PRECISION_I16,
                                           FERAL_PRECISION_I8};
static const enum feral_precision MPS[] = {FERAL_PRECISION_F64, FERAL_PRECISION_F32,
                                           FERAL_PRECISION_I16, FERAL_PRECISION_I8};
static const char *PN[] = {"f32", "f64", "i16", "i8"};
static const char *LN[] = {"dense", "csr"};
static const char *MN[] = {"independent", "shared", "nearest"};


static bool is_int(enum feral_precision p) { return p == FERAL_PRECISION_I16 || p == FERAL_PRECISION_I8; }

/* Random values over the full symmetric range (float: [-2, 2)). */
static void fill(void *v, enum feral_precision p, size_t n, struct feral_rng *r)
{
	for (size_t k = 0; k < n; k++) {
		double u = feral_rng_uniform(r);
		if (is_int(p)) {
			int m = qmax(p);
			set(v, p, k, (double)((int64_t)(u * (2 * m + 1)) - m));
		} else {
			set(v, p, k, 4 * u - 2);
		}
	}
}
/* Exactly sized heap buffers, so a read past the end shows under ASan. */
static void *buf(enum feral_precision p, size_t n)
{
	void *b = malloc(n ? n * feral_precision_size(p) : 1);
	cr_assert_not_null(b);
	return b;
}
/* len sorted distinct indices into [0, D): random (selection sampling), or
 * the last len columns (the sparse gathers' end-of-model case). */
static uint32_t *make_idx(size_t len, size_t D, int last, struct feral_rng *r)
{
	uint32_t *idx = malloc((len ? len : 1) * sizeof *idx);
	size_t need_ = len, j = 0;
	if (last) {
		for (size_t k = 0; k < len; k++)
			idx[k] = (uint32_t)(D - len + k);
		return idx;
	}
	for (size_t c = 0; c < D && need_; c++)
		if (feral_rng_uniform(r) * (double)(D - c) < (double)need_) {
			idx[j++] = (uint32_t)c;
			need_--;
		}
	cr_assert_eq(j, len);
	return idx;
}

/* ---- every table slot vs ref -------------------------------------------------- */
static void check_dots(const char *isa)
{
	const struct feral_kernels *t = need(isa), *ref = feral_kernels_named("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 42, 0);
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (size_t di = 0; di < 3; di++)
			for (size_t mi = 0; mi < 4; mi++)
				for (size_t li = 0; li < NLENS; li++)
					for (int last = 0; last < (l ? 2 : 1); last++) {
						enum feral_precision dp = DPS[di], mp = MPS[mi];
						size_t len = LENS[li], D = l ? 3 * len + 5 : len;
						void *a = buf(dp, len), *x = buf(mp, D);
						fill(a, dp, len, &r);
						fill(x, mp, D, &r);
						uint32_t *idx = l ? make_idx(len, D, last, &r) : NULL;
						double want = ref->dot[l][dp][mp](a, idx, x, len);
						double got = t->dot[l][dp][mp](a, idx, x, len);
						double mag = 0;
						for (size_t k = 0; k < len; k++)
							mag += fabs(get(a, dp, k)) *
							       fabs(get(x, mp, idx ? idx[k] : k));
						double tol = is_int(dp) && is_int(mp) ? 0
						             : mp == FERAL_PRECISION_F64
						                     ? TOL_DOT_G64 * mag + 1e-300
						                     : TOL_DOT_G32 * mag + 1e-30;
						cr_assert(fabs(got - want) <= tol,
						          "%s dot %s data %s model %s len %zu%s: got %.17g, "
						          "ref %.17g (tol %.3g)",
						          isa, LN[l], PN[dp], PN[mp], len,
						          last ? " (last columns)" : "", got, want, tol);
						/* The dense slot must also accept a sparse row. */
						if (l) {
							got = t->dot[0][dp][mp](a, idx, x, len);
							cr_assert(fabs(got - want) <= tol,
							          "%s dense-slot dot given idx, %s x %s len %zu: "
							          "got %.17g, ref %.17g",
							          isa, PN[dp], PN[mp], len, got, want);
						}
						free(a);
						free(x);
						free(idx);
					}
}

static void check_axpys(const char *isa)
{
	const struct feral_kernels *t = need(isa), *ref = feral_kernels_named("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 7, 0);
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (size_t di = 0; di < 3; di++)
			for (size_t mi = 0; mi < 4; mi++)
				for (int mode = 0; mode < FERAL_ROUNDING_COUNT; mode++)
					if (mode != FERAL_ROUNDING_SHARED) /* removed: no kernel reads it */
					for (size_t li = 0; li < NLENS; li++)
					for (int ai = 0; ai < (is_int(MPS[mi]) ? 3 : 1); ai++) {
						enum feral_precision dp = DPS[di], mp = MPS[mi];
						size_t len = LENS[li], D = l ? 3 * len + 5 : len;
						size_t msz = feral_precision_size(mp);
						void *a = buf(dp, len), *x0 = buf(mp, D);
						void *xr = buf(mp, D), *xs = buf(mp, D);
						fill(a, dp, len, &r);
						fill(x0, mp, D, &r);
						uint32_t *idx = l ? make_idx(len, D, 0, &r) : NULL;
						/* alpha: increments of a few units for integer models,
						 * so values both round and saturate. */
						double alpha = 0.731;
						if (is_int(mp))
							alpha = (dp == FERAL_PRECISION_F32 ? 40.3 : 1.37) /
							        (dp == FERAL_PRECISION_I16 ? 256.0 : 1.0) *
							        (mp == FERAL_PRECISION_I16 ? 60.0 : 1.0);
						/* smaller steps too: int8 x int8 takes its byte path
						 * for |alpha| < 1/2, at F = 8 (0.27x) and F = 14
						 * (-0.0041x), with either sign */
						static const double ASCALE[] = {1, 0.27, -0.0041};
						alpha *= ASCALE[ai];
						memcpy(xr, x0, D * msz);
						memcpy(xs, x0, D * msz);
						struct feral_k_rng rr, rs;
						feral_k_rng_seed(&rr, 99, 1);
						rs = rr;
						uint64_t sr = ref->axpy[l][dp][mp](xr, a, idx, len, alpha, mode, &rr);
						uint64_t ss = t->axpy[l][dp][mp](xs, a, idx, len, alpha, mode, &rs);
						/* int8 x int8 INDEPENDENT at |alpha| < 1/2: the byte
						 * path, bit-exact by definition (kernels.h) */
						bool fx8 = dp == FERAL_PRECISION_I8 && mp == FERAL_PRECISION_I8 &&
						           fabs(alpha) < 0.5;
						bool exact = !is_int(mp) || mode != FERAL_ROUNDING_INDEPENDENT ||
						             t == ref || fx8;
						if (exact) {
							cr_assert_eq(ss, sr,
							             "%s axpy %s %s x %s %s len %zu alpha %g: %llu "
							             "saturations, ref %llu",
							             isa, LN[l], PN[dp], PN[mp], MN[mode], len, alpha,
							             (unsigned long long)ss, (unsigned long long)sr);
							for (size_t j = 0; j < D; j++)
								cr_assert(memcmp((char *)xs + j * msz,
								                 (char *)xr + j * msz, msz) == 0,
								          "%s axpy %s %s x %s %s len %zu alpha %g: "
								          "x[%zu] = %.17g, ref %.17g",
								          isa, LN[l], PN[dp], PN[mp], MN[mode], len, alpha, j,
								          get(xs, mp, j), get(xr, mp, j));
						} else {
							double tol = dp == FERAL_PRECISION_I16 && mp == FERAL_PRECISION_I16 &&
							                     fabs(alpha) < 0.5
							                     ? TOL_AXPY_FX16
							                     : TOL_AXPY_INDEPENDENT;
							for (size_t j = 0; j < D; j++)
								cr_assert(fabs(get(xs, mp, j) - get(xr, mp, j)) <= tol,
								          "%s axpy %s %s x %s independent len %zu alpha %g: "
								          "x[%zu] = %g, ref %g (more than %g units apart)",
								          isa, LN[l], PN[dp], PN[mp], len, alpha, j,
								          get(xs, mp, j), get(xr, mp, j), tol);
						}
						free(a);
						free(x0);
						free(xr);
						free(xs);
						free(idx);
					}
}

/* One thread is bit-reproducible: a dense dot's summation order (its
 * chains, their remainder steps, the fixed reduction tree) depends only on
 * len, never on where the row lies.  The same row and model at every element
 * offset within a 64-byte line, and a second call, give identical bits.
 * Lengths: every count of remainder steps after the 4-chain loops (0-3 steps
 * of 16 or 8 elements, with and without a tail). */
static const size_t RLENS[] = {16, 48, 64, 80, 96, 112, 117, 128, 176, 200, 240, 255, 1000, 4111};
Test(kernels, test_dense_dots_independent_of_alignment)
{
	struct feral_rng r;
	feral_rng_seed(&r, 9, 0);
	for (size_t i = 1; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t di = 0; di < 3; di++)
			for (size_t mi = 0; mi < 4; mi++)
				for (size_t li = 0; li < sizeof RLENS / sizeof RLENS[0]; li++) {
					enum feral_precision dp = DPS[di], mp = MPS[mi];
					size_t len = RLENS[li], ea = feral_precision_size(dp),
					       ex = feral_precision_size(mp);
					/* sizes: multiples of 64, as aligned_alloc wants */
					char *ba = aligned_alloc(64, ((len + 64) * ea + 63) & ~(size_t)63);
					char *bx = aligned_alloc(64, ((len + 64) * ex + 63) & ~(size_t)63);
					cr_assert(ba && bx);
					fill(ba, dp, len, &r);
					fill(bx, mp, len, &r);
					feral_k_dot_fn f = t->dot[FERAL_LAYOUT_DENSE][dp][mp];
					double want = f(ba, NULL, bx, len);
					for (size_t o = 1; o < 64; o++) {
						char *pa = ba + (len + 64) * ea - len * ea - (o % 16) * ea;
						char *px = bx + (len + 64) * ex - len * ex - o * ex;
						memmove(pa, ba, len * ea);
						memmove(px, bx, len * ex);
						double got = f(pa, NULL, px, len);
						cr_assert(memcmp(&got, &want, sizeof got) == 0,
						          "%s dot %s x %s len %zu, rows moved by %zu/%zu elements: "
						          "%.17g, in place %.17g",
						          ISAS[i], PN[dp], PN[mp], len, 64 - o % 16, 64 - o, got, want);
						memmove(ba, pa, len * ea);
						memmove(bx, px, len * ex);
					}
					double again = f(ba, NULL, bx, len);
					cr_assert(memcmp(&again, &want, sizeof again) == 0);
					free(ba);
					free(bx);
				}
	}
}

Test(kernels, test_avx2_dots_match_ref) { check_dots("avx2"); }
Test(kernels, test_avx512_dots_match_ref) { check_dots("avx512"); }
Test(kernels, test_avx512vnni_dots_match_ref) { check_dots("avx512vnni"); }
Test(kernels, test_avx2_axpys_match_ref) { check_axpys("avx2"); }
Test(kernels, test_avx512_axpys_match_ref) { check_axpys("avx512"); }
Test(kernels, test_avx512vnni_axpys_match_ref) { check_axpys("avx512vnni"); }

/* ---- ref against an independent computation ------------------------------------
 * The SIMD tables are checked against ref; ref itself is checked here against
 * sums and roundings recomputed from the contract in kernels.h: exact int64
 * (integer dots) or long double (float dots); float axpy as one rounded
 * product then one rounded add; integer axpy NEAREST exactly, stochastic
 * rounding within its two possible results. */
static void ref_dots_independent(void)
{
	const struct feral_kernels *ref = feral_kernels_named("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 4242, 0);
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (size_t di = 0; di < 3; di++)
			for (size_t mi = 0; mi < 4; mi++)
				for (size_t li = 0; li < NLENS; li++) {
					enum feral_precision dp = DPS[di], mp = MPS[mi];
					size_t len = LENS[li], D = l ? 3 * len + 5 : len;
					void *a = buf(dp, len), *x = buf(mp, D);
					fill(a, dp, len, &r);
					fill(x, mp, D, &r);
					uint32_t *idx = l ? make_idx(len, D, 0, &r) : NULL;
					double got = ref->dot[l][dp][mp](a, idx, x, len);
					int64_t wi = 0;
					long double wf = 0, mag = 0;
					for (size_t k = 0; k < len; k++) {
						double av = get(a, dp, k), xv = get(x, mp, idx ? idx[k] : k);
						wi += (int64_t)av * (int64_t)xv; /* used for int x int only */
						wf += (long double)av * xv;
						mag += fabsl((long double)av * xv);
					}
					if (is_int(dp) && is_int(mp))
						cr_assert_eq(got, (double)wi, "ref dot %s %s x %s len %zu: %.17g, exact %lld",
						             LN[l], PN[dp], PN[mp], len, got, (long long)wi);
					else
						cr_assert(fabsl(got - wf) <= TOL_DOT_REF * mag + 1e-300L,
						          "ref dot %s %s x %s len %zu: %.17g, long double %.17Lg",
						          LN[l], PN[dp], PN[mp], len, got, wf);
					free(a);
					free(x);
					free(idx);
				}
}

/* The int8 x int8 fixed-point scale of kernels.h: the largest F in 1..14
 * with |alpha| 2^F < 128. */
static int fx_F(double alpha)
{
	int F = 14;
	while (F > 1 && fabs(alpha) * ldexp(1, F) >= 128.0)
		F--;
	return F;
}
/* The possible integer increments [lo, hi] for one element (hi == lo when
 * the rounding is deterministic). */
static void inc_range(enum feral_precision dp, enum feral_precision mp, double alpha, double av,
                      enum feral_rounding mode, int64_t *lo, int64_t *hi)
{
	if (dp == FERAL_PRECISION_I8 && mp == FERAL_PRECISION_I8 && fabs(alpha) < 64) {
		int F = fx_F(alpha);
		double A = ldexp(alpha, F);
		if (mode == FERAL_ROUNDING_NEAREST) { /* aq half up, then half to even */
			double aq = floor(A + 0.5);
			*lo = *hi = (int64_t)nearbyint(ldexp(av * aq, -F));
			return;
		}
		double q0 = floor(ldexp(av * floor(A), -F)), q1 = floor(ldexp(av * (floor(A) + 1), -F));
		*lo = (int64_t)fmin(q0, q1);
		*hi = (int64_t)fmax(q0, q1) + 1;
		return;
	}
	if (dp == FERAL_PRECISION_I16 && mp == FERAL_PRECISION_I16 &&
	    mode == FERAL_ROUNDING_INDEPENDENT && fabs(alpha) < 32767.0 / 65536) {
		double A = floor(ldexp(alpha, 16)); /* aq is A or A + 1 */
		double q0 = floor(ldexp(av * A, -16)), q1 = floor(ldexp(av * (A + 1), -16));
		*lo = (int64_t)fmin(q0, q1);
		*hi = (int64_t)fmax(q0, q1) + 1;
		return;
	}
	float t = (float)alpha * (float)av;
	t = t < 65536.0f ? t : 65536.0f;
	t = t > -65536.0f ? t : -65536.0f;
	if (mode == FERAL_ROUNDING_NEAREST) {
		*lo = *hi = (int64_t)nearbyintf(t);
		return;
	}
	*lo = (int64_t)floorf(t);
	*hi = *lo + 1;
}
static void ref_axpys_independent(void)
{
	const struct feral_kernels *ref = feral_kernels_named("ref");
	struct feral_rng r;
	feral_rng_seed(&r, 77, 0);
	static const double ASCALE[] = {1, 0.27, -0.0041, 97.0};
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (size_t di = 0; di < 3; di++)
			for (size_t mi = 0; mi < 4; mi++)
				for (int mode = 0; mode < FERAL_ROUNDING_COUNT; mode++)
					if (mode != FERAL_ROUNDING_SHARED) /* removed: no kernel reads it */
					for (size_t li = 0; li < NLENS; li++)
						for (size_t ai = 0; ai < 4; ai++) {
							enum feral_precision dp = DPS[di], mp = MPS[mi];
							size_t len = LENS[li], D = l ? 3 * len + 5 : len;
							void *a = buf(dp, len), *x0 = buf(mp, D), *x = buf(mp, D);
							fill(a, dp, len, &r);
							fill(x0, mp, D, &r);
							memcpy(x, x0, D * feral_precision_size(mp));
							uint32_t *idx = l ? make_idx(len, D, 0, &r) : NULL;
							double alpha = (dp == FERAL_PRECISION_I16 ? 0.01 : 1.37) * ASCALE[ai];
							struct feral_k_rng kr;
							feral_k_rng_seed(&kr, 3, 1);
							uint64_t sat = ref->axpy[l][dp][mp](x, a, idx, len, alpha, mode, &kr);
							uint64_t sat_lo = 0, sat_hi = 0;
							for (size_t k = 0; k < len; k++) {
								size_t j = idx ? idx[k] : k;
								double av = get(a, dp, k), xv = get(x0, mp, j);
								double g = get(x, mp, j);
								if (mp == FERAL_PRECISION_F64) {
									volatile double p = alpha * av;
									cr_assert_eq(g, xv + p, "ref axpy %s x f64 x[%zu]", PN[dp], j);
								} else if (mp == FERAL_PRECISION_F32) {
									volatile float p = (float)alpha * (float)av;
									cr_assert_eq((float)g, (float)xv + p, "ref axpy %s x f32 x[%zu]",
									             PN[dp], j);
								} else {
									int64_t lo, hi, M = qmax(mp);
									inc_range(dp, mp, alpha, av, (enum feral_rounding)mode, &lo, &hi);
									int64_t vlo = (int64_t)xv + lo, vhi = (int64_t)xv + hi;
									sat_lo += vlo > M || vhi < -M;
									sat_hi += vhi > M || vlo < -M;
									double glo = (double)(vlo < -M ? -M : vlo > M ? M : vlo);
									double ghi = (double)(vhi < -M ? -M : vhi > M ? M : vhi);
									cr_assert(g >= glo && g <= ghi && g == floor(g),
									          "ref axpy %s %s x %s %s alpha %g a %g: x[%zu] %g -> %g, "
									          "want in [%g, %g]",
									          LN[l], PN[dp], PN[mp], MN[mode], alpha, av, j, xv, g,
									          glo, ghi);
								}
							}
							cr_assert(sat >= sat_lo && sat <= sat_hi,
							          "ref axpy %s %s x %s %s alpha %g len %zu: %llu saturated, "
							          "want %llu..%llu",
							          LN[l], PN[dp], PN[mp], MN[mode], alpha, len,
							          (unsigned long long)sat, (unsigned long long)sat_lo,
							          (unsigned long long)sat_hi);
							/* columns outside the row are untouched */
							if (idx)
								for (size_t j = 0, k = 0; j < D; j++) {
									if (k < len && idx[k] == j) {
										k++;
										continue;
									}
									cr_assert_eq(get(x, mp, j), get(x0, mp, j),
									             "ref axpy %s x %s wrote x[%zu] outside the row",
									             PN[dp], PN[mp], j);
								}
							free(a);
							free(x0);
							free(x);
							free(idx);
						}
}
Test(kernels, test_ref_dots_match_independent_sums) { ref_dots_independent(); }
Test(kernels, test_ref_axpys_match_the_rounding_contract) { ref_axpys_independent(); }

Test(kernels, test_every_slot_of_every_table_is_callable)
{
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		cr_assert_str_eq(t->name, ISAS[i]);
		for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
			for (int dp = 0; dp < FERAL_PRECISION_COUNT; dp++)
				for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
					cr_assert_not_null(t->dot[l][dp][mp], "%s dot[%d][%d][%d] empty",
					                   ISAS[i], l, dp, mp);
					cr_assert_not_null(t->axpy[l][dp][mp], "%s axpy[%d][%d][%d] empty",
					                   ISAS[i], l, dp, mp);
				}
		/* F64 "data" (never valid) reads as f32 data. */
		float a[3] = {1, 2, 3};
		double x[3] = {1, 1, 1};
		cr_assert_eq(t->dot[0][FERAL_PRECISION_F64][FERAL_PRECISION_F64](a, NULL, x, 3), 6.0);
	}
}

/* ---- columns above 2^31 ----------------------------------------------------------
 * The model may have up to 2^32 - 1 elements, while gathers take signed 32-bit
 * indices.  feral_k_gather_len is the gathered prefix of a row: checked on
 * rows straddling 2^31 against a linear count. */
Test(kernels, test_gather_prefix_stops_below_2_31)
{
	struct feral_rng r;
	feral_rng_seed(&r, 31, 0);
	uint32_t idx[300];
	for (int trial = 0; trial < 2000; trial++) {
		size_t len = 1 + (size_t)(feral_rng_uniform(&r) * 300);
		/* strictly increasing from a start within len of 2^31 or of the ends */
		static const uint64_t starts[] = {0, 0x80000000u - 150, 0x80000000u, 0xffffffffu - 300};
		uint64_t c = starts[trial % 4] + (uint64_t)(feral_rng_uniform(&r) * 150) * (trial % 4 == 1);
		for (size_t k = 0; k < len; k++) {
			idx[k] = (uint32_t)c;
			c += 1 + (feral_rng_uniform(&r) < 0.2);
			if (c > 0xfffffffeu)
				c = 0xfffffffeu; /* stays increasing: len <= 300 from 2^32 - 301 */
		}
		size_t want = 0;
		while (want < len && idx[want] <= 0x7fffffffu)
			want++;
		cr_assert_eq(feral_k_gather_len(idx, len), want, "row of %zu from %u to %u", len, idx[0],
		             idx[len - 1]);
	}
	idx[0] = 0x7fffffffu;
	cr_assert_eq(feral_k_gather_len(idx, 1), 1, "column INT32_MAX is gathered");
	idx[0] = 0x80000000u;
	cr_assert_eq(feral_k_gather_len(idx, 1), 0, "column 2^31 is not");
	cr_assert_eq(feral_k_gather_len(idx, 0), 0);
}

/* Every table's sparse dots on a model of d = 2^32 - 1 elements, with a row
 * of 192 columns (long enough for the gathers): 48 from 0, 96 around 2^31,
 * 48 at the end of the model.  The model is a PROT_NONE reservation (no
 * memory is committed) with only the pages under the row made writable, so
 * the test needs a few pages whatever the host's memory.  Small integer
 * values: every sum is exact in f32, so every table must match exactly. */
Test(kernels, test_csr_dots_with_columns_above_2_31)
{
	const uint64_t d = 0xffffffffu;
	enum { W = 48, LEN = 4 * W };
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint32_t idx[LEN];
	for (size_t k = 0; k < W; k++) {
		idx[k] = (uint32_t)k;
		idx[W + k] = (uint32_t)(0x80000000u - W + k);
		idx[2 * W + k] = (uint32_t)(0x80000000u + k);
		idx[3 * W + k] = (uint32_t)(d - W + k);
	}
	for (size_t mi = 0; mi < 4; mi++) {
		enum feral_precision mp = MPS[mi];
		size_t msz = feral_precision_size(mp), bytes = (size_t)d * msz;
		char *x = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (x == MAP_FAILED)
			cr_skip_test("cannot reserve %zu bytes of address space", bytes);
		/* windows [first, last] column of each run of the row */
		for (size_t w = 0; w < 3; w++) {
			size_t c0 = idx[w == 0 ? 0 : w == 1 ? W : 3 * W];
			size_t c1 = idx[w == 0 ? W - 1 : w == 1 ? 3 * W - 1 : LEN - 1];
			size_t lo = c0 * msz / pg * pg, hi = ((c1 + 1) * msz + pg - 1) / pg * pg;
			hi = hi < bytes ? hi : bytes;
			cr_assert_eq(mprotect(x + lo, hi - lo, PROT_READ | PROT_WRITE), 0,
			             "mprotect of %zu bytes", hi - lo);
		}
		for (size_t k = 0; k < LEN; k++)
			set(x, mp, idx[k], (double)((int)(k * 37 % 201) - 100));
		for (size_t di = 0; di < 3; di++) {
			enum feral_precision dp = DPS[di];
			void *a = buf(dp, LEN);
			int64_t want = 0;
			for (size_t k = 0; k < LEN; k++) {
				int v = (int)(k * 53 % 199) - 99;
				set(a, dp, k, v);
				want += (int64_t)v * ((int)(k * 37 % 201) - 100);
			}
			for (size_t i = 0; i < NISAS; i++) {
				const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
				if (!t)
					continue;
				for (int l = 0; l < FERAL_LAYOUT_COUNT; l++) {
					/* the whole row, and the part from 2^31 - W on */
					double g = t->dot[l][dp][mp](a, idx, x, LEN);
					cr_assert_eq(g, (double)want, "%s %s-slot dot %s x %s, d = 2^32 - 1: %.17g, want %lld",
					             ISAS[i], LN[l], PN[dp], PN[mp], g, (long long)want);
					int64_t want2 = 0;
					for (size_t k = W; k < LEN; k++)
						want2 += (int64_t)get(a, dp, k) * (int64_t)get(x, mp, idx[k]);
					g = t->dot[l][dp][mp]((char *)a + W * feral_precision_size(dp), idx + W, x,
					                      LEN - W);
					cr_assert_eq(g, (double)want2, "%s %s-slot dot %s x %s from column 2^31 - %d",
					             ISAS[i], LN[l], PN[dp], PN[mp], W);
				}
			}
			free(a);
		}
		munmap(x, bytes);
	}
}

/* ---- dispatch ------------------------------------------------------------------- */
Test(kernels, test_forced_bogus_kernel_is_unsupported)
{
	setenv("FERAL_KERNEL", "bogus", 1);
	struct feral_error e = {0};
	cr_assert_null(feral_kernels_get(&e));
	cr_assert_eq(e.status, FERAL_STATUS_UNSUPPORTED, "status %d", e.status);
	cr_assert(strstr(e.msg, "bogus") != NULL, "message '%s' does not name the kernel", e.msg);
	const char *name = NULL;
	cr_assert_eq(feral_kernels_select(&name, NULL), FERAL_STATUS_UNSUPPORTED);
	unsetenv("FERAL_KERNEL");
}

Test(kernels, test_forced_kernel_is_honoured_or_refused)
{
	for (size_t i = 0; i < NISAS; i++) {
		setenv("FERAL_KERNEL", ISAS[i], 1);
		struct feral_error e = {0};
		const struct feral_kernels *k = feral_kernels_get(&e);
		if (feral_kernels_named(ISAS[i]))
			cr_assert(k && !strcmp(k->name, ISAS[i]), "FERAL_KERNEL=%s gave %s", ISAS[i],
			          k ? k->name : "NULL");
		else
			cr_assert(!k ? e.status == FERAL_STATUS_UNSUPPORTED : !strcmp(k->name, "ref"),
			          "FERAL_KERNEL=%s unsupported here, yet gave %s", ISAS[i],
			          k ? k->name : "NULL");
	}
	unsetenv("FERAL_KERNEL");
	const char *name = NULL;
	cr_assert_eq(feral_kernels_select(&name, NULL), FERAL_OK);
	const char *best = feral_kernels_named("avx512vnni") ? "avx512vnni"
	                   : feral_kernels_named("avx512")   ? "avx512"
	                   : feral_kernels_named("avx2")     ? "avx2"
	                                                     : "ref";
	cr_assert_str_eq(name, best);
	/* each table is offered exactly when the CPU has its instructions */
	cr_assert_eq(feral_kernels_named("avx2") != NULL, feral_k_cpu_avx2() != 0);
	cr_assert_eq(feral_kernels_named("avx512") != NULL, feral_k_cpu_avx512() != 0);
	cr_assert_eq(feral_kernels_named("avx512vnni") != NULL, feral_k_cpu_avx512vnni() != 0);
}

/* The VNNI kernels, as listed by FERAL_K_VNNI_DOTS. */
#define VNNI_FN(dp, mp, isa) (feral_k_dot_fn) feral_k_dot_##dp##_##mp##_##isa,
static const feral_k_dot_fn vnni_fns[] = {FERAL_K_VNNI_DOTS(VNNI_FN, avx512vnni)};
#define VNNI_SLOT(dp, mp, t) ((t)->dot[FERAL_LAYOUT_DENSE][FERAL_K_P_##dp][FERAL_K_P_##mp]),
static bool is_vnni_fn(feral_k_dot_fn f)
{
	for (size_t i = 0; i < sizeof vnni_fns / sizeof vnni_fns[0]; i++)
		if (f == vnni_fns[i])
			return true;
	return false;
}

/* "avx512" (safe on AVX-512 CPUs without VNNI) holds no VNNI kernel, can be
 * forced on a VNNI CPU, and differs from "avx512vnni" only in the VNNI
 * slots; its correctness is test_avx512_dots_match_ref and the exact
 * extreme-operand test. */
Test(kernels, test_avx512_table_without_vnni_is_selectable)
{
	const struct feral_kernels *t = need("avx512");
	setenv("FERAL_KERNEL", "avx512", 1);
	struct feral_error e = {0};
	cr_assert_eq(feral_kernels_get(&e), t, "FERAL_KERNEL=avx512 did not give the avx512 table");
	unsetenv("FERAL_KERNEL");
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (int dp = 0; dp < FERAL_PRECISION_COUNT; dp++)
			for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++)
				cr_assert(!is_vnni_fn(t->dot[l][dp][mp]), "avx512 dot[%d][%d][%d] is a VNNI kernel",
				          l, dp, mp);
	cr_assert_eq(t->dot[FERAL_LAYOUT_DENSE][FERAL_PRECISION_I8][FERAL_PRECISION_I8],
	             feral_k_dot_i8_i8_avx512);
	const struct feral_kernels *v = feral_kernels_named("avx512vnni");
	if (!v)
		return;
	const feral_k_dot_fn vslots[] = {FERAL_K_VNNI_DOTS(VNNI_SLOT, v)};
	for (size_t i = 0; i < sizeof vslots / sizeof vslots[0]; i++)
		cr_assert_eq(vslots[i], vnni_fns[i], "avx512vnni lacks VNNI kernel %zu", i);
	size_t differ = 0;
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (int dp = 0; dp < FERAL_PRECISION_COUNT; dp++)
			for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
				cr_assert_eq(v->axpy[l][dp][mp], t->axpy[l][dp][mp]);
				if (v->dot[l][dp][mp] != t->dot[l][dp][mp]) {
					cr_assert(is_vnni_fn(v->dot[l][dp][mp]));
					differ++;
				}
			}
	cr_assert_eq(differ, sizeof vnni_fns / sizeof vnni_fns[0]);
}

/* Without VNNI, forcing "avx512vnni" is refused (never SIGILL) with a
 * message that names it. */
Test(kernels, test_forced_vnni_without_vnni_is_refused)
{
	if (feral_k_cpu_avx512vnni())
		cr_skip_test("this CPU has AVX512_VNNI");
	setenv("FERAL_KERNEL", "avx512vnni", 1);
	struct feral_error e = {0};
	const struct feral_kernels *k = feral_kernels_get(&e);
	unsetenv("FERAL_KERNEL");
	if (k) { /* RACES=atomic / no-SIMD builds fall back to ref */
		cr_assert_str_eq(k->name, "ref");
		return;
	}
	cr_assert_eq(e.status, FERAL_STATUS_UNSUPPORTED);
	cr_assert(strstr(e.msg, "avx512vnni") && strstr(e.msg, "does not support"), "message '%s'",
	          e.msg);
}

/* ---- integer dots never overflow ---------------------------------------------- */
Test(kernels, test_int_dots_exact_at_extreme_operands)
{
	/* 1100003: three blocks of the AVX2 i16 x i16 dot's int32 accumulators */
	static const size_t lens[] = {4099, 70000, 300001, 1100003};
	for (size_t i = 0; i < NISAS; i++) {
		const struct feral_kernels *t = feral_kernels_named(ISAS[i]);
		if (!t)
			continue;
		for (size_t li = 0; li < 4; li++) {
			size_t n = lens[li];
			int8_t *a8 = malloc(n), *x8 = malloc(n);
			int16_t *a16 = malloc(2 * n), *x16 = malloc(2 * n);
			uint32_t *idx = malloc(4 * n);
			for (size_t k = 0; k < n; k++)
				idx[k] = (uint32_t)k;
			for (int sa = -1; sa <= 1; sa += 2)
				for (int sx = -1; sx <= 1; sx += 2) {
					memset(a8, sa * 127, n);
					memset(x8, sx * 127, n);
					for (size_t k = 0; k < n; k++) {
						a16[k] = (int16_t)(sa * 32767);
						x16[k] = (int16_t)(sx * 32767);
					}
					for (int l = 0; l < 2; l++) {
						const uint32_t *ix = l ? idx : NULL;
						double w88 = (double)sa * sx * 127 * 127 * (double)n;
						double w1616 = (double)sa * sx * 32767 * 32767 * (double)n;
						double w168 = (double)sa * sx * 32767 * 127 * (double)n;
						double g = t->dot[l][FERAL_PRECISION_I8][FERAL_PRECISION_I8](a8, ix, x8, n);
						cr_assert_eq(g, w88, "%s %s i8 x i8 len %zu signs %+d %+d: %.17g, want %.17g",
						             ISAS[i], LN[l], n, sa, sx, g, w88);
						g = t->dot[l][FERAL_PRECISION_I16][FERAL_PRECISION_I16](a16, ix, x16, n);
						cr_assert_eq(g, w1616, "%s %s i16 x i16 len %zu signs %+d %+d: %.17g, want %.17g",
						             ISAS[i], LN[l], n, sa, sx, g, w1616);
						g = t->dot[l][FERAL_PRECISION_I16][FERAL_PRECISION_I8](a16, ix, x8, n);
						cr_assert_eq(g, w168, "%s %s i16 x i8 len %zu: %.17g, want %.17g",
						             ISAS[i], LN[l], n, g, w168);
						g = t->dot[l][FERAL_PRECISION_I8][FERAL_PRECISION_I16](a8, ix, x16, n);
						cr_assert_eq(g, w168, "%s %s i8 x i16 len %zu: %.17g, want %.17g",
						             ISAS[i], LN[l], n, g, w168);
					}
				}
			/* data may hold -128 (only the model is kept symmetric) */
			memset(a8, -128, n);
			memset(x8, 127, n);
			double g = t->dot[0][FERAL_PRECISION_I8][FERAL_PRECISION_I8](a8, NULL, x8, n);
			cr_assert_eq(g, -128.0 * 127 * (double)n, "%s i8 data -128, len %zu: %.17g", ISAS[i], n, g);
			free(a8);
			free(x8);
			free(a16);
			free(x16);
			free(idx);
		}
	}
}
