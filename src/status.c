/* Status codes, error reports, and small utilities shared by every module. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <time.h>

const char *feral_version(void)
{
	return FERAL_VERSION;
}

int feral_abi_version(void)
{
	return FERAL_ABI_VERSION;
}

size_t feral_struct_size(const char *name)
{
	static const struct {
		const char *name;
		size_t size;
	} sizes[] = {
		{"feral_config", sizeof(struct feral_config)},
		{"feral_load_options", sizeof(struct feral_load_options)},
		{"feral_gen_options", sizeof(struct feral_gen_options)},
		{"feral_result", sizeof(struct feral_result)},
		{"feral_error", sizeof(struct feral_error)},
		{"feral_dataset", sizeof(struct feral_dataset)},
		{"feral_trace", sizeof(struct feral_trace)},
		{"feral_trace_point", sizeof(struct feral_trace_point)},
	};
	for (size_t k = 0; name && k < sizeof sizes / sizeof sizes[0]; k++)
		if (!strcmp(name, sizes[k].name))
			return sizes[k].size;
	return 0;
}

const char *feral_strerror(enum feral_status s)
{
	switch (s) {
	case FERAL_OK: return "ok";
	case FERAL_STATUS_USAGE: return "bad usage";
	case FERAL_STATUS_PARSE: return "malformed input";
	case FERAL_STATUS_RANGE: return "value out of range";
	case FERAL_STATUS_CORRUPT: return "corrupt or truncated file";
	case FERAL_STATUS_UNSUPPORTED: return "unsupported";
	case FERAL_STATUS_IO: return "I/O error";
	case FERAL_STATUS_NOMEM: return "out of memory";
	case FERAL_STATUS_DIVERGED: return "diverged";
	case FERAL_STATUS_INTERRUPTED: return "interrupted";
	case FERAL_STATUS_INTERNAL: return "internal error";
	case FERAL_STATUS_COUNT: break;
	}
	return "unknown status";
}

static void error_vset(struct feral_error *err, enum feral_status st, const char *file, long line,
                       int sys_errno, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->status = st;
	err->line = line;
	err->sys_errno = sys_errno;
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (sys_errno) {
		size_t k = strlen(err->msg);
		snprintf(err->msg + k, sizeof err->msg - k, ": %s", strerror(sys_errno));
	}
}

enum feral_status feral_fail(struct feral_error *err, enum feral_status st, const char *file,
                             long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, st, file, line, 0, fmt, ap);
	va_end(ap);
	return st;
}

enum feral_status feral_fail_errno(struct feral_error *err, enum feral_status st,
                                   const char *file, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, st, file, 0, e, fmt, ap);
	va_end(ap);
	return st;
}

const char *feral_error_format(const struct feral_error *e, char *buf, size_t len)
{
	if (!e || !buf || !len)
		return buf;
	const char *msg = e->msg[0] ? e->msg : feral_strerror(e->status);
	if (e->file[0] && e->line > 0)
		snprintf(buf, len, "%s:%ld: %s", e->file, e->line, msg);
	else if (e->file[0])
		snprintf(buf, len, "%s: %s", e->file, msg);
	else
		snprintf(buf, len, "%s", msg);
	return buf;
}

void feral_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "feral: %s:%d: internal invariant failed: %s\n", file, line, expr);
	abort();
}

void *feral_aligned_alloc(size_t bytes)
{
	size_t rounded = (bytes + FERAL_CACHELINE - 1) & ~(size_t)(FERAL_CACHELINE - 1);
	if (rounded < bytes)
		return NULL;
	if (rounded == 0)
		rounded = FERAL_CACHELINE;
	void *p = NULL;
	if (posix_memalign(&p, FERAL_CACHELINE, rounded) != 0)
		return NULL;
	return p;
}

void *feral_big_alloc(size_t bytes)
{
	/* Arrays that are read at random rows (datasets, per-row weights, alias
	 * tables) from 2 MiB up: 2 MiB aligned and marked for transparent huge
	 * pages, so a random row costs no TLB miss (THP in "madvise" mode
	 * honours only marked ranges).  Rounding up wastes < 50 %, and only on
	 * arrays under 4 MiB. */
	const size_t huge = (size_t)2 << 20;
	if (bytes < huge)
		return feral_aligned_alloc(bytes);
	size_t rounded = (bytes + huge - 1) & ~(huge - 1);
	void *p = NULL;
	if (rounded < bytes || posix_memalign(&p, huge, rounded) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
	return p;
}

double feral_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double feral_thread_cpu(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool feral_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int feral_precision_bits(enum feral_precision p)
{
	switch (p) {
	case FERAL_PRECISION_F32: return 32;
	case FERAL_PRECISION_F64: return 64;
	case FERAL_PRECISION_I16: return 16;
	case FERAL_PRECISION_I8: return 8;
	case FERAL_PRECISION_COUNT: break;
	}
	return 0;
}

size_t feral_precision_size(enum feral_precision p)
{
	return (size_t)feral_precision_bits(p) / 8;
}

int feral_precision_fixed(enum feral_precision p)
{
	return p == FERAL_PRECISION_I8 || p == FERAL_PRECISION_I16;
}

enum feral_status feral_precision_from_bits(int bits, enum feral_precision *out)
{
	switch (bits) {
	case 32: *out = FERAL_PRECISION_F32; return FERAL_OK;
	case 64: *out = FERAL_PRECISION_F64; return FERAL_OK;
	case 16: *out = FERAL_PRECISION_I16; return FERAL_OK;
	case 8: *out = FERAL_PRECISION_I8; return FERAL_OK;
	default: return FERAL_STATUS_USAGE;
	}
}
