/* Helpers shared by the loader suites (test_io_libsvm.c, test_io_mtx.c):
 * a load that must succeed, element (i, j) whatever the layout, and a table
 * of malformed inputs each checked for its status, file, line and reason.
 * Header-only, static; needs tmpdir.h's directory (the suite's .init). */
#ifndef FERAL_TESTS_LOADER_H
#define FERAL_TESTS_LOADER_H
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"
#include "tmpdir.h"

/* Load path with the given dense option (-1, 0, 1); fails the test otherwise. */
static inline struct feral_dataset *load_ok(const char *path, int dense)
{
	struct feral_load_options o;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	char buf[1200];
	feral_load_options_init(&o);
	o.dense = dense;
	enum feral_status st = feral_dataset_load(path, &o, &ds, &e);
	cr_assert_eq(st, FERAL_OK, "loading %s (dense %d): %s", path, dense,
	             feral_error_format(&e, buf, sizeof buf));
	return ds;
}

/* Element (i, j) whatever the layout. */
static inline double elem(const struct feral_dataset *ds, uint64_t i, uint64_t j)
{
	if (ds->layout == FERAL_LAYOUT_DENSE)
		return feral_dataset_value(ds, i, i * ds->d + j);
	for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
		if (ds->indices[k] == j)
			return feral_dataset_value(ds, i, k);
	return 0;
}

/* One malformed input: its content, and the status, line (0: none) and a
 * substring of the message the load must report. */
struct bad_case {
	const char *content;
	enum feral_status status;
	long line;
	const char *reason;
};

/* Write each case to "bad<k>.<ext>" and load it with the default options:
 * it must fail with its status, line and reason, name the file, and leave
 * no dataset. */
static inline void check_bad_cases(const struct bad_case *cases, size_t count, const char *ext)
{
	for (size_t c = 0; c < count; c++) {
		const struct bad_case *k = &cases[c];
		char name[64];
		snprintf(name, sizeof name, "bad%zu.%s", c, ext);
		const char *p = write_text(name, k->content);
		struct feral_dataset *ds = NULL;
		struct feral_error e = {0};
		enum feral_status st = feral_dataset_load(p, NULL, &ds, &e);
		cr_assert_eq(st, k->status, "case %zu '%s': status %d (%s), expected %d", c, k->content,
		             st, e.msg, k->status);
		cr_assert_null(ds, "case %zu: no dataset on failure", c);
		cr_assert_eq(e.line, k->line, "case %zu '%s': line %ld, expected %ld (%s)", c, k->content,
		             e.line, k->line, e.msg);
		cr_assert_str_eq(e.file, p, "case %zu: file '%s', expected '%s'", c, e.file, p);
		cr_assert_not_null(strstr(e.msg, k->reason), "case %zu '%s': message '%s' lacks '%s'", c,
		                   k->content, e.msg, k->reason);
	}
}
#endif
