/* feral solve A [B] [-o X]: least squares / linear systems. */
#include "checkpoint.h"
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

enum {
	SOLVE_JSON = OPT_SOLVER_LAST + 1, SOLVE_XSTAR, SOLVE_REFERENCE, SOLVE_TRACE,
	SOLVE_CKPT_EVERY, SOLVE_CKPT, SOLVE_RESUME, SOLVE_BIAS, SOLVE_NO_BIAS, SOLVE_INIT,
	SOLVE_HELP = 'h', SOLVE_OUT = 'o'
};

static const struct option solve_options[] = {
	CLI_SOLVER_OPTIONS,
	{"json", no_argument, 0, SOLVE_JSON},
	{"xstar", required_argument, 0, SOLVE_XSTAR},
	{"reference", required_argument, 0, SOLVE_REFERENCE},
	{"checkpoint-every", required_argument, 0, SOLVE_CKPT_EVERY},
	{"checkpoint", required_argument, 0, SOLVE_CKPT},
	{"resume", required_argument, 0, SOLVE_RESUME},
	{"trace", required_argument, 0, SOLVE_TRACE},
	{"bias", required_argument, 0, SOLVE_BIAS},
	{"no-bias", no_argument, 0, SOLVE_NO_BIAS},
	{"init", required_argument, 0, SOLVE_INIT},
	{"output", required_argument, 0, SOLVE_OUT},
	{"help", no_argument, 0, SOLVE_HELP},
	{0, 0, 0, 0}};

static const char *const SOLVE_USAGE =
	"usage: feral solve A [B] [-o X] [--xstar XSTAR] [--json] [options]\n"
	"Least squares min ||Ax - b||^2 by weighted SGD / randomized Kaczmarz.\n"
	"  -o X          write the solution (.npy float64, .mtx array, or text)\n"
	"  --xstar F     known solution: report and stop on ||x-x*||^2/||x*||^2\n"
	"  --reference lapack   use LAPACK's least-squares solution as x*\n"
	"  --bias B      fit an intercept: append the constant column B to A (off by\n"
	"                default; --bias -1 or --no-bias: off); x then has d+1 entries,\n"
	"                the last the weight of that column (intercept B x_d), and its\n"
	"                --l2 applies to it too\n"
	"  --init F      start from x0 in F (.npy float32/64, .mtx, text, or a model\n"
	"                file of feral train): d entries, or d+1 with --bias\n"
	CLI_CKPT_HELP
	"  --trace F     write the convergence trace as CSV\n";

static int write_solution(const char *path, const double *x, uint64_t d)
{
	struct feral_error err = {0};
	enum feral_status st = feral_vector_save(path, x, d, &err);
	return st ? cli_report(prog, st, &err) : 0;
}

int cmd_solve_parse(int argc, char **argv, struct solve_opts *o)
{
	struct cli_solver s;
	cli_solver_init(&s);
	s.auto_method = 1;
	const char *out = NULL, *xstar_path = NULL, *trace_path = NULL, *init = NULL;
	int json = 0, c, reference = 0;
	struct cli_ckpt ck = {0};
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	while ((c = getopt_long(argc, argv, "ho:", solve_options, NULL)) != -1) {
		int h = cli_solver_option(prog, &s, c, optarg);
		if (h < 0)
			return 2;
		if (h)
			continue;
		switch (c) {
		case SOLVE_JSON: json = 1; break;
		case SOLVE_XSTAR: xstar_path = optarg; break;
		case SOLVE_REFERENCE:
			if (strcmp(optarg, "lapack") != 0)
				return cli_usage_error(prog, "--reference %s: only 'lapack' is known", optarg);
			reference = 1;
			break;
		case SOLVE_CKPT_EVERY: ck.every = optarg; break;
		case SOLVE_CKPT: ck.path = optarg; break;
		case SOLVE_RESUME: ck.resume = optarg; break;
		case SOLVE_TRACE: trace_path = optarg; break;
		case SOLVE_OUT: out = optarg; break;
		case SOLVE_BIAS:
			if (cli_bias_arg(optarg, &s.bias))
				return 2;
			break;
		case SOLVE_NO_BIAS: s.bias = 0; break;
		case SOLVE_INIT: init = optarg; break;
		case SOLVE_HELP:
			printf("%s%s", SOLVE_USAGE, CLI_SOLVER_HELP);
			return 0;
		default: return 2;
		}
	}
	if (s.cfg.loss != FERAL_LOSS_LS)
		return cli_usage_error(prog, "solve: least squares only (use 'feral train' for --loss %s)",
		                       cli_loss_name(s.cfg.loss));
	/* no --threads: every physical core, resolved once the data is loaded
	 * (cli_pick_method), so a small Newton solve skips the topology */
	if (cli_solver_finish(prog, &s) < 0)
		return 2;
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2)
		return cli_usage_error(prog, "solve: expected A [B] (see feral solve --help)");
	*o = (struct solve_opts){.s = s, .out = out, .xstar_path = xstar_path,
	                         .trace_path = trace_path, .init = init, .json = json,
	                         .reference = reference, .ck = ck};
	return CLI_PARSED;
}

int cmd_solve(int argc, char **argv)
{
	struct solve_opts o;
	int prc = cmd_solve_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	struct cli_solver s = o.s;
	const char *out = o.out, *xstar_path = o.xstar_path, *trace_path = o.trace_path;
	const char *init = o.init;
	int json = o.json, reference = o.reference;
	struct cli_ckpt ck = o.ck;
	int nargs = argc - optind;
	struct feral_dataset *ds = NULL;
	double *xs = NULL, *x = NULL;
	if (init && ck.resume)
		return cli_usage_error(prog, "--init and --resume conflict: give one");
	int rc = cli_load_data(argv[optind], s.data_precision, s.cfg.seed, 0, s.bias, &ds);
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
	if (xstar_path && (rc = cli_load_vector(xstar_path, ds->d, "x*", &xs)))
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
		rc = cli_report(prog, FERAL_STATUS_NOMEM, NULL);
		goto done;
	}
	if (init && (rc = cli_load_init(init, ds->d - (s.bias > 0), s.bias, 1, x)))
		goto done;
	if ((rc = cli_ckpt_setup(prog, &ck, &s.cfg, out, ds->n, ds->d, x)))
		goto done;
	cli_install_signals(&s.cfg);
	struct feral_result r;
	enum feral_status st = cli_solve(ds, &s, xs, x, &r, trace_path, &err, &rc);
	if (rc)
		goto done;
	if (out && (rc = write_solution(out, x, ds->d)))
		goto done;
	if (json) {
		struct cli_json j;
		cli_json_begin(&j, stdout);
		cli_json_result(&j, ds, &s, &r);
		cli_json_str(&j, "status", feral_strerror(st));
		cli_json_end(&j);
	} else {
		cli_print_result(ds, &r);
	}
	if (st == FERAL_OK)
		cli_warn_unconverged(&s.cfg, &r);
	if (st == FERAL_STATUS_DIVERGED)
		rc = cli_report(prog, st, &err);
	else if (st == FERAL_STATUS_INTERRUPTED)
		rc = (fprintf(stderr, "%s: interrupted: wrote the current iterate\n", prog),
		      cli_signal_exit());
done:
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
	return rc;
}
