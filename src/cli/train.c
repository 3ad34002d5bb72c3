/* feral train DATA [--test T] [-o MODEL]: linear classifiers, binary or
 * one-vs-rest. */
#include "checkpoint.h"
#include "cmd.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	TRAIN_JSON = OPT_SOLVER_LAST + 1, TRAIN_TEST, TRAIN_POSITIVE, TRAIN_OVR, TRAIN_MULTICLASS,
	TRAIN_TRACE, TRAIN_CKPT_EVERY, TRAIN_CKPT, TRAIN_RESUME, TRAIN_BIAS, TRAIN_NO_BIAS,
	TRAIN_INIT, TRAIN_HELP = 'h', TRAIN_OUT = 'o'
};

static const struct option train_options[] = {
	CLI_SOLVER_OPTIONS,
	{"json", no_argument, 0, TRAIN_JSON},
	{"test", required_argument, 0, TRAIN_TEST},
	{"positive", required_argument, 0, TRAIN_POSITIVE},
	{"ovr", no_argument, 0, TRAIN_OVR},
	{"multiclass", required_argument, 0, TRAIN_MULTICLASS},
	{"checkpoint-every", required_argument, 0, TRAIN_CKPT_EVERY},
	{"checkpoint", required_argument, 0, TRAIN_CKPT},
	{"resume", required_argument, 0, TRAIN_RESUME},
	{"trace", required_argument, 0, TRAIN_TRACE},
	{"bias", required_argument, 0, TRAIN_BIAS},
	{"no-bias", no_argument, 0, TRAIN_NO_BIAS},
	{"init", required_argument, 0, TRAIN_INIT},
	{"output", required_argument, 0, TRAIN_OUT},
	{"help", no_argument, 0, TRAIN_HELP},
	{0, 0, 0, 0}};

static const char *const TRAIN_USAGE =
	"usage: feral train DATA [--test T] [-o MODEL] [--json] [options]\n"
	"Linear classifier (--loss logistic by default, or hinge) by weighted SGD.\n"
	"Labels: two distinct values (smaller -> -1), or --positive L1,L2,...\n"
	"  --ovr, --multiclass ovr   one-vs-rest: one binary model per label\n"
	"                (label c against the rest), prediction = argmax of the\n"
	"                scores; the model file holds all K weight vectors\n"
	"  --test T      report test accuracy on T (same label mapping)\n"
	"  -o MODEL      write the model (text)\n"
	"  --bias B      intercept: append the constant feature B to every row, as\n"
	"                liblinear's -B (default 1); its weight is regularised like\n"
	"                the others, and the intercept is B times it\n"
	"  --no-bias     no intercept (also --bias -1)\n"
	"  --init F      start from a model file (-o of an earlier train) or a vector\n"
	"                (.npy float32/64, .mtx, text) of d or d+1 weights (--ovr: K\n"
	"                blocks, class after class)\n"
	"  --trace F     write the convergence trace as CSV\n"
	CLI_CKPT_HELP
	"Defaults here: --loss logistic --method newton (svrg on dense data with n >= 128 d;\n"
	"8/16-bit model: halp; hinge or --recenter: sgd) --tol 1e-6, --epochs 1000 passes\n"
	"(newton), 100 (svrg, halp) or 10 (sgd)\n";

/* Results of the K binary solves, summed (means for objective and
 * residual), as one result for the text and JSON output. */
