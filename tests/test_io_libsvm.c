/* LIBSVM loader and writer: round trips, storage choices, tolerated syntax,
 * and a table of malformed inputs each with its status, file and line. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <unistd.h>
#ifdef FERAL_HAVE_ZLIB
#include <zlib.h>
#endif
#include "loader.h"

static void setup(void)
{
	tmpdir_make("libsvm");
}

TestSuite(io_libsvm, .timeout = 30, .init = setup, .fini = tmpdir_remove);

static const char *write_file(const char *name, const char *content, size_t len)
{
	const char *p = tmp_path(name);
	write_bytes(p, content, len);
	return p;
}

static void assert_same(const struct feral_dataset *a, const struct feral_dataset *b)
{
	cr_assert_eq(a->n, b->n, "n %llu vs %llu", (unsigned long long)a->n, (unsigned long long)b->n);
	cr_assert_eq(a->d, b->d, "d %llu vs %llu", (unsigned long long)a->d, (unsigned long long)b->d);
	for (uint64_t i = 0; i < a->n; i++) {
		cr_assert_eq(a->y[i], b->y[i], "y[%llu] %.17g vs %.17g", (unsigned long long)i, a->y[i],
		             b->y[i]);
		cr_assert_eq(a->row_sq_norm[i], b->row_sq_norm[i], "norm[%llu] %.17g vs %.17g",
		             (unsigned long long)i, a->row_sq_norm[i], b->row_sq_norm[i]);
		for (uint64_t j = 0; j < a->d; j++)
			cr_assert_eq(elem(a, i, j), elem(b, i, j), "A[%llu][%llu] %.9g vs %.9g",
			             (unsigned long long)i, (unsigned long long)j, elem(a, i, j),
			             elem(b, i, j));
	}
}

/* A random CSR dataset with awkward values and real labels. */
static struct feral_dataset *random_csr(uint64_t n, uint64_t d, uint64_t seed)
{
	struct feral_rng r;
	struct feral_dataset *ds;
	feral_rng_seed(&r, seed, 0);
	cr_assert_eq(feral_dataset_create(n, d, n * d, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds, NULL),
	             FERAL_OK);
	float *v = ds->values;
	uint64_t k = 0;
	for (uint64_t i = 0; i < n; i++) {
		for (uint64_t j = 0; j < d; j++) {
			if (feral_rng_uniform(&r) < 0.3) {
				ds->indices[k] = (uint32_t)j;
				double x = (feral_rng_uniform(&r) - 0.5) * pow(10, (double)(feral_rng_next(&r) % 20) - 10);
				v[k++] = (float)x;
			}
		}
		ds->indptr[i + 1] = k;
		ds->y[i] = i % 3 == 0 ? 1 : i % 3 == 1 ? -1 : feral_rng_normal(&r) / 3;
	}
	ds->nnz = k;
	/* Make sure the widest column is used so d survives the round trip. */
	feral_dataset_update_norms(ds);
	return ds;
}

Test(io_libsvm, test_roundtrip_preserves_values_shape_and_labels)
{
	struct feral_dataset *a = random_csr(50, 40, 7), *b;
	struct feral_error e = {0};
	char buf[1200];
	/* Ensure the last column has an entry so d is recoverable. */
	cr_assert_gt(a->indptr[1], 0, "row 0 has entries");
	uint64_t last = a->indptr[1] - 1;
	a->indices[last] = 39;
	const char *p = tmp_path("rt.svm");
	cr_assert_eq(feral_dataset_save(a, p, &e), FERAL_OK, "%s", feral_error_format(&e, buf, sizeof buf));
	b = load_ok(p, 0);
	cr_assert_eq(b->layout, FERAL_LAYOUT_CSR);
	cr_assert_eq(b->nnz, a->nnz, "nnz %llu, expected %llu", (unsigned long long)b->nnz,
	             (unsigned long long)a->nnz);
	for (uint64_t k = 0; k < a->nnz; k++) {
		cr_assert_eq(b->indices[k], a->indices[k], "index %llu", (unsigned long long)k);
		cr_assert_eq(((float *)b->values)[k], ((float *)a->values)[k], "value %llu: %.9g vs %.9g",
		             (unsigned long long)k, ((float *)b->values)[k], ((float *)a->values)[k]);
	}
	for (uint64_t i = 0; i <= a->n; i++)
		cr_assert_eq(b->indptr[i], a->indptr[i], "indptr[%llu]", (unsigned long long)i);
	feral_dataset_update_norms(a);
	assert_same(a, b);
	feral_dataset_destroy(&a);
	feral_dataset_destroy(&b);
}

