/* AVX2 + FMA kernels.  Compiled with the ISA flags (Makefile: *_avx2.c);
 * called only when dispatch.c has checked cpuid and XCR0.  Contract and
 * numerics: kernels/kernels.h.  Tails (< one step) go to the _ref twin.
 *
 * G (accumulator) per dense dot:
 *   data x f32/i16/i8 model with a float side: G32, four f32 FMA chains of 8,
 *     reduced in double;
 *   any data x f64 model: G64, double FMA (four chains for f32 data, two for
 *     integer data);
 *   i16 x i16: vpmaddwd, split exactly into int32 sums L and H (below);
 *   i16 x i8, i8 x i16: vpmaddwd into two int32 accumulators for at most 128
 *     steps, then int64;
 *   i8 x i8: sign transfer, vpmaddubsw(|a|, sign(a)*x) then vpmaddwd by 1,
 *     two int32 accumulators (even and odd steps):
 *     int16 pair sums <= 2*128*127 never saturate, int32 lanes gain at most
 *     4*128*127 a step, spilled to int64 every 1024 steps (32768 elements).
 *     Needs x != -128 (the model's symmetric range); a may be any int8. */
#if defined(__AVX2__) && defined(__FMA__)
#include <cpuid.h>
#include <immintrin.h>

#include "internal.h"
#include "kernels.h"

typedef float T_f32;
typedef double T_f64;
typedef int16_t T_i16;
typedef int8_t T_i8;

#define NOFUSE(v) __asm__("" : "+x"(v))

static inline __m256 ld8_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline __m256 ld8_i16(const int16_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p)));
}
static inline __m256 ld8_i8(const int8_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
static inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
static inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
static inline double hsum_pd(__m256d v)
{
	__m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
	return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline double hsum_ps_d(__m256 v) { return hsum_pd(_mm256_add_pd(lo_pd(v), hi_pd(v))); }
static inline __m256i widen_add(__m256i acc64, __m256i v32)
{
	acc64 = _mm256_add_epi64(acc64, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v32)));
	return _mm256_add_epi64(acc64, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v32, 1)));
}
static inline int64_t hsum_epi64(__m256i v)
{
	__m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

/* ---- dense dots, G32 -------------------------------------------------------
 * Four independent FMA chains of 8 lanes (two left the dot bound by the
 * 4-5 cycle FMA latency): step j (8 elements from 8 j) goes to chain j mod 4
 * in the main loop, the last < 4 whole steps to chains 0, 1, 2 in order,
 * summed as (s0 + s1) + (s2 + s3), then the < 8 element tail (ref): the
 * order depends only on len, as in k_avx512.c. */
#define FMA_PS(dp, mp, s, o) s = _mm256_fmadd_ps(ld8_##dp(a + (o)), ld8_##mp(x + (o)), s)
#define DOT_PS(dp, mp)                                                                     \
	double feral_k_dot_##dp##_##mp##_avx2(const void *a_, const uint32_t *idx,          \
	                                       const void *x_, size_t len)                  \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_dot_##dp##_##mp##_ref(a_, idx, x_, len);             \
		const T_##dp *a = a_;                                                       \
		const T_##mp *x = x_;                                                       \
		__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                 \
		size_t k = 0;                                                               \
		for (; k + 32 <= len; k += 32) {                                            \
			FMA_PS(dp, mp, s0, k);                                              \
			FMA_PS(dp, mp, s1, k + 8);                                          \
			FMA_PS(dp, mp, s2, k + 16);                                         \
			FMA_PS(dp, mp, s3, k + 24);                                         \
		}                                                                           \
		FERAL_K_DOT_TAIL3(8, FMA_PS, dp, mp)                                    \
		return hsum_ps_d(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) + \
		       feral_k_dot_##dp##_##mp##_ref(a + k, NULL, x + k, len - k);          \
	}
DOT_PS(f32, f32)
DOT_PS(f32, i16)
DOT_PS(f32, i8)
DOT_PS(i16, f32)
DOT_PS(i8, f32)

/* G64: a step of 8 elements feeds two double chains (low and high 4).
 * f32 data: two steps a loop, four chains (step j to pair j mod 2, a last
 * odd step to pair 0; summed as (s0 + t0) + (s1 + t1)).  int16 / int8 data:
 * one step a loop, two chains, as before: their conversions (port 5) bound
 * the loop, and four chains measured ~5 % slower. */
#define FMA_PD(dp, s, t, o)                                                                \
	do {                                                                                \
		__m256 av = ld8_##dp(a + (o));                                              \
		s = _mm256_fmadd_pd(lo_pd(av), _mm256_loadu_pd(x + (o)), s);                \
		t = _mm256_fmadd_pd(hi_pd(av), _mm256_loadu_pd(x + (o) + 4), t);            \
	} while (0)
