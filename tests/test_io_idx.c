/* IDX (MNIST) reader: small hand-made files, plain and gzip, a table of
 * malformed ones, and the real Fashion-MNIST training set when installed. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <unistd.h>
#ifdef FERAL_HAVE_ZLIB
#include <zlib.h>
#endif

#include "io_impl.h"
#include "tmpdir.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static void setup(void)
{
	tmpdir_make("idx");
}

TestSuite(io_idx, .timeout = 30, .init = setup, .fini = tmpdir_remove);

/* Header 00 00 type ndims + big-endian dims, then data (zeros when NULL). */
static size_t make_idx(unsigned char *out, unsigned type, unsigned ndims, const uint32_t *dims,
                       const void *data, size_t data_len)
{
	size_t k = 0;
	out[k++] = 0;
	out[k++] = 0;
	out[k++] = (unsigned char)type;
	out[k++] = (unsigned char)ndims;
	for (unsigned j = 0; j < ndims; j++) {
		out[k++] = dims[j] >> 24;
		out[k++] = dims[j] >> 16;
		out[k++] = dims[j] >> 8;
		out[k++] = dims[j];
	}
	if (data)
		memcpy(out + k, data, data_len);
	else
		memset(out + k, 0, data_len);
	return k + data_len;
}

static void write_gz(const char *path, const void *p, size_t len)
{
#ifdef FERAL_HAVE_ZLIB
	gzFile g = gzopen(path, "wb");
	cr_assert_not_null(g, "cannot create %s", path);
	cr_assert_eq(gzwrite(g, p, (unsigned)len), (int)len, "short gzwrite to %s", path);
	gzclose(g);
#else
	(void)path, (void)p, (void)len;
	cr_skip_test("built without zlib");
#endif
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long s = ftell(f);
	fclose(f);
	return s;
}

static const unsigned char pixels[2][2][3] = {{{0, 255, 51}, {102, 0, 0}},
                                              {{1, 2, 3}, {4, 5, 255}}};

static void check_images(const char *p)
{
	struct feral_dataset *ds;
	struct feral_error e;
	enum feral_status st = feral_io_idx_load(p, &ds, &e);
	cr_assert_eq(st, FERAL_OK, "%s: status %d: %s", p, st, e.msg);
	cr_assert_eq(ds->n, 2, "%s: n = %llu, expected 2", p, (unsigned long long)ds->n);
	cr_assert_eq(ds->d, 6, "%s: d = %llu, expected 6", p, (unsigned long long)ds->d);
	const unsigned char *px = &pixels[0][0][0];
	const float *v = ds->values;
	for (int k = 0; k < 12; k++)
		cr_assert_eq(v[k], (float)px[k] / 255.0f, "%s: pixel %d = %.9g, expected %.9g", p, k,
		             v[k], (float)px[k] / 255.0f);
	cr_assert_eq(v[1], 1.0f, "255 must map to exactly 1, got %.9g", v[1]);
	double s0 = 1.0 + 0.2 * 0.2 + 0.4 * 0.4;
	cr_assert_float_eq(ds->row_sq_norm[0], s0, 1e-6, "norm of row 0 = %g, expected %g",
	                   ds->row_sq_norm[0], s0);
	cr_assert_eq(ds->y[0], 0.0);
	feral_dataset_destroy(&ds);
}

Test(io_idx, test_images_load_plain_and_gzip_scaled_to_unit_range)
{
	unsigned char buf[256];
	uint32_t dims[3] = {2, 2, 3};
	size_t len = make_idx(buf, 0x08, 3, dims, pixels, sizeof pixels);
	const char *p = tmp_path("idx_img-idx3-ubyte");
	write_bytes(p, buf, len);
	check_images(p);
	p = tmp_path("idx_img-idx3-ubyte.gz");
	write_gz(p, buf, len);
	check_images(p);
	/* compression is found from the magic bytes, not the name */
	p = tmp_path("idx_img.bin");
	write_gz(p, buf, len);
	check_images(p);
}

Test(io_idx, test_labels_load_as_vector_plain_and_gzip)
{
	unsigned char buf[64], lab[5] = {9, 0, 3, 7, 1};
	uint32_t dims[1] = {5};
	size_t len = make_idx(buf, 0x08, 1, dims, lab, sizeof lab);
	const char *names[2] = {"idx_lab-idx1-ubyte", "idx_lab-idx1-ubyte.gz"};
	for (int g = 0; g < 2; g++) {
		const char *p = tmp_path(names[g]);
		if (g)
			write_gz(p, buf, len);
		else
			write_bytes(p, buf, len);
		double *v;
		uint64_t n;
		struct feral_error e;
		enum feral_status st = feral_io_idx_vector_load(p, &v, &n, &e);
		cr_assert_eq(st, FERAL_OK, "%s: status %d: %s", p, st, e.msg);
		cr_assert_eq(n, 5, "%s: %llu labels, expected 5", p, (unsigned long long)n);
		for (int k = 0; k < 5; k++)
			cr_assert_eq(v[k], lab[k], "%s: label %d = %g, expected %d", p, k, v[k], lab[k]);
		free(v);
	}
}

