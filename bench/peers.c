/* bench: peers, the same data in the same run, with ratios to feral.
 * Least squares: LAPACK dgels (feral_lstsq) and a textbook serial
 * randomized Kaczmarz (peer_kaczmarz.c).  Classification: liblinear
 * (scripts/peer-liblinear.sh) and scikit-learn's SGDClassifier
 * (scripts/peer-sklearn.py) on a LIBSVM copy of the data; each script prints
 * one "RESULT ..." line.  A peer that cannot run is recorded as
 * "unsupported: why", never silently dropped. */
#define _GNU_SOURCE
#include "bench.h"
#include "trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct record *peer_begin(struct peer_ctx *pc, const char *peer)
{
	struct record *r = &pc->recs[pc->n++];
	r->n = 0;
	r_str(r, "git_rev", FERAL_GIT_REV);
	r_str(r, "host", pc->m->host);
	r_str(r, "cpu", pc->m->cpu);
	r_str(r, "problem", pc->pd->name);
	r_u64(r, "n", pc->pd->ds->n);
	r_u64(r, "d", pc->pd->ds->d);
	r_u64(r, "nnz", pc->pd->ds->nnz);
	r_str(r, "xstar", xstar_name(pc->pd->xs));
	r_str(r, "peer", peer);
	return r;
}

/* The common tail of a peer record: its numbers, feral's, and the ratios. */
static void peer_end(struct peer_ctx *pc, struct record *r, const char *status, double seconds,
                     double updates, double rel_error, double ttt, double accuracy,
                     double feral_match_s, const char *command)
{
	const struct record *fr = &pc->ref->rec;
	r_str(r, "status", status);
	r_str(r, "command", command);
	r_num(r, "seconds", seconds);
	r_num(r, "updates", updates);
	r_num(r, "relative_error", rel_error);
	r_num(r, "time_to_target", ttt);
	r_num(r, "accuracy", accuracy);
	r_num(r, "target", pc->o->target);
	r_u64(r, "feral_threads", r_get(fr, "threads")->u);
	r_str(r, "feral_precision", r_get(fr, "precision")->s);
	r_str(r, "feral_kernel", r_get(fr, "kernel")->s);
	double fs = r_get(fr, "seconds")->v, ft = r_get(fr, "time_to_target")->v;
	r_num(r, "feral_seconds", fs);
	r_num(r, "feral_updates", r_get(fr, "updates")->v);
	r_num(r, "feral_updates_per_s", r_get(fr, "updates_per_s")->v);
	r_num(r, "feral_time_to_target", ft);
	r_num(r, "feral_relative_error", r_get(fr, "relative_error")->v);
	r_num(r, "feral_accuracy", r_get(fr, "accuracy")->v);
	r_num(r, "feral_time_to_match", feral_match_s);
	/* ratio > 1: the peer takes longer than feral */
	double ratio = NAN;
	const char *basis = "none";
	if (isfinite(ttt) && isfinite(ft) && ft > 0) {
		ratio = ttt / ft;
		basis = "time_to_target";
	} else if (isfinite(feral_match_s) && feral_match_s > 0 && isfinite(seconds)) {
		ratio = seconds / feral_match_s;
		basis = "time_to_match_accuracy";
	} else if (isfinite(seconds) && isfinite(fs) && fs > 0) {
		ratio = seconds / fs; /* feral never met the target: against its whole budget */
		basis = "feral_budget";
	}
	r_num(r, "time_ratio_peer_over_feral", ratio);
	r_str(r, "ratio_basis", basis);
	double fe = r_get(fr, "relative_error")->v;
	r_num(r, "error_ratio_peer_over_feral",
	      isfinite(rel_error) && isfinite(fe) && fe > 0 ? rel_error / fe : NAN);
}

