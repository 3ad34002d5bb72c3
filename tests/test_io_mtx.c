/* Matrix Market loader and writer: coordinate and array forms, symmetric
 * and pattern data, vectors, and a table of malformed inputs. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <unistd.h>
#include "loader.h"

static void setup(void)
{
	tmpdir_make("mtx");
}

TestSuite(io_mtx, .timeout = 30, .init = setup, .fini = tmpdir_remove);

#define HDR "%%MatrixMarket matrix coordinate real general\n"

static void assert_matrix(const struct feral_dataset *ds, uint64_t n, uint64_t d, const double *want)
{
	cr_assert_eq(ds->n, n, "n %llu, expected %llu", (unsigned long long)ds->n, (unsigned long long)n);
	cr_assert_eq(ds->d, d, "d %llu, expected %llu", (unsigned long long)ds->d, (unsigned long long)d);
	for (uint64_t i = 0; i < n; i++) {
		double norm = 0;
		for (uint64_t j = 0; j < d; j++) {
			double w = (float)want[i * d + j];
			cr_assert_eq(elem(ds, i, j), w, "A[%llu][%llu] = %.9g, expected %.9g",
			             (unsigned long long)i, (unsigned long long)j, elem(ds, i, j), w);
			norm += w * w;
		}
		cr_assert_eq(ds->y[i], 0.0, "y is zero for Matrix Market data");
		cr_assert_eq(ds->row_sq_norm[i], norm, "norm of row %llu", (unsigned long long)i);
	}
}

Test(io_mtx, test_coordinate_general_loads_as_sorted_csr)
{
	const char *p = write_text("a.mtx",
	                           "%%MatrixMarket matrix coordinate real general\n"
	                           "% a comment\n"
	                           "%\n"
	                           "3 4 5\n"
	                           "2 4 4.5\n"
	                           "1 3 -1e-3\n"
	                           "1 1 2\n"
	                           "3 2 7\n"
	                           "2 1 0.1\n");
	double want[12] = {2, 0, -1e-3, 0, 0.1, 0, 0, 4.5, 0, 7, 0, 0};
	struct feral_dataset *ds = load_ok(p, 0);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_CSR);
	assert_matrix(ds, 3, 4, want);
	cr_assert_eq(ds->indices[0], 0);
	cr_assert_eq(ds->indices[1], 2, "row 0 sorted: second column %u", ds->indices[1]);
	feral_dataset_destroy(&ds);
	ds = load_ok(p, 1);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_DENSE);
	assert_matrix(ds, 3, 4, want);
	feral_dataset_destroy(&ds);
}

Test(io_mtx, test_symmetric_mirrors_and_pattern_is_one)
{
	const char *p = write_text("s.mtx",
	                           "%%matrixmarket MATRIX Coordinate Pattern SYMMETRIC\n"
	                           "3 3 3\n"
	                           "1 1\n"
	                           "3 1\n"
	                           "3 2\n");
	double want[9] = {1, 0, 1, 0, 0, 1, 1, 1, 0};
	struct feral_dataset *ds = load_ok(p, 0);
	assert_matrix(ds, 3, 3, want);
	cr_assert_eq(ds->nnz, 5, "nnz %llu: diagonal once, off-diagonal twice", (unsigned long long)ds->nnz);
	feral_dataset_destroy(&ds);
	p = write_text("i.mtx",
	               "%%MatrixMarket matrix coordinate integer symmetric\n"
	               "2 2 2\n"
	               "1 1 3\n"
	               "2 1 -4\n");
	double want2[4] = {3, -4, -4, 0};
	ds = load_ok(p, 0);
	assert_matrix(ds, 2, 2, want2);
	feral_dataset_destroy(&ds);
}

Test(io_mtx, test_duplicates_are_summed)
{
	/* General: three entries at (1, 2) in file order 1.5, 2, -0.25. */
	const char *p = write_text("dup.mtx", HDR "2 2 4\n1 2 1.5\n2 1 1\n1 2 2\n1 2 -0.25\n");
	double want[4] = {0, 3.25, 1, 0};
	for (int dense = 0; dense <= 1; dense++) {
		struct feral_dataset *ds = load_ok(p, dense);
		assert_matrix(ds, 2, 2, want);
		if (!dense)
			cr_assert_eq(ds->nnz, 2, "duplicates folded: nnz %llu", (unsigned long long)ds->nnz);
		feral_dataset_destroy(&ds);
	}
	/* Symmetric: every entry mirrored, then summed, so (2,1) twice and
	 * (1,2) once give 1.5 + 2 + 0.25 on both sides. */
	p = write_text("dups.mtx", "%%MatrixMarket matrix coordinate real symmetric\n"
	                           "3 3 5\n2 1 1.5\n2 1 2.0\n1 2 0.25\n3 3 1\n3 3 4\n");
	double want2[9] = {0, 3.75, 0, 3.75, 0, 0, 0, 0, 5};
	struct feral_dataset *ds = load_ok(p, 0);
	assert_matrix(ds, 3, 3, want2);
	cr_assert_eq(ds->nnz, 3, "nnz %llu", (unsigned long long)ds->nnz);
	feral_dataset_destroy(&ds);
	/* Pattern entries are ones, so a repeated one is 2; more entries than
	 * cells is fine when they repeat. */
	p = write_text("dupp.mtx", "%%MatrixMarket matrix coordinate pattern general\n"
	                           "1 2 3\n1 1\n1 1\n1 2\n");
	double want3[2] = {2, 1};
	ds = load_ok(p, -1);
	assert_matrix(ds, 1, 2, want3);
	feral_dataset_destroy(&ds);
	/* Duplicates that cancel leave a stored zero, as scipy's sum does. */
	p = write_text("dupz.mtx", HDR "1 2 2\n1 2 0.5\n1 2 -0.5\n");
	ds = load_ok(p, 0);
	double want4[2] = {0, 0};
	assert_matrix(ds, 1, 2, want4);
	cr_assert_eq(ds->nnz, 1, "the cancelled entry is kept (nnz %llu)", (unsigned long long)ds->nnz);
	feral_dataset_destroy(&ds);
}