#define DOT_PD(dp, U)                                                                      \
	double feral_k_dot_##dp##_f64_avx2(const void *a_, const uint32_t *idx,             \
	                                    const void *x_, size_t len)                     \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_dot_##dp##_f64_ref(a_, idx, x_, len);                \
		const T_##dp *a = a_;                                                       \
		const double *x = x_;                                                       \
		__m256d s0 = _mm256_setzero_pd(), t0 = s0, s1 = s0, t1 = s0;                \
		size_t k = 0;                                                               \
		for (; U == 2 && k + 16 <= len; k += 16) {                                  \
			FMA_PD(dp, s0, t0, k);                                              \
			FMA_PD(dp, s1, t1, k + 8);                                          \
		}                                                                           \
		for (; U == 1 && k + 8 <= len; k += 8)                                      \
			FMA_PD(dp, s0, t0, k);                                              \
		if (k + 8 <= len) {                                                         \
			FMA_PD(dp, s0, t0, k);                                              \
			k += 8;                                                             \
		}                                                                           \
		return hsum_pd(_mm256_add_pd(_mm256_add_pd(s0, t0), _mm256_add_pd(s1, t1))) + \
		       feral_k_dot_##dp##_f64_ref(a + k, NULL, x + k, len - k);             \
	}
DOT_PD(f32, 2)
DOT_PD(i16, 1)
DOT_PD(i8, 1)

/* ---- dense dots, exact integer --------------------------------------------- */
/* i16 x i16: vpmaddwd pair sums |p| <= 2 32767^2 < 2^31 fit int32 but two
 * of them may not.  As in k_avx512.c, each p is added to L (int32 lanes,
 * wrapping) and p >> 16 (|p >> 16| <= 2^15) to H (exact); after 2^14 steps
 * of two vectors (two (L, H) sets, added before the combine), L - 2^16 H =
 * sum (p & 0xffff) mod 2^32 and that sum is in [0, 2^31): the lane's exact
 * sum is 2^16 H + (L - (H << 16)), formed in int64 once per block.  (Adding p & 0xffff to a separate
 * accumulator instead cost one more and a vector.) */
static inline __m256i lh_add(__m256i *L, __m256i H, __m256i p)
{
	*L = _mm256_add_epi32(*L, p);
	return _mm256_add_epi32(H, _mm256_srai_epi32(p, 16));
}
double feral_k_dot_i16_i16_avx2(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i16_i16_ref(a_, idx, x_, len);
	const int16_t *a = a_;
	const int16_t *x = x_;
	__m256i acc = _mm256_setzero_si256();
	size_t n32 = len / 32, k = 0;
	while (k < n32) {
		size_t end = k + (1u << 14) < n32 ? k + (1u << 14) : n32;
		__m256i h0 = _mm256_setzero_si256(), h1 = h0, l0 = h0, l1 = h0;
		for (; k < end; k++) {
			const __m256i *pa = (const __m256i *)(a + 32 * k), *px = (const __m256i *)(x + 32 * k);
			h0 = lh_add(&l0, h0, _mm256_madd_epi16(_mm256_loadu_si256(pa),
			                                       _mm256_loadu_si256(px)));
			h1 = lh_add(&l1, h1, _mm256_madd_epi16(_mm256_loadu_si256(pa + 1),
			                                       _mm256_loadu_si256(px + 1)));
		}
		/* both sets at once (L wraps anyway, |H| < 2^30): l = sum (p & 0xffff)
		 * < 2^31, then 2^16 h + l widened to int64 */
		__m256i H = _mm256_add_epi32(h0, h1);
		__m256i l = _mm256_sub_epi32(_mm256_add_epi32(l0, l1), _mm256_slli_epi32(H, 16));
		__m256i h = widen_add(_mm256_setzero_si256(), H);
		acc = _mm256_add_epi64(widen_add(acc, l), _mm256_slli_epi64(h, 16));
	}
	k = n32 * 32;
	return (double)(hsum_epi64(acc) +
	                (int64_t)feral_k_dot_i16_i16_ref(a + k, NULL, x + k, len - k));
}

#define WB_STEP(blk, j)                                                                    \
	blk = _mm256_add_epi32(                                                             \
		blk, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(w + 16 * (j))),  \
		                       _mm256_cvtepi8_epi16(                                  \
			                       _mm_loadu_si128((const __m128i *)(b + 16 * (j))))))
