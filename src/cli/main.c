/* feral: the command-line front end.
 *   feral solve A [B] [-o X]        least squares / linear systems
 *   feral train DATA [--test T] [-o MODEL]
 *   feral predict MODEL DATA
 *   feral info DATA
 *   feral convert IN OUT
 *   feral gen KIND -o OUT
 * Exit codes: 0 ok, 2 bad usage or input, 1 other failures, 130/143 signals. */
#include "cli.h"
#include "feral.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *prog = "feral";
static volatile int g_signal; /* set by SIGINT/SIGTERM: the solver stops */

static void on_signal(int sig)
{
	g_signal = sig;
}

/* Progress on stderr, only when it is a terminal and not under CI. */
static void show_progress(void *arg, const struct feral_trace_point *pt, double fraction)
{
	(void)arg;
	fprintf(stderr, "\r%s: %5.1f%%  %llu updates  objective %.6g", prog, 100.0 * fraction,
	        (unsigned long long)pt->updates, pt->objective);
	if (isfinite(pt->rel_error))
		fprintf(stderr, "  error %.3g", pt->rel_error);
	fputs("   ", stderr);
	fflush(stderr);
}

static void end_progress(const struct feral_config *cfg)
{
	if (cfg->progress)
		fputc('\n', stderr);
}

static void install_signals(struct feral_config *cfg)
{
	if (isatty(STDERR_FILENO) && !getenv("CI"))
		cfg->progress = show_progress;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cfg->stop_flag = &g_signal;
}

static int signal_exit(void)
{
	return g_signal == SIGTERM ? 143 : 130;
}

static const char *const USAGE =
	"usage: feral COMMAND [options]\n"
	"\n"
	"Commands:\n"
	"  solve A [B]      least squares: A from LIBSVM (targets inside), .mtx, .npy,\n"
	"                   .feral; B (targets) from .npy/.mtx/text\n"
	"  train DATA       linear classifier (logistic by default) on labelled data\n"
	"  predict MODEL DATA   predictions (one per line) and accuracy\n"
	"  info DATA        shape, nonzeros, norms, L_i spread, memory\n"
	"  convert IN OUT   any format to any format; OUT.feral is the mmap cache\n"
	"  gen KIND -o OUT  synthetic problem (nsw1..nsw5, gaussian, sparse, logistic)\n"
	"\n"
	"Run 'feral COMMAND --help' for the options of a command.\n"
	"Common: --json prints one JSON object on stdout; -h/--help; --version.\n";

/* ---- loading ------------------------------------------------------------------- */

static int load_data(const char *path, enum feral_precision prec, uint64_t seed, uint64_t min_d,
                     struct feral_dataset **out)
{
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	lo.min_d = min_d;
	enum feral_status st = feral_dataset_load(path, &lo, out, &err);
	if (st)
		return cli_report(prog, st, &err);
	if (prec != (*out)->precision && (*out)->precision == FERAL_PRECISION_F32) {
		struct feral_dataset *q = NULL;
		st = feral_dataset_quantize(*out, prec, seed, &q, &err);
		if (st)
			return cli_report(prog, st, &err);
		feral_dataset_destroy(out);
		*out = q;
	} else if (prec != (*out)->precision) {
		fprintf(stderr, "%s: %s: stored at %d bits; cannot re-quantize to %d bits\n", prog,
		        path, feral_precision_bits((*out)->precision), feral_precision_bits(prec));
		return 2;
	}
	return 0;
}

static int load_vector(const char *path, uint64_t want, const char *what, double **out)
{
	struct feral_error err = {0};
	uint64_t len = 0;
	enum feral_status st = feral_vector_load(path, out, &len, &err);
	if (st)
		return cli_report(prog, st, &err);
	if (len != want) {
		fprintf(stderr, "%s: %s: %s has %llu entries, expected %llu\n", prog, path, what,
		        (unsigned long long)len, (unsigned long long)want);
		free(*out);
		*out = NULL;
		return 2;
	}
	return 0;
}

static void print_result_text(const struct feral_dataset *ds, const struct feral_result *r)
{
	fprintf(stderr,
	        "%s: %llu x %llu, %llu nonzeros: %llu updates in %.3f s (%.3g updates/s, %d "
	        "thread%s, kernel %s)\n",
	        prog, (unsigned long long)ds->n, (unsigned long long)ds->d,
	        (unsigned long long)ds->nnz, (unsigned long long)r->updates, r->seconds,
	        r->updates_per_s, r->threads, r->threads == 1 ? "" : "s", r->kernel);
	fprintf(stderr, "%s: objective %.6g, relative residual %.3g", prog, r->objective,
	        r->rel_residual);
	if (isfinite(r->rel_error))
		fprintf(stderr, ", relative error %.3g", r->rel_error);
	fprintf(stderr, ", step %.4g%s\n", r->step, r->converged ? ", converged" : "");
	if (r->warning[0])
		fprintf(stderr, "%s: warning: %s\n", prog, r->warning);
	if (r->oversubscribed)
		fprintf(stderr, "%s: warning: %d workers on fewer processing units: oversubscribed\n",
		        prog, r->threads);
}

