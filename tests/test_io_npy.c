/* NumPy .npy reader and writer: round trips and a table of malformed files.
 * Files are hand-crafted here (header text + raw little-endian data), so
 * the tests need no Python. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <unistd.h>

#include "io_impl.h"
#include "tmpdir.h"

static void setup(void)
{
	tmpdir_make("npy");
}

TestSuite(io_npy, .timeout = 30, .init = setup, .fini = tmpdir_remove);

/* A .npy image: preamble for `major`, the dict padded to 64 bytes, then
 * data_len bytes of data (zeros when data is NULL).  Returns the length. */
static size_t make_npy(unsigned char *out, size_t cap, int major, const char *dict,
                       const void *data, size_t data_len)
{
	size_t pre = major == 1 ? 10 : 12;
	size_t dl = strlen(dict);
	size_t total = (pre + dl + 1 + 63) & ~(size_t)63;
	size_t hlen = total - pre;
	cr_assert_leq(total + data_len, cap, "npy image too large for the buffer");
	memcpy(out, "\x93NUMPY", 6);
	out[6] = (unsigned char)major;
	out[7] = 0;
	out[8] = hlen & 0xff;
	out[9] = (hlen >> 8) & 0xff;
	if (major != 1) {
		out[10] = (hlen >> 16) & 0xff;
		out[11] = (hlen >> 24) & 0xff;
	}
	memcpy(out + pre, dict, dl);
	memset(out + pre + dl, ' ', hlen - dl - 1);
	out[total - 1] = '\n';
	if (data)
		memcpy(out + total, data, data_len);
	else
		memset(out + total, 0, data_len);
	return total + data_len;
}

static const char *write_npy(const char *name, int major, const char *dict, const void *data,
                             size_t data_len)
{
	static unsigned char buf[1 << 16];
	size_t len = make_npy(buf, sizeof buf, major, dict, data, data_len);
	const char *p = tmp_path(name);
	write_bytes(p, buf, len);
	return p;
}

Test(io_npy, test_f4_matrix_loads_as_dense_f32_with_norms)
{
	float a[3][4] = {{1, 2, 3, 4}, {0, -1.5f, 0, 0}, {1e-30f, 3e30f, -7, 0.25f}};
	const char *p = write_npy("npy_f4.npy", 1,
	                          "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
	                          a, sizeof a);
	struct feral_dataset *ds;
	struct feral_error e;
	enum feral_status st = feral_io_npy_load(p, &ds, &e);
	cr_assert_eq(st, FERAL_OK, "load: status %d, expected OK: %s", st, e.msg);
	cr_assert_eq(ds->n, 3, "n = %llu, expected 3", (unsigned long long)ds->n);
	cr_assert_eq(ds->d, 4, "d = %llu, expected 4", (unsigned long long)ds->d);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_DENSE);
	cr_assert_eq(ds->precision, FERAL_PRECISION_F32);
	cr_assert_eq(memcmp(ds->values, a, sizeof a), 0, "values differ from the file's bits");
	for (int i = 0; i < 3; i++) {
		double s = 0;
		for (int j = 0; j < 4; j++)
			s += (double)a[i][j] * a[i][j];
		cr_assert_eq(ds->y[i], 0.0, "y[%d] = %g, expected 0", i, ds->y[i]);
		cr_assert_float_eq(ds->row_sq_norm[i], s, 1e-12 * s, "norm of row %d = %g, expected %g",
		                   i, ds->row_sq_norm[i], s);
	}
	feral_dataset_destroy(&ds);
}

Test(io_npy, test_f8_matrix_is_rounded_to_f32)
{
	double a[2][3] = {{0.1, -0.2, 1e-3}, {1e30, 2.5, -3.0}};
	const char *p = write_npy("npy_f8.npy", 1,
	                          "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", a,
	                          sizeof a);
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_io_npy_load(p, &ds, &e), FERAL_OK, "%s", e.msg);
	const float *v = ds->values;
	for (int k = 0; k < 6; k++)
		cr_assert_eq(v[k], (float)a[k / 3][k % 3], "element %d = %.9g, expected %.9g", k, v[k],
		             (float)a[k / 3][k % 3]);
	feral_dataset_destroy(&ds);
}

