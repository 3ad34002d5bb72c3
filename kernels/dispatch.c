/* Runtime kernel selection: fill each table with reference kernels, then
 * override with what the CPU supports.  FERAL_KERNEL=ref|avx2|avx512 forces a
 * choice; an unsupported one is an error, never SIGILL.
 *
 * A table is offered only when cpuid reports the instructions AND the OS
 * saves their registers (XCR0: bits 1,2 for AVX state; 5,6,7 for the opmask
 * and ZMM state).  This file gets no ISA flags (xgetbv is inline asm).
 *
 * RACES=atomic builds (ThreadSanitizer) and FERAL_NO_SIMD builds (fuzzing)
 * offer only "ref": SIMD loads and stores of the shared model cannot be
 * relaxed atomics.  There a forced FERAL_KERNEL=avx2|avx512 falls back to
 * "ref" (so scripted runs still work); an unknown name is still an error. */
#include "internal.h"
#include "kernels.h"

#include <pthread.h>

#if defined(__x86_64__) && !defined(FERAL_NO_SIMD) && !defined(FERAL_RACES_ATOMIC)
#define FERAL_K_SIMD 1
#include <cpuid.h>
#else
#define FERAL_K_SIMD 0
#endif

static struct feral_kernels table_ref, table_avx2, table_avx512;
static int have_avx2, have_avx512, have_vnni;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

#define SET_PAIR(t, l, dp, mp, DP, MP, isa)                                                \
	do {                                                                                \
		(t)->dot[l][FERAL_PRECISION_##DP][FERAL_PRECISION_##MP] =                   \
			feral_k_dot_##dp##_##mp##_##isa;                                    \
		(t)->axpy[l][FERAL_PRECISION_##DP][FERAL_PRECISION_##MP] =                  \
			feral_k_axpy_##dp##_##mp##_##isa;                                   \
	} while (0)
#define SET_ALL(t, l, isa)                                                                 \
	do {                                                                                \
		SET_PAIR(t, l, f32, f64, F32, F64, isa);                                    \
		SET_PAIR(t, l, f32, f32, F32, F32, isa);                                    \
		SET_PAIR(t, l, f32, i16, F32, I16, isa);                                    \
		SET_PAIR(t, l, f32, i8, F32, I8, isa);                                      \
		SET_PAIR(t, l, i16, f64, I16, F64, isa);                                    \
		SET_PAIR(t, l, i16, f32, I16, F32, isa);                                    \
		SET_PAIR(t, l, i16, i16, I16, I16, isa);                                    \
		SET_PAIR(t, l, i16, i8, I16, I8, isa);                                      \
		SET_PAIR(t, l, i8, f64, I8, F64, isa);                                      \
		SET_PAIR(t, l, i8, f32, I8, F32, isa);                                      \
		SET_PAIR(t, l, i8, i16, I8, I16, isa);                                      \
		SET_PAIR(t, l, i8, i8, I8, I8, isa);                                        \
	} while (0)
#define SET_DOT(t, l, dp, mp, DP, MP, fn)                                                  \
	((t)->dot[l][FERAL_PRECISION_##DP][FERAL_PRECISION_##MP] = feral_k_dot_##dp##_##mp##_##fn)
#define SET_CSR_DOTS(t, isa)                                                               \
	do {                                                                                \
		const int L = FERAL_LAYOUT_CSR;                                             \
		SET_DOT(t, L, f32, f64, F32, F64, isa);                                     \
		SET_DOT(t, L, f32, f32, F32, F32, isa);                                     \
		SET_DOT(t, L, f32, i16, F32, I16, isa);                                     \
		SET_DOT(t, L, f32, i8, F32, I8, isa);                                       \
		SET_DOT(t, L, i16, f64, I16, F64, isa);                                     \
		SET_DOT(t, L, i16, f32, I16, F32, isa);                                     \
		SET_DOT(t, L, i16, i16, I16, I16, isa);                                     \
		SET_DOT(t, L, i16, i8, I16, I8, isa);                                       \
		SET_DOT(t, L, i8, f64, I8, F64, isa);                                       \
		SET_DOT(t, L, i8, f32, I8, F32, isa);                                       \
		SET_DOT(t, L, i8, i16, I8, I16, isa);                                       \
		SET_DOT(t, L, i8, i8, I8, I8, isa);                                         \
	} while (0)

/* Every slot valid: F64 "data" (rejected by validation) reads as f32 data. */
static void fill_ref(struct feral_kernels *t, const char *name)
{
	t->name = name;
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++) {
		SET_ALL(t, l, ref);
		for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
			t->dot[l][FERAL_PRECISION_F64][mp] = t->dot[l][FERAL_PRECISION_F32][mp];
			t->axpy[l][FERAL_PRECISION_F64][mp] = t->axpy[l][FERAL_PRECISION_F32][mp];
		}
	}
}

#if FERAL_K_SIMD
static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}
/* OSXSAVE set (so xgetbv exists), then the XCR0 bits for the state. */
static int os_saves(uint64_t mask)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	return (xgetbv0() & mask) == mask;
}