static void json_result(struct cli_json *j, const struct feral_dataset *ds,
                        const struct cli_solver *s, const struct feral_result *r)
{
	char dmg[32];
	cli_dmg(ds->precision, s->cfg.model_precision, s->cfg.recenter, dmg, sizeof dmg);
	cli_json_u64(j, "n", ds->n);
	cli_json_u64(j, "d", ds->d);
	cli_json_u64(j, "nnz", ds->nnz);
	cli_json_str(j, "loss", cli_loss_name(s->cfg.loss));
	cli_json_str(j, "method", s->cfg.method == FERAL_METHOD_KACZMARZ ? "kaczmarz" : "sgd");
	cli_json_num(j, "lambda", s->cfg.lambda);
	cli_json_num(j, "step", r->step);
	cli_json_num(j, "mu", r->mu);
	cli_json_u64(j, "updates", r->updates);
	cli_json_num(j, "seconds", r->seconds);
	cli_json_num(j, "monitor_seconds", r->monitor_seconds);
	cli_json_num(j, "updates_per_s", r->updates_per_s);
	cli_json_num(j, "objective", r->objective);
	cli_json_num(j, "relative_residual", r->rel_residual);
	cli_json_num(j, "relative_error", r->rel_error);
	cli_json_bool(j, "converged", r->converged);
	cli_json_u64(j, "threads", (uint64_t)r->threads);
	cli_json_str(j, "bind", cli_bind_name(s->cfg.bind));
	cli_json_str(j, "replicas", cli_replicas_name(s->cfg.replicas));
	cli_json_str(j, "replicas_mode", cli_replicas_name(r->replicas_mode));
	cli_json_bool(j, "oversubscribed", r->oversubscribed);
	cli_json_u64(j, "shards", (uint64_t)r->shards);
	cli_json_u64(j, "replica_models", (uint64_t)r->replicas);
	cli_json_u64(j, "bind_failures", (uint64_t)r->bind_failures);
	cli_json_str(j, "precision", dmg);
	cli_json_str(j, "rounding", cli_rounding_name(s->cfg.rounding));
	cli_json_num(j, "model_scale", r->model_scale);
	cli_json_u64(j, "saturations", r->saturations);
	cli_json_u64(j, "averaged_iterates", r->averaged);
	cli_json_str(j, "kernel", r->kernel);
	cli_json_u64(j, "seed", s->cfg.seed);
	cli_json_u64(j, "peak_rss_bytes", cli_peak_rss());
	if (r->warning[0])
		cli_json_str(j, "warning", r->warning);
}

static int write_solution(const char *path, const double *x, uint64_t d)
{
	struct feral_error err = {0};
	enum feral_status st = feral_vector_save(path, x, d, &err);
	return st ? cli_report(prog, st, &err) : 0;
}

/* ---- solve ------------------------------------------------------------------------- */

enum { OPT_OVR = 20, OPT_MULTICLASS = 21 };
enum { OPT_JSON = 1, OPT_XSTAR = 2, OPT_TEST = 3, OPT_POSITIVE = 4, OPT_TRACE = 5, OPT_REF = 6, OPT_CKPT_EVERY = 7, OPT_CKPT = 8, OPT_RESUME = 9,
       OPT_HELP = 'h', OPT_OUT = 'o' };

static int write_trace(const char *path, const struct feral_trace *t)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", prog, path, strerror(errno));
		return 1;
	}
	fprintf(f, "updates,seconds,objective,relative_residual,relative_error\n");
	for (size_t k = 0; k < t->len; k++)
		fprintf(f, "%llu,%.6g,%.10g,%.6g,%.6g\n", (unsigned long long)t->pts[k].updates,
		        t->pts[k].seconds, t->pts[k].objective, t->pts[k].rel_residual,
		        t->pts[k].rel_error);
	return fclose(f) == 0 ? 0 : 1;
}

/* ---- checkpoints ---------------------------------------------------------------------
 * A checkpoint is a text file: "feral-checkpoint 1", "updates N", "d D", then D
 * weights; written atomically (temp file + rename) from the monitor thread. */
struct ckpt {
	const char *path;  /* where to write (NULL: no checkpoints) */
	const char *every; /* --checkpoint-every argument */
	const char *resume;
	uint64_t base;     /* updates done before this run (from --resume) */
};

#define CKPT_OPTIONS                                                                      \
	{"checkpoint-every", required_argument, 0, OPT_CKPT_EVERY},                       \
	{"checkpoint", required_argument, 0, OPT_CKPT},                                   \
	{"resume", required_argument, 0, OPT_RESUME}
#define CKPT_HELP                                                                         \
	"  --checkpoint-every S   write a checkpoint every S seconds (to --checkpoint F,\n" \
	"                         default <output>.ckpt or feral.ckpt)\n"                   \
	"  --resume F             start from checkpoint F; the budget counts its updates\n"

static int write_ckpt(void *arg, const double *x, uint64_t d, uint64_t updates)
{
	const struct ckpt *k = arg;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", k->path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "feral-checkpoint 1\nupdates %llu\nd %llu\n",
	        (unsigned long long)(k->base + updates), (unsigned long long)d);
	for (uint64_t j = 0; j < d; j++)
		fprintf(f, "%.17g\n", x[j]);
	int bad = ferror(f);
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, k->path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

/* Options -> cfg; reads the resume file into x (length d).  0 or exit code. */
static int ckpt_setup(struct ckpt *k, struct feral_config *cfg, const char *out, uint64_t n,
                      uint64_t d, double *x, char *pathbuf, size_t plen)
{
	if (k->every) {
		double s;
		if (!cli_parse_double(k->every, &s) || !(s > 0))
			return cli_usage_error(prog, "--checkpoint-every %s: expected seconds > 0", k->every);
		cfg->checkpoint_every = s;
		if (!k->path) {
			snprintf(pathbuf, plen, "%s.ckpt", out ? out : "feral");
			k->path = pathbuf;
		}
		cfg->checkpoint = write_ckpt;
		cfg->checkpoint_arg = k;
		if (!cfg->trace_every || cfg->trace_every > n / 8 + 1)
			cfg->trace_every = n / 8 + 1; /* checkpoints ride on trace points */
	} else if (k->path) {
		return cli_usage_error(prog, "--checkpoint needs --checkpoint-every");
	}
	if (!k->resume)
		return 0;
	FILE *f = fopen(k->resume, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", prog, k->resume, strerror(errno));
		return 1;
	}
	unsigned long long upd = 0, dd = 0;
	char line[64];
	int ok = fgets(line, sizeof line, f) && strcmp(line, "feral-checkpoint 1\n") == 0 &&
	         fscanf(f, "updates %llu\n", &upd) == 1 && fscanf(f, "d %llu", &dd) == 1;
	if (!ok || dd != d) {
		fclose(f);
		fprintf(stderr, "%s: %s: not a checkpoint for this data (%s)\n", prog, k->resume,
		        ok ? "dimension differs" : "bad header");
		return 2;
	}
	for (uint64_t j = 0; j < d; j++)
		if (fscanf(f, "%lf", &x[j]) != 1 || !isfinite(x[j])) {
			fclose(f);
			fprintf(stderr, "%s: %s:%llu: bad or missing weight\n", prog, k->resume,
			        (unsigned long long)j + 4);
			return 2;
		}
	fclose(f);
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
	fprintf(stderr, "%s: resuming from %s after %llu updates\n", prog, k->resume, upd);
	return 0;
}

