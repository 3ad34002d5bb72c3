/* IDX reader (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
 *
 * Layout: bytes 0 0 <type> <ndims>, then ndims big-endian u32 sizes, then
 * the elements in C order.  Only type 0x08 (unsigned byte) is read: images
 * (count x rows x cols) become a dense f32 dataset of count rows of
 * rows*cols pixels scaled to [0, 1]; labels (1-D) become doubles.
 * Compression is detected from the gzip magic 1f 8b, not from the name, so a
 * decompressed file keeps working whatever it is called. */
#define _GNU_SOURCE
#include "dataset_build.h"
#include "io_impl.h"

#include <errno.h>
#include <sys/stat.h>
#ifdef FERAL_HAVE_ZLIB
#include <zlib.h>
#endif

#define IDX_MAX_DIMS 8
#define IDX_CHUNK (1u << 20)
/* deflate cannot compress better than about 1032:1, so a gzip file of m
 * bytes holds at most ~1032 m bytes: a header promising more is damage, and
 * we say so before allocating for it. */
#define GZIP_MAX_RATIO 1100u

/* One input, plain stdio or zlib. */
struct idx_in {
	const char *path;
	FILE *f;
#ifdef FERAL_HAVE_ZLIB
	gzFile gz;
#endif
	bool gzip;
	uint64_t file_size; /* on disk (compressed size for gzip) */
};

static enum feral_status idx_open(struct idx_in *in, const char *path, struct feral_error *err)
{
	memset(in, 0, sizeof *in);
	in->path = path;
	in->f = fopen(path, "rb");
	if (!in->f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	struct stat sb;
	if (fstat(fileno(in->f), &sb) == 0 && S_ISREG(sb.st_mode))
		in->file_size = (uint64_t)sb.st_size;
	unsigned char m[2];
	size_t got = fread(m, 1, 2, in->f);
	in->gzip = got == 2 && m[0] == 0x1f && m[1] == 0x8b;
	if (!in->gzip) {
		rewind(in->f);
		return FERAL_OK;
	}
	fclose(in->f);
	in->f = NULL;
#ifdef FERAL_HAVE_ZLIB
	in->gz = gzopen(path, "rb");
	if (!in->gz)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	gzbuffer(in->gz, feral_gz_buffer_size(in->file_size));
	return FERAL_OK;
#else
	return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
	                  "gzip-compressed file, but feral was built without zlib");
#endif
}

static void idx_close(struct idx_in *in)
{
	if (in->f)
		fclose(in->f);
	in->f = NULL;
#ifdef FERAL_HAVE_ZLIB
	if (in->gz)
		gzclose(in->gz);
	in->gz = NULL;
#endif
}

/* Read up to len bytes; *got says how many arrived.  Short reads at end of
 * data are the caller's to judge; damaged gzip streams fail here. */
static enum feral_status idx_read(struct idx_in *in, void *buf, size_t len, size_t *got,
                                  struct feral_error *err)
{
	*got = 0;
	if (!in->gzip) {
		*got = fread(buf, 1, len, in->f);
		if (*got < len && ferror(in->f))
			return feral_fail_errno(err, FERAL_STATUS_IO, in->path, "read failed");
		return FERAL_OK;
	}
#ifdef FERAL_HAVE_ZLIB
	while (*got < len) {
		size_t want = len - *got < (1u << 30) ? len - *got : (1u << 30);
		int r = gzread(in->gz, (char *)buf + *got, (unsigned)want);
		if (r < 0) {
			int zerr;
			const char *msg = gzerror(in->gz, &zerr);
			if (zerr == Z_ERRNO)
				return feral_fail_errno(err, FERAL_STATUS_IO, in->path, "read failed");
			return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
			                  "gzip stream damaged near compressed byte %lld: %s",
			                  (long long)gzoffset(in->gz), msg);
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	/* zlib reports a stream cut short only as a short read plus an error
	 * state; surface it so a truncated .gz says so. */
	if (*got < len) {
		int zerr;
		const char *msg = gzerror(in->gz, &zerr);
		if (zerr != Z_OK && zerr != Z_STREAM_END)
			return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
			                  "truncated gzip stream after %zu bytes of this read: %s",
			                  *got, msg);
	}
	return FERAL_OK;
#else
	return FERAL_STATUS_INTERNAL;
#endif
}

