/* Pieces shared by the solving commands of feral (solve, train, and
 * predict/convert for loading): data loading, signals and progress, the
 * solve with its trace, and the result as text or JSON. */
#include "cmd.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_signal; /* set by SIGINT/SIGTERM: the solver stops */

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

void cli_install_signals(struct feral_config *cfg)
{
	if (isatty(STDERR_FILENO) && !getenv("CI"))
		cfg->progress = show_progress;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cfg->stop_flag = &g_signal;
	const char *ready = getenv("FERAL_READY_FILE");
	if (ready && *ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
		else
			fprintf(stderr, "%s: warning: FERAL_READY_FILE %s: cannot create: %s\n", prog,
			        ready, strerror(errno));
	}
}

int cli_signal_exit(void)
{
	return g_signal == SIGTERM ? 143 : 130;
}

/* Element k of a fixed point row, and its store. */
static double qget(const void *v, enum feral_precision p, uint64_t k)
{
	return p == FERAL_PRECISION_I16 ? ((const int16_t *)v)[k] : ((const int8_t *)v)[k];
}

static void qset(void *v, enum feral_precision p, uint64_t k, double q)
{
	if (p == FERAL_PRECISION_I16)
		((int16_t *)v)[k] = (int16_t)q;
	else
		((int8_t *)v)[k] = (int8_t)q;
}

/* Row i of fixed point data b (values copied from the source, scale s)
 * with the constant bias as element `at`: on the row's grid when it fits
 * (nearest, at least one quantum, so the column never vanishes); else the
 * row moves to the coarser grid bias / M, its values rounded to nearest. */
static void fixed_bias_row(struct feral_dataset *b, uint64_t i, uint64_t lo, uint64_t at,
                           float s, double bias)
{
	const double M = b->precision == FERAL_PRECISION_I16 ? 32767 : 127;
	if (s > 0 && bias / s <= M) {
		qset(b->values, b->precision, at, fmax(1, nearbyint(bias / s)));
		b->row_scale[i] = s;
		return;
	}
	float t = (float)(bias / M);
	while ((double)t * M < bias)
		t = nextafterf(t, INFINITY);
	for (uint64_t k = lo; k < at; k++)
		qset(b->values, b->precision, k, nearbyint(qget(b->values, b->precision, k) * s / t));
	qset(b->values, b->precision, at, fmin(M, nearbyint(bias / t)));
	b->row_scale[i] = t;
}

/* A copy of *ds with width + 1 columns: the rows' own columns (dense rows
 * padded with zeros up to width), then the constant `bias` in column
 * width.  CSR keeps its sorted indices (width is past every column).  One
 * pass over the data and a second copy of it while it runs.  Fixed point
 * data (a quantized .feral) gets the bias on each row's grid
 * (fixed_bias_row). */
static int append_bias(double bias, uint64_t width, struct feral_dataset **ds)
{
	const struct feral_dataset *a = *ds;
	struct feral_error err = {0};
	if (width < a->d)
		width = a->d;
	const int csr = a->layout == FERAL_LAYOUT_CSR;
	const int fixed = a->precision != FERAL_PRECISION_F32;
	const size_t es = feral_precision_size(a->precision);
	struct feral_dataset *b = NULL;
	enum feral_status st = feral_dataset_create(a->n, width + 1, csr ? a->nnz + a->n : 0,
	                                            a->layout, a->precision, &b, &err);
	if (st)
		return cli_report(prog, st, &err);
	const char *av = a->values;
	char *bv = b->values;
	for (uint64_t i = 0; i < a->n; i++) {
		uint64_t lo, len, o;
		if (csr) {
			lo = a->indptr[i], len = a->indptr[i + 1] - lo, o = lo + i;
			memcpy(b->indices + o, a->indices + lo, len * sizeof *b->indices);
			b->indices[o + len] = (uint32_t)width;
			b->indptr[i + 1] = o + len + 1;
		} else {
			lo = i * a->d, len = a->d, o = i * (width + 1);
		}
		memcpy(bv + o * es, av + lo * es, len * es);
		uint64_t at = csr ? o + len : o + width;
		if (fixed)
			fixed_bias_row(b, i, o, at, a->row_scale[i], bias);
		else
			((float *)b->values)[at] = (float)bias;
		b->y[i] = a->y[i];
	}
	feral_dataset_update_norms(b);
	feral_dataset_destroy(ds);
	*ds = b;
	return 0;
}