/* Two int32 accumulators (even and odd steps) for at most 128 steps. */
static inline int64_t dot_w_b(const int16_t *w, const int8_t *b, size_t n16)
{
	__m256i acc = _mm256_setzero_si256();
	size_t k = 0;
	while (k < n16) {
		size_t end = k + 128 < n16 ? k + 128 : n16;
		__m256i b0 = _mm256_setzero_si256(), b1 = b0;
		for (; k + 2 <= end; k += 2) {
			WB_STEP(b0, k);
			WB_STEP(b1, k + 1);
		}
		if (k < end) {
			WB_STEP(b0, k);
			k++;
		}
		acc = widen_add(acc, _mm256_add_epi32(b0, b1));
	}
	return hsum_epi64(acc);
}
double feral_k_dot_i16_i8_avx2(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i16_i8_ref(a_, idx, x_, len);
	size_t k = len & ~(size_t)15;
	return (double)(dot_w_b(a_, x_, len / 16) +
	                (int64_t)feral_k_dot_i16_i8_ref((const int16_t *)a_ + k, NULL,
	                                                (const int8_t *)x_ + k, len - k));
}
double feral_k_dot_i8_i16_avx2(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i8_i16_ref(a_, idx, x_, len);
	size_t k = len & ~(size_t)15;
	return (double)(dot_w_b(x_, a_, len / 16) +
	                (int64_t)feral_k_dot_i8_i16_ref((const int8_t *)a_ + k, NULL,
	                                                (const int16_t *)x_ + k, len - k));
}

/* 32 bytes: the 8 int32 sums of four products a_k x_k each. */
static inline __m256i sgn_dot32(const int8_t *a, const int8_t *x, __m256i ones)
{
	__m256i av = _mm256_loadu_si256((const __m256i *)a);
	__m256i xv = _mm256_loadu_si256((const __m256i *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(av), _mm256_sign_epi8(xv, av)),
	                         ones);
}
double feral_k_dot_i8_i8_avx2(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i8_i8_ref(a_, idx, x_, len);
	const int8_t *a = a_;
	const int8_t *x = x_;
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i acc = _mm256_setzero_si256();
	size_t n32 = len / 32, k = 0;
	while (k < n32) {
		size_t end = k + 1024 < n32 ? k + 1024 : n32;
		__m256i s0 = _mm256_setzero_si256(), s1 = s0;
		for (; k + 2 <= end; k += 2) {
			s0 = _mm256_add_epi32(s0, sgn_dot32(a + 32 * k, x + 32 * k, ones));
			s1 = _mm256_add_epi32(s1, sgn_dot32(a + 32 * k + 32, x + 32 * k + 32, ones));
		}
		if (k < end) {
			s0 = _mm256_add_epi32(s0, sgn_dot32(a + 32 * k, x + 32 * k, ones));
			k++;
		}
		acc = widen_add(acc, _mm256_add_epi32(s0, s1));
	}
	k = n32 * 32;
	return (double)(hsum_epi64(acc) + (int64_t)feral_k_dot_i8_i8_ref(a + k, NULL, x + k, len - k));
}

/* ---- dense float-model axpy ------------------------------------------------ */
#define AXPY_PD(dp)                                                                        \
	uint64_t feral_k_axpy_##dp##_f64_avx2(void *x_, const void *a_, const uint32_t *idx,  \
	                                       size_t len, double alpha,                     \
	                                       enum feral_rounding mode,                     \
	                                       struct feral_k_rng *rng)                      \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_f64_ref(x_, a_, idx, len, alpha, mode, rng); \
		const T_##dp *a = a_;                                                       \
		double *x = x_;                                                             \
		const __m256d al = _mm256_set1_pd(alpha);                                   \
		size_t k = 0;                                                               \
		for (; k + 8 <= len; k += 8) {                                              \
			__m256 av = ld8_##dp(a + k);                                        \
			__m256d i0 = _mm256_mul_pd(al, lo_pd(av));                          \
			__m256d i1 = _mm256_mul_pd(al, hi_pd(av));                          \
			NOFUSE(i0);                                                         \
			NOFUSE(i1);                                                         \
			_mm256_storeu_pd(x + k, _mm256_add_pd(_mm256_loadu_pd(x + k), i0)); \
			_mm256_storeu_pd(x + k + 4,                                         \
			                 _mm256_add_pd(_mm256_loadu_pd(x + k + 4), i1));    \
		}                                                                           \
		return feral_k_axpy_##dp##_f64_ref(x + k, a + k, NULL, len - k, alpha, mode, \
		                                   rng);                                    \
	}
#define AXPY_PS(dp)                                                                        \
	uint64_t feral_k_axpy_##dp##_f32_avx2(void *x_, const void *a_, const uint32_t *idx,  \
	                                       size_t len, double alpha,                     \
	                                       enum feral_rounding mode,                     \
	                                       struct feral_k_rng *rng)                      \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_f32_ref(x_, a_, idx, len, alpha, mode, rng); \
		const T_##dp *a = a_;                                                       \
		float *x = x_;                                                              \
		const __m256 al = _mm256_set1_ps((float)alpha);                             \
		size_t k = 0;                                                               \
		for (; k + 8 <= len; k += 8) {                                              \
			__m256 inc = _mm256_mul_ps(al, ld8_##dp(a + k));                    \
			NOFUSE(inc);                                                        \
			_mm256_storeu_ps(x + k, _mm256_add_ps(_mm256_loadu_ps(x + k), inc)); \
		}                                                                           \
		return feral_k_axpy_##dp##_f32_ref(x + k, a + k, NULL, len - k, alpha, mode, \
		                                   rng);                                    \
	}
