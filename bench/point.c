/* bench: one point of the sweep, (threads, data/model precision,
 * replicas, delay): a short calibration run (which also warms the data up) sets
 * the trace period so that a run of the budget gives >= 30 trace points;
 * then --repeat runs, each with its trace, horizon and time to target; then
 * the point's record.  sweep_run walks every point in order. */
#include "bench.h"
#include "trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROOFLINE_MAX 1.2

/* x* handed to the solver: for planted (noisy LS too large for LAPACK) we still
 * pass it so the record has the distance to the planted solution; the
 * classification problems get none. */
const double *solver_xstar(const struct opts *o, const struct problem_data *pd)
{
	if (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM)
		return NULL;
	return pd->x_star;
}

static int bench_recenter(const struct opts *o, const struct point *pt)
{
	return o->s.cfg.recenter && feral_precision_fixed(pt->model_prec);
}

static void run_point(const struct opts *o, const struct problem_data *pd,
                      const struct feral_dataset *ds, struct point *pt, FILE *trace_f,
                      int point_id)
{
	const double *xs = solver_xstar(o, pd);
	enum feral_trace_metric metric = xs ? FERAL_TRACE_REL_ERROR : FERAL_TRACE_OBJECTIVE;
	struct feral_config cfg = o->s.cfg;
	cfg.method = pt->method;
	cfg.threads = pt->threads;
	cfg.replicas = pt->replicas;
	cfg.model_precision = pt->model_prec;
	cfg.delay = pt->delay;
	/* --recenter applies to the fixed point points of a sweep */
	cfg.recenter = bench_recenter(o, pt);
	cfg.stop_flag = o->stop;
	/* a method this point's precision cannot run: one unsupported run */
	struct feral_error verr = {0};
	if (feral_config_validate(&cfg, &verr) != FERAL_OK) {
		struct run *rn = &pt->runs[pt->nruns++];
		memset(rn, 0, sizeof *rn);
		rn->st = FERAL_STATUS_UNSUPPORTED;
		rn->res.rel_error = NAN;
		snprintf(rn->msg, sizeof rn->msg, "%s", verr.msg);
		return;
	}
	double *x = malloc(ds->d * sizeof *x);
	double budget_s = cfg.seconds;
	/* calibrate the trace period (and warm the data up) with a short run */
	uint64_t trace_every;
	double monitor_per_point = 0;
	if (cfg.max_updates > 0) {
		trace_every = cfg.max_updates / BENCH_TRACE_POINTS;
		cfg.seconds = 0;
	} else {
		struct feral_config cc = cfg;
		cc.seconds = fmin(BENCH_CALIB_SECONDS, budget_s);
		cc.tol = 0;
		cc.trace_every = ds->n / 4 > 1000 ? ds->n / 4 : 1000;
		struct feral_result r;
		struct feral_trace tr = {0};
		memset(x, 0, ds->d * sizeof *x);
		enum feral_status st = feral_solve(ds, &cc, xs, x, &r, &tr, NULL);
		double rate = st == FERAL_OK && r.updates_per_s > 0 ? r.updates_per_s : 1e6;
		if (tr.len > 1)
			monitor_per_point = r.monitor_seconds / (double)(tr.len - 1);
		feral_trace_free(&tr);
		trace_every = (uint64_t)(rate * budget_s / BENCH_TRACE_POINTS);
		/* The budget is solver seconds: the monitor's share comes on top, up to
		 * 2x the budget (an oversubscribed monitor is slow: fewer points then,
		 * recorded as trace_points). */
		long pus = sysconf(_SC_NPROCESSORS_ONLN);
		int eff = pus > 0 && pt->threads > pus ? (int)pus : pt->threads;
		cfg.seconds = budget_s + fmin(BENCH_TRACE_POINTS * monitor_per_point / eff, 2 * budget_s);
	}
	cfg.trace_every = trace_every > 0 ? trace_every : 1;
	for (int rep = 0; rep < o->repeat && !*o->stop; rep++) {
		struct run *rn = &pt->runs[pt->nruns++];
		memset(rn, 0, sizeof *rn);
		struct feral_config rc = cfg;
		rc.seed = cfg.seed + (uint64_t)rep;
		rc.staleness_hist = rn->staleness_hist;
		memset(x, 0, ds->d * sizeof *x);
		struct feral_trace tr = {0};
		struct feral_error err = {0};
		reset_peak_rss();
		rn->st = feral_solve(ds, &rc, xs, x, &rn->res, &tr, &err);
		rn->peak_rss = cli_peak_rss();
		if (rn->st)
			snprintf(rn->msg, sizeof rn->msg, "%s", err.msg[0] ? err.msg : feral_strerror(rn->st));
		feral_trace_horizon(&tr, metric, &rn->hz);
		rn->time_to_target = feral_trace_time_to_target(&tr, metric, o->target);
		rn->accuracy = (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM ||
		                (o->problem == PROB_FILE && cfg.loss != FERAL_LOSS_LS))
		                       ? feral_accuracy(ds, x)
		                       : NAN;
		rn->trace_len = tr.len;
		if (trace_f) {
			char pre[256], dmg[32];
			cli_dmg(pt->data_prec, pt->model_prec, bench_recenter(o, pt), dmg, sizeof dmg);
			snprintf(pre, sizeof pre, "%d,%d,%s,%s,%s,%s,%d", point_id, pt->threads, dmg,
			         cli_replicas_name(pt->replicas), feral_method_name(pt->method),
			         rn->res.kernel ? rn->res.kernel : "", rep);
			feral_trace_write_csv(trace_f, pre, &tr);
			fflush(trace_f);
		}
		feral_trace_free(&tr);
		if (rn->st == FERAL_STATUS_UNSUPPORTED)
			break;
	}
	free(x);
}

