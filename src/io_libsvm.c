/* LIBSVM / SVMlight text, plain or gzip.
 *
 *   <label> [qid:<n>] <index>:<value> ... [# comment]
 *
 * Labels are kept as written (+1/-1, 0/1 or real targets: the trainer maps
 * them), indices are 1-based and become 0-based columns.  Unsorted indices
 * are sorted; a repeated index is an error rather than summed or
 * overwritten: the format has no rule for it, readers disagree (some sum,
 * some keep one), and a repeat is almost always a bug in the converter that
 * wrote the file.  (Matrix Market differs: there repeats are how assembled
 * matrices are written, and the reference readers sum them; io_mtx.c does
 * too.)  d is the largest index over the whole file (not
 * only the selected rows, so every shard of a file agrees), at least min_d.
 *
 * Speed: the reader hands out runs of up to 64 MiB of complete lines; each
 * run is cut at newlines into one slice per thread, slices are parsed in
 * parallel into per-thread arrays and appended in order, so the result and
 * the first error reported do not depend on the thread count.  Numbers go
 * through the exact fast paths in io_text.h, not strtod per token.
 */
#define _GNU_SOURCE
#include "dataset_build.h"
#include "io_text.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Largest 1-based index: column index-1 must fit a uint32 below UINT32_MAX. */
#define LIBSVM_INDEX_MAX 4294967294ull
/* Runs smaller than this are parsed by one thread: not worth a fork. */
#define LIBSVM_PARALLEL_MIN ((size_t)1 << 20)

/* One thread's output for one slice of a run. */
struct slice {
	const char *lo, *hi;
	double *y;
	uint32_t *rownnz;
	size_t ny, cap_y;
	uint32_t *idx;
	float *val;
	size_t nnz, cap_nz;
	uint64_t *sortbuf;
	size_t cap_sort;
	uint64_t max_idx;
	long lines;
	enum feral_status st;
	struct feral_error err; /* line relative to the slice */
};

