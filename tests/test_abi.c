/* ABI: the run-time version against the header's, the struct_size check of
 * the structs a caller fills (feral_config through feral_solve,
 * feral_load_options, feral_gen_options), and the shared library's soname
 * and exports (opened with dlopen, as a program linked against it would). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "feral.h"

#ifndef FERAL_BUILD_DIR
#define FERAL_BUILD_DIR "build"
#endif
#define STR_(x) #x
#define STR(x) STR_(x)

TestSuite(abi, .timeout = 30);

Test(abi, test_runtime_version_matches_the_header)
{
	cr_assert_str_eq(feral_version(), FERAL_VERSION);
	cr_assert_eq(feral_abi_version(), FERAL_ABI_VERSION);
	char want[64];
	snprintf(want, sizeof want, "%d.%d.%d", FERAL_VERSION_MAJOR, FERAL_VERSION_MINOR,
	         FERAL_VERSION_PATCH);
	cr_assert_str_eq(FERAL_VERSION, want, "FERAL_VERSION disagrees with its parts");
}

static void assert_size_rejected(enum feral_status st, const struct feral_error *e,
                                 const char *init)
{
	cr_assert_eq(st, FERAL_STATUS_USAGE, "status %d (%s)", st, e->msg);
	cr_assert_not_null(strstr(e->msg, "struct_size"), "message '%s'", e->msg);
	cr_assert_not_null(strstr(e->msg, init), "message '%s' lacks '%s'", e->msg, init);
}

Test(abi, test_config_of_another_size_is_rejected_by_validate_and_solve)
{
	struct feral_config c;
	feral_config_init(&c);
	cr_assert_eq(c.struct_size, sizeof c);
	struct feral_error e = {0};
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_OK, "%s", e.msg);

	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 50;
	o.d = 4;
	struct feral_dataset *ds = NULL;
	cr_assert_eq(feral_gen(&o, &ds, NULL, &e), FERAL_OK, "%s", e.msg);
	double x[4] = {0};
	struct feral_result res;
	c.epochs = 1;
	c.tol = 0;
	cr_assert_eq(feral_solve(ds, &c, NULL, x, &res, NULL, &e), FERAL_OK, "%s", e.msg);

	/* A program built against a header whose struct was 8 bytes larger or
	 * smaller, or one that filled the struct without init. */
	size_t sizes[] = {sizeof c + 8, sizeof c - 8, 0};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		c.struct_size = sizes[k];
		memset(&e, 0, sizeof e);
		assert_size_rejected(feral_config_validate(&c, &e), &e, "feral_config_init");
		memset(&e, 0, sizeof e);
		assert_size_rejected(feral_solve(ds, &c, NULL, x, &res, NULL, &e), &e,
		                     "feral_config_init");
	}
	feral_dataset_destroy(&ds);
}

Test(abi, test_load_and_gen_options_of_another_size_are_rejected)
{
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	cr_assert_eq(lo.struct_size, sizeof lo);
	lo.struct_size = sizeof lo + 8;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	/* Checked before the file is touched: it need not exist. */
	assert_size_rejected(feral_dataset_load("absent.svm", &lo, &ds, &e), &e,
	                     "feral_load_options_init");
	cr_assert_str_eq(e.file, "absent.svm", "the file is named");
	cr_assert_null(ds);

	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_SPARSE);
	cr_assert_eq(o.struct_size, sizeof o);
	o.n = 10;
	o.d = 10;
	o.struct_size = 0;
	memset(&e, 0, sizeof e);
	assert_size_rejected(feral_gen(&o, &ds, NULL, &e), &e, "feral_gen_options_init");
	cr_assert_null(ds);
}

/* The dynamic section's SONAME, by readelf (binutils, as the build uses). */
Test(abi, test_shared_library_has_the_abi_soname)
{
	char cmd[512], line[512], want[64];
	snprintf(cmd, sizeof cmd, "readelf -d %s/libferal.so 2>&1", FERAL_BUILD_DIR);
	snprintf(want, sizeof want, "[libferal.so.%d]", FERAL_ABI_VERSION);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen(%s)", cmd);
	int found = 0;
	while (fgets(line, sizeof line, p))
		if (strstr(line, "SONAME"))
			found = strstr(line, want) != NULL ? 1 : -1;
	int rc = pclose(p);
	cr_assert_eq(rc, 0, "'%s' failed", cmd);
	cr_assert_eq(found, 1, "%s/libferal.so: no SONAME %s", FERAL_BUILD_DIR, want);
}

Test(abi, test_shared_library_exports_the_version_and_not_the_cli_helpers)
{
	char path[512];
	snprintf(path, sizeof path, "%s/libferal.so.%d", FERAL_BUILD_DIR, FERAL_ABI_VERSION);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(h, "dlopen(%s): %s", path, dlerror());
	const char *(*version)(void) = (const char *(*)(void))dlsym(h, "feral_version");
	cr_assert_not_null(version, "feral_version not exported");
	cr_assert_str_eq(version(), FERAL_VERSION);
	cr_assert_null(dlsym(h, "feral_status_exit_code"), "exit codes are not library API");
	cr_assert_null(dlsym(h, "feral_ct_problem"), "the CT workload is not in the library");
	cr_assert_null(dlsym(h, "feral_text_open"), "internal symbols are hidden");
	dlclose(h);
}

Test(abi, test_struct_sizes_are_reported_for_bindings)
{
	cr_assert_eq(feral_struct_size("feral_config"), sizeof(struct feral_config));
	cr_assert_eq(feral_struct_size("feral_load_options"), sizeof(struct feral_load_options));
	cr_assert_eq(feral_struct_size("feral_gen_options"), sizeof(struct feral_gen_options));
	cr_assert_eq(feral_struct_size("feral_result"), sizeof(struct feral_result));
	cr_assert_eq(feral_struct_size("feral_error"), sizeof(struct feral_error));
	cr_assert_eq(feral_struct_size("feral_dataset"), sizeof(struct feral_dataset));
	cr_assert_eq(feral_struct_size("feral_trace"), sizeof(struct feral_trace));
	cr_assert_eq(feral_struct_size("feral_trace_point"), sizeof(struct feral_trace_point));
	cr_assert_eq(feral_struct_size("feral_plan"), 0, "internal structs are not reported");
	cr_assert_eq(feral_struct_size(NULL), 0);
}