Test(io_libsvm, test_dense_roundtrip_skips_zeros)
{
	struct feral_dataset *a, *b;
	cr_assert_eq(feral_dataset_create(3, 4, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &a, NULL), FERAL_OK);
	float v[12] = {1, 0, 2.5f, 0, 0, 0, 0, -3e-7f, 0.1f, 0.2f, 0.3f, 0.4f};
	memcpy(a->values, v, sizeof v);
	a->y[0] = 0;
	a->y[1] = 1;
	a->y[2] = 0.1;
	feral_dataset_update_norms(a);
	const char *p = tmp_path("dense.libsvm");
	cr_assert_eq(feral_dataset_save(a, p, NULL), FERAL_OK);
	FILE *f = fopen(p, "r");
	char line[256];
	cr_assert_not_null(fgets(line, sizeof line, f));
	cr_assert_str_eq(line, "0 1:1 3:2.5\n", "first line '%s'", line);
	fclose(f);
	b = load_ok(p, 1);
	cr_assert_eq(b->layout, FERAL_LAYOUT_DENSE);
	assert_same(a, b);
	cr_assert_eq(b->y[0], 0.0, "0/1 labels are kept as 0, got %g", b->y[0]);
	feral_dataset_destroy(&a);
	feral_dataset_destroy(&b);
}

Test(io_libsvm, test_sparse_and_dense_storage_agree)
{
	const char *p = write_text("sd.svm", "1 1:1 3:3\n-1 2:2 4:4.5\n1 1:0.25 2:-1 3:7 4:1e-3\n");
	struct feral_dataset *s = load_ok(p, 0), *d = load_ok(p, 1), *a = load_ok(p, -1);
	cr_assert_eq(s->layout, FERAL_LAYOUT_CSR);
	cr_assert_eq(d->layout, FERAL_LAYOUT_DENSE);
	cr_assert_eq(d->nnz, 12, "dense nnz is n*d: %llu", (unsigned long long)d->nnz);
	cr_assert_eq(a->layout, FERAL_LAYOUT_DENSE, "8 of 12 filled: auto picks dense");
	assert_same(s, d);
	assert_same(s, a);
	feral_dataset_destroy(&s);
	feral_dataset_destroy(&d);
	feral_dataset_destroy(&a);
	p = write_text("sparse.svm", "1 1:1\n-1 20:2\n");
	a = load_ok(p, -1);
	cr_assert_eq(a->layout, FERAL_LAYOUT_CSR, "2 of 40 filled: auto picks CSR");
	feral_dataset_destroy(&a);
}

Test(io_libsvm, test_qid_comments_crlf_and_blank_lines_are_tolerated)
{
	const char *p = write_text("misc.svm",
	                           "# header comment\r\n"
	                           "\r\n"
	                           "+1 qid:3 1:0.5 3:2 # trailing comment 9:9\r\n"
	                           "   \t\n"
	                           "-1\tqid:3\t2:1.5e2\n"
	                           "0.5 1:1#no space before the comment\n"
	                           "-2\n"
	                           "3 2:4");
	struct feral_dataset *ds = load_ok(p, 0);
	cr_assert_eq(ds->n, 5, "rows %llu, expected 5", (unsigned long long)ds->n);
	cr_assert_eq(ds->d, 3, "d %llu, expected 3 (comments hold no features)", (unsigned long long)ds->d);
	double y[5] = {1, -1, 0.5, -2, 3};
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ds->y[i], y[i], "y[%d] = %g, expected %g", i, ds->y[i], y[i]);
	cr_assert_eq(elem(ds, 0, 2), 2.0);
	cr_assert_eq(elem(ds, 1, 1), 150.0);
	cr_assert_eq(ds->indptr[4] - ds->indptr[3], 0, "a label-only row is an empty row");
	cr_assert_eq(ds->row_sq_norm[0], 4.25, "norm %g", ds->row_sq_norm[0]);
	feral_dataset_destroy(&ds);
}

