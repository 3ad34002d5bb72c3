/* feral: asynchronous, lock-free weighted SGD and randomized Kaczmarz,
 * with Buckwild!-style low-precision storage.
 *
 * One public header.  Every name starts with feral_ / FERAL_.
 * Functions that can fail return enum feral_status (FERAL_OK == 0) and, when
 * given a non-NULL struct feral_error, fill it with the file, line and reason.
 * The library never calls exit() and never prints unless a log hook is set.
 */
#ifndef FERAL_H
#define FERAL_H

#include <signal.h> /* sig_atomic_t */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header.  feral_version() is the library's, which may be
 * newer (a later minor release of the same ABI).  The ABI version is the
 * number in the shared library's soname (libferal.so.FERAL_ABI_VERSION): it
 * changes whenever a program built against an older header could break.
 * Within one ABI version a minor release only adds (functions, enum values
 * before a *_COUNT, fields at the end of the structs that carry a
 * struct_size); see docs/design.md for the policy. */
#define FERAL_VERSION "0.1.0"
#define FERAL_VERSION_MAJOR 0
#define FERAL_VERSION_MINOR 1
#define FERAL_VERSION_PATCH 0
#define FERAL_ABI_VERSION 0

#if defined(__GNUC__)
#define FERAL_API __attribute__((visibility("default")))
#else
#define FERAL_API
#endif

/* The library's version ("0.1.0") and ABI version, at run time: compare with
 * FERAL_VERSION / FERAL_ABI_VERSION to see what a program was built with. */
FERAL_API const char *feral_version(void);
FERAL_API int feral_abi_version(void);
/* sizeof the named public struct as this library was built ("feral_config",
 * "feral_load_options", "feral_gen_options", "feral_result", "feral_error",
 * "feral_dataset", "feral_trace", "feral_trace_point"); 0 for any other name.
 * Bindings that mirror the structs (python/feral) check their layout with it. */
FERAL_API size_t feral_struct_size(const char *name);
/* The default worker count of the tools and bindings: every physical core
 * of the machine (hwloc; SMT siblings count once), in [1, 4096]; 1 when
 * built without hwloc or when the topology cannot be read. */
FERAL_API int feral_default_threads(void);

/* ---- status and errors ---------------------------------------------------
 * Values are never renumbered; new ones go before FERAL_STATUS_COUNT. */
enum feral_status {
	FERAL_OK = 0,
	FERAL_STATUS_USAGE = 1,       /* bad argument or configuration field */
	FERAL_STATUS_PARSE = 2,       /* malformed input data (file, line, reason) */
	FERAL_STATUS_RANGE = 3,       /* value, index or size out of range */
	FERAL_STATUS_CORRUPT = 4,     /* bad magic, checksum or truncated binary */
	FERAL_STATUS_UNSUPPORTED = 5, /* valid input we do not handle (yet) */
	FERAL_STATUS_IO = 6,          /* open/read/write/mmap failed (errno kept) */
	FERAL_STATUS_NOMEM = 7,       /* allocation failed or would not fit */
	FERAL_STATUS_DIVERGED = 8,    /* NaN/Inf or blow-up during a solve */
	FERAL_STATUS_INTERRUPTED = 9, /* stopped by a signal / stop flag */
	FERAL_STATUS_INTERNAL = 10,   /* a bug: an invariant failed */
	FERAL_STATUS_COUNT
};

/* Static string for a status; "unknown status" for out-of-range values. */
FERAL_API const char *feral_strerror(enum feral_status s);

/* Filled at the failure site.  line == 0 when no line applies;
 * sys_errno == 0 when no system call failed. */
struct feral_error {
	enum feral_status status;
	long line;
	int sys_errno;
	char file[512];
	char msg[512];
};

/* "file:line: msg" (or the shorter forms) into buf; returns buf. */
FERAL_API const char *feral_error_format(const struct feral_error *e, char *buf, size_t len);