Test(io_npy, test_v2_and_v3_headers_and_integer_dtypes_load)
{
	uint8_t u[2][2] = {{0, 255}, {7, 1}};
	int32_t i4[2][2] = {{-5, 3}, {2147483647, 0}};
	struct {
		int major;
		const char *dict;
		const void *data;
		size_t len;
		double want[4];
	} cases[] = {
		{2, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u, sizeof u,
		 {0, 255, 7, 1}},
		{3, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2, 2)}", i4, sizeof i4,
		 {-5, 3, 2147483647.0, 0}},
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		const char *p = write_npy("npy_int.npy", cases[c].major, cases[c].dict, cases[c].data,
		                          cases[c].len);
		struct feral_dataset *ds;
		struct feral_error e;
		enum feral_status st = feral_io_npy_load(p, &ds, &e);
		cr_assert_eq(st, FERAL_OK, "case %zu (v%d): status %d: %s", c, cases[c].major, st,
		             e.msg);
		for (int k = 0; k < 4; k++)
			cr_assert_eq(((float *)ds->values)[k], (float)cases[c].want[k],
			             "case %zu element %d = %g, expected %g", c, k,
			             ((float *)ds->values)[k], cases[c].want[k]);
		feral_dataset_destroy(&ds);
	}
}

Test(io_npy, test_f8_value_beyond_float32_names_row_and_column)
{
	double a[2][3] = {{1, 2, 3}, {4, 5, 1e300}};
	const char *p = write_npy("npy_big.npy", 1,
	                          "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", a,
	                          sizeof a);
	struct feral_dataset *ds = NULL;
	struct feral_error e;
	enum feral_status st = feral_io_npy_load(p, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_RANGE, "status %d, expected RANGE", st);
	cr_assert_not_null(strstr(e.msg, "row 1, column 2"), "message '%s' lacks 'row 1, column 2'",
	                   e.msg);
	cr_assert_null(ds);
	a[1][2] = NAN;
	a[0][1] = INFINITY;
	p = write_npy("npy_inf.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
	              a, sizeof a);
	st = feral_io_npy_load(p, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_RANGE, "status %d, expected RANGE", st);
	cr_assert_not_null(strstr(e.msg, "row 0, column 1"), "message '%s' lacks 'row 0, column 1'",
	                   e.msg);
}

Test(io_npy, test_dataset_save_then_load_is_bit_identical)
{
	struct feral_dataset *ds, *back;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(5, 7, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK);
	float *v = ds->values;
	for (int k = 0; k < 35; k++)
		v[k] = (float)((k * 37 % 11) - 5) / 3.0f;
	const char *p = tmp_path("npy_round.npy");
	cr_assert_eq(feral_io_npy_save(ds, p, &e), FERAL_OK, "save: %s", e.msg);
	cr_assert_eq(feral_io_npy_load(p, &back, &e), FERAL_OK, "load: %s", e.msg);
	cr_assert_eq(back->n, 5);
	cr_assert_eq(back->d, 7);
	cr_assert_eq(memcmp(back->values, ds->values, 35 * sizeof(float)), 0, "values differ");
	/* numpy pads the header so the data starts 64-byte aligned */
	FILE *f = fopen(p, "rb");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	cr_assert_eq(size, 128 + 35 * 4, "file size %ld, expected %d", size, 128 + 35 * 4);
	feral_dataset_destroy(&ds);
	feral_dataset_destroy(&back);
}

Test(io_npy, test_csr_and_fixed_point_are_saved_densely)
{
	struct feral_dataset *ds, *back;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(3, 4, 3, FERAL_LAYOUT_CSR, FERAL_PRECISION_I8, &ds, &e),
	             FERAL_OK);
	uint64_t ip[] = {0, 2, 2, 3};
	uint32_t ix[] = {0, 3, 1};
	int8_t val[] = {10, -20, 127};
	memcpy(ds->indptr, ip, sizeof ip);
	memcpy(ds->indices, ix, sizeof ix);
	memcpy(ds->values, val, sizeof val);
	ds->row_scale[0] = 0.5f;
	ds->row_scale[1] = 1.0f;
	ds->row_scale[2] = 0.25f;
	const char *p = tmp_path("npy_csr.npy");
	cr_assert_eq(feral_io_npy_save(ds, p, &e), FERAL_OK, "save: %s", e.msg);
	cr_assert_eq(feral_io_npy_load(p, &back, &e), FERAL_OK, "load: %s", e.msg);
	float want[12] = {5, 0, 0, -10, 0, 0, 0, 0, 0, 31.75f, 0, 0};
	for (int k = 0; k < 12; k++)
		cr_assert_eq(((float *)back->values)[k], want[k], "element %d = %g, expected %g", k,
		             ((float *)back->values)[k], want[k]);
	feral_dataset_destroy(&ds);
	feral_dataset_destroy(&back);
}

