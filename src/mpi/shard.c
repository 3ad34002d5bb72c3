/* Rank shards: every rank reads only its own rows where the format allows.
 *
 *  .feral cache   feral_dataset_load maps the file (map_cache); rank k
 *                 copies rows [k n/R, (k+1) n/R) into a heap dataset and
 *                 unmaps the rest, so no rank parses anything.  (The loader's
 *                 body checksum still reads every page once: the page cache
 *                 is shared by the ranks of one node.)
 *  LIBSVM         feral_load_options.byte_begin/byte_end = [k S/R, (k+1) S/R)
 *                 of the S-byte file: each rank parses only the lines that
 *                 start in its byte range.  Rows per rank then differ slightly;
 *                 the global row offsets come from an MPI_Exscan.  A .gz file
 *                 cannot be cut by bytes, and a loader that ignored the range
 *                 would hand every rank the whole file: both fall back to
 *                 every rank parsing the file and keeping rows [k n/R, (k+1) n/R)
 *                 (method "libsvm-rows", with a note).
 *  others         (.npy, .mtx, IDX) every rank parses the file and keeps its
 *                 rows ("full-parse").
 *
 * LIBSVM shards may see different maximum column indices: d is agreed as
 * the maximum over ranks (CSR: just the bound; dense: rows are widened). */
#include "fmpi.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int fmpi_agree(int rc)
{
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return all;
}

enum feral_status fmpi_slice_rows(const struct feral_dataset *ds, uint64_t b, uint64_t e,
                                  uint64_t d_out, struct feral_dataset **out,
                                  struct feral_error *err)
{
	uint64_t n = e - b;
	int csr = ds->layout == FERAL_LAYOUT_CSR;
	uint64_t nnz = csr ? ds->indptr[e] - ds->indptr[b] : n * d_out;
	enum feral_status st = feral_dataset_create(n, d_out, nnz, ds->layout, ds->precision, out, err);
	if (st)
		return st;
	struct feral_dataset *s = *out;
	size_t esz = feral_precision_size(ds->precision);
	if (csr) {
		uint64_t o = ds->indptr[b];
		for (uint64_t i = 0; i <= n; i++)
			s->indptr[i] = ds->indptr[b + i] - o;
		memcpy(s->values, (const char *)ds->values + o * esz, nnz * esz);
		memcpy(s->indices, ds->indices + o, nnz * sizeof *s->indices);
	} else if (d_out == ds->d) {
		memcpy(s->values, (const char *)ds->values + b * ds->d * esz, n * ds->d * esz);
	} else { /* widen: the extra columns stay zero */
		for (uint64_t i = 0; i < n; i++)
			memcpy((char *)s->values + i * d_out * esz,
			       (const char *)ds->values + (b + i) * ds->d * esz, ds->d * esz);
	}
	if (ds->row_scale)
		memcpy(s->row_scale, ds->row_scale + b, n * sizeof *s->row_scale);
	memcpy(s->y, ds->y + b, n * sizeof *s->y);
	memcpy(s->row_sq_norm, ds->row_sq_norm + b, n * sizeof *s->row_sq_norm);
	return FERAL_OK;
}

/* A fingerprint of a shard (row count, first and last row) to tell whether
 * the loader honoured the byte range: if it did not, every rank holds the
 * same rows. */
static uint64_t fingerprint(const struct feral_dataset *ds)
{
	uint64_t h = ds->n * 0x9e3779b97f4a7c15ull;
	uint64_t rows[2] = {0, ds->n - 1};
	for (int r = 0; r < 2; r++) {
		uint64_t i = rows[r];
		double v[3] = {ds->y[i], ds->row_sq_norm[i], (double)ds->nnz};
		uint64_t u;
		for (int k = 0; k < 3; k++) {
			memcpy(&u, &v[k], sizeof u);
			h = (h ^ u) * 0x100000001b3ull;
			h ^= h >> 29;
		}
	}
	return h;
}

/* Whole file on every rank, keep rows [k n/R, (k+1) n/R). */
static int full_parse(const char *prog, const char *path, int rank, int size,
                      struct feral_dataset **out, struct fmpi_shard *info)
{
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	lo.map_cache = 1; /* a cache is mapped: the ranks of a node share its pages */
	struct feral_dataset *full = NULL;
	enum feral_status st = feral_dataset_load(path, &lo, &full, &err);
	int rc = st ? cli_report(prog, st, &err) : 0;
	if ((rc = fmpi_agree(rc))) {
		feral_dataset_destroy(&full);
		return rc;
	}
	uint64_t n = full->n;
	uint64_t b = n * (uint64_t)rank / (uint64_t)size, e = n * (uint64_t)(rank + 1) / (uint64_t)size;
	if (e == b) {
		fprintf(stderr, "%s: %s: %llu rows for %d ranks: rank %d would get none\n", prog, path,
		        (unsigned long long)n, size, rank);
		rc = 2;
	} else if ((st = fmpi_slice_rows(full, b, e, full->d, out, &err))) {
		rc = cli_report(prog, st, &err);
	}
	feral_dataset_destroy(&full);
	info->n_global = n;
	info->row_begin = b;
	return fmpi_agree(rc);
}

