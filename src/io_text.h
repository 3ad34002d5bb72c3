/* The text kit (io_text.c), private to the text formats (io_libsvm.c,
 * io_mtx.c, and the plain-text vectors the dispatcher io.c hands it): a
 * gz-aware block reader that hands out runs of complete lines, fast number
 * parsers, and a buffered (optionally gzip) text writer on top of
 * feral_wfile. */
#ifndef FERAL_IO_TEXT_H
#define FERAL_IO_TEXT_H
#include "io_impl.h"

#include <math.h>

/* No line may be longer than this: the reader keeps a whole line in its
 * buffer, so the limit bounds memory on garbage (binary) input. */
#define FERAL_TEXT_LINE_MAX ((size_t)16 << 20)
/* The reader's buffer grows to this; it must exceed FERAL_TEXT_LINE_MAX so a
 * leftover partial line always leaves room for the next read. */
#define FERAL_TEXT_BUF_MAX ((size_t)24 << 20) /* > LINE_MAX; small: bounds peak memory */
/* Readable zero bytes after the data, for the 8-byte digit loads. */
#define FERAL_TEXT_PAD 16

/* Reading: plain files by read(), gzip (by magic, not by name) by gzread.
 * After feral_text_next(), buf[0, hi) holds complete lines only, and the last
 * byte of that run is always '\n' (a missing final newline is supplied), so
 * parsers can stop at '\n' without separate bounds checks; FERAL_TEXT_PAD
 * zero bytes follow the data. */
struct feral_text {
	const char *path;
	int fd;
	void *gz;       /* gzFile when the input is gzip */
	char *buf;
	size_t cap;     /* usable bytes; buf has 1 more for the supplied '\n', then the pad */
	size_t len;     /* bytes held */
	size_t hi;      /* end of the run of complete lines handed out */
	int eof;
	long line;      /* lines handed out before this run */
	uint64_t limit; /* plain files: bytes left to read (UINT64_MAX = all) */
};
enum feral_status feral_text_open(struct feral_text *t, const char *path, struct feral_error *err);
/* Next run of complete lines in buf[0, t->hi).  *done = 1 (and hi = 0) at the
 * end of input.  The caller adds the run's line count to t->line.  Errors:
 * IO, CORRUPT (bad or truncated gzip), PARSE (line longer than 16 MiB). */
enum feral_status feral_text_next(struct feral_text *t, int *done, struct feral_error *err);
void feral_text_close(struct feral_text *t);
/* Restrict a just-opened plain file to the lines that start at a byte offset
 * in [begin, end) (end 0 = to the end).  UNSUPPORTED for gzip input. */
enum feral_status feral_text_range(struct feral_text *t, uint64_t begin, uint64_t end,
                                   struct feral_error *err);

