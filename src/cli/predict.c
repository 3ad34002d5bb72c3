/* feral predict MODEL DATA: labels, one a line, and the accuracy. */
#include "cmd.h"
#include "internal.h"
#include "model.h"

#include <string.h>

enum { PREDICT_JSON = 1, PREDICT_HELP = 'h' };

static const struct option predict_options[] = {{"json", no_argument, 0, PREDICT_JSON},
                                                {"help", no_argument, 0, PREDICT_HELP},
                                                {0, 0, 0, 0}};

static const char *const PREDICT_USAGE =
	"usage: feral predict MODEL DATA [--json]\n"
	"Prints one predicted label per line; accuracy on stderr (or --json).\n"
	"MODEL: binary (feral-model 1) or one-vs-rest (feral-model 2: the label\n"
	"of the largest score).  A model trained with --bias B adds its intercept\n"
	"(B times the last weight of each class).\n";

int cmd_predict_parse(int argc, char **argv, struct predict_opts *o)
{
	int c, json = 0;
	optind = 0; /* 0, not 1: restarts getopt_long in full (see cmd.h) */
	while ((c = getopt_long(argc, argv, "h", predict_options, NULL)) != -1) {
		switch (c) {
		case PREDICT_JSON: json = 1; break;
		case PREDICT_HELP: fputs(PREDICT_USAGE, stdout); return 0;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(prog, "predict: expected MODEL DATA");
	o->json = json;
	return CLI_PARSED;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_opts o;
	int prc = cmd_predict_parse(argc, argv, &o);
	if (prc != CLI_PARSED)
		return prc;
	int json = o.json;
	struct cli_model m;
	struct feral_error err = {0};
	enum feral_status st = cli_model_read(argv[optind], &m, &err);
	if (st)
		return cli_report(prog, st, &err);
	const uint64_t d = m.d, D = d + (m.bias > 0); /* weights a class */
	struct feral_dataset *ds = NULL;
	/* with the model's constant feature as column d */
	int rc = cli_load_data(argv[optind + 1], FERAL_PRECISION_F32, 1, d, m.bias, &ds);
	if (rc) {
		cli_model_free(&m);
		return rc;
	}
	if (ds->d > D) {
		rc = cli_usage_error(prog, "%s: %llu features, the model has %llu", argv[optind + 1],
		                     (unsigned long long)(ds->d - (D - d)), (unsigned long long)d);
		goto done;
	}
	uint64_t right = 0;
	if (m.version == 2) {
		for (uint64_t i = 0; i < ds->n; i++) {
			double lab = m.labels[cli_ovr_argmax(ds, i, m.w, D, m.k)];
			if (!json)
				printf("%.17g\n", lab);
			right += lab == ds->y[i];
		}
	} else {
		int has_pos = strcmp(m.positive, "-") != 0;
		for (uint64_t i = 0; i < ds->n; i++) {
			double t = feral_row_dot(ds, i, m.w);
			double lab = t >= 0 ? m.pos : m.neg;
			if (!json)
				printf("%.17g\n", lab);
			int truth_pos = has_pos ? cli_label_in(m.positive, ds->y[i]) : ds->y[i] == m.pos;
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
	cli_model_free(&m);
	feral_dataset_destroy(&ds);
	return rc;
}
