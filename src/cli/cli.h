/* Helpers shared by the feral and bench front ends: option values, solver
 * options, error reporting, JSON output. */
#ifndef FERAL_CLI_H
#define FERAL_CLI_H
#include "feral.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes of the front ends: 0 ok; 2 bad usage or bad input (usage,
 * parse, range, corrupt, unsupported); 130 interrupted; 1 anything else
 * (I/O, memory, divergence, internal).  Signals: 128 + the signal. */
int cli_exit_code(enum feral_status st);
/* Print "prog: <formatted error>" to stderr; returns cli_exit_code(st). */
int cli_report(const char *prog, enum feral_status st, const struct feral_error *err);
/* Print "prog: message" to stderr and return 2 (usage). */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing: the whole string must be a finite number in range. */
bool cli_parse_double(const char *s, double *out);
bool cli_parse_u64(const char *s, uint64_t *out);
bool cli_parse_int(const char *s, int lo, int hi, int *out);
/* A count in a file (model, checkpoint): decimal digits only, at most
 * 2^64 - 1.  No sign ("-1" is not wrapped to 2^64 - 1 as strtoull does), no
 * blanks, no exponent. */
bool cli_parse_count(const char *s, uint64_t *out);

/* Options common to every solver front end (solve, train, bench,
 * feral-mpi).  The long options are listed in CLI_SOLVER_OPTIONS with values
 * >= 1000; a command numbers its own options from OPT_SOLVER_LAST + 1. */
enum {
	OPT_LOSS = 1000, OPT_L2, OPT_METHOD, OPT_RELAX, OPT_SAMPLING, OPT_LAMBDA, OPT_STEP,
	OPT_STEP_DECAY, OPT_TOL, OPT_MU, OPT_EPOCHS, OPT_SECONDS, OPT_UPDATES, OPT_SEED,
	OPT_THREADS, OPT_BIND, OPT_REPLICAS, OPT_AVERAGE_EVERY, OPT_TRACE_EVERY, OPT_UPDATE,
	OPT_PRECISION, OPT_DATA_PRECISION, OPT_MODEL_PRECISION, OPT_MODEL_SCALE, OPT_ROUNDING,
	OPT_AVERAGE_ITERATES, OPT_RECENTER, OPT_RECENTER_EVERY, OPT_DELAY, OPT_HOT_THRESHOLD,
	OPT_HOT_EVERY,
	OPT_SOLVER_LAST
};
#define CLI_SOLVER_OPTIONS                                                                    \
	{"loss", required_argument, 0, OPT_LOSS}, {"l2", required_argument, 0, OPT_L2},        \
	{"method", required_argument, 0, OPT_METHOD},                                         \
	{"relax", required_argument, 0, OPT_RELAX},                                           \
	{"sampling", required_argument, 0, OPT_SAMPLING},                                     \
	{"lambda", required_argument, 0, OPT_LAMBDA}, {"step", required_argument, 0, OPT_STEP}, \
	{"step-decay", required_argument, 0, OPT_STEP_DECAY},                                 \
	{"tol", required_argument, 0, OPT_TOL}, {"mu", required_argument, 0, OPT_MU},          \
	{"epochs", required_argument, 0, OPT_EPOCHS},                                         \
	{"seconds", required_argument, 0, OPT_SECONDS},                                       \
	{"updates", required_argument, 0, OPT_UPDATES},                                       \
	{"seed", required_argument, 0, OPT_SEED},                                             \
	{"threads", required_argument, 0, OPT_THREADS},                                       \
	{"bind", required_argument, 0, OPT_BIND},                                             \
	{"replicas", required_argument, 0, OPT_REPLICAS},                                     \
	{"average-every", required_argument, 0, OPT_AVERAGE_EVERY},                           \
	{"trace-every", required_argument, 0, OPT_TRACE_EVERY},                               \
	{"update", required_argument, 0, OPT_UPDATE},                                         \
	{"precision", required_argument, 0, OPT_PRECISION},                                   \
	{"data-precision", required_argument, 0, OPT_DATA_PRECISION},                         \
	{"model-precision", required_argument, 0, OPT_MODEL_PRECISION},                       \
	{"model-scale", required_argument, 0, OPT_MODEL_SCALE},                               \
	{"rounding", required_argument, 0, OPT_ROUNDING},                                     \
	{"average-iterates", no_argument, 0, OPT_AVERAGE_ITERATES},                           \
	{"recenter", no_argument, 0, OPT_RECENTER},                                           \
	{"recenter-every", required_argument, 0, OPT_RECENTER_EVERY},                         \
	{"delay", required_argument, 0, OPT_DELAY},                                          \
	{"hot-threshold", required_argument, 0, OPT_HOT_THRESHOLD},                           \
	{"hot-every", required_argument, 0, OPT_HOT_EVERY}

