/* Matrix Market (NIST) text, plain or gzip:
 *
 *   %%MatrixMarket matrix coordinate|array real|integer|pattern general|symmetric
 *   % comments
 *   M N NNZ        (coordinate)   or   M N   (array)
 *   i j v          (1-based; no v for pattern)   or   v   (column-major)
 *
 * Coordinate data becomes CSR with sorted rows.  Entries repeated at one
 * (i, j) are summed (in double, then rounded once to float), as scipy's and
 * MATLAB's mmread do: files written by assembling element contributions
 * rely on it.  Symmetric files store one triangle: every off-diagonal entry
 * is mirrored, then duplicates are summed, so "2 1 a" twice and "1 2 b" give
 * A(1,2) = A(2,1) = 2a + b (scipy.io.mmread gives the same).  The file may
 * hold more entries than the matrix has cells; a sum beyond float32 is
 * RANGE, naming the line of the entry that pushed it over.
 * Sizes are checked (overflow, NNZ <= M*N, memory) before anything is
 * allocated, so a corrupt size line cannot trigger a huge allocation.
 * Rows are not selectable here (row_begin/row_end are LIBSVM only).
 */
#define _GNU_SOURCE
#include "dataset_build.h"
#include "io_text.h"

#include <ctype.h>
#include <sys/stat.h>

struct mtx {
	const char *path;
	bool f64;        /* parse values as double (vectors) or float (datasets) */
	bool coord, pattern, symmetric;
	uint64_t m, n;   /* rows, columns */
	uint64_t count;  /* entries the file must hold */
	uint64_t max_text; /* bytes of text the file can hold (size, or a gzip bound) */
	uint64_t got;
	uint64_t stored; /* coordinate entries stored (mirrors included) */
	uint64_t ai, aj; /* array: position of the next value */
	uint32_t *ri, *ci; /* coordinate, 0-based */
	long *ln;        /* coordinate: line of each stored entry (for a sum's error) */
	float *vf;       /* values: coordinate in file order, array row-major m x n */
	double *vd;
};

static void mtx_free(struct mtx *mx)
{
	free(mx->ri);
	free(mx->ci);
	free(mx->ln);
	free(mx->vf);
	free(mx->vd);
}

/* Banner: every word case-insensitive. */
static enum feral_status mtx_header(struct mtx *mx, const char *ls, const char *eol,
                                    struct feral_error *err)
{
	char buf[512], obj[64] = "", fmt[64] = "", field[64] = "", sym[64] = "";
	size_t n = (size_t)(eol - ls) < sizeof buf - 1 ? (size_t)(eol - ls) : sizeof buf - 1;
	for (size_t k = 0; k < n; k++)
		buf[k] = (char)tolower((unsigned char)ls[k]);
	buf[n] = '\0';
	if (strncmp(buf, "%%matrixmarket", 14) != 0 || (buf[14] && !isspace((unsigned char)buf[14])))
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "not a Matrix Market file (no %%%%MatrixMarket header)");
	if (sscanf(buf + 14, "%63s %63s %63s %63s", obj, fmt, field, sym) != 4)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "incomplete Matrix Market header: want 'matrix <format> <field> <symmetry>'");
	if (strcmp(obj, "matrix") != 0)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, mx->path, 1,
		                  "object '%s' is not supported (only matrix)", obj);
	if (strcmp(fmt, "coordinate") == 0)
		mx->coord = true;
	else if (strcmp(fmt, "array") != 0)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "bad format '%s' (coordinate or array)", fmt);
	if (strcmp(field, "pattern") == 0)
		mx->pattern = true;
	else if (strcmp(field, "complex") == 0)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, mx->path, 1,
		                  "complex values are not supported");
	else if (strcmp(field, "real") != 0 && strcmp(field, "integer") != 0 &&
	         strcmp(field, "double") != 0)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "bad field '%s' (real, integer or pattern)", field);
	if (strcmp(sym, "symmetric") == 0)
		mx->symmetric = true;
	else if (strcmp(sym, "skew-symmetric") == 0 || strcmp(sym, "hermitian") == 0)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, mx->path, 1,
		                  "%s matrices are not supported (general or symmetric)", sym);
	else if (strcmp(sym, "general") != 0)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "bad symmetry '%s' (general or symmetric)", sym);
	if (mx->pattern && !mx->coord)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, 1,
		                  "pattern matrices must be in coordinate format");
	return FERAL_OK;
}

