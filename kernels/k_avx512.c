/* AVX-512 kernels (F, BW, VL, DQ; no VNNI: this table also serves CPUs
 * without it, e.g. Skylake-SP, so no VNNI instruction may appear here; the
 * VNNI int8 x int8 dot is k_avx512vnni.c, and `make check-vnni` disassembles
 * this object to prove it).  Compiled with the ISA flags (Makefile:
 * *_avx512.c); called only when dispatch.c has checked cpuid and XCR0.  Contract and numerics:
 * kernels/kernels.h.  Every kernel runs 16 (or 32/64) elements per step and
 * hands the tail (< one step) to its _ref twin, which is why float axpy and
 * NEAREST integer axpy are bit-identical to ref.
 *
 * G (accumulator) per dense dot:
 *   data x f32/i16/i8 model with a float side: G32, four f32 FMA chains,
 *     reduced in double;
 *   any data x f64 model: G64, double FMA (data converted exactly; four
 *     chains for f32 data, two for integer data);
 *   i16 x i16: vpmaddwd (each pair sum < 2^31 for symmetric operands), split
 *     exactly into int32 sums L and H (below);  i16 x i8, i8 x i16: vpmaddwd
 *     into two int32 accumulators for at most 128 steps (< 2^30 a lane), then
 *     int64;
 *   i8 x i8: sign transfer as in k_avx2.c, vpmaddubsw(|a|, sign(a)*x) then
 *     vpmaddwd by 1 (x != -128: the model's symmetric range; a any int8): six
 *     vector ops per 64 bytes, port-bound (two accumulators were no faster);
 *     int32 lanes gain at most 4*128*127 a step, spilled to int64 every 1024
 *     steps (65536 elements). */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
	defined(__AVX512DQ__)
#include <immintrin.h>

#include "internal.h"
#include "kernels.h"

typedef float T_f32;
typedef double T_f64;
typedef int16_t T_i16;
typedef int8_t T_i8;

/* Keep a product in a register so the following add is not fused into an
 * FMA (the ref kernels round the product first). */
#define NOFUSE(v) __asm__("" : "+v"(v))

/* 16 elements as f32 (exact for i8/i16). */
static inline __m512 ld16_f32(const float *p) { return _mm512_loadu_ps(p); }
static inline __m512 ld16_i16(const int16_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)p)));
}
static inline __m512 ld16_i8(const int8_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
static inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
static inline __m512d hi_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)); }
static inline double hsum_ps_d(__m512 v)
{
	return _mm512_reduce_add_pd(_mm512_add_pd(lo_pd(v), hi_pd(v)));
}
static inline __m512i widen_add(__m512i acc64, __m512i v32)
{
	acc64 = _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
	return _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

/* ---- dense dots, G32 -------------------------------------------------------
 * Four independent FMA chains of 16 lanes (FMA latency 4: the two chains
 * before left the f32 x f32 dot at one FMA per 2 cycles, latency-bound).
 * Step j (16 elements from 16 j) goes to chain j mod 4 in the main loop, the
 * last < 4 whole steps to chains 0, 1, 2 in order, the chains are summed as
 * (s0 + s1) + (s2 + s3), then the < 16 element tail (ref).  The order
 * depends only on len: bit-reproducible whatever the alignment. */
#define FMA_PS(dp, mp, s, o) s = _mm512_fmadd_ps(ld16_##dp(a + (o)), ld16_##mp(x + (o)), s)
#define DOT_PS(dp, mp)                                                                     \
	double feral_k_dot_##dp##_##mp##_avx512(const void *a_, const uint32_t *idx,        \
	                                         const void *x_, size_t len)                \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_dot_##dp##_##mp##_ref(a_, idx, x_, len);             \
		const T_##dp *a = a_;                                                       \
		const T_##mp *x = x_;                                                       \
		__m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                 \
		size_t k = 0;                                                               \
		if (len < 128) {                                                            \
			for (; k + 32 <= len; k += 32) {                                    \
				FMA_PS(dp, mp, s0, k);                                      \
				FMA_PS(dp, mp, s1, k + 16);                                 \
			}                                                                   \
			if (k + 16 <= len) {                                                \
				FMA_PS(dp, mp, s0, k);                                      \
				k += 16;                                                    \
			}                                                                   \
			return hsum_ps_d(_mm512_add_ps(s0, s1)) +                           \
			       feral_k_dot_##dp##_##mp##_ref(a + k, NULL, x + k, len - k);  \
		}                                                                           \
		for (; k + 64 <= len; k += 64) {                                            \
			FMA_PS(dp, mp, s0, k);                                              \
			FMA_PS(dp, mp, s1, k + 16);                                         \
			FMA_PS(dp, mp, s2, k + 32);                                         \
			FMA_PS(dp, mp, s3, k + 48);                                         \
		}                                                                           \
		FERAL_K_DOT_TAIL3(16, FMA_PS, dp, mp)                                   \
		return hsum_ps_d(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))) + \
		       feral_k_dot_##dp##_##mp##_ref(a + k, NULL, x + k, len - k);          \
	}
