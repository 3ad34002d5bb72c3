/* Dataset storage: dense row-major or CSR, f32 or fixed point with per-row
 * scales, targets, and squared row norms in double. */
#include "internal.h"

#include <math.h>
#include <sys/mman.h>

enum feral_status feral_dataset_shell(struct feral_dataset **out, struct feral_error *err)
{
	struct feral_dataset *ds = calloc(1, sizeof *ds);
	struct feral_dataset_owner *own = calloc(1, sizeof *own);
	if (!ds || !own) {
		free(ds);
		free(own);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory");
	}
	ds->owner = own;
	*out = ds;
	return FERAL_OK;
}

enum feral_status feral_dataset_create(uint64_t n, uint64_t d, uint64_t nnz,
                                       enum feral_layout layout, enum feral_precision precision,
                                       struct feral_dataset **out, struct feral_error *err)
{
	*out = NULL;
	if (n == 0 || d == 0)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "dataset shape %llu x %llu: both must be positive",
		                  (unsigned long long)n, (unsigned long long)d);
	if (d > UINT32_MAX)
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                  "%llu columns exceed the 2^32-1 limit", (unsigned long long)d);
	if (layout >= FERAL_LAYOUT_COUNT || precision == FERAL_PRECISION_F64 ||
	    precision >= FERAL_PRECISION_COUNT)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "bad dataset layout or precision");
	uint64_t elems = nnz, bytes;
	if (layout == FERAL_LAYOUT_DENSE && !feral_mul_ok(n, d, &elems))
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0, "n*d overflows (%llu x %llu)",
		                  (unsigned long long)n, (unsigned long long)d);
	if (!feral_mul_ok(elems, feral_precision_size(precision), &bytes) || bytes > (1ull << 46))
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                  "dataset of %llu elements is too large", (unsigned long long)elems);
	struct feral_dataset *ds;
	enum feral_status st = feral_dataset_shell(&ds, err);
	if (st)
		return st;
	ds->n = n;
	ds->d = d;
	ds->nnz = elems;
	ds->layout = layout;
	ds->precision = precision;
	ds->values = feral_big_alloc(bytes ? bytes : 1);
	ds->y = calloc(n, sizeof *ds->y);
	ds->row_sq_norm = calloc(n, sizeof *ds->row_sq_norm);
	unsigned mask = FERAL_OWN_VALUES | FERAL_OWN_Y | FERAL_OWN_NORMS;
	bool ok = ds->values && ds->y && ds->row_sq_norm;
	if (layout == FERAL_LAYOUT_CSR) {
		ds->indptr = calloc(n + 1, sizeof *ds->indptr);
		ds->indices = feral_big_alloc((elems ? elems : 1) * sizeof *ds->indices);
		mask |= FERAL_OWN_INDPTR | FERAL_OWN_INDICES;
		ok = ok && ds->indptr && ds->indices;
	}
	if (precision != FERAL_PRECISION_F32) {
		ds->row_scale = calloc(n, sizeof *ds->row_scale);
		mask |= FERAL_OWN_ROW_SCALE;
		ok = ok && ds->row_scale;
	}
	ds->owner->heap_mask = mask;
	if (!ok) {
		feral_dataset_destroy(&ds);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                  "cannot allocate a %llu x %llu dataset (%llu bytes of values)",
		                  (unsigned long long)n, (unsigned long long)d,
		                  (unsigned long long)bytes);
	}
	memset(ds->values, 0, bytes);
	*out = ds;
	return FERAL_OK;
}

void feral_block_free(void *block, size_t len, bool mapped)
{
	if (mapped)
		munmap(block, len);
	else
		free(block);
}

void feral_dataset_destroy(struct feral_dataset **pds)
{
	if (!pds || !*pds)
		return;
	struct feral_dataset *ds = *pds;
	unsigned m = ds->owner ? ds->owner->heap_mask : 0;
	if (m & FERAL_OWN_VALUES) free(ds->values);
	if (m & FERAL_OWN_INDPTR) free(ds->indptr);
	if (m & FERAL_OWN_INDICES) free(ds->indices);
	if (m & FERAL_OWN_ROW_SCALE) free(ds->row_scale);
	if (m & FERAL_OWN_Y) free(ds->y);
	if (m & FERAL_OWN_NORMS) free(ds->row_sq_norm);
	if (ds->owner)
		feral_block_free(ds->owner->block, ds->owner->block_len, ds->owner->block_mapped);
	free(ds->owner);
	free(ds);
	*pds = NULL;
}