static enum feral_status mtx_size(struct mtx *mx, const char *p, long line, struct feral_error *err)
{
	uint64_t v[3] = {0, 0, 0};
	int want = mx->coord ? 3 : 2, k = 0;
	for (;;) {
		while (feral_is_blank(*p))
			p++;
		if (*p == '\n')
			break;
		const char *q = k < want ? feral_parse_u64(p, &v[k]) : NULL;
		if (!q || !feral_is_delim(*q) || *q == '#')
			return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line,
			                  "bad size line: want %s", mx->coord ? "'rows cols entries'" : "'rows cols'");
		k++;
		p = q;
	}
	if (k != want)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line, "bad size line: want %s",
		                  mx->coord ? "'rows cols entries'" : "'rows cols'");
	mx->m = v[0];
	mx->n = v[1];
	uint64_t cells;
	if (mx->m == 0 || mx->n == 0)
		return feral_fail(err, FERAL_STATUS_RANGE, mx->path, line, "empty matrix (%llu x %llu)",
		                  (unsigned long long)mx->m, (unsigned long long)mx->n);
	if (!feral_mul_ok(mx->m, mx->n, &cells))
		return feral_fail(err, FERAL_STATUS_RANGE, mx->path, line,
		                  "matrix size %llu x %llu overflows", (unsigned long long)mx->m,
		                  (unsigned long long)mx->n);
	if (mx->m > UINT32_MAX - 1 || mx->n > UINT32_MAX - 1)
		return feral_fail(err, FERAL_STATUS_RANGE, mx->path, line,
		                  "matrix size %llu x %llu exceeds the 2^32-2 limit per side",
		                  (unsigned long long)mx->m, (unsigned long long)mx->n);
	if (mx->symmetric && mx->m != mx->n)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line,
		                  "a symmetric matrix must be square, not %llu x %llu",
		                  (unsigned long long)mx->m, (unsigned long long)mx->n);
	uint64_t bytes;
	size_t vsz = mx->f64 ? sizeof(double) : sizeof(float);
	mx->count = mx->coord ? v[2] : mx->symmetric ? mx->n * (mx->n + 1) / 2 : cells;
	/* Storage is sized from the size line, so a few bytes claiming a
	 * huge matrix must not allocate it: every entry takes at least
	 * "1 1 0\n", "1 1\n" (pattern) or "0\n" (array) of text. */
	uint64_t min_entry = mx->coord ? (mx->pattern ? 4 : 6) : 2;
	if (mx->count > mx->max_text / min_entry || mx->count > UINT64_MAX / 64)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line,
		                  "expected %llu entries, but the file is too small to hold them",
		                  (unsigned long long)mx->count);
	if (mx->coord) {
		/* Per entry: coordinates, line, value; per row: CSR offsets,
		 * a scatter cursor, target and norm. */
		uint64_t slots = mx->symmetric ? 2 * mx->count : mx->count;
		bytes = slots * (2 * sizeof(uint32_t) + sizeof(long) + vsz) + mx->m * 32;
		enum feral_status st = feral_check_fits(mx->path, bytes, err);
		if (st)
			return st;
		size_t s = slots ? (size_t)slots : 1;
		mx->ri = malloc(s * sizeof *mx->ri);
		mx->ci = malloc(s * sizeof *mx->ci);
		mx->ln = malloc(s * sizeof *mx->ln);
	} else {
		if (!feral_mul_ok(cells, vsz, &bytes))
			bytes = UINT64_MAX;
		enum feral_status st = feral_check_fits(mx->path, bytes, err);
		if (st)
			return st;
	}
	size_t slots = mx->coord ? (size_t)(mx->symmetric ? 2 * mx->count : mx->count) : (size_t)cells;
	if (slots == 0)
		slots = 1;
	if (mx->f64)
		mx->vd = calloc(slots, sizeof *mx->vd);
	else
		mx->vf = calloc(slots, sizeof *mx->vf);
	if ((mx->coord && (!mx->ri || !mx->ci || !mx->ln)) || (!mx->vd && !mx->vf))
		return feral_fail(err, FERAL_STATUS_NOMEM, mx->path, line,
		                  "cannot allocate %llu entries", (unsigned long long)mx->count);
	return FERAL_OK;
}