DOT_PS(f32, f32)
DOT_PS(f32, i16)
DOT_PS(f32, i8)
DOT_PS(i16, f32)
DOT_PS(i8, f32)

/* ---- dense dots, G64 (f64 model) -------------------------------------------
 * A step of 16 elements feeds two double chains (its low and high 8).  f32
 * data: two steps a loop, four chains (step j to pair j mod 2, a last odd
 * step to pair 0; summed as (s0 + t0) + (s1 + t1)).  int16 / int8 data: one
 * step a loop, two chains, as before: the conversions (vcvtps2pd, port 5)
 * bound them, and four chains were no faster. */
#define FMA_PD(dp, s, t, o)                                                                \
	do {                                                                                \
		__m512 av = ld16_##dp(a + (o));                                             \
		s = _mm512_fmadd_pd(lo_pd(av), _mm512_loadu_pd(x + (o)), s);                \
		t = _mm512_fmadd_pd(hi_pd(av), _mm512_loadu_pd(x + (o) + 8), t);            \
	} while (0)
#define DOT_PD(dp, U)                                                                      \
	double feral_k_dot_##dp##_f64_avx512(const void *a_, const uint32_t *idx,           \
	                                      const void *x_, size_t len)                   \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_dot_##dp##_f64_ref(a_, idx, x_, len);                \
		const T_##dp *a = a_;                                                       \
		const double *x = x_;                                                       \
		__m512d s0 = _mm512_setzero_pd(), t0 = s0, s1 = s0, t1 = s0;                \
		size_t k = 0;                                                               \
		for (; U == 2 && k + 32 <= len; k += 32) {                                  \
			FMA_PD(dp, s0, t0, k);                                              \
			FMA_PD(dp, s1, t1, k + 16);                                         \
		}                                                                           \
		for (; U == 1 && k + 16 <= len; k += 16)                                    \
			FMA_PD(dp, s0, t0, k);                                              \
		if (k + 16 <= len) {                                                        \
			FMA_PD(dp, s0, t0, k);                                              \
			k += 16;                                                            \
		}                                                                           \
		return _mm512_reduce_add_pd(                                                \
			       _mm512_add_pd(_mm512_add_pd(s0, t0), _mm512_add_pd(s1, t1))) + \
		       feral_k_dot_##dp##_f64_ref(a + k, NULL, x + k, len - k);             \
	}
DOT_PD(f32, 2)
DOT_PD(i16, 1)
DOT_PD(i8, 1)

/* ---- dense dots, exact integer ---------------------------------------------
 * (Integer sums are exact, so their order does not matter.) */
/* i16 x i16: a vpmaddwd pair sum p (|p| <= 2 32767^2 < 2^31) fits int32 but
 * two of them may not.  Each step adds p to L (int32 lanes, wrapping) and
 * p >> 16 (arithmetic, |p >> 16| <= 2^15) to H (exact); after B <= 2^15
 * steps L - 2^16 H = sum (p & 0xffff) mod 2^32, and that sum lies in
 * [0, 2^31), so the lane's exact sum is 2^16 H + (uint32)(L - (H << 16)),
 * formed in int64 once per block.  Four vector uops per 32 elements
 * (vpmaddwd, vpsrad, two vpaddd) where widening every step took six, three
 * of them shuffles on port 5; two (L, H) sets, even and odd steps (one set
 * ran 25 % slower: the two add chains, not the ports, bound it).  Rows
 * under 512 elements widen each step (the combine costs more there). */
#define LH_STEP(L, H, j)                                                                   \
	do {                                                                                \
		__m512i p_ = _mm512_madd_epi16(_mm512_loadu_si512(a + 32 * (j)),             \
		                               _mm512_loadu_si512(x + 32 * (j)));            \
		L = _mm512_add_epi32(L, p_);                                                \
		H = _mm512_add_epi32(H, _mm512_srai_epi32(p_, 16));                         \
	} while (0)
double feral_k_dot_i16_i16_avx512(const void *a_, const uint32_t *idx, const void *x_,
                                  size_t len)
{
	if (idx)
		return feral_k_dot_i16_i16_ref(a_, idx, x_, len);
	const int16_t *a = a_;
	const int16_t *x = x_;
	__m512i acc = _mm512_setzero_si512();
	size_t n32 = len / 32, k = 0;
	if (n32 < 16) { /* short rows (< 512 elements): widen each step, as the
	                  * combine of the blocks below costs more than it saves */
		for (; k < n32; k++)
			acc = widen_add(acc, _mm512_madd_epi16(_mm512_loadu_si512(a + 32 * k),
			                                       _mm512_loadu_si512(x + 32 * k)));
	} else {
		while (k < n32) {
			size_t end = k + (1u << 15) < n32 ? k + (1u << 15) : n32;
			__m512i L = _mm512_setzero_si512(), H = L, L1 = L, H1 = L;
			for (; k + 2 <= end; k += 2) {
				LH_STEP(L, H, k);
				LH_STEP(L1, H1, k + 1);
			}
			if (k < end) {
				LH_STEP(L, H, k);
				k++;
			}
			L = _mm512_add_epi32(L, L1);
			H = _mm512_add_epi32(H, H1);
			__m512i lo = _mm512_sub_epi32(L, _mm512_slli_epi32(H, 16)); /* < 2^31 */
			acc = widen_add(acc, lo);
			__m512i h64 = widen_add(_mm512_setzero_si512(), H);
			acc = _mm512_add_epi64(acc, _mm512_slli_epi64(h64, 16));
		}
	}
	k = n32 * 32;
	return (double)(_mm512_reduce_add_epi64(acc) +
	                (int64_t)feral_k_dot_i16_i16_ref(a + k, NULL, x + k, len - k));
}

