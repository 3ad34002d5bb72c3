/* Sparse (CSR) rows into an int8 model: the scalar scatter-adds of every
 * kernel table (kernels/k_csr.c; dispatch.c puts them in the CSR slots of
 * ref, avx2, avx512 and avx512vnni).  A sparse row is short (~20 nonzeros
 * in the sparse benchmark, gathers lose below ~128, and int8 has no
 * scatter), so these are scalar loops built for it: the generator state
 * lives in a register for the row (the int8 model stores may alias
 * anything, so a state kept in *rng is reloaded after every store), one
 * 64-bit word serves several elements, no branch on the layout.
 *
 * The cheap source: G = xorshift64 (13, 7, 17) on rng->lane[12] (no dense
 * kernel uses lane[12..15]), output G * 0x2545F4914F6CDD1D (xorshift64*:
 * one multiply a word; its high bits are the strong ones), one step before
 * each word it serves, words taken in order from the row's first element.
 *
 * int8 data x int8 model, INDEPENDENT, |alpha| < 1/2 (the Buckwild! path):
 * the design of the dense byte path (kernels.h, feral_k_fx8_alpha and
 * feral_k_fx8_ind) with other random bits.  F, aq and s come from
 * feral_k_fx8_alpha (one scalar draw: E[aq] = alpha 2^F exactly, s uniform
 * on [0, 2^(F-8)), independent of aq); with P = aq 2^(16-F) and S = s
 * 2^(16-F) (one multiply each per call), element k becomes
 *   x_k <- clamp(x_k + floor((a_k P + 2^8 r_k + S) / 2^16))
 *        = clamp(x_k + floor((a_k aq + r_k 2^(F-8) + s) / 2^F)),
 * r_k the byte k mod 8 (from the top) of word k/8.  R = r_k 2^(F-8) + s is
 * uniform on [0, 2^F), so E[increment | aq] = a_k aq 2^-F exactly (floor of
 * a signed sum: no sign handling), and E[increment] = alpha a_k.  8 fresh
 * random bits per element and F - 8 shared by the row, as dense; the sum
 * stays below 2^23 in magnitude (int32, scalar code: no lane width to keep).
 * Not bit-equal to the dense definition (other bytes), which nothing needs:
 * a CSR row has only this kernel.
 *
 * f32 (or int16) data x int8 model, INDEPENDENT: the contract of kernels.h
 * (t = clamp((float)alpha a_k, +-2^16), floor(t + u), u 24-bit uniform, one
 * per element) with u from the cheap source: two per word, bits 40..63 and
 * 16..39.  (No fixed-point form: the products of float data are not on a
 * grid that 8 random bits could round without bias.)
 *
 * Everything else (NEAREST, |alpha| >= 1/2 or NaN for int8 data) runs the
 * _ref kernel, as before. */
#ifndef FERAL_KERNELS_CSR8_H
#define FERAL_KERNELS_CSR8_H
#include "kernels.h"

#define FERAL_K_CSR8_LANE 12
static inline uint64_t feral_k_csr8_next(uint64_t *g)
{
	uint64_t v = *g;
	v ^= v << 13;
	v ^= v >> 7;
	v ^= v << 17;
	*g = v;
	return v * 0x2545F4914F6CDD1Dull;
}

/* One element: x <- clamp(x + t); 1 when it saturated. */
#define FERAL_K_CSR8_ADD(px, t) feral_k_store_sat8(px, (int32_t)FERAL_RACY_LOAD(px) + (t))

/* The int8 x int8 loop above, F in 8..14, s in [0, 2^(F-8)); the generator
 * state is *g.  Returns the number of saturated writes. */
static inline uint64_t feral_k_fx8_csr(int8_t *x, const int8_t *a, const uint32_t *idx,
                                       size_t len, int F, int16_t aq, int32_t s, uint64_t *g)
{
	const int32_t P = (int32_t)aq * (1 << (16 - F)), S = s * (1 << (16 - F));
	uint64_t st = *g, sat = 0;
	size_t k = 0;
	for (; k + 8 <= len; k += 8) {
		uint64_t w = feral_k_csr8_next(&st);
#pragma GCC unroll 8
		for (int b = 0; b < 8; b++) {
			int32_t r = (int32_t)(w >> (56 - 8 * b)) & 0xff;
			int32_t t = (a[k + b] * P + r * 256 + S) >> 16;
			sat += FERAL_K_CSR8_ADD(&x[idx[k + b]], t);
		}
	}
	if (k < len) {
		uint64_t w = feral_k_csr8_next(&st);
		for (int b = 0; k < len; k++, b++) {
			int32_t r = (int32_t)(w >> (56 - 8 * b)) & 0xff;
			int32_t t = (a[k] * P + r * 256 + S) >> 16;
			sat += FERAL_K_CSR8_ADD(&x[idx[k]], t);
		}
	}
	*g = st;
	return sat;
}

/* floor(t + u) for |t| <= 2^16, u in [0, 1) (truncate, then step down: no
 * SSE4.1 in scalar code). */
static inline int32_t feral_k_csr8_floor(float v)
{
	int32_t i = (int32_t)v;
	return (float)i > v ? i - 1 : i;
}
static inline int32_t feral_k_csr8_round(float al, float a, uint64_t u24)
{
	float t = al * a;
	t = t < 65536.0f ? t : 65536.0f; /* NaN -> +65536, as the contract */
	t = t > -65536.0f ? t : -65536.0f;
	return feral_k_csr8_floor(t + (float)u24 * 0x1.0p-24f);
}
/* The float-increment loop above for data type T (f32 or int16). */
#define FERAL_K_CSR8_INC(name, T)                                                          \
	static inline uint64_t name(int8_t *x, const T *a, const uint32_t *idx, size_t len,  \
	                            float al, uint64_t *g)                                   \
	{                                                                                   \
		uint64_t st = *g, sat = 0;                                                  \
		size_t k = 0;                                                               \
		for (; k + 2 <= len; k += 2) {                                              \
			uint64_t w = feral_k_csr8_next(&st);                                \
			int32_t t0 = feral_k_csr8_round(al, (float)a[k], w >> 40);          \
			int32_t t1 = feral_k_csr8_round(al, (float)a[k + 1],                \
			                                (w >> 16) & 0xffffff);              \
			sat += FERAL_K_CSR8_ADD(&x[idx[k]], t0);                            \
			sat += FERAL_K_CSR8_ADD(&x[idx[k + 1]], t1);                        \
		}                                                                           \
		if (k < len)                                                                \
			sat += FERAL_K_CSR8_ADD(                                            \
				&x[idx[k]],                                                 \
				feral_k_csr8_round(al, (float)a[k], feral_k_csr8_next(&st) >> 40)); \
		*g = st;                                                                    \
		return sat;                                                                 \
	}
FERAL_K_CSR8_INC(feral_k_csr8_inc_f32, float)
FERAL_K_CSR8_INC(feral_k_csr8_inc_i16, int16_t)

/* The kernels (k_csr.c): idx != NULL (a NULL idx runs the _ref kernel). */
uint64_t feral_k_axpy_i8_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                    double alpha, enum feral_rounding mode,
                                    struct feral_k_rng *rng);
uint64_t feral_k_axpy_f32_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                     double alpha, enum feral_rounding mode,
                                     struct feral_k_rng *rng);
uint64_t feral_k_axpy_i16_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                     double alpha, enum feral_rounding mode,
                                     struct feral_k_rng *rng);
#endif
