/* The independent reference: LAPACK's least-squares solution (dgels, QR). */
#include "internal.h"

#include "lapack.h"

enum feral_status feral_lstsq(const struct feral_dataset *ds, double *x, uint64_t max_elems,
                              struct feral_error *err)
{
#ifdef FERAL_HAVE_LAPACKE
	uint64_t n = ds->n, d = ds->d, elems;
	if (!max_elems)
		max_elems = 1ull << 28;
	if (!feral_mul_ok(n, d, &elems) || elems > max_elems)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                  "LAPACK reference: %llu x %llu is too large for a dense copy",
		                  (unsigned long long)n, (unsigned long long)d);
	const struct feral_lapack *lp = feral_lapack();
	if (!lp)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                  "LAPACK reference: cannot load LAPACKE (%s)", feral_lapack_error());
	if (n < d)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                  "LAPACK reference: underdetermined (%llu rows < %llu columns)",
		                  (unsigned long long)n, (unsigned long long)d);
	double *A = calloc(elems, sizeof *A), *b = malloc(n * sizeof *b);
	if (!A || !b) {
		free(A);
		free(b);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "LAPACK reference: out of memory");
	}
	/* Column-major, as LAPACK works: a row-major call would make LAPACKE
	 * transpose into a second n x d copy.  Rows 64 at a time, so that the
	 * strided column writes stay in cache. */
	for (uint64_t i0 = 0; i0 < n; i0 += 64) {
		uint64_t i1 = i0 + 64 < n ? i0 + 64 : n;
		for (uint64_t i = i0; i < i1; i++) {
			if (ds->layout == FERAL_LAYOUT_CSR)
				for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
					A[ds->indices[k] * n + i] = feral_dataset_value(ds, i, k);
			b[i] = ds->y[i];
		}
		if (ds->layout != FERAL_LAYOUT_CSR)
			for (uint64_t j = 0; j < d; j++)
				for (uint64_t i = i0; i < i1; i++)
					A[j * n + i] = feral_dataset_value(ds, i, i * d + j);
	}
	lapack_int info = lp->dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)d, 1, A,
	                            (lapack_int)n, b, (lapack_int)n);
	enum feral_status st = FERAL_OK;
	if (info > 0)
		st = feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                "LAPACK reference: A is rank deficient (dgels info %d)", (int)info);
	else if (info < 0)
		st = feral_fail(err, FERAL_STATUS_INTERNAL, NULL, 0, "dgels argument %d", (int)-info);
	else
		memcpy(x, b, d * sizeof *x);
	free(A);
	free(b);
	return st;
#else
	(void)ds;
	(void)x;
	(void)max_elems;
	return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0, "built without LAPACK");
#endif
}