/* One side int16 (w), the other int8 (b), widened to int16 for vpmaddwd. */
static inline int64_t dot_w_b(const int16_t *w, const int8_t *b, size_t n32)
{
	__m512i acc = _mm512_setzero_si512();
	size_t k = 0;
	while (k < n32) {
		size_t end = k + 128 < n32 ? k + 128 : n32; /* 128 steps: < 2^30 a lane */
		__m512i b0 = _mm512_setzero_si512(), b1 = b0;
		for (; k + 2 <= end; k += 2) {
			const __m256i *pb = (const __m256i *)(b + 32 * k);
			b0 = _mm512_add_epi32(b0, _mm512_madd_epi16(_mm512_loadu_si512(w + 32 * k),
			                                            _mm512_cvtepi8_epi16(_mm256_loadu_si256(pb))));
			b1 = _mm512_add_epi32(b1, _mm512_madd_epi16(_mm512_loadu_si512(w + 32 * k + 32),
			                                            _mm512_cvtepi8_epi16(_mm256_loadu_si256(pb + 1))));
		}
		if (k < end) {
			b0 = _mm512_add_epi32(b0, _mm512_madd_epi16(_mm512_loadu_si512(w + 32 * k),
			                                            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + 32 * k)))));
			k++;
		}
		acc = widen_add(acc, _mm512_add_epi32(b0, b1));
	}
	return _mm512_reduce_add_epi64(acc);
}
double feral_k_dot_i16_i8_avx512(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i16_i8_ref(a_, idx, x_, len);
	size_t k = len & ~(size_t)31;
	return (double)(dot_w_b(a_, x_, len / 32) +
	                (int64_t)feral_k_dot_i16_i8_ref((const int16_t *)a_ + k, NULL,
	                                                (const int8_t *)x_ + k, len - k));
}
double feral_k_dot_i8_i16_avx512(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i8_i16_ref(a_, idx, x_, len);
	size_t k = len & ~(size_t)31;
	return (double)(dot_w_b(x_, a_, len / 32) +
	                (int64_t)feral_k_dot_i8_i16_ref((const int8_t *)a_ + k, NULL,
	                                                (const int16_t *)x_ + k, len - k));
}

/* 64 bytes: the 16 int32 sums of four products a_k x_k each. */
static inline __m512i sgn_dot64(const int8_t *a, const int8_t *x)
{
	const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
	__m512i av = _mm512_loadu_si512(a), xv = _mm512_loadu_si512(x);
	/* AVX-512 has no vpsignb: negate x where a < 0 (its sign bit) */
	__m512i xs = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(av), zero, xv);
	return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(av), xs), ones);
}
double feral_k_dot_i8_i8_avx512(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	if (idx)
		return feral_k_dot_i8_i8_ref(a_, idx, x_, len);
	const int8_t *a = a_;
	const int8_t *x = x_;
	__m512i acc = _mm512_setzero_si512();
	size_t n64 = len / 64, k = 0;
	while (k < n64) {
		size_t end = k + 1024 < n64 ? k + 1024 : n64;
		__m512i s = _mm512_setzero_si512();
		for (; k < end; k++)
			s = _mm512_add_epi32(s, sgn_dot64(a + 64 * k, x + 64 * k));
		acc = widen_add(acc, s);
	}
	k = n64 * 64;
	return (double)(_mm512_reduce_add_epi64(acc) +
	                (int64_t)feral_k_dot_i8_i8_ref(a + k, NULL, x + k, len - k));
}

