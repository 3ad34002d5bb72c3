/* feral info DATA: shape, nonzeros, norms, L_i spread, memory. */
#include "cmd.h"

#include <math.h>

enum { INFO_JSON = 1, INFO_HELP = 'h' };

static const struct option info_options[] = {{"json", no_argument, 0, INFO_JSON},
                                             {"help", no_argument, 0, INFO_HELP},
                                             {0, 0, 0, 0}};

int cmd_info_parse(int argc, char **argv, struct info_opts *o)
{
	int c, json = 0;
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	while ((c = getopt_long(argc, argv, "h", info_options, NULL)) != -1) {
		switch (c) {
		case INFO_JSON: json = 1; break;
		case INFO_HELP: fputs("usage: feral info DATA [--json]\n", stdout); return 0;
		default: return 2;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(prog, "info: expected one DATA file");
	o->json = json;
	return CLI_PARSED;
}

int cmd_info(int argc, char **argv)
{
	struct info_opts o;
	int prc = cmd_info_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	int json = o.json;
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