static void fill_dense(struct feral_kernels *t, int isa)
{
	if (isa == 2)
		SET_ALL(t, FERAL_LAYOUT_DENSE, avx2);
	else
		SET_ALL(t, FERAL_LAYOUT_DENSE, avx512);
	for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
		t->dot[0][FERAL_PRECISION_F64][mp] = t->dot[0][FERAL_PRECISION_F32][mp];
		t->axpy[0][FERAL_PRECISION_F64][mp] = t->axpy[0][FERAL_PRECISION_F32][mp];
	}
}
#endif

static void init_tables(void)
{
	fill_ref(&table_ref, "ref");
#if FERAL_K_SIMD
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	            os_saves(0x6);
	have_avx512 = have_avx2 && __builtin_cpu_supports("avx512f") &&
	              __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
	              __builtin_cpu_supports("avx512dq") && os_saves(0xe6);
	have_vnni = have_avx512 && __builtin_cpu_supports("avx512vnni");
	if (have_avx2) {
		fill_ref(&table_avx2, "avx2");
		fill_dense(&table_avx2, 2);
		/* Sparse rows keep the scalar kernels: 8-wide gathers do not pay
		 * (16-wide ones barely do, see k_avx512.c), and a scatter of int8 or
		 * int16 model elements does not exist. */
	}
	if (have_avx512) {
		fill_ref(&table_avx512, "avx512");
		fill_dense(&table_avx512, 512);
		SET_CSR_DOTS(&table_avx512, csr_avx512); /* gathers from 128 nonzeros */
		if (!have_vnni) /* the int8 x int8 dot needs vpdpbusd; AVX2's is next best */
			table_avx512.dot[FERAL_LAYOUT_DENSE][FERAL_PRECISION_I8][FERAL_PRECISION_I8] =
				feral_k_dot_i8_i8_avx2;
	}
#endif
}

int feral_k_cpu_avx2(void)
{
	pthread_once(&tables_once, init_tables);
	return have_avx2;
}
int feral_k_cpu_avx512(void)
{
	pthread_once(&tables_once, init_tables);
	return have_avx512;
}
int feral_k_cpu_avx512vnni(void)
{
	pthread_once(&tables_once, init_tables);
	return have_vnni;
}

const struct feral_kernels *feral_kernels_named(const char *name)
{
	pthread_once(&tables_once, init_tables);
	if (!name)
		return NULL;
	if (strcmp(name, "ref") == 0)
		return &table_ref;
	if (strcmp(name, "avx2") == 0)
		return have_avx2 ? &table_avx2 : NULL;
	if (strcmp(name, "avx512") == 0)
		return have_avx512 ? &table_avx512 : NULL;
	return NULL;
}

const struct feral_kernels *feral_kernels_get(struct feral_error *err)
{
	pthread_once(&tables_once, init_tables);
	const char *force = getenv("FERAL_KERNEL");
	if (force && *force) {
		const struct feral_kernels *k = feral_kernels_named(force);
		int known = !strcmp(force, "ref") || !strcmp(force, "avx2") || !strcmp(force, "avx512");
		if (!k && known && !FERAL_K_SIMD)
			return feral_kernels_named("ref");
		if (!k)
			feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
			           known ? "FERAL_KERNEL=%s: this CPU (or OS) does not support it; "
			                   "choose ref%s%s"
			                 : "FERAL_KERNEL=%s: unknown kernel set; choose ref%s%s",
			           force, have_avx2 ? ", avx2" : "", have_avx512 ? ", avx512" : "");
		return k;
	}
	if (have_avx512)
		return &table_avx512;
	if (have_avx2)
		return &table_avx2;
	return &table_ref;
}

enum feral_status feral_kernels_select(const char **name, struct feral_error *err)
{
	const struct feral_kernels *k = feral_kernels_get(err);
	if (!k)
		return FERAL_STATUS_UNSUPPORTED;
	*name = k->name;
	return FERAL_OK;
}

/* Streams: the scalar xoshiro stream `stream` of `seed` (2^128 draws apart),
 * and 16 xorshift64 lane states drawn from it (never zero). */
void feral_k_rng_seed(struct feral_k_rng *r, uint64_t seed, uint64_t stream)
{
	feral_rng_seed(&r->scalar, seed, stream);
	for (int i = 0; i < 16; i++) {
		uint64_t v;
		do
			v = feral_rng_next(&r->scalar);
		while (v == 0);
		r->lane[i] = v;
	}
}