static const char *mtx_value(struct mtx *mx, const char *p, float *vf, double *vd)
{
	while (feral_is_blank(*p))
		p++;
	return mx->f64 ? feral_parse_f64(p, vd) : feral_parse_f32(p, vf);
}

static enum feral_status mtx_entry(struct mtx *mx, const char *p, long line,
                                   struct feral_error *err)
{
	const char *tok = p;
	if (mx->got == mx->count)
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line,
		                  "more than the %llu entries the size line declares",
		                  (unsigned long long)mx->count);
	uint64_t i = 0, j = 0;
	float vf = 1;
	double vd = 1;
	const char *q = p;
	if (mx->coord) {
		q = feral_parse_u64(q, &i);
		if (q && feral_is_blank(*q)) {
			while (feral_is_blank(*q))
				q++;
			q = feral_parse_u64(q, &j);
		} else {
			q = NULL;
		}
	}
	if (q && !mx->pattern)
		q = feral_is_blank(*q) || !mx->coord ? mtx_value(mx, q, &vf, &vd) : NULL;
	if (q)
		while (feral_is_blank(*q))
			q++;
	if (!q || *q != '\n') {
		int n = 0;
		while (tok[n] != '\n' && n < 60)
			n++;
		return feral_fail(err, FERAL_STATUS_PARSE, mx->path, line, "bad entry '%.*s'", n, tok);
	}
	if (mx->f64 ? !isfinite(vd) : !isfinite(vf))
		return feral_fail(err, FERAL_STATUS_RANGE, mx->path, line, "value is not finite");
	if (mx->coord) {
		if (i == 0 || j == 0 || i > mx->m || j > mx->n)
			return feral_fail(err, FERAL_STATUS_RANGE, mx->path, line,
			                  "entry (%llu, %llu) outside the %llu x %llu matrix (1-based)",
			                  (unsigned long long)i, (unsigned long long)j,
			                  (unsigned long long)mx->m, (unsigned long long)mx->n);
		for (int mirror = 0; mirror < 1 + (mx->symmetric && i != j); mirror++) {
			uint64_t s = mx->stored++;
			mx->ri[s] = (uint32_t)((mirror ? j : i) - 1);
			mx->ci[s] = (uint32_t)((mirror ? i : j) - 1);
			mx->ln[s] = line;
			if (mx->f64)
				mx->vd[s] = vd;
			else
				mx->vf[s] = vf;
		}
	} else {
		/* Column-major: walk down a column, then to the next (from the
		 * diagonal for a symmetric lower triangle). */
		uint64_t a = mx->ai * mx->n + mx->aj, b = mx->symmetric ? mx->aj * mx->n + mx->ai : a;
		if (mx->f64)
			mx->vd[a] = mx->vd[b] = vd;
		else
			mx->vf[a] = mx->vf[b] = vf;
		if (++mx->ai == mx->m) {
			mx->aj++;
			mx->ai = mx->symmetric ? mx->aj : 0;
		}
	}
	mx->got++;
	return FERAL_OK;
}

