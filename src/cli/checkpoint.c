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

enum feral_status cli_ckpt_read(const char *path, uint64_t d, double *x, uint64_t *updates,
                                struct feral_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	unsigned long long upd = 0, dd = 0;
	char line[64];
	int ok = fgets(line, sizeof line, f) && strcmp(line, "feral-checkpoint 1\n") == 0 &&
	         fscanf(f, "updates %llu\n", &upd) == 1 && fscanf(f, "d %llu", &dd) == 1;
	if (!ok || dd != d) {
		fclose(f);
		return feral_fail(err, FERAL_STATUS_PARSE, path, 0,
		                  "not a checkpoint for this data (%s)",
		                  ok ? "dimension differs" : "bad header");
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