static void peer_lapack(struct peer_ctx *pc)
{
	struct record *r = peer_begin(pc, "lapack-dgels");
	const struct problem_data *pd = pc->pd;
	const struct feral_dataset *ds = pd->ds;
	if (pd->ds->precision != FERAL_PRECISION_F32) {
		peer_end(pc, r, "unsupported: data not stored as f32", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
#ifndef FERAL_HAVE_LAPACKE
	peer_end(pc, r, "unsupported: built without LAPACKE", NAN, NAN, NAN, NAN, NAN, NAN, "");
	return;
#endif
	if ((double)ds->n * (double)ds->d > BENCH_DGELS_MAX_PEER) {
		char s[128];
		snprintf(s, sizeof s, "unsupported: n*d = %.3g > %.3g doubles", (double)ds->n * ds->d,
		         BENCH_DGELS_MAX_PEER);
		peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, "feral_lstsq");
		return;
	}
	double *x = malloc(ds->d * sizeof *x), secs = NAN;
	struct feral_error err = {0};
	double t = now_s();
	enum feral_status st = x ? feral_lstsq(ds, x, (uint64_t)BENCH_DGELS_MAX_PEER, &err)
	                         : FERAL_STATUS_NOMEM;
	secs = now_s() - t;
	if (st) {
		char s[300];
		if (st == FERAL_STATUS_UNSUPPORTED)
			snprintf(s, sizeof s, "unsupported: %.250s", err.msg);
		else
			snprintf(s, sizeof s, "failed: LAPACKE_dgels: %.250s", err.msg);
		free(x);
		peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, "feral_lstsq");
		return;
	}
	double e = NAN;
	if (pd->x_star) {
		double num = 0, den = 0;
		for (uint64_t j = 0; j < ds->d; j++) {
			num += (x[j] - pd->x_star[j]) * (x[j] - pd->x_star[j]);
			den += pd->x_star[j] * pd->x_star[j];
		}
		e = den > 0 ? num / den : num;
	}
	free(x);
	/* a direct solve: its time to the target is its time (when it meets it) */
	peer_end(pc, r, "ok", secs, NAN, e, isfinite(e) && e <= pc->o->target ? secs : NAN, NAN, NAN,
	         "feral_lstsq: LAPACKE_dgels on a column-major double copy of the f32 data (copy timed)");
}