static enum feral_status mtx_read(const char *path, bool f64, struct mtx *mx,
                                  struct feral_error *err)
{
	struct feral_text t;
	memset(mx, 0, sizeof *mx);
	mx->path = path;
	mx->f64 = f64;
	enum feral_status st = feral_text_open(&t, path, err);
	if (st)
		return st;
	/* zlib's deflate expands at most 1032:1. */
	struct stat sb;
	uint64_t size = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : UINT64_MAX;
	mx->max_text = t.gz ? (size > UINT64_MAX / 1032 ? UINT64_MAX : size * 1032) : size;
	int state = 0, done = 0; /* 0: banner, 1: size line, 2: entries */
	long line = 0;
	while (!(st = feral_text_next(&t, &done, err)) && !done) {
		const char *p = t.buf, *end = t.buf + t.hi;
		while (p < end) {
			const char *ls = p, *eol = memchr(p, '\n', (size_t)(end - p));
			line++;
			if ((size_t)(eol - ls) > FERAL_TEXT_LINE_MAX) {
				st = feral_fail(err, FERAL_STATUS_PARSE, path, line, "line longer than 16 MiB");
				goto out;
			}
			p = eol + 1;
			if (state == 0) {
				if ((st = mtx_header(mx, ls, eol, err)))
					goto out;
				state = 1;
				continue;
			}
			const char *q = ls;
			while (feral_is_blank(*q))
				q++;
			if (*q == '\n' || *q == '%')
				continue;
			if (state == 1) {
				if ((st = mtx_size(mx, q, line, err)))
					goto out;
				state = 2;
			} else if ((st = mtx_entry(mx, q, line, err))) {
				goto out;
			}
		}
		t.line = line;
	}
	if (st)
		goto out;
	if (state == 0)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 1,
		                "not a Matrix Market file (empty)");
	else if (state == 1)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, line, "missing size line");
	else if (mx->got < mx->count)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, line, "expected %llu entries, found %llu",
		                (unsigned long long)mx->count, (unsigned long long)mx->got);
out:
	feral_text_close(&t);
	if (st)
		mtx_free(mx);
	return st;
}

struct colkey {
	uint32_t col;
	uint64_t k;
};

static int cmp_colkey(const void *a, const void *b)
{
	const struct colkey *x = a, *y = b;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/* Coordinate entries -> CSR arrays, duplicates summed in file order (the
 * sort key keeps it within a column), in double and rounded once. */
static enum feral_status mtx_to_csr(struct mtx *mx, uint64_t **indptr_out, uint32_t **idx_out,
                                    float **val_out, struct feral_error *err)
{
	uint64_t m = mx->m, s = mx->stored;
	uint64_t *indptr = calloc(m + 1, sizeof *indptr);
	struct colkey *keys = malloc((s ? s : 1) * sizeof *keys);
	uint32_t *idx = malloc((s ? s : 1) * sizeof *idx);
	float *val = malloc((s ? s : 1) * sizeof *val);
	enum feral_status st = FERAL_OK;
	if (!indptr || !keys || !idx || !val) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, mx->path, 0, "out of memory");
		goto out;
	}
	for (uint64_t k = 0; k < s; k++)
		indptr[mx->ri[k] + 1]++;
	for (uint64_t i = 0; i < m; i++)
		indptr[i + 1] += indptr[i];
	/* Scatter by row with a running cursor per row. */
	uint64_t *cur = malloc((m ? m : 1) * sizeof *cur);
	if (!cur) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, mx->path, 0, "out of memory");
		goto out;
	}
	memcpy(cur, indptr, m * sizeof *cur);
	for (uint64_t k = 0; k < s; k++) {
		uint64_t pos = cur[mx->ri[k]]++;
		keys[pos].col = mx->ci[k];
		keys[pos].k = k;
	}
	free(cur);
	/* Sort each row and fold its duplicates (indptr[i] is rewritten only
	 * after row i's old bounds are read). */
	uint64_t nz = 0;
	for (uint64_t i = 0; i < m; i++) {
		uint64_t b = indptr[i], e = indptr[i + 1];
		qsort(keys + b, e - b, sizeof *keys, cmp_colkey);
		indptr[i] = nz;
		for (uint64_t k = b; k < e;) {
			uint32_t col = keys[k].col;
			double sum = 0;
			float v = 0;
			for (; k < e && keys[k].col == col; k++) {
				sum += mx->vf[keys[k].k];
				v = (float)sum;
				if (!isfinite(v)) {
					st = feral_fail(err, FERAL_STATUS_RANGE, mx->path, mx->ln[keys[k].k],
					                "duplicate entries at (%llu, %u) sum to %g, beyond float32",
					                (unsigned long long)i + 1, col + 1, sum);
					goto out;
				}
			}
			idx[nz] = col;
			val[nz++] = v;
		}
	}
	indptr[m] = nz;
	/* Give back what the folded duplicates freed (a shrinking realloc
	 * that fails leaves the larger block, which is fine). */
	void *q;
	if (nz < s && nz && (q = realloc(idx, nz * sizeof *idx)))
		idx = q;
	if (nz < s && nz && (q = realloc(val, nz * sizeof *val)))
		val = q;
