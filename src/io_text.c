/* The text kit shared by the LIBSVM and Matrix Market loaders and the text
 * vector format: a gz-aware block reader that hands out runs of complete
 * lines, the exact slow number paths behind io_text.h's fast parsers, a
 * buffered (optionally gzip) atomic text writer, and plain-text vectors (one
 * number per line). */
#define _GNU_SOURCE
#include "io_text.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef FERAL_HAVE_ZLIB
#include <zlib.h>
#endif

/* ---- text reader ----------------------------------------------------------- */

enum feral_status feral_text_open(struct feral_text *t, const char *path, struct feral_error *err)
{
	memset(t, 0, sizeof *t);
	t->path = path;
	t->limit = UINT64_MAX;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	struct stat st;
	if (fstat(t->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		close(t->fd);
		t->fd = -1;
		return feral_fail(err, FERAL_STATUS_IO, path, 0, "cannot read: not a file");
	}
	/* Plain files get a buffer the size of the file (up to the cap), so a
	 * small file is one run; gzip is recognised by its magic so a renamed
	 * file still reads.  A small file gets a small buffer (4 KiB at least;
	 * it grows if a line needs more): under AddressSanitizer every large
	 * malloc costs fresh pages, and the fuzzers open tiny files by the
	 * million. */
	size_t want = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 20;
	size_t least = S_ISREG(st.st_mode) ? (size_t)4 << 10 : (size_t)64 << 10;
	unsigned char magic[2];
	if (pread(t->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
#ifdef FERAL_HAVE_ZLIB
		gzFile gz = gzdopen(t->fd, "rb");
		if (!gz) {
			close(t->fd);
			t->fd = -1;
			return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "cannot start gzip reader");
		}
		/* zlib's buffers and ours scale with the compressed size up to
		 * 256 KiB and 4 MiB (a small .gz file needs neither) */
		size_t csize = S_ISREG(st.st_mode) ? (size_t)st.st_size : (size_t)1 << 20;
		gzbuffer(gz, feral_gz_buffer_size(csize));
		t->gz = gz;
		t->fd = -1;
		want = csize > ((size_t)256 << 10) ? (size_t)4 << 20 : csize * 16;
		least = (size_t)16 << 10;
#else
		close(t->fd);
		t->fd = -1;
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                  "gzip input needs zlib: rebuild feral with zlib installed");
#endif
	} else if (S_ISREG(st.st_mode)) {
		posix_fadvise(t->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	t->cap = want < least ? least : want;
	if (t->cap > FERAL_TEXT_BUF_MAX)
		t->cap = FERAL_TEXT_BUF_MAX;
	t->buf = malloc(t->cap + 1 + FERAL_TEXT_PAD);
	if (!t->buf) {
		feral_text_close(t);
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "cannot allocate a read buffer");
	}
	return FERAL_OK;
}

void feral_text_close(struct feral_text *t)
{
#ifdef FERAL_HAVE_ZLIB
	if (t->gz)
		gzclose_r(t->gz);
#endif
	t->gz = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
}

/* The first line start at or after byte `at` (0 stays 0): one past the first
 * '\n' at or after at - 1; the file size when there is none. */
static enum feral_status line_start(struct feral_text *t, uint64_t at, uint64_t size,
                                    uint64_t *out, struct feral_error *err)
{
	if (at == 0 || at >= size) {
		*out = at < size ? at : size;
		return FERAL_OK;
	}
	char chunk[4096];
	for (uint64_t pos = at - 1; pos < size;) {
		ssize_t r = pread(t->fd, chunk, sizeof chunk, (off_t)pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return feral_fail_errno(err, FERAL_STATUS_IO, t->path, "read failed");
		if (r == 0)
			break;
		const char *nl = memchr(chunk, '\n', (size_t)r);
		if (nl) {
			*out = pos + (uint64_t)(nl - chunk) + 1;
			return FERAL_OK;
		}
		pos += (uint64_t)r;
	}
	*out = size;
	return FERAL_OK;
}

enum feral_status feral_text_range(struct feral_text *t, uint64_t begin, uint64_t end,
                                   struct feral_error *err)
{
	if (begin == 0 && end == 0)
		return FERAL_OK;
	struct stat st;
	if (t->gz || t->fd < 0 || fstat(t->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, t->path, 0,
		                  "byte ranges need a plain (uncompressed) file");
	uint64_t size = (uint64_t)st.st_size, s, e;
	enum feral_status rc = line_start(t, begin, size, &s, err);
	if (!rc)
		rc = line_start(t, end ? end : size, size, &e, err);
	if (rc)
		return rc;
	if (e < s)
		e = s;
	if (lseek(t->fd, (off_t)s, SEEK_SET) < 0)
		return feral_fail_errno(err, FERAL_STATUS_IO, t->path, "cannot seek");
	t->limit = e - s;
	return FERAL_OK;
}

/* One read into buf[len, cap): bytes read, 0 at the end, -1 with err set. */
static long text_read(struct feral_text *t, struct feral_error *err)
{
	size_t room = t->cap - t->len;
	if (!t->gz && room > t->limit)
		room = (size_t)t->limit;
	if (!t->gz && room == 0)
		return 0;
#ifdef FERAL_HAVE_ZLIB
	if (t->gz) {
		unsigned ask = room > (1u << 30) ? 1u << 30 : (unsigned)room;
		int r = gzread(t->gz, t->buf + t->len, ask);
		int zerr = Z_OK;
		const char *zmsg = gzerror(t->gz, &zerr);
		/* A truncated stream reads as a short final block plus
		 * Z_BUF_ERROR ("unexpected end of file"). */
		if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
			if (zerr == Z_ERRNO)
				return feral_fail_errno(err, FERAL_STATUS_IO, t->path, "read failed"), -1;
			feral_fail(err, FERAL_STATUS_CORRUPT, t->path, 0, "truncated or corrupt gzip data (%s)",
			           zmsg ? zmsg : "zlib error");
			return -1;
		}
		return r;
	}
#endif
	for (;;) {
		ssize_t r = read(t->fd, t->buf + t->len, room);
		if (r >= 0) {
			t->limit -= (uint64_t)r;
			return (long)r;
		}
		if (errno != EINTR) {
			feral_fail_errno(err, FERAL_STATUS_IO, t->path, "read failed");
			return -1;
		}
	}
}

enum feral_status feral_text_next(struct feral_text *t, int *done, struct feral_error *err)
{
	memmove(t->buf, t->buf + t->hi, t->len - t->hi);
	t->len -= t->hi;
	t->hi = 0;
	*done = 0;
	for (;;) {
		while (!t->eof && t->len < t->cap) {
			long r = text_read(t, err);
			if (r < 0)
				return err ? err->status : FERAL_STATUS_IO;
			if (r == 0)
				t->eof = 1;
			t->len += (size_t)r;
		}
		if (t->eof) {
			if (t->len == 0) {
				*done = 1;
				return FERAL_OK;
			}
			if (t->buf[t->len - 1] != '\n')
				t->buf[t->len++] = '\n'; /* the +1 byte of the buffer */
			memset(t->buf + t->len, 0, FERAL_TEXT_PAD);
			t->hi = t->len;
			return FERAL_OK;
		}
		memset(t->buf + t->len, 0, FERAL_TEXT_PAD);
		const char *nl = memrchr(t->buf, '\n', t->len);
		if (nl) {
			t->hi = (size_t)(nl - t->buf) + 1;
			return FERAL_OK;
		}
		if (t->len > FERAL_TEXT_LINE_MAX || t->cap >= FERAL_TEXT_BUF_MAX)
			return feral_fail(err, FERAL_STATUS_PARSE, t->path, t->line + 1,
			                  "line longer than 16 MiB");
		size_t ncap = t->cap * 2 > FERAL_TEXT_BUF_MAX ? FERAL_TEXT_BUF_MAX : t->cap * 2;
		char *nb = realloc(t->buf, ncap + 1 + FERAL_TEXT_PAD);
		if (!nb)
			return feral_fail(err, FERAL_STATUS_NOMEM, t->path, 0, "cannot grow the read buffer");
		t->buf = nb;
		t->cap = ncap;
	}
}

/* ---- slow number paths --------------------------------------------------------- */

/* Copy the token to a NUL-terminated buffer: the input buffer is not
 * terminated and may be shared by threads. */
static size_t token_copy(const char *s, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap && !feral_is_delim(s[n]) && s[n] != '\0')
		buf[n] = s[n], n++;
	buf[n] = '\0';
	return n;
}

const char *feral_parse_f64_slow(const char *s, double *out)
{
	char buf[512], *end;
	token_copy(s, buf, sizeof buf);
	double v = strtod(buf, &end);
	if (end == buf)
		return NULL;
	*out = v;
	return s + (end - buf);
}

const char *feral_parse_f32_slow(const char *s, float *out)
{
	char buf[512], *end;
	token_copy(s, buf, sizeof buf);
	float v = strtof(buf, &end);
	if (end == buf)
		return NULL;
	*out = v;
	return s + (end - buf);
}

/* ---- text writer ------------------------------------------------------------------ */

enum feral_status feral_tout_open(struct feral_tout *o, const char *path, struct feral_error *err)
{
	memset(o, 0, sizeof *o);
	enum feral_status st = feral_wfile_open(&o->w, path, err);
	if (st)
		return st;
	if (feral_has_suffix(path, ".gz")) {
#ifdef FERAL_HAVE_ZLIB
		int fd = dup(fileno(o->w.f));
		o->gz = fd >= 0 ? gzdopen(fd, "wb6") : NULL;
		if (!o->gz) {
			if (fd >= 0)
				close(fd);
			feral_wfile_abort(&o->w);
			return feral_fail(err, FERAL_STATUS_IO, path, 0, "cannot start gzip writer");
		}
#else
		feral_wfile_abort(&o->w);
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                  "gzip output needs zlib: rebuild feral with zlib installed");
#endif
	}
	o->cap = (size_t)1 << 20;
	o->buf = malloc(o->cap);
	if (!o->buf) {
		feral_tout_abort(o);
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "cannot allocate a write buffer");
	}
	return FERAL_OK;
}