/* ---- precision and layout ------------------------------------------------ */
enum feral_precision {
	FERAL_PRECISION_F32 = 0,
	FERAL_PRECISION_F64 = 1, /* model only: the reference iterate */
	FERAL_PRECISION_I16 = 2, /* fixed point, one scale (model) or per-row scales (data) */
	FERAL_PRECISION_I8 = 3,
	FERAL_PRECISION_COUNT
};
/* Bits of a precision (32, 64, 16, 8); 0 for an invalid value. */
FERAL_API int feral_precision_bits(enum feral_precision p);
/* Size in bytes of one stored element. */
FERAL_API size_t feral_precision_size(enum feral_precision p);
/* Non-zero for the fixed point precisions (I16, I8). */
FERAL_API int feral_precision_fixed(enum feral_precision p);
/* From bits: 32 -> F32, 64 -> F64, 16 -> I16, 8 -> I8; FERAL_STATUS_USAGE otherwise. */
FERAL_API enum feral_status feral_precision_from_bits(int bits, enum feral_precision *out);

enum feral_layout {
	FERAL_LAYOUT_DENSE = 0, /* row-major n x d */
	FERAL_LAYOUT_CSR = 1,   /* indptr[n+1], sorted unique indices per row */
	FERAL_LAYOUT_COUNT
};

/* ---- dataset --------------------------------------------------------------
 * Rows a_i (dense or CSR) with targets/labels y_i.  The stored value of
 * element j of row i is  row_scale[i] * values[...]  for fixed point data and
 * values[...] for f32.  row_sq_norm[i] is ||a_i||^2 of the stored values,
 * computed in double.  A dataset is read-only once built and may be shared by
 * any number of threads. */
struct feral_dataset_owner; /* opaque: who frees what (heap or mmap) */

struct feral_dataset {
	uint64_t n, d, nnz; /* nnz == n*d for dense */
	enum feral_layout layout;
	enum feral_precision precision; /* F32, I16 or I8 */
	void *values;        /* dense: n*d elements; CSR: nnz elements */
	uint64_t *indptr;    /* CSR only: n+1 offsets into values/indices */
	uint32_t *indices;   /* CSR only: 0-based column indices */
	float *row_scale;    /* fixed point only: n scales; NULL for F32 */
	double *y;           /* n targets (least squares) or labels (+1/-1) */
	double *row_sq_norm; /* n */
	struct feral_dataset_owner *owner;
};

/* Allocate an empty dataset (values zeroed).  For CSR, nnz is the capacity and
 * indptr is zeroed.  Returns OK, USAGE (bad shape), RANGE (size overflow) or
 * NOMEM. */
FERAL_API enum feral_status feral_dataset_create(uint64_t n, uint64_t d, uint64_t nnz,
                                                 enum feral_layout layout,
                                                 enum feral_precision precision,
                                                 struct feral_dataset **out,
                                                 struct feral_error *err);
/* Frees *ds (heap or mmap) and sets *ds = NULL.  Accepts NULL and *ds == NULL. */
FERAL_API void feral_dataset_destroy(struct feral_dataset **ds);
/* Recompute row_sq_norm from the stored values. */
FERAL_API void feral_dataset_update_norms(struct feral_dataset *ds);
/* dst (n x (d + 1), row-major f32) = src (n rows of d f32 values, row i at
 * src + i * ld) with the constant `value` appended to each row, the intercept
 * column, in one pass over the rows in parallel; row_sq_norm (n doubles, or
 * NULL) gets the squared norms of dst's rows, bit for bit those
 * feral_dataset_update_norms computes on dst. */
FERAL_API void feral_dense_append_column(const float *src, uint64_t n, uint64_t d, uint64_t ld,
                                         float value, float *dst, double *row_sq_norm);
/* Check indices in range, indptr monotone, values and y finite. PARSE/RANGE on failure. */
FERAL_API enum feral_status feral_dataset_check(const struct feral_dataset *ds,
                                                struct feral_error *err);