/* Writing: `path` ending in .gz is compressed.  Atomic via feral_wfile. */
struct feral_tout {
	struct feral_wfile w;
	void *gz;
	char *buf;
	size_t len, cap;
	int failed;
};
enum feral_status feral_tout_open(struct feral_tout *o, const char *path, struct feral_error *err);
void feral_tout_printf(struct feral_tout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void feral_tout_write(struct feral_tout *o, const char *s, size_t n);
enum feral_status feral_tout_commit(struct feral_tout *o, struct feral_error *err);
void feral_tout_abort(struct feral_tout *o);

/* Slow, exact paths (strtod/strtof on a NUL-terminated copy of the token).
 * Return the end of the number or NULL. */
const char *feral_parse_f64_slow(const char *s, double *out);
const char *feral_parse_f32_slow(const char *s, float *out);

static inline bool feral_is_digit(char c) { return (unsigned char)(c - '0') < 10; }
static inline bool feral_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
/* A number or an index ends at blank space, end of line or a comment. */
static inline bool feral_is_delim(char c) { return feral_is_blank(c) || c == '\n' || c == '#'; }

/* Leading ASCII digits among the 8 bytes at p (0..8) and their value: the
 * SWAR digit test and the three-multiply conversion from simdjson.  The
 * reader pads its buffer so 8-byte loads past the final '\n' are safe. */
static inline __attribute__((always_inline)) int feral_digits8(const char *p, uint64_t *val)
{
	uint64_t x;
	memcpy(&x, p, sizeof x);
	/* A byte is a digit iff its high nibble is 3 both before and after
	 * adding 6.  Carries only reach bytes after a non-digit: harmless. */
	uint64_t bad = ((x & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull) |
	               (((x + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull);
	int k = bad ? __builtin_ctzll(bad) >> 3 : 8;
	if (k == 0) {
		*val = 0;
		return 0;
	}
	uint64_t v = (x - 0x3030303030303030ull) << (8 * (8 - k)); /* k digits, left-padded with 0s */
	v = v * 10 + (v >> 8);
	v = (((v & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
	     (((v >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >> 32;
	*val = v;
	return k;
}

static const uint64_t feral_pow10_u64[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                            100000000};

/* Decimal scan shared by the f64 and f32 parsers: the digits (at most 19,
 * leading zeros included) in m and a power of ten e10.  Returns the end of
 * the number, or NULL when the fast path cannot be exact (too many digits,
 * a huge exponent, hex, inf/nan, or a malformed token: the slow path sorts
 * those out). */
static inline __attribute__((always_inline)) const char *feral_scan_decimal(const char *p, bool *neg,
                                                                          uint64_t *m, int *e10)
{
	uint64_t mant = 0, v;
	int nd = 0, e = 0, k;
	*neg = false;
	if (*p == '-' || *p == '+')
		*neg = *p++ == '-';
	do {
		k = feral_digits8(p, &v);
		if (nd + k > 19)
			return NULL;
		mant = mant * feral_pow10_u64[k] + v;
		nd += k;
		p += k;
	} while (k == 8);
	if (*p == '.') {
		p++;
		do {
			k = feral_digits8(p, &v);
			if (nd + k > 19)
				return NULL;
			mant = mant * feral_pow10_u64[k] + v;
			nd += k;
			e -= k;
			p += k;
		} while (k == 8);
	}
	if (nd == 0)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		bool eneg = false;
		int x = 0;
		if (*q == '-' || *q == '+')
			eneg = *q++ == '-';
		if (!feral_is_digit(*q))
			return NULL;
		for (; feral_is_digit(*q); q++)
			if (x < 100000)
				x = x * 10 + (*q - '0');
		e += eneg ? -x : x;
		p = q;
	}
	*m = mant;
	*e10 = e;
	return p;
}

/* Clinger's fast path: m < 2^53 and 10^|e| <= 10^22 are exact doubles, so
 * one IEEE multiply or divide gives the correctly rounded result. */
static inline __attribute__((always_inline)) bool feral_clinger(uint64_t m, int e10, double *out)
{
	static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	if (m > (1ull << 53) || e10 < -22 || e10 > 22)
		return false;
	double v = (double)m;
	*out = e10 < 0 ? v / p10[-e10] : v * p10[e10];
	return true;
}

/* Parse a double at p (token ends at a delimiter).  Returns the end of the
 * number or NULL when there is none; the caller checks the delimiter. */
static inline const char *feral_parse_f64(const char *p, double *out)
{
	bool neg;
	uint64_t m;
	int e10;
	const char *q = feral_scan_decimal(p, &neg, &m, &e10);
	if (FERAL_LIKELY(q != NULL && feral_is_delim(*q))) {
		double v;
		if (m == 0) {
			*out = neg ? -0.0 : 0.0;
			return q;
		}
		if (feral_clinger(m, e10, &v)) {
			*out = neg ? -v : v;
			return q;
		}
	}
	return feral_parse_f64_slow(p, out);
}

/* Parse a float, correctly rounded.  The double fast path rounds once; the
 * second rounding to float can only go wrong when the double lands exactly
 * on a float midpoint (a midpoint strictly between x and its nearest double
 * would be nearer x), so that case, and anything outside the float normal
 * range, goes to strtof. */
static inline __attribute__((always_inline)) const char *feral_parse_f32(const char *p, float *out)
{
	bool neg;
	uint64_t m;
	int e10;
	const char *q = feral_scan_decimal(p, &neg, &m, &e10);
	if (FERAL_LIKELY(q != NULL && feral_is_delim(*q))) {
		double v;
		if (m == 0) {
			*out = neg ? -0.0f : 0.0f;
			return q;
		}
		if (feral_clinger(m, e10, &v) && v >= 0x1p-126 && v <= 0x1.fffffep127) {
			uint64_t bits;
			memcpy(&bits, &v, sizeof bits);
			if ((bits & 0x1fffffffu) != 0x10000000u) {
				*out = (float)(neg ? -v : v);
				return q;
			}
		}
	}
	return feral_parse_f32_slow(p, out);
}

/* Unsigned decimal integer: returns the end, or NULL with no digits.
 * Saturates at UINT64_MAX so huge values still compare as too large. */
static inline __attribute__((always_inline)) const char *feral_parse_u64(const char *p, uint64_t *out)
{
	uint64_t v;
	int k = feral_digits8(p, &v);
	if (k == 0)
		return NULL;
	p += k;
	if (FERAL_UNLIKELY(k == 8)) {
		for (; feral_is_digit(*p); p++) {
			uint64_t d = (uint64_t)(*p - '0');
			v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
		}
	}
	*out = v;
	return p;
}

/* Length of the token at p (up to a delimiter), for error messages. */
static inline int feral_token_len(const char *p)
{
	int n = 0;
	while (!feral_is_delim(p[n]) && n < 60)
		n++;
	return n;
}
#endif
