/* Row norms: feral_dataset_update_norms's blocked dense path against a
 * plain per-row sum, and feral_dense_append_column (copy, column, norms). */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

TestSuite(dataset, .timeout = 60);

/* ||row||^2 summed in storage order, one element at a time. */
static double plain_norm(const float *r, uint64_t d)
{
	double s = 0;
	for (uint64_t k = 0; k < d; k++) {
		double x = r[k];
		s += x * x;
	}
	return s;
}

static float value(uint64_t i, uint64_t k)
{
	uint64_t h = (i * 2654435761u + k * 40503u) % 1000003u;
	return (float)((double)h / 1000003.0 * 20.0 - 10.0) * (k % 3 ? 1.0f : 1e-3f);
}

/* n not a multiple of the block (8) and n * d over the parallel threshold,
 * then small shapes. */
Test(dataset, test_norms_and_append_column_match_the_plain_sum_bit_for_bit)
{
	static const uint64_t shapes[][2] = {{1, 1}, {7, 3}, {9, 5}, {17, 1}, {2053, 611}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		const uint64_t n = shapes[s][0], d = shapes[s][1], ld = d + 2;
		float *src = malloc(n * ld * sizeof *src);
		cr_assert(src);
		for (uint64_t i = 0; i < n; i++)
			for (uint64_t k = 0; k < ld; k++)
				src[i * ld + k] = value(i, k);
		struct feral_dataset *ds;
		struct feral_error e;
		cr_assert_eq(feral_dataset_create(n, d + 1, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32,
		                                  &ds, &e),
		             FERAL_OK, "%s", e.msg);
		double *norms = malloc(n * sizeof *norms);
		cr_assert(norms);
		feral_dense_append_column(src, n, d, ld, 2.5f, ds->values, norms);
		feral_dataset_update_norms(ds);
		const float *v = ds->values;
		for (uint64_t i = 0; i < n; i++) {
			cr_assert(!memcmp(v + i * (d + 1), src + i * ld, d * sizeof *v), "row %llu",
			          (unsigned long long)i);
			cr_assert_eq(v[i * (d + 1) + d], 2.5f);
			double p = plain_norm(v + i * (d + 1), d + 1);
			cr_assert(!memcmp(&p, &ds->row_sq_norm[i], sizeof p), "%llu x %llu row %llu",
			          (unsigned long long)n, (unsigned long long)d, (unsigned long long)i);
			cr_assert(!memcmp(&p, &norms[i], sizeof p));
		}
		free(norms);
		free(src);
		feral_dataset_destroy(&ds);
	}
}