/* scipy.io.mmread (scripts/deps.sh installs python3-scipy) as the
 * reference: the dense matrix, duplicates summed. */
#define PYTHON "/usr/bin/python3"
static const char scipy_dense[] =
	"import sys, numpy, scipy.io\n"
	"a = scipy.io.mmread(sys.argv[1])\n"
	"a = a.toarray() if hasattr(a, 'toarray') else numpy.asarray(a)\n"
	"numpy.savetxt(sys.argv[2], numpy.atleast_2d(a), fmt='%.17g')\n";

/* abssum (m x n): the sum of |entry| at each cell (mirrors included), which
 * bounds the rounding; NULL when every entry is exact in float32. */
static void compare_with_scipy(const char *path, uint64_t m, uint64_t n, const double *abssum)
{
	const char *script = tmp_path("dense.py"), *ref = tmp_path("ref.txt");
	write_text("dense.py", scipy_dense);
	cr_assert_eq(access(PYTHON, X_OK), 0, "%s is missing: run scripts/deps.sh", PYTHON);
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s %s %s %s", PYTHON, script, path, ref);
	cr_assert_eq(system(cmd), 0, "'%s' failed: is python3-scipy installed (scripts/deps.sh)?", cmd);
	FILE *f = fopen(ref, "r");
	cr_assert_not_null(f, "no output from scipy");
	for (int dense = 0; dense <= 1; dense++) {
		struct feral_dataset *ds = load_ok(path, dense);
		cr_assert_eq(ds->n, m);
		cr_assert_eq(ds->d, n);
		rewind(f);
		double *want = malloc(m * n * sizeof *want);
		for (uint64_t k = 0; k < m * n; k++)
			cr_assert_eq(fscanf(f, "%lf", &want[k]), 1, "scipy output short at %llu",
			             (unsigned long long)k);
		for (uint64_t i = 0; i < m; i++)
			for (uint64_t j = 0; j < n; j++) {
				/* scipy sums the entries in double; feral rounds each to
				 * float32, sums in double and rounds once: at most
				 * 2^-24 of each |entry| plus 2^-24 of the result apart. */
				double got = elem(ds, i, j), w = want[i * n + j];
				double tol = abssum ? 1.01 * 0x1p-23 * abssum[i * n + j] : 0;
				cr_assert(fabs(got - w) <= tol,
				          "%s (dense %d): A(%llu, %llu) = %.9g, scipy %.17g", path, dense,
				          (unsigned long long)i + 1, (unsigned long long)j + 1, got, w);
			}
		free(want);
		feral_dataset_destroy(&ds);
	}
	fclose(f);
}