struct idx_header {
	unsigned type, ndims;
	uint64_t dims[IDX_MAX_DIMS];
	uint64_t header_bytes;
	uint64_t count;      /* product of the dims */
};

static const char *idx_type_name(unsigned t)
{
	switch (t) {
	case 0x08: return "unsigned byte";
	case 0x09: return "signed byte";
	case 0x0B: return "short";
	case 0x0C: return "int";
	case 0x0D: return "float";
	case 0x0E: return "double";
	default: return NULL;
	}
}

static enum feral_status idx_header(struct idx_in *in, struct idx_header *h,
                                    struct feral_error *err)
{
	memset(h, 0, sizeof *h);
	unsigned char m[4];
	size_t got;
	enum feral_status st = idx_read(in, m, 4, &got, err);
	if (st)
		return st;
	if (got < 4)
		return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                  "not an IDX file: only %zu bytes, the magic alone is 4", got);
	if (m[0] != 0 || m[1] != 0 || !idx_type_name(m[2]) || m[3] == 0)
		return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                  "not an IDX file (magic %02x %02x %02x %02x, expected 00 00 <type> "
		                  "<dims>)",
		                  m[0], m[1], m[2], m[3]);
	h->type = m[2];
	h->ndims = m[3];
	if (h->type != 0x08)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, in->path, 0,
		                  "IDX element type 0x%02X (%s): only unsigned byte (0x08) is read",
		                  h->type, idx_type_name(h->type));
	if (h->ndims > IDX_MAX_DIMS)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, in->path, 0,
		                  "%u-D IDX array (at most %d dimensions)", h->ndims, IDX_MAX_DIMS);
	unsigned char b[4 * IDX_MAX_DIMS];
	if ((st = idx_read(in, b, 4 * h->ndims, &got, err)))
		return st;
	if (got < 4 * h->ndims)
		return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                  "truncated: the header declares %u dimensions (%u bytes), found %zu",
		                  h->ndims, 4 * h->ndims, got);
	h->header_bytes = 4 + 4 * (uint64_t)h->ndims;
	h->count = 1;
	for (unsigned k = 0; k < h->ndims; k++) {
		h->dims[k] = (uint64_t)b[4 * k] << 24 | (uint64_t)b[4 * k + 1] << 16 |
		             (uint64_t)b[4 * k + 2] << 8 | b[4 * k + 3];
		if (h->dims[k] == 0)
			return feral_fail(err, FERAL_STATUS_RANGE, in->path, 0,
			                  "dimension %u (at byte %u) is 0: empty array", k, 4 + 4 * k);
		if (!feral_mul_ok(h->count, h->dims[k], &h->count))
			return feral_fail(err, FERAL_STATUS_RANGE, in->path, 0,
			                  "the %u dimensions multiply past 2^64 elements", h->ndims);
	}
	/* Check the promised size against what the file can hold before any
	 * allocation, so a damaged header cannot ask for terabytes. */
	uint64_t need = h->count; /* one byte per element */
	if (in->file_size && !in->gzip && in->file_size - h->header_bytes < need)
		return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                  "truncated: expected %llu bytes of data after the %llu-byte header, "
		                  "found %llu",
		                  (unsigned long long)need, (unsigned long long)h->header_bytes,
		                  (unsigned long long)(in->file_size - h->header_bytes));
	if (in->file_size && in->gzip && need / GZIP_MAX_RATIO > in->file_size)
		return feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                  "truncated: expected %llu bytes of data, more than a %llu-byte "
		                  "gzip file can hold",
		                  (unsigned long long)need, (unsigned long long)in->file_size);
	return FERAL_OK;
}

/* Read exactly h->count data bytes in chunks, converting into out_f32
 * (pixels / 255) or out_f64 (labels as they are), then insist on the end of
 * the file: trailing bytes mean the header and the data disagree. */
