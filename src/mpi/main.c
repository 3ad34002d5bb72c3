/* feral-mpi: data-parallel training over MPI with model averaging.
 *
 *   mpirun -n R feral-mpi train DATA [--test T] [--positive L] [-o MODEL] [--json]
 *   mpirun -n R feral-mpi solve A [B] [--xstar X] [-o X] [--json]
 *
 * Each rank loads its shard of the rows (shard.c) and runs the asynchronous
 * engine (feral_solve, its own --threads) on it in rounds of K updates
 * (--average-every K, per rank; or --average-seconds S, converted to updates
 * with the rank's measured rate, so faster ranks do more); between rounds the
 * ranks average their models (comm.c: MPI_Allreduce, or int8/int16 deltas with
 * stochastic rounding), and once more at the end (Zhang, De Sa, Mitliagkas &
 * Re, "Parallel SGD: when does averaging help?").  The budget (--epochs over
 * the global n, --updates summed over ranks, --seconds) is the single-process
 * one; the step schedule gamma_0 / (1 + decay * u / n) runs on the global
 * update count u, so each round resumes it where the last one stopped.
 *
 * Kept out of libferal and of `feral`: neither links MPI. */
#include "fmpi.h"
#include "cli/model.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef FERAL_HAVE_HWLOC
#include <hwloc.h>
#endif

static const char *prog = "feral-mpi";
static volatile sig_atomic_t g_signal;
static int g_rank, g_size;

static void on_signal(int sig)
{
	g_signal = sig;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum {
	OPT_JSON = OPT_SOLVER_LAST + 1, OPT_TEST, OPT_POSITIVE, OPT_OUT, OPT_HELP, OPT_XSTAR,
	OPT_AVG_SECONDS, OPT_COMM_BITS, OPT_VERSION
};

static const char *const USAGE =
	"usage: mpirun -n R feral-mpi COMMAND [options]\n"
	"\n"
	"Commands:\n"
	"  train DATA [--test T] [--positive L] [-o MODEL]   linear classifier\n"
	"  solve A [B] [--xstar X] [-o X]                     least squares\n"
	"\n"
	"Each rank reads its shard of the rows of DATA (.feral: rows k n/R..(k+1) n/R of\n"
	"the mapped cache; LIBSVM: the lines starting in bytes k S/R..(k+1) S/R), runs\n"
	"the asynchronous engine on its own --threads, and the ranks average models.\n"
	"Run 'feral-mpi COMMAND --help' for the options.\n";

static const char *const MPI_HELP =
	"Distributed options:\n"
	"  --average-every K      average the ranks' models every K updates per rank\n"
	"                         (default: n/R, one average per epoch of the global n)\n"
	"  --average-seconds S    average every S seconds instead (rounds sized by each\n"
	"                         rank's measured update rate)\n"
	"  --comm-bits B          64 (MPI_Allreduce of doubles, default), 32 (floats),\n"
	"                         16 or 8 (model deltas, one scale per message,\n"
	"                         unbiased stochastic rounding, MPI_Allgather)\n"
	"  --epochs E             passes over the global n (summed over ranks)\n"
	"  --updates U            updates summed over ranks; --seconds S wall budget\n"
	"  --threads T            engine workers per rank (default 1); --bind defaults to\n"
	"                         none here (ranks sharing a node would pin to the same PUs)\n"
	"  --json                 one JSON object on stdout (rank 0)\n";

/* ---- small collective helpers --------------------------------------------------- */

static double sum_d(double v)
{
	double s = v;
	MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	return s;
}

static double max_d(double v)
{
	double s = v;
	MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
	return s;
}

static double min_d(double v)
{
	double s = v;
	MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
	return s;
}

/* ---- labels ---------------------------------------------------------------------- */

static int parse_positive(const char *positive, double *pos, int *np)
{
	*np = 0;
	char *dup = strdup(positive), *save = NULL;
	if (!dup)
		return 1;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*np == 64 || !cli_parse_double(t, &pos[*np])) {
			free(dup);
			return cli_usage_error(prog, "--positive %s: expected a list of labels", positive);
		}
		(*np)++;
	}
	free(dup);
	return 0;
}

static void map_positive(struct feral_dataset *ds, const double *pos, int np)
{
	for (uint64_t i = 0; i < ds->n; i++) {
		int hit = 0;
		for (int k = 0; k < np; k++)
			hit |= ds->y[i] == pos[k];
		ds->y[i] = hit ? 1 : -1;
	}
}

/* Collective: labels to -1/+1 as `feral train` does, with the two labels
 * agreed over every rank's shard (a shard may hold only one of them). */
