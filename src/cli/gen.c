/* feral gen KIND -o OUT: synthetic problems with their solution x*. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

enum {
	GEN_N = 1, GEN_D, GEN_DENSITY, GEN_COND, GEN_SPREAD, GEN_NOISE, GEN_POWER, GEN_SEED,
	GEN_XSTAR, GEN_HELP = 'h', GEN_OUT = 'o'
};

static const struct option gen_options[] = {
	{"n", required_argument, 0, GEN_N},
	{"d", required_argument, 0, GEN_D},
	{"density", required_argument, 0, GEN_DENSITY},
	{"cond", required_argument, 0, GEN_COND},
	{"spread", required_argument, 0, GEN_SPREAD},
	{"noise", required_argument, 0, GEN_NOISE},
	{"power", required_argument, 0, GEN_POWER},
	{"seed", required_argument, 0, GEN_SEED},
	{"xstar", required_argument, 0, GEN_XSTAR},
	{"output", required_argument, 0, GEN_OUT},
	{"help", no_argument, 0, GEN_HELP},
	{0, 0, 0, 0}};

/* OUT with its extension replaced by "<tag>.<ext>": data.npy -> data.b.npy */
static void sibling(const char *out, const char *tag, const char *ext, char *buf, size_t len)
{
	const char *dot = strrchr(out, '.');
	const char *slash = strrchr(out, '/');
	size_t base = (dot && (!slash || dot > slash)) ? (size_t)(dot - out) : strlen(out);
	snprintf(buf, len, "%.*s.%s.%s", (int)base, out, tag, ext);
}

int cmd_gen_parse(int argc, char **argv, struct gen_opts *o)
{
	int c;
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	/* the kind is the first non-option argument; parse options first */
	struct feral_gen_options go;
	feral_gen_options_init(&go, FERAL_GEN_GAUSSIAN);
	/* the counts as integers: a double would round those above 2^53 and
	 * overflow the conversion back at 2^64 - 1 */
	struct { int set; uint64_t v; } n = {0, 0}, d = {0, 0};
	struct { int set; double v; } dens = {0, 0}, cond = {0, 0}, spread = {0, 0}, noise = {0, 0},
	                              power = {0, 0};
	uint64_t seed = 1;
	const char *out = NULL, *xstar = NULL;
	while ((c = getopt_long(argc, argv, "ho:", gen_options, NULL)) != -1) {
		double v;
		switch (c) {
		case GEN_N:
		case GEN_D: {
			uint64_t u;
			if (!cli_parse_u64(optarg, &u) || u == 0)
				return cli_usage_error(prog, "--%s %s: expected a count >= 1",
				                       c == GEN_N ? "n" : "d", optarg);
			(c == GEN_N ? &n : &d)->set = 1;
			(c == GEN_N ? &n : &d)->v = u;
			break;
		}
		case GEN_DENSITY: case GEN_COND: case GEN_SPREAD: case GEN_NOISE: case GEN_POWER:
			if (!cli_parse_double(optarg, &v))
				return cli_usage_error(prog, "%s: expected a number", optarg);
			if (c == GEN_DENSITY) dens.set = 1, dens.v = v;
			if (c == GEN_COND) cond.set = 1, cond.v = v;
			if (c == GEN_SPREAD) spread.set = 1, spread.v = v;
			if (c == GEN_NOISE) noise.set = 1, noise.v = v;
			if (c == GEN_POWER) power.set = 1, power.v = v;
			break;
		case GEN_SEED:
			if (!cli_parse_u64(optarg, &seed))
				return cli_usage_error(prog, "--seed %s: expected an integer >= 0", optarg);
			break;
		case GEN_XSTAR: xstar = optarg; break;
		case GEN_OUT: out = optarg; break;
		case GEN_HELP:
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
	enum feral_status st = feral_gen_kind_from_name(argv[optind], &kind);
	if (st)
		return cli_usage_error(prog, "gen: unknown kind '%s' (nsw1..nsw5, gaussian, sparse, "
		                             "logistic)", argv[optind]);
	feral_gen_options_init(&go, kind);
	/* go.density stays 0 (init): about 20 nonzeros a row for whatever d is chosen */
	if (n.set) go.n = n.v;
	if (d.set) go.d = d.v;
	if (dens.set) go.density = dens.v;
	if (cond.set) go.cond = cond.v;
	if (spread.set) go.spread = spread.v;
	if (noise.set) go.noise = noise.v;
	if (power.set) go.power = power.v;
	go.seed = seed;
	*o = (struct gen_opts){.go = go, .out = out, .xstar = xstar};
	return CLI_PARSED;
}

int cmd_gen(int argc, char **argv)
{
	struct gen_opts o;
	int prc = cmd_gen_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	struct feral_gen_options go = o.go;
	const char *out = o.out, *xstar = o.xstar;
	struct feral_error err = {0};
	enum feral_status st;
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

