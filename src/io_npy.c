/* NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0).
 *
 * A .npy file is a 6-byte magic "\x93NUMPY", a version, a little-endian
 * header length, a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (100, 20), }
 * padded with spaces to a 64-byte boundary and ended by '\n', then the raw
 * array.  We read C-order little-endian numeric arrays: 2-D ones become dense
 * f32 datasets, 1-D (or n x 1) ones vectors of doubles.  Errors name the
 * file with line 0 (it is binary); the message gives the byte offset or the
 * element instead. */
#define _GNU_SOURCE
#include "dataset_build.h"
#include "io_impl.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <sys/stat.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* numpy itself refuses headers over 10000 bytes by default; a larger one is
 * damage, not data, and must not make us allocate. */
#define NPY_MAX_HEADER 65536
#define NPY_MAX_DIMS 8
/* Elements converted per read: big enough to amortise fread, small enough
 * to stay in L2. */
#define NPY_CHUNK 65536

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "io_npy.c reads little-endian arrays in place; port the byte swaps first"
#endif

struct npy_header {
	char kind;         /* 'f', 'i', 'u' */
	unsigned itemsize; /* bytes per element */
	char descr[32];    /* as written, for messages */
	int fortran;
	int ndim;
	uint64_t shape[NPY_MAX_DIMS];
	uint64_t count;       /* product of the shape */
	uint64_t data_offset; /* where the array starts */
	uint64_t file_size;
};

/* ---- header parsing -------------------------------------------------------- */

struct npy_cursor {
	const char *s; /* the dict text, NUL-terminated */
	size_t pos;
	size_t base; /* file offset of s[0], for messages */
	const char *path;
	struct feral_error *err;
};

static enum feral_status npy_bad(struct npy_cursor *c, const char *what)
{
	return feral_fail(c->err, FERAL_STATUS_PARSE, c->path, 0, "npy header, byte %zu: %s",
	                  c->base + c->pos, what);
}

static void npy_skip_ws(struct npy_cursor *c)
{
	while (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' ||
	       c->s[c->pos] == '\r')
		c->pos++;
}

/* A Python string literal in single or double quotes (no escapes: numpy
 * never writes them in the keys and descrs we accept). */
static enum feral_status npy_string(struct npy_cursor *c, char *out, size_t cap)
{
	char q = c->s[c->pos];
	if (q != '\'' && q != '"')
		return npy_bad(c, "expected a quoted string");
	size_t start = ++c->pos;
	while (c->s[c->pos] && c->s[c->pos] != q)
		c->pos++;
	if (!c->s[c->pos])
		return npy_bad(c, "unterminated string");
	size_t len = c->pos - start;
	c->pos++;
	if (len >= cap)
		return npy_bad(c, "string too long");
	memcpy(out, c->s + start, len);
	out[len] = '\0';
	return FERAL_OK;
}

static enum feral_status npy_shape(struct npy_cursor *c, struct npy_header *h)
{
	if (c->s[c->pos] != '(')
		return npy_bad(c, "'shape' must be a tuple");
	c->pos++;
	h->ndim = 0;
	for (;;) {
		npy_skip_ws(c);
		if (c->s[c->pos] == ')') {
			c->pos++;
			return FERAL_OK;
		}
		if (c->s[c->pos] < '0' || c->s[c->pos] > '9')
			return npy_bad(c, "shape entries must be non-negative integers");
		uint64_t v = 0;
		while (c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
			uint64_t digit = (uint64_t)(c->s[c->pos] - '0');
			if (!feral_mul_ok(v, 10, &v) || v > UINT64_MAX - digit)
				return feral_fail(c->err, FERAL_STATUS_RANGE, c->path, 0,
				                  "npy header, byte %zu: shape entry overflows 64 bits",
				                  c->base + c->pos);
			v += digit;
			c->pos++;
		}
		if (c->s[c->pos] == 'L') /* Python 2 longs */
			c->pos++;
		if (h->ndim == NPY_MAX_DIMS)
			return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
			                  "arrays of more than %d dimensions", NPY_MAX_DIMS);
		h->shape[h->ndim++] = v;
		npy_skip_ws(c);
		if (c->s[c->pos] == ',')
			c->pos++;
		else if (c->s[c->pos] != ')')
			return npy_bad(c, "expected ',' or ')' in the shape");
	}
}