/* Bytes of row data (values + indices + scales), the figure bench uses for GB/s. */
FERAL_API uint64_t feral_dataset_bytes(const struct feral_dataset *ds);
/* Value of element k of the stored array as a double (dequantized by row i). */
FERAL_API double feral_dataset_value(const struct feral_dataset *ds, uint64_t i, uint64_t k);

/* Quantize an f32 dataset to fixed point (I16 or I8) with one scale per row,
 * scale_i = max_j |a_ij| / (2^(b-1)-1), by unbiased stochastic rounding
 * (deterministic in seed).  F32 -> F32 is a copy.  *out is a new dataset. */
FERAL_API enum feral_status feral_dataset_quantize(const struct feral_dataset *ds,
                                                   enum feral_precision precision, uint64_t seed,
                                                   struct feral_dataset **out,
                                                   struct feral_error *err);

/* Input formats, chosen from the path's extension (and .gz), or forced. */
enum feral_format {
	FERAL_FORMAT_AUTO = 0,
	FERAL_FORMAT_LIBSVM,  /* .svm .libsvm .txt .svmlight (also .gz) */
	FERAL_FORMAT_MTX,     /* .mtx (also .gz) */
	FERAL_FORMAT_NPY,     /* .npy */
	FERAL_FORMAT_IDX,     /* -idx1-ubyte, -idx3-ubyte, .idx (also .gz) */
	FERAL_FORMAT_FERAL,   /* .feral native cache */
	FERAL_FORMAT_COUNT
};
FERAL_API enum feral_format feral_format_from_path(const char *path);

/* Fill with feral_load_options_init, which sets struct_size; the loaders
 * reject another size (USAGE): a program built against a different feral.h. */
struct feral_load_options {
	size_t struct_size;       /* sizeof(struct feral_load_options), set by init */
	enum feral_format format; /* AUTO: from the extension */
	int dense;                /* LIBSVM/MTX: 1 = store dense, 0 = CSR, -1 = auto */
	uint64_t min_d;           /* LIBSVM: at least this many columns (to match a train set) */
	uint64_t row_begin, row_end; /* LIBSVM: keep rows [begin, end); end 0 = all */
	/* LIBSVM: parse only the lines that start at a byte offset in
	 * [byte_begin, byte_end) (byte_end 0 = to the end), so that R readers can
	 * each take 1/R of a file without parsing the rest.  Line numbers in
	 * errors are then relative to byte_begin's line. */
	uint64_t byte_begin, byte_end;
	/* .feral: 0 (default) reads the file into memory on transparent huge
	 * pages, so random rows cost no TLB miss (+20-60 % updates/s on 1 GiB
	 * of dense f32 rows), unless it is larger than 90 % of the memory
	 * available (MemAvailable), which is mapped instead.  1 always maps it
	 * copy-on-write: no copy, pages shared with the page cache and other
	 * processes (feral-mpi ranks slicing one file), but 4 KiB pages. */
	int map_cache;
};
FERAL_API void feral_load_options_init(struct feral_load_options *o);

/* Load A (and y where the format carries it: LIBSVM labels, IDX labels are
 * separate files).  For .npy/.mtx/.idx files y is zero; set it with
 * feral_dataset_load_targets.  Returns PARSE/RANGE/CORRUPT with file and
 * line for bad input, IO, NOMEM. */
FERAL_API enum feral_status feral_dataset_load(const char *path,
                                               const struct feral_load_options *opt,
                                               struct feral_dataset **out,
                                               struct feral_error *err);
/* Read a vector of doubles (.npy 1-D, .mtx array, IDX labels, or text one per
 * line).  *out is malloc'd; *len set.  */
FERAL_API enum feral_status feral_vector_load(const char *path, double **out, uint64_t *len,
                                              struct feral_error *err);