AXPY_PD(f32)
AXPY_PD(i16)
AXPY_PD(i8)
AXPY_PS(f32)
AXPY_PS(i16)
AXPY_PS(i8)

/* ---- dense integer-model axpy ----------------------------------------------
 * 16 elements a step (two vectors of 8).  INDEPENDENT: xorshift64 on
 * lane[0..3] and lane[4..7], one step each gives 16 32-bit halves. */
static inline void ldq16_i16(const int16_t *p, __m256i *q0, __m256i *q1)
{
	*q0 = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p));
	*q1 = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(p + 8)));
}
static inline void ldq16_i8(const int8_t *p, __m256i *q0, __m256i *q1)
{
	*q0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
	*q1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)));
}
/* Values are already within range, so the saturating packs are exact. */
static inline __m256i pack16(__m256i c0, __m256i c1)
{
	return _mm256_permute4x64_epi64(_mm256_packs_epi32(c0, c1), 0xD8);
}
static inline void stq16_i16(int16_t *p, __m256i c0, __m256i c1)
{
	_mm256_storeu_si256((__m256i *)p, pack16(c0, c1));
}
static inline void stq16_i8(int8_t *p, __m256i c0, __m256i c1)
{
	__m256i w = pack16(c0, c1);
	_mm_storeu_si128((__m128i *)p,
	                 _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
}
static inline __m256i xorshift64x4(__m256i s)
{
	s = _mm256_xor_si256(s, _mm256_slli_epi64(s, 13));
	s = _mm256_xor_si256(s, _mm256_srli_epi64(s, 7));
	return _mm256_xor_si256(s, _mm256_slli_epi64(s, 17));
}
/* ---- random bits (bench: feral_k_bits_avx2) --------------------------------
 * ARS-R (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1,
 * 2, 3", SC 2011): R AES rounds of a counter, the round keys a Weyl sequence
 * from the key, the last round without MixColumns (aesenclast).  Two
 * counters per 256-bit vector (VAES). */
#define ARS_W_LO 0x9E3779B97F4A7C15ull
#define ARS_W_HI 0xBB67AE8584CAA73Bull
#define FERAL_TARGET_VAES __attribute__((target("aes,vaes")))
FERAL_TARGET_VAES static inline __attribute__((always_inline)) __m256i ars(__m256i c, const __m256i *rk, const int R)
{
	__m256i v = _mm256_xor_si256(c, rk[0]);
#pragma GCC unroll 8
	for (int r = 1; r < R; r++)
		v = _mm256_aesenc_epi128(v, rk[r]);
	return _mm256_aesenclast_epi128(v, rk[R]);
}
FERAL_TARGET_VAES static inline __attribute__((always_inline)) void ars_keys(__m128i key, __m256i *rk, const int R)
{
	const __m128i w = _mm_set_epi64x((long long)ARS_W_HI, (long long)ARS_W_LO);
#pragma GCC unroll 8
	for (int r = 0; r <= R; r++) {
		rk[r] = _mm256_broadcastsi128_si256(key);
		key = _mm_add_epi64(key, w);
	}
}
FERAL_TARGET_VAES static inline __attribute__((always_inline)) uint64_t bits_ars(struct feral_k_rng *rng, size_t n32, const int R,
                                           const int U)
{
	__m256i rk[8];
	ars_keys(_mm_loadu_si128((const __m128i *)rng->lane), rk, R);
	__m256i c = _mm256_set_epi64x(0, 1, 0, 0), two = _mm256_set_epi64x(0, 2, 0, 2);
	__m256i acc = _mm256_setzero_si256();
	for (size_t k = 0; k + U <= n32; k += U)
#pragma GCC unroll 8
		for (int u = 0; u < U; u++) {
			acc = _mm256_add_epi16(acc, ars(c, rk, R));
			c = _mm256_add_epi64(c, two);
		}
	return (uint64_t)_mm256_extract_epi64(acc, 0) ^ (uint64_t)_mm256_extract_epi64(acc, 3);
}
static inline __attribute__((always_inline)) uint64_t bits_xs(struct feral_k_rng *rng, size_t n32, const int S)
{
	__m256i st[4], acc = _mm256_setzero_si256();
#pragma GCC unroll 8
	for (int s = 0; s < S; s++)
		st[s] = _mm256_load_si256((const __m256i *)(rng->lane + 4 * s));
	for (size_t k = 0; k + S <= n32; k += S)
#pragma GCC unroll 8
		for (int s = 0; s < S; s++) {
			st[s] = xorshift64x4(st[s]);
			acc = _mm256_add_epi16(acc, st[s]);
		}
#pragma GCC unroll 8
	for (int s = 0; s < S; s++)
		_mm256_store_si256((__m256i *)(rng->lane + 4 * s), st[s]);
	return (uint64_t)_mm256_extract_epi64(acc, 0) ^ (uint64_t)_mm256_extract_epi64(acc, 3);
}
/* cpuid directly: clang 14's __builtin_cpu_supports has no "vaes" (the
 * file did not compile with CC=clang).  AES: leaf 1 ECX bit 25; VAES: leaf
 * 7.0 ECX bit 9.  Only kbench calls this, and only on the AVX2 table (the
 * OS's AVX state is checked by dispatch.c before that table is offered). */
int feral_k_cpu_vaes(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 25)))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (c >> 9) & 1;
}
static uint64_t bits_xs1(struct feral_k_rng *r, size_t n) { return bits_xs(r, n, 1); }
static uint64_t bits_xs2(struct feral_k_rng *r, size_t n) { return bits_xs(r, n, 2); }
static uint64_t bits_xs4(struct feral_k_rng *r, size_t n) { return bits_xs(r, n, 4); }
FERAL_TARGET_VAES static uint64_t bits_ars51(struct feral_k_rng *r, size_t n) { return bits_ars(r, n, 5, 1); }
FERAL_TARGET_VAES static uint64_t bits_ars54(struct feral_k_rng *r, size_t n) { return bits_ars(r, n, 5, 4); }
FERAL_TARGET_VAES static uint64_t bits_ars44(struct feral_k_rng *r, size_t n) { return bits_ars(r, n, 4, 4); }
FERAL_TARGET_VAES static uint64_t bits_ars74(struct feral_k_rng *r, size_t n) { return bits_ars(r, n, 7, 4); }
uint64_t feral_k_bits_avx2(struct feral_k_rng *rng, size_t n32, int gen)
{
	static uint64_t (*const g[])(struct feral_k_rng *, size_t) = {
		bits_xs1, bits_xs2, bits_xs4, bits_ars51, bits_ars54, bits_ars44, bits_ars74};
	if (gen < 0 || gen >= FERAL_K_BITS_GENS || (gen >= 3 && !feral_k_cpu_vaes()))
		return 0;
	return g[gen](rng, n32);
}
static inline __m256i round8(__m256 t, enum feral_rounding mode, __m256 u)
{
	if (mode == FERAL_ROUNDING_NEAREST)
		return _mm256_cvtps_epi32(
			_mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	return _mm256_cvttps_epi32(_mm256_floor_ps(_mm256_add_ps(t, u)));
}
static inline unsigned sat8(__m256i q, __m256i c)
{
	return (unsigned)__builtin_popcount(
		~_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(q, c))) & 0xff);
}

