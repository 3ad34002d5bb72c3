/* Sparse (CSR) rows into an int8 model: the scalar scatter-adds in the CSR
 * slots of every kernel table (kernels/k_csr.c; dispatch.c).  A sparse row
 * is short (~20 nonzeros in the sparse benchmark; gathers lose below ~128
 * and int8 has no scatter), so these are scalar loops built for it: the
 * generator state lives in a register for the row (an int8 model store may
 * alias anything, so state kept in *rng is reloaded after every store), one
 * 64-bit word serves several elements, and clamping and counting a write
 * is one load from a 768-entry table (feral_k_csr8_add).
 *
 * The random words: wyrand (Wang Yi, the generator of wyhash) on
 * rng->lane[12] (no dense kernel uses lane[12..15]): a Weyl step
 * v += 0xa0761d6478bd642f, then the 128-bit product v (v ^
 * 0xe7037ed1a0b428db) folded to 64 bits (high ^ low).  The state's only
 * dependency chain is the add.  One word before each group of elements it
 * serves, in the row's order.
 *
 * int8 data x int8 model, INDEPENDENT, |alpha| < 1/2 (the Buckwild! path):
 * alpha rounded once per row as the dense byte path does (kernels.h,
 * feral_k_fx8_alpha: F in 8..14, E[aq] = alpha 2^F exactly, one scalar
 * draw), then with P = aq 2^(16-F), element k becomes
 *   x_k <- clamp(x_k + floor((a_k P + v_k) / 2^16))
 *        = clamp(x_k + floor((a_k aq + floor(v_k / 2^(16-F))) / 2^F)),
 * v_k the 16-bit field k mod 4 (from the top) of word k/4.  The top F bits
 * of v_k are uniform on [0, 2^F), so E[increment | aq] = a_k aq 2^-F
 * exactly (the floor of a signed sum: no sign handling) and E[increment] =
 * alpha a_k.  Exactly F fresh bits per element are added where F are
 * discarded: the dense path's 8 fresh + F - 8 shared bits (its s) exist to
 * save vector work; here fresh bits cost less than the shared add, and no
 * rounding errors of a row correlate.  |a_k P + v_k| < 2^23 (int32) and
 * |increment| <= 64.  Not bit-equal to the dense definition (other random
 * bits), which nothing needs: a CSR row has only this kernel.
 *
 * f32 (or int16) data x int8 model, INDEPENDENT: the contract of kernels.h,
 * t = (float)alpha a_k, floor(t + u) with u a 24-bit uniform per element,
 * with t clamped to +-256 instead of +-2^16 (any |t| >= 255 saturates
 * either way, NaN still upwards, so the results and the counts are the
 * same) and u the top 24 bits of one word per element.  One word each, not
 * two uniforms a word (6 ns less a 20-nonzero row): a row split into two
 * calls (hot coordinates) must draw as the whole row, so that one worker
 * with a hot set is the plain solve bit for bit (tests/test_hot.c).  No
 * fixed-point form: float products are on no grid that a few random bits
 * could round without bias.
 *
 * Everything else (NEAREST; int8 data with |alpha| >= 1/2 or NaN; a NULL
 * idx) runs the _ref kernel, as before. */
#ifndef FERAL_KERNELS_CSR8_H
#define FERAL_KERNELS_CSR8_H
#include "kernels.h"

#define FERAL_K_CSR8_LANE 12
static inline uint64_t feral_k_csr8_next(uint64_t *g)
{
	uint64_t v = *g += 0xa0761d6478bd642full;
	unsigned __int128 p = (unsigned __int128)v * (v ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(p >> 64) ^ (uint64_t)p;
}

/* One write, |t| <= 256: x <- clamp(x + t) to [-127, 127]; 1 when it
 * saturated (as feral_k_store_sat8).  q = x + t lies in [-384, 383] (x =
 * -128 included), and the table entry of q holds clamp(q) in its low byte
 * and whether it saturated in its high byte (k_csr.c). */
extern const uint16_t feral_k_csr8_sat_tab[768];
static inline uint64_t feral_k_csr8_add(int8_t *px, int32_t t)
{
	uint16_t e = feral_k_csr8_sat_tab[(int32_t)FERAL_RACY_LOAD(px) + t + 384];
	FERAL_RACY_STORE(px, (int8_t)(uint8_t)e);
	return e >> 8;
}

/* The int8 x int8 loop above, F in 8..14, |aq| <= 128; the generator state
 * is *g.  Returns the number of saturated writes. */
static inline uint64_t feral_k_fx8_csr(int8_t *x, const int8_t *a, const uint32_t *idx,
                                       size_t len, int F, int16_t aq, uint64_t *g)
{
	const int32_t P = (int32_t)aq * (1 << (16 - F));
	uint64_t st = *g, sat = 0;
	size_t k = 0;
	for (; k + 4 <= len; k += 4) {
		uint64_t w = feral_k_csr8_next(&st);
#pragma GCC unroll 4
		for (int b = 0; b < 4; b++) {
			int32_t t = (a[k + b] * P + (int32_t)((w >> (48 - 16 * b)) & 0xffff)) >> 16;
			sat += feral_k_csr8_add(&x[idx[k + b]], t);
		}
	}
	if (k < len) {
		uint64_t w = feral_k_csr8_next(&st);
		for (int b = 0; k < len; k++, b++) {
			int32_t t = (a[k] * P + (int32_t)((w >> (48 - 16 * b)) & 0xffff)) >> 16;
			sat += feral_k_csr8_add(&x[idx[k]], t);
		}
	}
	*g = st;
	return sat;
}

/* floor(v) for |v| <= 2^17 (truncate, then step down: no SSE4.1 in scalar
 * code). */
static inline int32_t feral_k_csr8_floor(float v)
{
	int32_t i = (int32_t)v;
	return (float)i > v ? i - 1 : i;
}
static inline int32_t feral_k_csr8_round(float al, float a, uint64_t u24)
{
	float t = al * a;
	t = t < 256.0f ? t : 256.0f; /* NaN -> +256 */
	t = t > -256.0f ? t : -256.0f;
	return feral_k_csr8_floor(t + (float)u24 * 0x1.0p-24f);
}
/* The float-increment loop above for data type T (f32 or int16). */
#define FERAL_K_CSR8_INC(name, T)                                                          \
	static inline uint64_t name(int8_t *x, const T *a, const uint32_t *idx, size_t len,  \
	                            float al, uint64_t *g)                                   \
	{                                                                                   \
		uint64_t st = *g, sat = 0;                                                  \
		for (size_t k = 0; k < len; k++) {                                          \
			int32_t t = feral_k_csr8_round(al, (float)a[k],                     \
			                               feral_k_csr8_next(&st) >> 40);       \
			sat += feral_k_csr8_add(&x[idx[k]], t);                             \
		}                                                                           \
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