out:
	free(keys);
	if (st) {
		free(indptr);
		free(idx);
		free(val);
		return st;
	}
	*indptr_out = indptr;
	*idx_out = idx;
	*val_out = val;
	return FERAL_OK;
}

/* Row-major dense values -> CSR of the nonzeros. */
static enum feral_status dense_to_csr(struct mtx *mx, uint64_t **indptr_out, uint32_t **idx_out,
                                      float **val_out, struct feral_error *err)
{
	uint64_t m = mx->m, n = mx->n, nz = 0;
	for (uint64_t k = 0; k < m * n; k++)
		nz += mx->vf[k] != 0;
	uint64_t *indptr = malloc((m + 1) * sizeof *indptr);
	uint32_t *idx = malloc((nz ? nz : 1) * sizeof *idx);
	float *val = malloc((nz ? nz : 1) * sizeof *val);
	if (!indptr || !idx || !val) {
		free(indptr);
		free(idx);
		free(val);
		return feral_fail(err, FERAL_STATUS_NOMEM, mx->path, 0, "out of memory");
	}
	nz = 0;
	indptr[0] = 0;
	for (uint64_t i = 0; i < m; i++) {
		for (uint64_t j = 0; j < n; j++) {
			if (mx->vf[i * n + j] != 0) {
				idx[nz] = (uint32_t)j;
				val[nz++] = mx->vf[i * n + j];
			}
		}
		indptr[i + 1] = nz;
	}
	*indptr_out = indptr;
	*idx_out = idx;
	*val_out = val;
	return FERAL_OK;
}

enum feral_status feral_io_mtx_load(const char *path, const struct feral_load_options *opt,
                                    struct feral_dataset **out, struct feral_error *err)
{
	struct mtx mx;
	*out = NULL;
	enum feral_status st = mtx_read(path, false, &mx, err);
	if (st)
		return st;
	uint64_t *indptr = NULL;
	uint32_t *idx = NULL;
	float *val = NULL;
	int dense = opt ? opt->dense : -1;
	if (mx.coord) {
		st = mtx_to_csr(&mx, &indptr, &idx, &val, err);
	} else {
		st = dense_to_csr(&mx, &indptr, &idx, &val, err);
		dense = dense == 0 ? 0 : 1; /* array files are dense unless told */
	}
	uint64_t d = mx.n;
	if (opt && opt->min_d > d)
		d = opt->min_d;
	if (!st)
		st = feral_dataset_from_csr(path, mx.m, d, &indptr, &idx, &val, NULL, dense, out, err);
	free(indptr);
	free(idx);
	free(val);
	mtx_free(&mx);
	return st;
}

