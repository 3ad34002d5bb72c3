/* The model file format of `feral train` / `feral predict` (and feral-mpi):
 * its writer and its reader, in model.c.  Text, one value a line:
 *   version 1 (binary, k == 1): "feral-model 1", "loss L", "d D",
 *             "labels NEG POS", "positive LIST|-", "weights", D weights;
 *   version 2 (one-vs-rest, k > 1): "feral-model 2", "loss L", "d D",
 *             "classes K", "labels L_0 ... L_{K-1}", "weights", K blocks of
 *             D weights (class-major).
 * Both versions may have a line "bias B" (B > 0) just before "weights":
 * the model was trained with the constant feature B appended (train
 * --bias), and each class block holds D + 1 weights, the last one that
 * feature's (the intercept is B times it).  Files without it (written before
 * the option, or with --no-bias) have D weights a class.
 * Weight j is on line j + 7 in both versions, j + 8 with the bias line. */
#ifndef FERAL_CLI_MODEL_H
#define FERAL_CLI_MODEL_H
#include "feral.h"

#define CLI_MODEL_MAX_CLASSES 65536

/* A model to write. */
struct cli_model_out {
	enum feral_loss loss;
	uint64_t d, k;
	const double *w;      /* k * (d + (bias > 0)), class-major */
	double neg, pos;      /* version 1 */
	const char *positive; /* version 1: --positive list or NULL */
	const double *labels; /* version 2: k labels */
	double bias;          /* > 0: w holds k * (d + 1) weights, the last of a class
	                       * that of the constant feature bias; 0: none */
};
/* Written atomically through the library's writer (temp file, rename; no
 * fsync: see io_impl.h).  FERAL_OK, or IO with err naming the path. */
enum feral_status cli_model_write(const char *path, const struct cli_model_out *m,
                                  struct feral_error *err);
/* cli_model_write, reporting a failure as "prog: path: reason"; returns the
 * exit code (0 or 1). */
int cli_model_save(const char *prog, const char *path, const struct cli_model_out *m);

/* A model as read back: version 1 (k = 1, neg/pos/positive) or version 2
 * (k classes with their labels). */
struct cli_model {
	int version;
	uint64_t d, k;
	double *w;      /* k * (d + (bias > 0)), class-major */
	double *labels; /* version 2: k labels; NULL in version 1 */
	double neg, pos;
	char positive[256]; /* version 1: the --positive list, or "-" */
	double bias;        /* > 0: k blocks of d + 1 weights (see cli_model_out) */
};
/* FERAL_OK, or IO (cannot open) / PARSE (bad header, bad or missing weight
 * at file:line) / NOMEM with err set; on failure *m holds nothing to free.
 * D and K must be decimal digits within [0, 2^64 - 1] ("-1" is refused at
 * its line, not wrapped). */
enum feral_status cli_model_read(const char *path, struct cli_model *m, struct feral_error *err);
void cli_model_free(struct cli_model *m);
#endif