#define AXPY_INT(dp, mp, QMAX) AXPY_INT_FN(feral_k_axpy_##dp##_##mp##_avx2, dp, mp, QMAX)
#define AXPY_INT_FN(fn, dp, mp, QMAX)                                                      \
	uint64_t fn(void *x_, const void *a_,                                               \
	                                          const uint32_t *idx, size_t len,           \
	                                          double alpha, enum feral_rounding mode,    \
	                                          struct feral_k_rng *rng)                   \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_##mp##_ref(x_, a_, idx, len, alpha, mode, \
			                                      rng);                         \
		const T_##dp *a = a_;                                                       \
		T_##mp *x = x_;                                                             \
		const __m256 al = _mm256_set1_ps((float)alpha);                             \
		const __m256 hi = _mm256_set1_ps(65536.0f), lo = _mm256_set1_ps(-65536.0f); \
		const __m256 u24 = _mm256_set1_ps(0x1.0p-24f);                              \
		const __m256i qmax = _mm256_set1_epi32(QMAX), qmin = _mm256_set1_epi32(-QMAX); \
		__m256i st0 = _mm256_setzero_si256(), st1 = st0;                            \
		if (mode == FERAL_ROUNDING_INDEPENDENT) { /* rng may be NULL for NEAREST */ \
			st0 = _mm256_load_si256((const __m256i *)rng->lane);                \
			st1 = _mm256_load_si256((const __m256i *)(rng->lane + 4));          \
		}                                                                           \
		uint64_t sat = 0;                                                           \
		size_t k = 0;                                                               \
		for (; k + 16 <= len; k += 16) {                                            \
			__m256 t0 = _mm256_mul_ps(al, ld8_##dp(a + k));                     \
			__m256 t1 = _mm256_mul_ps(al, ld8_##dp(a + k + 8));                 \
			t0 = _mm256_max_ps(_mm256_min_ps(t0, hi), lo); /* NaN -> hi */      \
			t1 = _mm256_max_ps(_mm256_min_ps(t1, hi), lo);                      \
			__m256 u0 = _mm256_setzero_ps(), u1 = u0;                           \
			if (mode != FERAL_ROUNDING_NEAREST) {                               \
				st0 = xorshift64x4(st0);                                    \
				st1 = xorshift64x4(st1);                                    \
				u0 = _mm256_mul_ps(                                         \
					_mm256_cvtepi32_ps(_mm256_srli_epi32(st0, 8)), u24); \
				u1 = _mm256_mul_ps(                                         \
					_mm256_cvtepi32_ps(_mm256_srli_epi32(st1, 8)), u24); \
			}                                                                   \
			__m256i q0, q1;                                                     \
			ldq16_##mp(x + k, &q0, &q1);                                        \
			q0 = _mm256_add_epi32(q0, round8(t0, mode, u0));                    \
			q1 = _mm256_add_epi32(q1, round8(t1, mode, u1));                    \
			__m256i c0 = _mm256_min_epi32(_mm256_max_epi32(q0, qmin), qmax);    \
			__m256i c1 = _mm256_min_epi32(_mm256_max_epi32(q1, qmin), qmax);    \
			sat += sat8(q0, c0) + sat8(q1, c1);                                 \
			stq16_##mp(x + k, c0, c1);                                          \
		}                                                                           \
		if (mode == FERAL_ROUNDING_INDEPENDENT) {                                   \
			_mm256_store_si256((__m256i *)rng->lane, st0);                      \
			_mm256_store_si256((__m256i *)(rng->lane + 4), st1);                \
		}                                                                           \
		return sat + feral_k_axpy_##dp##_##mp##_ref(x + k, a + k, NULL, len - k,    \
		                                            alpha, mode, rng);              \
	}