static int ckpt_option(struct ckpt *k, int c, const char *arg)
{
	switch (c) {
	case OPT_CKPT_EVERY: k->every = arg; return 1;
	case OPT_CKPT: k->path = arg; return 1;
	case OPT_RESUME: k->resume = arg; return 1;
	default: return 0;
	}
}

/* feral_solve with the CLI's progress and trace handling.  Returns the
 * status; a failure other than divergence or interruption is reported and
 * *fatal set to its exit code (0 otherwise). */
static enum feral_status solve_and_trace(const struct feral_dataset *ds, struct cli_solver *s,
                                         const double *xs, double *x, struct feral_result *r,
                                         const char *trace_path, struct feral_error *err,
                                         int *fatal)
{
	struct feral_trace tr = {0};
	enum feral_status st = feral_solve(ds, &s->cfg, xs, x, r, trace_path ? &tr : NULL, err);
	end_progress(&s->cfg);
	*fatal = 0;
	if (st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED)
		*fatal = cli_report(prog, st, err);
	else if (trace_path)
		write_trace(trace_path, &tr);
	feral_trace_free(&tr);
	return st;
}

static int cmd_solve(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_SOLVER_OPTIONS,
		{"json", no_argument, 0, OPT_JSON},
		{"xstar", required_argument, 0, OPT_XSTAR},
		{"reference", required_argument, 0, OPT_REF},
		CKPT_OPTIONS,
		{"trace", required_argument, 0, OPT_TRACE},
		{"output", required_argument, 0, OPT_OUT},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0}};
	struct cli_solver s;
	cli_solver_init(&s);
	const char *out = NULL, *xstar_path = NULL, *trace_path = NULL;
	int json = 0, c, reference = 0;
	struct ckpt ck = {0};
	char ckbuf[4200];
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		int h = cli_solver_option(prog, &s, c, optarg);
		if (h < 0)
			return 2;
		if (h || ckpt_option(&ck, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON: json = 1; break;
		case OPT_XSTAR: xstar_path = optarg; break;
		case OPT_REF:
			if (strcmp(optarg, "lapack") != 0)
				return cli_usage_error(prog, "--reference %s: only 'lapack' is known", optarg);
			reference = 1;
			break;
		case OPT_TRACE: trace_path = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_HELP:
			printf("usage: feral solve A [B] [-o X] [--xstar XSTAR] [--json] [options]\n"
			       "Least squares min ||Ax - b||^2 by weighted SGD / randomized Kaczmarz.\n"
			       "  -o X          write the solution (.npy float64, .mtx array, or text)\n"
			       "  --xstar F     known solution: report and stop on ||x-x*||^2/||x*||^2\n"
			       "  --reference lapack   use LAPACK's least-squares solution as x*\n"
			       CKPT_HELP
			       "  --trace F     write the convergence trace as CSV\n"
			       "%s",
			       CLI_SOLVER_HELP);
			return 0;
		default: return 2;
		}
	}
	if (s.cfg.loss != FERAL_LOSS_LS)
		return cli_usage_error(prog, "solve: least squares only (use 'feral train' for --loss %s)",
		                       cli_loss_name(s.cfg.loss));
	if (cli_solver_finish(prog, &s) < 0)
		return 2;
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2)
		return cli_usage_error(prog, "solve: expected A [B] (see feral solve --help)");
	struct feral_dataset *ds = NULL;
	double *xs = NULL, *x = NULL;
	int rc = load_data(argv[optind], s.data_precision, s.cfg.seed, 0, &ds);
	if (rc)
		return rc;
	struct feral_error err = {0};
	if (nargs == 2) {
		enum feral_status st = feral_dataset_load_targets(ds, argv[optind + 1], &err);
		if (st) {
			rc = cli_report(prog, st, &err);
			goto done;
		}
	}
	if (xstar_path && reference) {
		rc = cli_usage_error(prog, "--xstar and --reference conflict: give one");
		goto done;
	}
	if (xstar_path && (rc = load_vector(xstar_path, ds->d, "x*", &xs)))
		goto done;
	if (reference) {
		xs = malloc(ds->d * sizeof *xs);
		enum feral_status rs = xs ? feral_lstsq(ds, xs, 0, &err) : FERAL_STATUS_NOMEM;
		if (rs) {
			rc = cli_report(prog, rs, &err);
			goto done;
		}
	}
	x = calloc(ds->d, sizeof *x);
	if (!x) {
		rc = 1;
		goto done;
	}
	if ((rc = ckpt_setup(&ck, &s.cfg, out, ds->n, ds->d, x, ckbuf, sizeof ckbuf)))
		goto done;
	install_signals(&s.cfg);
	struct feral_result r;
	enum feral_status st = solve_and_trace(ds, &s, xs, x, &r, trace_path, &err, &rc);
	if (rc)
		goto done;
	if (out && (rc = write_solution(out, x, ds->d)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		json_result(&j, ds, &s, &r);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		print_result_text(ds, &r);
	}
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = (fprintf(stderr, "%s: interrupted: wrote the current iterate\n", prog),
		      signal_exit());
done:
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
	return rc;
}

/* ---- train / predict ---------------------------------------------------------------- */

/* Labels to -1/+1: --positive L1,L2,... lists the labels taken as +1; else two
 * distinct labels map smaller -> -1, larger -> +1.  Returns 0 or an exit code. */
static int binarize(const char *path, struct feral_dataset *ds, const char *positive,
                    double *neg_label, double *pos_label)
{
	if (positive) {
		double pos[64];
		int np = 0;
		char *dup = strdup(positive), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (np == 64 || !cli_parse_double(t, &pos[np])) {
				free(dup);
				return cli_usage_error(prog, "--positive %s: expected a list of labels", positive);
			}
			np++;
		}
		free(dup);
		for (uint64_t i = 0; i < ds->n; i++) {
			int hit = 0;
			for (int k = 0; k < np; k++)
				hit |= ds->y[i] == pos[k];
			ds->y[i] = hit ? 1 : -1;
		}
		*neg_label = -1;
		*pos_label = 1;
		return 0;
	}
	double a = ds->y[0], b = ds->y[0];
	for (uint64_t i = 0; i < ds->n; i++) {
		double v = ds->y[i];
		if (v != a && v != b) {
			if (a == b)
				b = v;
			else
				return cli_usage_error(prog,
				                       "%s: more than two labels (%g, %g, %g, ...): give "
				                       "--positive LABELS for a one-vs-rest task",
				                       path, a, b, v);
		}
	}
	if (a > b) {
		double t = a;
		a = b;
		b = t;
	}
	for (uint64_t i = 0; i < ds->n; i++)
		ds->y[i] = ds->y[i] == b && a != b ? 1 : -1;
	*neg_label = a;
	*pos_label = b;
	return 0;
}