/* ---- dense float-model axpy ------------------------------------------------ */
#define AXPY_PD(dp)                                                                        \
	uint64_t feral_k_axpy_##dp##_f64_avx512(void *x_, const void *a_, const uint32_t *idx, \
	                                         size_t len, double alpha,                   \
	                                         enum feral_rounding mode,                   \
	                                         struct feral_k_rng *rng)                    \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_f64_ref(x_, a_, idx, len, alpha, mode, rng); \
		const T_##dp *a = a_;                                                       \
		double *x = x_;                                                             \
		const __m512d al = _mm512_set1_pd(alpha);                                   \
		size_t k = 0;                                                               \
		for (; k + 16 <= len; k += 16) {                                            \
			__m512 av = ld16_##dp(a + k);                                       \
			__m512d i0 = _mm512_mul_pd(al, lo_pd(av));                          \
			__m512d i1 = _mm512_mul_pd(al, hi_pd(av));                          \
			NOFUSE(i0);                                                         \
			NOFUSE(i1);                                                         \
			_mm512_storeu_pd(x + k, _mm512_add_pd(_mm512_loadu_pd(x + k), i0)); \
			_mm512_storeu_pd(x + k + 8,                                         \
			                 _mm512_add_pd(_mm512_loadu_pd(x + k + 8), i1));    \
		}                                                                           \
		return feral_k_axpy_##dp##_f64_ref(x + k, a + k, NULL, len - k, alpha, mode, \
		                                   rng);                                    \
	}
#define AXPY_PS(dp)                                                                        \
	uint64_t feral_k_axpy_##dp##_f32_avx512(void *x_, const void *a_, const uint32_t *idx, \
	                                         size_t len, double alpha,                   \
	                                         enum feral_rounding mode,                   \
	                                         struct feral_k_rng *rng)                    \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_f32_ref(x_, a_, idx, len, alpha, mode, rng); \
		const T_##dp *a = a_;                                                       \
		float *x = x_;                                                              \
		const __m512 al = _mm512_set1_ps((float)alpha);                             \
		size_t k = 0;                                                               \
		for (; k + 16 <= len; k += 16) {                                            \
			__m512 inc = _mm512_mul_ps(al, ld16_##dp(a + k));                   \
			NOFUSE(inc);                                                        \
			_mm512_storeu_ps(x + k, _mm512_add_ps(_mm512_loadu_ps(x + k), inc)); \
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
 * The model is read and written a vector at a time (Hogwild!: a lost update
 * among concurrent writers is the accepted race).  INDEPENDENT draws come
 * from 8 xorshift64 lanes (lane[0..7]): one step gives 16 32-bit halves, of
 * which the top 24 bits make u. */
static inline __m512i ldq16_i16(const int16_t *p)
{
	return _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)p));
}
static inline __m512i ldq16_i8(const int8_t *p)
{
	return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p));
}
static inline void stq16_i16(int16_t *p, __m512i v)
{
	_mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(v));
}
static inline void stq16_i8(int8_t *p, __m512i v)
{
	_mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}
static inline __m512i xorshift64x8(__m512i s)
{
	s = _mm512_xor_si512(s, _mm512_slli_epi64(s, 13));
	s = _mm512_xor_si512(s, _mm512_srli_epi64(s, 7));
	return _mm512_xor_si512(s, _mm512_slli_epi64(s, 17));
}