AXPY_INT(f32, i16, 32767)
AXPY_INT(f32, i8, 127)
static AXPY_INT_FN(axpy_i16_i16_f32path, i16, i16, 32767)
AXPY_INT(i16, i8, 127)
AXPY_INT(i8, i16, 32767)
static AXPY_INT_FN(axpy_i8_i8_f32path, i8, i8, 127)

/* int16 x int16, INDEPENDENT, |alpha| < 1/2: kernels/fx16.h's template with
 * this shim, 16 elements a vector (two a ring step), never widened: the
 * carry r <u lo is the signed compare (lo ^ 0x8000) > (r ^ 0x8000), its -1
 * subtracted; A carries the even elements' aq in its low and the odd ones'
 * in its high 16-bit words.  Lanes that did NOT saturate (wrapping sum =
 * clamped sum) are counted in 16-bit lanes (a compare gives -1) and the
 * saturated writes are the rest.  The multipliers of 16 steps come from one
 * xorshift64 step of lane[8..11] and one of lane[12..15] (words 0..15 and
 * 16..31; the unsigned v < f16 is the signed (f16 ^ 0x8000) > (v ^
 * 0x8000)), stored as 16 dwords. */
static inline __m256i fx16_t256(__m256i av, __m256i A, __m256i r)
{
	const __m256i k8000 = _mm256_set1_epi16(-32768);
	__m256i lo = _mm256_mullo_epi16(av, A);
	return _mm256_sub_epi16(_mm256_mulhi_epi16(av, A),
	                        _mm256_cmpgt_epi16(_mm256_xor_si256(lo, k8000),
	                                           _mm256_xor_si256(r, k8000)));
}
static inline uint64_t hsum_u16(__m256i v)
{
	__m256i s = _mm256_madd_epi16(v, _mm256_set1_epi16(1)); /* lanes <= 2^14: exact */
	__m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
	h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
	return (uint64_t)(uint32_t)(_mm_cvtsi128_si32(h) + _mm_extract_epi32(h, 1));
}
struct fx16_aqs {
	__m256i s0, s1;
};
static inline struct fx16_aqs fx16_aq256(struct fx16_aqs s, int16_t A0, int32_t f16, int32_t *q)
{
	const __m256i A0v = _mm256_set1_epi16(A0), k8000 = _mm256_set1_epi16(-32768);
	const __m256i F = _mm256_set1_epi16((short)(f16 ^ 0x8000));
	s.s0 = xorshift64x4(s.s0);
	s.s1 = xorshift64x4(s.s1);
	_mm256_store_si256((__m256i *)q,
	                   _mm256_sub_epi16(A0v, _mm256_cmpgt_epi16(F, _mm256_xor_si256(s.s0, k8000))));
	_mm256_store_si256((__m256i *)(q + 8),
	                   _mm256_sub_epi16(A0v, _mm256_cmpgt_epi16(F, _mm256_xor_si256(s.s1, k8000))));
	return s;
}
#define FX16_V __m256i
#define FX16_W 16
#define FX16_ZERO _mm256_setzero_si256()
#define FX16_LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define FX16_ST(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define FX16_RLD(p) _mm256_load_si256((const __m256i *)(p))
#define FX16_RST(p, v) _mm256_store_si256((__m256i *)(p), v)
#define FX16_ADD64(a, b) _mm256_add_epi64(a, b)
#define FX16_ADD16(a, b) _mm256_add_epi16(a, b)
#define FX16_A(aq) _mm256_set1_epi32(aq)
#define FX16_T(av, A, r) fx16_t256(av, A, r)
#define FX16_CLAMP(x, t) _mm256_max_epi16(_mm256_adds_epi16(x, t), _mm256_set1_epi16(-32767))
#define FX16_CNT(n, w, c) _mm256_sub_epi16(n, _mm256_cmpeq_epi16(w, c))
#define FX16_CNTN(n, nv) (32 * (uint64_t)(nv) - hsum_u16(n))
#define FX16_AQS struct fx16_aqs
#define FX16_AQLOAD(rng)                                                                   \
	((struct fx16_aqs){_mm256_load_si256((const __m256i *)((rng)->lane + 8)),          \
	                   _mm256_load_si256((const __m256i *)((rng)->lane + 12))})
