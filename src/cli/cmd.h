/* The feral command-line tool: one file per command (solve.c, train.c,
 * predict.c, info.c, convert.c, gen.c), dispatched from main.c, over the
 * shared pieces of run.c (loading, signals, results) and classify.c
 * (labels, one-vs-rest scores).  Nothing here calls back into a command. */
#ifndef FERAL_CLI_CMD_H
#define FERAL_CLI_CMD_H
#include "checkpoint.h"
#include "cli.h"

static const char *const prog = "feral";

/* Commands: argv[0] is the command name; returns the exit code. */
int cmd_solve(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_gen(int argc, char **argv);

/* Each command's option parsing on its own (the CLI fuzz target and the
 * tests call these; the command calls its own first): the options and
 * operand count of argv, checked, into the command's struct.  Returns
 * CLI_PARSED to go on (the operands are argv[optind..argc-1]), else the
 * command's exit code: 0 after --help (printed on stdout), 2 after a usage
 * message on stderr.  Nothing is allocated, nothing exits; the strings point
 * into argv.  Each starts getopt_long with optind = 0, which in glibc
 * restarts it in full: with optind = 1 a second parse in one process would
 * resume the previous argv's half-read option cluster ("-hx") and its
 * permutation state. */
#define CLI_PARSED (-1)
struct solve_opts {
	struct cli_solver s;
	const char *out, *xstar_path, *trace_path, *init;
	int json, reference;
	struct cli_ckpt ck;
};
struct train_opts {
	struct cli_solver s;
	const char *out, *test, *positive, *trace_path, *init;
	int json, ovr;
	struct cli_ckpt ck;
};
struct predict_opts {
	int json;
};
struct info_opts {
	int json;
};
struct convert_opts {
	enum feral_precision prec;
	uint64_t seed;
	const char *targets, *targets_out;
};
struct gen_opts {
	struct feral_gen_options go;
	const char *out, *xstar;
};
int cmd_solve_parse(int argc, char **argv, struct solve_opts *o);
int cmd_train_parse(int argc, char **argv, struct train_opts *o);
int cmd_predict_parse(int argc, char **argv, struct predict_opts *o);
int cmd_info_parse(int argc, char **argv, struct info_opts *o);
int cmd_convert_parse(int argc, char **argv, struct convert_opts *o);
int cmd_gen_parse(int argc, char **argv, struct gen_opts *o);

/* ---- run.c ---------------------------------------------------------------------- */

/* Progress on a terminal, and SIGINT/SIGTERM set cfg's stop flag (the solver
 * stops and the caller writes the current iterate).  Then, if the
 * environment names FERAL_READY_FILE, that file is created: a script (or a
 * test) that waits for it knows a signal from then on is handled. */
void cli_install_signals(struct feral_config *cfg);
/* Exit code after an interrupted solve: 143 for SIGTERM, else 130. */
int cli_signal_exit(void);
/* Load data at the wanted precision (quantized here from float32 data).
 * min_d: at least this many columns.  bias > 0: the constant feature bias
 * is appended as column max(min_d, d) (liblinear's -B), before quantizing:
 * a copy of the data with one more value a row (CSR) or one more column
 * (dense).  Data stored in fixed point gets bias on each row's grid (a row
 * whose largest |value| is below bias moves to the grid bias/M).  0 or an
 * exit code after printing. */
int cli_load_data(const char *path, enum feral_precision prec, uint64_t seed, uint64_t min_d,
                  double bias, struct feral_dataset **out);
/* A vector of exactly `want` entries ("what" names it in the message). */
int cli_load_vector(const char *path, uint64_t want, const char *what, double **out);
/* feral_solve with the CLI's progress line and --trace CSV.  Returns the
 * status; a failure other than divergence or interruption is reported and
 * *fatal set to its exit code (0 otherwise). */
enum feral_status cli_solve(const struct feral_dataset *ds, struct cli_solver *s,
                            const double *xs, double *x, struct feral_result *r,
                            const char *trace_path, struct feral_error *err, int *fatal);
/* Two lines on stderr: shape, speed, threads; objective, residual, error. */
void cli_print_result(const struct feral_dataset *ds, const struct feral_result *r);
/* After a solve that returned OK without reaching cfg->tol: a warning on
 * stderr with what was reached (relative error or gradient norm) and the
 * tolerance asked for. */
void cli_warn_unconverged(const struct feral_config *cfg, const struct feral_result *r);
/* The keys every solver result has in --json (solve, train). */
void cli_json_result(struct cli_json *j, const struct feral_dataset *ds,
                     const struct cli_solver *s, const struct feral_result *r);

/* ---- init.c ---------------------------------------------------------------------- */

/* --bias B: B > 0 the constant feature; B < 0 (liblinear's -1) none, *bias
 * = 0.  0 or exit code 2 after printing. */
int cli_bias_arg(const char *arg, double *bias);
/* --init FILE: the starting weights, k blocks of d + (bias > 0), from a
 * model file (feral train -o: same class count and features; its intercept
 * kept under this run's bias, or 0 when it has none) or a vector (.npy
 * float32/float64, .mtx, text; solve -o writes one) of k (d + 1) or k d
 * entries (bias weights then 0).  0 or an exit code after a message naming
 * the file. */
int cli_load_init(const char *path, uint64_t d, double bias, uint64_t k, double *w);

/* ---- classify.c ------------------------------------------------------------------ */

/* Labels to -1/+1: --positive L1,L2,... lists the labels taken as +1; else two
 * distinct labels map smaller -> -1, larger -> +1.  0 or an exit code. */
int cli_binarize(const char *path, struct feral_dataset *ds, const char *positive,
                 double *neg_label, double *pos_label);
/* Whether y is one of the comma-separated labels of `positive`. */
int cli_label_in(const char *positive, double y);
/* Sorted distinct labels of ds->y into *labels (malloc'd); returns K, and
 * *labels NULL when out of memory. */
uint64_t cli_distinct_labels(const struct feral_dataset *ds, double **labels);
/* Index of the largest score a_i.w_c over k class-major blocks of d (ties:
 * the first). */
uint64_t cli_ovr_argmax(const struct feral_dataset *ds, uint64_t i, const double *w, uint64_t d,
                        uint64_t k);
/* Fraction of rows whose argmax label equals y (labels outside the model's
 * classes count as errors). */
double cli_ovr_accuracy(const struct feral_dataset *ds, const double *y, const double *w,
                        uint64_t d, uint64_t k, const double *labels);
#endif
