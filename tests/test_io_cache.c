/* Native .feral cache: bit-identical round trips for every layout and
 * precision, and rejection of every single-byte flip and every truncation. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_impl.h"
#include "tmpdir.h"

static void setup(void)
{
	tmpdir_make("cache");
}

TestSuite(io_cache, .timeout = 60, .init = setup, .fini = tmpdir_remove);

static float pseudo(uint64_t k)
{
	return (float)((k * 2654435761u >> 7) % 2001) / 100.0f - 10.0f;
}

/* Dense F32 n x d with y and norms set. */
static struct feral_dataset *make_dense_f32(uint64_t n, uint64_t d)
{
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(n, d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK, "%s", e.msg);
	for (uint64_t k = 0; k < n * d; k++)
		((float *)ds->values)[k] = pseudo(k);
	for (uint64_t i = 0; i < n; i++)
		ds->y[i] = (i % 2) ? 1.0 : -0.3 * (double)i;
	feral_dataset_update_norms(ds);
	return ds;
}

/* CSR with an empty row, F32 or fixed point. */
static struct feral_dataset *make_csr(enum feral_precision prec)
{
	static const uint64_t ip[] = {0, 3, 3, 4, 7, 9};
	static const uint32_t ix[] = {0, 4, 6, 2, 1, 2, 5, 0, 6};
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(5, 7, 9, FERAL_LAYOUT_CSR, prec, &ds, &e), FERAL_OK, "%s",
	             e.msg);
	memcpy(ds->indptr, ip, sizeof ip);
	memcpy(ds->indices, ix, sizeof ix);
	for (int k = 0; k < 9; k++) {
		if (prec == FERAL_PRECISION_F32)
			((float *)ds->values)[k] = pseudo((uint64_t)k);
		else if (prec == FERAL_PRECISION_I16)
			((int16_t *)ds->values)[k] = (int16_t)(k * 4000 - 16000);
		else
			((int8_t *)ds->values)[k] = (int8_t)(k * 31 - 127);
	}
	for (int i = 0; i < 5; i++) {
		if (ds->row_scale)
			ds->row_scale[i] = 0.01f * (float)(i + 1);
		ds->y[i] = i - 2.0;
	}
	feral_dataset_update_norms(ds);
	return ds;
}

/* Fixed-point dense dataset, filled by hand. */
static struct feral_dataset *make_dense_i8(uint64_t n, uint64_t d)
{
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(n, d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_I8, &ds, &e),
	             FERAL_OK, "%s", e.msg);
	for (uint64_t k = 0; k < n * d; k++)
		((int8_t *)ds->values)[k] = (int8_t)((k * 37) % 255 - 127);
	for (uint64_t i = 0; i < n; i++) {
		ds->row_scale[i] = 1.0f / (float)(i + 3);
		ds->y[i] = (double)i;
	}
	feral_dataset_update_norms(ds);
	return ds;
}

static void assert_same(const struct feral_dataset *a, const struct feral_dataset *b,
                        const char *what)
{
	cr_assert_eq(b->n, a->n, "%s: n %llu, expected %llu", what, (unsigned long long)b->n,
	             (unsigned long long)a->n);
	cr_assert_eq(b->d, a->d, "%s: d %llu, expected %llu", what, (unsigned long long)b->d,
	             (unsigned long long)a->d);
	cr_assert_eq(b->nnz, a->nnz, "%s: nnz %llu, expected %llu", what, (unsigned long long)b->nnz,
	             (unsigned long long)a->nnz);
	cr_assert_eq(b->layout, a->layout, "%s: layout %d, expected %d", what, b->layout, a->layout);
	cr_assert_eq(b->precision, a->precision, "%s: precision %d, expected %d", what,
	             b->precision, a->precision);
	size_t vb = a->nnz * feral_precision_size(a->precision);
	cr_assert_eq(memcmp(b->values, a->values, vb), 0, "%s: values differ", what);
	cr_assert_eq(memcmp(b->y, a->y, a->n * sizeof(double)), 0, "%s: y differs", what);
	cr_assert_eq(memcmp(b->row_sq_norm, a->row_sq_norm, a->n * sizeof(double)), 0,
	             "%s: row norms differ", what);
	if (a->layout == FERAL_LAYOUT_CSR) {
		cr_assert_eq(memcmp(b->indptr, a->indptr, (a->n + 1) * sizeof(uint64_t)), 0,
		             "%s: indptr differs", what);
		cr_assert_eq(memcmp(b->indices, a->indices, a->nnz * sizeof(uint32_t)), 0,
		             "%s: indices differ", what);
	} else {
		cr_assert_null(b->indptr, "%s: dense dataset has indptr", what);
	}
	if (a->row_scale)
		cr_assert_eq(memcmp(b->row_scale, a->row_scale, a->n * sizeof(float)), 0,
		             "%s: row scales differ", what);
	else
		cr_assert_null(b->row_scale, "%s: f32 dataset has row scales", what);
}