static const char *sampling_name(double lambda)
{
	return lambda == 0 ? "weighted" : lambda == 0.5 ? "partial" : lambda == 1 ? "uniform" : "mixed";
}

static void build_record(const struct opts *o, const struct machine *m,
                         const struct problem_data *pd, const struct feral_dataset *ds,
                         struct point *pt)
{
	struct record *r = &pt->rec;
	r->n = 0;
	int R = pt->nruns;
	double ups[MAX_LIST], sec[MAX_LIST], upd[MAX_LIST], hz[MAX_LIST], ttt[MAX_LIST],
	       err[MAX_LIST], res[MAX_LIST], obj[MAX_LIST], acc[MAX_LIST], sat[MAX_LIST],
	       rss[MAX_LIST], tl[MAX_LIST], smean[MAX_LIST], sp99[MAX_LIST], smax[MAX_LIST],
	       conf[MAX_LIST], cpu[MAX_LIST];
	uint64_t shist[FERAL_STALENESS_BUCKETS] = {0}; /* summed over the runs */
	int plateau = 0, ok_runs = 0;
	const struct run *first = &pt->runs[0];
	const char *status = "ok";
	char status_buf[600];
	for (int k = 0; k < R; k++) {
		const struct run *rn = &pt->runs[k];
		ups[k] = rn->res.updates_per_s;
		/* per CPU-second of one worker: a shared machine's descheduling
		 * does not lower it (T busy workers: ~ updates_per_s / T) */
		cpu[k] = rn->res.cpu_seconds > 0 ? (double)rn->res.updates / rn->res.cpu_seconds
		                                 : NAN;
		sec[k] = rn->res.seconds;
		upd[k] = (double)rn->res.updates;
		hz[k] = rn->hz.horizon;
		ttt[k] = rn->time_to_target;
		err[k] = rn->res.rel_error;
		res[k] = rn->res.rel_residual;
		obj[k] = rn->res.objective;
		acc[k] = rn->accuracy;
		sat[k] = (double)rn->res.saturations;
		rss[k] = (double)rn->peak_rss;
		tl[k] = (double)rn->trace_len;
		smean[k] = rn->res.staleness_mean;
		sp99[k] = rn->res.staleness_p99;
		smax[k] = rn->res.staleness_max;
		conf[k] = rn->res.conflict_rate;
		for (int b = 0; b < FERAL_STALENESS_BUCKETS; b++)
			shist[b] += rn->staleness_hist[b];
		plateau += rn->hz.plateau_reached;
		if (rn->st == FERAL_OK)
			ok_runs++;
		else {
			snprintf(status_buf, sizeof status_buf, "%s: %s",
			         rn->st == FERAL_STATUS_UNSUPPORTED ? "unsupported" : feral_strerror(rn->st),
			         rn->msg);
			status = status_buf;
			if (rn->st == FERAL_STATUS_UNSUPPORTED)
				pt->unsupported = 1;
			else
				pt->failed = 1;
		}
	}
	if (pt->unsupported) {
		/* nothing was measured: never report numbers for it */
		for (int k = 0; k < R; k++)
			ups[k] = sec[k] = upd[k] = hz[k] = ttt[k] = err[k] = res[k] = obj[k] = acc[k] =
			        sat[k] = tl[k] = smean[k] = sp99[k] = smax[k] = conf[k] = NAN;
	}
	char dmg[32];
	cli_dmg(pt->data_prec, pt->model_prec, bench_recenter(o, pt), dmg, sizeof dmg);
	double bytes_row = (double)feral_dataset_bytes(ds) / (double)ds->n;
	double u_med = median(ups, R);
	time_t now = time(NULL);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	r_str(r, "git_rev", FERAL_GIT_REV);
	r_str(r, "timestamp", ts);
	r_str(r, "host", m->host);
	r_str(r, "cpu", m->cpu);
	r_u64(r, "nproc", (uint64_t)m->nproc);
	r_u64(r, "llc_bytes", m->llc);
	r_str(r, "kernel", first->res.kernel ? first->res.kernel : "");
	r_str(r, "problem", pd->name);
	r_str(r, "loss", cli_loss_name(o->s.cfg.loss));
	r_str(r, "method", feral_method_name(pt->method));
	r_u64(r, "n", ds->n);
	r_u64(r, "d", ds->d);
	r_u64(r, "nnz", ds->nnz);
	r_str(r, "layout", ds->layout == FERAL_LAYOUT_CSR ? "csr" : "dense");
	r_str(r, "xstar", xstar_name(pd->xs));
	r_u64(r, "threads", (uint64_t)pt->threads);
	r_str(r, "bind", cli_bind_name(o->s.cfg.bind));
	r_str(r, "replicas", cli_replicas_name(first->res.replicas_mode)); /* as used */
	r_str(r, "replicas_asked", cli_replicas_name(pt->replicas));
	/* the hot set of the first run (it depends on the data and the plan only) */
	r_u64(r, "hot_coords", first->res.hot_coords);
	r_num(r, "hot_nnz_share", first->res.hot_nnz_share);
	r_u64(r, "delay", pt->delay);
	r_u64(r, "data_bits", (uint64_t)feral_precision_bits(pt->data_prec));
	r_u64(r, "model_bits", (uint64_t)feral_precision_bits(pt->model_prec));
	r_str(r, "precision", dmg);
	r_str(r, "rounding", cli_rounding_name(o->s.cfg.rounding));
	r_str(r, "sampling", sampling_name(o->s.cfg.lambda));
	r_num(r, "lambda", o->s.cfg.lambda);
	r_num(r, "step", first->res.step);
	r_num(r, "l2", o->s.cfg.l2);
	r_str(r, "budget", o->s.cfg.max_updates ? "updates" : "seconds");
	r_num(r, "budget_value",
	      o->s.cfg.max_updates ? (double)o->s.cfg.max_updates : o->s.cfg.seconds);
	r_u64(r, "repeat", (uint64_t)R);
	r_num(r, "updates", median(upd, R));
	r_num(r, "seconds", median(sec, R));
	r_num(r, "updates_per_s", u_med);
	r_num(r, "updates_per_s_min", vmin(ups, R));
	r_num(r, "updates_per_s_max", vmax(ups, R));
	r_num(r, "updates_per_cpu_s", median(cpu, R));
	r_num(r, "bytes_per_row", bytes_row);
	r_num(r, "bytes_per_s", u_med * bytes_row);
	/* A fraction above ROOFLINE_MAX means the probe ran in a cache (or the
	 * data did): the fraction is then not reported, and the record says so. */
	double sread = pt->stream ? pt->stream->read_bytes_per_s : NAN;
	double roof = sread > 0 ? u_med * bytes_row / sread : NAN;
	int in_cache = isfinite(roof) && roof > ROOFLINE_MAX;
	r_num(r, "stream_bytes_per_s", sread);
	r_num(r, "stream_triad_bytes_per_s", pt->stream ? pt->stream->triad_bytes_per_s : NAN);
	r_u64(r, "stream_array_bytes", pt->stream ? pt->stream->array_bytes : 0);
	r_num(r, "roofline_fraction", in_cache ? NAN : roof);
	r_bool(r, "probe_in_cache", in_cache);
	r_str(r, "horizon_metric", feral_trace_metric_name(solver_xstar(o, pd)
	                                                            ? FERAL_TRACE_REL_ERROR
	                                                            : FERAL_TRACE_OBJECTIVE));
	r_num(r, "horizon", median(hz, R));
	r_num(r, "horizon_min", vmin(hz, R));
	r_num(r, "horizon_max", vmax(hz, R));
	r_bool(r, "plateau_reached", !pt->unsupported && R > 0 && 2 * plateau > R);
	r_num(r, "target", o->target);
	r_num(r, "time_to_target", median(ttt, R));
	r_num(r, "relative_error", median(err, R));
	r_num(r, "relative_residual", median(res, R));
	r_num(r, "objective", median(obj, R));
	r_num(r, "accuracy", median(acc, R));
	r_num(r, "trace_points", median(tl, R));
	r_num(r, "saturations", median(sat, R));
	r_num(r, "model_scale", first->res.model_scale);
	/* asynchrony, measured on a sample of the updates (src/async.c) */
	r_num(r, "staleness_mean", median(smean, R));
	r_num(r, "staleness_p99", median(sp99, R));
	r_num(r, "staleness_max", vmax(smax, R));
	r_num(r, "conflict_rate", median(conf, R));
	r_arr(r, "staleness_hist", shist, FERAL_STALENESS_BUCKETS);
	r_bool(r, "oversubscribed", pt->threads > m->nproc || first->res.oversubscribed);
	r_u64(r, "bind_failures", (uint64_t)first->res.bind_failures);
	r_num(r, "peak_rss_bytes", vmax(rss, R));
	r_u64(r, "seed", o->s.cfg.seed);
	r_str(r, "status", status);
	r_str(r, "warning", first->res.warning);
	(void)ok_runs;
}