#define FX16_AQSTORE(rng, s)                                                               \
	(_mm256_store_si256((__m256i *)((rng)->lane + 8), (s).s0),                         \
	 _mm256_store_si256((__m256i *)((rng)->lane + 12), (s).s1))
#define FX16_AQ(s, A0, f16, q) fx16_aq256(s, A0, f16, q)
#include "fx16.h"

uint64_t feral_k_axpy_i16_i16_avx2(void *x_, const void *a_, const uint32_t *idx, size_t len,
                                   double alpha, enum feral_rounding mode,
                                   struct feral_k_rng *rng)
{
	if (idx)
		return feral_k_axpy_i16_i16_ref(x_, a_, idx, len, alpha, mode, rng);
	if (mode != FERAL_ROUNDING_INDEPENDENT ||
	    !(alpha > -FERAL_K_FX16_ALPHA_MAX && alpha < FERAL_K_FX16_ALPHA_MAX))
		return axpy_i16_i16_f32path(x_, a_, idx, len, alpha, mode, rng);
	return fx16_row(x_, a_, len, alpha, rng);
}

/* int8 x int8, fixed point in 16-bit lanes (kernels.h): 32 elements a step,
 * one 32-byte load and store of the model (the dot's load width, so it
 * forwards from one store).  INDEPENDENT: R from the lagged-Fibonacci
 * ring's bytes (kernels.h, feral_k_fx_dense). */
static inline __m256i fx_half(__m256i av16, __m256i xv16, __m256i A, __m256i R0, int mode,
                              __m256i half, __m128i cF, uint64_t *sat)
{
	const __m256i qmax = _mm256_set1_epi16(127), qmin = _mm256_set1_epi16(-127);
	__m256i p = _mm256_mullo_epi16(av16, A);
	__m256i R = mode == FERAL_ROUNDING_NEAREST
	                    ? _mm256_add_epi16(half, _mm256_and_si256(_mm256_sra_epi16(p, cF),
	                                                              _mm256_set1_epi16(1)))
	                    : R0;
	__m256i q = _mm256_add_epi16(xv16, _mm256_sra_epi16(_mm256_add_epi16(p, R), cF));
	__m256i c = _mm256_min_epi16(_mm256_max_epi16(q, qmin), qmax);
	*sat += (uint64_t)__builtin_popcount(~_mm256_movemask_epi8(_mm256_cmpeq_epi16(q, c))) / 2;
	return c;
}
/* The byte path for INDEPENDENT rounding at F >= 8 (|alpha| < 1/2):
 * kernels/fx8.h's template with this shim, 32 elements a vector, two
 * vectors a lagged-Fibonacci step (its 64-byte ring entry in halves).  The byte
 * blend is vpblendvb (an and/and/or measured 2-3 % slower on Golden Cove). */
#define FX8_V __m256i
#define FX8_W 32
#define FX8_LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define FX8_ST(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define FX8_RLD(p) _mm256_load_si256((const __m256i *)(p))
#define FX8_RST(p, v) _mm256_store_si256((__m256i *)(p), v)
#define FX8_ADD64(a, b) _mm256_add_epi64(a, b)
#define FX8_SET32(v) _mm256_set1_epi32(v)
#define FX8_SET16(v) _mm256_set1_epi16(v)
#define FX8_BCAST32(p) _mm256_set1_epi32(*(const int *)(p))
#define FX8_SET8(v) _mm256_set1_epi8(v)
#define FX8_ZERO _mm256_setzero_si256()
#define FX8_MADDUBS(u, a) _mm256_maddubs_epi16(u, a)
#define FX8_ADD16(a, b) _mm256_add_epi16(a, b)
#define FX8_MULHI16(v, c) _mm256_mulhi_epi16(v, c)
#define FX8_SRAI16(v, m) _mm256_srai_epi16(v, m)
#define FX8_XOR(a, b) _mm256_xor_si256(a, b)
#define FX8_ADDS8(a, b) _mm256_adds_epi8(a, b)
#define FX8_ADD8(a, b) _mm256_add_epi8(a, b)
#define FX8_MAX8(a, b) _mm256_max_epi8(a, b)
#define FX8_BLENDODD(e, o) _mm256_blendv_epi8(e, o, _mm256_set1_epi16((short)0xff00))
#define FX8_ANDOR(w, m, c) _mm256_or_si256(_mm256_and_si256(w, m), c)
#define FX8_BSWAP16(w)                                                                     \
	_mm256_shuffle_epi8(w, _mm256_set_epi32(0x0e0f0c0d, 0x0a0b0809, 0x06070405, 0x02030001, \
	                                        0x0e0f0c0d, 0x0a0b0809, 0x06070405, 0x02030001))
