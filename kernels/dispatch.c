/* Runtime kernel selection: fill each table with reference kernels, then
 * override with what the CPU supports.  Every table is generated from the
 * one pair list (FERAL_K_PAIRS in kernels.h).  FERAL_KERNEL=ref|avx2|avx512|
 * avx512vnni forces a choice; an unsupported one is an error, never SIGILL.
 *
 * A table is offered only when cpuid reports the instructions AND the OS
 * saves their registers (XCR0: bits 1,2 for AVX state; 5,6,7 for the opmask
 * and ZMM state).  This file gets no ISA flags (xgetbv is inline asm).
 * "avx512" holds no VNNI code (k_avx512.c is built without -mavx512vnni), so
 * it is safe on AVX-512 CPUs without VNNI; "avx512vnni" is "avx512" plus the
 * FERAL_K_VNNI_DOTS entries, offered only when cpuid reports AVX512_VNNI.
 *
 * RACES=atomic builds (ThreadSanitizer) and FERAL_NO_SIMD builds (fuzzing)
 * offer only "ref": SIMD loads and stores of the shared model cannot be
 * relaxed atomics.  There a forced SIMD name falls back to "ref" (so
 * scripted runs still work); an unknown name is still an error. */
#include "internal.h"
#include "kernels.h"
#include "csr8.h"

#include <pthread.h>

#if defined(__x86_64__) && !defined(FERAL_NO_SIMD) && !defined(FERAL_RACES_ATOMIC)
#define FERAL_K_SIMD 1
#include <cpuid.h>
#else
#define FERAL_K_SIMD 0
#endif

enum { T_REF, T_AVX2, T_AVX512, T_AVX512VNNI, T_COUNT };
static const char *const table_names[T_COUNT] = {"ref", "avx2", "avx512", "avx512vnni"};
static struct feral_kernels tables[T_COUNT];
static int have[T_COUNT];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Expanded once per pair of FERAL_K_PAIRS (or FERAL_K_VNNI_DOTS). */
#define SET_DOT(dp, mp, t, l, isa)                                                         \
	(t)->dot[l][FERAL_K_P_##dp][FERAL_K_P_##mp] = feral_k_dot_##dp##_##mp##_##isa;
#define SET_PAIR(dp, mp, t, l, isa)                                                        \
	SET_DOT(dp, mp, t, l, isa)                                                          \
	(t)->axpy[l][FERAL_K_P_##dp][FERAL_K_P_##mp] = feral_k_axpy_##dp##_##mp##_##isa;

/* F64 "data" (rejected by validation) reads as f32 data, in every table. */
static void alias_f64_data(struct feral_kernels *t)
{
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++)
		for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
			t->dot[l][FERAL_PRECISION_F64][mp] = t->dot[l][FERAL_PRECISION_F32][mp];
			t->axpy[l][FERAL_PRECISION_F64][mp] = t->axpy[l][FERAL_PRECISION_F32][mp];
		}
}