/* descr such as '<f4': byte order, kind, size.  Only plain numeric kinds. */
static enum feral_status npy_descr(struct npy_cursor *c, struct npy_header *h)
{
	const char *d = h->descr;
	char order = d[0], kind = d[1];
	char *end;
	if (!order || !kind || !strchr("<>|=", order) || d[2] < '1' || d[2] > '9')
		return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
		                  "dtype '%s' is not supported (only float, int and uint arrays)", d);
	unsigned long size = strtoul(d + 2, &end, 10);
	bool ok = *end == '\0' &&
	          ((kind == 'f' && (size == 4 || size == 8)) ||
	           ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)));
	if (!ok)
		return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
		                  "dtype '%s' is not supported (float32/64, int and uint 8-64 bits)", d);
	if (order == '>' && size > 1)
		return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
		                  "big-endian dtype '%s' is not supported: convert it with "
		                  "a.astype('<%c%lu')", d, kind, size);
	h->kind = kind;
	h->itemsize = (unsigned)size;
	return FERAL_OK;
}

static enum feral_status npy_dict(struct npy_cursor *c, struct npy_header *h)
{
	bool have_descr = false, have_fortran = false, have_shape = false;
	enum feral_status st;
	npy_skip_ws(c);
	if (c->s[c->pos] != '{')
		return npy_bad(c, "expected '{' starting the header dict");
	c->pos++;
	for (;;) {
		char key[32];
		npy_skip_ws(c);
		if (c->s[c->pos] == '}')
			break;
		if ((st = npy_string(c, key, sizeof key)))
			return st;
		npy_skip_ws(c);
		if (c->s[c->pos] != ':')
			return npy_bad(c, "expected ':' after a key");
		c->pos++;
		npy_skip_ws(c);
		if (!strcmp(key, "descr")) {
			if (c->s[c->pos] == '[')
				return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
				                  "structured dtypes (record arrays) are not supported");
			if ((st = npy_string(c, h->descr, sizeof h->descr)))
				return st;
			have_descr = true;
		} else if (!strcmp(key, "fortran_order")) {
			if (!strncmp(c->s + c->pos, "True", 4)) {
				h->fortran = 1;
				c->pos += 4;
			} else if (!strncmp(c->s + c->pos, "False", 5)) {
				h->fortran = 0;
				c->pos += 5;
			} else {
				return npy_bad(c, "'fortran_order' must be True or False");
			}
			have_fortran = true;
		} else if (!strcmp(key, "shape")) {
			if ((st = npy_shape(c, h)))
				return st;
			have_shape = true;
		} else {
			char msg[80];
			snprintf(msg, sizeof msg, "unknown key '%s'", key);
			return npy_bad(c, msg);
		}
		npy_skip_ws(c);
		if (c->s[c->pos] == ',')
			c->pos++;
		else if (c->s[c->pos] != '}')
			return npy_bad(c, "expected ',' or '}' after a value");
	}
	c->pos++;
	npy_skip_ws(c);
	if (c->s[c->pos])
		return npy_bad(c, "text after the header dict");
	if (!have_descr || !have_fortran || !have_shape)
		return feral_fail(c->err, FERAL_STATUS_PARSE, c->path, 0,
		                  "npy header lacks '%s'",
		                  !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
	if ((st = npy_descr(c, h)))
		return st;
	if (h->fortran)
		return feral_fail(c->err, FERAL_STATUS_UNSUPPORTED, c->path, 0,
		                  "Fortran order (column-major) arrays are not supported: "
		                  "save np.ascontiguousarray(a) instead");
	return FERAL_OK;
}

/* Open the file, read and validate the header, leave f at the data.  Every
 * size is checked against the file before anything is allocated. */
