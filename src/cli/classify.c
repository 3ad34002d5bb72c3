/* Labels of the classification commands (train, predict): the binary
 * mapping to -1/+1, the class set, and one-vs-rest scores.  K binary
 * problems "class c against the rest" share the rows (only y changes); a
 * row is predicted as the label of the largest score a.w_c. */
#include "cmd.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_label_in(const char *positive, double y)
{
	int hit = 0;
	char *dup = strdup(positive), *save = NULL;
	if (!dup)
		return 0;
	for (char *tk = strtok_r(dup, ",", &save); tk; tk = strtok_r(NULL, ",", &save))
		hit |= atof(tk) == y;
	free(dup);
	return hit;
}

int cli_binarize(const char *path, struct feral_dataset *ds, const char *positive,
                 double *neg_label, double *pos_label)
{
	if (positive) {
		double pos[64];
		int np = 0;
		char *dup = strdup(positive), *save = NULL;
		if (!dup)
			return 1;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (np == 64 || !cli_parse_double(t, &pos[np])) {
				free(dup);
				return cli_usage_error(prog, "--positive %s: expected a list of labels", positive);
			}
			np++;
		}
		free(dup);
		for (uint64_t i = 0; i < ds->n; i++) {
			int hit = 0;
			for (int k = 0; k < np; k++)
				hit |= ds->y[i] == pos[k];
			ds->y[i] = hit ? 1 : -1;
		}
		*neg_label = -1;
		*pos_label = 1;
		return 0;
	}
	double a = ds->y[0], b = ds->y[0];
	for (uint64_t i = 0; i < ds->n; i++) {
		double v = ds->y[i];
		if (v != a && v != b) {
			if (a == b)
				b = v;
			else
				return cli_usage_error(prog,
				                       "%s: more than two labels (%g, %g, %g, ...): give "
				                       "--positive LABELS for a one-vs-rest task",
				                       path, a, b, v);
		}
	}
	if (a > b) {
		double t = a;
		a = b;
		b = t;
	}
	for (uint64_t i = 0; i < ds->n; i++)
		ds->y[i] = ds->y[i] == b && a != b ? 1 : -1;
	*neg_label = a;
	*pos_label = b;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

uint64_t cli_distinct_labels(const struct feral_dataset *ds, double **labels)
{
	double *v = malloc((ds->n ? ds->n : 1) * sizeof *v);
	*labels = v;
	if (!v)
		return 0;
	memcpy(v, ds->y, ds->n * sizeof *v);
	qsort(v, ds->n, sizeof *v, cmp_double);
	uint64_t k = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

uint64_t cli_ovr_argmax(const struct feral_dataset *ds, uint64_t i, const double *w, uint64_t d,
                        uint64_t k)
{
	uint64_t best = 0;
	double bs = -INFINITY;
	for (uint64_t c = 0; c < k; c++) {
		double t = feral_row_dot(ds, i, w + c * d);
		if (t > bs || c == 0) {
			bs = t;
			best = c;
		}
	}
	return best;
}

double cli_ovr_accuracy(const struct feral_dataset *ds, const double *y, const double *w,
                        uint64_t d, uint64_t k, const double *labels)
{
	uint64_t right = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		right += labels[cli_ovr_argmax(ds, i, w, d, k)] == y[i];
	return ds->n ? (double)right / (double)ds->n : NAN;
}
