/* bench: declarations shared by the bench modules.
 *
 * Modules (each uses only those listed before it, never the other way):
 *   stream.c, peer_kaczmarz.c  plain C on plain arrays, no feral code: they
 *                              measure the machine and the textbook method
 *   machine.c    host, CPU, cores, caches, memory; the cached bandwidth probe
 *   records.c    one list of fields per record, written as JSON, CSV and table
 *   problem.c    the problem: generated and cached, or loaded; x*; quantized copies
 *   point.c      one point of the sweep (calibration, runs, record) and the sweep
 *                over methods, precisions, threads and replica modes
 *   peers.c      the peers (LAPACK, serial Kaczmarz, scripts/peer-*)
 *   main.c       options and the order of the phases */
#ifndef FERAL_BENCH_H
#define FERAL_BENCH_H

#include "cli/cli.h"
#include "feral.h"
#include "trace.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef FERAL_GIT_REV
#define FERAL_GIT_REV "unknown"
#endif

#define BENCH_PROG "bench"
#define MAX_LIST 64
#define BENCH_TRACE_POINTS 40        /* trace points aimed at per run (>= 30 wanted) */
#define BENCH_DEFAULT_SECONDS 2.0    /* solver seconds per point */
#define BENCH_DEFAULT_D 256
#define BENCH_DEFAULT_TARGET 1e-4    /* relative ||x-x*||^2 */
#define BENCH_DEFAULT_STEP 0.5       /* relative step (units of 1/Lbar): a visible horizon */
#define BENCH_CLASSIF_L2 1e-4
#define BENCH_DGELS_MAX_XSTAR 5e7    /* n*d doubles: LAPACK x* for noisy systems */
#define BENCH_DGELS_MAX_PEER 1.5e8   /* n*d doubles: the LAPACK peer (1.2 GB) */
#define BENCH_CALIB_SECONDS 0.3      /* throughput calibration (and warm-up) per point */

/* ---- stream.c: STREAM-like bandwidth probe ----------------------------------
 * Three arrays of doubles of `array_bytes` each, first-touched in parallel
 * with the same thread count and static schedule as the timed loops.  Best
 * of `reps` (at least one, more while the time since the start of the call
 * is below `max_seconds`):
 *   read:  s += a[i] + b[i] + c[i]     24 bytes per i   (the solver's rows are read-only)
 *   triad: a[i] = b[i] + q * c[i]       24 bytes per i   (STREAM's counting, no write-allocate) */
struct bench_stream {
	int threads;
	double read_bytes_per_s;
	double triad_bytes_per_s;
	uint64_t array_bytes; /* bytes of each of the three arrays */
	double seconds;       /* wall time of the whole probe (every size tried) */
	int cached;           /* read from the probe cache, not measured in this run */
	int sizes;            /* sizes tried on the bandwidth-versus-size curve */
	int flat;             /* the curve flattened (else the time or memory cap stopped it) */
};
/* One size.  Returns 0, or -1 when the arrays cannot be allocated. */
int bench_stream_measure(int threads, uint64_t array_bytes, int reps, double max_seconds,
                         struct bench_stream *out);

/* ---- peer_kaczmarz.c: textbook serial randomized Kaczmarz ------------------
 * x <- x + (b_i - <a_i, x>) / ||a_i||^2 a_i with i uniform (Strohmer-Vershynin
 * with uniform rows; on a consistent system it converges to x*).  Dense rows
 * (A row-major n x d floats) or CSR (indptr/indices/values floats).  Runs
 * max_updates updates, checking ||x - x*||^2/||x*||^2 every check_every
 * updates (O(d), included in the time); row norms are computed before the
 * clock starts. */
struct bench_kaczmarz {
	uint64_t updates;
	double seconds;        /* wall time of the updates */
	double time_to_target; /* first check at or below target; NaN when never */
	double rel_error;      /* at the end */
};
int bench_kaczmarz_run(uint64_t n, uint64_t d, const float *dense, const uint64_t *indptr,
                       const uint32_t *indices, const float *values, const double *b,
                       const double *x_star, double target, uint64_t max_updates,
                       double max_seconds, uint64_t seed, struct bench_kaczmarz *out);