static int binarize_global(const char *path, struct feral_dataset *ds, const char *positive,
                           double *neg, double *pos)
{
	if (positive) {
		double p[64];
		int np;
		int rc = fmpi_agree(parse_positive(positive, p, &np));
		if (rc)
			return rc;
		map_positive(ds, p, np);
		*neg = -1;
		*pos = 1;
		return 0;
	}
	double lo = INFINITY, hi = -INFINITY;
	for (uint64_t i = 0; i < ds->n; i++) {
		lo = fmin(lo, ds->y[i]);
		hi = fmax(hi, ds->y[i]);
	}
	lo = min_d(lo);
	hi = max_d(hi);
	double bad = NAN;
	for (uint64_t i = 0; i < ds->n && isnan(bad); i++)
		if (ds->y[i] != lo && ds->y[i] != hi)
			bad = ds->y[i];
	int rc = isnan(bad) ? 0 : 2;
	if (rc)
		fprintf(stderr,
		        "%s: %s: more than two labels (%g, %g, %g, ...): give --positive LABELS for a "
		        "one-vs-rest task\n",
		        prog, path, lo, hi, bad);
	if ((rc = fmpi_agree(rc)))
		return rc;
	for (uint64_t i = 0; i < ds->n; i++)
		ds->y[i] = ds->y[i] == hi && lo != hi ? 1 : -1;
	*neg = lo;
	*pos = hi;
	return 0;
}

/* Rank 0: the whole test set, labels mapped like the training labels. */
static int load_test(const char *test, uint64_t d, const char *positive, double neg, double pos,
                     struct feral_dataset **out)
{
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	lo.min_d = d;
	enum feral_status st = feral_dataset_load(test, &lo, out, &err);
	if (st)
		return cli_report(prog, st, &err);
	struct feral_dataset *ts = *out;
	if (ts->d > d)
		return cli_usage_error(prog, "%s: %llu features, more than the %llu of the training data",
		                       test, (unsigned long long)ts->d, (unsigned long long)d);
	if (positive) {
		double p[64];
		int np, rc = parse_positive(positive, p, &np);
		if (rc)
			return rc;
		map_positive(ts, p, np);
		return 0;
	}
	for (uint64_t i = 0; i < ts->n; i++) {
		if (ts->y[i] != neg && ts->y[i] != pos)
			return cli_usage_error(prog, "%s: row %llu: label %g is not one of %g, %g", test,
			                       (unsigned long long)i + 1, ts->y[i], neg, pos);
		ts->y[i] = ts->y[i] == pos && neg != pos ? 1 : -1;
	}
	return 0;
}

/* Model file, the format `feral predict` reads. */
static int save_model(const char *path, enum feral_loss loss, const double *w, uint64_t d,
                      double neg, double pos, const char *positive)
{
	struct cli_model_out m = {.loss = loss, .d = d, .k = 1, .w = w, .neg = neg, .pos = pos,
	                          .positive = positive};
	return cli_model_save(prog, path, &m);
}

/* ---- the distributed solve ------------------------------------------------------- */

struct run_opts {
	uint64_t average_every;  /* per rank; 0 = default */
	double average_seconds;  /* 0 = by updates */
	int comm_bits;
};

struct run_stats {
	uint64_t updates;        /* summed over ranks */
	uint64_t rounds;
	double seconds;          /* wall of the training loop (rank 0) */
	double solve_seconds;    /* max over ranks of the time inside feral_solve */
	double wait_seconds;     /* max over ranks: waiting for the slowest rank */
	double step;             /* relative step (min over ranks) */
	double decay;
	double model_scale;
	uint64_t saturations;
	/* staleness inside each rank's Hogwild! team (ranks average synchronously):
	 * the mean weighted by updates, and the largest p99 and max of any round */
	double staleness_mean;
	uint64_t staleness_p99, staleness_max;
	const char *kernel;
	int threads;
	int oversubscribed;
	enum feral_status status;
	struct feral_error err;
	char warning[300];
};