double feral_dataset_value(const struct feral_dataset *ds, uint64_t i, uint64_t k)
{
	switch (ds->precision) {
	case FERAL_PRECISION_F32: return ((const float *)ds->values)[k];
	case FERAL_PRECISION_I16: return (double)ds->row_scale[i] * ((const int16_t *)ds->values)[k];
	case FERAL_PRECISION_I8: return (double)ds->row_scale[i] * ((const int8_t *)ds->values)[k];
	default: FERAL_ASSERT(!"bad data precision"); return 0;
	}
}

/* Squared norms of dense f32 rows i0 .. i0 + NR - 1 (each a sum in storage
 * order, as the general loop below): NR rows side by side, so that NR
 * independent sums hide the latency of the additions that one row's sum
 * waits on (the order within each row, hence every bit, is unchanged). */
enum { NORM_ROWS = 8 };
static void dense_norms_block(const float *r, uint64_t len, uint64_t stride, double *out)
{
	double s[NORM_ROWS] = {0};
	for (uint64_t k = 0; k < len; k++)
		for (int j = 0; j < NORM_ROWS; j++) {
			double x = r[(uint64_t)j * stride + k];
			s[j] += x * x;
		}
	for (int j = 0; j < NORM_ROWS; j++)
		out[j] = s[j];
}

/* The squared norm of v[b..e), in double, in storage order (v may be NULL
 * when the range is empty: an empty dataset has no values). */
static double f32_sq_sum(const float *v, uint64_t b, uint64_t e)
{
	double s = 0;
	for (uint64_t k = b; k < e; k++) {
		double x = v[k];
		s += x * x;
	}
	return s;
}

/* Double sums of squares in storage order; rows in parallel (a serial pass
 * is a visible share of loading or generating a large matrix), dense f32
 * rows NORM_ROWS at a time (Fashion-MNIST's 60000 x 785: ~3x faster). */
void feral_dataset_update_norms(struct feral_dataset *ds)
{
	int64_t n = (int64_t)ds->n;
	const int dense32 = ds->layout != FERAL_LAYOUT_CSR && ds->precision == FERAL_PRECISION_F32;
	/* d = 0: no values, maybe no array (the general loop sums nothing) */
	const int64_t blocks = dense32 && ds->d > 0 ? n / NORM_ROWS : 0, from = blocks * NORM_ROWS;
#ifdef _OPENMP
#pragma omp parallel if (ds->nnz > ((uint64_t)1 << 20))
#endif
	{
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
		for (int64_t b = 0; b < blocks; b++)
			dense_norms_block((const float *)ds->values + (uint64_t)b * NORM_ROWS * ds->d, ds->d,
			                  ds->d, ds->row_sq_norm + (uint64_t)b * NORM_ROWS);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (int64_t i = from; i < n; i++) {
			uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : (uint64_t)i * ds->d;
			uint64_t e = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] : b + ds->d;
			double s = 0;
			if (ds->precision == FERAL_PRECISION_F32) {
				s = f32_sq_sum(ds->values, b, e);
			} else {
				for (uint64_t k = b; k < e; k++) {
					double x = feral_dataset_value(ds, (uint64_t)i, k);
					s += x * x;
				}
			}
			ds->row_sq_norm[i] = s;
		}
	}
}

/* NR rows at a time, as dense_norms_block: each row is copied, then its
 * square sum taken from the copy while it is in cache, the appended value
 * last (its place in storage order). */
void feral_dense_append_column(const float *src, uint64_t n, uint64_t d, uint64_t ld,
                               float value, float *dst, double *row_sq_norm)
{
	const int64_t blocks = (int64_t)((n + NORM_ROWS - 1) / NORM_ROWS);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n * d > ((uint64_t)1 << 20))