static enum feral_status npy_open(const char *path, FILE **pf, struct npy_header *h,
                                  struct feral_error *err)
{
	memset(h, 0, sizeof *h);
	*pf = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0) {
		enum feral_status st = feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot stat");
		fclose(f);
		return st;
	}
	enum feral_status st = FERAL_OK;
	char *text = NULL;
	unsigned char pre[12];
	h->file_size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	size_t got = fread(pre, 1, 10, f);
	if (got < NPY_MAGIC_LEN || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "not a .npy file (no \\x93NUMPY magic at byte 0)");
		goto out;
	}
	if (got < 10) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "truncated: %zu-byte file ends inside the npy preamble", got);
		goto out;
	}
	unsigned major = pre[6];
	uint64_t hlen, pre_len;
	if (major == 1) {
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
		pre_len = 10;
	} else if (major == 2 || major == 3) {
		if (fread(pre + 10, 1, 2, f) != 2) {
			st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
			                "truncated: file ends inside the npy preamble");
			goto out;
		}
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
		       (uint64_t)pre[11] << 24;
		pre_len = 12;
	} else {
		st = feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                "npy format version %u.%u (known: 1.0, 2.0, 3.0)", major, pre[7]);
		goto out;
	}
	if (hlen > NPY_MAX_HEADER) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "npy header length %llu at byte 8 is implausible (limit %d)",
		                (unsigned long long)hlen, NPY_MAX_HEADER);
		goto out;
	}
	if (h->file_size && pre_len + hlen > h->file_size) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "truncated: header says it ends at byte %llu, file has %llu bytes",
		                (unsigned long long)(pre_len + hlen),
		                (unsigned long long)h->file_size);
		goto out;
	}
	text = malloc(hlen + 1);
	if (!text) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
		goto out;
	}
	if (fread(text, 1, hlen, f) != hlen) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "truncated: file ends inside the %llu-byte npy header",
		                (unsigned long long)hlen);
		goto out;
	}
	text[hlen] = '\0';
	if (strlen(text) != hlen) {
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 0, "npy header, byte %llu: NUL byte",
		                (unsigned long long)(pre_len + strlen(text)));
		goto out;
	}
	struct npy_cursor c = {text, 0, pre_len, path, err};
	if ((st = npy_dict(&c, h)))
		goto out;
	h->data_offset = pre_len + hlen;
	uint64_t bytes = 0;
	bool overflow = false;
	h->count = 1;
	for (int k = 0; k < h->ndim && !overflow; k++)
		overflow = !feral_mul_ok(h->count, h->shape[k], &h->count);
	overflow = overflow || !feral_mul_ok(h->count, h->itemsize, &bytes);
	if (overflow) {
		char dims[160] = "";
		for (int k = 0; k < h->ndim; k++) {
			size_t l = strlen(dims);
			snprintf(dims + l, sizeof dims - l, "%s%llu", k ? " x " : "",
			         (unsigned long long)h->shape[k]);
		}
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                "shape %s of %u-byte elements overflows 64 bits", dims, h->itemsize);
		goto out;
	}
	if (h->file_size && h->file_size - h->data_offset != bytes) {
		uint64_t found = h->file_size - h->data_offset;
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                found < bytes ? "truncated: expected %llu bytes of data, found %llu"
		                              : "expected %llu bytes of data, found %llu (trailing bytes)",
		                (unsigned long long)bytes, (unsigned long long)found);
		goto out;
	}
out:
	free(text);
	if (st)
		fclose(f);
	else
		*pf = f;
	return st;
}

/* Element k of a chunk as a double. */
static inline double npy_elem(const struct npy_header *h, const unsigned char *p)
{
	switch (h->kind) {
	case 'f':
		if (h->itemsize == 4) { float v; memcpy(&v, p, 4); return v; }
		else { double v; memcpy(&v, p, 8); return v; }
	case 'i':
		switch (h->itemsize) {
		case 1: return (int8_t)p[0];
		case 2: { int16_t v; memcpy(&v, p, 2); return v; }
		case 4: { int32_t v; memcpy(&v, p, 4); return v; }
		default: { int64_t v; memcpy(&v, p, 8); return (double)v; }
		}
	default:
		switch (h->itemsize) {
		case 1: return p[0];
		case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
		case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
		default: { uint64_t v; memcpy(&v, p, 8); return (double)v; }
		}
	}
}

/* Read `count` elements and hand each, as a double, to the caller's sink
 * through out_f32 (when non-NULL) or out_f64.  f32 output rejects values
 * that are not finite or overflow float32, naming row and column of a
 * row_len-wide matrix (row_len 0: a vector, name the element). */