static int save_model(const char *path, const struct cli_solver *s, const double *w, uint64_t d,
                      double neg, double pos, const char *positive)
{
	struct cli_model_out m = {.loss = s->cfg.loss, .d = d, .k = 1, .w = w, .neg = neg,
	                          .pos = pos, .positive = positive};
	return cli_model_save(prog, path, &m);
}

static int save_model_ovr(const char *path, const struct cli_solver *s, const double *w,
                          uint64_t d, uint64_t k, const double *labels)
{
	struct cli_model_out m = {.loss = s->cfg.loss, .d = d, .k = k, .w = w, .labels = labels};
	return cli_model_save(prog, path, &m);
}

/* A model as read back: version 1 (binary: k = 1, neg/pos/positive) or
 * version 2 (one-vs-rest: k classes with their labels). */
struct model {
	int version;
	uint64_t d, k;
	double *w;      /* k * d, class-major */
	double *labels; /* version 2: k labels */
	double neg, pos;
	char positive[256];
};

#define MODEL_MAX_CLASSES 65536

static void model_free(struct model *m)
{
	free(m->w);
	free(m->labels);
	m->w = m->labels = NULL;
}

static int load_model(const char *path, struct model *m)
{
	memset(m, 0, sizeof *m);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
		return 1;
	}
	char loss[32], line[256];
	unsigned long long dd = 0, kk = 1;
	const uint64_t hdr_lines = 6; /* weight j is on line j + 7 in both versions */
	int ok = fgets(line, sizeof line, f) != NULL;
	if (ok && strcmp(line, "feral-model 1\n") == 0) {
		m->version = 1;
		ok = fscanf(f, "loss %31s\n", loss) == 1 && fscanf(f, "d %llu\n", &dd) == 1 &&
		     fscanf(f, "labels %lf %lf\n", &m->neg, &m->pos) == 2 &&
		     fscanf(f, "positive %255s\n", line) == 1 && fscanf(f, "weights ") == 0;
		if (ok)
			snprintf(m->positive, sizeof m->positive, "%s", line);
	} else if (ok && strcmp(line, "feral-model 2\n") == 0) {
		m->version = 2;
		ok = fscanf(f, "loss %31s\n", loss) == 1 && fscanf(f, "d %llu\n", &dd) == 1 &&
		     fscanf(f, "classes %llu\n", &kk) == 1 && kk >= 1 && kk <= MODEL_MAX_CLASSES;
		int at = -1;
		ok = ok && fscanf(f, "labels%n", &at) == 0 && at > 0;
		if (ok) {
			m->labels = malloc(kk * sizeof *m->labels);
			ok = m->labels != NULL;
			for (unsigned long long c = 0; ok && c < kk; c++)
				ok = fscanf(f, "%lf", &m->labels[c]) == 1 && isfinite(m->labels[c]);
			at = -1;
			ok = ok && fscanf(f, " weights%n ", &at) == 0 && at > 0;
		}
	} else {
		ok = 0;
	}
	if (!ok || dd == 0 || dd > (1ull << 32) || kk * dd > (1ull << 32)) {
		fclose(f);
		model_free(m);
		fprintf(stderr, "%s: %s: not a feral model file (bad header)\n", prog, path);
		return 2;
	}
	m->w = malloc(kk * dd * sizeof *m->w);
	if (!m->w) {
		fclose(f);
		model_free(m);
		return 1;
	}
	for (uint64_t j = 0; j < kk * dd; j++)
		if (fscanf(f, "%lf", &m->w[j]) != 1 || !isfinite(m->w[j])) {
			fprintf(stderr, "%s: %s:%llu: bad or missing weight\n", prog, path,
			        (unsigned long long)(j + 1 + hdr_lines));
			fclose(f);
			model_free(m);
			return 2;
		}
	fclose(f);
	m->d = dd;
	m->k = kk;
	return 0;
}

