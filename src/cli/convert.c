/* feral convert IN OUT: any supported format to any other. */
#include "cmd.h"

enum {
	CONVERT_PRECISION = 1, CONVERT_SEED, CONVERT_TARGETS, CONVERT_TARGETS_OUT,
	CONVERT_HELP = 'h'
};

static const struct option convert_options[] = {
	{"precision", required_argument, 0, CONVERT_PRECISION},
	{"seed", required_argument, 0, CONVERT_SEED},
	{"targets", required_argument, 0, CONVERT_TARGETS},
	{"targets-out", required_argument, 0, CONVERT_TARGETS_OUT},
	{"help", no_argument, 0, CONVERT_HELP},
	{0, 0, 0, 0}};

int cmd_convert_parse(int argc, char **argv, struct convert_opts *o)
{
	enum feral_precision prec = FERAL_PRECISION_F32;
	uint64_t seed = 1;
	const char *targets = NULL, *targets_out = NULL;
	int c, bits;
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	while ((c = getopt_long(argc, argv, "h", convert_options, NULL)) != -1) {
		switch (c) {
		case CONVERT_PRECISION:
			if (!cli_parse_int(optarg, 8, 32, &bits) || bits == 64 ||
			    feral_precision_from_bits(bits, &prec) != FERAL_OK)
				return cli_usage_error(prog, "--precision %s: expected 32, 16 or 8", optarg);
			break;
		case CONVERT_SEED:
			if (!cli_parse_u64(optarg, &seed))
				return cli_usage_error(prog, "--seed %s: expected an integer >= 0", optarg);
			break;
		case CONVERT_TARGETS: targets = optarg; break;
		case CONVERT_TARGETS_OUT: targets_out = optarg; break;
		case CONVERT_HELP:
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
	*o = (struct convert_opts){.prec = prec, .seed = seed, .targets = targets,
	                           .targets_out = targets_out};
	return CLI_PARSED;
}

int cmd_convert(int argc, char **argv)
{
	struct convert_opts o;
	int prc = cmd_convert_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	enum feral_precision prec = o.prec;
	uint64_t seed = o.seed;
	const char *targets = o.targets, *targets_out = o.targets_out;
	struct feral_dataset *ds = NULL;
	int rc = cli_load_data(argv[optind], prec, seed, 0, 0, &ds);
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