/* Random coordinate files, many entries repeated (80 entries on 6 x 5
 * cells), values of mixed sign and magnitude, fixed seeds. */
static const char *random_dup_file(const char *name, const char *symmetry, uint64_t seed,
                                   double *abssum)
{
	struct feral_rng r;
	feral_rng_seed(&r, seed, 0);
	bool sym = strcmp(symmetry, "symmetric") == 0;
	uint64_t m = sym ? 5 : 6, n = 5, count = 80;
	char *text = malloc(16384);
	int len = snprintf(text, 16384, "%%%%MatrixMarket matrix coordinate real %s\n%llu %llu %llu\n",
	                   symmetry, (unsigned long long)m, (unsigned long long)n,
	                   (unsigned long long)count);
	for (uint64_t k = 0; k < count; k++) {
		uint64_t i = 1 + feral_rng_next(&r) % m, j = 1 + feral_rng_next(&r) % n;
		double v = (feral_rng_uniform(&r) - 0.5) * pow(10, (double)(feral_rng_next(&r) % 7) - 3);
		len += snprintf(text + len, (size_t)(16384 - len), "%llu %llu %.7g\n",
		                (unsigned long long)i, (unsigned long long)j, v);
		abssum[(i - 1) * n + j - 1] += fabs(v);
		if (sym && i != j)
			abssum[(j - 1) * n + i - 1] += fabs(v);
	}
	const char *p = write_text(name, text);
	free(text);
	return p;
}

Test(io_mtx, test_duplicates_match_scipy_mmread)
{
	double abssum[30] = {0};
	compare_with_scipy(random_dup_file("rg.mtx", "general", 1, abssum), 6, 5, abssum);
	memset(abssum, 0, sizeof abssum);
	compare_with_scipy(random_dup_file("rs.mtx", "symmetric", 2, abssum), 5, 5, abssum);
	compare_with_scipy(write_text("dups.mtx", "%%MatrixMarket matrix coordinate real symmetric\n"
	                                          "3 3 5\n2 1 1.5\n2 1 2.0\n1 2 0.25\n3 3 1\n3 3 4\n"),
	                   3, 3, NULL);
	compare_with_scipy(write_text("dupp.mtx", "%%MatrixMarket matrix coordinate pattern general\n"
	                                          "2 2 4\n1 1\n1 1\n2 1\n1 1\n"),
	                   2, 2, NULL);
	compare_with_scipy(write_text("arr.mtx", "%%MatrixMarket matrix array real general\n"
	                                         "2 3\n1\n4\n2\n5\n3\n0.5\n"),
	                   2, 3, NULL);
}

Test(io_mtx, test_array_is_column_major_and_dense)
{
	const char *p = write_text("arr.mtx",
	                           "%%MatrixMarket matrix array real general\n"
	                           "% 2 x 3, column by column\n"
	                           "2 3\n"
	                           "1\n4\n2\n5\n3\n0\n");
	double want[6] = {1, 2, 3, 4, 5, 0};
	struct feral_dataset *ds = load_ok(p, -1);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_DENSE);
	assert_matrix(ds, 2, 3, want);
	feral_dataset_destroy(&ds);
	ds = load_ok(p, 0);
	cr_assert_eq(ds->layout, FERAL_LAYOUT_CSR, "dense 0 forces CSR");
	cr_assert_eq(ds->nnz, 5, "zeros dropped: nnz %llu", (unsigned long long)ds->nnz);
	assert_matrix(ds, 2, 3, want);
	feral_dataset_destroy(&ds);
	p = write_text("sarr.mtx",
	               "%%MatrixMarket matrix array real symmetric\n"
	               "3 3\n"
	               "1\n2\n3\n4\n5\n6\n");
	double want2[9] = {1, 2, 3, 2, 4, 5, 3, 5, 6};
	ds = load_ok(p, 1);
	assert_matrix(ds, 3, 3, want2);
	feral_dataset_destroy(&ds);
}