/* Everything kept so far, in file order. */
struct rows {
	double *y;
	uint64_t *indptr; /* n + 1 */
	uint32_t *idx;
	float *val;
	uint64_t n, cap_n, nnz, cap_nz;
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	/* Doubling while small; by an eighth once large, so the slack (and the
	 * peak memory of a load) stays within 12.5 % of the data: glibc moves
	 * large blocks with mremap, so growing often costs no copies. */
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c += c < ((size_t)1 << 20) ? c : c / 8;
	void *q = realloc(*p, c * elem);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

static void slice_free(struct slice *s)
{
	free(s->y);
	free(s->rownnz);
	free(s->idx);
	free(s->val);
	free(s->sortbuf);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort the row's (index, value) pairs by index; returns a repeated 1-based
 * index, or 0 when all are distinct, or UINT64_MAX when out of memory. */
static uint64_t sort_row(struct slice *s, size_t row0)
{
	size_t len = s->nnz - row0;
	if (!grow((void **)&s->sortbuf, &s->cap_sort, len, sizeof *s->sortbuf))
		return UINT64_MAX;
	uint32_t *idx = s->idx + row0;
	float *val = s->val + row0;
	for (size_t k = 0; k < len; k++) {
		uint32_t bits;
		memcpy(&bits, &val[k], sizeof bits);
		s->sortbuf[k] = (uint64_t)idx[k] << 32 | bits;
	}
	qsort(s->sortbuf, len, sizeof *s->sortbuf, cmp_u64);
	for (size_t k = 0; k < len; k++) {
		uint32_t bits = (uint32_t)s->sortbuf[k];
		idx[k] = (uint32_t)(s->sortbuf[k] >> 32);
		memcpy(&val[k], &bits, sizeof bits);
		if (k && idx[k] == idx[k - 1])
			return (uint64_t)idx[k] + 1;
	}
	return 0;
}

/* Record the slice's first error.  A malformed line that is also over the
 * length limit reports the limit: that is the more useful complaint about
 * binary or unsplit input. */
static void slice_fail(struct slice *s, const char *path, long line, const char *ls,
                       enum feral_status status, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void slice_fail(struct slice *s, const char *path, long line, const char *ls,
                       enum feral_status status, const char *fmt, ...)
{
	const char *eol = memchr(ls, '\n', (size_t)(s->hi - ls));
	s->lines = line;
	if (eol && (size_t)(eol - ls) > FERAL_TEXT_LINE_MAX) {
		s->st = feral_fail(&s->err, FERAL_STATUS_PARSE, path, line, "line longer than 16 MiB");
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof s->err.msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->st = feral_fail(&s->err, status, path, line, "%s", msg);
}

#define SLICE_FAIL(status, ...)                                                          \
	do {                                                                             \
		slice_fail(s, path, line, ls, (status), __VA_ARGS__);                    \
		return;                                                                  \
	} while (0)

/* Parse s->lo .. s->hi, which ends with '\n'.  Stops at the first error. */
static void parse_slice(struct slice *s, const char *path)
{
	const char *p = s->lo, *end = s->hi;
	long line = 0;
	s->ny = s->nnz = 0;
	s->st = FERAL_OK;
	while (p < end) {
		const char *ls = p;
		line++;
		while (feral_is_blank(*p))
			p++;
		if (*p == '\n' || *p == '#')
			goto eol;
		double label;
		const char *q = feral_parse_f64(p, &label);
		if (!q || !feral_is_delim(*q)) {
			int k = feral_token_len(p);
			if (memchr(p, ':', (size_t)k))
				SLICE_FAIL(FERAL_STATUS_PARSE, "missing label before '%.*s'", k, p);
			SLICE_FAIL(FERAL_STATUS_PARSE, "bad label '%.*s'", k, p);
		}
		if (!isfinite(label))
			SLICE_FAIL(FERAL_STATUS_RANGE, "label '%.*s' is not finite", feral_token_len(p), p);
		p = q;
		size_t row0 = s->nnz;
		uint64_t prev = 0;
		bool sorted = true;
		for (;;) {
			while (feral_is_blank(*p))
				p++;
			if (*p == '\n' || *p == '#')
				break;
			uint64_t ix;
			float v;
			q = feral_parse_u64(p, &ix);
			if (FERAL_UNLIKELY(!q || *q != ':')) {
				if (p[0] == 'q' && p[1] == 'i' && p[2] == 'd' && p[3] == ':') {
					/* SVMlight query ids: ranking only, ignored. */
					for (p += 4; !feral_is_delim(*p); p++)
						;
					continue;
				}
				if (*p == '-' && (q = feral_parse_u64(p + 1, &ix)) && *q == ':')
					SLICE_FAIL(FERAL_STATUS_RANGE,
					           "negative index in '%.*s': indices are 1-based",
					           feral_token_len(p), p);
				SLICE_FAIL(FERAL_STATUS_PARSE, "bad token '%.*s'", feral_token_len(p), p);
			}
			const char *r = feral_parse_f32(q + 1, &v);
			if (FERAL_UNLIKELY(!r || !feral_is_delim(*r)))
				SLICE_FAIL(FERAL_STATUS_PARSE, "bad token '%.*s'", feral_token_len(p), p);
			if (FERAL_UNLIKELY(ix == 0))
				SLICE_FAIL(FERAL_STATUS_RANGE, "index 0 in '%.*s': indices are 1-based",
				           feral_token_len(p), p);
			if (FERAL_UNLIKELY(ix > LIBSVM_INDEX_MAX))
				SLICE_FAIL(FERAL_STATUS_RANGE, "index in '%.*s' exceeds the limit %llu",
				           feral_token_len(p), p, LIBSVM_INDEX_MAX);
			if (FERAL_UNLIKELY(!isfinite(v)))
				SLICE_FAIL(FERAL_STATUS_RANGE, "value in '%.*s' is not finite (as float32)",
				           feral_token_len(p), p);
			if (FERAL_UNLIKELY(s->nnz == s->cap_nz)) {
				size_t c1 = s->cap_nz, c2 = s->cap_nz;
				if (!grow((void **)&s->idx, &c1, s->nnz + 1, sizeof *s->idx) ||
				    !grow((void **)&s->val, &c2, s->nnz + 1, sizeof *s->val))
					SLICE_FAIL(FERAL_STATUS_NOMEM, "out of memory");
				s->cap_nz = c1 < c2 ? c1 : c2;
			}
			s->idx[s->nnz] = (uint32_t)(ix - 1);
			s->val[s->nnz++] = v;
			sorted &= ix > prev;
			prev = ix;
			if (ix > s->max_idx)
				s->max_idx = ix;
			p = r;
		}
		if (!sorted) {
			uint64_t dup = sort_row(s, row0);
			if (dup == UINT64_MAX)
				SLICE_FAIL(FERAL_STATUS_NOMEM, "out of memory");
			if (dup)
				SLICE_FAIL(FERAL_STATUS_PARSE,
				           "duplicate index %llu in one row (each index may appear once)",
				           (unsigned long long)dup);
		}
		if (FERAL_UNLIKELY(s->ny == s->cap_y)) {
			size_t c1 = s->cap_y, c2 = s->cap_y;
			if (!grow((void **)&s->y, &c1, s->ny + 1, sizeof *s->y) ||
			    !grow((void **)&s->rownnz, &c2, s->ny + 1, sizeof *s->rownnz))
				SLICE_FAIL(FERAL_STATUS_NOMEM, "out of memory");
			s->cap_y = c1 < c2 ? c1 : c2;
		}
		s->y[s->ny] = label;
		s->rownnz[s->ny++] = (uint32_t)(s->nnz - row0);
eol:
		if (*p != '\n')
			p = memchr(p, '\n', (size_t)(end - p));
		p++;
		if ((size_t)(p - ls) > FERAL_TEXT_LINE_MAX + 1)
			SLICE_FAIL(FERAL_STATUS_PARSE, "line longer than 16 MiB");
	}
	s->lines = line;
}

/* Append the slice's rows whose global numbers fall in [b, e). */
static bool append_slice(struct rows *g, const struct slice *s, uint64_t first, uint64_t b,
                         uint64_t e)
{
	uint64_t lo = b > first ? b - first : 0;
	uint64_t hi = e > first ? e - first : 0;
	if (hi > s->ny)
		hi = s->ny;
	if (lo >= hi)
		return true;
	uint64_t off = 0, cnt = 0;
	for (uint64_t r = 0; r < lo; r++)
		off += s->rownnz[r];
	for (uint64_t r = lo; r < hi; r++)
		cnt += s->rownnz[r];
	size_t cap_n = g->cap_n, cap_nz = g->cap_nz, c;
	if (!grow((void **)&g->y, &cap_n, g->n + (hi - lo), sizeof *g->y))
		return false;
	c = g->cap_n;
	if (!grow((void **)&g->indptr, &c, g->n + (hi - lo) + 1, sizeof *g->indptr))
		return false;
	g->cap_n = cap_n < c ? cap_n : c;
	if (!grow((void **)&g->idx, &cap_nz, g->nnz + cnt, sizeof *g->idx))
		return false;
	c = g->cap_nz;
	if (!grow((void **)&g->val, &c, g->nnz + cnt, sizeof *g->val))
		return false;
	g->cap_nz = cap_nz < c ? cap_nz : c;
	memcpy(g->y + g->n, s->y + lo, (hi - lo) * sizeof *g->y);
	if (cnt) {
		memcpy(g->idx + g->nnz, s->idx + off, cnt * sizeof *g->idx);
		memcpy(g->val + g->nnz, s->val + off, cnt * sizeof *g->val);
	}
	if (g->n == 0)
		g->indptr[0] = 0;
	for (uint64_t r = lo; r < hi; r++) {
		g->indptr[g->n + 1] = g->indptr[g->n] + s->rownnz[r];
		g->n++;
	}
	g->nnz += cnt;
	return true;
}

enum feral_status feral_io_libsvm_load(const char *path, const struct feral_load_options *opt,
                                       struct feral_dataset **out, struct feral_error *err)
{
	/* feral_load_options_init's values, spelled out: the public init
	 * lives in the dispatcher (io.c), which calls this module. */
	static const struct feral_load_options defaults = {
		.struct_size = sizeof defaults, .format = FERAL_FORMAT_AUTO, .dense = -1};
	if (!opt)
		opt = &defaults;
	*out = NULL;
	int nthreads = 1;
#ifdef _OPENMP
	nthreads = omp_get_max_threads();
	if (nthreads > 64)
		nthreads = 64;
#endif
	struct slice *sl = calloc((size_t)nthreads, sizeof *sl);
	struct rows g = {0};
	struct feral_text t;
	uint64_t b = opt->row_begin, e = opt->row_end ? opt->row_end : UINT64_MAX;
	uint64_t total = 0, max_idx = 0;
	enum feral_status st;
	if (!sl)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
	if ((st = feral_text_open(&t, path, err))) {
		free(sl);
		return st;
	}
	if ((st = feral_text_range(&t, opt->byte_begin, opt->byte_end, err))) {
		feral_text_close(&t);
		free(sl);
		return st;
	}
	int done = 0;
	while (!(st = feral_text_next(&t, &done, err)) && !done) {
		int ns = t.hi >= LIBSVM_PARALLEL_MIN ? nthreads : 1;
		const char *lo = t.buf, *end = t.buf + t.hi;
		for (int k = 0; k < ns; k++) {
			const char *hi = k == ns - 1 ? end : t.buf + t.hi / (size_t)ns * (size_t)(k + 1);
			if (hi < lo)
				hi = lo;
			if (hi < end && hi > lo)
				hi = (const char *)memchr(hi - 1, '\n', (size_t)(end - hi + 1)) + 1;
			sl[k].lo = lo;
			sl[k].hi = hi;
			lo = hi;
		}
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(ns) if (ns > 1)
#endif
		for (int k = 0; k < ns; k++)
			parse_slice(&sl[k], path);
		long line = t.line;
		for (int k = 0; k < ns; k++) {
			if (sl[k].st) {
				sl[k].err.line += line;
				st = sl[k].st;
				if (err)
					*err = sl[k].err;
				goto out;
			}
			if (!append_slice(&g, &sl[k], total, b, e)) {
				st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
				goto out;
			}
			total += sl[k].ny;
			line += sl[k].lines;
			if (sl[k].max_idx > max_idx)
				max_idx = sl[k].max_idx;
		}
		t.line = line;
	}
	if (st)
		goto out;
	if (total == 0) {
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 0, "no data rows");
		goto out;
	}
	if (g.n == 0) {
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                "rows [%llu, %llu) select nothing: the file has %llu rows",
		                (unsigned long long)b, (unsigned long long)opt->row_end,
		                (unsigned long long)total);
		goto out;
	}
	uint64_t d = max_idx > opt->min_d ? max_idx : opt->min_d;
	/* The arrays are handed over as they are: give back the growth slack
	 * (a shrinking realloc does not fail in practice; keep the old one if it does). */
	void *q;
	if (g.nnz && (q = realloc(g.idx, g.nnz * sizeof *g.idx)))
		g.idx = q;
	if (g.nnz && (q = realloc(g.val, g.nnz * sizeof *g.val)))
		g.val = q;
	st = feral_dataset_from_csr(path, g.n, d ? d : 1, &g.indptr, &g.idx, &g.val, &g.y,
	                            opt->dense, out, err);
out:
	feral_text_close(&t);
	for (int k = 0; k < nthreads; k++)
		slice_free(&sl[k]);
	free(sl);
	free(g.y);
	free(g.indptr);
	free(g.idx);
	free(g.val);
	return st;
}

/* Growable text buffer for one thread's share of the output. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static bool sbuf_reserve(struct sbuf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return true;
	size_t c = b->cap ? b->cap : (size_t)1 << 16;
	while (c - b->len < more)
		c *= 2;
	char *q = realloc(b->p, c);
	if (!q) {
		b->failed = 1;
		return false;
	}
	b->p = q;
	b->cap = c;
	return true;
}

static void sbuf_u64(struct sbuf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	if (!sbuf_reserve(b, (size_t)n))
		return;
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* %.9g for values (round-trips f32) and %.17g for labels (round-trips any
 * double); snprintf never needs more than 32 bytes for either. */
static void sbuf_num(struct sbuf *b, const char *fmt, double v)
{
	if (!sbuf_reserve(b, 32))
		return;
	b->len += (size_t)snprintf(b->p + b->len, 32, fmt, v);
}

static void sbuf_char(struct sbuf *b, char c)
{
	if (sbuf_reserve(b, 1))
		b->p[b->len++] = c;
}

static void format_rows(const struct feral_dataset *ds, uint64_t r0, uint64_t r1, struct sbuf *b)
{
	for (uint64_t i = r0; i < r1 && !b->failed; i++) {
		sbuf_num(b, "%.17g", ds->y[i]);
		uint64_t k0 = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * ds->d;
		uint64_t k1 = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] : k0 + ds->d;
		for (uint64_t k = k0; k < k1; k++) {
			double v = feral_dataset_value(ds, i, k);
			/* Dense rows skip zeros; stored CSR zeros are kept. */
			if (ds->layout == FERAL_LAYOUT_DENSE && v == 0)
				continue;
			sbuf_char(b, ' ');
			sbuf_u64(b, ds->layout == FERAL_LAYOUT_CSR ? (uint64_t)ds->indices[k] + 1 : k - k0 + 1);
			sbuf_char(b, ':');
			sbuf_num(b, "%.9g", v);
		}
		sbuf_char(b, '\n');
	}
}

enum feral_status feral_io_libsvm_save(const struct feral_dataset *ds, const char *path,
                                       struct feral_error *err)
{
	/* snprintf of floats dominates writing: rows are formatted in blocks,
	 * one block per thread, and written in order. */
	int nt = 1;
#ifdef _OPENMP
	nt = omp_get_max_threads();
	if (nt > 64)
		nt = 64;
#endif
	uint64_t per_row = ds->layout == FERAL_LAYOUT_CSR ? ds->nnz / (ds->n ? ds->n : 1) : ds->d;
	uint64_t block = ((uint64_t)1 << 15) / (per_row + 1) + 1;
	struct sbuf *bufs = calloc((size_t)nt, sizeof *bufs);
	struct feral_tout o;
	if (!bufs)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
	enum feral_status st = feral_tout_open(&o, path, err);
	if (st) {
		free(bufs);
		return st;
	}
	for (uint64_t r0 = 0; r0 < ds->n && !o.failed; r0 += block * (uint64_t)nt) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(nt) if (nt > 1 && ds->n > block)
#endif
		for (int t = 0; t < nt; t++) {
			uint64_t b = r0 + block * (uint64_t)t, e = b + block;
			bufs[t].len = 0;
			format_rows(ds, b < ds->n ? b : ds->n, e < ds->n ? e : ds->n, &bufs[t]);
		}
		for (int t = 0; t < nt; t++) {
			if (bufs[t].failed) {
				feral_tout_abort(&o);
				st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
				goto out;
			}
			feral_tout_write(&o, bufs[t].p, bufs[t].len);
		}
	}
	st = feral_tout_commit(&o, err);
out:
	for (int t = 0; t < nt; t++)
		free(bufs[t].p);
	free(bufs);
	return st;
}
