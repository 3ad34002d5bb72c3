/* Checkpoints of `feral solve` / `feral train` (checkpoint.c).  A checkpoint
 * is text: "feral-checkpoint 1", "updates N", "d D", then D weights, one a
 * line (weight j on line j + 4).  Written from the solver's monitor thread
 * through the library's atomic writer, so a reader (or --resume after a
 * kill) sees the previous checkpoint or the new one, never half of one. */
#ifndef FERAL_CLI_CHECKPOINT_H
#define FERAL_CLI_CHECKPOINT_H
#include "feral.h"

#include <stddef.h>

/* What the checkpoint options of a command asked for. */
struct cli_ckpt {
	const char *path;   /* --checkpoint F (NULL: <output>.ckpt or feral.ckpt) */
	const char *every;  /* --checkpoint-every S */
	const char *resume; /* --resume F */
	uint64_t base;      /* updates done before this run (from --resume) */
	char pathbuf[4200];
};

#define CLI_CKPT_HELP                                                                     \
	"  --checkpoint-every S   write a checkpoint every S seconds (to --checkpoint F,\n" \
	"                         default <output>.ckpt or feral.ckpt)\n"                   \
	"  --resume F             start from checkpoint F; the budget counts its updates\n"

/* FERAL_OK, or IO with err naming the path. */
enum feral_status cli_ckpt_write(const char *path, const double *x, uint64_t d,
                                 uint64_t updates, struct feral_error *err);
/* Reads a checkpoint for a model of d weights into x (length d) and its
 * update count into *updates.  IO (cannot open), PARSE (bad header, another
 * dimension, bad or missing weight at file:line).  N and D must be decimal
 * digits within [0, 2^64 - 1]: "-1" is refused at its line, not wrapped. */
enum feral_status cli_ckpt_read(const char *path, uint64_t d, double *x, uint64_t *updates,
                                struct feral_error *err);
/* The options into cfg: the checkpoint callback (out names the default
 * path), and with --resume the iterate x (length d), the remaining budget
 * and a fresh seed.  n: rows of the data.  0, or an exit code after
 * printing why. */
int cli_ckpt_setup(const char *prog, struct cli_ckpt *k, struct feral_config *cfg,
                   const char *out, uint64_t n, uint64_t d, double *x);
#endif