static void ovr_add(struct feral_result *agg, const struct feral_result *r)
{
	agg->updates += r->updates;
	agg->seconds += r->seconds;
	agg->monitor_seconds += r->monitor_seconds;
	agg->objective += r->objective;
	agg->rel_residual += r->rel_residual;
	agg->step = r->step;
	agg->mu = r->mu;
	agg->converged &= r->converged;
	if (!(agg->grad_norm_rel >= r->grad_norm_rel)) /* the worst class (NaN: none) */
		agg->grad_norm_rel = r->grad_norm_rel;
	agg->grad_seconds += r->grad_seconds;
	agg->cpu_seconds += r->cpu_seconds;
	/* asynchrony: the worst class (NaN: no sample) */
	if (!(agg->staleness_mean >= r->staleness_mean))
		agg->staleness_mean = r->staleness_mean;
	if (!(agg->conflict_rate >= r->conflict_rate))
		agg->conflict_rate = r->conflict_rate;
	if (r->staleness_p99 > agg->staleness_p99)
		agg->staleness_p99 = r->staleness_p99;
	if (r->staleness_max > agg->staleness_max)
		agg->staleness_max = r->staleness_max;
	agg->threads = r->threads;
	agg->saturations += r->saturations;
	agg->writes += r->writes;
	agg->avg_seconds += r->avg_seconds;
	agg->kernel = r->kernel;
	agg->oversubscribed |= r->oversubscribed;
	agg->bind_failures += r->bind_failures;
	if (r->model_scale > agg->model_scale)
		agg->model_scale = r->model_scale;
	if (!agg->warning[0] && r->warning[0])
		snprintf(agg->warning, sizeof agg->warning, "%s", r->warning);
}