/* ---- one-vs-rest ----------------------------------------------------------------------
 * K binary problems "class c against the rest" on the same rows (only y
 * changes), each solved by feral_solve with the options given; a row is
 * predicted as the label of the largest score a.w_c. */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorted distinct labels of ds->y into *labels (malloc'd); returns K, 0 on NOMEM. */
static uint64_t distinct_labels(const struct feral_dataset *ds, double **labels)
{
	double *v = malloc((ds->n ? ds->n : 1) * sizeof *v);
	if (!v)
		return 0;
	memcpy(v, ds->y, ds->n * sizeof *v);
	qsort(v, ds->n, sizeof *v, cmp_double);
	uint64_t k = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	*labels = v;
	return k;
}

/* Index of the largest score of row i (ties: the first). */
static uint64_t ovr_argmax(const struct feral_dataset *ds, uint64_t i, const double *w,
                           uint64_t d, uint64_t k)
{
	uint64_t best = 0;
	double bs = -INFINITY;
	for (uint64_t c = 0; c < k; c++) {
		double t = feral_row_dot(ds, i, w + c * d);
		if (t > bs || c == 0) {
			bs = t;
			best = c;
		}
	}
	return best;
}

/* Fraction of rows whose argmax label equals y (labels outside the model's
 * classes count as errors). */
static double ovr_accuracy(const struct feral_dataset *ds, const double *y, const double *w,
                           uint64_t d, uint64_t k, const double *labels)
{
	uint64_t right = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		right += labels[ovr_argmax(ds, i, w, d, k)] == y[i];
	return ds->n ? (double)right / (double)ds->n : NAN;
}

static int train_ovr(struct cli_solver *s, struct feral_dataset *ds, const char *path,
                     const char *test, const char *out, int json)
{
	struct feral_dataset *ts = NULL;
	double *labels = NULL, *y0 = NULL, *w = NULL;
	int rc = 0;
	uint64_t k = distinct_labels(ds, &labels);
	if (!labels)
		return 1;
	if (k < 2 || k > MODEL_MAX_CLASSES) {
		rc = cli_usage_error(prog, "%s: --ovr needs 2 to %d distinct labels, found %llu", path,
		                     MODEL_MAX_CLASSES, (unsigned long long)k);
		goto done;
	}
	if (test) {
		if ((rc = load_data(test, FERAL_PRECISION_F32, s->cfg.seed, ds->d, &ts)))
			goto done;
		if (ts->d > ds->d) {
			rc = cli_usage_error(prog, "%s: %llu features, more than the %llu of %s", test,
			                     (unsigned long long)ts->d, (unsigned long long)ds->d, path);
			goto done;
		}
	}
	const uint64_t d = ds->d;
	y0 = malloc(ds->n * sizeof *y0);
	w = calloc(k * d, sizeof *w);
	if (!y0 || !w) {
		rc = 1;
		goto done;
	}
	memcpy(y0, ds->y, ds->n * sizeof *y0);
	install_signals(&s->cfg);
	struct feral_error err = {0};
	struct feral_result agg;
	memset(&agg, 0, sizeof agg);
	agg.rel_error = NAN;
	agg.converged = 1;
	enum feral_status st = FERAL_OK;
	uint64_t done_k = 0;
	for (uint64_t c = 0; c < k && st == FERAL_OK; c++) {
		for (uint64_t i = 0; i < ds->n; i++)
			ds->y[i] = y0[i] == labels[c] ? 1 : -1;
		struct feral_config cfg = s->cfg;
		cfg.seed = s->cfg.seed + c; /* an independent stream per class */
		struct feral_result r;
		st = feral_solve(ds, &cfg, NULL, w + c * d, &r, NULL, &err);
		if (st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED)
			break;
		done_k++;
		agg.updates += r.updates;
		agg.seconds += r.seconds;
		agg.monitor_seconds += r.monitor_seconds;
		agg.objective += r.objective;
		agg.rel_residual += r.rel_residual;
		agg.step = r.step;
		agg.mu = r.mu;
		agg.converged &= r.converged;
		agg.threads = r.threads;
		agg.saturations += r.saturations;
		agg.writes += r.writes;
		agg.avg_seconds += r.avg_seconds;
		agg.kernel = r.kernel;
		agg.oversubscribed |= r.oversubscribed;
		agg.bind_failures += r.bind_failures;
		if (r.model_scale > agg.model_scale)
			agg.model_scale = r.model_scale;
		if (!agg.warning[0] && r.warning[0])
			snprintf(agg.warning, sizeof agg.warning, "%s", r.warning);
		if (!json)
			fprintf(stderr,
			        "%s: class %.17g vs rest: %llu updates in %.3f s, objective %.6g, "
			        "train error %.4f\n",
			        prog, labels[c], (unsigned long long)r.updates, r.seconds, r.objective,
			        r.rel_residual);
	}
	memcpy(ds->y, y0, ds->n * sizeof *y0); /* the original labels, for accuracy */
	if (st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED) {
		rc = cli_report(prog, st, &err);
		goto done;
	}
	if (done_k) {
		agg.objective /= (double)done_k;
		agg.rel_residual /= (double)done_k;
	}
	agg.updates_per_s = agg.seconds > 0 ? (double)agg.updates / agg.seconds : 0;
	double train_acc = ovr_accuracy(ds, y0, w, d, k, labels);
	double test_acc = ts ? ovr_accuracy(ts, ts->y, w, d, k, labels) : NAN;
	if (out && (rc = save_model_ovr(out, s, w, d, k, labels)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		json_result(&j, ds, s, &agg);
		cli_json_str(&j, "multiclass", "ovr");
		cli_json_u64(&j, "classes", k);
		cli_json_num(&j, "train_accuracy", train_acc);
		cli_json_num(&j, "test_accuracy", test_acc);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		print_result_text(ds, &agg);
		fprintf(stderr, "%s: one-vs-rest, %llu classes: train accuracy %.4f", prog,
		        (unsigned long long)k, train_acc);
		if (ts)
			fprintf(stderr, ", test accuracy %.4f (%llu rows)", test_acc,
			        (unsigned long long)ts->n);
		fputc('\n', stderr);
	}
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = signal_exit();
done:
	free(labels);
	free(y0);
	free(w);
	feral_dataset_destroy(&ts);
	return rc;
}

static int cmd_train(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_SOLVER_OPTIONS,
		{"json", no_argument, 0, OPT_JSON},
		{"test", required_argument, 0, OPT_TEST},
		{"positive", required_argument, 0, OPT_POSITIVE},
		{"ovr", no_argument, 0, OPT_OVR},
		{"multiclass", required_argument, 0, OPT_MULTICLASS},
		CKPT_OPTIONS,
		{"trace", required_argument, 0, OPT_TRACE},
		{"output", required_argument, 0, OPT_OUT},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0}};
	struct cli_solver s;
	cli_solver_init(&s);
	s.cfg.loss = FERAL_LOSS_LOGISTIC;
	s.cfg.epochs = 10;
	s.cfg.tol = 1e-4;
	const char *out = NULL, *test = NULL, *positive = NULL, *trace_path = NULL;
	int json = 0, c, ovr = 0;
	struct ckpt ck = {0};
	char ckbuf[4200];
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		int h = cli_solver_option(prog, &s, c, optarg);
		if (h < 0)
			return 2;
		if (h || ckpt_option(&ck, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON: json = 1; break;
		case OPT_TEST: test = optarg; break;
		case OPT_POSITIVE: positive = optarg; break;
		case OPT_OVR: ovr = 1; break;
		case OPT_MULTICLASS:
			if (!strcmp(optarg, "ovr"))
				ovr = 1;
			else if (!strcmp(optarg, "binary"))
				ovr = 0;
			else
				return cli_usage_error(prog, "--multiclass %s: expected ovr or binary", optarg);
			break;
		case OPT_TRACE: trace_path = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_HELP:
			printf("usage: feral train DATA [--test T] [-o MODEL] [--json] [options]\n"
			       "Linear classifier (--loss logistic by default, or hinge) by weighted SGD.\n"
			       "Labels: two distinct values (smaller -> -1), or --positive L1,L2,...\n"
			       "  --ovr, --multiclass ovr   one-vs-rest: one binary model per label\n"
			       "                (label c against the rest), prediction = argmax of the\n"
			       "                scores; the model file holds all K weight vectors\n"
			       "  --test T      report test accuracy on T (same label mapping)\n"
			       "  -o MODEL      write the model (text)\n"
			       "  --trace F     write the convergence trace as CSV\n"
			       CKPT_HELP
			       "Defaults here: --loss logistic --epochs 10 --tol 1e-4\n%s",
			       CLI_SOLVER_HELP);
			return 0;
		default: return 2;
		}
	}
	if (s.cfg.loss == FERAL_LOSS_LS)
		return cli_usage_error(prog, "train: classification losses only (use 'feral solve')");
	if (cli_solver_finish(prog, &s) < 0)
		return 2;
	if (argc - optind != 1)
		return cli_usage_error(prog, "train: expected one DATA file (see feral train --help)");
	if (ovr && positive)
		return cli_usage_error(prog, "--ovr and --positive conflict: give one");
	if (ovr && (ck.every || ck.path || ck.resume || trace_path))
		return cli_usage_error(prog, "--ovr: --checkpoint, --resume and --trace are for "
		                             "binary models only");
	const char *path = argv[optind];
	struct feral_dataset *ds = NULL, *ts = NULL;
	double *w = NULL;
	double neg, pos, tneg, tpos;
	int rc = load_data(path, s.data_precision, s.cfg.seed, 0, &ds);
	if (rc)
		return rc;
	if (ovr) {
		rc = train_ovr(&s, ds, path, test, out, json);
		feral_dataset_destroy(&ds);
		return rc;
	}
	if ((rc = binarize(path, ds, positive, &neg, &pos)))
		goto done;
	if (test) {
		if ((rc = load_data(test, FERAL_PRECISION_F32, s.cfg.seed, ds->d, &ts)))
			goto done;
		if (ts->d > ds->d) {
			rc = cli_usage_error(prog, "%s: %llu features, more than the %llu of %s", test,
			                     (unsigned long long)ts->d, (unsigned long long)ds->d, path);
			goto done;
		}
		for (uint64_t i = 0; i < ts->n && !positive; i++)
			if (ts->y[i] != neg && ts->y[i] != pos) {
				rc = cli_usage_error(prog, "%s: row %llu: label %g is not one of %g, %g", test,
				                     (unsigned long long)i + 1, ts->y[i], neg, pos);
				goto done;
			}
		if (!positive)
			for (uint64_t i = 0; i < ts->n; i++)
				ts->y[i] = ts->y[i] == pos && neg != pos ? 1 : -1;
		else if ((rc = binarize(test, ts, positive, &tneg, &tpos)))
			goto done;
	}
	w = calloc(ds->d, sizeof *w);
	if (!w) {
		rc = 1;
		goto done;
	}
	if ((rc = ckpt_setup(&ck, &s.cfg, out, ds->n, ds->d, w, ckbuf, sizeof ckbuf)))
		goto done;
	install_signals(&s.cfg);
	struct feral_error err = {0};
	struct feral_result r;
	enum feral_status st = solve_and_trace(ds, &s, NULL, w, &r, trace_path, &err, &rc);
	if (rc)
		goto done;
	double train_acc = feral_accuracy(ds, w);
	double test_acc = NAN;
	if (ts) {
		/* the test set may have fewer columns: view w on its first ts->d */
		test_acc = feral_accuracy(ts, w);
	}
	if (out && (rc = save_model(out, &s, w, ds->d, neg, pos, positive)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		json_result(&j, ds, &s, &r);
		cli_json_num(&j, "train_accuracy", train_acc);
		cli_json_num(&j, "test_accuracy", test_acc);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		print_result_text(ds, &r);
		fprintf(stderr, "%s: train accuracy %.4f", prog, train_acc);
		if (ts)
			fprintf(stderr, ", test accuracy %.4f (%llu rows)", test_acc,
			        (unsigned long long)ts->n);
		fputc('\n', stderr);
	}
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = signal_exit();
done:
	free(w);
	feral_dataset_destroy(&ds);
	feral_dataset_destroy(&ts);
	return rc;
}

/* Options of the commands that take only --json and --help: -1 to go on,
 * else the exit code (0 after printing the usage, 2 on a bad option). */
static int json_help_options(int argc, char **argv, const char *usage, int *json)
{
	static const struct option opts[] = {{"json", no_argument, 0, OPT_JSON},
	                                     {"help", no_argument, 0, OPT_HELP},
	                                     {0, 0, 0, 0}};
	int c;
	*json = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_JSON) {
			*json = 1;
		} else if (c == OPT_HELP) {
			fputs(usage, stdout);
			return 0;
		} else {
			return 2;
		}
	}
	return -1;
}

