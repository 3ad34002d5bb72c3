/* The checkpoint format (checkpoint.h): writer, reader, and the options
 * that turn checkpoints on and resume from one. */
#include "checkpoint.h"
#include "cli.h"
#include "io_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum feral_status cli_ckpt_write(const char *path, const double *x, uint64_t d,
                                 uint64_t updates, struct feral_error *err)
{
	struct feral_wfile w;
	enum feral_status st = feral_wfile_open(&w, path, err);
	if (st)
		return st;
	w.durable = 1; /* a checkpoint is for surviving a crash: fsync before rename */
	fprintf(w.f, "feral-checkpoint 1\nupdates %llu\nd %llu\n", (unsigned long long)updates,
	        (unsigned long long)d);
	for (uint64_t j = 0; j < d; j++)
		fprintf(w.f, "%.17g\n", x[j]);
	return feral_wfile_commit(&w, err);
}

/* Header line `line` (2 or 3): "<key> <count>".  The count is read as a
 * word and parsed strictly: fscanf's %llu would take "-1" as 2^64 - 1. */
static enum feral_status ckpt_count(FILE *f, const char *path, long line, const char *key,
                                    uint64_t *out, struct feral_error *err)
{
	char fmt[24], word[32];
	snprintf(fmt, sizeof fmt, "%s %%31s ", key);
	if (fscanf(f, fmt, word) != 1)
		return feral_fail(err, FERAL_STATUS_PARSE, path, line,
		                  "not a checkpoint for this data (bad header: no '%s' line)", key);
	if (!cli_parse_count(word, out))
		return feral_fail(err, FERAL_STATUS_PARSE, path, line,
		                  "not a checkpoint for this data (bad header: %s '%s' is not a count "
		                  "from 0 to 2^64 - 1)",
		                  key, word);
	return FERAL_OK;
}

enum feral_status cli_ckpt_read(const char *path, uint64_t d, double *x, uint64_t *updates,
                                struct feral_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	uint64_t upd = 0, dd = 0;
	char line[64];
	enum feral_status st = FERAL_OK;
	if (!fgets(line, sizeof line, f) || strcmp(line, "feral-checkpoint 1\n") != 0)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 1,
		                "not a checkpoint for this data (bad header)");
	else if (!(st = ckpt_count(f, path, 2, "updates", &upd, err)) &&
	         !(st = ckpt_count(f, path, 3, "d", &dd, err)) && dd != d)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 3,
		                "not a checkpoint for this data (dimension differs: %llu, not %llu)",
		                (unsigned long long)dd, (unsigned long long)d);
	if (st) {
		fclose(f);
		return st;
	}
	for (uint64_t j = 0; j < d; j++)
		if (fscanf(f, "%lf", &x[j]) != 1 || !isfinite(x[j])) {
			fclose(f);
			return feral_fail(err, FERAL_STATUS_PARSE, path, (long)j + 4,
			                  "bad or missing weight");
		}
	fclose(f);
	*updates = upd;
	return FERAL_OK;
}

/* The solver's checkpoint hook (monitor thread).  Non-zero: the solver
 * notes the failure in its warning and goes on. */
static int write_hook(void *arg, const double *x, uint64_t d, uint64_t updates)
{
	const struct cli_ckpt *k = arg;
	return cli_ckpt_write(k->path, x, d, k->base + updates, NULL) == FERAL_OK ? 0 : -1;
}

int cli_ckpt_setup(const char *prog, struct cli_ckpt *k, struct feral_config *cfg,
                   const char *out, uint64_t n, uint64_t d, double *x)
{
	if (k->every) {
		double s;
		if (!cli_parse_double(k->every, &s) || !(s > 0))
			return cli_usage_error(prog, "--checkpoint-every %s: expected seconds > 0", k->every);
		cfg->checkpoint_every = s;
		if (!k->path) {
			snprintf(k->pathbuf, sizeof k->pathbuf, "%s.ckpt", out ? out : "feral");
			k->path = k->pathbuf;
		}
		cfg->checkpoint = write_hook;
		cfg->checkpoint_arg = k;
		if (!cfg->trace_every || cfg->trace_every > n / 8 + 1)
			cfg->trace_every = n / 8 + 1; /* checkpoints ride on trace points */
	} else if (k->path) {
		return cli_usage_error(prog, "--checkpoint needs --checkpoint-every");
	}
	if (!k->resume)
		return 0;
	struct feral_error err = {0};
	uint64_t upd = 0;
	enum feral_status st = cli_ckpt_read(k->resume, d, x, &upd, &err);
	if (st)
		return cli_report(prog, st, &err);
	/* the budget counts the checkpoint's updates; a fresh RNG stream */
	k->base = upd;
	uint64_t total = cfg->max_updates;
	if (cfg->epochs > 0) {
		uint64_t e = (uint64_t)(cfg->epochs * (double)n);
		total = total ? (total < e ? total : e) : e;
	}
	if (total) {
		cfg->max_updates = total > upd ? total - upd : 1;
		cfg->epochs = 0;
	}
	cfg->seed += upd;
	fprintf(stderr, "%s: resuming from %s after %llu updates\n", prog, k->resume,
	        (unsigned long long)upd);
	return 0;
}