static void roundtrip(const char *name, struct feral_dataset *a)
{
	struct feral_error e = {0};
	const char *p = tmp_path(name);
	cr_assert_eq(feral_dataset_save(a, p, &e), FERAL_OK, "saving %s: %s", name, e.msg);
	struct feral_dataset *b = load_ok(p, a->layout == FERAL_LAYOUT_DENSE);
	cr_assert_eq(b->layout, a->layout, "%s: layout %d, expected %d", name, b->layout, a->layout);
	cr_assert_eq(b->n, a->n);
	cr_assert_eq(b->d, a->d);
	cr_assert_eq(b->nnz, a->nnz, "%s: nnz %llu, expected %llu", name, (unsigned long long)b->nnz,
	             (unsigned long long)a->nnz);
	for (uint64_t i = 0; i < a->n; i++)
		for (uint64_t j = 0; j < a->d; j++)
			cr_assert_eq(elem(b, i, j), elem(a, i, j), "%s: A[%llu][%llu] %.9g vs %.9g", name,
			             (unsigned long long)i, (unsigned long long)j, elem(b, i, j), elem(a, i, j));
	feral_dataset_destroy(&b);
}

Test(io_mtx, test_roundtrip_coordinate_and_array)
{
	struct feral_dataset *a;
	struct feral_rng r;
	feral_rng_seed(&r, 5, 0);
	cr_assert_eq(feral_dataset_create(7, 5, 35, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &a, NULL), FERAL_OK);
	uint64_t k = 0;
	for (uint64_t i = 0; i < 7; i++) {
		for (uint32_t j = 0; j < 5; j++) {
			if (feral_rng_uniform(&r) < 0.4) {
				a->indices[k] = j;
				((float *)a->values)[k++] = (float)(feral_rng_normal(&r) * 1e-3);
			}
		}
		a->indptr[i + 1] = k;
	}
	a->nnz = k;
	roundtrip("c.mtx", a);
#ifdef FERAL_HAVE_ZLIB
	roundtrip("c.mtx.gz", a);
#endif
	feral_dataset_destroy(&a);
	cr_assert_eq(feral_dataset_create(4, 3, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &a, NULL), FERAL_OK);
	for (int q = 0; q < 12; q++)
		((float *)a->values)[q] = (float)(q * 0.37 - 2);
	roundtrip("d.mtx", a);
	feral_dataset_destroy(&a);
}