static int train_ovr(struct cli_solver *s, struct feral_dataset *ds, const char *path,
                     const char *test, const char *init, const char *out, int json)
{
	const uint64_t nb = s->bias > 0, dfeat = ds->d - nb; /* the bias column is the last */
	struct feral_dataset *ts = NULL;
	double *labels = NULL, *y0 = NULL, *w = NULL;
	int rc = 0;
	uint64_t k = cli_distinct_labels(ds, &labels);
	if (!labels)
		return 1;
	if (k < 2 || k > CLI_MODEL_MAX_CLASSES) {
		rc = cli_usage_error(prog, "%s: --ovr needs 2 to %d distinct labels, found %llu", path,
		                     CLI_MODEL_MAX_CLASSES, (unsigned long long)k);
		goto done;
	}
	if (test) {
		if ((rc = cli_load_data(test, FERAL_PRECISION_F32, s->cfg.seed, dfeat, s->bias, &ts)))
			goto done;
		if (ts->d > ds->d) {
			rc = cli_usage_error(prog, "%s: %llu features, more than the %llu of %s", test,
			                     (unsigned long long)(ts->d - nb), (unsigned long long)dfeat,
			                     path);
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
	if (init && (rc = cli_load_init(init, dfeat, s->bias, k, w)))
		goto done;
	cli_install_signals(&s->cfg);
	cli_pick_method(s, ds);
	struct feral_error err = {0};
	struct feral_result agg;
	memset(&agg, 0, sizeof agg);
	agg.rel_error = NAN;
	agg.converged = 1;
	agg.grad_norm_rel = NAN;
	agg.staleness_mean = NAN;
	agg.conflict_rate = NAN;
	enum feral_status st = FERAL_OK;
	uint64_t done_k = 0;
	for (uint64_t c = 0; c < k && st == FERAL_OK; c++) {
		for (uint64_t i = 0; i < ds->n; i++)
			ds->y[i] = y0[i] == labels[c] ? 1 : -1;
		struct feral_config cfg = s->cfg;
		cfg.seed = s->cfg.seed + c; /* an independent stream per class */
		uint64_t hist[FERAL_STALENESS_BUCKETS] = {0};
		cfg.staleness_hist = hist;
		struct feral_result r;
		st = feral_solve(ds, &cfg, NULL, w + c * d, &r, NULL, &err);
		for (int b = 0; b < FERAL_STALENESS_BUCKETS; b++) /* summed over the classes */
			s->staleness_hist[b] += hist[b];
		if (st && st != FERAL_STATUS_DIVERGED && st != FERAL_STATUS_INTERRUPTED)
			break;
		done_k++;
		ovr_add(&agg, &r);
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
	double train_acc = cli_ovr_accuracy(ds, y0, w, d, k, labels);
	double test_acc = ts ? cli_ovr_accuracy(ts, ts->y, w, d, k, labels) : NAN;
	struct cli_model_out m = {.loss = s->cfg.loss, .d = dfeat, .k = k, .w = w, .labels = labels,
	                          .bias = s->bias};
	if (out && (rc = cli_model_save(prog, out, &m)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		cli_json_result(&j, ds, s, &agg);
		cli_json_str(&j, "multiclass", "ovr");
		cli_json_u64(&j, "classes", k);
		cli_json_num(&j, "train_accuracy", train_acc);
		cli_json_num(&j, "test_accuracy", test_acc);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		cli_print_result(ds, &agg);
		fprintf(stderr, "%s: one-vs-rest, %llu classes: train accuracy %.4f", prog,
		        (unsigned long long)k, train_acc);
		if (ts)
			fprintf(stderr, ", test accuracy %.4f (%llu rows)", test_acc,
			        (unsigned long long)ts->n);
		fputc('\n', stderr);
	}
	if (st == FERAL_OK)
		cli_warn_unconverged(&s->cfg, &agg);
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = cli_signal_exit();
done:
	free(labels);
	free(y0);
	free(w);
	feral_dataset_destroy(&ts);
	return rc;
}

/* The test set under the training set's label mapping.  0 or an exit code. */
static int load_test(const char *test, const char *path, const struct feral_dataset *ds,
                     double bias, const char *positive, double neg, double pos,
                     struct feral_dataset **ts)
{
	const uint64_t nb = bias > 0, dfeat = ds->d - nb;
	int rc = cli_load_data(test, FERAL_PRECISION_F32, 1, dfeat, bias, ts);
	if (rc)
		return rc;
	struct feral_dataset *t = *ts;
	if (t->d > ds->d)
		return cli_usage_error(prog, "%s: %llu features, more than the %llu of %s", test,
		                       (unsigned long long)(t->d - nb), (unsigned long long)dfeat, path);
	if (positive) {
		double tneg, tpos;
		return cli_binarize(test, t, positive, &tneg, &tpos);
	}
	for (uint64_t i = 0; i < t->n; i++)
		if (t->y[i] != neg && t->y[i] != pos)
			return cli_usage_error(prog, "%s: row %llu: label %g is not one of %g, %g", test,
			                       (unsigned long long)i + 1, t->y[i], neg, pos);
	for (uint64_t i = 0; i < t->n; i++)
		t->y[i] = t->y[i] == pos && neg != pos ? 1 : -1;
	return 0;
}

int cmd_train_parse(int argc, char **argv, struct train_opts *o)
{
	struct cli_solver s;
	cli_solver_init(&s);
	s.cfg.loss = FERAL_LOSS_LOGISTIC;
	s.cfg.epochs = 10; /* SGD's; the default SVRG gets 100 (cli_solver_finish) */
	s.cfg.tol = 1e-6;
	s.auto_method = 1;
	s.bias = 1; /* an intercept, as scikit-learn's default */
	const char *out = NULL, *test = NULL, *positive = NULL, *trace_path = NULL, *init = NULL;
	int json = 0, c, ovr = 0;
	struct cli_ckpt ck = {0};
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	while ((c = getopt_long(argc, argv, "ho:", train_options, NULL)) != -1) {
		int h = cli_solver_option(prog, &s, c, optarg);
		if (h < 0)
			return 2;
		if (h)
			continue;
		switch (c) {
		case TRAIN_JSON: json = 1; break;
		case TRAIN_TEST: test = optarg; break;
		case TRAIN_POSITIVE: positive = optarg; break;
		case TRAIN_OVR: ovr = 1; break;
		case TRAIN_MULTICLASS:
			if (!strcmp(optarg, "ovr"))
				ovr = 1;
			else if (!strcmp(optarg, "binary"))
				ovr = 0;
			else
				return cli_usage_error(prog, "--multiclass %s: expected ovr or binary", optarg);
			break;
		case TRAIN_CKPT_EVERY: ck.every = optarg; break;
		case TRAIN_CKPT: ck.path = optarg; break;
		case TRAIN_RESUME: ck.resume = optarg; break;
		case TRAIN_TRACE: trace_path = optarg; break;
		case TRAIN_OUT: out = optarg; break;
		case TRAIN_BIAS:
			if (cli_bias_arg(optarg, &s.bias))
				return 2;
			break;
		case TRAIN_NO_BIAS: s.bias = 0; break;
		case TRAIN_INIT: init = optarg; break;
		case TRAIN_HELP:
			printf("%s%s", TRAIN_USAGE, CLI_SOLVER_HELP);
			return 0;
		default: return 2;
		}
	}
	if (s.cfg.loss == FERAL_LOSS_LS)
		return cli_usage_error(prog, "train: classification losses only (use 'feral solve')");
	/* no --threads: every physical core, resolved once the data is loaded
	 * (cli_pick_method), so a small Newton solve skips the topology */
	if (cli_solver_finish(prog, &s) < 0)
		return 2;
	if (argc - optind != 1)
		return cli_usage_error(prog, "train: expected one DATA file (see feral train --help)");
	if (ovr && positive)
		return cli_usage_error(prog, "--ovr and --positive conflict: give one");
	if (init && ck.resume)
		return cli_usage_error(prog, "--init and --resume conflict: give one");
	if (ovr && (ck.every || ck.path || ck.resume || trace_path))
		return cli_usage_error(prog, "--ovr: --checkpoint, --resume and --trace are for "
		                             "binary models only");
	*o = (struct train_opts){.s = s, .out = out, .test = test, .positive = positive,
	                         .trace_path = trace_path, .init = init, .json = json, .ovr = ovr,
	                         .ck = ck};
	return CLI_PARSED;
}

int cmd_train(int argc, char **argv)
{
	struct train_opts o;
	int prc = cmd_train_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	struct cli_solver s = o.s;
	const char *out = o.out, *test = o.test, *positive = o.positive, *trace_path = o.trace_path;
	const char *init = o.init;
	int json = o.json, ovr = o.ovr;
	struct cli_ckpt ck = o.ck;
	const char *path = argv[optind];
	struct feral_dataset *ds = NULL, *ts = NULL;
	double *w = NULL;
	double neg, pos;
	int rc = cli_load_data(path, s.data_precision, s.cfg.seed, 0, s.bias, &ds);
	if (rc)
		return rc;
	const uint64_t dfeat = ds->d - (s.bias > 0); /* the bias column is the last */
	if (ovr) {
		rc = train_ovr(&s, ds, path, test, init, out, json);
		feral_dataset_destroy(&ds);
		return rc;
	}
	if ((rc = cli_binarize(path, ds, positive, &neg, &pos)))
		goto done;
	if (test && (rc = load_test(test, path, ds, s.bias, positive, neg, pos, &ts)))
		goto done;
	w = calloc(ds->d, sizeof *w);
	if (!w) {
		rc = cli_report(prog, FERAL_STATUS_NOMEM, NULL);
		goto done;
	}
	if (init && (rc = cli_load_init(init, dfeat, s.bias, 1, w)))
		goto done;
	if ((rc = cli_ckpt_setup(prog, &ck, &s.cfg, out, ds->n, ds->d, w)))
		goto done;
	cli_install_signals(&s.cfg);
	struct feral_error err = {0};
	struct feral_result r;
	enum feral_status st = cli_solve(ds, &s, NULL, w, &r, trace_path, &err, &rc);
	if (rc)
		goto done;
	double train_acc = feral_accuracy(ds, w);
	/* the test set may have fewer columns: w is read on its first ts->d */
	double test_acc = ts ? feral_accuracy(ts, w) : NAN;
	struct cli_model_out m = {.loss = s.cfg.loss, .d = dfeat, .k = 1, .w = w, .neg = neg,
	                          .pos = pos, .positive = positive, .bias = s.bias};
	if (out && (rc = cli_model_save(prog, out, &m)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		cli_json_result(&j, ds, &s, &r);
		cli_json_num(&j, "train_accuracy", train_acc);
		cli_json_num(&j, "test_accuracy", test_acc);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		cli_print_result(ds, &r);
		fprintf(stderr, "%s: train accuracy %.4f", prog, train_acc);
		if (ts)
			fprintf(stderr, ", test accuracy %.4f (%llu rows)", test_acc,
			        (unsigned long long)ts->n);
		fputc('\n', stderr);
	}
	if (st == FERAL_OK)
		cli_warn_unconverged(&s.cfg, &r);
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = cli_signal_exit();
done:
	free(w);
	feral_dataset_destroy(&ds);
	feral_dataset_destroy(&ts);
	return rc;
}