static void tout_flush(struct feral_tout *o)
{
	if (!o->len)
		return;
#ifdef FERAL_HAVE_ZLIB
	if (o->gz) {
		if (gzwrite(o->gz, o->buf, (unsigned)o->len) != (int)o->len)
			o->failed = 1;
		o->len = 0;
		return;
	}
#endif
	if (fwrite(o->buf, 1, o->len, o->w.f) != o->len)
		o->failed = 1;
	o->len = 0;
}

void feral_tout_write(struct feral_tout *o, const char *s, size_t n)
{
	if (n == 0) /* s may be NULL then: memcpy must not see it */
		return;
	if (o->cap - o->len < n)
		tout_flush(o);
	if (n > o->cap) {
		size_t k = 0;
		while (k < n) {
			size_t c = n - k < o->cap ? n - k : o->cap;
			memcpy(o->buf, s + k, c);
			o->len = c;
			tout_flush(o);
			k += c;
		}
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void feral_tout_printf(struct feral_tout *o, const char *fmt, ...)
{
	if (o->cap - o->len < 256)
		tout_flush(o);
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (k < 0) {
		o->failed = 1;
		return;
	}
	if ((size_t)k < o->cap - o->len) {
		o->len += (size_t)k;
		return;
	}
	/* Longer than the free space: format into a temporary. */
	char *tmp = malloc((size_t)k + 1);
	if (!tmp) {
		o->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)k + 1, fmt, ap);
	va_end(ap);
	feral_tout_write(o, tmp, (size_t)k);
	free(tmp);
}

enum feral_status feral_tout_commit(struct feral_tout *o, struct feral_error *err)
{
	tout_flush(o);
#ifdef FERAL_HAVE_ZLIB
	if (o->gz && gzclose_w(o->gz) != Z_OK)
		o->failed = 1;
	o->gz = NULL;
#endif
	free(o->buf);
	o->buf = NULL;
	if (o->failed) {
		enum feral_status st = feral_fail_errno(err, FERAL_STATUS_IO, o->w.path, "write failed");
		feral_wfile_abort(&o->w);
		return st;
	}
	return feral_wfile_commit(&o->w, err);
}

void feral_tout_abort(struct feral_tout *o)
{
#ifdef FERAL_HAVE_ZLIB
	if (o->gz)
		gzclose_w(o->gz);
	o->gz = NULL;
#endif
	free(o->buf);
	o->buf = NULL;
	feral_wfile_abort(&o->w);
}

/* ---- text vectors ------------------------------------------------------------------ */

/* Text vectors: one number per line; blank lines and '#' comments skipped. */
enum feral_status feral_io_text_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err)
{
	struct feral_text t;
	enum feral_status st = feral_text_open(&t, path, err);
	if (st)
		return st;
	double *v = NULL;
	uint64_t n = 0, cap = 0;
	int done = 0;
	while (!(st = feral_text_next(&t, &done, err)) && !done) {
		const char *p = t.buf, *end = t.buf + t.hi;
		long line = t.line;
		while (p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			line++;
			if ((size_t)(eol - p) > FERAL_TEXT_LINE_MAX) {
				st = feral_fail(err, FERAL_STATUS_PARSE, path, line, "line longer than 16 MiB");
				goto out;
			}
			while (feral_is_blank(*p))
				p++;
			if (*p != '\n' && *p != '#') {
				double x = 0;
				const char *q = feral_parse_f64(p, &x);
				const char *r = q;
				if (q)
					while (feral_is_blank(*r))
						r++;
				if (!q || (*r != '\n' && *r != '#')) {
					st = feral_fail(err, FERAL_STATUS_PARSE, path, line,
					                "bad token '%.*s': expected one number per line",
					                feral_token_len(p), p);
					goto out;
				}
				if (!isfinite(x)) {
					st = feral_fail(err, FERAL_STATUS_RANGE, path, line,
					                "value '%.*s' is not finite", feral_token_len(p), p);
					goto out;
				}
				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					double *nv = realloc(v, cap * sizeof *v);
					if (!nv) {
						st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory");
						goto out;
					}
					v = nv;
				}
				v[n++] = x;
				p = r;
			}
			p = eol + 1;
		}
		t.line = line;
	}
	if (!st && n == 0)
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 0, "no values");
out:
	feral_text_close(&t);
	if (st) {
		free(v);
		return st;
	}
	*out = v;
	*len = n;
	return FERAL_OK;
}

enum feral_status feral_io_text_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err)
{
	struct feral_tout o;
	enum feral_status st = feral_tout_open(&o, path, err);
	if (st)
		return st;
	for (uint64_t i = 0; i < len; i++)
		feral_tout_printf(&o, "%.17g\n", v[i]);
	return feral_tout_commit(&o, err);
}
