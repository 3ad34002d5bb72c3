/* Public I/O dispatch: format detection, options, text vectors, targets,
 * save by extension. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "tmpdir.h"
#include "io_impl.h"

static void setup(void)
{
	tmpdir_make("io");
}

TestSuite(io, .timeout = 30, .init = setup, .fini = tmpdir_remove);

Test(io, test_format_from_path_table)
{
	static const struct {
		const char *path;
		enum feral_format fmt;
	} cases[] = {
		{"a.svm", FERAL_FORMAT_LIBSVM},
		{"dir/a.libsvm", FERAL_FORMAT_LIBSVM},
		{"a.SVMLIGHT", FERAL_FORMAT_LIBSVM},
		{"a.txt", FERAL_FORMAT_LIBSVM},
		{"news20.t", FERAL_FORMAT_LIBSVM},
		{"a.svm.gz", FERAL_FORMAT_LIBSVM},
		{"a.txt.GZ", FERAL_FORMAT_LIBSVM},
		{"a.t.gz", FERAL_FORMAT_LIBSVM},
		{"m.mtx", FERAL_FORMAT_MTX},
		{"/x/y/m.mtx.gz", FERAL_FORMAT_MTX},
		{"a.npy", FERAL_FORMAT_NPY},
		{"a.npy.gz", FERAL_FORMAT_AUTO},
		{"train-images-idx3-ubyte", FERAL_FORMAT_IDX},
		{"train-labels-idx1-ubyte.gz", FERAL_FORMAT_IDX},
		{"t10k-images.idx3-ubyte", FERAL_FORMAT_IDX},
		{"x.idx", FERAL_FORMAT_IDX},
		{"x.idx1.gz", FERAL_FORMAT_IDX},
		{"x.idx3", FERAL_FORMAT_IDX},
		{"c.feral", FERAL_FORMAT_FERAL},
		{"c.feral.gz", FERAL_FORMAT_AUTO},
		{"data.csv", FERAL_FORMAT_AUTO},
		{"noext", FERAL_FORMAT_AUTO},
		{".svm", FERAL_FORMAT_AUTO},
		{"a.gz", FERAL_FORMAT_AUTO},
		{"idx3-ubyte.d/a.bin", FERAL_FORMAT_AUTO},
		{"idx3-ubyte.d/a.svm", FERAL_FORMAT_LIBSVM},
		{"", FERAL_FORMAT_AUTO},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum feral_format f = feral_format_from_path(cases[i].path);
		cr_assert_eq(f, cases[i].fmt, "'%s': format %d, expected %d", cases[i].path, f,
		             cases[i].fmt);
	}
	cr_assert_eq(feral_format_from_path(NULL), FERAL_FORMAT_AUTO);
}

Test(io, test_load_options_defaults)
{
	struct feral_load_options o;
	memset(&o, 0x5a, sizeof o);
	feral_load_options_init(&o);
	cr_assert_eq(o.format, FERAL_FORMAT_AUTO);
	cr_assert_eq(o.dense, -1);
	cr_assert_eq(o.min_d, 0);
	cr_assert_eq(o.row_begin, 0);
	cr_assert_eq(o.row_end, 0);
	cr_assert_eq(o.map_cache, 0, "caches are read into huge pages by default");
}

Test(io, test_memory_available_is_known_and_below_physical)
{
	/* the cache loader maps files larger than 90 % of this instead of
	 * reading them */
	uint64_t avail = feral_mem_available();
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	cr_assert_gt(avail, 0, "MemAvailable unknown on Linux");
	cr_assert_leq(avail, phys, "available %llu > physical %llu", (unsigned long long)avail,
	              (unsigned long long)phys);
}

Test(io, test_bad_map_cache_is_a_usage_error)
{
	const char *p = write_text("m.svm", "1 1:1\n");
	struct feral_load_options o;
	feral_load_options_init(&o);
	o.map_cache = 2;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_STATUS_USAGE);
	cr_assert_not_null(strstr(e.msg, "map_cache"), "%s", e.msg);
	cr_assert_null(ds);
}