static uint64_t mix_seed(uint64_t seed, uint64_t rank, uint64_t round)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (rank + 1) + 0xd1b54a32d192ed03ull * round;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int run(const struct feral_dataset *ds, const struct cli_solver *s,
               const struct run_opts *ro, const struct fmpi_shard *sh, const double *x_star,
               double *x, struct fmpi_avg *avg, struct run_stats *rs)
{
	const struct feral_config *cfg = &s->cfg;
	memset(rs, 0, sizeof *rs);
	rs->kernel = "?";
	double n = (double)sh->n_global, nk = (double)ds->n, R = g_size;
	/* the budget, in updates summed over ranks */
	double budget = INFINITY;
	if (cfg->epochs > 0)
		budget = cfg->epochs * n;
	if (cfg->max_updates > 0)
		budget = fmin(budget, (double)cfg->max_updates);
	if (!isfinite(budget) && !(cfg->seconds > 0))
		budget = 50 * n;

	/* The step: as the engine would choose it on this shard (a one-update
	 * probe for --step auto), the smallest over ranks so every rank moves
	 * alike.  Classification with --step auto decays as 1/(1 + epoch). */
	struct feral_config pc = *cfg;
	pc.max_updates = 1;
	pc.epochs = 0;
	pc.seconds = 0;
	pc.trace_every = UINT64_MAX / 4;
	pc.checkpoint = NULL;
	pc.stop_flag = NULL;
	struct feral_result r;
	double *xp = malloc(ds->d * sizeof *xp);
	if (!xp)
		return 1;
	memcpy(xp, x, ds->d * sizeof *xp);
	struct feral_error err = {0};
	enum feral_status st = FERAL_OK;
	double rel = cfg->step, decay = cfg->step_decay, scale = cfg->model_scale;
	int need_probe = (cfg->method == FERAL_METHOD_SGD && cfg->step_auto) ||
	                 ((cfg->model_precision == FERAL_PRECISION_I8 ||
	                   cfg->model_precision == FERAL_PRECISION_I16) &&
	                  !(cfg->model_scale > 0));
	if (need_probe) {
		st = feral_solve(ds, &pc, x_star, xp, &r, NULL, &err);
		if (!st) {
			if (cfg->method == FERAL_METHOD_SGD && cfg->step_auto) {
				rel = r.step;
				if (cfg->loss != FERAL_LOSS_LS && decay == 0)
					decay = 1.0;
			}
			scale = r.model_scale;
		}
	}
	free(xp);
	int rc = st ? cli_report(prog, st, &err) : 0;
	if ((rc = fmpi_agree(rc)))
		return rc;
	rel = min_d(rel);
	if (!(scale > 0))
		scale = 0;
	scale = max_d(scale);
	rs->step = cfg->method == FERAL_METHOD_KACZMARZ ? cfg->relax : rel;
	rs->decay = decay;
	rs->model_scale = scale > 0 ? scale : 1;

	uint64_t K = ro->average_every ? ro->average_every : (uint64_t)ceil(n / R);
	if (K == 0)
		K = 1;
	double rate = 0; /* this rank's updates per second, measured */
	double u = 0;    /* updates summed over ranks */
	double t0 = now(), in_solve = 0, waiting = 0;
	double st_sum = 0, st_n = 0; /* staleness_mean x updates, updates */
	uint64_t round = 0;
	enum feral_status final = FERAL_OK;
	for (;;) {
		/* this round's length */
		double left = isfinite(budget) ? ceil((budget - u) / R) : INFINITY;
		double k = (double)K;
		if (ro->average_seconds > 0)
			k = rate > 0 ? fmax(1.0, floor(rate * ro->average_seconds)) : fmin(k, ceil(nk / 8));
		if (cfg->seconds > 0 && rate > 0) {
			double tl = cfg->seconds - (now() - t0);
			k = fmin(k, fmax(1.0, floor(rate * tl)));
		}
		k = fmin(k, left);
		struct feral_config rc_cfg = *cfg;
		double c0 = 1 + decay * u / n;
		rc_cfg.step_auto = 0;
		rc_cfg.step = rel / c0;
		/* gamma_0/(1 + decay (u + R k_local)/n) = (gamma_0/c0) / (1 + D_r k_local/n_k) */
		rc_cfg.step_decay = decay * R * nk / n / c0;
		rc_cfg.max_updates = (uint64_t)k;
		rc_cfg.epochs = 0;
		rc_cfg.seconds = 0;
		rc_cfg.tol = 0;
		rc_cfg.trace_every = UINT64_MAX / 4;
		rc_cfg.model_scale = scale;
		rc_cfg.seed = mix_seed(cfg->seed, (uint64_t)g_rank, round);
		rc_cfg.checkpoint = NULL;
		rc_cfg.stop_flag = &g_signal;
		double ts = now();
		st = feral_solve(ds, &rc_cfg, NULL, x, &r, NULL, &err);
		double dt = now() - ts;
		in_solve += dt;
		if (r.updates > 0 && dt > 0)
			rate = (double)r.updates / dt;
		if (round == 0) {
			rs->kernel = r.kernel;
			rs->threads = r.threads;
			rs->oversubscribed = r.oversubscribed;
		}
		rs->saturations += r.saturations;
		st_sum += r.staleness_mean * (double)r.updates;
		st_n += (double)r.updates;
		if (r.staleness_p99 > rs->staleness_p99)
			rs->staleness_p99 = r.staleness_p99;
		if (r.staleness_max > rs->staleness_max)
			rs->staleness_max = r.staleness_max;
		if (r.warning[0] && !rs->warning[0])
			snprintf(rs->warning, sizeof rs->warning, "rank %d: %s", g_rank, r.warning);
		/* control: updates, diverged, interrupted, failed, out of time */
		double ctl[5] = {(double)r.updates, st == FERAL_STATUS_DIVERGED,
		                 st == FERAL_STATUS_INTERRUPTED || g_signal,
		                 st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED,
		                 cfg->seconds > 0 && now() - t0 >= cfg->seconds};
		if (st && st != FERAL_STATUS_INTERRUPTED) {
			rs->status = st;
			rs->err = err;
		}
		double tw = now();
		MPI_Allreduce(MPI_IN_PLACE, ctl, 5, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		waiting += now() - tw;
		u += ctl[0];
		round++;
		if (ctl[1] > 0 || ctl[3] > 0) {
			final = ctl[1] > 0 ? FERAL_STATUS_DIVERGED : FERAL_STATUS_INTERNAL;
			break; /* no average of a broken model */
		}
		if (fmpi_avg_run(avg, x) != 0) {
			final = FERAL_STATUS_IO;
			break;
		}
		if (ctl[2] > 0) {
			final = FERAL_STATUS_INTERRUPTED;
			break;
		}
		if (u >= budget || ctl[4] > 0 || ctl[0] == 0)
			break;
	}
	rs->updates = (uint64_t)u;
	rs->rounds = round;
	st_sum = sum_d(st_sum);
	st_n = sum_d(st_n);
	rs->staleness_mean = st_n > 0 ? st_sum / st_n : 0;
	rs->staleness_p99 = (uint64_t)max_d((double)rs->staleness_p99);
	rs->staleness_max = (uint64_t)max_d((double)rs->staleness_max);
	rs->seconds = max_d(now() - t0);
	rs->solve_seconds = max_d(in_solve);
	rs->wait_seconds = max_d(waiting);
	rs->status = final;
	if (final == FERAL_STATUS_DIVERGED && !rs->err.msg[0])
		snprintf(rs->err.msg, sizeof rs->err.msg, "a rank diverged: try a smaller --step");
	return 0;
}

/* Global metrics from per-shard ones (rows weight them). */
struct metrics {
	double objective, train_accuracy, rel_residual;
};

static void global_metrics(const struct feral_dataset *ds, const struct feral_config *cfg,
                           const double *x, uint64_t n_global, struct metrics *m)
{
	double nk = (double)ds->n;
	double v[4] = {nk * feral_objective(ds, cfg, x), 0, 0, 0};
	if (cfg->loss == FERAL_LOSS_LS) {
		double yy = 0;
		for (uint64_t i = 0; i < ds->n; i++)
			yy += ds->y[i] * ds->y[i];
		double rr = feral_rel_residual(ds, x);
		v[2] = rr * rr * yy;
		v[3] = yy;
	} else {
		v[1] = nk * feral_accuracy(ds, x);
	}
	MPI_Allreduce(MPI_IN_PLACE, v, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	m->objective = v[0] / (double)n_global;
	m->train_accuracy = v[1] / (double)n_global;
	m->rel_residual = v[3] > 0 ? sqrt(v[2] / v[3]) : NAN;
}

/* Shard probability masses P_k = lambda n_k/n + (1-lambda) sum_{i in k} L_i / sum L,
 * reported (the averaging weights are n_k/n: see comm.c). */
static void shard_mass(const struct feral_dataset *ds, const struct feral_config *cfg,
                       uint64_t n_global, double *pmin, double *pmax)
{
	double c = cfg->loss == FERAL_LOSS_LOGISTIC ? 0.25 : 1.0, L = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		L += cfg->loss == FERAL_LOSS_HINGE ? sqrt(ds->row_sq_norm[i]) + cfg->l2
		                                   : c * ds->row_sq_norm[i] + cfg->l2;
	double tot = sum_d(L);
	double p = cfg->lambda * (double)ds->n / (double)n_global +
	           (1 - cfg->lambda) * (tot > 0 ? L / tot : 1.0 / g_size);
	*pmin = min_d(p);
	*pmax = max_d(p);
}

static void json_common(struct cli_json *j, const struct feral_dataset *ds,
                        const struct cli_solver *s, const struct fmpi_shard *sh,
                        const struct run_opts *ro, const struct run_stats *rs,
                        const struct fmpi_avg *avg, const struct metrics *m, double pmin,
                        double pmax, uint64_t nmin, uint64_t nmax)
{
	char dmg[32];
	cli_dmg(ds->precision, s->cfg.model_precision, s->cfg.recenter, dmg, sizeof dmg);
	cli_json_u64(j, "ranks", (uint64_t)g_size);
	cli_json_u64(j, "n", sh->n_global);
	cli_json_u64(j, "d", sh->d);
	cli_json_str(j, "shard_method", sh->method);
	if (sh->note[0])
		cli_json_str(j, "shard_note", sh->note);
	cli_json_u64(j, "shard_rows_min", nmin);
	cli_json_u64(j, "shard_rows_max", nmax);
	cli_json_num(j, "shard_mass_min", pmin);
	cli_json_num(j, "shard_mass_max", pmax);
	cli_json_str(j, "loss", cli_loss_name(s->cfg.loss));
	cli_json_str(j, "method", feral_method_name(s->cfg.method));
	cli_json_num(j, "lambda", s->cfg.lambda);
	cli_json_num(j, "step", rs->step);
	cli_json_num(j, "step_decay", rs->decay);
	cli_json_u64(j, "updates", rs->updates);
	cli_json_num(j, "epochs_done", (double)rs->updates / (double)sh->n_global);
	cli_json_num(j, "seconds", rs->seconds);
	cli_json_num(j, "solve_seconds", rs->solve_seconds);
	cli_json_num(j, "wait_seconds", rs->wait_seconds);
	cli_json_num(j, "updates_per_s", rs->seconds > 0 ? (double)rs->updates / rs->seconds : 0);
	cli_json_num(j, "objective", m->objective);
	cli_json_u64(j, "threads_per_rank", (uint64_t)rs->threads);
	cli_json_str(j, "bind", cli_bind_name(s->cfg.bind));
	cli_json_bool(j, "oversubscribed", rs->oversubscribed);
	cli_json_str(j, "precision", dmg);
	cli_json_num(j, "model_scale", rs->model_scale);
	cli_json_u64(j, "saturations", rs->saturations);
	cli_json_num(j, "staleness_mean", rs->staleness_mean);
	cli_json_u64(j, "staleness_p99", rs->staleness_p99);
	cli_json_u64(j, "staleness_max", rs->staleness_max);
	cli_json_str(j, "kernel", rs->kernel);
	cli_json_u64(j, "seed", s->cfg.seed);
	/* communication */
	cli_json_u64(j, "comm_bits", (uint64_t)ro->comm_bits);
	cli_json_str(j, "comm_op", ro->comm_bits >= 32 ? "allreduce" : "allgather");
	if (ro->average_seconds > 0)
		cli_json_num(j, "average_seconds", ro->average_seconds);
	else
		cli_json_u64(j, "average_every",
		             ro->average_every ? ro->average_every
		                               : (uint64_t)ceil((double)sh->n_global / g_size));
	cli_json_u64(j, "averages", avg->count);
	cli_json_u64(j, "message_bytes", (uint64_t)avg->msg);
	cli_json_num(j, "bytes_per_average", avg->wire_per_avg * g_size);
	cli_json_num(j, "comm_bytes_total", avg->wire_bytes * g_size);
	cli_json_num(j, "average_seconds_mean", avg->count ? avg->seconds / (double)avg->count : 0);
	cli_json_num(j, "average_seconds_max", avg->max_seconds);
	cli_json_num(j, "comm_seconds_total", avg->seconds);
	cli_json_num(j, "load_seconds", sh->load_seconds);
	cli_json_u64(j, "peak_rss_bytes", cli_peak_rss());
	if (rs->warning[0])
		cli_json_str(j, "warning", rs->warning);
}

/* Collective summary values that json_common needs (every rank calls). */
static void shard_rows(const struct feral_dataset *ds, uint64_t *nmin, uint64_t *nmax)
{
	uint64_t n = ds->n;
	MPI_Allreduce(&n, nmin, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&n, nmax, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
}

static void text_summary(const struct fmpi_shard *sh, const struct run_opts *ro,
                         const struct run_stats *rs, const struct fmpi_avg *avg)
{
	fprintf(stderr,
	        "%s: %d ranks x %d thread%s, %llu x %llu (%s%s%s): %llu updates (%.2f epochs) in "
	        "%.3f s, step %.4g\n",
	        prog, g_size, rs->threads, rs->threads == 1 ? "" : "s",
	        (unsigned long long)sh->n_global, (unsigned long long)sh->d, sh->method,
	        sh->note[0] ? ": " : "", sh->note, (unsigned long long)rs->updates,
	        (double)rs->updates / (double)sh->n_global, rs->seconds, rs->step);
	fprintf(stderr,
	        "%s: %llu averages at %d bits: %.0f bytes each (all ranks), %.3g MB in all, "
	        "%.3g ms per average\n",
	        prog, (unsigned long long)avg->count, ro->comm_bits, avg->wire_per_avg * g_size,
	        avg->wire_bytes * g_size / 1e6,
	        avg->count ? 1e3 * avg->seconds / (double)avg->count : 0.0);
	if (rs->warning[0])
		fprintf(stderr, "%s: warning: %s\n", prog, rs->warning);
}

static int mpi_option(int c, const char *arg, struct run_opts *ro)
{
	switch (c) {
	case OPT_AVG_SECONDS:
		if (!cli_parse_double(arg, &ro->average_seconds) || !(ro->average_seconds > 0))
			return -!!cli_usage_error(prog, "--average-seconds %s: expected a number > 0", arg);
		return 1;
	case OPT_COMM_BITS:
		if (!cli_parse_int(arg, 8, 64, &ro->comm_bits) ||
		    (ro->comm_bits != 8 && ro->comm_bits != 16 && ro->comm_bits != 32 &&
		     ro->comm_bits != 64))
			return -!!cli_usage_error(prog, "--comm-bits %s: expected 64, 32, 16 or 8", arg);
		return 1;
	default:
		return 0;
	}
}

#define MPI_OPTIONS                                                                         \
	CLI_SOLVER_OPTIONS, {"json", no_argument, 0, OPT_JSON},                             \
		{"output", required_argument, 0, OPT_OUT}, {"help", no_argument, 0, OPT_HELP},  \
		{"average-seconds", required_argument, 0, OPT_AVG_SECONDS},                     \
		{"comm-bits", required_argument, 0, OPT_COMM_BITS}

static int cmd(int argc, char **argv, int train)
{
	static const struct option train_opts[] = {
		MPI_OPTIONS,
		{"test", required_argument, 0, OPT_TEST},
		{"positive", required_argument, 0, OPT_POSITIVE},
		{0, 0, 0, 0}};
	static const struct option solve_opts[] = {
		MPI_OPTIONS, {"xstar", required_argument, 0, OPT_XSTAR}, {0, 0, 0, 0}};
	struct cli_solver s;
	cli_solver_init(&s);
	s.cfg.bind = FERAL_BIND_NONE;
	if (train) {
		s.cfg.loss = FERAL_LOSS_LOGISTIC;
		s.cfg.epochs = 10;
		s.cfg.tol = 1e-4;
	}
	struct run_opts ro = {0, 0, 64};
	const char *out = NULL, *test = NULL, *positive = NULL, *xstar_path = NULL;
	int json = 0, c, rc = 0;
	optind = 1;
	opterr = g_rank == 0;
	while ((c = getopt_long(argc, argv, "ho:", train ? train_opts : solve_opts, NULL)) != -1) {
		int h = cli_solver_option(prog, &s, c, optarg);
		if (h < 0)
			return 2;
		if (h) {
			if (c == OPT_AVERAGE_EVERY) {
				ro.average_every = s.cfg.average_every;
				s.cfg.average_every = 0; /* replicas inside a rank meet at round ends */
			}
			continue;
		}
		if ((h = mpi_option(c, optarg, &ro)) < 0)
			return 2;
		if (h)
			continue;
		switch (c) {
		case OPT_JSON: json = 1; break;
		case OPT_TEST: test = optarg; break;
		case OPT_POSITIVE: positive = optarg; break;
		case OPT_XSTAR: xstar_path = optarg; break;
		case 'o':
		case OPT_OUT: out = optarg; break;
		case 'h':
		case OPT_HELP:
			if (g_rank == 0)
				printf("%s"
				       "  -o FILE       write the model (train: text model; solve: x)\n"
				       "  --test T      train: test accuracy on T (rank 0 loads it)\n"
				       "  --positive L  train: labels taken as +1 (one-vs-rest)\n"
				       "  --xstar X     solve: report ||x-x*||^2/||x*||^2\n"
				       "%s%s",
				       train ? "usage: mpirun -n R feral-mpi train DATA [options]\n"
				             : "usage: mpirun -n R feral-mpi solve A [B] [options]\n",
				       MPI_HELP, CLI_SOLVER_HELP);
			return 0;
		default: return 2;
		}
	}
	if (train && s.cfg.loss == FERAL_LOSS_LS)
		return cli_usage_error(prog, "train: classification losses only (use 'solve')");
	if (!train && s.cfg.loss != FERAL_LOSS_LS)
		s.cfg.loss = FERAL_LOSS_LS;
	if (cli_solver_finish(prog, &s) < 0)
		return 2;
	if (s.cfg.method == FERAL_METHOD_SVRG || s.cfg.method == FERAL_METHOD_HALP ||
	    s.cfg.method == FERAL_METHOD_NEWTON)
		/* a rank's snapshot (or gradient) would be its shard's */
		return cli_usage_error(prog, "--method %s is not supported across ranks yet: use "
		                             "'feral solve' or --method sgd",
		                       feral_method_name(s.cfg.method));
	int nargs = argc - optind;
	if (train ? nargs != 1 : (nargs < 1 || nargs > 2))
		return cli_usage_error(prog, "%s: expected %s (see --help)", train ? "train" : "solve",
		                       train ? "one DATA file" : "A [B]");

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	const char *path = argv[optind];
	struct feral_dataset *ds = NULL, *ts = NULL;
	struct fmpi_shard sh;
	double *x = NULL, *xstar = NULL, neg = -1, pos = 1;
	struct fmpi_avg avg = {0};
	if ((rc = fmpi_shard_load(prog, path, s.data_precision, s.cfg.seed, &ds, &sh)))
		return rc;
	if (!train && nargs == 2) { /* B: every rank reads the vector, keeps its rows */
		struct feral_error err = {0};
		double *b = NULL;
		uint64_t len = 0;
		enum feral_status st = feral_vector_load(argv[optind + 1], &b, &len, &err);
		if (st)
			rc = cli_report(prog, st, &err);
		else if (len != sh.n_global)
			rc = cli_usage_error(prog, "%s: %llu entries, expected %llu", argv[optind + 1],
			                     (unsigned long long)len, (unsigned long long)sh.n_global);
		else
			memcpy(ds->y, b + sh.row_begin, ds->n * sizeof *ds->y);
		free(b);
		if ((rc = fmpi_agree(rc)))
			goto done;
	}
	if (train && (rc = binarize_global(path, ds, positive, &neg, &pos)))
		goto done;
	if (g_rank == 0 && train && test)
		rc = load_test(test, sh.d, positive, neg, pos, &ts);
	if (xstar_path) { /* rank 0 reads x*, every rank gets it (the auto step uses it) */
		if (g_rank == 0) {
			struct feral_error err = {0};
			uint64_t len = 0;
			enum feral_status st = feral_vector_load(xstar_path, &xstar, &len, &err);
			if (st)
				rc = cli_report(prog, st, &err);
			else if (len != sh.d)
				rc = cli_usage_error(prog, "%s: x* has %llu entries, expected %llu",
				                     xstar_path, (unsigned long long)len,
				                     (unsigned long long)sh.d);
		} else if (!(xstar = malloc(sh.d * sizeof *xstar))) {
			rc = 1;
		}
	}
	if ((rc = fmpi_agree(rc)))
		goto done;
	if (xstar)
		MPI_Bcast(xstar, (int)sh.d, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	x = calloc(sh.d, sizeof *x);
	rc = !x || fmpi_avg_init(&avg, MPI_COMM_WORLD, ro.comm_bits, sh.d,
	                         (double)ds->n / (double)sh.n_global, x, s.cfg.seed) != 0;
	if (rc)
		fprintf(stderr, "%s: out of memory\n", prog);
	if ((rc = fmpi_agree(rc)))
		goto done;

	struct run_stats rs;
	if ((rc = run(ds, &s, &ro, &sh, xstar, x, &avg, &rs)))
		goto done;
	struct metrics m;
	global_metrics(ds, &s.cfg, x, sh.n_global, &m);
	double pmin, pmax;
	shard_mass(ds, &s.cfg, sh.n_global, &pmin, &pmax);
	uint64_t nmin, nmax;
	shard_rows(ds, &nmin, &nmax);
	if (g_rank == 0) {
		double test_acc = ts ? feral_accuracy(ts, x) : NAN;
		double rel_err = NAN;
		if (xstar) {
			double e = 0, z = 0;
			for (uint64_t j = 0; j < sh.d; j++) {
				e += (x[j] - xstar[j]) * (x[j] - xstar[j]);
				z += xstar[j] * xstar[j];
			}
			rel_err = z > 0 ? e / z : e;
		}
		if (out) {
			if (train)
				rc = save_model(out, s.cfg.loss, x, sh.d, neg, pos, positive);
			else {
				struct feral_error err = {0};
				enum feral_status st = feral_vector_save(out, x, sh.d, &err);
				if (st)
					rc = cli_report(prog, st, &err);
			}
		}
		if (json) {
			struct cli_json j;
			cli_json_begin(&j, stdout);
			json_common(&j, ds, &s, &sh, &ro, &rs, &avg, &m, pmin, pmax, nmin, nmax);
			if (train) {
				cli_json_num(&j, "train_accuracy", m.train_accuracy);
				cli_json_num(&j, "test_accuracy", test_acc);
			} else {
				cli_json_num(&j, "relative_residual", m.rel_residual);
				cli_json_num(&j, "relative_error", rel_err);
			}
			cli_json_str(&j, "status", feral_strerror(rs.status));
			cli_json_end(&j);
		} else {
			text_summary(&sh, &ro, &rs, &avg);
			if (train) {
				fprintf(stderr, "%s: objective %.6g, train accuracy %.4f", prog, m.objective,
				        m.train_accuracy);
				if (ts)
					fprintf(stderr, ", test accuracy %.4f (%llu rows)", test_acc,
					        (unsigned long long)ts->n);
			} else {
				fprintf(stderr, "%s: objective %.6g, relative residual %.3g", prog,
				        m.objective, m.rel_residual);
				if (xstar)
					fprintf(stderr, ", relative error %.3g", rel_err);
			}
			fputc('\n', stderr);
		}
		if (rs.status == FERAL_STATUS_DIVERGED || rs.status == FERAL_STATUS_INTERNAL ||
		    rs.status == FERAL_STATUS_IO) {
			rs.err.status = rs.status;
			rc = cli_report(prog, rs.status, &rs.err);
		}
	}
	if (rs.status == FERAL_STATUS_INTERRUPTED)
		rc = g_signal == SIGTERM ? 143 : 130;
	else if (rs.status && !rc)
		rc = cli_exit_code(rs.status);
	rc = fmpi_agree(rc);
done:
	fmpi_avg_free(&avg);
	free(x);
	free(xstar);
	feral_dataset_destroy(&ds);
	feral_dataset_destroy(&ts);
	return rc;
}

/* feral_solve discovers the topology on every call, i.e. every round.  hwloc
 * unloads its plugins when its last topology is destroyed and re-reads sysfs
 * on each load (~10 ms a round).  So keep one topology open for the whole
 * run (the plugins stay loaded) and point hwloc at an XML export of it
 * (HWLOC_XMLFILE, with HWLOC_THISSYSTEM=1 so binding still applies), unless
 * the user set HWLOC_XMLFILE already. */
#ifdef FERAL_HAVE_HWLOC
static hwloc_topology_t g_topo;
static char g_xml[64];
static void topo_cache_begin(void)
{
	if (hwloc_topology_init(&g_topo) != 0) {
		g_topo = NULL;
		return;
	}
	if (getenv("HWLOC_XMLFILE") || hwloc_topology_load(g_topo) != 0)
		return;
	snprintf(g_xml, sizeof g_xml, "/tmp/feral-mpi-topo-%ld.xml", (long)getpid());
	if (hwloc_topology_export_xml(g_topo, g_xml, 0) == 0) {
		setenv("HWLOC_XMLFILE", g_xml, 1);
		setenv("HWLOC_THISSYSTEM", "1", 1);
	} else {
		g_xml[0] = 0;
	}
}
static void topo_cache_end(void)
{
	if (g_xml[0])
		unlink(g_xml);
	if (g_topo)
		hwloc_topology_destroy(g_topo);
}
#else
static void topo_cache_begin(void) {}
static void topo_cache_end(void) {}
#endif

int main(int argc, char **argv)
{
	int provided;
	cli_lean_hwloc(); /* before MPI, which may load hwloc itself */
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &g_size);
	int rc;
	topo_cache_begin();
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		if (g_rank == 0)
			fputs(USAGE, argc < 2 ? stderr : stdout);
		rc = argc < 2 ? 2 : 0;
	} else if (strcmp(argv[1], "--version") == 0) {
		if (g_rank == 0)
			printf("feral-mpi %s (%s)\n", FERAL_VERSION, FERAL_GIT_REV);
		rc = 0;
	} else if (strcmp(argv[1], "train") == 0) {
		rc = cmd(argc - 1, argv + 1, 1);
	} else if (strcmp(argv[1], "solve") == 0) {
		rc = cmd(argc - 1, argv + 1, 0);
	} else {
		if (g_rank == 0)
			fprintf(stderr, "%s: unknown command '%s'\n%s", prog, argv[1], USAGE);
		rc = 2;
	}
	topo_cache_end();
	MPI_Finalize();
	return rc;
}
