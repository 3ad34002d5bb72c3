/* Dataset quantization to fixed point (docs/math.md, fixed point; Buckwild!:
 * De Sa, Zhang, Olukotun, Re, "Taming the Wild: A Unified Analysis of
 * Hogwild!-Style Algorithms", NIPS 2015).
 *
 * Row i gets one scale s_i, the float just at or above max_j |a_ij| / M with
 * M = 2^(b-1) - 1, so |a_ij / s_i| <= M and nothing saturates.  Each value is
 * rounded stochastically and without bias, q = floor(a / s + u) with
 * u ~ U[0,1) (53 bits), so E[s q] = a (to double precision).  A row of
 * zeros (or one whose scale underflows float) gets s = 0 and q = 0.
 *
 * Rows are processed in blocks of QBLOCK rows; block b draws from its own
 * xoshiro stream seeded from (seed, b), so the result depends on the seed
 * only, not on the number of OpenMP threads or the schedule.  Any input
 * precision is accepted (fixed point input is dequantized first); F32 -> F32
 * is a copy. */
#include "internal.h"

#include <math.h>

#define QBLOCK 256

static double value_at(const struct feral_dataset *ds, uint64_t i, uint64_t k)
{
	return feral_dataset_value(ds, i, k);
}

/* Row scale: smallest float s with s * M >= maxabs (0 for a zero row). */
static float row_scale(double maxabs, int M)
{
	float s = (float)(maxabs / M);
	if (s == 0.0f || !isfinite(s))
		return 0.0f;
	while ((double)s * M < maxabs)
		s = nextafterf(s, INFINITY);
	return s;
}

static void block_seed(struct feral_rng *r, uint64_t seed, uint64_t block)
{
	uint64_t st = seed ^ (0xA0761D6478BD642Full * (block + 1));
	feral_rng_seed(r, feral_splitmix64(&st), 0);
}

static void quantize_rows(const struct feral_dataset *ds, struct feral_dataset *out, int M,
                          uint64_t seed, uint64_t block)
{
	struct feral_rng rng;
	block_seed(&rng, seed, block);
	uint64_t i0 = block * QBLOCK, i1 = i0 + QBLOCK < ds->n ? i0 + QBLOCK : ds->n;
	bool csr = ds->layout == FERAL_LAYOUT_CSR;
	for (uint64_t i = i0; i < i1; i++) {
		uint64_t b = csr ? ds->indptr[i] : i * ds->d;
		uint64_t e = csr ? ds->indptr[i + 1] : b + ds->d;
		double mx = 0;
		for (uint64_t k = b; k < e; k++)
			mx = fmax(mx, fabs(value_at(ds, i, k)));
		float s = row_scale(mx, M);
		out->row_scale[i] = s;
		for (uint64_t k = b; k < e; k++) {
			double u = feral_rng_uniform(&rng); /* drawn even for zero rows: */
			double q = 0;                       /* the stream stays aligned */
			if (s > 0) {
				q = floor(value_at(ds, i, k) / s + u);
				q = q > M ? M : q < -M ? -M : q; /* only by a 2^-53 rounding */
			}
			if (out->precision == FERAL_PRECISION_I16)
				((int16_t *)out->values)[k] = (int16_t)q;
			else
				((int8_t *)out->values)[k] = (int8_t)q;
		}
	}
}

enum feral_status feral_dataset_quantize(const struct feral_dataset *ds,
                                         enum feral_precision precision, uint64_t seed,
                                         struct feral_dataset **out, struct feral_error *err)
{
	if (!out)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "quantize: no output");
	*out = NULL;
	if (!ds)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "quantize: no dataset");
	if (precision != FERAL_PRECISION_F32 && precision != FERAL_PRECISION_I16 &&
	    precision != FERAL_PRECISION_I8)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "quantize: data precision must be 32, 16 or 8 bits (got %d)",
		                  feral_precision_bits(precision));
	if (precision == FERAL_PRECISION_F32 && ds->precision != FERAL_PRECISION_F32)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                  "quantize: fixed point data cannot be widened to f32");
	/* Non-finite values would give a non-finite scale. */
	if (ds->precision == FERAL_PRECISION_F32) {
		const float *v = ds->values;
		for (uint64_t k = 0; k < ds->nnz; k++)
			if (!isfinite(v[k]))
				return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
				                  "quantize: value %llu is not finite",
				                  (unsigned long long)k);
	}
	struct feral_dataset *q;
	enum feral_status st =
		feral_dataset_create(ds->n, ds->d, ds->layout == FERAL_LAYOUT_CSR ? ds->nnz : 0,
		                     ds->layout, precision, &q, err);
	if (st)
		return st;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		memcpy(q->indptr, ds->indptr, (ds->n + 1) * sizeof *ds->indptr);
		if (ds->nnz)
			memcpy(q->indices, ds->indices, ds->nnz * sizeof *ds->indices);
	}
	memcpy(q->y, ds->y, ds->n * sizeof *ds->y);
	if (precision == FERAL_PRECISION_F32) {
		if (ds->nnz)
			memcpy(q->values, ds->values, ds->nnz * sizeof(float));
	} else {
		int M = precision == FERAL_PRECISION_I16 ? 32767 : 127;
		int64_t nblocks = (int64_t)((ds->n + QBLOCK - 1) / QBLOCK);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
		for (int64_t b = 0; b < nblocks; b++)
			quantize_rows(ds, q, M, seed, (uint64_t)b);
	}
	feral_dataset_update_norms(q);
	*out = q;
	return FERAL_OK;
}