#define FX8_SATV(acc, w, c) _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(w, c))
#define FX8_SATN(acc, nv) (32 * (uint64_t)(nv) - hsum_sad(acc))
static inline uint64_t hsum_sad(__m256i v)
{
	return (uint64_t)hsum_epi64(_mm256_sad_epu8(v, _mm256_setzero_si256()));
}
#include "fx8.h"

static __attribute__((noinline)) uint64_t
axpy_i8_i8_rest(void *x_, const void *a_, const uint32_t *idx, size_t len,
                double alpha, enum feral_rounding mode,
                struct feral_k_rng *rng)
{
	if (idx)
		return feral_k_axpy_i8_i8_ref(x_, a_, idx, len, alpha, mode, rng);
	if (!(alpha > -FERAL_K_FX_ALPHA_MAX && alpha < FERAL_K_FX_ALPHA_MAX))
		return axpy_i8_i8_f32path(x_, a_, idx, len, alpha, mode, rng);
	const int8_t *a = a_;
	int8_t *x = x_;
	int16_t aq;
	int F = feral_k_fx_alpha(alpha, mode, rng, &aq);
	const __m256i A = _mm256_set1_epi16(aq);
	const __m256i half = _mm256_set1_epi16((int16_t)((1 << (F - 1)) - 1));
	const __m128i cF = _mm_cvtsi32_si128(F), cR = _mm_cvtsi32_si128(8 - F);
	const int ind = mode == FERAL_ROUNDING_INDEPENDENT;
	/* INDEPENDENT (F < 8, kernels.h feral_k_fx_dense): R = the top F bits
	 * of the ring entry's byte of each element; one step per 64 elements,
	 * both 32-byte halves at once (rhi serves the next 32) */
	struct feral_k_lf_cur cur = {0, 0}; /* NEAREST may pass no generator */
	if (ind)
		cur = feral_k_lf_begin(rng);
	__m256i rhi = _mm256_setzero_si256();
	uint64_t sat = 0;
	size_t k = 0;
	for (; k + 32 <= len; k += 32) {
		__m256i av = _mm256_loadu_si256((const __m256i *)(a + k));
		__m256i xv = _mm256_loadu_si256((const __m256i *)(x + k));
		__m256i R0 = _mm256_setzero_si256(), R1 = R0;
		if (ind) {
			__m256i rv = rhi;
			if ((k & 63) == 0) {
				__m256i *w = (__m256i *)(rng->lf + 8 * cur.i);
				const __m256i *v = (const __m256i *)(rng->lf + 8 * cur.j);
				rv = _mm256_add_epi64(_mm256_load_si256(w), _mm256_load_si256(v));
				_mm256_store_si256(w, rv);
				rhi = _mm256_add_epi64(_mm256_load_si256(w + 1),
				                       _mm256_load_si256(v + 1));
				_mm256_store_si256(w + 1, rhi);
				cur = feral_k_lf_adv(cur);
			}
			__m128i b0 = _mm256_castsi256_si128(rv), b1 = _mm256_extracti128_si256(rv, 1);
			R0 = _mm256_srl_epi16(_mm256_cvtepu8_epi16(b0), cR);
			R1 = _mm256_srl_epi16(_mm256_cvtepu8_epi16(b1), cR);
		}
		__m256i c0 = fx_half(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(av)),
		                     _mm256_cvtepi8_epi16(_mm256_castsi256_si128(xv)), A, R0, mode,
		                     half, cF, &sat);
		__m256i c1 = fx_half(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(av, 1)),
		                     _mm256_cvtepi8_epi16(_mm256_extracti128_si256(xv, 1)), A, R1,
		                     mode, half, cF, &sat);
		/* packs works per 128-bit lane: [c0lo c1lo c0hi c1hi] -> reorder */
		_mm256_storeu_si256((__m256i *)(x + k),
		                    _mm256_permute4x64_epi64(_mm256_packs_epi16(c0, c1), 0xD8));
	}
	if (!ind)
		return sat + feral_k_fx_i8_i8(x + k, a + k, NULL, len - k, F, aq, mode, rng);
	feral_k_lf_end(rng, cur);
	return sat + feral_k_fx_dense(x + k, a + k, len - k, k, F, aq, rng);
}

FX8_AXPY_ENTRY(avx2) /* fx8.h */
#endif