Test(io_libsvm, test_unsorted_indices_are_sorted)
{
	const char *p = write_text("unsorted.svm", "1 5:5 1:1 3:3\n-1 2:2 1:1\n");
	struct feral_dataset *ds = load_ok(p, 0);
	uint32_t want[5] = {0, 2, 4, 0, 1};
	float vals[5] = {1, 3, 5, 1, 2};
	for (int k = 0; k < 5; k++) {
		cr_assert_eq(ds->indices[k], want[k], "index %d: %u, expected %u", k, ds->indices[k], want[k]);
		cr_assert_eq(((float *)ds->values)[k], vals[k], "value %d", k);
	}
	feral_dataset_destroy(&ds);
}

Test(io_libsvm, test_malformed_inputs_report_status_file_line_and_reason)
{
	static const struct bad_case cases[] = {
		{"1 1:0.5\n-1 x:y\n", FERAL_STATUS_PARSE, 2, "bad token 'x:y'"},
		{"1 1:abc\n", FERAL_STATUS_PARSE, 1, "bad token '1:abc'"},
		{"1 3\n", FERAL_STATUS_PARSE, 1, "bad token '3'"},
		{"1 1:0.5 2:\n", FERAL_STATUS_PARSE, 1, "bad token '2:'"},
		{"1 1:1.5e\n", FERAL_STATUS_PARSE, 1, "bad token '1:1.5e'"},
		{"1 1:2x\n", FERAL_STATUS_PARSE, 1, "bad token '1:2x'"},
		{"1 a1:2\n", FERAL_STATUS_PARSE, 1, "bad token 'a1:2'"},
		{"1 1:0.5\n\n# c\n-1 1:2 x\n", FERAL_STATUS_PARSE, 4, "bad token 'x'"},
		{"1 1:1\r\n1 1:z\r\n", FERAL_STATUS_PARSE, 2, "bad token '1:z'"},
		{"1:0.5 2:1\n", FERAL_STATUS_PARSE, 1, "missing label"},
		{"1 1:1\nqid:2 1:1\n", FERAL_STATUS_PARSE, 2, "missing label"},
		{"abc 1:1\n", FERAL_STATUS_PARSE, 1, "bad label 'abc'"},
		{"1 0:1\n", FERAL_STATUS_RANGE, 1, "index 0"},
		{"1 -2:1\n", FERAL_STATUS_RANGE, 1, "negative index"},
		{"1 4294967295:1\n", FERAL_STATUS_RANGE, 1, "exceeds the limit 4294967294"},
		{"1 99999999999999999999999:1\n", FERAL_STATUS_RANGE, 1, "exceeds the limit"},
		{"1 1:nan\n", FERAL_STATUS_RANGE, 1, "not finite"},
		{"1 1:-inf\n", FERAL_STATUS_RANGE, 1, "not finite"},
		{"1 1:1e39\n", FERAL_STATUS_RANGE, 1, "not finite"},
		{"1 1:1\nnan 1:1\n", FERAL_STATUS_RANGE, 2, "label 'nan' is not finite"},
		{"1e999 1:1\n", FERAL_STATUS_RANGE, 1, "not finite"},
		{"1 2:1 2:3\n", FERAL_STATUS_PARSE, 1, "duplicate index 2"},
		{"1 1:1\n1 3:1 1:2 3:4\n", FERAL_STATUS_PARSE, 2, "duplicate index 3"},
		{"", FERAL_STATUS_PARSE, 0, "no data rows"},
		{"# only a comment\n\n   \n", FERAL_STATUS_PARSE, 0, "no data rows"},
	};
	check_bad_cases(cases, sizeof cases / sizeof cases[0], "svm");
}

/* n lines "1 1:1 2:2" with an optional bad line at `bad` (1-based). */
static char *many_lines(long n, long bad, size_t *len)
{
	char *s = malloc((size_t)n * 16 + 16);
	size_t k = 0;
	for (long i = 1; i <= n; i++)
		k += (size_t)sprintf(s + k, i == bad ? "1 1:1 2:oops\n" : "%d 1:%ld 2:2\n",
		                     (int)(i % 2 ? 1 : -1), i % 1000);
	*len = k;
	return s;
}