static int cmd_predict(int argc, char **argv)
{
	int json, rc = json_help_options(
		argc, argv,
		"usage: feral predict MODEL DATA [--json]\n"
		"Prints one predicted label per line; accuracy on stderr (or --json).\n"
		"MODEL: binary (feral-model 1) or one-vs-rest (feral-model 2: the label\n"
		"of the largest score).\n",
		&json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error(prog, "predict: expected MODEL DATA");
	struct model m;
	rc = load_model(argv[optind], &m);
	if (rc)
		return rc;
	const uint64_t d = m.d;
	struct feral_dataset *ds = NULL;
	if ((rc = load_data(argv[optind + 1], FERAL_PRECISION_F32, 1, d, &ds))) {
		model_free(&m);
		return rc;
	}
	if (ds->d > d) {
		rc = cli_usage_error(prog, "%s: %llu features, the model has %llu", argv[optind + 1],
		                     (unsigned long long)ds->d, (unsigned long long)d);
		goto done;
	}
	uint64_t right = 0;
	if (m.version == 2) {
		for (uint64_t i = 0; i < ds->n; i++) {
			double lab = m.labels[ovr_argmax(ds, i, m.w, d, m.k)];
			if (!json)
				printf("%.17g\n", lab);
			right += lab == ds->y[i];
		}
	} else {
		const double *w = m.w;
		const double pos = m.pos, neg = m.neg;
		const char *positive = m.positive;
		int has_pos = strcmp(positive, "-") != 0;
		for (uint64_t i = 0; i < ds->n; i++) {
			double t = feral_row_dot(ds, i, w);
			double lab = t >= 0 ? pos : neg;
			if (!json)
				printf("%.17g\n", lab);
			int truth_pos;
			if (has_pos) {
				truth_pos = 0;
				char *dup = strdup(positive), *save = NULL;
				for (char *tk = strtok_r(dup, ",", &save); tk; tk = strtok_r(NULL, ",", &save))
					truth_pos |= atof(tk) == ds->y[i];
				free(dup);
			} else {
				truth_pos = ds->y[i] == pos;
			}
			right += (t >= 0) == truth_pos;
		}
	}
	double acc = (double)right / (double)ds->n;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		cli_json_u64(&j, "n", ds->n);
		if (m.version == 2)
			cli_json_u64(&j, "classes", m.k);
		cli_json_num(&j, "accuracy", acc);
		cli_json_end(&j);
	} else {
		fprintf(stderr, "%s: accuracy %.4f (%llu of %llu)\n", prog, acc,
		        (unsigned long long)right, (unsigned long long)ds->n);
	}
done:
	model_free(&m);
	feral_dataset_destroy(&ds);
	return rc;
}