/* Write a vector: .npy (float64 1-D), .mtx (array) or text, by extension. */
FERAL_API enum feral_status feral_vector_save(const char *path, const double *v, uint64_t len,
                                              struct feral_error *err);
/* Replace y from a vector file whose length must be ds->n. */
FERAL_API enum feral_status feral_dataset_load_targets(struct feral_dataset *ds,
                                                       const char *path,
                                                       struct feral_error *err);
/* Write a dataset: .svm/.libsvm/.txt (labels + A), .mtx (A only), .npy (A
 * only, float32 2-D), .feral (everything).  Writes atomically (temp+rename). */
FERAL_API enum feral_status feral_dataset_save(const struct feral_dataset *ds, const char *path,
                                               struct feral_error *err);

/* ---- synthetic problems ---------------------------------------------------- */
enum feral_gen_kind {
	FERAL_GEN_NSW1 = 0, /* Needell-Srebro-Ward Section 6, cases 1..5 */
	FERAL_GEN_NSW2,
	FERAL_GEN_NSW3,
	FERAL_GEN_NSW4,
	FERAL_GEN_NSW5,
	FERAL_GEN_GAUSSIAN, /* dense LS with condition number and row-norm spread */
	FERAL_GEN_SPARSE,   /* sparse power-law columns, ~density*d nonzeros a row */
	FERAL_GEN_LOGISTIC, /* dense, labels +-1 from a planted w */
	FERAL_GEN_COUNT
};
/* Fill with feral_gen_options_init (sets struct_size; feral_gen rejects
 * another size). */
struct feral_gen_options {
	size_t struct_size; /* sizeof(struct feral_gen_options), set by init */
	enum feral_gen_kind kind;
	uint64_t n, d;
	double density;  /* SPARSE: fraction of nonzeros per row (default 0: about 20 a row) */
	double cond;     /* GAUSSIAN: condition number of A (default 10) */
	double spread;   /* GAUSSIAN: max/min row norm ratio (default 1) */
	double noise;    /* std of e in b = A x* + e (kind-specific default when < 0) */
	double power;    /* SPARSE: power-law exponent of column popularity (default 1.5) */
	uint64_t seed;
};
FERAL_API void feral_gen_options_init(struct feral_gen_options *o, enum feral_gen_kind kind);
FERAL_API enum feral_status feral_gen_kind_from_name(const char *name, enum feral_gen_kind *out);
FERAL_API const char *feral_gen_kind_name(enum feral_gen_kind k);
/* Build the problem; *x_star (length d, malloc'd) receives the planted
 * solution.  Deterministic in the seed. */
FERAL_API enum feral_status feral_gen(const struct feral_gen_options *o, struct feral_dataset **out,
                                      double **x_star, struct feral_error *err);

/* ---- solver configuration ------------------------------------------------ */
enum feral_loss {
	FERAL_LOSS_LS = 0,   /* 1/2 (a.x - y)^2 */
	FERAL_LOSS_LOGISTIC, /* log(1 + exp(-y a.x)), y in {-1,+1} */
	FERAL_LOSS_HINGE,    /* max(0, 1 - y a.x) */
	FERAL_LOSS_COUNT
};
enum feral_method {
	FERAL_METHOD_SGD = 0,  /* weighted SGD with reweighting 1/(n p_i) */
	FERAL_METHOD_KACZMARZ, /* classic normalised projection, relaxation `relax` */
	/* SVRG (Johnson & Zhang 2013) with the same weighted sampling: a full
	 * gradient at a snapshot every epoch, variance-reduced steps between;
	 * converges to the optimum at a constant step.  Smooth losses (LS,
	 * LOGISTIC) and floating-point models only. */
	FERAL_METHOD_SVRG,
	/* HALP (De Sa et al., "High-accuracy low-precision training", 2018):
	 * SVRG whose fixed point model (I8 or I16) holds the offset from the
	 * snapshot, on a grid rescaled every epoch from the full gradient norm,
	 * so a low precision model converges to the optimum.  Smooth losses and
	 * fixed point models only. */
	FERAL_METHOD_HALP,
	/* Trust-region Newton with preconditioned conjugate gradient (Lin, Weng
	 * & Keerthi 2008; liblinear's TRON): a gradient pass per iteration and
	 * a Hessian-vector pass per CG iteration, rows split among the threads,
	 * deterministic for a given thread count.  Smooth losses only; a double
	 * model (F64 or F32 model_precision); any data precision.  epochs
	 * counts passes over the data; step, sampling, replicas, the hot set,
	 * delay, averaging and bind do not apply.  docs/math.md section 7. */
	FERAL_METHOD_NEWTON,
	FERAL_METHOD_COUNT
};
/* The method's name ("sgd", "kaczmarz", "svrg", "halp", "newton"; "unknown" out of range),
 * and back (USAGE for an unknown name): front ends list the methods from
 * this table, so a new method needs only its entry there. */