static void peer_kaczmarz(struct peer_ctx *pc)
{
	struct record *r = peer_begin(pc, "kaczmarz-serial");
	const struct feral_dataset *ds = pc->pd->ds;
	if (ds->precision != FERAL_PRECISION_F32) {
		peer_end(pc, r, "unsupported: data not stored as f32", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
	double fu = r_get(&pc->ref->rec, "updates")->v;
	uint64_t updates = isfinite(fu) && fu > 0 ? (uint64_t)fu : ds->n * 10;
	struct bench_kaczmarz k;
	int rc = bench_kaczmarz_run(ds->n, ds->d,
	                            ds->layout == FERAL_LAYOUT_DENSE ? (const float *)ds->values : NULL,
	                            ds->indptr, ds->indices, (const float *)ds->values, ds->y,
	                            pc->pd->x_star, pc->o->target, updates, 0, pc->o->s.cfg.seed, &k);
	if (rc) {
		peer_end(pc, r, "failed: out of memory", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
	peer_end(pc, r, "ok", k.seconds, (double)k.updates, k.rel_error, k.time_to_target, NAN, NAN,
	         "bench/peer_kaczmarz.c: serial, uniform rows, -O3, same update count as feral");
}

/* Run a command, time it, capture its stdout and stderr (first len - 1
 * bytes).  Returns its exit status, -1 when it could not run. */
static int run_timed(const char *cmd, double *seconds, char *outbuf, size_t len)
{
	double t = now_s();
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t o = 0;
	int c;
	while ((c = fgetc(p)) != EOF)
		if (o + 1 < len)
			outbuf[o++] = (char)c;
	outbuf[o] = 0;
	int st = pclose(p);
	*seconds = now_s() - t;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *python_path(void)
{
	const char *p = getenv("FERAL_PYTHON");
	if (p && *p)
		return p;
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* scripts/<name> of the source tree: $FERAL_SCRIPTS, else scripts/ beside
 * the executable or up to two levels above it (build/bench,
 * build/address/bench).  0, or -1 when not found (out names the default). */
static int peer_script(const char *name, char *out, size_t len)
{
	const char *env = getenv("FERAL_SCRIPTS");
	if (env && *env) {
		snprintf(out, len, "%s/%s", env, name);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	char exe[4096];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (l > 0) {
		exe[l] = 0;
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = 0;
			snprintf(out, len, "%s/scripts/%s", exe, name);
			if (access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "scripts/%s", name);
	return access(out, R_OK) == 0 ? 0 : -1;
}

static void peer_liblinear(struct peer_ctx *pc, const char *svm, double C, int hinge)
{
	struct record *r = peer_begin(pc, "liblinear");
	char script[4200], model[4300], pred[4300], cmd[20000], out[4096];
	double secs = NAN;
	if (peer_script("peer-liblinear.sh", script, sizeof script) != 0) {
		peer_end(pc, r, "unsupported: scripts/peer-liblinear.sh not found (set FERAL_SCRIPTS)",
		         NAN, NAN, NAN, NAN, NAN, NAN, script);
		return;
	}
	snprintf(model, sizeof model, "%s.model", svm);
	snprintf(pred, sizeof pred, "%s.pred", svm);
	/* -s 0: L2-regularised logistic regression (primal), -s 3: L2 hinge (dual) */
	snprintf(cmd, sizeof cmd, "sh '%s' %d %.6g '%s' '%s' '%s' 2>&1", script, hinge ? 3 : 0, C,
	         svm, model, pred);
	int rc = run_timed(cmd, &secs, out, sizeof out);
	double train = NAN, acc = NAN;
	const char *res = strstr(out, "RESULT ");
	if (rc != 0 || !res || sscanf(res, "RESULT %lf %lf", &train, &acc) < 1) {
		char s[300];
		snprintf(s, sizeof s, "unsupported: liblinear-train failed (exit %d): %.200s", rc, out);
		peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, cmd);
		return;
	}
	peer_end(pc, r, "ok", train, NAN, NAN, NAN, acc, NAN, cmd);
}

static void peer_sklearn(struct peer_ctx *pc, const char *svm, double l2, int hinge)
{
	struct record *r = peer_begin(pc, "sklearn-sgd");
	char script[4200], cmd[16000], out[4096];
	double secs = NAN;
	if (peer_script("peer-sklearn.py", script, sizeof script) != 0) {
		peer_end(pc, r, "unsupported: scripts/peer-sklearn.py not found (set FERAL_SCRIPTS)",
		         NAN, NAN, NAN, NAN, NAN, NAN, "sklearn.linear_model.SGDClassifier");
		return;
	}
	snprintf(cmd, sizeof cmd, "%s -W ignore '%s' '%s' %llu %s %.6g %d %llu 2>&1", python_path(),
	         script, svm, (unsigned long long)pc->pd->ds->d, hinge ? "hinge" : "log_loss", l2, 50,
	         (unsigned long long)pc->o->s.cfg.seed);
	int rc = run_timed(cmd, &secs, out, sizeof out);
	double fit = NAN, acc = NAN;
	int iters = 0;
	const char *res = strstr(out, "RESULT ");
	if (rc != 0 || !res || sscanf(res, "RESULT %lf %lf %d", &fit, &acc, &iters) != 3) {
		char s[400];
		snprintf(s, sizeof s, "unsupported: scikit-learn run failed (exit %d): %.300s", rc, out);
		peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, "sklearn.linear_model.SGDClassifier");
		return;
	}
	peer_end(pc, r, "ok", fit, (double)iters * (double)pc->pd->ds->n, NAN, NAN, acc, NAN,
	         "scripts/peer-sklearn.py: sklearn.linear_model.SGDClassifier (fit timed in Python; "
	         "updates = epochs * n)");
}

/* liblinear and scikit-learn on a LIBSVM copy of the data (in `dir`). */
static void peers_classification(struct peer_ctx *pc, const char *dir)
{
	const struct problem_data *pd = pc->pd;
	const struct opts *o = pc->o;
	int hinge = o->s.cfg.loss == FERAL_LOSS_HINGE;
	char svm[4200];
	snprintf(svm, sizeof svm, "%s/peer-%s-%llux%llu-s%llu.svm", dir, pd->name,
	         (unsigned long long)pd->ds->n, (unsigned long long)pd->ds->d,
	         (unsigned long long)o->data_seed);
	struct feral_error err = {0};
	if (pd->ds->precision != FERAL_PRECISION_F32 ||
	    (access(svm, R_OK) != 0 &&
	     (make_dirs(dir), feral_dataset_save(pd->ds, svm, &err)) != FERAL_OK)) {
		struct record *r = peer_begin(pc, "liblinear");
		peer_end(pc, r, "failed: cannot write the LIBSVM file", NAN, NAN, NAN, NAN, NAN, NAN, svm);
		return;
	}
	double l2 = o->s.cfg.l2 > 0 ? o->s.cfg.l2 : BENCH_CLASSIF_L2;
	/* (1/n) sum loss + l2/2 |w|^2  ==  C sum loss + 1/2 |w|^2 */
	double C = 1.0 / ((double)pd->ds->n * l2);
	peer_liblinear(pc, svm, C, hinge);
	peer_sklearn(pc, svm, l2, hinge);
}

/* feral's time to reach a peer's training accuracy (within 0.5 points), from
 * the reference point's trace: the trace's rel_residual is the error rate. */
static void peers_fill_match(struct peer_ctx *pc, const struct feral_dataset *ds,
                             const struct opts *o)
{
	/* re-run the reference point once with a trace to find the crossing */
	for (int k = 0; k < pc->n; k++) {
		struct record *r = &pc->recs[k];
		struct field *acc = NULL, *match = NULL, *ratio = NULL, *secs = NULL;
		for (int i = 0; i < r->n; i++) {
			if (!strcmp(r->f[i].key, "accuracy"))
				acc = &r->f[i];
			if (!strcmp(r->f[i].key, "feral_time_to_match"))
				match = &r->f[i];
			if (!strcmp(r->f[i].key, "time_ratio_peer_over_feral"))
				ratio = &r->f[i];
			if (!strcmp(r->f[i].key, "seconds"))
				secs = &r->f[i];
		}
		if (!acc || !isfinite(acc->v))
			continue;
		struct feral_config cfg = o->s.cfg;
		cfg.threads = pc->ref->threads;
		cfg.replicas = pc->ref->replicas;
		cfg.model_precision = pc->ref->model_prec;
		cfg.stop_flag = pc->o->stop;
		if (cfg.max_updates == 0)
			cfg.trace_every = (uint64_t)fmax(1, r_get(&pc->ref->rec, "updates")->v / 40);
		else
			cfg.trace_every = cfg.max_updates / 40 ? cfg.max_updates / 40 : 1;
		double *x = calloc(ds->d, sizeof *x);
		struct feral_trace tr = {0};
		struct feral_result res;
		if (x && feral_solve(ds, &cfg, NULL, x, &res, &tr, NULL) == FERAL_OK) {
			double want = 1.0 - acc->v + 0.005; /* error rate */
			match->v = feral_trace_time_to_target(&tr, FERAL_TRACE_REL_RESIDUAL, want);
			if (isfinite(match->v) && match->v > 0 && isfinite(secs->v)) {
				ratio->v = secs->v / match->v;
				for (int i = 0; i < r->n; i++)
					if (!strcmp(r->f[i].key, "ratio_basis"))
						snprintf(r->f[i].s, sizeof r->f[i].s, "time_to_match_accuracy");
			}
		}
		feral_trace_free(&tr);
		free(x);
	}
}

int peers_run(const struct opts *o, const struct machine *m, const struct problem_data *pd,
              const struct sweep *sw, FILE *table, struct peer_ctx *pc)
{
	memset(pc, 0, sizeof *pc);
	if (!o->peers || sw->np == 0 || *o->stop)
		return 0;
	/* against the fastest f32 point (else the first) */
	const struct point *pts = sw->pts;
	int best = 0, rc = 0;
	for (int k = 0; k < sw->np; k++)
		if (pts[k].bits == 32 && !pts[k].unsupported && !pts[k].failed &&
		    (pts[best].bits != 32 || r_get(&pts[k].rec, "updates_per_s")->v >
		                                     r_get(&pts[best].rec, "updates_per_s")->v))
			best = k;
	pc->o = o;
	pc->m = m;
	pc->pd = pd;
	pc->ref = &pts[best];
	if (o->s.cfg.loss == FERAL_LOSS_LS) {
		peer_lapack(pc);
		peer_kaczmarz(pc);
	} else {
		peers_classification(pc, o->cache_dir);
		peers_fill_match(pc, pd->ds, o);
	}
	fprintf(table, "\npeers (ratio > 1: the peer takes longer than feral at %llu thread(s), %s):\n",
	        (unsigned long long)pts[best].threads, r_get(&pts[best].rec, "precision")->s);
	fprintf(table, "%-16s %10s %12s %10s %9s %9s  %s\n", "peer", "seconds", "rel_error",
	        "t_target", "accuracy", "ratio", "status");
	for (int k = 0; k < pc->n; k++) {
		const struct record *r = &pc->recs[k];
		char a[32], b[32], c[32], d[32], e[32];
		fmt_num(a, sizeof a, r_get(r, "seconds")->v, "%.3f");
		fmt_num(b, sizeof b, r_get(r, "relative_error")->v, "%.2e");
		fmt_num(c, sizeof c, r_get(r, "time_to_target")->v, "%.3f");
		fmt_num(d, sizeof d, r_get(r, "accuracy")->v, "%.4f");
		fmt_num(e, sizeof e, r_get(r, "time_ratio_peer_over_feral")->v, "%.2f");
		fprintf(table, "%-16s %10s %12s %10s %9s %9s  %s\n", r_get(r, "peer")->s, a, b, c, d, e,
		        r_get(r, "status")->s);
		if (o->out) {
			char pp[4200];
			sibling(o->out, "-peers", "csv", pp, sizeof pp);
			if (record_append(r, pp, NULL))
				rc = 1;
		}
	}
	return rc;
}