/* ---- malformed files ---------------------------------------------------------- */

enum bad_kind { BAD_PLAIN, BAD_GZ, BAD_GZ_CUT, BAD_GZ_FLIP };

struct bad_idx {
	const char *what;
	enum bad_kind kind;
	size_t raw_len; /* > 0: only the first raw_len bytes of the crafted image */
	unsigned type, ndims;
	uint32_t dims[4];
	size_t data_len;
	int as_vector;
	enum feral_status want;
	const char *reason;
};

static const struct bad_idx bad_idx[] = {
	{"empty file", BAD_PLAIN, 0, 0, 0, {0}, 0, 0, FERAL_STATUS_CORRUPT, "not an IDX file"},
	{"bad magic", BAD_PLAIN, 0, 0x08, 3, {2, 2, 3}, 12, 0, FERAL_STATUS_CORRUPT,
	 "not an IDX file"},
	{"unknown type byte", BAD_PLAIN, 0, 0x42, 3, {2, 2, 3}, 12, 0, FERAL_STATUS_CORRUPT,
	 "not an IDX file"},
	{"float elements", BAD_PLAIN, 0, 0x0D, 3, {2, 2, 3}, 48, 0, FERAL_STATUS_UNSUPPORTED,
	 "only unsigned byte (0x08)"},
	{"dims cut short", BAD_PLAIN, 10, 0x08, 3, {2, 2, 3}, 12, 0, FERAL_STATUS_CORRUPT,
	 "truncated: the header declares 3 dimensions (12 bytes), found 6"},
	{"truncated data", BAD_PLAIN, 0, 0x08, 3, {2, 2, 3}, 11, 0, FERAL_STATUS_CORRUPT,
	 "truncated: expected 12 bytes of data after the 16-byte header, found 11"},
	{"trailing data", BAD_PLAIN, 0, 0x08, 3, {2, 2, 3}, 13, 0, FERAL_STATUS_CORRUPT,
	 "trailing bytes"},
	{"truncated gzip data", BAD_GZ, 0, 0x08, 3, {2, 2, 3}, 11, 0, FERAL_STATUS_CORRUPT,
	 "truncated: expected 12 bytes"},
	{"truncated .gz stream", BAD_GZ_CUT, 0, 0x08, 3, {50, 20, 20}, 20000, 0,
	 FERAL_STATUS_CORRUPT, "truncated"},
	{"damaged .gz stream", BAD_GZ_FLIP, 0, 0x08, 3, {50, 20, 20}, 20000, 0,
	 FERAL_STATUS_CORRUPT, "gzip"},
	{"dims overflow", BAD_PLAIN, 0, 0x08, 4, {0xffffffffu, 0xffffffffu, 0xffffffffu, 3}, 12, 0,
	 FERAL_STATUS_RANGE, "past 2^64"},
	{"absurd dims, plain", BAD_PLAIN, 0, 0x08, 3, {0xffffffffu, 28, 28}, 12, 0,
	 FERAL_STATUS_CORRUPT, "truncated: expected 3367254359280 bytes"},
	{"absurd dims, gzip", BAD_GZ, 0, 0x08, 3, {0xffffffffu, 28, 28}, 12, 0,
	 FERAL_STATUS_CORRUPT, "more than a"},
	{"zero dim", BAD_PLAIN, 0, 0x08, 3, {0, 28, 28}, 0, 0, FERAL_STATUS_RANGE, "is 0"},
	{"labels as dataset", BAD_PLAIN, 0, 0x08, 1, {4}, 4, 0, FERAL_STATUS_USAGE,
	 "give it as targets"},
	{"images as vector", BAD_PLAIN, 0, 0x08, 3, {2, 2, 3}, 12, 1, FERAL_STATUS_USAGE,
	 "a vector must be 1-D"},
};

