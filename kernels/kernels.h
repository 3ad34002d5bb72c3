/* Kernel declarations: op, data precision, model precision, ISA.
 * Every SIMD kernel has a _ref twin with the same signature. */
#ifndef FERAL_KERNELS_H
#define FERAL_KERNELS_H
#include "internal.h"

#define FERAL_K_DECL(dp, mp, isa)                                                          \
	double feral_k_dot_##dp##_##mp##_##isa(const void *a, const uint32_t *idx,          \
	                                        const void *x, size_t len);                 \
	uint64_t feral_k_axpy_##dp##_##mp##_##isa(void *x, const void *a, const uint32_t *idx, \
	                                           size_t len, double alpha,                 \
	                                           enum feral_rounding mode,                 \
	                                           struct feral_k_rng *rng);

FERAL_K_DECL(f32, f64, ref)
FERAL_K_DECL(f32, f32, ref)

#endif
