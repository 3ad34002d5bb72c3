/* Helpers shared by the kernel suites (test_kernels.c, test_kernels_rounding.c):
 * the kernel table of an ISA (the test is skipped where the CPU lacks it), the
 * fixed point range, and element access by precision. */
#ifndef FERAL_TESTS_KERNEL_UTIL_H
#define FERAL_TESTS_KERNEL_UTIL_H
static inline const struct feral_kernels *need(const char *isa)
{
	const struct feral_kernels *t = feral_kernels_named(isa);
	if (!t)
		cr_skip_test("this CPU (or OS) does not support %s", isa);
	return t;
}

static inline int qmax(enum feral_precision p) { return p == FERAL_PRECISION_I16 ? 32767 : 127; }

static inline double get(const void *v, enum feral_precision p, size_t k)
{
	switch (p) {
	case FERAL_PRECISION_F32: return ((const float *)v)[k];
	case FERAL_PRECISION_F64: return ((const double *)v)[k];
	case FERAL_PRECISION_I16: return ((const int16_t *)v)[k];
	default: return ((const int8_t *)v)[k];
	}
}
static inline void set(void *v, enum feral_precision p, size_t k, double x)
{
	switch (p) {
	case FERAL_PRECISION_F32: ((float *)v)[k] = (float)x; break;
	case FERAL_PRECISION_F64: ((double *)v)[k] = x; break;
	case FERAL_PRECISION_I16: ((int16_t *)v)[k] = (int16_t)x; break;
	default: ((int8_t *)v)[k] = (int8_t)x; break;
	}
}
#endif