/* ---- options (main.c) ------------------------------------------------------ */
enum problem { PROB_LS = 0, PROB_LOGISTIC, PROB_SVM, PROB_FILE };

struct opts {
	enum problem problem;
	const char *path; /* PROB_FILE */
	const char *b_path, *xstar_path;
	uint64_t n, d, data_seed;
	double density, cond, noise;
	int threads[MAX_LIST], nthreads;
	int prec[MAX_LIST], nprec;
	int repl[4], nrepl;
	enum feral_method methods[MAX_LIST]; /* --method LIST (default sgd) */
	int nmethods;
	int delay[MAX_LIST], ndelay; /* feral_config.delay of each point */
	int model_override; /* --model-precision given */
	enum feral_precision model_prec;
	int loss_set, l2_set;
	int repeat;
	double target;
	const char *out, *trace_out, *cache_dir;
	int json, peers;
	int probe;   /* 0: no bandwidth probe (--no-probe, FERAL_BENCH_PROBE=0) */
	int dry_run; /* --dry-run: print the plan (problem size, threads) and stop */
	volatile sig_atomic_t *stop; /* set from a signal handler: every phase stops */
	struct cli_solver s;
};

/* ---- machine.c ------------------------------------------------------------- */
struct machine {
	char host[256];
	char cpu[256];
	long nproc;      /* online processing units */
	int cores;       /* physical cores (hwloc through the library's topology) */
	uint64_t llc;    /* last-level cache as reported (hwloc, else sysfs) */
	uint64_t mem_available;
};
double now_s(void);
void machine_info(struct machine *m);
/* mkdir -p; 0 or -1 (errno set). */
int make_dirs(const char *dir);
/* Best effort: reset the peak RSS so that each point reports its own peak. */
int reset_peak_rss(void);
/* The bandwidth with `threads` threads: from the probe cache in `cache_dir`
 * (keyed by host, CPU model and thread count) when there, else measured
 * (for about `budget` seconds) and cached.  0, or -1 with NaN bandwidths. */
#define BENCH_PROBE_SECONDS 2.0 /* all the probes of a run together */
int bench_probe(const struct machine *m, const char *cache_dir, int threads, double budget,
                struct bench_stream *out);
/* 1 when bench_probe would read the cache for this thread count. */
int bench_probe_cached(const struct machine *m, const char *cache_dir, int threads);

/* ---- records.c ------------------------------------------------------------- */
/* F_ARR: counts, space-separated in s (CSV), a JSON array in JSON */
enum ftype { F_STR, F_NUM, F_U64, F_BOOL, F_ARR };
struct field {
	const char *key;
	enum ftype t;
	double v;
	uint64_t u;
	char s[384];
};
struct record {
	struct field f[96];
	int n;
};
void r_str(struct record *r, const char *k, const char *v);
void r_num(struct record *r, const char *k, double v);
void r_u64(struct record *r, const char *k, uint64_t v);
void r_bool(struct record *r, const char *k, int v);
void r_arr(struct record *r, const char *k, const uint64_t *v, int n);
/* The field named k; NULL when the record has none. */
struct field *r_field(struct record *r, const char *k);
const struct field *r_get(const struct record *r, const char *k);
void record_json(const struct record *r, FILE *f);
void csv_header(const struct record *r, char *buf, size_t len);
void csv_row(const struct record *r, char *buf, size_t len);
/* Append one CSV row (header written when the file is empty, checked
 * otherwise).  0, 2 (header mismatch) or 1 (I/O). */
