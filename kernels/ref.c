/* Reference (scalar) kernels: the _ref twin of every SIMD kernel.
 * Shapes and units: see struct feral_kernels in src/internal.h. */
#include "internal.h"
#include "kernels.h"

double feral_k_dot_f32_f64_ref(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	const float *a = a_;
	const double *x = x_;
	double s = 0;
	if (idx)
		for (size_t k = 0; k < len; k++)
			s += (double)a[k] * feral_racy_load_f64(&x[idx[k]]);
	else
		for (size_t k = 0; k < len; k++)
			s += (double)a[k] * feral_racy_load_f64(&x[k]);
	return s;
}

uint64_t feral_k_axpy_f32_f64_ref(void *x_, const void *a_, const uint32_t *idx, size_t len,
                                  double alpha, enum feral_rounding mode, struct feral_k_rng *rng)
{
	const float *a = a_;
	double *x = x_;
	for (size_t k = 0; k < len; k++) {
		double *p = idx ? &x[idx[k]] : &x[k];
		feral_racy_store_f64(p, feral_racy_load_f64(p) + alpha * (double)a[k]);
	}
	return 0;
}

double feral_k_dot_f32_f32_ref(const void *a_, const uint32_t *idx, const void *x_, size_t len)
{
	const float *a = a_;
	const float *x = x_;
	float s = 0;
	if (idx)
		for (size_t k = 0; k < len; k++)
			s += a[k] * feral_racy_load_f32(&x[idx[k]]);
	else
		for (size_t k = 0; k < len; k++)
			s += a[k] * feral_racy_load_f32(&x[k]);
	return s;
}

uint64_t feral_k_axpy_f32_f32_ref(void *x_, const void *a_, const uint32_t *idx, size_t len,
                                  double alpha, enum feral_rounding mode, struct feral_k_rng *rng)
{
	const float *a = a_;
	float *x = x_;
	float al = (float)alpha;
	for (size_t k = 0; k < len; k++) {
		float *p = idx ? &x[idx[k]] : &x[k];
		feral_racy_store_f32(p, feral_racy_load_f32(p) + al * a[k]);
	}
	return 0;
}