enum feral_status feral_io_mtx_save(const struct feral_dataset *ds, const char *path,
                                    struct feral_error *err)
{
	struct feral_tout o;
	enum feral_status st = feral_tout_open(&o, path, err);
	if (st)
		return st;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		feral_tout_printf(&o, "%%%%MatrixMarket matrix coordinate real general\n%llu %llu %llu\n",
		                  (unsigned long long)ds->n, (unsigned long long)ds->d,
		                  (unsigned long long)ds->indptr[ds->n]);
		for (uint64_t i = 0; i < ds->n && !o.failed; i++)
			for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
				feral_tout_printf(&o, "%llu %llu %.9g\n", (unsigned long long)i + 1,
				                  (unsigned long long)ds->indices[k] + 1,
				                  feral_dataset_value(ds, i, k));
	} else {
		feral_tout_printf(&o, "%%%%MatrixMarket matrix array real general\n%llu %llu\n",
		                  (unsigned long long)ds->n, (unsigned long long)ds->d);
		for (uint64_t j = 0; j < ds->d && !o.failed; j++)
			for (uint64_t i = 0; i < ds->n; i++)
				feral_tout_printf(&o, "%.9g\n", feral_dataset_value(ds, i, i * ds->d + j));
	}
	return feral_tout_commit(&o, err);
}

enum feral_status feral_io_mtx_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err)
{
	struct mtx mx;
	*out = NULL;
	*len = 0;
	enum feral_status st = mtx_read(path, true, &mx, err);
	if (st)
		return st;
	if (mx.m != 1 && mx.n != 1) {
		mtx_free(&mx);
		return feral_fail(err, FERAL_STATUS_PARSE, path, 0,
		                  "a vector must be n x 1 or 1 x n, not %llu x %llu",
		                  (unsigned long long)mx.m, (unsigned long long)mx.n);
	}
	uint64_t n = mx.m * mx.n, bytes;
	double *v = mx.vd;
	if (mx.coord) {
		/* The entries were sized against the file; the dense vector they
		 * scatter into is sized by the size line alone ("1 400000000 0" is
		 * 3.2 GB from 46 bytes): refuse what cannot fit, as for matrices. */
		if (!feral_mul_ok(n, sizeof *v, &bytes))
			bytes = UINT64_MAX;
		if ((st = feral_check_fits(path, bytes, err))) {
			mtx_free(&mx);
			return st;
		}
		v = calloc(n ? n : 1, sizeof *v);
		if (!v) {
			mtx_free(&mx);
			return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
		}
		/* Duplicates are summed, as for matrices. */
		for (uint64_t k = 0; k < mx.stored; k++) {
			uint64_t at = (uint64_t)mx.ri[k] + mx.ci[k]; /* one of them is 0 */
			v[at] += mx.vd[k];
			if (!isfinite(v[at])) {
				long l = mx.ln[k];
				free(v);
				mtx_free(&mx);
				return feral_fail(err, FERAL_STATUS_RANGE, path, l,
				                  "duplicate entries for element %llu sum beyond double range",
				                  (unsigned long long)at + 1);
			}
		}
		free(mx.vd);
	}
	mx.vd = NULL;
	mtx_free(&mx);
	*out = v;
	*len = n;
	return FERAL_OK;
}

enum feral_status feral_io_mtx_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err)
{
	struct feral_tout o;
	enum feral_status st = feral_tout_open(&o, path, err);
	if (st)
		return st;
	feral_tout_printf(&o, "%%%%MatrixMarket matrix array real general\n%llu 1\n",
	                  (unsigned long long)len);
	for (uint64_t i = 0; i < len && !o.failed; i++)
		feral_tout_printf(&o, "%.17g\n", v[i]);
	return feral_tout_commit(&o, err);
}