Test(io_mtx, test_malformed_inputs_report_status_file_line_and_reason)
{
	static const struct bad_case cases[] = {
		{"hello\n1 1 1\n", FERAL_STATUS_PARSE, 1, "not a Matrix Market file"},
		{"", FERAL_STATUS_PARSE, 1, "not a Matrix Market file"},
		{"%%MatrixMarketmatrix coordinate real general\n", FERAL_STATUS_PARSE, 1,
		 "not a Matrix Market file"},
		{"%%MatrixMarket matrix coordinate\n", FERAL_STATUS_PARSE, 1, "incomplete"},
		{"%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
		 FERAL_STATUS_UNSUPPORTED, 1, "complex"},
		{"%%MatrixMarket matrix coordinate real hermitian\n", FERAL_STATUS_UNSUPPORTED, 1,
		 "hermitian"},
		{"%%MatrixMarket matrix coordinate real skew-symmetric\n", FERAL_STATUS_UNSUPPORTED, 1,
		 "skew-symmetric"},
		{"%%MatrixMarket vector coordinate real general\n", FERAL_STATUS_UNSUPPORTED, 1,
		 "object 'vector'"},
		{"%%MatrixMarket matrix sparse real general\n", FERAL_STATUS_PARSE, 1, "bad format"},
		{"%%MatrixMarket matrix coordinate quaternion general\n", FERAL_STATUS_PARSE, 1, "bad field"},
		{"%%MatrixMarket matrix array pattern general\n", FERAL_STATUS_PARSE, 1, "pattern"},
		{HDR "% no size\n", FERAL_STATUS_PARSE, 2, "missing size line"},
		{HDR "2 2\n", FERAL_STATUS_PARSE, 2, "bad size line"},
		{HDR "2 2 1 4\n", FERAL_STATUS_PARSE, 2, "bad size line"},
		{HDR "2 x 1\n", FERAL_STATUS_PARSE, 2, "bad size line"},
		{HDR "0 2 0\n", FERAL_STATUS_RANGE, 2, "empty matrix"},
		{HDR "99999999999 99999999999 1\n", FERAL_STATUS_RANGE, 2, "overflows"},
		{HDR "%\n2 2 5\n", FERAL_STATUS_PARSE, 3, "expected 5 entries, found 0"},
		{HDR "4294967296 2 1\n", FERAL_STATUS_RANGE, 2, "limit"},
		{"%%MatrixMarket matrix coordinate real symmetric\n2 3 1\n", FERAL_STATUS_PARSE, 2, "square"},
		{HDR "2 2 3\n1 1 1\n2 2 1\n", FERAL_STATUS_PARSE, 4, "expected 3 entries, found 2"},
		{HDR "2 2 1\n1 1 1\n2 2 1\n", FERAL_STATUS_PARSE, 4, "more than the 1 entries"},
		{HDR "2 2 1\n3 1 1\n", FERAL_STATUS_RANGE, 3, "entry (3, 1) outside the 2 x 2 matrix"},
		{HDR "2 2 1\n1 0 1\n", FERAL_STATUS_RANGE, 3, "outside"},
		{HDR "2 2 1\n1 1 nan\n", FERAL_STATUS_RANGE, 3, "not finite"},
		{HDR "2 2 1\n1 1 1e40\n", FERAL_STATUS_RANGE, 3, "not finite"},
		{HDR "2 2 1\n1 x 1\n", FERAL_STATUS_PARSE, 3, "bad entry '1 x 1'"},
		{HDR "2 2 1\n1 1\n", FERAL_STATUS_PARSE, 3, "bad entry"},
		{HDR "2 2 1\n1 1 2 3\n", FERAL_STATUS_PARSE, 3, "bad entry"},
		{HDR "2 2 3\n1 2 3e38\n2 2 1\n1 2 3e38\n", FERAL_STATUS_RANGE, 5,
		 "duplicate entries at (1, 2) sum to 6e+38, beyond float32"},
		{"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n2 1 -2e38\n1 2 -2e38\n",
		 FERAL_STATUS_RANGE, 4, "beyond float32"},
		{"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", FERAL_STATUS_PARSE, 5,
		 "expected 4 entries, found 3"},
		{"%%MatrixMarket matrix array real general\n1 2\n1\ninf\n", FERAL_STATUS_RANGE, 4,
		 "not finite"},
		{"%%MatrixMarket matrix array real general\n606637581 1\n1.5\n", FERAL_STATUS_PARSE, 2,
		 "expected 606637581 entries, but the file is too small"},
		{HDR "100000 100000 1000000\n1 1 1\n", FERAL_STATUS_PARSE, 2, "too small"},
	};
	check_bad_cases(cases, sizeof cases / sizeof cases[0], "mtx");
}

