#include <criterion/criterion.h>
#include "cli/cli.h" /* feral_status_exit_code: the CLI's, not public API */
#include "internal.h"

TestSuite(status, .timeout = 10);

Test(status, test_every_status_has_a_distinct_message)
{
	for (int a = 0; a < FERAL_STATUS_COUNT; a++) {
		const char *ma = feral_strerror((enum feral_status)a);
		cr_assert_str_neq(ma, "unknown status", "status %d has no message", a);
		for (int b = a + 1; b < FERAL_STATUS_COUNT; b++)
			cr_assert_str_neq(ma, feral_strerror((enum feral_status)b),
			                  "statuses %d and %d share the message '%s'", a, b, ma);
	}
	cr_assert_str_eq(feral_strerror(FERAL_STATUS_COUNT), "unknown status");
}

Test(status, test_exit_codes_follow_design)
{
	cr_assert_eq(feral_status_exit_code(FERAL_OK), 0);
	cr_assert_eq(feral_status_exit_code(FERAL_STATUS_PARSE), 2);
	cr_assert_eq(feral_status_exit_code(FERAL_STATUS_USAGE), 2);
	cr_assert_eq(feral_status_exit_code(FERAL_STATUS_IO), 1);
	cr_assert_eq(feral_status_exit_code(FERAL_STATUS_DIVERGED), 1);
}

Test(status, test_error_format_names_file_and_line)
{
	struct feral_error e;
	char buf[256];
	enum feral_status st = feral_fail(&e, FERAL_STATUS_PARSE, "a.svm", 7, "bad token '%s'", "x:y");
	cr_assert_eq(st, FERAL_STATUS_PARSE);
	cr_assert_str_eq(feral_error_format(&e, buf, sizeof buf), "a.svm:7: bad token 'x:y'");
	feral_fail(&e, FERAL_STATUS_USAGE, NULL, 0, "threads = -1");
	cr_assert_str_eq(feral_error_format(&e, buf, sizeof buf), "threads = -1");
}

Test(status, test_precision_bits_roundtrip)
{
	int bits[] = {32, 64, 16, 8};
	for (int i = 0; i < 4; i++) {
		enum feral_precision p;
		cr_assert_eq(feral_precision_from_bits(bits[i], &p), FERAL_OK);
		cr_assert_eq(feral_precision_bits(p), bits[i], "bits %d", bits[i]);
	}
	enum feral_precision p;
	cr_assert_eq(feral_precision_from_bits(12, &p), FERAL_STATUS_USAGE);
}