Test(io_libsvm, test_error_line_is_exact_across_threads_and_runs)
{
	/* ~3 MB: parsed in parallel slices; the gzip copy comes in 4 MiB
	 * runs from a 1 MiB buffer start, so line counts cross runs. */
	long n = 250000, bad = 231234;
	size_t len;
	char *s = many_lines(n, bad, &len);
	const char *p = write_file("many.svm", s, len);
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_PARSE, "%s", e.msg);
	cr_assert_eq(e.line, bad, "line %ld, expected %ld", e.line, bad);
	free(s);
	s = many_lines(n, 0, &len);
	p = write_file("many_ok.svm", s, len);
	ds = load_ok(p, 0);
	cr_assert_eq(ds->n, (uint64_t)n, "rows %llu", (unsigned long long)ds->n);
	for (long i = 0; i < n; i += 9973)
		cr_assert_eq(elem(ds, (uint64_t)i, 0), (double)((i + 1) % 1000), "row %ld", i);
	feral_dataset_destroy(&ds);
	free(s);
}

Test(io_libsvm, test_line_longer_than_16_mib_is_rejected)
{
	size_t len = ((size_t)17 << 20) + 64;
	char *s = malloc(len);
	memcpy(s, "1 1:1\n-1 2:2 ", 13);
	memset(s + 13, ' ', len - 13);
	s[len - 1] = '\n';
	const char *p = write_file("long.svm", s, len);
	struct feral_error e = {0};
	struct feral_dataset *ds = NULL;
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_PARSE);
	cr_assert_eq(e.line, 2, "line %ld", e.line);
	cr_assert_not_null(strstr(e.msg, "line longer than 16 MiB"), "message '%s'", e.msg);
	/* Without any newline the reader itself refuses to buffer it. */
	memset(s, 'x', len);
	p = write_file("nonl.svm", s, len);
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_PARSE);
	cr_assert_eq(e.line, 1, "line %ld", e.line);
	cr_assert_not_null(strstr(e.msg, "line longer than 16 MiB"), "message '%s'", e.msg);
	free(s);
}

#ifdef FERAL_HAVE_ZLIB
static const char *write_gz(const char *name, const char *s, size_t len)
{
	const char *p = tmp_path(name);
	gzFile gz = gzopen(p, "wb");
	cr_assert_not_null(gz);
	cr_assert_eq(gzwrite(gz, s, (unsigned)len), (int)len);
	cr_assert_eq(gzclose(gz), Z_OK);
	return p;
}

Test(io_libsvm, test_gz_roundtrip_matches_plain)
{
	struct feral_dataset *a = random_csr(30, 20, 3), *b, *c;
	const char *p = tmp_path("rt.svm.gz"), *q = tmp_path("rt.svm");
	cr_assert_eq(feral_dataset_save(a, p, NULL), FERAL_OK);
	cr_assert_eq(feral_dataset_save(a, q, NULL), FERAL_OK);
	FILE *f = fopen(p, "rb");
	cr_assert(fgetc(f) == 0x1f && fgetc(f) == 0x8b, "saved .gz is gzip");
	fclose(f);
	b = load_ok(p, 0);
	c = load_ok(q, 0);
	assert_same(b, c);
	feral_dataset_destroy(&a);
	feral_dataset_destroy(&b);
	feral_dataset_destroy(&c);

	/* A multi-run gzip stream with an error deep inside. */
	long n = 400000, bad = 398765;
	size_t len;
	char *s = many_lines(n, bad, &len);
	p = write_gz("many.svm.gz", s, len);
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &b, &e), FERAL_STATUS_PARSE, "%s", e.msg);
	cr_assert_eq(e.line, bad, "line %ld, expected %ld", e.line, bad);
	free(s);
}