static void fill_ref(struct feral_kernels *t, int which)
{
	t->name = table_names[which];
	for (int l = 0; l < FERAL_LAYOUT_COUNT; l++) {
		FERAL_K_PAIRS(SET_PAIR, t, l, ref)
	}
	/* sparse rows into an int8 model: the scalar loops of kernels/csr8.h */
	t->axpy[FERAL_LAYOUT_CSR][FERAL_PRECISION_I8][FERAL_PRECISION_I8] = feral_k_axpy_i8_i8_csr_ref;
	t->axpy[FERAL_LAYOUT_CSR][FERAL_PRECISION_F32][FERAL_PRECISION_I8] = feral_k_axpy_f32_i8_csr_ref;
	t->axpy[FERAL_LAYOUT_CSR][FERAL_PRECISION_I16][FERAL_PRECISION_I8] = feral_k_axpy_i16_i8_csr_ref;
	alias_f64_data(t);
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

static void fill_simd(struct feral_kernels *t, int which)
{
	const int D = FERAL_LAYOUT_DENSE, C = FERAL_LAYOUT_CSR;
	fill_ref(t, which);
	if (which == T_AVX2) {
		/* Sparse rows keep the scalar kernels: 8-wide gathers do not pay
		 * (16-wide ones barely do, see k_avx512.c), and a scatter of int8 or
		 * int16 model elements does not exist. */
		FERAL_K_PAIRS(SET_PAIR, t, D, avx2)
	} else {
		FERAL_K_PAIRS(SET_PAIR, t, D, avx512)
		FERAL_K_PAIRS(SET_DOT, t, C, csr_avx512) /* gathers from 128 nonzeros */
		if (which == T_AVX512VNNI) {
			FERAL_K_VNNI_DOTS(SET_DOT, t, D, avx512vnni)
		}
	}
	alias_f64_data(t);
}
#endif

static void init_tables(void)
{
	fill_ref(&tables[T_REF], T_REF);
	have[T_REF] = 1;
#if FERAL_K_SIMD
	__builtin_cpu_init();
	have[T_AVX2] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	               os_saves(0x6);
	have[T_AVX512] = have[T_AVX2] && __builtin_cpu_supports("avx512f") &&
	                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
	                 __builtin_cpu_supports("avx512dq") && os_saves(0xe6);
	have[T_AVX512VNNI] = have[T_AVX512] && __builtin_cpu_supports("avx512vnni");
	for (int i = T_AVX2; i < T_COUNT; i++)
		if (have[i])
			fill_simd(&tables[i], i);
#endif
}

int feral_k_cpu_avx2(void)
{
	pthread_once(&tables_once, init_tables);
	return have[T_AVX2];
}
int feral_k_cpu_avx512(void)
{
	pthread_once(&tables_once, init_tables);
	return have[T_AVX512];
}
int feral_k_cpu_avx512vnni(void)
{
	pthread_once(&tables_once, init_tables);
	return have[T_AVX512VNNI];
}

static int table_index(const char *name)
{
	for (int i = 0; i < T_COUNT; i++)
		if (strcmp(name, table_names[i]) == 0)
			return i;
	return -1;
}

const struct feral_kernels *feral_kernels_named(const char *name)
{
	pthread_once(&tables_once, init_tables);
	int i = name ? table_index(name) : -1;
	return i >= 0 && have[i] ? &tables[i] : NULL;
}

const struct feral_kernels *feral_kernels_get(struct feral_error *err)
{
	pthread_once(&tables_once, init_tables);
	const char *force = getenv("FERAL_KERNEL");
	if (force && *force) {
		const struct feral_kernels *k = feral_kernels_named(force);
		int known = table_index(force) >= 0;
		if (!k && known && !FERAL_K_SIMD)
			return &tables[T_REF];
		if (!k) {
			char choices[64] = "ref";
			for (int i = T_AVX2; i < T_COUNT; i++)
				if (have[i])
					snprintf(choices + strlen(choices), sizeof choices - strlen(choices),
					         ", %s", table_names[i]);
			feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
			           known ? "FERAL_KERNEL=%s: this CPU (or OS) does not support it; "
			                   "choose %s"
			                 : "FERAL_KERNEL=%s: unknown kernel set; choose %s",
			           force, choices);
		}
		return k;
	}
	for (int i = T_COUNT - 1; i > T_REF; i--)
		if (have[i])
			return &tables[i];
	return &tables[T_REF];
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
 * and 16 xorshift64 lane states drawn from it (never zero); the lagged-
 * Fibonacci ring of the dense int8 path from splitmix64 of seed and stream. */
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
	/* the lagged-Fibonacci ring: splitmix64 from (seed, stream), so the
	 * scalar stream above is the same as without the ring; lane l of entry
	 * 0 odd, so every lane's low bit (an LFSR) has the full period */
	uint64_t z = seed ^ (stream * 0xd1b54a32d192ed03ull) ^ 0x6c62272e07bb0142ull;
	for (size_t i = 0; i < FERAL_K_LF_S * 8; i++) {
		uint64_t v = (z += 0x9e3779b97f4a7c15ull);
		v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
		v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
		r->lf[i] = (v ^ (v >> 31)) | (i < 8);
	}
	r->lf_i = 0;
}