static void roundtrip(struct feral_dataset *ds, const char *what)
{
	const char *p = tmp_path("cache_rt.feral");
	struct feral_error e;
	enum feral_status st = feral_io_cache_save(ds, p, &e);
	cr_assert_eq(st, FERAL_OK, "%s: save status %d: %s", what, st, e.msg);
	struct stat sb;
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq(sb.st_size % 64, 0, "%s: file size %lld not a multiple of 64", what,
	             (long long)sb.st_size);
	/* both ways of loading: read into memory (default) and mapped */
	for (int map = 0; map < 2; map++) {
		struct feral_dataset *back;
		st = feral_io_cache_load(p, map, &back, &e);
		cr_assert_eq(st, FERAL_OK, "%s: load status %d: %s", what, st, e.msg);
		assert_same(ds, back, what);
		/* every array lives in the one block read, 64-byte aligned */
		const char *m = back->owner->block;
		cr_assert_not_null(m, "%s: no block", what);
		cr_assert_eq(back->owner->block_mapped, (bool)map, "%s: block_mapped %d, map %d", what,
		             back->owner->block_mapped, map);
		cr_assert_eq(back->owner->block_len, (size_t)sb.st_size, "%s: block_len %zu, expected %lld",
		             what, back->owner->block_len, (long long)sb.st_size);
		cr_assert((const char *)back->values >= m &&
		          (const char *)back->values < m + back->owner->block_len,
		          "%s: values not in the block", what);
		cr_assert_eq((uintptr_t)back->values % 64, 0, "%s: values not 64-byte aligned", what);
		cr_assert_eq(back->owner->heap_mask, 0u, "%s: heap_mask 0x%x, expected 0", what,
		             back->owner->heap_mask);
		const void *arrays[] = {back->values, back->indptr, back->indices, back->row_scale,
		                        back->y, back->row_sq_norm};
		for (int k = 0; k < 6; k++)
			cr_assert(!arrays[k] || ((const char *)arrays[k] >= m &&
			                         (const char *)arrays[k] <= m + back->owner->block_len &&
			                         (uintptr_t)arrays[k] % 64 == 0),
			          "%s: array %d at %p is not 64-byte aligned inside the block %p+%zu", what, k,
			          arrays[k], (const void *)m, back->owner->block_len);
		feral_dataset_destroy(&back);
		cr_assert_null(back);
	}
}

Test(io_cache, test_dense_f32_roundtrip_is_bit_identical)
{
	struct feral_dataset *ds = make_dense_f32(13, 11);
	roundtrip(ds, "dense f32 13x11");
	feral_dataset_destroy(&ds);
}

Test(io_cache, test_csr_roundtrip_is_bit_identical_for_every_precision)
{
	enum feral_precision p[] = {FERAL_PRECISION_F32, FERAL_PRECISION_I16, FERAL_PRECISION_I8};
	const char *names[] = {"csr f32", "csr i16", "csr i8"};
	for (int k = 0; k < 3; k++) {
		struct feral_dataset *ds = make_csr(p[k]);
		roundtrip(ds, names[k]);
		feral_dataset_destroy(&ds);
	}
}

Test(io_cache, test_fixed_point_dense_roundtrip_is_bit_identical)
{
	struct feral_dataset *ds = make_dense_i8(9, 17);
	roundtrip(ds, "dense i8 9x17");
	feral_dataset_destroy(&ds);
}

Test(io_cache, test_save_refuses_non_finite_values)
{
	struct feral_dataset *ds = make_dense_f32(3, 3);
	((float *)ds->values)[4] = NAN;
	const char *p = tmp_path("cache_nan.feral");
	struct feral_error e;
	enum feral_status st = feral_io_cache_save(ds, p, &e);
	cr_assert_eq(st, FERAL_STATUS_RANGE, "status %d, expected RANGE", st);
	cr_assert_str_eq(e.file, p, "err.file '%s', expected '%s'", e.file, p);
	cr_assert_eq(access(p, F_OK), -1, "%s was written", p);
	feral_dataset_destroy(&ds);
}