Test(io_libsvm, test_truncated_gz_is_corrupt)
{
	size_t len;
	char *s = many_lines(20000, 0, &len);
	const char *p = write_gz("trunc.svm.gz", s, len);
	free(s);
	FILE *f = fopen(p, "rb");
	char *buf = malloc(len);
	size_t n = fread(buf, 1, len, f);
	fclose(f);
	p = write_file("trunc2.svm.gz", buf, n / 2);
	free(buf);
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	enum feral_status st = feral_dataset_load(p, NULL, &ds, &e);
	cr_assert_eq(st, FERAL_STATUS_CORRUPT, "status %d (%s), expected CORRUPT", st, e.msg);
	cr_assert_str_eq(e.file, p);
	cr_assert_null(ds);
}

Test(io_libsvm, test_gz_line_longer_than_16_mib_is_rejected)
{
	size_t len = ((size_t)17 << 20);
	char *s = malloc(len);
	memset(s, '1', len);
	const char *p = write_gz("long.svm.gz", s, len);
	free(s);
	struct feral_error e = {0};
	struct feral_dataset *ds = NULL;
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_PARSE);
	cr_assert_eq(e.line, 1, "line %ld", e.line);
	cr_assert_not_null(strstr(e.msg, "line longer than 16 MiB"), "message '%s'", e.msg);
}

/* The reader's buffer starts at the size of a small file (16 times a small
 * .gz file): a compressed line far longer than that grows it, and a plain
 * file ending without a newline still reads whole. */
Test(io_libsvm, test_small_files_with_long_lines_read_whole)
{
	const size_t nf = 3000, nc = 300000; /* ~330 KB, ~10 KB compressed */
	char *s = malloc(nf * 16 + nc + 64), *q = s;
	q += sprintf(q, "1");
	for (size_t j = 1; j <= nf; j++)
		q += sprintf(q, " %zu:1", j);
	q += sprintf(q, " #");
	memset(q, 'x', nc);
	q += nc;
	q += sprintf(q, "\n-1 7:2");
	size_t len = (size_t)(q - s);
	const char *names[2] = {"wide.svm.gz", "wide.svm"};
	for (int k = 0; k < 2; k++) {
		const char *p = k ? write_file(names[k], s, len) : write_gz(names[k], s, len);
		struct feral_dataset *ds = load_ok(p, 0);
		cr_assert_eq(ds->n, 2, "%s: n %llu", names[k], (unsigned long long)ds->n);
		cr_assert_eq(ds->d, nf, "%s: d %llu", names[k], (unsigned long long)ds->d);
		cr_assert_eq(ds->nnz, nf + 1, "%s: nnz %llu", names[k], (unsigned long long)ds->nnz);
		cr_assert_eq(ds->y[1], -1);
		feral_dataset_destroy(&ds);
	}
	free(s);
}
#endif

Test(io_libsvm, test_row_range_keeps_rows_and_whole_file_width)
{
	const char *p = write_text("range.svm", "1 1:1\n# c\n2 2:2\n3 3:3\n\n4 9:4\n5 4:5\n");
	struct feral_load_options o;
	struct feral_dataset *ds;
	struct feral_error e = {0};
	feral_load_options_init(&o);
	o.row_begin = 1;
	o.row_end = 3;
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(ds->n, 2, "rows %llu", (unsigned long long)ds->n);
	cr_assert_eq(ds->y[0], 2.0);
	cr_assert_eq(ds->y[1], 3.0);
	cr_assert_eq(ds->d, 9, "d %llu: the widest row of the file, not of the slice",
	             (unsigned long long)ds->d);
	cr_assert_eq(elem(ds, 1, 2), 3.0);
	feral_dataset_destroy(&ds);
	o.row_begin = 3;
	o.row_end = 100; /* clamped to the file */
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(ds->n, 2, "rows %llu", (unsigned long long)ds->n);
	cr_assert_eq(ds->y[1], 5.0);
	feral_dataset_destroy(&ds);
	o.row_begin = 5;
	o.row_end = 0;
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_STATUS_RANGE);
	cr_assert_not_null(strstr(e.msg, "select nothing"), "%s", e.msg);
	o.row_begin = 2;
	o.row_end = 2;
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_STATUS_USAGE);
}