/* ---- info / convert / gen ------------------------------------------------------------ */

static int cmd_info(int argc, char **argv)
{
	int json, rc = json_help_options(argc, argv, "usage: feral info DATA [--json]\n", &json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(prog, "info: expected one DATA file");
	struct feral_dataset *ds = NULL;
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	enum feral_status st = feral_dataset_load(argv[optind], &lo, &ds, &err);
	if (st)
		return cli_report(prog, st, &err);
	double mn = INFINITY, mx = 0, sum = 0, ymin = INFINITY, ymax = -INFINITY;
	uint64_t zero_rows = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double v = ds->row_sq_norm[i];
		sum += v;
		if (v > mx) mx = v;
		if (v > 0 && v < mn) mn = v;
		zero_rows += v == 0;
		if (ds->y[i] < ymin) ymin = ds->y[i];
		if (ds->y[i] > ymax) ymax = ds->y[i];
	}
	double mean = sum / (double)ds->n;
	uint64_t bytes = feral_dataset_bytes(ds);
	const char *layout = ds->layout == FERAL_LAYOUT_CSR ? "csr" : "dense";
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		cli_json_str(&j, "file", argv[optind]);
		cli_json_u64(&j, "n", ds->n);
		cli_json_u64(&j, "d", ds->d);
		cli_json_u64(&j, "nnz", ds->nnz);
		cli_json_num(&j, "density", (double)ds->nnz / ((double)ds->n * (double)ds->d));
		cli_json_str(&j, "layout", layout);
		cli_json_u64(&j, "precision_bits", (uint64_t)feral_precision_bits(ds->precision));
		cli_json_u64(&j, "bytes", bytes);
		cli_json_num(&j, "row_sq_norm_min", mn);
		cli_json_num(&j, "row_sq_norm_mean", mean);
		cli_json_num(&j, "row_sq_norm_max", mx);
		cli_json_num(&j, "L_max_over_mean", mx / mean);
		cli_json_num(&j, "L_max_over_min", mx / mn);
		cli_json_u64(&j, "zero_rows", zero_rows);
		cli_json_num(&j, "y_min", ymin);
		cli_json_num(&j, "y_max", ymax);
		cli_json_end(&j);
	} else {
		printf("file        %s\n", argv[optind]);
		printf("shape       %llu x %llu (%s, %d-bit values)\n", (unsigned long long)ds->n,
		       (unsigned long long)ds->d, layout, feral_precision_bits(ds->precision));
		printf("nonzeros    %llu (density %.3g)\n", (unsigned long long)ds->nnz,
		       (double)ds->nnz / ((double)ds->n * (double)ds->d));
		printf("memory      %.1f MiB of row data\n", (double)bytes / 1048576.0);
		printf("||a_i||^2   min %.4g  mean %.4g  max %.4g  (%llu zero rows)\n", mn, mean, mx,
		       (unsigned long long)zero_rows);
		printf("L_i spread  max/mean %.3g  max/min %.3g\n", mx / mean, mx / mn);
		printf("targets     min %.4g  max %.4g\n", ymin, ymax);
	}
	feral_dataset_destroy(&ds);
	return 0;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {{"precision", required_argument, 0, OPT_PRECISION},
	                                     {"seed", required_argument, 0, OPT_SEED},
	                                     {"targets", required_argument, 0, OPT_TEST},
	                                     {"targets-out", required_argument, 0, OPT_XSTAR},
	                                     {"help", no_argument, 0, OPT_HELP},
	                                     {0, 0, 0, 0}};
	enum feral_precision prec = FERAL_PRECISION_F32;
	uint64_t seed = 1;
	const char *targets = NULL, *targets_out = NULL;
	int c, bits;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PRECISION:
			if (!cli_parse_int(optarg, 8, 32, &bits) || bits == 64 ||
			    feral_precision_from_bits(bits, &prec) != FERAL_OK)
				return cli_usage_error(prog, "--precision %s: expected 32, 16 or 8", optarg);
			break;
		case OPT_SEED:
			if (!cli_parse_u64(optarg, &seed))
				return cli_usage_error(prog, "--seed %s: expected an integer >= 0", optarg);
			break;
		case OPT_TEST: targets = optarg; break;
		case OPT_XSTAR: targets_out = optarg; break;
		case OPT_HELP:
			printf("usage: feral convert IN OUT [--precision 32|16|8] [--targets B] [--seed N]\n"
			       "                     [--targets-out B]   (write y too, for .npy/.mtx OUT)\n"
			       "Any supported format to any other; OUT.feral is the native mmap cache\n"
			       "(quantized once, here, with unbiased stochastic rounding).\n");
			return 0;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(prog, "convert: expected IN OUT");
	struct feral_dataset *ds = NULL;
	int rc = load_data(argv[optind], prec, seed, 0, &ds);
	if (rc)
		return rc;
	struct feral_error err = {0};
	enum feral_status st = FERAL_OK;
	if (targets)
		st = feral_dataset_load_targets(ds, targets, &err);
	if (!st)
		st = feral_dataset_save(ds, argv[optind + 1], &err);
	if (!st && targets_out)
		st = feral_vector_save(targets_out, ds->y, ds->n, &err);
	feral_dataset_destroy(&ds);
	return st ? cli_report(prog, st, &err) : 0;
}