#define AXPY_INT(dp, mp, QMAX) AXPY_INT_FN(feral_k_axpy_##dp##_##mp##_avx512, dp, mp, QMAX)
#define AXPY_INT_FN(fn, dp, mp, QMAX)                                                      \
	uint64_t fn(void *x_, const void *a_,                                               \
	                                            const uint32_t *idx, size_t len,         \
	                                            double alpha, enum feral_rounding mode,  \
	                                            struct feral_k_rng *rng)                 \
	{                                                                                   \
		if (idx)                                                                    \
			return feral_k_axpy_##dp##_##mp##_ref(x_, a_, idx, len, alpha, mode, \
			                                      rng);                         \
		const T_##dp *a = a_;                                                       \
		T_##mp *x = x_;                                                             \
		const __m512 al = _mm512_set1_ps((float)alpha);                             \
		const __m512 hi = _mm512_set1_ps(65536.0f), lo = _mm512_set1_ps(-65536.0f); \
		const __m512 u24 = _mm512_set1_ps(0x1.0p-24f);                              \
		const __m512i qmax = _mm512_set1_epi32(QMAX), qmin = _mm512_set1_epi32(-QMAX); \
		__m512i st = mode == FERAL_ROUNDING_INDEPENDENT ? _mm512_load_si512(rng->lane)    \
		                                                : _mm512_setzero_si512();  \
		uint64_t sat = 0;                                                           \
		size_t k = 0;                                                               \
		for (; k + 16 <= len; k += 16) {                                            \
			__m512 t = _mm512_mul_ps(al, ld16_##dp(a + k));                     \
			t = _mm512_max_ps(_mm512_min_ps(t, hi), lo); /* NaN -> hi */        \
			__m512i r;                                                          \
			if (mode == FERAL_ROUNDING_NEAREST) {                               \
				r = _mm512_cvt_roundps_epi32(                               \
					t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);  \
			} else {                                                            \
				st = xorshift64x8(st);                                      \
				__m512 u = _mm512_mul_ps(                                   \
					_mm512_cvtepi32_ps(_mm512_srli_epi32(st, 8)), u24); \
				r = _mm512_cvt_roundps_epi32(_mm512_add_ps(t, u),           \
				                             _MM_FROUND_TO_NEG_INF |        \
				                                     _MM_FROUND_NO_EXC);    \
			}                                                                   \
			__m512i q = _mm512_add_epi32(ldq16_##mp(x + k), r);                 \
			__m512i c = _mm512_min_epi32(_mm512_max_epi32(q, qmin), qmax);      \
			sat += (uint64_t)__builtin_popcount(_mm512_cmpneq_epi32_mask(q, c)); \
			stq16_##mp(x + k, c);                                               \
		}                                                                           \
		if (mode == FERAL_ROUNDING_INDEPENDENT) /* rng may be NULL for NEAREST */   \
			_mm512_store_si512(rng->lane, st);                                  \
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
 * this shim, 32 elements (one ring step) a vector, never widened: the carry
 * is one unsigned compare into a mask, added as a masked subtract of -1;
 * saturated writes are counted by a masked increment of 16-bit lane
 * counters.  The 32 group multipliers of 16 steps: one xorshift64 step of
 * lane[8..15], compared unsigned with f16 into a mask, stored as 16 dwords,
 * and one dword broadcast from memory (a load, no shuffle) gives a vector
 * its even | odd pair. */
#define FX16_V __m512i
#define FX16_W 32
#define FX16_ZERO _mm512_setzero_si512()
#define FX16_LD(p) _mm512_loadu_si512(p)
#define FX16_ST(p, v) _mm512_storeu_si512(p, v)
#define FX16_RLD(p) _mm512_load_si512(p)
#define FX16_RST(p, v) _mm512_store_si512(p, v)
#define FX16_ADD64(a, b) _mm512_add_epi64(a, b)
#define FX16_ADD16(a, b) _mm512_add_epi16(a, b)
#define FX16_A(aq) _mm512_set1_epi32(aq)
static inline __m512i fx16_t512(__m512i av, __m512i A, __m512i r)
{
	__m512i hi = _mm512_mulhi_epi16(av, A);
	return _mm512_mask_sub_epi16(hi, _mm512_cmplt_epu16_mask(r, _mm512_mullo_epi16(av, A)), hi,
	                             _mm512_set1_epi16(-1));
}
#define FX16_T(av, A, r) fx16_t512(av, A, r)
#define FX16_CLAMP(x, t) _mm512_max_epi16(_mm512_adds_epi16(x, t), _mm512_set1_epi16(-32767))
#define FX16_CNT(n, w, c) _mm512_mask_sub_epi16(n, _mm512_cmpneq_epi16_mask(w, c), n, _mm512_set1_epi16(-1))
#define FX16_CNTN(n, nv) ((void)(nv), (uint64_t)(uint32_t)_mm512_reduce_add_epi32(_mm512_madd_epi16(n, _mm512_set1_epi16(1))))
#define FX16_AQS __m512i
#define FX16_AQLOAD(rng) _mm512_load_si512((rng)->lane + 8)
#define FX16_AQSTORE(rng, s) _mm512_store_si512((rng)->lane + 8, s)
static inline __m512i fx16_aq512(__m512i s, int16_t A0, int32_t f16, int32_t *q)
{
	const __m512i A0v = _mm512_set1_epi16(A0);
	s = xorshift64x8(s); /* 32 group multipliers, unsigned v < f16 */
	_mm512_store_si512(q, _mm512_mask_sub_epi16(A0v, _mm512_cmplt_epu16_mask(s, _mm512_set1_epi16((short)f16)),
	                                             A0v, _mm512_set1_epi16(-1)));
	return s;
}
#define FX16_AQ(s, A0, f16, q) fx16_aq512(s, A0, f16, q)
#include "fx16.h"

/* int16 x int16: INDEPENDENT rounding with |alpha| < 1/2 is fixed point
 * (kernels/fx16.h above); the rest is the f32 path above. */
uint64_t feral_k_axpy_i16_i16_avx512(void *x_, const void *a_, const uint32_t *idx, size_t len,
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

/* int8 x int8, fixed point in 16-bit lanes (kernels.h): 64 elements a step,
 * loaded and stored as one 64-byte vector (so the next dot's 64-byte loads
 * forward from one store).  INDEPENDENT: one xorshift64 step on lane[0..7]
 * and one on lane[8..15] give 64 16-bit draws. */
static inline __m512i fx_half(__m512i av16, __m512i xv16, __m512i A, __m512i R0, int mode,
                              __m512i half, __m128i cF, uint64_t *sat)
{
	const __m512i qmax = _mm512_set1_epi16(127), qmin = _mm512_set1_epi16(-127);
	__m512i p = _mm512_mullo_epi16(av16, A);
	__m512i R = mode == FERAL_ROUNDING_NEAREST
	                    ? _mm512_add_epi16(half, _mm512_and_si512(_mm512_sra_epi16(p, cF),
	                                                              _mm512_set1_epi16(1)))
	                    : R0;
	__m512i q = _mm512_add_epi16(xv16, _mm512_sra_epi16(_mm512_add_epi16(p, R), cF));
	__m512i c = _mm512_min_epi16(_mm512_max_epi16(q, qmin), qmax);
	*sat += (uint64_t)__builtin_popcountll(_mm512_cmpneq_epi16_mask(q, c));
	return c;
}
/* The byte path, F >= 8 (|alpha| < 1/2, so |aq| <= 128, |p| = |a aq| <= 2^14
 * and every increment lies in [-64, 64]): 64 elements a step, never widened.
 * vpmaddubsw with |aq| in the even (odd) bytes of its unsigned operand gives
 * |aq| a_k of the even (odd) elements in 16-bit lanes, in place; p = +-that.
 * The increment (p + R) >> F is formed where it can be stored: the low byte
 * of each lane for even elements, the high byte for odd ones (shifting 8
 * fewer bits), merged by one byte blend.  Then a saturating byte add into
 * the model, a clamp to -127, and the saturated writes are the lanes where
 * the wrapping sum differs from the result (a sum of exactly -128 is
 * clamped, so it counts too).
 * NEAREST: R = 2^(F-1) - 1 + bit F of p, bit-identical to ref.
 * INDEPENDENT takes kernels/fx8.h (below) instead. */
/* NEAREST; aq < 0 (neg). */
static inline __attribute__((always_inline)) uint64_t
fx_bytes(int8_t *x, const int8_t *a, size_t n, int aqabs, const int neg, int F)
{
	const __m512i ue = _mm512_set1_epi16((short)aqabs);
	const __m512i uo = _mm512_set1_epi16((short)(aqabs << 8));
	const __m512i one = _mm512_set1_epi16(1);
	const __m512i half = _mm512_set1_epi16((short)((1 << (F - 1)) - 1));
	const __m512i m127 = _mm512_set1_epi8(-127);
	const __m128i cF = _mm_cvtsi32_si128(F), cF8 = _mm_cvtsi32_si128(F - 8);
	const __mmask64 odd = 0xAAAAAAAAAAAAAAAAull;
	uint64_t sat = 0;
	size_t k = 0;
	for (; k + 64 <= n; k += 64) {
		__m512i av = _mm512_loadu_si512(a + k), xv = _mm512_loadu_si512(x + k);
		__m512i pe = _mm512_maddubs_epi16(ue, av), po = _mm512_maddubs_epi16(uo, av);
		if (neg) {
			pe = _mm512_sub_epi16(_mm512_setzero_si512(), pe);
			po = _mm512_sub_epi16(_mm512_setzero_si512(), po);
		}
		__m512i se = _mm512_add_epi16(_mm512_add_epi16(pe, half),
		                              _mm512_and_si512(_mm512_sra_epi16(pe, cF), one));
		__m512i so = _mm512_add_epi16(_mm512_add_epi16(po, half),
		                              _mm512_and_si512(_mm512_sra_epi16(po, cF), one));
		__m512i inc = _mm512_mask_blend_epi8(odd, _mm512_sra_epi16(se, cF),
		                                     _mm512_sra_epi16(so, cF8));
		__m512i s = _mm512_max_epi8(_mm512_adds_epi8(xv, inc), m127);
		__mmask64 m = _mm512_cmpneq_epi8_mask(_mm512_add_epi8(xv, inc), s);
		sat += (uint64_t)__builtin_popcountll(m);
		_mm512_storeu_si512(x + k, s);
	}
	return sat;
}
static uint64_t fx_bytes_all(int8_t *x, const int8_t *a, size_t n, int16_t aq, int F)
{
	int aqabs = aq < 0 ? -aq : aq;
	return aq < 0 ? fx_bytes(x, a, n, aqabs, 1, F) : fx_bytes(x, a, n, aqabs, 0, F);
}

/* INDEPENDENT at F >= 8: kernels/fx8.h's template with this shim, 64
 * elements a vector, one lagged-Fibonacci step (a 64-byte ring entry) each. */
#define FX8_V __m512i
#define FX8_W 64
#define FX8_LD(p) _mm512_loadu_si512(p)
#define FX8_ST(p, v) _mm512_storeu_si512(p, v)
#define FX8_RLD(p) _mm512_load_si512(p)
#define FX8_RST(p, v) _mm512_store_si512(p, v)
#define FX8_ADD64(a, b) _mm512_add_epi64(a, b)
#define FX8_SET32(v) _mm512_set1_epi32(v)
#define FX8_SET16(v) _mm512_set1_epi16(v)
#define FX8_BCAST32(p) _mm512_set1_epi32(*(const int *)(p))
#define FX8_SET8(v) _mm512_set1_epi8(v)
#define FX8_ZERO _mm512_setzero_si512()
#define FX8_MADDUBS(u, a) _mm512_maddubs_epi16(u, a)
#define FX8_ADD16(a, b) _mm512_add_epi16(a, b)
#define FX8_MULHI16(v, c) _mm512_mulhi_epi16(v, c)
#define FX8_SRAI16(v, m) _mm512_srai_epi16(v, m)
#define FX8_XOR(a, b) _mm512_xor_si512(a, b)
#define FX8_ADDS8(a, b) _mm512_adds_epi8(a, b)
#define FX8_ADD8(a, b) _mm512_add_epi8(a, b)
#define FX8_MAX8(a, b) _mm512_max_epi8(a, b)
#define FX8_BLENDODD(e, o) _mm512_mask_blend_epi8(0xAAAAAAAAAAAAAAAAull, e, o)
#define FX8_ANDOR(w, m, c) _mm512_ternarylogic_epi32(w, m, c, 0xEA) /* (w & m) | c */
#define FX8_BSWAP16(w)                                                                     \
	_mm512_shuffle_epi8(w, _mm512_set4_epi32(0x0e0f0c0d, 0x0a0b0809, 0x06070405, 0x02030001))
/* a byte lane counter: one masked add where w and c differ */
#define FX8_SATV(acc, w, c)                                                                \
	_mm512_mask_add_epi8(acc, _mm512_cmpneq_epi8_mask(w, c), acc, _mm512_set1_epi8(1))
#define FX8_SATN(acc, nv) ((uint64_t)_mm512_reduce_add_epi64(_mm512_sad_epu8(acc, FX8_ZERO)))
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
	if (F >= 8) {
		size_t k = len & ~(size_t)63;
		uint64_t sat = fx_bytes_all(x, a, k, aq, F);
		return sat + feral_k_fx_i8_i8(x + k, a + k, NULL, len - k, F, aq, mode, rng);
	}
	const __m512i A = _mm512_set1_epi16(aq);
	const __m512i half = _mm512_set1_epi16((int16_t)((1 << (F - 1)) - 1));
	const __m128i cF = _mm_cvtsi32_si128(F), cR = _mm_cvtsi32_si128(8 - F);
	const int ind = mode == FERAL_ROUNDING_INDEPENDENT;
	/* INDEPENDENT (F < 8, kernels.h feral_k_fx_dense): R = the top F bits
	 * of the ring entry's byte of each element, one step per 64 elements */
	struct feral_k_lf_cur cur = {0, 0}; /* NEAREST may pass no generator */
	if (ind)
		cur = feral_k_lf_begin(rng);
	uint64_t sat = 0;
	size_t k = 0;
	for (; k + 64 <= len; k += 64) {
		__m512i av = _mm512_loadu_si512(a + k), xv = _mm512_loadu_si512(x + k);
		__m512i R0 = _mm512_setzero_si512(), R1 = R0;
		if (ind) {
			uint64_t *w = rng->lf + 8 * cur.i;
			__m512i rv = _mm512_add_epi64(_mm512_load_si512(w),
			                              _mm512_load_si512(rng->lf + 8 * cur.j));
			_mm512_store_si512(w, rv);
			cur = feral_k_lf_adv(cur);
			__m256i b0 = _mm512_castsi512_si256(rv), b1 = _mm512_extracti64x4_epi64(rv, 1);
			R0 = _mm512_srl_epi16(_mm512_cvtepu8_epi16(b0), cR);
			R1 = _mm512_srl_epi16(_mm512_cvtepu8_epi16(b1), cR);
		}
		__m512i c0 = fx_half(_mm512_cvtepi8_epi16(_mm512_castsi512_si256(av)),
		                     _mm512_cvtepi8_epi16(_mm512_castsi512_si256(xv)), A, R0, mode,
		                     half, cF, &sat);
		__m512i c1 = fx_half(_mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(av, 1)),
		                     _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(xv, 1)), A, R1,
		                     mode, half, cF, &sat);
		_mm512_storeu_si512(x + k, _mm512_inserti64x4(_mm512_castsi256_si512(
		                                                      _mm512_cvtepi16_epi8(c0)),
		                                              _mm512_cvtepi16_epi8(c1), 1));
	}
	if (!ind)
		return sat + feral_k_fx_i8_i8(x + k, a + k, NULL, len - k, F, aq, mode, rng);
	feral_k_lf_end(rng, cur);
	return sat + feral_k_fx_dense(x + k, a + k, len - k, k, F, aq, rng);
}

