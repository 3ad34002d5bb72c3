/* Building loaded datasets: the CSR builder the text loaders share, and the
 * finishing step (norms, checks) every loader ends with. */
#include "dataset_build.h"
#include "io_impl.h"

enum feral_status feral_dataset_finish(const char *path, struct feral_dataset *ds,
                                       struct feral_error *err)
{
	/* A mapped cache may carry its norms read-only; only heap norms are
	 * (re)computed here. */
	if (!ds->row_sq_norm) {
		ds->row_sq_norm = calloc(ds->n ? ds->n : 1, sizeof *ds->row_sq_norm);
		if (!ds->row_sq_norm)
			return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
		ds->owner->heap_mask |= FERAL_OWN_NORMS;
	}
	if (ds->owner->heap_mask & FERAL_OWN_NORMS)
		feral_dataset_update_norms(ds);
	enum feral_status st = feral_dataset_check(ds, err);
	if (st && err)
		snprintf(err->file, sizeof err->file, "%s", path);
	return st;
}

enum feral_status feral_dataset_from_csr(const char *path, uint64_t n, uint64_t d,
                                         uint64_t **indptr_p, uint32_t **indices_p,
                                         float **values_p, double **y_p, int dense,
                                         struct feral_dataset **out, struct feral_error *err)
{
	uint64_t *indptr = *indptr_p, nnz = indptr[n], cells;
	const uint32_t *indices = *indices_p;
	const float *values = *values_p;
	*out = NULL;
	if (!feral_mul_ok(n, d, &cells))
		cells = UINT64_MAX;
	if (d > UINT32_MAX)
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                  "%llu columns exceed the 2^32-1 limit", (unsigned long long)d);
	if (dense < 0)
		dense = nnz > cells / 2 && feral_check_fits(path, cells * 4, NULL) == FERAL_OK;
	enum feral_status st;
	struct feral_dataset *ds;
	if ((st = feral_dataset_shell(&ds, err)))
		return st;
	ds->n = n;
	ds->d = d;
	ds->precision = FERAL_PRECISION_F32;
	ds->owner->heap_mask = FERAL_OWN_VALUES | FERAL_OWN_Y | FERAL_OWN_NORMS;
	if (dense) {
		if (cells == UINT64_MAX || cells > UINT64_MAX / 8) {
			st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
			                "%llu x %llu is too large to store dense",
			                (unsigned long long)n, (unsigned long long)d);
			goto fail;
		}
		if ((st = feral_check_fits(path, cells * 4, err)))
			goto fail;
		float *v = feral_big_alloc(cells * sizeof *v);
		if (!v) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0,
			                "cannot allocate a dense %llu x %llu dataset",
			                (unsigned long long)n, (unsigned long long)d);
			goto fail;
		}
		/* Each row zeroed just before its scatter: one pass over memory. */
		for (uint64_t i = 0; i < n; i++) {
			float *row = v + i * d;
			memset(row, 0, d * sizeof *row);
			for (uint64_t k = indptr[i]; k < indptr[i + 1]; k++)
				row[indices[k]] = values[k];
		}
		ds->layout = FERAL_LAYOUT_DENSE;
		ds->values = v;
		ds->nnz = cells;
	} else {
		/* Take the arrays over rather than copy them: a copy of a large
		 * load costs as much as a third of the parse in page faults. */
		ds->layout = FERAL_LAYOUT_CSR;
		ds->nnz = nnz;
		ds->values = *values_p;
		ds->indices = *indices_p;
		ds->indptr = indptr;
		*values_p = NULL;
		*indices_p = NULL;
		*indptr_p = NULL;
		ds->owner->heap_mask |= FERAL_OWN_INDPTR | FERAL_OWN_INDICES;
	}
	if (y_p && *y_p) {
		ds->y = *y_p;
		*y_p = NULL;
	} else {
		ds->y = calloc(n, sizeof *ds->y);
	}
	ds->row_sq_norm = malloc(n * sizeof *ds->row_sq_norm);
	if (!ds->y || !ds->row_sq_norm) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
		goto fail;
	}
	if ((st = feral_dataset_finish(path, ds, err)))
		goto fail;
	*out = ds;
	return FERAL_OK;
fail:
	feral_dataset_destroy(&ds);
	return st;
}