int sweep_run(const struct opts *o, const struct machine *m, const struct problem_data *pd,
              const struct bench_stream *streams, int nstreams, FILE *table, FILE *trace_f,
              struct sweep *sw)
{
	memset(sw, 0, sizeof *sw);
	int npoints = o->nprec * o->nthreads * o->nrepl * o->nmethods * o->ndelay;
	sw->pts = calloc((size_t)npoints, sizeof *sw->pts);
	if (!sw->pts) {
		fprintf(stderr, "%s: out of memory\n", BENCH_PROG);
		return 1;
	}
	char out_jsonl[4200] = "";
	if (o->out && o->json)
		sibling(o->out, "", "jsonl", out_jsonl, sizeof out_jsonl);
	int header_shown = 0;
	for (int ip = 0; ip < o->nprec && !*o->stop; ip++) {
		enum feral_precision dp;
		feral_precision_from_bits(o->prec[ip], &dp);
		struct feral_dataset *q = NULL;
		char qmsg[600];
		const struct feral_dataset *ds = problem_at_precision(o, pd, o->prec[ip], &q, qmsg,
		                                                      sizeof qmsg);
		for (int it = 0; it < o->nthreads && !*o->stop; it++)
			for (int ir = 0; ir < o->nrepl * o->nmethods * o->ndelay && !*o->stop; ir++) {
				/* methods innermost (their records side by side), then delays */
				struct point *pt = &sw->pts[sw->np];
				pt->method = o->methods[ir % o->nmethods];
				pt->delay = (uint32_t)o->delay[(ir / o->nmethods) % o->ndelay];
				pt->threads = o->threads[it];
				pt->replicas = (enum feral_replicas)o->repl[ir / (o->nmethods * o->ndelay)];
				pt->bits = o->prec[ip];
				pt->data_prec = dp;
				pt->model_prec = o->model_override ? o->model_prec : dp;
				for (int k = 0; k < nstreams; k++)
					if (streams[k].threads == pt->threads)
						pt->stream = &streams[k];
				if (qmsg[0] || !ds) {
					pt->nruns = 1;
					pt->runs[0].st = strncmp(qmsg, "unsupported", 11) == 0
					                         ? FERAL_STATUS_UNSUPPORTED
					                         : FERAL_STATUS_INTERNAL;
					snprintf(pt->runs[0].msg, sizeof pt->runs[0].msg, "%.500s", qmsg);
					pt->runs[0].res.rel_error = NAN;
				} else {
					run_point(o, pd, ds, pt, trace_f, sw->np);
				}
				if (pt->nruns == 0)
					break; /* interrupted before the first run */
				build_record(o, m, pd, ds ? ds : pd->ds, pt);
				sw->any_failed |= pt->failed;
				if (!header_shown++)
					table_header(table);
				table_row(table, &pt->rec);
				fflush(table);
				if (o->out) {
					int w = record_append(&pt->rec, o->out, out_jsonl);
					if (w) {
						sw->out_rc = w;
						*o->stop = *o->stop ? *o->stop : -1;
					}
				}
				sw->np++;
			}
		feral_dataset_destroy(&q);
	}
	return 0;
}