FERAL_API const char *feral_method_name(enum feral_method m);
FERAL_API enum feral_status feral_method_from_name(const char *name, enum feral_method *out);
enum feral_bind { FERAL_BIND_COMPACT = 0, FERAL_BIND_SCATTER, FERAL_BIND_NONE, FERAL_BIND_COUNT };
enum feral_replicas {
	FERAL_REPLICAS_MACHINE = 0, /* one shared iterate (Hogwild!) */
	FERAL_REPLICAS_NODE,        /* one per NUMA node */
	FERAL_REPLICAS_CORE,        /* one per worker */
	/* per solve: CORE where rows are dense enough that a shared iterate's
	 * cache lines would move between cores on most updates, else MACHINE
	 * (one worker: MACHINE); feral_result.replicas_mode says which.  On
	 * CSR data, MACHINE comes with the hot set (hot_threshold), the only
	 * mode that has one */
	FERAL_REPLICAS_AUTO,
	FERAL_REPLICAS_COUNT
};
/* The hot set's cap and the auto merge period (feral_config.hot_every = 0). */
#define FERAL_HOT_MAX 4096
#define FERAL_HOT_EVERY_AUTO 64
enum feral_update { FERAL_UPDATE_RACY = 0, FERAL_UPDATE_ATOMIC, FERAL_UPDATE_COUNT };
enum feral_rounding {
	FERAL_ROUNDING_INDEPENDENT = 0, /* one uniform per element */
	FERAL_ROUNDING_SHARED,          /* removed: rejected by validation (slower than
	                                 * INDEPENDENT on every kernel measured; the value
	                                 * stays so NEAREST keeps its number) */
	FERAL_ROUNDING_NEAREST,         /* deterministic baseline (biased) */
	FERAL_ROUNDING_COUNT
};

struct feral_trace_point;

/* Fill with feral_config_init, which sets struct_size and the defaults;
 * feral_config_validate (and so feral_solve) rejects another size with
 * USAGE: a program built against a different feral.h. */
