/* The intercept option (--bias B / --no-bias) and the warm start (--init
 * FILE) of solve and train. */
#include "cmd.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_bias_arg(const char *arg, double *bias)
{
	double v;
	if (!cli_parse_double(arg, &v) || v == 0)
		return cli_usage_error(prog, "--bias %s: expected a number > 0 (the constant feature), "
		                             "or -1 (no intercept, as --no-bias)",
		                       arg);
	*bias = v > 0 ? v : 0;
	return 0;
}

/* A model file's weights into w (k blocks of d + (bias > 0)). */
static int init_from_model(const char *path, uint64_t d, double bias, uint64_t k, double *w)
{
	struct cli_model m;
	struct feral_error err = {0};
	enum feral_status st = cli_model_read(path, &m, &err);
	if (st)
		return cli_report(prog, st, &err);
	int rc = 0;
	if (m.k != k)
		rc = cli_usage_error(prog, "%s: --init: a model of %llu class%s, this run fits %llu",
		                     path, (unsigned long long)m.k, m.k == 1 ? "" : "es",
		                     (unsigned long long)k);
	else if (m.d != d)
		rc = cli_usage_error(prog, "%s: --init: a model of %llu features, the data has %llu",
		                     path, (unsigned long long)m.d, (unsigned long long)d);
	else if (m.bias > 0 && !(bias > 0))
		rc = cli_usage_error(prog, "%s: --init: the model has an intercept (bias %g): give "
		                           "--bias %g, or a model without one",
		                     path, m.bias, m.bias);
	if (rc) {
		cli_model_free(&m);
		return rc;
	}
	const uint64_t D = d + (bias > 0), Dm = d + (m.bias > 0);
	for (uint64_t c = 0; c < k; c++) {
		memcpy(w + c * D, m.w + c * Dm, d * sizeof *w);
		/* the same intercept B w_d under this run's B */
		if (bias > 0)
			w[c * D + d] = m.bias > 0 ? m.w[c * Dm + d] * m.bias / bias : 0;
	}
	cli_model_free(&m);
	return 0;
}

int cli_load_init(const char *path, uint64_t d, double bias, uint64_t k, double *w)
{
	FILE *f = fopen(path, "r");
	char head[16] = "";
	if (f) {
		if (!fgets(head, sizeof head, f))
			head[0] = 0;
		fclose(f);
	}
	if (!strncmp(head, "feral-model ", 12))
		return init_from_model(path, d, bias, k, w);
	double *v = NULL;
	uint64_t len = 0;
	struct feral_error err = {0};
	enum feral_status st = feral_vector_load(path, &v, &len, &err);
	if (st)
		return cli_report(prog, st, &err);
	const uint64_t D = d + (bias > 0);
	int rc = 0;
	if (len != k * D && len != k * d) {
		if (bias > 0)
			rc = cli_usage_error(prog, "%s: --init: %llu entries, expected %llu (the weights "
			                           "and the bias weight%s) or %llu (the weights; bias "
			                           "weight%s 0)",
			                     path, (unsigned long long)len, (unsigned long long)(k * D),
			                     k > 1 ? "s, class after class" : "", (unsigned long long)(k * d),
			                     k > 1 ? "s" : "");
		else
			rc = cli_usage_error(prog, "%s: --init: %llu entries, expected %llu%s", path,
			                     (unsigned long long)len, (unsigned long long)(k * d),
			                     k > 1 ? " (the weights, class after class)" : "");
	}
	for (uint64_t j = 0; !rc && j < len; j++)
		if (!isfinite(v[j]))
			rc = cli_usage_error(prog, "%s: --init: entry %llu is %g: expected finite numbers",
			                     path, (unsigned long long)j + 1, v[j]);
	if (!rc) {
		const uint64_t per = len / k;
		for (uint64_t c = 0; c < k; c++) {
			memcpy(w + c * D, v + c * per, d * sizeof *w);
			if (bias > 0)
				w[c * D + d] = per == D ? v[c * per + d] : 0;
		}
	}
	free(v);
	return rc;
}
