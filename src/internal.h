/* Internal interfaces shared by src/, kernels/, bench/ and tests/.
 * Not installed.  Everything here is hidden from the shared library's ABI. */
#ifndef FERAL_INTERNAL_H
#define FERAL_INTERNAL_H

#include "feral.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FERAL_CACHELINE 64
#define FERAL_ALIGN64 __attribute__((aligned(FERAL_CACHELINE)))
#define FERAL_UNUSED __attribute__((unused))
#define FERAL_LIKELY(x) __builtin_expect(!!(x), 1)
#define FERAL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- errors ---------------------------------------------------------------
 * feral_fail fills err (if non-NULL) and returns status, so call sites read
 *   return feral_fail(err, FERAL_STATUS_PARSE, path, line, "bad token '%s'", tok);
 * feral_fail_errno also captures errno (call it right after the failed call). */
enum feral_status feral_fail(struct feral_error *err, enum feral_status st, const char *file,
                             long line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
enum feral_status feral_fail_errno(struct feral_error *err, enum feral_status st,
                                   const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Always-on invariant check: prints file:line and aborts.  For bugs only,
 * never for bad input (that is a status). */
#define FERAL_ASSERT(cond)                                                              \
	do {                                                                            \
		if (FERAL_UNLIKELY(!(cond)))                                            \
			feral_assert_fail(#cond, __FILE__, __LINE__);                   \
	} while (0)
__attribute__((noreturn)) void feral_assert_fail(const char *expr, const char *file, int line);

/* 64-byte aligned allocation (size rounded up); NULL on failure or overflow. */
void *feral_aligned_alloc(size_t bytes);
/* The same for large, randomly accessed arrays: 2 MiB aligned and advised
 * for transparent huge pages above 32 MiB.  Free with free(). */
void *feral_big_alloc(size_t bytes);
/* a*b with overflow check: false on overflow. */
static inline bool feral_mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* ---- Hogwild! races --------------------------------------------------------
 * Every intended race on the shared iterate goes through these helpers.
 * Default build: plain accesses (the compiler may vectorise around them).
 * RACES=atomic build (-DFERAL_RACES_ATOMIC): relaxed C11-style atomics, so
 * ThreadSanitizer sees no data race and checks everything else. */
#ifdef FERAL_RACES_ATOMIC
#define FERAL_RACY_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define FERAL_RACY_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define FERAL_RACY_LOAD(p) (*(p))
#define FERAL_RACY_STORE(p, v) (*(p) = (v))
#endif
/* For floating types __atomic_*_n are unavailable: use the generic forms. */
static inline float feral_racy_load_f32(const float *p)
{
#ifdef FERAL_RACES_ATOMIC
	float v;
	__atomic_load(p, &v, __ATOMIC_RELAXED);
	return v;
#else
	return *p;
#endif
}
static inline void feral_racy_store_f32(float *p, float v)
{
#ifdef FERAL_RACES_ATOMIC
	__atomic_store(p, &v, __ATOMIC_RELAXED);
#else
	*p = v;
#endif
}
static inline double feral_racy_load_f64(const double *p)
{
#ifdef FERAL_RACES_ATOMIC
	double v;
	__atomic_load(p, &v, __ATOMIC_RELAXED);
	return v;
#else
	return *p;
#endif
}
static inline void feral_racy_store_f64(double *p, double v)
{
#ifdef FERAL_RACES_ATOMIC
	__atomic_store(p, &v, __ATOMIC_RELAXED);
#else
	*p = v;
#endif
}

/* ---- random numbers ---------------------------------------------------------
 * xoshiro256** per thread.  feral_rng_seed(seed, stream) gives distinct,
 * reproducible streams: the state is seeded by splitmix64 from `seed`, then
 * advanced by `stream` jumps of 2^128 draws, so streams never overlap. */
struct feral_rng {
	uint64_t s[4];
};
void feral_rng_seed(struct feral_rng *r, uint64_t seed, uint64_t stream);
static inline uint64_t feral_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t feral_rng_next(struct feral_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = feral_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = feral_rotl64(s[3], 45);
	return out;
}
/* Uniform in [0, 1) with 53 random bits. */
static inline double feral_rng_uniform(struct feral_rng *r)
{
	return (double)(feral_rng_next(r) >> 11) * 0x1.0p-53;
}
/* Standard normal (Box-Muller with both outputs used is not reproducible
 * across call patterns, so this uses one output per call). */
double feral_rng_normal(struct feral_rng *r);
uint64_t feral_splitmix64(uint64_t *state);

/* ---- alias sampler (Walker/Vose) -------------------------------------------
 * O(n) build, O(1) draw from one 64-bit word r: the high half of r*n picks
 * the column i, the low 64 bits of r*n are a uniform fraction compared with
 * cut[i] (the column's own probability, in units of 2^-64). */
struct feral_alias {
	uint64_t n;
	/* n columns: threshold (UINT64_MAX means "always keep") and alias, side
	 * by side so a draw reads one 16-byte entry (one cache line, one page) */
	struct feral_alias_entry {
		uint64_t cut;
		uint64_t alias;
	} *e;
};
/* weights >= 0, finite, with a positive sum.  USAGE/RANGE/NOMEM on failure. */
enum feral_status feral_alias_build(struct feral_alias *a, const double *weights, uint64_t n,
                                    struct feral_error *err);
void feral_alias_free(struct feral_alias *a);
/* A draw in two halves, so a pipeline can prefetch the table entries of
 * column i between them: split picks the column and its fraction from r,
 * resolve reads the table. */
struct feral_alias_pick {
	uint64_t i, frac;
};
static inline struct feral_alias_pick feral_alias_split(const struct feral_alias *a, uint64_t r)
{
	unsigned __int128 m = (unsigned __int128)r * a->n;
	struct feral_alias_pick p = {(uint64_t)(m >> 64), (uint64_t)m};
	return p;
}
static inline uint64_t feral_alias_resolve(const struct feral_alias *a, struct feral_alias_pick p)
{
	return p.frac < a->e[p.i].cut ? p.i : a->e[p.i].alias;
}
static inline uint64_t feral_alias_draw(const struct feral_alias *a, uint64_t r)
{
	return feral_alias_resolve(a, feral_alias_split(a, r));
}

/* Method NEWTON gives each thread at least this many nonzeros a pass (fewer
 * threads on small problems: an OpenMP region's fork and join cost more);
 * newton.c, and the CLI's default thread count. */
#define FERAL_NEWTON_NNZ_PER_THREAD 32768

/* ---- objective (objective.c) ------------------------------------------------
 * f_i(x) = phi(a_i.x, y_i) + (eta/2)||x||^2, docs/math.md section 1. */
static inline double feral_loss_dphi(enum feral_loss loss, double t, double y)
{
	switch (loss) {
	case FERAL_LOSS_LS:
		return t - y;
	case FERAL_LOSS_LOGISTIC: {
		double z = y * t; /* -y / (1 + e^z), computed without overflow */
		if (z > 0) {
			double e = __builtin_exp(-z);
			return -y * e / (1.0 + e);
		}
		return -y / (1.0 + __builtin_exp(z));
	}
	case FERAL_LOSS_HINGE:
		return (y * t < 1.0) ? -y : 0.0;
	default:
		return 0.0;
	}
}
double feral_loss_phi(enum feral_loss loss, double t, double y);
/* ||x - xs||^2 / xs_sq (xs_sq = ||xs||^2; the unnormalised distance when 0). */
double feral_rel_dist2(const double *x, const double *xs, uint64_t d, double xs_sq);
/* a_i . x in double for any stored precision, through the fastest dot
 * kernel with an f64 model (scalar fallback).  Not for the racy iterate. */
double feral_row_dot(const struct feral_dataset *ds, uint64_t i, const double *x);
/* c_phi: 1 (LS), 1/4 (logistic); hinge is non-smooth (returns 0). */
double feral_loss_curvature(enum feral_loss loss);
/* Per-row smoothness (or, for hinge, Lipschitz) constants used for the
 * sampling weights: L_i = c ||a_i||^2 + eta (hinge: G_i = ||a_i|| + eta). */
void feral_objective_row_constants(const struct feral_dataset *ds, const struct feral_config *cfg,
                                   double *L);
/* p_i = lambda/n + (1-lambda) L_i / sum L.  Rows with L_i == 0 get p_i = lambda/n. */
enum feral_status feral_sampling_probs(const double *L, uint64_t n, double lambda, double *p,
                                       struct feral_error *err);

/* ---- kernels (kernels/) ------------------------------------------------------
 * Shapes and units, for every kernel:
 *   a    one row's stored values: len elements of the data precision
 *   idx  NULL for a dense row (element k is column k), else len column indices
 *   x    the model: d elements of the model precision (shared, racy)
 *   dot  returns sum_k a[k] * x[col(k)] in raw stored units: the caller
 *        multiplies by the row scale (fixed point data) and the model scale.
 *   axpy x[col(k)] += alpha * a[k] in raw model units, rounded per `mode` for
 *        integer models with saturation; returns the number of saturated writes.
 * The table is indexed [layout][data precision][model precision]; every slot
 * holds a callable function (unsupported pairs hold a reference kernel). */
/* The additive lagged-Fibonacci ring of the dense int8 byte path
 * (kernels.h, feral_k_lf_step): FERAL_K_LF_S entries of 8 x 64 bits. */
#define FERAL_K_LF_R 37
#define FERAL_K_LF_S 100
struct feral_k_rng {
	uint64_t lane[16] FERAL_ALIGN64; /* SIMD lane states (xorshift) */
	uint64_t lf[FERAL_K_LF_S * 8] FERAL_ALIGN64;
	uint32_t lf_i; /* the entry the next step overwrites (the oldest) */
	struct feral_rng scalar;
};
void feral_k_rng_seed(struct feral_k_rng *r, uint64_t seed, uint64_t stream);

typedef double (*feral_k_dot_fn)(const void *a, const uint32_t *idx, const void *x, size_t len);
typedef uint64_t (*feral_k_axpy_fn)(void *x, const void *a, const uint32_t *idx, size_t len,
                                    double alpha, enum feral_rounding mode,
                                    struct feral_k_rng *rng);
struct feral_kernels {
	const char *name;
	feral_k_dot_fn dot[FERAL_LAYOUT_COUNT][FERAL_PRECISION_COUNT][FERAL_PRECISION_COUNT];
	feral_k_axpy_fn axpy[FERAL_LAYOUT_COUNT][FERAL_PRECISION_COUNT][FERAL_PRECISION_COUNT];
};
/* The table chosen by cpuid (or FERAL_KERNEL); NULL with err set when the
 * forced choice is unsupported. Thread-safe after the first call. */
const struct feral_kernels *feral_kernels_get(struct feral_error *err);
/* A named table if this CPU supports it: "ref", "avx2", "avx512" (no VNNI),
 * "avx512vnni"; else NULL. */
const struct feral_kernels *feral_kernels_named(const char *name);

/* ---- full gradients in double (objective.c) ---------------------------------- */
/* The data x f64 axpy kernel of ds's layout and precision. */
feral_k_axpy_fn feral_axpy64_of(const struct feral_dataset *ds);
/* out += alpha a_i (dequantized), in double, through axpy (feral_axpy64_of). */
void feral_row_axpy(const struct feral_dataset *ds, feral_k_axpy_fn axpy, uint64_t i,
                    double alpha, double *out);
/* ||grad F(x)|| (full gradient in double, serial); NaN without memory. */
double feral_grad_norm(const struct feral_dataset *ds, const struct feral_config *cfg,
                       const double *x);

/* ---- topology (topo.c): hwloc pinning, libnuma placement ------------------ */
struct feral_topo;
struct feral_placement {
	int pu;      /* OS index of the PU to bind to; -1 = unbound */
	int core;    /* logical core index */
	int node;    /* logical NUMA node index (0 when there is one node) */
	int package; /* logical package index */
};
/* synthetic: an hwloc synthetic description ("pack:2 numa:2 core:8 pu:2"),
 * or NULL for this machine. */
enum feral_status feral_topo_create(const char *synthetic, struct feral_topo **out,
                                    struct feral_error *err);
void feral_topo_destroy(struct feral_topo **t);
int feral_topo_npus(const struct feral_topo *t);
int feral_topo_ncores(const struct feral_topo *t);
int feral_topo_nnodes(const struct feral_topo *t);
/* Place T workers: compact fills cores of node 0 first (one PU per core,
 * then SMT siblings); scatter spreads across packages, then nodes, then
 * cores; none leaves pu = -1 but still assigns nodes round-robin.
 * *oversubscribed = 1 when T exceeds the PUs. */
enum feral_status feral_topo_plan(const struct feral_topo *t, int nthreads, enum feral_bind bind,
                                  struct feral_placement *out, int *oversubscribed,
                                  struct feral_error *err);
/* Bind the calling thread. Returns 0, or -1 with a warning in *warn. */
int feral_topo_bind_self(const struct feral_topo *t, const struct feral_placement *p,
                         struct feral_error *warn);
/* 64-byte aligned memory placed on a NUMA node (node < 0: local policy).
 * Falls back to plain aligned memory without libnuma. */
void *feral_numa_alloc(size_t bytes, int node);
void feral_numa_free(void *p, size_t bytes);

/* ---- dataset ownership (dataset.c, io_cache.c) ----------------------------
 * Each array of a dataset is either heap memory owned by it (bit set in
 * heap_mask) or points into the read-only mapping `map` (loaded caches). */
enum {
	FERAL_OWN_VALUES = 1u << 0,
	FERAL_OWN_INDPTR = 1u << 1,
	FERAL_OWN_INDICES = 1u << 2,
	FERAL_OWN_ROW_SCALE = 1u << 3,
	FERAL_OWN_Y = 1u << 4,
	FERAL_OWN_NORMS = 1u << 5,
};
struct feral_dataset_owner {
	void *block;      /* one allocation the arrays may point into (a loaded cache), or NULL */
	size_t block_len; /* its bytes */
	bool block_mapped; /* block is a file mapping (munmap), else heap (free) */
	unsigned heap_mask;
};
/* Release an owner's block (munmap or free); NULL is fine. */
void feral_block_free(void *block, size_t len, bool mapped);
/* A dataset shell with an owner and no arrays; NOMEM on failure. */
enum feral_status feral_dataset_shell(struct feral_dataset **out, struct feral_error *err);

/* ---- misc ------------------------------------------------------------------ */
double feral_now(void); /* monotonic seconds */
double feral_thread_cpu(void); /* the calling thread's CPU seconds */
/* Case-insensitive suffix test. */
bool feral_has_suffix(const char *s, const char *suffix);

/* Bytes of memory available to a new allocation without swapping (Linux
 * MemAvailable; half the physical memory elsewhere).  Used by loaders and by
 * bench's problem sizing. */
uint64_t feral_mem_available(void);

#endif /* FERAL_INTERNAL_H */
