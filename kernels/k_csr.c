/* The scalar sparse-row kernels into an int8 model (kernels/csr8.h has
 * their definition and why): the CSR slots of every table.  No ISA flags. */
#include "internal.h"
#include "kernels.h"
#include "csr8.h"

/* clamp(q) in the low byte, saturated in the high byte, q = -384..383 */
#define CSR8_E(q) ((q) > 127 ? 0x17f : (q) < -127 ? 0x181 : (uint16_t)(uint8_t)(int8_t)(q))
#define CSR8_E4(q) CSR8_E(q), CSR8_E((q) + 1), CSR8_E((q) + 2), CSR8_E((q) + 3)
#define CSR8_E16(q) CSR8_E4(q), CSR8_E4((q) + 4), CSR8_E4((q) + 8), CSR8_E4((q) + 12)
#define CSR8_E64(q) CSR8_E16(q), CSR8_E16((q) + 16), CSR8_E16((q) + 32), CSR8_E16((q) + 48)
#define CSR8_E256(q) CSR8_E64(q), CSR8_E64((q) + 64), CSR8_E64((q) + 128), CSR8_E64((q) + 192)
const uint16_t feral_k_csr8_sat_tab[768] = {CSR8_E256(-384), CSR8_E256(-128), CSR8_E256(128)};

uint64_t feral_k_axpy_i8_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                    double alpha, enum feral_rounding mode,
                                    struct feral_k_rng *rng)
{
	if (!idx || mode != FERAL_ROUNDING_INDEPENDENT ||
	    !(alpha > -FERAL_K_FX8_ALPHA_MAX && alpha < FERAL_K_FX8_ALPHA_MAX))
		return feral_k_axpy_i8_i8_ref(x, a, idx, len, alpha, mode, rng);
	if (len == 0)
		return 0;
	int16_t aq;
	int32_t s; /* the dense path's shared bits: unused, every bit here is fresh */
	int F = feral_k_fx8_alpha(alpha, rng, &aq, &s);
	return feral_k_fx8_csr(x, a, idx, len, F, aq, &rng->lane[FERAL_K_CSR8_LANE]);
}

uint64_t feral_k_axpy_f32_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                     double alpha, enum feral_rounding mode,
                                     struct feral_k_rng *rng)
{
	if (!idx || mode != FERAL_ROUNDING_INDEPENDENT)
		return feral_k_axpy_f32_i8_ref(x, a, idx, len, alpha, mode, rng);
	return feral_k_csr8_inc_f32(x, a, idx, len, (float)alpha,
	                            &rng->lane[FERAL_K_CSR8_LANE]);
}

uint64_t feral_k_axpy_i16_i8_csr_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                     double alpha, enum feral_rounding mode,
                                     struct feral_k_rng *rng)
{
	if (!idx || mode != FERAL_ROUNDING_INDEPENDENT)
		return feral_k_axpy_i16_i8_ref(x, a, idx, len, alpha, mode, rng);
	return feral_k_csr8_inc_i16(x, a, idx, len, (float)alpha,
	                            &rng->lane[FERAL_K_CSR8_LANE]);
}