#endif
	for (int64_t b = 0; b < blocks; b++) {
		const uint64_t i0 = (uint64_t)b * NORM_ROWS;
		const uint64_t m = n - i0 < NORM_ROWS ? n - i0 : NORM_ROWS;
		float *out = dst + i0 * (d + 1);
		for (uint64_t j = 0; j < m; j++) {
			memcpy(out + j * (d + 1), src + (i0 + j) * ld, d * sizeof *out);
			out[j * (d + 1) + d] = value;
		}
		if (!row_sq_norm)
			continue;
		if (m == NORM_ROWS)
			dense_norms_block(out, d + 1, d + 1, row_sq_norm + i0);
		else
			for (uint64_t j = 0; j < m; j++)
				row_sq_norm[i0 + j] = f32_sq_sum(out, j * (d + 1), (j + 1) * (d + 1));
	}
}

/* The index of the first NaN or infinity of v[0..len), or len.  Blocks of
 * 4096 are screened by an OR of the exponent test over the bits (a loop
 * the compiler vectorizes; the element test with an early exit does not,
 * and took 0.15 s of a fit on 60000 x 784), and only a block that fails is
 * searched element by element. */
static uint64_t first_nonfinite_f32(const float *v, uint64_t len)
{
	enum { BLOCK = 4096 };
	for (uint64_t b = 0; b < len; b += BLOCK) {
		uint64_t e = len - b < BLOCK ? len : b + BLOCK;
		uint32_t bad = 0;
#ifdef _OPENMP
#pragma omp simd reduction(| : bad)
#endif
		for (uint64_t k = b; k < e; k++) {
			uint32_t u;
			memcpy(&u, v + k, sizeof u);
			bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
		}
		if (bad)
			for (uint64_t k = b; k < e; k++)
				if (!isfinite(v[k]))
					return k;
	}
	return len;
}

enum feral_status feral_dataset_check(const struct feral_dataset *ds, struct feral_error *err)
{
	if (ds->layout == FERAL_LAYOUT_CSR) {
		if (ds->indptr[0] != 0 || ds->indptr[ds->n] != ds->nnz)
			return feral_fail(err, FERAL_STATUS_CORRUPT, NULL, 0,
			                  "CSR offsets do not cover the %llu nonzeros",
			                  (unsigned long long)ds->nnz);
		for (uint64_t i = 0; i < ds->n; i++) {
			if (ds->indptr[i + 1] < ds->indptr[i] || ds->indptr[i + 1] > ds->nnz)
				return feral_fail(err, FERAL_STATUS_CORRUPT, NULL, 0,
				                  "CSR offsets of row %llu are not monotone",
				                  (unsigned long long)i);
			for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++) {
				if (ds->indices[k] >= ds->d)
					return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
					                  "row %llu: column %u beyond d = %llu",
					                  (unsigned long long)i, ds->indices[k],
					                  (unsigned long long)ds->d);
				if (k > ds->indptr[i] && ds->indices[k] <= ds->indices[k - 1])
					return feral_fail(err, FERAL_STATUS_CORRUPT, NULL, 0,
					                  "row %llu: columns not strictly increasing",
					                  (unsigned long long)i);
			}
		}
	}
	if (ds->precision == FERAL_PRECISION_F32) {
		uint64_t k = first_nonfinite_f32(ds->values, ds->nnz);
		if (k < ds->nnz)
			return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
			                  "value %llu is not finite", (unsigned long long)k);
	} else {
		for (uint64_t i = 0; i < ds->n; i++)
			if (!isfinite(ds->row_scale[i]) || ds->row_scale[i] < 0)
				return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
				                  "row scale %llu is not finite", (unsigned long long)i);
	}
	for (uint64_t i = 0; i < ds->n; i++)
		if (!isfinite(ds->y[i]))
			return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
			                  "target of row %llu is not finite", (unsigned long long)i);
	return FERAL_OK;
}

uint64_t feral_dataset_bytes(const struct feral_dataset *ds)
{
	uint64_t b = ds->nnz * feral_precision_size(ds->precision);
	if (ds->layout == FERAL_LAYOUT_CSR)
		b += ds->nnz * sizeof(uint32_t) + (ds->n + 1) * sizeof(uint64_t);
	if (ds->row_scale)
		b += ds->n * sizeof(float);
	return b;
}