struct feral_config {
	size_t struct_size;      /* sizeof(struct feral_config), set by init */
	enum feral_loss loss;
	double l2;               /* eta >= 0 */
	enum feral_method method;
	double relax;            /* KACZMARZ relaxation, (0, 2) */
	double lambda;           /* sampling mix: p_i = lambda/n + (1-lambda) L_i / sum L */
	int step_auto;           /* 1: Corollary 2.2 step from tol (default) */
	double step;             /* relative step: gamma = step / Lbar (SGD) */
	double step_decay;       /* gamma_k = gamma / (1 + decay * k / n); 0 = constant */
	/* target: ||x-x*||^2/||x*||^2 <= tol when x* is known, else the
	 * certified ||grad F(x)|| <= tol ||grad F(0)|| (LS, LOGISTIC; HINGE
	 * has no certificate and runs its budget; the reference is at 0 also
	 * from a warm start x0, as liblinear's); 0 = run the budget */
	double tol;
	double mu;               /* strong convexity estimate; <= 0: estimate */
	double epochs;           /* budget in passes of n updates; 0 = none */
	double seconds;          /* wall budget; 0 = none */
	uint64_t max_updates;    /* 0 = none */
	double diverge;          /* stop when ||x|| exceeds this times the start scale */
	uint64_t seed;
	int threads;             /* 0 = every PU */
	enum feral_bind bind;
	enum feral_replicas replicas;
	uint64_t average_every;  /* replica averaging period in updates per worker; 0 = end */
	/* Hot coordinates (replicas AUTO resolved to the shared model, CSR data,
	 * no bit centring): the columns a draw touches with probability
	 * P_j >= hot_threshold (at most FERAL_HOT_MAX of the most probable)
	 * are updated in a private copy per worker, whose change is added
	 * into their shared values every hot_every own updates (those with
	 * P_j >= 2/hot_every; the others every 16 hot_every), so their cache
	 * lines stop moving between cores on every update.  Auto threshold:
	 * 2/(16 hot_every).
	 * hot_threshold: 0 = auto (several workers only), < 0 = none, in (0, 1]:
	 * that threshold, applied with one worker too.  hot_every: merge
	 * period in updates per worker, 0 = auto (FERAL_HOT_EVERY_AUTO). */
	double hot_threshold;
	uint64_t hot_every;
	uint64_t trace_every;    /* updates between trace points; 0 = once per epoch */
	enum feral_update update;
	enum feral_precision model_precision; /* F64, F32, I16, I8 */
	double model_scale;      /* fixed point model scale; <= 0: auto */
	enum feral_rounding rounding;
	/* 1: return the average (in f64) of snapshots of the iterate taken 8
	 * times an epoch over the second half of the budget (Polyak-Ruppert
	 * tail averaging); it removes most of the rounding noise of a low
	 * precision model.  0: return the last iterate. */
	int average_iterates;
	/* Fixed point models only.  1: bit centring (De Sa et al., HALP): the
	 * shared fixed point iterate holds the offset from a full precision
	 * centre, read-only between re-centrings.  Every recenter_every updates
	 * per worker (0: auto, 16 times an epoch) the workers meet, fold the
	 * offset into the centre, zero it, and rescale it so the largest offset
	 * of the round would fill 1/1.25 of the range (factor in [1/8, 2]), so
	 * the fixed point grid shrinks as the iterate settles.  A dot product
	 * is a.centre + s a.offset (one more dot, data x f32); updates write
	 * only the fixed point offset. */
	int recenter;
	uint64_t recenter_every;
	/* optional: set non-zero (e.g. from a signal handler) to stop; read by
	 * the monitor at every check */
	volatile sig_atomic_t *stop_flag;
	/* Optional checkpoints: at the first trace point after every
	 * checkpoint_every seconds, checkpoint(arg, x, d, updates) is called from
	 * the monitor thread with a snapshot of the iterate (workers go on).  A
	 * non-zero return is reported in the result's warning, not fatal. */
	double checkpoint_every;
	int (*checkpoint)(void *arg, const double *x, uint64_t d, uint64_t updates);
	void *checkpoint_arg;
	/* Optional: called from the monitor thread at every trace point, with
	 * the fraction of the budget spent (0..1, by updates or by time). */
	void (*progress)(void *arg, const struct feral_trace_point *pt, double fraction);
	void *progress_arg;
	/* Delayed writes (a simulation of asynchrony; docs/math.md, "Delayed
	 * updates"): each worker computes an update's coefficient at its read
	 * (the dot product) but applies the write `delay` of its own updates
	 * later, through a FIFO queue flushed at every round end and at the
	 * end.  0 (default): write at once.  At most FERAL_DELAY_MAX.  One
	 * worker with a fixed seed stays bit-for-bit reproducible. */
	uint32_t delay;
	/* Optional output: FERAL_STALENESS_BUCKETS counts, the histogram of the
	 * sampled updates' staleness (feral_result.staleness_mean), zeroed by
	 * feral_solve once the configuration is valid, then filled; bucket k holds the values in
	 * [feral_staleness_bucket_lo(k), feral_staleness_bucket_lo(k + 1)).
	 * NULL: none. */
	uint64_t *staleness_hist;
};

