/* AVX-512 VNNI kernels: the only code compiled with -mavx512vnni (Makefile:
 * *_avx512vnni.c), so that a CPU with AVX-512 but without VNNI (Skylake-SP)
 * never executes a VNNI instruction: dispatch.c puts these entries in the
 * "avx512vnni" table only when cpuid reports AVX512_VNNI.  The pairs are
 * FERAL_K_VNNI_DOTS in kernels.h.  Contract and numerics: kernels.h.
 *
 * i8 x i8 dense dot: vpdpbusd with a bias, sum (a+128)*x - 128*sum x, exact
 * for every int8 value: a lane gains at most 4*255*128 a step; blocks of
 * 1024 steps (65536 elements) keep it below 2^28 before the int64 spill.
 * Unlike the sign-transfer dot of k_avx512.c it needs no negation.  Each
 * step (64 bytes) is two vpdpbusd and an xor; four accumulator pairs (step j
 * into pair j mod 4, the last < 4 steps of a block into pairs 0, 1, 2) hide
 * the 5-cycle vpdpbusd latency: with two pairs a step took ~3 cycles, with
 * four it is bound by its two 64-byte L1 loads (docs/design.md).  Rows
 * under 512 bytes keep two pairs: there the setup and the sum of four cost
 * more than the latency they hide. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include "internal.h"
#include "kernels.h"

/* An empty asm that keeps v in a register: GCC would otherwise fold the
 * load of x into both vpdpbusd as a memory operand, three 64-byte loads a
 * step instead of two, and the L1 loads are what bounds the long loop.
 * (Short rows keep the folded loads: one uop fewer a step.) */
#define KEEP(v) __asm__("" : "+v"(v))
#define NOKEEP(v) (void)(v)

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
	/* step j (64 bytes from 64 j): s += (a + 128) x and t += 128 x, 4-byte groups */
#define DPB(s, t, j, keep)                                                                 \
	do {                                                                                \
		__m512i xv = _mm512_loadu_si512(x + 64 * (j));                              \
		keep(xv);                                                                   \
		s = _mm512_dpbusd_epi32(s, _mm512_xor_si512(_mm512_loadu_si512(a + 64 * (j)), bias), xv); \
		t = _mm512_dpbusd_epi32(t, bias, xv);                                       \
	} while (0)
	__m512i acc = _mm512_setzero_si512();
	size_t n64 = len / 64, k = 0;
	if (n64 < 8) { /* short rows: two pairs (four cost more to set up and sum) */
		__m512i s0 = _mm512_setzero_si512(), s1 = s0, t0 = s0, t1 = s0;
		for (; k + 2 <= n64; k += 2) {
			DPB(s0, t0, k, NOKEEP);
			DPB(s1, t1, k + 1, NOKEEP);
		}
		if (k < n64) {
			DPB(s0, t0, k, NOKEEP);
			k++;
		}
		acc = widen_add(acc, _mm512_add_epi32(_mm512_sub_epi32(s0, t0), _mm512_sub_epi32(s1, t1)));
	} else {
		while (k < n64) {
			size_t end = k + 1024 < n64 ? k + 1024 : n64;
			__m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
			__m512i t0 = s0, t1 = s0, t2 = s0, t3 = s0;
			for (; k + 4 <= end; k += 4) {
				DPB(s0, t0, k, KEEP);
				DPB(s1, t1, k + 1, KEEP);
				DPB(s2, t2, k + 2, KEEP);
				DPB(s3, t3, k + 3, KEEP);
			}
			if (k < end) {
				DPB(s0, t0, k, KEEP);
				k++;
			}
			if (k < end) {
				DPB(s1, t1, k, KEEP);
				k++;
			}
			if (k < end) {
				DPB(s2, t2, k, KEEP);
				k++;
			}
			__m512i d01 = _mm512_add_epi32(_mm512_sub_epi32(s0, t0), _mm512_sub_epi32(s1, t1));
			__m512i d23 = _mm512_add_epi32(_mm512_sub_epi32(s2, t2), _mm512_sub_epi32(s3, t3));
			acc = widen_add(acc, _mm512_add_epi32(d01, d23));
		}
	}
#undef DPB
	k = n64 * 64;
	return (double)(_mm512_reduce_add_epi64(acc) +
	                (int64_t)feral_k_dot_i8_i8_ref(a + k, NULL, x + k, len - k));
}
#endif