int fmpi_shard_load(const char *prog, const char *path, enum feral_precision prec, uint64_t seed,
                    struct feral_dataset **out, struct fmpi_shard *info)
{
	int rank, size, rc = 0;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	memset(info, 0, sizeof *info);
	*out = NULL;
	double t0 = now();
	struct feral_error err = {0};
	enum feral_format fmt = feral_format_from_path(path);
	size_t plen = strlen(path);
	int gz = plen > 3 && strcmp(path + plen - 3, ".gz") == 0;

	if (fmt == FERAL_FORMAT_FERAL) {
		info->method = "cache-rows";
		if ((rc = full_parse(prog, path, rank, size, out, info)))
			return rc;
	} else if (fmt == FERAL_FORMAT_LIBSVM && !gz) {
		struct stat sb;
		if (stat(path, &sb) != 0) {
			/* let the loader name the error */
			sb.st_size = 0;
		}
		uint64_t S = (uint64_t)sb.st_size;
		struct feral_load_options lo;
		feral_load_options_init(&lo);
		lo.byte_begin = S * (uint64_t)rank / (uint64_t)size;
		lo.byte_end = rank == size - 1 ? 0 : S * (uint64_t)(rank + 1) / (uint64_t)size;
		if (lo.byte_begin == 0 && lo.byte_end == 0 && size > 1)
			lo.byte_end = 1; /* tiny file: only what starts in byte 0 */
		enum feral_status st = feral_dataset_load(path, &lo, out, &err);
		int unsupported = st == FERAL_STATUS_UNSUPPORTED;
		if (st && !unsupported)
			rc = cli_report(prog, st, &err);
		if (st == FERAL_STATUS_RANGE || st == FERAL_STATUS_PARSE) {
			/* an empty byte range ("no data rows", "select nothing") */
			if (strstr(err.msg, "no data rows") || strstr(err.msg, "select nothing"))
				fprintf(stderr, "%s: %s: rank %d of %d has no lines: use fewer ranks\n", prog,
				        path, rank, size);
		}
		int any_unsupported = fmpi_agree(unsupported);
		if ((rc = fmpi_agree(rc))) {
			feral_dataset_destroy(out);
			return rc;
		}
		int ignored = 0;
		if (!any_unsupported && size > 1) {
			uint64_t fp = fingerprint(*out), fmin = fp, fmax = fp;
			MPI_Allreduce(&fp, &fmin, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
			MPI_Allreduce(&fp, &fmax, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
			ignored = fmin == fmax;
		}
		if (any_unsupported || ignored) {
			feral_dataset_destroy(out);
			snprintf(info->note, sizeof info->note, "%s",
			         any_unsupported ? "the loader refused byte ranges: every rank parsed the file"
			                         : "the loader ignored byte_begin/byte_end (every rank got the "
			                           "same rows): every rank parsed the file");
			info->method = "libsvm-rows";
			if ((rc = full_parse(prog, path, rank, size, out, info)))
				return rc;
		} else {
			info->method = "libsvm-bytes";
			uint64_t n = (*out)->n, before = 0, total = 0;
			MPI_Exscan(&n, &before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
			if (rank == 0)
				before = 0; /* MPI_Exscan leaves rank 0's undefined */
			MPI_Allreduce(&n, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
			info->n_global = total;
			info->row_begin = before;
		}
	} else {
		info->method = fmt == FERAL_FORMAT_LIBSVM ? "libsvm-rows" : "full-parse";
		if (gz)
			snprintf(info->note, sizeof info->note,
			         "compressed input cannot be cut by bytes: every rank parsed the file");
		if ((rc = full_parse(prog, path, rank, size, out, info)))
			return rc;
	}

	/* one d for every rank */
	uint64_t d = (*out)->d, D = d;
	MPI_Allreduce(&d, &D, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	if (D > d) {
		if ((*out)->layout == FERAL_LAYOUT_CSR) {
			(*out)->d = D;
		} else {
			struct feral_dataset *w = NULL;
			enum feral_status st = fmpi_slice_rows(*out, 0, (*out)->n, D, &w, &err);
			if (st)
				rc = cli_report(prog, st, &err);
			else {
				feral_dataset_destroy(out);
				*out = w;
			}
		}
	}
	info->d = D;
	if ((rc = fmpi_agree(rc))) {
		feral_dataset_destroy(out);
		return rc;
	}
	/* quantize the shard (per-rank seed: the rows differ anyway) */
	if (prec != (*out)->precision) {
		if ((*out)->precision != FERAL_PRECISION_F32) {
			fprintf(stderr, "%s: %s: stored at %d bits; cannot re-quantize to %d bits\n", prog,
			        path, feral_precision_bits((*out)->precision), feral_precision_bits(prec));
			rc = 2;
		} else {
			struct feral_dataset *q = NULL;
			enum feral_status st =
			        feral_dataset_quantize(*out, prec, seed + 0x51ed27ull * (uint64_t)rank, &q, &err);
			if (st)
				rc = cli_report(prog, st, &err);
			else {
				feral_dataset_destroy(out);
				*out = q;
			}
		}
	}
	if ((rc = fmpi_agree(rc))) {
		feral_dataset_destroy(out);
		return rc;
	}
	info->load_seconds = now() - t0;
	return 0;
}