Test(io_libsvm, test_min_d_widens_the_dataset)
{
	const char *p = write_text("mind.svm", "1 1:1\n-1 2:2\n");
	struct feral_load_options o;
	struct feral_dataset *ds;
	feral_load_options_init(&o);
	o.min_d = 10;
	cr_assert_eq(feral_dataset_load(p, &o, &ds, NULL), FERAL_OK);
	cr_assert_eq(ds->d, 10, "d %llu", (unsigned long long)ds->d);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_CSR);
	feral_dataset_destroy(&ds);
}

Test(io_libsvm, test_number_parser_is_correctly_rounded)
{
	/* Random decimals of 1..20 digits and exponents in both notations:
	 * values must equal strtof, labels strtod, bit for bit. */
	struct feral_rng r;
	feral_rng_seed(&r, 42, 0);
	enum { N = 20000 };
	static char tok[N][40];
	char *s = malloc(N * 96);
	size_t k = 0;
	for (int i = 0; i < N; i++) {
		int digits = 1 + (int)(feral_rng_next(&r) % 20);
		int point = (int)(feral_rng_next(&r) % (unsigned)(digits + 1));
		char *t = tok[i];
		int m = 0;
		if (feral_rng_next(&r) & 1)
			t[m++] = '-';
		for (int j = 0; j < digits; j++) {
			if (j == point && j)
				t[m++] = '.';
			t[m++] = (char)('0' + feral_rng_next(&r) % 10);
		}
		if (i % 3 == 0)
			m += sprintf(t + m, "e%d", (int)(feral_rng_next(&r) % 61) - 45);
		t[m] = '\0';
		k += (size_t)sprintf(s + k, "%s 1:%s\n", t, t);
	}
	const char *p = write_file("numbers.svm", s, k);
	struct feral_dataset *ds = load_ok(p, 0);
	for (int i = 0; i < N; i++) {
		float want = strtof(tok[i], NULL);
		double wy = strtod(tok[i], NULL);
		float got = ds->indptr[i + 1] > ds->indptr[i] ? ((float *)ds->values)[ds->indptr[i]] : 0.0f;
		cr_assert(memcmp(&got, &want, sizeof got) == 0 || (got == 0 && want == 0),
		          "value '%s': %a, strtof %a", tok[i], got, want);
		cr_assert_eq(ds->y[i], wy, "label '%s': %a, strtod %a", tok[i], ds->y[i], wy);
	}
	feral_dataset_destroy(&ds);
	free(s);
}

Test(io_libsvm, test_byte_ranges_partition_the_rows)
{
	/* R readers each taking bytes [k size/R, (k+1) size/R) see every row
	 * exactly once, in order, whatever R (cuts fall inside lines) */
	struct feral_dataset *all = random_csr(97, 40, 3);
	const char *p = tmp_path("ranges.svm");
	cr_assert_eq(feral_dataset_save(all, p, NULL), FERAL_OK);
	struct stat sb;
	cr_assert_eq(stat(p, &sb), 0);
	uint64_t size = (uint64_t)sb.st_size;
	for (uint64_t R = 1; R <= 7; R += 2) {
		uint64_t row = 0;
		for (uint64_t k = 0; k < R; k++) {
			struct feral_load_options o;
			feral_load_options_init(&o);
			o.byte_begin = k * size / R;
			o.byte_end = (k + 1) * size / R;
			o.min_d = all->d;
			o.dense = 0;
			struct feral_dataset *s = NULL;
			struct feral_error e = {0};
			enum feral_status st = feral_dataset_load(p, &o, &s, &e);
			cr_assert_eq(st, FERAL_OK, "R %llu part %llu: %s", (unsigned long long)R,
			             (unsigned long long)k, e.msg);
			for (uint64_t i = 0; i < s->n; i++, row++) {
				cr_assert_eq(s->y[i], all->y[row], "R %llu: row %llu out of order",
				             (unsigned long long)R, (unsigned long long)row);
				for (uint64_t j = 0; j < all->d; j++)
					cr_assert_eq(elem(s, i, j), elem(all, row, j));
			}
			feral_dataset_destroy(&s);
		}
		cr_assert_eq(row, all->n, "R %llu: %llu rows read, file has %llu", (unsigned long long)R,
		             (unsigned long long)row, (unsigned long long)all->n);
	}
	feral_dataset_destroy(&all);
}