FX8_AXPY_ENTRY(avx512) /* fx8.h */

/* ---- sparse dots with gathers ------------------------------------------------
 * Model as f32 (G32), f64 (G64), or for integer models as dwords read at the
 * element's byte address and sign-extended from the low 8/16 bits.  Such a
 * dword also covers the next 3 (int8) or 1 (int16) elements; since the row's
 * columns are strictly increasing, those lie at or below a later column of
 * the same row as long as 3 (1) more elements follow: the loop stops there
 * and the ref kernel takes the rest, so no read leaves the model.
 * int x int: exact in double (products < 2^30, sums < 2^53 for any row
 * shorter than 2^23 elements), as is the ref's int64 sum.
 * Indices are signed 32-bit in a gather: only the prefix of columns <=
 * INT32_MAX is gathered (feral_k_gather_len), so any d up to 2^32 - 1 is
 * safe; the dword reads past a column stay bounded by the row's later
 * columns whichever side of 2^31 they lie (the loop bound uses len). */
static inline __m512 gps_f32(const float *x, __m512i vi) { return _mm512_i32gather_ps(vi, x, 4); }
static inline __m512 gps_i16(const int16_t *x, __m512i vi)
{
	__m512i g = _mm512_i32gather_epi32(vi, (const void *)x, 2);
	return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(g, 16), 16));
}
static inline __m512 gps_i8(const int8_t *x, __m512i vi)
{
	__m512i g = _mm512_i32gather_epi32(vi, (const void *)x, 1);
	return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(g, 24), 24));
}
/* Measured (EPYC, Zen 4): gathers lose to scalar loads on rows of ~20
 * nonzeros and win by 10-35% from ~200; short rows take the ref kernel. */