Test(io_mtx, test_vector_roundtrip_is_exact)
{
	double v[6] = {0.1, -1.0 / 3, 1e-300, 6.02214076e23, -0.0, 42};
	const char *p = tmp_path("v.mtx");
	struct feral_error e = {0};
	cr_assert_eq(feral_vector_save(p, v, 6, &e), FERAL_OK, "%s", e.msg);
	double *w = NULL;
	uint64_t n = 0;
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 6, "length %llu", (unsigned long long)n);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(w[i], v[i], "v[%d] = %.17g, expected %.17g", i, w[i], v[i]);
	free(w);
}

Test(io_mtx, test_vector_forms_row_column_and_coordinate)
{
	const char *p = write_text("row.mtx", "%%MatrixMarket matrix array real general\n1 3\n1\n2\n3\n");
	double *w;
	uint64_t n;
	struct feral_error e = {0};
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 3);
	cr_assert(w[0] == 1 && w[1] == 2 && w[2] == 3, "1 x n: %g %g %g", w[0], w[1], w[2]);
	free(w);
	p = write_text("coo.mtx", "%%MatrixMarket matrix coordinate real general\n4 1 2\n4 1 -2.5\n2 1 1\n");
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 4);
	cr_assert(w[0] == 0 && w[1] == 1 && w[2] == 0 && w[3] == -2.5, "coordinate: %g %g %g %g",
	          w[0], w[1], w[2], w[3]);
	free(w);
	/* Duplicates are summed, as in matrices. */
	p = write_text("dupv.mtx",
	               "%%MatrixMarket matrix coordinate real general\n4 1 3\n2 1 0.5\n3 1 1\n2 1 0.25\n");
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 4);
	cr_assert(w[0] == 0 && w[1] == 0.75 && w[2] == 1 && w[3] == 0, "summed: %g %g %g %g", w[0],
	          w[1], w[2], w[3]);
	free(w);
	p = write_text("dupvinf.mtx",
	               "%%MatrixMarket matrix coordinate real general\n2 1 2\n1 1 1e308\n1 1 1e308\n");
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_STATUS_RANGE);
	cr_assert_eq(e.line, 4, "line %ld", e.line);
	cr_assert_not_null(strstr(e.msg, "sum beyond double range"), "%s", e.msg);
	p = write_text("mat.mtx", "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n");
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_STATUS_PARSE);
	cr_assert_not_null(strstr(e.msg, "n x 1 or 1 x n"), "%s", e.msg);
	/* A coordinate vector's length comes from its size line alone: a few
	 * bytes promising more than memory are refused before the allocation
	 * (found by fuzz_mtx: "1 400000000 0" allocated 3.2 GB).  4e9 doubles
	 * are 32 GB: refused unless the machine has that much memory. */
	const char *huge[] = {"1 4000000000 0\n", "4000000000 1 1\n7 1 2\n"};
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	double phys = (double)pages * (double)psize;
	for (size_t k = 0; k < sizeof huge / sizeof *huge; k++) {
		char text[200];
		snprintf(text, sizeof text, "%%%%MatrixMarket matrix coordinate real general\n%s", huge[k]);
		p = write_text("hugev.mtx", text);
		w = NULL;
		enum feral_status st = feral_vector_load(p, &w, &n, &e);
		if (pages > 0 && psize > 0 && phys < 32e9) {
			cr_assert_eq(st, FERAL_STATUS_RANGE, "%s: status %d (%s)", huge[k], st, e.msg);
			cr_assert_not_null(strstr(e.msg, "memory"), "%s", e.msg);
			cr_assert_null(w);
		}
		free(w);
	}
}

Test(io_mtx, test_targets_from_mtx_vector)
{
	const char *p = write_text("A.mtx", HDR "3 2 2\n1 1 1\n3 2 2\n");
	const char *q = write_text("b.mtx", "%%MatrixMarket matrix array real general\n3 1\n1\n-2\n0.5\n");
	struct feral_dataset *ds = load_ok(p, 0);
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load_targets(ds, q, &e), FERAL_OK, "%s", e.msg);
	cr_assert(ds->y[0] == 1 && ds->y[1] == -2 && ds->y[2] == 0.5, "y %g %g %g", ds->y[0], ds->y[1],
	          ds->y[2]);
	feral_dataset_destroy(&ds);
}
