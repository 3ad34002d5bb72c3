/* Reference (scalar) kernels: the _ref twin of every SIMD kernel, and the
 * only kernels of the RACES=atomic build.  Every model access goes through
 * the Hogwild! racy helpers.  Shapes, units and the rounding contract: see
 * struct feral_kernels in src/internal.h and kernels/kernels.h.
 *
 * This file gets no ISA flags, so the compiler cannot fuse x + alpha*a into
 * an FMA: the SIMD kernels reproduce that (mul, then add) bit for bit. */
#include "internal.h"
#include "kernels.h"

typedef float T_f32;
typedef double T_f64;
typedef int16_t T_i16;
typedef int8_t T_i8;

#define LOAD_f64(p) feral_racy_load_f64(p)
#define LOAD_f32(p) feral_racy_load_f32(p)
#define LOAD_i16(p) FERAL_RACY_LOAD(p)
#define LOAD_i8(p) FERAL_RACY_LOAD(p)

/* ---- dot --------------------------------------------------------------------
 * ACC: int64_t for integer x integer (exact), double otherwise (G64). */
#define ACC_f32_f64 double
#define ACC_f32_f32 double
#define ACC_f32_i16 double
#define ACC_f32_i8 double
#define ACC_i16_f64 double
#define ACC_i16_f32 double
#define ACC_i16_i16 int64_t
#define ACC_i16_i8 int64_t
#define ACC_i8_f64 double
#define ACC_i8_f32 double
#define ACC_i8_i16 int64_t
#define ACC_i8_i8 int64_t

#define REF_DOT(dp, mp, isa)                                                               \
	double feral_k_dot_##dp##_##mp##_ref(const void *a_, const uint32_t *idx,           \
	                                      const void *x_, size_t len)                   \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		const T_##mp *x = x_;                                                       \
		ACC_##dp##_##mp s = 0;                                                      \
		if (idx)                                                                    \
			for (size_t k = 0; k < len; k++)                                    \
				s += (ACC_##dp##_##mp)a[k] *                                \
				     (ACC_##dp##_##mp)LOAD_##mp(&x[idx[k]]);                \
		else                                                                        \
			for (size_t k = 0; k < len; k++)                                    \
				s += (ACC_##dp##_##mp)a[k] *                                \
				     (ACC_##dp##_##mp)LOAD_##mp(&x[k]);                     \
		return (double)s;                                                           \
	}
FERAL_K_PAIRS(REF_DOT, ref)

/* ---- float-model axpy: multiply, then add (never fused) ------------------- */
#define REF_AXPY_F64(dp)                                                                   \
	uint64_t feral_k_axpy_##dp##_f64_ref(void *x_, const void *a_, const uint32_t *idx,  \
	                                      size_t len, double alpha,                      \
	                                      enum feral_rounding mode,                      \
	                                      struct feral_k_rng *rng)                       \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		double *x = x_;                                                             \
		for (size_t k = 0; k < len; k++) {                                          \
			double *p = idx ? &x[idx[k]] : &x[k];                               \
			double inc = alpha * (double)a[k];                                  \
			feral_racy_store_f64(p, feral_racy_load_f64(p) + inc);              \
		}                                                                           \
		return 0;                                                                   \
	}
#define REF_AXPY_F32(dp)                                                                   \
	uint64_t feral_k_axpy_##dp##_f32_ref(void *x_, const void *a_, const uint32_t *idx,  \
	                                      size_t len, double alpha,                      \
	                                      enum feral_rounding mode,                      \
	                                      struct feral_k_rng *rng)                       \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		float *x = x_;                                                              \
		float al = (float)alpha;                                                    \
		for (size_t k = 0; k < len; k++) {                                          \
			float *p = idx ? &x[idx[k]] : &x[k];                                \
			float inc = al * (float)a[k];                                       \
			feral_racy_store_f32(p, feral_racy_load_f32(p) + inc);              \
		}                                                                           \
		return 0;                                                                   \
	}
REF_AXPY_F64(f32)
REF_AXPY_F64(i16)
REF_AXPY_F64(i8)
REF_AXPY_F32(f32)
REF_AXPY_F32(i16)
REF_AXPY_F32(i8)

/* ---- integer-model axpy ---------------------------------------------------- */
/* floor for |v| <= 2^17 (t is clamped first): truncate, then step down. */
static inline int32_t floor_small(float v)
{
	int32_t i = (int32_t)v;
	return (float)i > v ? i - 1 : i;
}
/* Round half to even for |t| <= 2^17: adding 1.5*2^23 leaves no fraction bits. */
static inline int32_t rne_small(float t)
{
	volatile float big = 0x1.8p23f; /* volatile: keep the add/sub pair */
	float r = (t + big) - big;
	return (int32_t)r;
}
static inline float clamp_inc(float t)
{
	t = t < 65536.0f ? t : 65536.0f; /* NaN -> +65536 (as the SIMD min) */
	return t > -65536.0f ? t : -65536.0f;
}