#define CSR_MIN_GATHER 128
#define OVER_f32 0
#define OVER_f64 0
#define OVER_i16 1
#define OVER_i8 3

#define CSR_DOT_PS(dp, mp)                                                                 \
	double feral_k_dot_##dp##_##mp##_csr_avx512(const void *a_, const uint32_t *idx,    \
	                                             const void *x_, size_t len)            \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		const T_##mp *x = x_;                                                       \
		if (len < CSR_MIN_GATHER || len > (1u << 22))                               \
			return feral_k_dot_##dp##_##mp##_ref(a_, idx, x_, len);             \
		const size_t ng = feral_k_gather_len(idx, len);                             \
		__m512 s0 = _mm512_setzero_ps();                                            \
		size_t k = 0;                                                               \
		for (; k + 16 <= ng && k + 16 + OVER_##mp <= len; k += 16) {                \
			__m512i vi = _mm512_loadu_si512(idx + k);                           \
			s0 = _mm512_fmadd_ps(ld16_##dp(a + k), gps_##mp(x, vi), s0);        \
		}                                                                           \
		return hsum_ps_d(s0) + feral_k_dot_##dp##_##mp##_ref(a + k, idx + k, x, len - k); \
	}
/* G64: f64 model, and int x int (exact, see above). */
static inline void gpd_f64(const double *x, __m512i vi, __m512d *g0, __m512d *g1)
{
	*g0 = _mm512_i32gather_pd(_mm512_castsi512_si256(vi), x, 8);
	*g1 = _mm512_i32gather_pd(_mm512_extracti64x4_epi64(vi, 1), x, 8);
}
static inline void gpd_i16(const int16_t *x, __m512i vi, __m512d *g0, __m512d *g1)
{
	__m512 v = gps_i16(x, vi);
	*g0 = lo_pd(v);
	*g1 = hi_pd(v);
}
static inline void gpd_i8(const int8_t *x, __m512i vi, __m512d *g0, __m512d *g1)
{
	__m512 v = gps_i8(x, vi);
	*g0 = lo_pd(v);
	*g1 = hi_pd(v);
}
#define RET_f64(s) (s)
#define RET_INT(s) ((double)(int64_t)(s))
#define CSR_DOT_PD(dp, mp, RET)                                                            \
	double feral_k_dot_##dp##_##mp##_csr_avx512(const void *a_, const uint32_t *idx,    \
	                                             const void *x_, size_t len)            \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		const T_##mp *x = x_;                                                       \
		if (len < CSR_MIN_GATHER || len > (1u << 22)) /* int sums stay < 2^53 */    \
			return feral_k_dot_##dp##_##mp##_ref(a_, idx, x_, len);             \
		const size_t ng = feral_k_gather_len(idx, len);                             \
		__m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();                 \
		size_t k = 0;                                                               \
		for (; k + 16 <= ng && k + 16 + OVER_##mp <= len; k += 16) {                \
			__m512i vi = _mm512_loadu_si512(idx + k);                           \
			__m512d g0, g1;                                                     \
			gpd_##mp(x, vi, &g0, &g1);                                          \
			__m512 av = ld16_##dp(a + k);                                       \
			s0 = _mm512_fmadd_pd(lo_pd(av), g0, s0);                            \
			s1 = _mm512_fmadd_pd(hi_pd(av), g1, s1);                            \
		}                                                                           \
		return RET(_mm512_reduce_add_pd(_mm512_add_pd(s0, s1))) +                   \
		       feral_k_dot_##dp##_##mp##_ref(a + k, idx + k, x, len - k);           \
	}
CSR_DOT_PS(f32, f32)
CSR_DOT_PS(f32, i16)
CSR_DOT_PS(f32, i8)
CSR_DOT_PS(i16, f32)
CSR_DOT_PS(i8, f32)
CSR_DOT_PD(f32, f64, RET_f64)
CSR_DOT_PD(i16, f64, RET_f64)
CSR_DOT_PD(i8, f64, RET_f64)
CSR_DOT_PD(i16, i16, RET_INT)
CSR_DOT_PD(i16, i8, RET_INT)
CSR_DOT_PD(i8, i16, RET_INT)
CSR_DOT_PD(i8, i8, RET_INT)
#endif