Test(io_npy, test_vector_save_then_load_roundtrips_and_accepts_column)
{
	double v[5] = {1.5, -2, 0, 1e300, 3.25e-310};
	const char *p = tmp_path("npy_vec.npy");
	struct feral_error e;
	cr_assert_eq(feral_io_npy_vector_save(p, v, 5, &e), FERAL_OK, "save: %s", e.msg);
	double *back;
	uint64_t len;
	cr_assert_eq(feral_io_npy_vector_load(p, &back, &len, &e), FERAL_OK, "load: %s", e.msg);
	cr_assert_eq(len, 5, "len %llu, expected 5", (unsigned long long)len);
	cr_assert_eq(memcmp(back, v, sizeof v), 0, "vector bits differ");
	free(back);
	/* (n, 1) float32 and int64 columns are vectors too */
	float c[3] = {1, 2, 3};
	p = write_npy("npy_col.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }",
	              c, sizeof c);
	cr_assert_eq(feral_io_npy_vector_load(p, &back, &len, &e), FERAL_OK, "(3,1): %s", e.msg);
	cr_assert_eq(len, 3);
	cr_assert_eq(back[2], 3.0, "back[2] = %g, expected 3", back[2]);
	free(back);
	int64_t l[2] = {-1, 1};
	p = write_npy("npy_i8.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", l,
	              sizeof l);
	cr_assert_eq(feral_io_npy_vector_load(p, &back, &len, &e), FERAL_OK, "<i8: %s", e.msg);
	cr_assert_eq(back[0], -1.0, "back[0] = %g, expected -1", back[0]);
	free(back);
}

/* ---- malformed files ---------------------------------------------------------- */

struct bad_npy {
	const char *what;
	int major;          /* 0: raw bytes below instead of a crafted header */
	const char *dict;
	size_t data_len;
	const char *raw;
	size_t raw_len;
	int as_vector;
	enum feral_status want;
	const char *reason;
};

#define F4_34 "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"

static const struct bad_npy bad_npy[] = {
	{"bad magic", 0, NULL, 0, "\x93NUMPZ\x01\x00\x10\x00{}              \n", 26, 0,
	 FERAL_STATUS_CORRUPT, "not a .npy file"},
	{"empty file", 0, NULL, 0, "", 0, 0, FERAL_STATUS_CORRUPT, "not a .npy file"},
	{"preamble cut", 0, NULL, 0, "\x93NUMPY\x01", 7, 0, FERAL_STATUS_CORRUPT, "truncated"},
	{"header longer than file", 0, NULL, 0, "\x93NUMPY\x01\x00\x76\x00{'descr'", 18, 0,
	 FERAL_STATUS_CORRUPT, "truncated: header says it ends at byte 128"},
	{"unknown version", 4, F4_34, 48, NULL, 0, 0, FERAL_STATUS_UNSUPPORTED, "version 4.0"},
	{"header not a dict", 1, "['descr', '<f4']", 48, NULL, 0, 0, FERAL_STATUS_PARSE,
	 "expected '{'"},
	{"header missing shape", 1, "{'descr': '<f4', 'fortran_order': False}", 48, NULL, 0, 0,
	 FERAL_STATUS_PARSE, "lacks 'shape'"},
	{"header missing comma", 1, "{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4)}", 48,
	 NULL, 0, 0, FERAL_STATUS_PARSE, "expected ',' or '}'"},
	{"header unknown key", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}",
	 48, NULL, 0, 0, FERAL_STATUS_PARSE, "unknown key 'x'"},
	{"header bad shape", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}", 48,
	 NULL, 0, 0, FERAL_STATUS_PARSE, "non-negative integers"},
	{"Fortran order", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", 48, NULL,
	 0, 0, FERAL_STATUS_UNSUPPORTED, "Fortran order"},
	{"big-endian", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }", 48, NULL, 0,
	 0, FERAL_STATUS_UNSUPPORTED, "big-endian"},
	{"complex dtype", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3, 4), }", 96, NULL,
	 0, 0, FERAL_STATUS_UNSUPPORTED, "dtype '<c8'"},
	{"structured dtype", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }",
	 12, NULL, 0, 0, FERAL_STATUS_UNSUPPORTED, "structured"},
	{"truncated data", 1, F4_34, 40, NULL, 0, 0, FERAL_STATUS_CORRUPT,
	 "truncated: expected 48 bytes of data, found 40"},
	{"trailing data", 1, F4_34, 52, NULL, 0, 0, FERAL_STATUS_CORRUPT, "trailing"},
	{"n*d overflows", 1,
	 "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 48, NULL, 0,
	 0, FERAL_STATUS_RANGE, "overflows 64 bits"},
	{"shape entry overflows", 1,
	 "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1), }", 48, NULL,
	 0, 0, FERAL_STATUS_RANGE, "overflows 64 bits"},
	{"absurd shape, small file", 1,
	 "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000), }", 48, NULL, 0, 0,
	 FERAL_STATUS_CORRUPT, "truncated: expected 4000000000000000 bytes"},
	{"1-D as dataset", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", 48, NULL,
	 0, 0, FERAL_STATUS_USAGE, "1-D array: give it as targets (b), not as A"},
	{"3-D as dataset", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", 48,
	 NULL, 0, 0, FERAL_STATUS_UNSUPPORTED, "3-D array"},
	{"empty matrix", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0, NULL, 0,
	 0, FERAL_STATUS_USAGE, "empty"},
	{"2-D as vector", 1, F4_34, 48, NULL, 0, 1, FERAL_STATUS_USAGE, "must be 1-D"},
	{"NaN in vector", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 0,
	 NULL, 0, 1, FERAL_STATUS_RANGE, "element 0"},
};