int csv_append(const char *path, const char *header, const char *row);
int jsonl_append(const char *path, const struct record *r);
/* The record as a CSV row of `path` (and a JSON line of jsonl when given). */
int record_append(const struct record *r, const char *path, const char *jsonl);
/* FILE.csv -> FILE<suffix>.<ext> */
void sibling(const char *path, const char *suffix, const char *ext, char *out, size_t len);
void fmt_num(char *b, size_t len, double v, const char *f);
void table_header(FILE *f);
void table_row(FILE *f, const struct record *r);
double median(const double *v, int n);
double vmin(const double *v, int n);
double vmax(const double *v, int n);

/* ---- problem.c ------------------------------------------------------------- */
enum xstar_kind { XS_NONE = 0, XS_EXACT, XS_LAPACK, XS_PLANTED, XS_FILE };

struct problem_data {
	struct feral_dataset *ds; /* F32 (or as loaded) */
	double *x_star;
	enum xstar_kind xs;
	char name[64];
	char cache_path[4096];
	int cached; /* loaded from the cache */
	double gen_seconds;
	double dgels_seconds; /* when x* came from LAPACK: its time */
};

/* The size of a synthetic problem (see problem.c for the default rule). */
struct problem_plan {
	uint64_t n, d;
	int sized;           /* 1: the default rule chose n (no --n) */
	uint64_t f32_bytes;  /* the f32 copy */
	uint64_t want_bytes; /* lowest precision copy the rule aims at: 4 x LLC */
	uint64_t cap_bytes;  /* the cap on f32_bytes (time and memory) */
	const char *limit;   /* what set n: "llc", "time", "memory", "given" or "file" */
};
void problem_plan(const struct opts *o, const struct machine *m, struct problem_plan *p);
const char *xstar_name(enum xstar_kind k);
int build_problem(const struct opts *o, const struct machine *m, struct problem_data *pd);
void problem_free(struct problem_data *pd);
/* The data at `bits`: pd->ds itself, or a quantized copy (cached beside a
 * generated problem) in *q.  On failure *q stays NULL and msg says why
 * ("unsupported: ..." when it cannot be made). */
const struct feral_dataset *problem_at_precision(const struct opts *o,
                                                 const struct problem_data *pd, int bits,
                                                 struct feral_dataset **q, char *msg,
                                                 size_t msglen);

/* ---- point.c --------------------------------------------------------------- */
struct run {
	enum feral_status st;
	char msg[512];
	struct feral_result res;
	struct feral_horizon hz;
	double time_to_target;
	double accuracy;
	uint64_t peak_rss;
	size_t trace_len;
	uint64_t staleness_hist[FERAL_STALENESS_BUCKETS];
};

struct point {
	enum feral_method method;
	int threads;
	uint32_t delay;
	enum feral_replicas replicas;
	int bits;
	enum feral_precision data_prec, model_prec;
	struct run runs[MAX_LIST];
	int nruns;
	const struct bench_stream *stream; /* NULL: no probe */
	struct record rec;
	int failed, unsupported;
};

struct sweep {
	struct point *pts;
	int np;
	int any_failed, out_rc;
};
/* x* handed to the solver (NULL for classification). */
const double *solver_xstar(const struct opts *o, const struct problem_data *pd);
/* Every point of the sweep, in order; each record goes to the table (and
 * --out) as soon as it is measured.  0, or 1 when out of memory. */
int sweep_run(const struct opts *o, const struct machine *m, const struct problem_data *pd,
              const struct bench_stream *streams, int nstreams, FILE *table, FILE *trace_f,
              struct sweep *sw);

/* ---- peers.c --------------------------------------------------------------- */
struct peer_ctx {
	const struct opts *o;
	const struct machine *m;
	const struct problem_data *pd;
	const struct point *ref; /* the feral point compared against */
	struct record recs[8];
	int n;
};
/* The peers against the fastest f32 point of the sweep; their table on
 * `table`, their rows in --out's FILE-peers.csv.  Returns 0 or 1 (I/O). */
int peers_run(const struct opts *o, const struct machine *m, const struct problem_data *pd,
              const struct sweep *sw, FILE *table, struct peer_ctx *pc);

#endif
