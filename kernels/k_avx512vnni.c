/* AVX-512 VNNI kernels: the only code compiled with -mavx512vnni (Makefile:
 * *_avx512vnni.c), so that a CPU with AVX-512 but without VNNI (Skylake-SP)
 * never executes a VNNI instruction: dispatch.c puts these entries in the
 * "avx512vnni" table only when cpuid reports AVX512_VNNI.  The pairs are
 * FERAL_K_VNNI_DOTS in kernels.h.  Contract and numerics: kernels.h.
 *
 * i8 x i8 dense dot: vpdpbusd with a bias, sum (a+128)*x - 128*sum x, exact
 * for every int8 value: a lane gains at most 4*255*128 a step; blocks of
 * 1024 steps (65536 elements) keep it below 2^28 before the int64 spill.
 * Unlike the sign-transfer dot of k_avx512.c it needs no negation, and
 * each step is two fused multiply-adds, kept in two accumulator pairs (even
 * and odd vectors) so that the 5-cycle vpdpbusd latency is not one chain. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include "internal.h"
#include "kernels.h"

static inline __m512i widen_add(__m512i acc64, __m512i v32)
{
	acc64 = _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
	return _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

double feral_k_dot_i8_i8_avx512vnni(const void *a_, const uint32_t *idx, const void *x_,
                                    size_t len)
{
	if (idx)
		return feral_k_dot_i8_i8_ref(a_, idx, x_, len);
	const int8_t *a = a_;
	const int8_t *x = x_;
	const __m512i bias = _mm512_set1_epi8((char)0x80);
	__m512i acc = _mm512_setzero_si512();
	size_t n64 = len / 64, k = 0;
	while (k < n64) {
		size_t end = k + 1024 < n64 ? k + 1024 : n64;
		__m512i s0 = _mm512_setzero_si512(), s1 = s0, t0 = s0, t1 = s0;
		for (; k + 2 <= end; k += 2) {
			__m512i x0 = _mm512_loadu_si512(x + 64 * k), x1 = _mm512_loadu_si512(x + 64 * k + 64);
			s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(_mm512_loadu_si512(a + 64 * k), bias), x0);
			t0 = _mm512_dpbusd_epi32(t0, bias, x0);
			s1 = _mm512_dpbusd_epi32(s1, _mm512_xor_si512(_mm512_loadu_si512(a + 64 * k + 64), bias), x1);
			t1 = _mm512_dpbusd_epi32(t1, bias, x1);
		}
		if (k < end) {
			__m512i x0 = _mm512_loadu_si512(x + 64 * k);
			s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(_mm512_loadu_si512(a + 64 * k), bias), x0);
			t0 = _mm512_dpbusd_epi32(t0, bias, x0);
			k++;
		}
		acc = widen_add(acc, _mm512_add_epi32(_mm512_sub_epi32(s0, t0), _mm512_sub_epi32(s1, t1)));
	}
	k = n64 * 64;
	return (double)(_mm512_reduce_add_epi64(acc) +
	                (int64_t)feral_k_dot_i8_i8_ref(a + k, NULL, x + k, len - k));
}
#endif