/* The largest feral_config.delay. */
#define FERAL_DELAY_MAX 65536u
/* Staleness histogram buckets: 0, 1, 2, 3, then [2^j, 2^(j+1)) for j = 2..19,
 * then >= 2^20. */
#define FERAL_STALENESS_BUCKETS 23
/* The smallest staleness of bucket k in [0, FERAL_STALENESS_BUCKETS);
 * UINT64_MAX for k = FERAL_STALENESS_BUCKETS (the last bucket's open end)
 * and any other k. */
FERAL_API uint64_t feral_staleness_bucket_lo(int k);
FERAL_API void feral_config_init(struct feral_config *c);
/* The method `feral solve`, `feral train` and the Python solve() run when
 * none is given (docs/math.md section 7, "The default"), for cfg's loss,
 * model precision and recenter on ds (NULL: its shape is not known yet):
 *  - HINGE: SGD (the other methods need a smooth loss);
 *  - a fixed point model (8/16 bits): HALP, or SGD with recenter;
 *  - a float model: NEWTON, or SVRG when `stochastic` is nonzero (the
 *    caller was given an option only a stochastic method reads: a step,
 *    the sampling, replicas, the hot set, a delay, averaging, the trace
 *    spacing; so that it is not silently ignored) or on tall dense data
 *    (dense rows, n >= FERAL_SVRG_TALL d), where a few SVRG epochs reach
 *    the tolerance.
 * The budgets that go with a default method when none is given:
 * FERAL_NEWTON_PASSES passes of NEWTON, FERAL_VR_EPOCHS epochs of SVRG and
 * HALP. */
#define FERAL_SVRG_TALL 128
#define FERAL_NEWTON_PASSES 1000
#define FERAL_VR_EPOCHS 100
FERAL_API enum feral_method feral_default_method(const struct feral_dataset *ds,
                                                 const struct feral_config *cfg, int stochastic);

/* Validate every field before any allocation.  USAGE with a message naming
 * the field (e.g. "step = -1: must be a finite number > 0") on failure. */
FERAL_API enum feral_status feral_config_validate(const struct feral_config *c,
                                                  struct feral_error *err);

/* One trace point, taken while workers run. */
struct feral_trace_point {
	uint64_t updates;
	double seconds;        /* solver time, monitor time excluded */
	double objective;      /* F(x) */
	double rel_residual;   /* ||Ax-b||/||b|| (LS) or error rate (classification) */
	double rel_error;      /* ||x-x*||^2/||x*||^2, NaN when x* unknown */
};
struct feral_trace {
	size_t len, cap;
	struct feral_trace_point *pts;
};
FERAL_API void feral_trace_free(struct feral_trace *t);