static enum feral_status idx_data(struct idx_in *in, const struct idx_header *h, float *out_f32,
                                  double *out_f64, struct feral_error *err)
{
	/* no more than the data needs (+1: never malloc(0)): a label file of a
	 * few bytes gets no 1 MiB buffer */
	unsigned char *buf = malloc(h->count < IDX_CHUNK ? (size_t)h->count + 1 : IDX_CHUNK);
	if (!buf)
		return feral_fail(err, FERAL_STATUS_NOMEM, in->path, 0, "out of memory");
	enum feral_status st = FERAL_OK;
	uint64_t done = 0;
	while (done < h->count) {
		size_t want = h->count - done < IDX_CHUNK ? (size_t)(h->count - done) : IDX_CHUNK;
		size_t got;
		if ((st = idx_read(in, buf, want, &got, err)))
			goto out;
		if (out_f32) {
			/* divide (not multiply by 1/255) so 255 maps to exactly 1 */
			for (size_t k = 0; k < got; k++)
				out_f32[done + k] = (float)buf[k] / 255.0f;
		} else {
			for (size_t k = 0; k < got; k++)
				out_f64[done + k] = buf[k];
		}
		done += got;
		if (got < want)
			break;
	}
	if (done < h->count) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                "truncated: expected %llu bytes of data after the %llu-byte header, "
		                "found %llu",
		                (unsigned long long)h->count, (unsigned long long)h->header_bytes,
		                (unsigned long long)done);
		goto out;
	}
	size_t extra;
	if ((st = idx_read(in, buf, 1, &extra, err)))
		goto out;
	if (extra)
		st = feral_fail(err, FERAL_STATUS_CORRUPT, in->path, 0,
		                "trailing bytes after the %llu bytes of data the header declares",
		                (unsigned long long)h->count);
out:
	free(buf);
	return st;
}

enum feral_status feral_io_idx_load(const char *path, struct feral_dataset **out,
                                    struct feral_error *err)
{
	*out = NULL;
	struct idx_in in;
	struct idx_header h;
	struct feral_dataset *ds = NULL;
	enum feral_status st = idx_open(&in, path, err);
	if (!st)
		st = idx_header(&in, &h, err);
	if (!st && h.ndims == 1)
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                "1-D IDX array (labels): give it as targets (b), not as A");
	if (!st) {
		uint64_t rows = h.dims[0], cols = h.count / h.dims[0];
		if (h.count > UINT64_MAX / sizeof(float))
			st = feral_fail(err, FERAL_STATUS_RANGE, path, 0, "%llu pixels are too many",
			                (unsigned long long)h.count);
		else if (cols > UINT32_MAX)
			st = feral_fail(err, FERAL_STATUS_RANGE, path, 0,
			                "%llu values per image exceed the 2^32-1 column limit",
			                (unsigned long long)cols);
		else if (!(st = feral_check_fits(path, h.count * sizeof(float), err)) &&
		         (st = feral_dataset_create(rows, cols, 0, FERAL_LAYOUT_DENSE,
		                                    FERAL_PRECISION_F32, &ds, err)) &&
		         err)
			snprintf(err->file, sizeof err->file, "%s", path);
	}
	if (!st)
		st = idx_data(&in, &h, ds->values, NULL, err);
	idx_close(&in);
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

enum feral_status feral_io_idx_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err)
{
	*out = NULL;
	*len = 0;
	struct idx_in in;
	struct idx_header h;
	double *v = NULL;
	enum feral_status st = idx_open(&in, path, err);
	if (!st)
		st = idx_header(&in, &h, err);
	if (!st && h.count != h.dims[0])
		st = feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                "%u-D IDX array (images?): a vector must be 1-D", h.ndims);
	if (!st && h.count > UINT64_MAX / sizeof(double))
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0, "%llu labels are too many",
		                (unsigned long long)h.count);
	if (!st && !(st = feral_check_fits(path, h.count * sizeof(double), err))) {
		v = malloc(h.count * sizeof *v);
		if (!v)
			st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0,
			                "cannot allocate %llu labels", (unsigned long long)h.count);
	}
	if (!st)
		st = idx_data(&in, &h, NULL, v, err);
	idx_close(&in);
	if (st) {
		free(v);
		return st;
	}
	*out = v;
	*len = h.count;
	return FERAL_OK;
}