Test(io_npy, test_malformed_files_fail_with_status_file_and_reason)
{
	for (size_t c = 0; c < sizeof bad_npy / sizeof *bad_npy; c++) {
		const struct bad_npy *b = &bad_npy[c];
		const char *p;
		if (b->major) {
			if (!strcmp(b->what, "NaN in vector")) {
				float nan = NAN;
				p = write_npy("npy_bad.npy", 1, b->dict, &nan, sizeof nan);
			} else {
				p = write_npy("npy_bad.npy", b->major, b->dict, NULL, b->data_len);
			}
		} else {
			p = tmp_path("npy_bad.npy");
			write_bytes(p, b->raw, b->raw_len);
		}
		struct feral_error e;
		memset(&e, 0, sizeof e);
		enum feral_status st;
		if (b->as_vector) {
			double *v = (double *)&e; /* must be reset to NULL */
			uint64_t len = 99;
			st = feral_io_npy_vector_load(p, &v, &len, &e);
			cr_assert_null(v, "%s: vector not NULL on failure", b->what);
		} else {
			struct feral_dataset *ds = (struct feral_dataset *)&e;
			st = feral_io_npy_load(p, &ds, &e);
			cr_assert_null(ds, "%s: dataset not NULL on failure", b->what);
		}
		cr_assert_eq(st, b->want, "%s: status %d (%s), expected %d; message '%s'", b->what, st,
		             feral_strerror(st), b->want, e.msg);
		cr_assert_eq(e.status, b->want, "%s: err.status %d, expected %d", b->what, e.status,
		             b->want);
		cr_assert_not_null(strstr(e.msg, b->reason), "%s: message '%s' lacks '%s'", b->what,
		                   e.msg, b->reason);
		cr_assert_str_eq(e.file, p, "%s: err.file '%s', expected '%s'", b->what, e.file, p);
		cr_assert_eq(e.line, 0, "%s: line %ld, expected 0 for a binary file", b->what, e.line);
	}
}

Test(io_npy, test_missing_file_is_io_error)
{
	struct feral_dataset *ds;
	struct feral_error e;
	const char *p = tmp_path("npy_missing.npy");
	enum feral_status st = feral_io_npy_load(p, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_IO, "status %d, expected IO", st);
	cr_assert_neq(e.sys_errno, 0, "errno not kept");
}

Test(io_npy, test_huge_csr_is_not_densified)
{
	struct feral_dataset *ds;
	struct feral_error e;
	cr_assert_eq(feral_dataset_create(1u << 20, 1u << 20, 1, FERAL_LAYOUT_CSR,
	                                  FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK);
	ds->indptr[1u << 20] = 1; /* one nonzero in the last row */
	for (uint64_t i = 0; i < (1u << 20); i++)
		ds->indptr[i] = 0;
	const char *p = tmp_path("npy_huge.npy");
	enum feral_status st = feral_io_npy_save(ds, p, &e);
	cr_assert_eq(st, FERAL_STATUS_UNSUPPORTED, "status %d, expected UNSUPPORTED", st);
	cr_assert_eq(access(p, F_OK), -1, "a file was left behind at %s", p);
	feral_dataset_destroy(&ds);
}