/* What the solver options set beyond struct feral_config. */
struct cli_solver {
	struct feral_config cfg;
	enum feral_precision data_precision;
	int sampling_set;  /* --sampling given */
	int lambda_set;    /* --lambda given */
	int threads_set;
	int method_set;    /* --method given */
	int budget_set;    /* --epochs, --seconds or --updates given */
	/* solve, train: no --method -> SVRG (float model) or HALP (fixed point
	 * model without --recenter) for the smooth losses, with at most 100
	 * epochs unless a budget is given (cli_solver_finish) */
	int auto_method;
	/* set by cli_solver_finish when no --method chose newton: cli_pick_method
	 * may still turn it into svrg once the data's shape is known */
	int method_default;
	/* solve, train: the constant feature appended to every row (--bias;
	 * 0: none); the data's d then counts it */
	double bias;
	/* the solve's staleness histogram (cli_solve points cfg at it) */
	uint64_t staleness_hist[FERAL_STALENESS_BUCKETS];
};
void cli_solver_init(struct cli_solver *s);
/* Start-up: keep hwloc from loading the plugins feral never uses (I/O
 * devices, GL, OpenCL, XML import), unless HWLOC_PLUGINS_BLACKLIST is set.
 * Programs (feral, bench, feral-mpi) call it first in main, before any hwloc
 * call; the library never changes the environment. */
void cli_lean_hwloc(void);
/* The default method once the data is loaded (s->method_default only):
 * feral_default_method's choice on ds (SVRG for tall dense data, else
 * Newton-CG; docs/math.md section 7, "The default").  Then, for solve and train
 * without --threads, the thread count: every physical core
 * (feral_default_threads), or 1 for a Newton solve too small to split.
 * 1 when the method switched. */
int cli_pick_method(struct cli_solver *s, const struct feral_dataset *ds);
/* Handle one getopt_long result; returns 1 when handled, 0 when not a solver
 * option, and -1 after printing an error (exit 2). */
int cli_solver_option(const char *prog, struct cli_solver *s, int opt, const char *arg);
/* Cross-option checks after parsing (conflicts), then the library's
 * validation, whose messages name config fields: those are shown under
 * their option names.  -1 after printing an error. */
int cli_solver_finish(const char *prog, struct cli_solver *s);
/* A library message that names struct feral_config fields ("step_decay -1:
 * must be >= 0") with the fields shown as options ("--step-decay -1: ..."):
 * the first word, words before '=' and words with an underscore.  Returns
 * buf. */
const char *cli_config_message(const char *msg, char *buf, size_t len);
extern const char *const CLI_SOLVER_HELP;

/* A method name of the library's table (feral_method_name) into *out; 1,
 * or -1 after printing "prog: --opt arg: expected one of ..." (the list
 * from the table). */
int cli_method_arg(const char *prog, const char *opt, const char *arg, enum feral_method *out);
const char *cli_loss_name(enum feral_loss l);
const char *cli_replicas_name(enum feral_replicas r);
const char *cli_rounding_name(enum feral_rounding r);
const char *cli_bind_name(enum feral_bind b);
/* "D8M8G32", or "D8M8G32+centre" with bit centring */
void cli_dmg(enum feral_precision data, enum feral_precision model, int recenter, char *buf,
             size_t len);

/* Minimal JSON object writer: one flat object on one line. */
struct cli_json {
	FILE *f;
	int n;
};
void cli_json_begin(struct cli_json *j, FILE *f);
void cli_json_num(struct cli_json *j, const char *key, double v); /* NaN/Inf -> null */
void cli_json_u64(struct cli_json *j, const char *key, uint64_t v);
void cli_json_str(struct cli_json *j, const char *key, const char *v);
void cli_json_bool(struct cli_json *j, const char *key, int v);
void cli_json_raw(struct cli_json *j, const char *key, const char *raw);
void cli_json_end(struct cli_json *j);

/* The staleness histogram as a JSON array of FERAL_STALENESS_BUCKETS counts. */
void cli_json_hist(struct cli_json *j, const char *key, const uint64_t *hist);

/* Peak resident set size in bytes (getrusage). */
uint64_t cli_peak_rss(void);
#endif
