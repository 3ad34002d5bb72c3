/* The scalar sparse-row kernels into an int8 model (kernels/csr8.h has
 * their definition and why): the CSR slots of every table.  No ISA flags. */
#include "internal.h"
#include "kernels.h"
#include "csr8.h"

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
	int32_t s;
	int F = feral_k_fx8_alpha(alpha, rng, &aq, &s);
	return feral_k_fx8_csr(x, a, idx, len, F, aq, s, &rng->lane[FERAL_K_CSR8_LANE]);
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