struct feral_result {
	uint64_t updates;
	double seconds;          /* wall time of the solve, monitor excluded */
	double monitor_seconds;  /* time spent evaluating trace points */
	double updates_per_s;
	double objective;
	double rel_residual;
	double rel_error;        /* NaN when x* unknown */
	double step;             /* the relative step used */
	double mu;               /* mu used by the auto step */
	int converged;           /* tol reached (certified: see feral_config.tol) */
	int threads;
	uint64_t saturations;    /* fixed point writes that saturated */
	uint64_t writes;         /* fixed point writes */
	double avg_seconds;      /* time spent averaging replicas */
	uint64_t averaged;       /* iterates in the tail average (0: last iterate) */
	const char *kernel;      /* name of the kernel set used */
	int oversubscribed;      /* more workers than processing units */
	int shards;              /* row shards (one per NUMA node with workers) */
	int replicas;            /* models written by the workers */
	enum feral_replicas replicas_mode; /* the mode used (AUTO resolved) */
	int bind_failures;       /* workers whose pinning failed (they ran unpinned) */
	double model_scale;      /* fixed point model scale (1 for float models) */
	char warning[256];       /* first warning of the run (binding, saturation), or "" */
	/* ||grad F(x)|| / ||grad F(0)|| at the returned x (full gradient, in
	 * double); NaN when tol is 0 or the loss is not smooth (HINGE). */
	double grad_norm_rel;
	double grad_seconds;     /* time spent in full gradient passes (stop rule, SVRG) */
	/* hot coordinates (feral_config.hot_threshold): their count, and
	 * their share of the nonzeros under the sampling distribution
	 * (sum_j hot P_j / sum_j P_j, the share of the expected nonzeros an
	 * update reads); 0 and 0 without a hot set */
	uint64_t hot_coords;
	double hot_nnz_share;
	/* Asynchrony, measured on a sample of the updates (1 in 256 of each
	 * worker's; docs/design.md): an
	 * update's staleness is the number of updates (all workers, its own
	 * included) that landed between the start of its read of the model
	 * and the end of its write.  One worker without delay: 0; with delay
	 * D: D.  With hot coordinates the hot part reads at the worker's last
	 * merge and lands at its next one (docs/design.md).  NaN mean: no
	 * sample. */
	double staleness_mean;
	uint32_t staleness_p99, staleness_max;
	/* The share of sampled updates whose support overlapped the update in
	 * flight on another worker when the sampled one began (one worker: 0;
	 * NaN: no sample); with hot coordinates, on the cold columns only. */
	double conflict_rate;
	/* CPU seconds the workers spent in the solve (summed over workers,
	 * their own clocks: time descheduled does not count), the monitor's
	 * evaluations excluded as in `seconds`; updates / cpu_seconds is the
	 * rate a shared machine does not distort.  0 where the method does
	 * not measure it (newton, lsqr). */
	double cpu_seconds;
};

/* Minimise F(x) = (1/n) sum_i f_i(x) on ds.  x (length ds->d) holds x0 on
 * entry and the solution on return.  x_star (may be NULL) enables rel_error.
 * trace (may be NULL) receives trace points.  Returns OK (also when a
 * budget ran out before tol: see res->converged), USAGE, NOMEM, DIVERGED
 * (x keeps the last good iterate) or INTERRUPTED (x holds the current one). */
FERAL_API enum feral_status feral_solve(const struct feral_dataset *ds,
                                        const struct feral_config *cfg,
                                        const double *x_star, double *x,
                                        struct feral_result *res, struct feral_trace *trace,
                                        struct feral_error *err);

/* Reference least-squares solution x = argmin ||Ax - y|| by LAPACK's dgels
 * (QR) on a dense double copy of A.  UNSUPPORTED without LAPACK or when
 * n*d exceeds max_elems (0: 2^28); NOMEM; RANGE when A is rank deficient. */
FERAL_API enum feral_status feral_lstsq(const struct feral_dataset *ds, double *x,
                                        uint64_t max_elems, struct feral_error *err);

/* Objective and metrics of an iterate (double precision, serial). */
FERAL_API double feral_objective(const struct feral_dataset *ds, const struct feral_config *cfg,
                                 const double *x);
/* Fraction of rows with sign(a.x) == y (classification). */
FERAL_API double feral_accuracy(const struct feral_dataset *ds, const double *x);
/* ||Ax - y|| / ||y|| */
FERAL_API double feral_rel_residual(const struct feral_dataset *ds, const double *x);

/* Name of the kernel set chosen at run time ("avx512", "avx2" or "ref").
 * FERAL_KERNEL=name in the environment forces one; an unsupported name makes
 * feral_kernels_select fail with UNSUPPORTED. */
FERAL_API enum feral_status feral_kernels_select(const char **name, struct feral_error *err);

#ifdef __cplusplus
}
#endif
#endif /* FERAL_H */