static enum feral_status npy_read_data(FILE *f, const char *path, const struct npy_header *h,
                                       uint64_t row_len, float *out_f32, double *out_f64,
                                       struct feral_error *err)
{
	unsigned char *buf = malloc((size_t)NPY_CHUNK * h->itemsize);
	if (!buf)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
	enum feral_status st = FERAL_OK;
	for (uint64_t done = 0; done < h->count;) {
		size_t want = h->count - done < NPY_CHUNK ? (size_t)(h->count - done) : NPY_CHUNK;
		size_t got = fread(buf, h->itemsize, want, f);
		if (got != want) {
			/* The size was checked up front, so this is a file changing
			 * under us or a read error. */
			if (ferror(f))
				st = feral_fail_errno(err, FERAL_STATUS_IO, path, "read failed");
			else
				st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
				                "truncated: expected %llu bytes of data, found %llu",
				                (unsigned long long)(h->count * h->itemsize),
				                (unsigned long long)((done + got) * h->itemsize));
			break;
		}
		for (size_t k = 0; k < want; k++) {
			double v = npy_elem(h, buf + k * h->itemsize);
			uint64_t e = done + k;
			const char *why = !isfinite(v) ? "is not finite"
			                  : (out_f32 && fabs(v) > FLT_MAX) ? "overflows float32"
			                                                   : NULL;
			if (FERAL_UNLIKELY(why != NULL)) {
				if (row_len)
					st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
					                "row %llu, column %llu: value %g %s",
					                (unsigned long long)(e / row_len),
					                (unsigned long long)(e % row_len), v, why);
				else
					st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
					                "element %llu: value %g %s", (unsigned long long)e,
					                v, why);
				goto out;
			}
			if (out_f32)
				out_f32[e] = (float)v;
			else
				out_f64[e] = v;
		}
		done += want;
	}
out:
	free(buf);
	return st;
}

/* ---- loaders ----------------------------------------------------------------- */

enum feral_status feral_io_npy_load(const char *path, struct feral_dataset **out,
                                    struct feral_error *err)
{
	*out = NULL;
	FILE *f;
	struct npy_header h;
	enum feral_status st = npy_open(path, &f, &h, err);
	if (st)
		return st;
	struct feral_dataset *ds = NULL;
	uint64_t bytes;
	if (h.ndim == 1) {
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                "1-D array: give it as targets (b), not as A");
	} else if (h.ndim != 2) {
		st = feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                "%d-D array: a dataset must be a 2-D (n, d) array", h.ndim);
	} else if (h.shape[0] == 0 || h.shape[1] == 0) {
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0, "empty array of shape (%llu, %llu)",
		                (unsigned long long)h.shape[0], (unsigned long long)h.shape[1]);
	} else if (h.shape[1] > UINT32_MAX) {
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0, "%llu columns exceed the 2^32-1 limit",
		                (unsigned long long)h.shape[1]);
	} else if (!feral_mul_ok(h.count, sizeof(float), &bytes)) {
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0, "%llu elements are too many",
		                (unsigned long long)h.count);
	} else if (!(st = feral_check_fits(path, bytes, err))) {
		st = feral_dataset_create(h.shape[0], h.shape[1], 0, FERAL_LAYOUT_DENSE,
		                          FERAL_PRECISION_F32, &ds, err);
		if (st && err)
			snprintf(err->file, sizeof err->file, "%s", path);
	}
	if (!st)
		st = npy_read_data(f, path, &h, h.shape[1], ds->values, NULL, err);
	fclose(f);
	if (st) {
		feral_dataset_destroy(&ds);
		return st;
	}
	if ((st = feral_dataset_finish(path, ds, err))) {
		feral_dataset_destroy(&ds);
		return st;
	}
	*out = ds;
	return FERAL_OK;
}

enum feral_status feral_io_npy_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err)
{
	*out = NULL;
	*len = 0;
	FILE *f;
	struct npy_header h;
	enum feral_status st = npy_open(path, &f, &h, err);
	if (st)
		return st;
	double *v = NULL;
	if (h.ndim != 1 && !(h.ndim == 2 && h.shape[1] == 1)) {
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                "%d-D array: a vector must be 1-D (n,) or (n, 1)", h.ndim);
	} else if (h.count == 0) {
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0, "empty array");
	} else if (!(st = feral_check_fits(path, h.count * sizeof(double), err))) {
		/* count * itemsize matched the file size and itemsize >= 1, so
		 * count * 8 cannot overflow on a real file. */
		v = malloc(h.count * sizeof *v);
		if (!v)
			st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0,
			                "cannot allocate a vector of %llu doubles",
			                (unsigned long long)h.count);
	}
	if (!st)
		st = npy_read_data(f, path, &h, 0, NULL, v, err);
	fclose(f);
	if (st) {
		free(v);
		return st;
	}
	*out = v;
	*len = h.count;
	return FERAL_OK;
}