Test(io, test_unknown_extension_is_a_usage_error)
{
	const char *p = write_text("data.csv", "1 1:1\n");
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_USAGE);
	cr_assert_not_null(strstr(e.msg, "cannot tell the format of"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "data.csv"), "%s", e.msg);
	cr_assert_null(ds);
	/* A forced format reads it. */
	struct feral_load_options o;
	feral_load_options_init(&o);
	o.format = FERAL_FORMAT_LIBSVM;
	cr_assert_eq(feral_dataset_load(p, &o, &ds, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(ds->n, 1);
	cr_assert_eq(feral_dataset_save(ds, tmp_path("x.csv"), &e), FERAL_STATUS_USAGE);
	cr_assert_not_null(strstr(e.msg, "cannot tell the format of"), "%s", e.msg);
	feral_dataset_destroy(&ds);
}

Test(io, test_missing_file_is_an_io_error_naming_it)
{
	const char *p = tmp_path("absent.svm");
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_STATUS_IO);
	cr_assert_str_eq(e.file, p);
	cr_assert_neq(e.sys_errno, 0, "errno kept");
	double *v;
	uint64_t n;
	cr_assert_eq(feral_vector_load(tmp_path("absent.txt"), &v, &n, &e), FERAL_STATUS_IO);
}

Test(io, test_text_vector_roundtrip_is_exact)
{
	double v[7] = {0.1, -1.0 / 3, 1e-300, 6.02214076e23, -0.0, 42, 0x1.fffffffffffffp+1023};
	const char *p = tmp_path("v.txt");
	struct feral_error e = {0};
	cr_assert_eq(feral_vector_save(p, v, 7, &e), FERAL_OK, "%s", e.msg);
	double *w = NULL;
	uint64_t n = 0;
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 7, "length %llu", (unsigned long long)n);
	for (int i = 0; i < 7; i++)
		cr_assert(memcmp(&w[i], &v[i], sizeof w[i]) == 0, "v[%d] = %.17g, expected %.17g", i,
		          w[i], v[i]);
	free(w);
}

Test(io, test_text_vector_skips_blank_lines_and_comments)
{
	const char *p = write_text("b.vec", "# targets\n1\n\n  -2.5  \r\n3e2 # three hundred\n");
	double *w;
	uint64_t n;
	struct feral_error e = {0};
	cr_assert_eq(feral_vector_load(p, &w, &n, &e), FERAL_OK, "%s", e.msg);
	cr_assert_eq(n, 3);
	cr_assert(w[0] == 1 && w[1] == -2.5 && w[2] == 300, "%g %g %g", w[0], w[1], w[2]);
	free(w);
}

Test(io, test_text_vector_errors_name_file_and_line)
{
	static const struct {
		const char *content;
		enum feral_status status;
		long line;
		const char *reason;
	} cases[] = {
		{"1\n2\nabc\n", FERAL_STATUS_PARSE, 3, "bad token 'abc'"},
		{"1\n2 3\n", FERAL_STATUS_PARSE, 2, "bad token"},
		{"1\nnan\n", FERAL_STATUS_RANGE, 2, "not finite"},
		{"\n\n-inf\n", FERAL_STATUS_RANGE, 3, "not finite"},
		{"1e400\n", FERAL_STATUS_RANGE, 1, "not finite"},
		{"", FERAL_STATUS_PARSE, 0, "no values"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char name[32];
		snprintf(name, sizeof name, "bad%zu.txt", c);
		const char *p = write_text(name, cases[c].content);
		double *w = (double *)1;
		uint64_t n = 1;
		struct feral_error e = {0};
		enum feral_status st = feral_vector_load(p, &w, &n, &e);
		cr_assert_eq(st, cases[c].status, "case %zu: status %d (%s)", c, st, e.msg);
		cr_assert_null(w, "case %zu: no vector on failure", c);
		cr_assert_eq(e.line, cases[c].line, "case %zu: line %ld, expected %ld", c, e.line,
		             cases[c].line);
		cr_assert_str_eq(e.file, p);
		cr_assert_not_null(strstr(e.msg, cases[c].reason), "case %zu: '%s' lacks '%s'", c, e.msg,
		                   cases[c].reason);
	}
}

Test(io, test_targets_replace_y_and_check_length)
{
	const char *p = write_text("A.svm", "0 1:1\n0 2:2\n0 1:3\n");
	struct feral_dataset *ds;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &ds, &e), FERAL_OK, "%s", e.msg);
	const char *q = write_text("b.txt", "1\n2\n");
	cr_assert_eq(feral_dataset_load_targets(ds, q, &e), FERAL_STATUS_RANGE);
	cr_assert_not_null(strstr(e.msg, "2 targets"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "3 rows"), "%s", e.msg);
	cr_assert_str_eq(e.file, q);
	cr_assert_eq(ds->y[0], 0.0, "y unchanged on failure");
	q = write_text("b3.txt", "1\n2\n-3\n");
	cr_assert_eq(feral_dataset_load_targets(ds, q, &e), FERAL_OK, "%s", e.msg);
	cr_assert(ds->y[0] == 1 && ds->y[1] == 2 && ds->y[2] == -3);
	feral_dataset_destroy(&ds);
}