int cli_load_data(const char *path, enum feral_precision prec, uint64_t seed, uint64_t min_d,
                  double bias, struct feral_dataset **out)
{
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	lo.min_d = min_d;
	enum feral_status st = feral_dataset_load(path, &lo, out, &err);
	if (st)
		return cli_report(prog, st, &err);
	int rc = bias > 0 ? append_bias(bias, min_d, out) : 0;
	if (rc) {
		feral_dataset_destroy(out);
		return rc;
	}
	if (prec != (*out)->precision && (*out)->precision == FERAL_PRECISION_F32) {
		struct feral_dataset *q = NULL;
		st = feral_dataset_quantize(*out, prec, seed, &q, &err);
		if (st) {
			feral_dataset_destroy(out);
			return cli_report(prog, st, &err);
		}
		feral_dataset_destroy(out);
		*out = q;
	} else if (prec != (*out)->precision) {
		fprintf(stderr, "%s: %s: stored at %d bits; cannot re-quantize to %d bits\n", prog,
		        path, feral_precision_bits((*out)->precision), feral_precision_bits(prec));
		feral_dataset_destroy(out);
		return 2;
	}
	return 0;
}

int cli_load_vector(const char *path, uint64_t want, const char *what, double **out)
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

/* The trace's staleness histogram, beside it: F.csv -> F-staleness.csv
 * (bucket_lo,bucket_hi,count; bucket_hi empty for the open last bucket). */
static int write_staleness(const char *trace_path, const uint64_t *hist)
{
	char path[4200];
	const char *dot = strrchr(trace_path, '.'), *slash = strrchr(trace_path, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - trace_path)
	                                             : strlen(trace_path);
	snprintf(path, sizeof path, "%.*s-staleness.csv", (int)stem, trace_path);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", prog, path, strerror(errno));
		return 1;
	}
	fprintf(f, "bucket_lo,bucket_hi,count\n");
	for (int b = 0; b < FERAL_STALENESS_BUCKETS; b++) {
		uint64_t hi = feral_staleness_bucket_lo(b + 1);
		fprintf(f, "%llu,", (unsigned long long)feral_staleness_bucket_lo(b));
		if (hi != UINT64_MAX)
			fprintf(f, "%llu", (unsigned long long)hi);
		fprintf(f, ",%llu\n", (unsigned long long)hist[b]);
	}
	return fclose(f) == 0 ? 0 : 1;
}

enum feral_status cli_solve(const struct feral_dataset *ds, struct cli_solver *s,
                            const double *xs, double *x, struct feral_result *r,
                            const char *trace_path, struct feral_error *err, int *fatal)
{
	struct feral_trace tr = {0};
	cli_pick_method(s, ds);
	s->cfg.staleness_hist = s->staleness_hist;
	enum feral_status st = feral_solve(ds, &s->cfg, xs, x, r, trace_path ? &tr : NULL, err);
	s->cfg.staleness_hist = NULL;
	if (s->cfg.progress)
		fputc('\n', stderr); /* end the progress line */
	*fatal = 0;
	if (st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED)
		*fatal = cli_report(prog, st, err);
	else if (trace_path) {
		write_trace(trace_path, &tr);
		write_staleness(trace_path, s->staleness_hist);
	}
	feral_trace_free(&tr);
	return st;
}

void cli_print_result(const struct feral_dataset *ds, const struct feral_result *r)
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
	if (!isnan(r->step)) /* Newton has no step */
		fprintf(stderr, ", step %.4g", r->step);
	fprintf(stderr, "%s\n", r->converged ? ", converged" : "");
	if (r->warning[0])
		fprintf(stderr, "%s: warning: %s\n", prog, r->warning);
	if (r->oversubscribed)
		fprintf(stderr, "%s: warning: %d workers on fewer processing units: oversubscribed\n",
		        prog, r->threads);
}