static void expect_corrupt(const char *p, const char *what, size_t at, const char *reason)
{
	struct feral_dataset *ds = (struct feral_dataset *)&ds;
	struct feral_error e;
	memset(&e, 0, sizeof e);
	for (int map = 0; map < 2; map++) {
		enum feral_status st = feral_io_cache_load(p, map, &ds, &e);
		cr_assert_eq(st, FERAL_STATUS_CORRUPT,
		             "%s at %zu (map %d): status %d (%s), expected CORRUPT: %s", what, at, map,
		             st, feral_strerror(st), e.msg);
		cr_assert_null(ds, "%s at %zu: dataset not NULL", what, at);
		cr_assert_str_eq(e.file, p, "%s at %zu: err.file '%s'", what, at, e.file);
		if (reason)
			cr_assert_not_null(strstr(e.msg, reason), "%s at %zu: message '%s' lacks '%s'",
			                   what, at, e.msg, reason);
	}
}

/* Small files of every kind, so each byte position is tried. */
Test(io_cache, test_every_single_byte_flip_is_rejected)
{
	struct feral_dataset *sets[3] = {make_csr(FERAL_PRECISION_I8), make_dense_f32(3, 5),
	                                 make_csr(FERAL_PRECISION_F32)};
	const char *names[3] = {"csr i8", "dense f32", "csr f32"};
	unsigned char masks[] = {0x01, 0x80, 0xff};
	for (int s = 0; s < 3; s++) {
		const char *good = tmp_path("cache_good.feral"), *bad = tmp_path("cache_flip.feral");
		struct feral_error e;
		cr_assert_eq(feral_io_cache_save(sets[s], good, &e), FERAL_OK, "%s", e.msg);
		size_t len;
		unsigned char *img = read_all(good, &len);
		for (size_t at = 0; at < len; at++) {
			for (int m = 0; m < 3; m++) {
				img[at] ^= masks[m];
				write_bytes(bad, img, len);
				img[at] ^= masks[m];
				char what[64];
				snprintf(what, sizeof what, "%s, flip 0x%02x", names[s], masks[m]);
				expect_corrupt(bad, what, at,
				               at >= 128 ? "checksum mismatch" : NULL);
			}
		}
		free(img);
		feral_dataset_destroy(&sets[s]);
	}
}

Test(io_cache, test_every_truncation_and_extension_is_rejected)
{
	struct feral_dataset *ds = make_csr(FERAL_PRECISION_I16);
	const char *good = tmp_path("cache_good.feral"), *bad = tmp_path("cache_cut.feral");
	struct feral_error e;
	cr_assert_eq(feral_io_cache_save(ds, good, &e), FERAL_OK, "%s", e.msg);
	size_t len;
	unsigned char *img = read_all(good, &len);
	for (size_t cut = 0; cut < len; cut++) {
		write_bytes(bad, img, cut);
		expect_corrupt(bad, "truncated", cut, "truncated");
	}
	char want[96];
	snprintf(want, sizeof want, "truncated: header says %zu bytes, file has %zu", len, len - 64);
	write_bytes(bad, img, len - 64);
	expect_corrupt(bad, "cut a section", len - 64, want);
	unsigned char *longer = calloc(1, len + 64);
	memcpy(longer, img, len);
	write_bytes(bad, longer, len + 1);
	expect_corrupt(bad, "one extra byte", len + 1, "trailing");
	free(longer);
	free(img);
	feral_dataset_destroy(&ds);
}

Test(io_cache, test_other_files_are_not_caches)
{
	const char *p = tmp_path("cache_text.feral");
	char text[256];
	memset(text, 'x', sizeof text);
	write_bytes(p, text, sizeof text);
	expect_corrupt(p, "text file", 0, "bad magic");
	struct feral_dataset *ds;
	struct feral_error e;
	enum feral_status st = feral_io_cache_load(tmp_path("cache_missing.feral"), false, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_IO, "missing file: status %d, expected IO", st);
	st = feral_io_cache_load(tmpdir, false, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_IO, "directory: status %d, expected IO", st);
}