Test(io_idx, test_malformed_files_fail_with_status_file_and_reason)
{
	for (size_t c = 0; c < sizeof bad_idx / sizeof *bad_idx; c++) {
		const struct bad_idx *b = &bad_idx[c];
		static unsigned char buf[1 << 16];
		size_t len = b->type ? make_idx(buf, b->type, b->ndims, b->dims, NULL, b->data_len) : 0;
		for (size_t k = 0; k < b->data_len; k++)
			buf[len - b->data_len + k] = (unsigned char)(k * 2654435761u >> 13);
		if (!strcmp(b->what, "bad magic"))
			buf[1] = 0x01;
		if (b->raw_len)
			len = b->raw_len;
		const char *p = tmp_path(b->kind == BAD_PLAIN ? "idx_bad" : "idx_bad.gz");
		if (b->kind == BAD_PLAIN) {
			write_bytes(p, buf, len);
		} else {
			write_gz(p, buf, len);
			if (b->kind == BAD_GZ_CUT || b->kind == BAD_GZ_FLIP) {
				long s = file_size(p);
				FILE *f = fopen(p, "r+b");
				unsigned char gz[1 << 16];
				cr_assert_eq(fread(gz, 1, (size_t)s, f), (size_t)s);
				fclose(f);
				if (b->kind == BAD_GZ_FLIP)
					gz[s / 2] ^= 0x55;
				write_bytes(p, gz, b->kind == BAD_GZ_CUT ? (size_t)s / 2 : (size_t)s);
			}
		}
		struct feral_error e;
		memset(&e, 0, sizeof e);
		enum feral_status st;
		if (b->as_vector) {
			double *v = (double *)&e;
			uint64_t n;
			st = feral_io_idx_vector_load(p, &v, &n, &e);
			cr_assert_null(v, "%s: vector not NULL on failure", b->what);
		} else {
			struct feral_dataset *ds = (struct feral_dataset *)&e;
			st = feral_io_idx_load(p, &ds, &e);
			cr_assert_null(ds, "%s: dataset not NULL on failure", b->what);
		}
		cr_assert_eq(st, b->want, "%s: status %d (%s), expected %d; message '%s'", b->what, st,
		             feral_strerror(st), b->want, e.msg);
		cr_assert_not_null(strstr(e.msg, b->reason), "%s: message '%s' lacks '%s'", b->what,
		                   e.msg, b->reason);
		cr_assert_str_eq(e.file, p, "%s: err.file '%s', expected '%s'", b->what, e.file, p);
		cr_assert_eq(e.line, 0, "%s: line %ld, expected 0", b->what, e.line);
	}
}

Test(io_idx, test_real_fashion_mnist_train_set_loads, .timeout = 120)
{
	const char *img = FASHION_DIR "/train-images-idx3-ubyte.gz";
	const char *lab = FASHION_DIR "/train-labels-idx1-ubyte.gz";
	if (access(img, R_OK) != 0 || access(lab, R_OK) != 0)
		cr_skip_test("%s not installed", img);
#ifndef FERAL_HAVE_ZLIB
	cr_skip_test("built without zlib");
#endif
	struct feral_dataset *ds;
	struct feral_error e;
	enum feral_status st = feral_io_idx_load(img, &ds, &e);
	cr_assert_eq(st, FERAL_OK, "%s: status %d: %s", img, st, e.msg);
	cr_assert_eq(ds->n, 60000, "n = %llu, expected 60000", (unsigned long long)ds->n);
	cr_assert_eq(ds->d, 784, "d = %llu, expected 784", (unsigned long long)ds->d);
	const float *v = ds->values;
	float lo = 1, hi = 0;
	for (uint64_t k = 0; k < ds->nnz; k++) {
		lo = v[k] < lo ? v[k] : lo;
		hi = v[k] > hi ? v[k] : hi;
	}
	cr_assert(lo == 0.0f && hi == 1.0f, "pixel range [%g, %g], expected [0, 1]", lo, hi);
	double *y;
	uint64_t n;
	st = feral_io_idx_vector_load(lab, &y, &n, &e);
	cr_assert_eq(st, FERAL_OK, "%s: status %d: %s", lab, st, e.msg);
	cr_assert_eq(n, 60000, "%llu labels, expected 60000", (unsigned long long)n);
	uint64_t count[10] = {0};
	for (uint64_t i = 0; i < n; i++) {
		cr_assert(y[i] >= 0 && y[i] <= 9 && y[i] == (int)y[i], "label %llu = %g, not 0..9",
		          (unsigned long long)i, y[i]);
		count[(int)y[i]]++;
	}
	for (int c = 0; c < 10; c++) /* Fashion-MNIST is balanced: 6000 a class */
		cr_assert_eq(count[c], 6000, "class %d has %llu images, expected 6000", c,
		             (unsigned long long)count[c]);
	free(y);
	feral_dataset_destroy(&ds);
}