enum { OPT_N = 10, OPT_D, OPT_DENSITY, OPT_COND, OPT_SPREAD, OPT_NOISE, OPT_POWER };

/* OUT with its extension replaced by "<tag>.<ext>": data.npy -> data.b.npy */
static void sibling(const char *out, const char *tag, const char *ext, char *buf, size_t len)
{
	const char *dot = strrchr(out, '.');
	const char *slash = strrchr(out, '/');
	size_t base = (dot && (!slash || dot > slash)) ? (size_t)(dot - out) : strlen(out);
	snprintf(buf, len, "%.*s.%s.%s", (int)base, out, tag, ext);
}

static int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"n", required_argument, 0, OPT_N},
		{"d", required_argument, 0, OPT_D},
		{"density", required_argument, 0, OPT_DENSITY},
		{"cond", required_argument, 0, OPT_COND},
		{"spread", required_argument, 0, OPT_SPREAD},
		{"noise", required_argument, 0, OPT_NOISE},
		{"power", required_argument, 0, OPT_POWER},
		{"seed", required_argument, 0, OPT_SEED},
		{"xstar", required_argument, 0, OPT_XSTAR},
		{"output", required_argument, 0, OPT_OUT},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0}};
	int c;
	optind = 1;
	/* the kind is the first non-option argument; parse options first */
	struct feral_gen_options go;
	feral_gen_options_init(&go, FERAL_GEN_GAUSSIAN);
	struct { int set; double v; } n = {0, 0}, d = {0, 0}, dens = {0, 0}, cond = {0, 0},
	                            spread = {0, 0}, noise = {0, 0}, power = {0, 0};
	uint64_t seed = 1;
	const char *out = NULL, *xstar = NULL;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		double v;
		switch (c) {
		case OPT_N:
		case OPT_D: {
			uint64_t u;
			if (!cli_parse_u64(optarg, &u) || u == 0)
				return cli_usage_error(prog, "--%s %s: expected a count >= 1",
				                       c == OPT_N ? "n" : "d", optarg);
			(c == OPT_N ? &n : &d)->set = 1;
			(c == OPT_N ? &n : &d)->v = (double)u;
			break;
		}
		case OPT_DENSITY: case OPT_COND: case OPT_SPREAD: case OPT_NOISE: case OPT_POWER:
			if (!cli_parse_double(optarg, &v))
				return cli_usage_error(prog, "%s: expected a number", optarg);
			if (c == OPT_DENSITY) dens.set = 1, dens.v = v;
			if (c == OPT_COND) cond.set = 1, cond.v = v;
			if (c == OPT_SPREAD) spread.set = 1, spread.v = v;
			if (c == OPT_NOISE) noise.set = 1, noise.v = v;
			if (c == OPT_POWER) power.set = 1, power.v = v;
			break;
		case OPT_SEED:
			if (!cli_parse_u64(optarg, &seed))
				return cli_usage_error(prog, "--seed %s: expected an integer >= 0", optarg);
			break;
		case OPT_XSTAR: xstar = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_HELP:
			printf("usage: feral gen KIND -o OUT [--n N] [--d D] [--density F] [--cond K]\n"
			       "                 [--spread S] [--noise E] [--power P] [--seed N] [--xstar F]\n"
			       "KIND: nsw1..nsw5 (Needell-Srebro-Ward Section 6), gaussian, sparse, logistic.\n"
			       "OUT's extension picks the format (.svm .mtx .npy .feral). Targets b are in\n"
			       "OUT for .svm/.feral, else in OUT.b.<ext>; x* goes to OUT.xstar.npy (or --xstar).\n");
			return 0;
		default: return 2;
		}
	}
	if (argc - optind != 1 || !out)
		return cli_usage_error(prog, "gen: expected KIND and -o OUT (see feral gen --help)");
	enum feral_gen_kind kind;
	struct feral_error err = {0};
	enum feral_status st = feral_gen_kind_from_name(argv[optind], &kind);
	if (st)
		return cli_usage_error(prog, "gen: unknown kind '%s' (nsw1..nsw5, gaussian, sparse, "
		                             "logistic)", argv[optind]);
	feral_gen_options_init(&go, kind);
	go.density = 0; /* about 20 nonzeros a row for whatever d is chosen */
	if (n.set) go.n = (uint64_t)n.v;
	if (d.set) go.d = (uint64_t)d.v;
	if (dens.set) go.density = dens.v;
	if (cond.set) go.cond = cond.v;
	if (spread.set) go.spread = spread.v;
	if (noise.set) go.noise = noise.v;
	if (power.set) go.power = power.v;
	go.seed = seed;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	st = feral_gen(&go, &ds, &xs, &err);
	if (st)
		return cli_report(prog, st, &err);
	char path[4200];
	st = feral_dataset_save(ds, out, &err);
	enum feral_format fmt = feral_format_from_path(out);
	if (!st && fmt != FERAL_FORMAT_LIBSVM && fmt != FERAL_FORMAT_FERAL) {
		sibling(out, "b", fmt == FERAL_FORMAT_MTX ? "mtx" : "npy", path, sizeof path);
		st = feral_vector_save(path, ds->y, ds->n, &err);
	}
	if (!st) {
		if (!xstar) {
			sibling(out, "xstar", "npy", path, sizeof path);
			xstar = path;
		}
		st = feral_vector_save(xstar, xs, ds->d, &err);
	}
	if (!st)
		fprintf(stderr, "%s: wrote %s (%llu x %llu, %llu nonzeros) and x* to %s\n", prog, out,
		        (unsigned long long)ds->n, (unsigned long long)ds->d,
		        (unsigned long long)ds->nnz, xstar);
	free(xs);
	feral_dataset_destroy(&ds);
	return st ? cli_report(prog, st, &err) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		const char *k = "?";
		struct feral_error err;
		feral_kernels_select(&k, &err);
		printf("feral %s (%s, kernel %s)\n", FERAL_VERSION, FERAL_GIT_REV, k);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"solve", cmd_solve},     {"train", cmd_train}, {"predict", cmd_predict},
	            {"info", cmd_info},       {"convert", cmd_convert}, {"gen", cmd_gen}};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmd, cmds[i].name)) {
			return cmds[i].fn(argc - 1, argv + 1);
		}
	return cli_usage_error(prog, "unknown command '%s' (see feral --help)", cmd);
}
