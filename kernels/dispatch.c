/* Runtime kernel selection: fill the table with reference kernels, then
 * override with what the CPU supports.  FERAL_KERNEL=ref|avx2|avx512 forces a
 * choice; an unsupported one is an error, never SIGILL. */
#include "internal.h"
#include "kernels.h"

static struct feral_kernels table_ref;
static int ref_ready;

static void fill_ref(struct feral_kernels *t)
{
	t->name = "ref";
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++) {
		for (int dp = 0; dp < FERAL_PRECISION_COUNT; dp++)
			for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
				t->dot[l][dp][mp] = feral_k_dot_f32_f64_ref;
				t->axpy[l][dp][mp] = feral_k_axpy_f32_f64_ref;
			}
		t->dot[l][FERAL_PRECISION_F32][FERAL_PRECISION_F32] = feral_k_dot_f32_f32_ref;
		t->axpy[l][FERAL_PRECISION_F32][FERAL_PRECISION_F32] = feral_k_axpy_f32_f32_ref;
	}
}

const struct feral_kernels *feral_kernels_named(const char *name)
{
	if (!ref_ready) {
		fill_ref(&table_ref);
		__atomic_store_n(&ref_ready, 1, __ATOMIC_RELEASE);
	}
	if (strcmp(name, "ref") == 0)
		return &table_ref;
	return NULL;
}

const struct feral_kernels *feral_kernels_get(struct feral_error *err)
{
	const char *force = getenv("FERAL_KERNEL");
	if (force && *force) {
		const struct feral_kernels *k = feral_kernels_named(force);
		if (!k)
			feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
			           "FERAL_KERNEL=%s: not supported on this CPU (choose ref, avx2 or avx512)",
			           force);
		return k;
	}
	return feral_kernels_named("ref");
}

enum feral_status feral_kernels_select(const char **name, struct feral_error *err)
{
	const struct feral_kernels *k = feral_kernels_get(err);
	if (!k)
		return err ? err->status : FERAL_STATUS_UNSUPPORTED;
	*name = k->name;
	return FERAL_OK;
}

void feral_k_rng_seed(struct feral_k_rng *r, uint64_t seed, uint64_t stream)
{
	feral_rng_seed(&r->scalar, seed, stream);
	for (int i = 0; i < 16; i++)
		r->lane[i] = feral_rng_next(&r->scalar) | 1; /* xorshift state must be non-zero */
}