/* ---- writers ------------------------------------------------------------------ */

/* Preamble + dict padded with spaces so the data starts on a 64-byte
 * boundary (what numpy writes; lets readers mmap the array aligned). */
static enum feral_status npy_write_header(struct feral_wfile *w, const char *descr,
                                          const uint64_t *shape, int ndim,
                                          struct feral_error *err)
{
	char dict[256];
	int len;
	if (ndim == 1)
		len = snprintf(dict, sizeof dict,
		               "{'descr': '%s', 'fortran_order': False, 'shape': (%llu,), }", descr,
		               (unsigned long long)shape[0]);
	else
		len = snprintf(dict, sizeof dict,
		               "{'descr': '%s', 'fortran_order': False, 'shape': (%llu, %llu), }",
		               descr, (unsigned long long)shape[0], (unsigned long long)shape[1]);
	size_t total = 10 + (size_t)len + 1;
	size_t padded = (total + 63) & ~(size_t)63;
	size_t hlen = padded - 10;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
	                         (unsigned char)(hlen >> 8)};
	fwrite(pre, 1, sizeof pre, w->f);
	fwrite(dict, 1, (size_t)len, w->f);
	for (size_t k = (size_t)len; k + 1 < hlen; k++)
		fputc(' ', w->f);
	fputc('\n', w->f);
	if (ferror(w->f))
		return feral_fail_errno(err, FERAL_STATUS_IO, w->path, "write failed");
	return FERAL_OK;
}

enum feral_status feral_io_npy_save(const struct feral_dataset *ds, const char *path,
                                    struct feral_error *err)
{
	uint64_t dense_bytes;
	if (!feral_mul_ok(ds->n, ds->d, &dense_bytes) ||
	    !feral_mul_ok(dense_bytes, sizeof(float), &dense_bytes))
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0, "n*d overflows");
	/* A sparse matrix written densely can explode; 2 GiB is a size numpy
	 * users still load without thinking. */
	if (ds->layout == FERAL_LAYOUT_CSR && dense_bytes >= (2ull << 30))
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                  "densifying this %llu x %llu sparse matrix needs %.1f GiB; "
		                  "save it as .mtx, .svm or .feral instead",
		                  (unsigned long long)ds->n, (unsigned long long)ds->d,
		                  (double)dense_bytes / (1u << 30));
	struct feral_wfile w;
	enum feral_status st = feral_wfile_open(&w, path, err);
	if (st)
		return st;
	uint64_t shape[2] = {ds->n, ds->d};
	if ((st = npy_write_header(&w, "<f4", shape, 2, err)))
		goto fail;
	if (ds->layout == FERAL_LAYOUT_DENSE && ds->precision == FERAL_PRECISION_F32) {
		if (fwrite(ds->values, sizeof(float), ds->nnz, w.f) != ds->nnz) {
			st = feral_fail_errno(err, FERAL_STATUS_IO, path, "write failed");
			goto fail;
		}
	} else {
		float *row = malloc(ds->d * sizeof *row);
		if (!row) {
			st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
			goto fail;
		}
		for (uint64_t i = 0; i < ds->n; i++) {
			if (ds->layout == FERAL_LAYOUT_DENSE) {
				for (uint64_t j = 0; j < ds->d; j++)
					row[j] = (float)feral_dataset_value(ds, i, i * ds->d + j);
			} else {
				memset(row, 0, ds->d * sizeof *row);
				for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
					row[ds->indices[k]] = (float)feral_dataset_value(ds, i, k);
			}
			if (fwrite(row, sizeof *row, ds->d, w.f) != ds->d) {
				st = feral_fail_errno(err, FERAL_STATUS_IO, path, "write failed");
				free(row);
				goto fail;
			}
		}
		free(row);
	}
	return feral_wfile_commit(&w, err);
fail:
	feral_wfile_abort(&w);
	return st;
}

enum feral_status feral_io_npy_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err)
{
	struct feral_wfile w;
	enum feral_status st = feral_wfile_open(&w, path, err);
	if (st)
		return st;
	if ((st = npy_write_header(&w, "<f8", &len, 1, err)))
		goto fail;
	if (len && fwrite(v, sizeof *v, len, w.f) != len) {
		st = feral_fail_errno(err, FERAL_STATUS_IO, path, "write failed");
		goto fail;
	}
	return feral_wfile_commit(&w, err);
fail:
	feral_wfile_abort(&w);
	return st;
}