void cli_warn_unconverged(const struct feral_config *cfg, const struct feral_result *r)
{
	if (cfg->tol <= 0 || r->converged)
		return;
	if (isfinite(r->rel_error))
		fprintf(stderr,
		        "%s: warning: the budget ran out before the tolerance: relative error %.3g, "
		        "asked --tol %g\n",
		        prog, r->rel_error, cfg->tol);
	else if (!isnan(r->grad_norm_rel))
		fprintf(stderr,
		        "%s: warning: the budget ran out before the tolerance: relative gradient "
		        "norm %.3g, asked --tol %g (not converged)\n",
		        prog, r->grad_norm_rel, cfg->tol);
	else
		fprintf(stderr,
		        "%s: warning: not converged: --loss %s has no certified stop; ran the "
		        "budget\n",
		        prog, cli_loss_name(cfg->loss));
}

void cli_json_result(struct cli_json *j, const struct feral_dataset *ds,
                     const struct cli_solver *s, const struct feral_result *r)
{
	char dmg[32];
	cli_dmg(ds->precision, s->cfg.model_precision, s->cfg.recenter, dmg, sizeof dmg);
	cli_json_u64(j, "n", ds->n);
	cli_json_u64(j, "d", ds->d - (s->bias > 0)); /* the data's features */
	if (s->bias > 0) /* only then: the keys of a plain solve stay the binding's */
		cli_json_num(j, "bias", s->bias);
	cli_json_u64(j, "nnz", ds->nnz);
	cli_json_str(j, "loss", cli_loss_name(s->cfg.loss));
	cli_json_str(j, "method", feral_method_name(s->cfg.method));
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
	cli_json_num(j, "grad_norm_rel", r->grad_norm_rel);
	cli_json_num(j, "grad_seconds", r->grad_seconds);
	cli_json_num(j, "cpu_seconds", r->cpu_seconds);
	/* the run as it was resolved: threads and placement */
	cli_json_u64(j, "threads", (uint64_t)r->threads);
	cli_json_str(j, "bind", cli_bind_name(s->cfg.bind));
	cli_json_str(j, "replicas", cli_replicas_name(s->cfg.replicas));
	cli_json_str(j, "replicas_mode", cli_replicas_name(r->replicas_mode));
	cli_json_bool(j, "oversubscribed", r->oversubscribed);
	cli_json_u64(j, "shards", (uint64_t)r->shards);
	cli_json_u64(j, "replica_models", (uint64_t)r->replicas);
	if (r->hot_coords) { /* only with a hot set: a plain solve keeps the binding's keys */
		cli_json_u64(j, "hot_coords", r->hot_coords);
		cli_json_num(j, "hot_nnz_share", r->hot_nnz_share);
		cli_json_u64(j, "hot_every", s->cfg.hot_every ? s->cfg.hot_every : FERAL_HOT_EVERY_AUTO);
	}
	cli_json_u64(j, "bind_failures", (uint64_t)r->bind_failures);
	/* precision */
	cli_json_str(j, "precision", dmg);
	cli_json_str(j, "rounding", cli_rounding_name(s->cfg.rounding));
	cli_json_num(j, "model_scale", r->model_scale);
	cli_json_u64(j, "saturations", r->saturations);
	cli_json_u64(j, "averaged_iterates", r->averaged);
	cli_json_str(j, "kernel", r->kernel);
	/* asynchrony: the delay asked, the staleness and conflicts measured */
	cli_json_u64(j, "delay", s->cfg.delay);
	cli_json_num(j, "staleness_mean", r->staleness_mean);
	cli_json_u64(j, "staleness_p99", r->staleness_p99);
	cli_json_u64(j, "staleness_max", r->staleness_max);
	cli_json_num(j, "conflict_rate", r->conflict_rate);
	cli_json_hist(j, "staleness_hist", s->staleness_hist);
	cli_json_u64(j, "seed", s->cfg.seed);
	cli_json_u64(j, "peak_rss_bytes", cli_peak_rss());
	if (r->warning[0])
		cli_json_str(j, "warning", r->warning);
}