Test(io, test_save_dispatches_by_extension)
{
	const char *p = write_text("A.svm", "1 1:1 3:2\n-1 2:0.5\n");
	struct feral_dataset *a, *b;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_load(p, NULL, &a, &e), FERAL_OK, "%s", e.msg);
	const char *names[] = {"o.svm", "o.libsvm", "o.svmlight", "o.txt", "o.t", "o.mtx"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *q = tmp_path(names[i]);
		cr_assert_eq(feral_dataset_save(a, q, &e), FERAL_OK, "%s: %s", names[i], e.msg);
		cr_assert_eq(feral_dataset_load(q, NULL, &b, &e), FERAL_OK, "%s: %s", names[i], e.msg);
		cr_assert_eq(b->nnz, a->nnz, "%s: nnz", names[i]);
		cr_assert_eq(b->d, a->d, "%s: d", names[i]);
		for (uint64_t k = 0; k < a->nnz; k++)
			cr_assert_eq(((float *)b->values)[k], ((float *)a->values)[k], "%s: value %llu",
			             names[i], (unsigned long long)k);
		bool mtx = feral_has_suffix(names[i], ".mtx");
		cr_assert_eq(b->y[1], mtx ? 0.0 : -1.0, "%s: labels only in LIBSVM", names[i]);
		feral_dataset_destroy(&b);
		/* The temporary of the atomic write is gone. */
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%s.tmp.%ld", q, (long)getpid());
		cr_assert_neq(access(tmp, F_OK), 0, "%s left behind", tmp);
	}
	cr_assert_eq(feral_dataset_save(a, tmp_path("o.idx"), &e), FERAL_STATUS_UNSUPPORTED);
	feral_dataset_destroy(&a);
}

/* A save to a path that is not a regular file (a FIFO here; /dev/null in
 * `-o /dev/null`) writes into it: a temporary renamed over it would replace
 * the pipe or device with a plain file. */
Test(io, test_save_to_a_fifo_writes_into_it_and_keeps_it_a_fifo)
{
	const char *p = tmp_path("pipe.txt");
	cr_assert_eq(mkfifo(p, 0600), 0, "mkfifo %s", p);
	/* A reader must hold the FIFO open for the writer's open not to block;
	 * the 3 short lines fit the pipe's buffer. */
	int fd = open(p, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(fd, 0, "open %s", p);
	double v[3] = {1.5, -2, 0.25};
	struct feral_error e = {0};
	cr_assert_eq(feral_vector_save(p, v, 3, &e), FERAL_OK, "%s", e.msg);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "%s is no longer a FIFO (mode %o)", p, (unsigned)st.st_mode);
	char buf[256] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	cr_assert_str_eq(n > 0 ? buf : "", "1.5\n-2\n0.25\n", "read back '%s'", buf);
	/* A directory is refused before anything is written. */
	cr_assert_eq(feral_vector_save(tmpdir, v, 3, &e), FERAL_STATUS_IO);
	cr_assert_not_null(strstr(e.msg, "directory"), "%s", e.msg);
}
