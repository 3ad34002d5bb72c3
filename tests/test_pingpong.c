/* CLI test of build/pingpong (bench/pingpong.c): a --quick run prints every
 * measure, positive and finite, with min <= median <= max, in JSON and in
 * CSV; both threads on one processing unit still finish and say so; bad
 * options exit 2 with "pingpong: reason".  No timing threshold: the figures
 * are only checked to be numbers a measurement can give. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef FERAL_BUILD_DIR
#define FERAL_BUILD_DIR "build"
#endif
#define PINGPONG FERAL_BUILD_DIR "/pingpong"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PP_TIMEOUT 300
#else
#define PP_TIMEOUT 60
#endif

TestSuite(pingpong, .timeout = PP_TIMEOUT);

static char out[1 << 15];

/* "PINGPONG args" with stdout in out (stderr too when merge); the exit code. */
static int run(int merge, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s%s", PINGPONG, args, merge ? " 2>&1" : " 2>/dev/null");
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen(%s)", cmd);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static double json_num(const char *key)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(out, pat);
	cr_assert_not_null(p, "no %s in: %s", key, out);
	char *end;
	double v = strtod(p + strlen(pat), &end);
	cr_assert_neq(end, p + strlen(pat), "%s is not a number in: %s", key, out);
	return v;
}

static const char *const measures[] = {
	"one_way_ns",      "local_rmw_ns",    "local_atomic_ns",  "false_sharing_ns",
	"private_lines_ns", "atomic_shared_ns", "sweep_shared_ns", "sweep_private_ns",
};

/* Every measured figure positive and finite, min <= median <= max (the runs
 * lift --max-seconds, so that a slow sanitized build still makes 3 repeats);
 * conflict_line_ns is a difference of two measures (noise can make it
 * negative where sharing costs little): finite only. */
static void check_json(void)
{
	for (size_t k = 0; k < sizeof measures / sizeof *measures; k++) {
		char mn[64], mx[64];
		snprintf(mn, sizeof mn, "%s_min", measures[k]);
		snprintf(mx, sizeof mx, "%s_max", measures[k]);
		double v = json_num(measures[k]), lo = json_num(mn), hi = json_num(mx);
		cr_expect(isfinite(v) && v > 0, "%s = %g", measures[k], v);
		cr_expect(lo <= v && v <= hi, "%s: %g not in [%g, %g]", measures[k], v, lo, hi);
	}
	cr_expect(isfinite(json_num("conflict_line_ns")), "conflict_line_ns: %s", out);
	cr_expect_eq(json_num("repeats"), 3, "--quick: 3 repeats: %s", out);
}

Test(pingpong, quick_json_is_sane)
{
	cr_assert_eq(run(0, "--quick --max-seconds 600 --format json"), 0, "exit: %s", out);
	check_json();
	cr_expect_eq(json_num("lines"), 16);
}

Test(pingpong, one_pu_finishes_and_says_so)
{
	cpu_set_t set;
	cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
	int c = 0;
	while (!CPU_ISSET(c, &set))
		c++;
	char args[128];
	snprintf(args, sizeof args, "--quick --max-seconds 600 --lines 4 --format json --cpus %d,%d", c, c);
	cr_assert_eq(run(0, args), 0, "exit: %s", out);
	check_json();
	cr_expect_not_null(strstr(out, "\"same_pu\":true"), "%s", out);
	cr_expect_eq(json_num("lines"), 4);
}

Test(pingpong, csv_rows)
{
	cr_assert_eq(run(0, "--quick --repeats 1 --format csv"), 0, "exit: %s", out);
	cr_expect_eq(strncmp(out, "timestamp,host,cpu_a,cpu_b,", 27), 0, "header: %s", out);
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 1 + 9, "header + 9 measures: %s", out);
	cr_expect_not_null(strstr(out, ",conflict_line_ns,"), "%s", out);
	cr_assert_eq(run(0, "--quick --repeats 1 --format csv --no-header"), 0);
	cr_expect_null(strstr(out, "timestamp"), "--no-header: %s", out);
}

Test(pingpong, help_and_bad_options)
{
	cr_assert_eq(run(0, "--help"), 0);
	cr_expect_not_null(strstr(out, "Usage: pingpong"), "%s", out);
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{"--repeats 0", "--repeats 0"},
		{"--lines x", "--lines x"},
		{"--format xml", "--format xml"},
		{"--cpus 1", "--cpus 1"},
		{"--cpus 0,100000", "--cpus"},
		{"--max-seconds -1", "--max-seconds -1"},
		{"--bogus", "unknown option"},
		{"stray", "unexpected argument"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		int rc = run(1, cases[k].args);
		cr_expect_eq(rc, 2, "%s: exit %d: %s", cases[k].args, rc, out);
		cr_expect_eq(strncmp(out, "pingpong: ", 10), 0, "%s: %s", cases[k].args, out);
		cr_expect_not_null(strstr(out, cases[k].msg), "%s: %s", cases[k].args, out);
	}
}