#define STORE_INT(p, v) FERAL_RACY_STORE(p, v)
#define REF_AXPY_INT(dp, mp, QMAX) REF_AXPY_INT_FN(feral_k_axpy_##dp##_##mp##_ref, dp, mp, QMAX)
#define REF_AXPY_INT_FN(fn, dp, mp, QMAX)                                                  \
	uint64_t fn(void *x_, const void *a_, const uint32_t *idx,                          \
	                                         size_t len, double alpha,                   \
	                                         enum feral_rounding mode,                   \
	                                         struct feral_k_rng *rng)                    \
	{                                                                                   \
		const T_##dp *a = a_;                                                       \
		T_##mp *x = x_;                                                             \
		float al = (float)alpha, u = 0;                                             \
		uint64_t sat = 0;                                                           \
		for (size_t k = 0; k < len; k++) {                                          \
			float t = clamp_inc(al * (float)a[k]);                              \
			int32_t r;                                                          \
			if (mode == FERAL_ROUNDING_NEAREST) {                               \
				r = rne_small(t);                                           \
			} else {                                                            \
				u = feral_k_uniform24(rng);                                 \
				r = floor_small(t + u);                                     \
			}                                                                   \
			T_##mp *p = idx ? &x[idx[k]] : &x[k];                               \
			int32_t q = (int32_t)LOAD_##mp(p) + r;                              \
			if (q > QMAX) {                                                     \
				q = QMAX;                                                   \
				sat++;                                                      \
			} else if (q < -QMAX) {                                             \
				q = -QMAX;                                                  \
				sat++;                                                      \
			}                                                                   \
			STORE_INT(p, (T_##mp)q);                                            \
		}                                                                           \
		return sat;                                                                 \
	}
REF_AXPY_INT(f32, i16, 32767)
REF_AXPY_INT(f32, i8, 127)
static REF_AXPY_INT_FN(axpy_i16_i16_f32path, i16, i16, 32767)
REF_AXPY_INT(i16, i8, 127)
REF_AXPY_INT(i8, i16, 32767)
static REF_AXPY_INT_FN(axpy_i8_i8_f32path, i8, i8, 127)

/* int8 x int8: the fixed-point path of kernels.h, the f32 path for large alpha. */
uint64_t feral_k_axpy_i8_i8_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                double alpha, enum feral_rounding mode, struct feral_k_rng *rng)
{
	if (!(alpha > -FERAL_K_FX_ALPHA_MAX && alpha < FERAL_K_FX_ALPHA_MAX))
		return axpy_i8_i8_f32path(x, a, idx, len, alpha, mode, rng);
	int16_t aq;
	if (mode == FERAL_ROUNDING_INDEPENDENT && alpha > -FERAL_K_FX8_ALPHA_MAX &&
	    alpha < FERAL_K_FX8_ALPHA_MAX) {
		int32_t s;
		int F = feral_k_fx8_alpha(alpha, rng, &aq, &s);
		return idx ? feral_k_fx8_ind(x, a, idx, len, 0, F, aq, s, rng)
		           : feral_k_fx8_dense(x, a, len, 0, F, aq, s, rng);
	}
	int F = feral_k_fx_alpha(alpha, mode, rng, &aq);
	if (!idx && mode == FERAL_ROUNDING_INDEPENDENT) /* F < 8: the ring's bytes */
		return feral_k_fx_dense(x, a, len, 0, F, aq, rng);
	return feral_k_fx_i8_i8(x, a, idx, len, F, aq, mode, rng);
}

/* int16 x int16: INDEPENDENT in fixed point (kernels.h) for |alpha| < 1/2. */
uint64_t feral_k_axpy_i16_i16_ref(void *x, const void *a, const uint32_t *idx, size_t len,
                                  double alpha, enum feral_rounding mode,
                                  struct feral_k_rng *rng)
{
	if (mode != FERAL_ROUNDING_INDEPENDENT ||
	    !(alpha > -FERAL_K_FX16_ALPHA_MAX && alpha < FERAL_K_FX16_ALPHA_MAX))
		return axpy_i16_i16_f32path(x, a, idx, len, alpha, mode, rng);
	int32_t f16;
	int16_t A0 = feral_k_fx16_alpha(alpha, rng, &f16);
	return idx ? feral_k_fx16_i16_i16(x, a, idx, len, A0, f16, rng)
	           : feral_k_fx16_dense(x, a, len, 0, A0, f16, rng);
}
