/* CLI test of build/bench: a tiny problem end to end (JSON fields, CSV
 * append, oversubscription flag) and bad options (exit 2, "bench: reason"). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FERAL_BUILD_DIR
#define FERAL_BUILD_DIR "build"
#endif
#define BENCH FERAL_BUILD_DIR "/bench"
#include "tmpdir.h"

#define TINY "--n 2000 --d 32 --updates 20000"

TestSuite(bench_cli, .timeout = 60);

static void setup_dir(void)
{
	tmpdir_make("bench");
}

/* Run "BENCH args" with stdout into out (malloc'd) and stderr into err;
 * returns the exit code. */
static int run(const char *args, char **out, char *err, size_t errlen)
{
	char cmd[2048], errpath[128];
	snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
	snprintf(cmd, sizeof cmd, "%s --cache-dir '%s/cache' %s 2>'%s'", BENCH, tmpdir, args, errpath);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen(%s)", cmd);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += r;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	int st = pclose(p);
	FILE *e = fopen(errpath, "r");
	size_t el = e ? fread(err, 1, errlen - 1, e) : 0;
	err[el] = 0;
	if (e)
		fclose(e);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(bench_cli, test_tiny_problem_json_has_every_field, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192];
	int rc = run(TINY " --json --threads 1 --precision 32,8", &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	static const char *const keys[] = {
		"\"records\":[", "\"machine\":", "\"stream\":[", "\"git_rev\":", "\"kernel\":",
		"\"threads\":", "\"bind\":", "\"replicas\":", "\"data_bits\":", "\"model_bits\":",
		"\"precision\":\"D32M32G32\"", "\"precision\":\"D8M8G32\"", "\"sampling\":",
		"\"lambda\":", "\"step\":", "\"n\":2000", "\"d\":32", "\"nnz\":", "\"updates\":",
		"\"seconds\":", "\"updates_per_s\":", "\"bytes_per_s\":", "\"stream_bytes_per_s\":",
		"\"roofline_fraction\":", "\"horizon\":", "\"plateau_reached\":", "\"time_to_target\":",
		"\"oversubscribed\":", "\"peak_rss_bytes\":", "\"host\":", "\"cpu\":", "\"nproc\":",
		"\"xstar\":\"exact\"", "\"status\":\"ok\""};
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
		cr_expect_not_null(strstr(out, keys[k]), "missing %s in: %.2000s", keys[k], out);
	/* one JSON object: starts with { and ends with }\n */
	cr_assert_eq(out[0], '{', "stdout does not start with '{': %.200s", out);
	size_t len = strlen(out);
	cr_assert(len > 2 && out[len - 2] == '}', "stdout does not end with '}'");
	/* the table went to stderr */
	cr_expect_not_null(strstr(err, "updates/s"), "no table on stderr: %s", err);
	free(out);
}

Test(bench_cli, test_table_and_csv_append, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192], args[512], path[128];
	snprintf(path, sizeof path, "%s/r.csv", tmpdir);
	snprintf(args, sizeof args, TINY " --out '%s'", path);
	for (int k = 0; k < 2; k++) {
		int rc = run(args, &out, err, sizeof err);
		cr_assert_eq(rc, 0, "run %d: exit %d, stderr: %s", k, rc, err);
		cr_expect_not_null(strstr(out, "updates/s"), "no table on stdout: %s", out);
		free(out);
	}
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s not written", path);
	char line[8192];
	int lines = 0, headers = 0;
	while (fgets(line, sizeof line, f)) {
		lines++;
		headers += strncmp(line, "git_rev,", 8) == 0;
	}
	fclose(f);
	cr_expect_eq(lines, 3, "%d lines in the CSV, expected header + 2 rows", lines);
	cr_expect_eq(headers, 1, "%d headers, expected 1", headers);
	/* a foreign header is refused */
	f = fopen(path, "w");
	fputs("a,b,c\n1,2,3\n", f);
	fclose(f);
	int rc = run(args, NULL, err, sizeof err);
	cr_expect_eq(rc, 2, "foreign header: exit %d, expected 2", rc);
	cr_expect_not_null(strstr(err, "header"), "stderr: %s", err);
}

Test(bench_cli, test_oversubscription_is_reported, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192], args[256];
	long pus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(args, sizeof args, TINY " --json --threads %ld", 2 * pus);
	int rc = run(args, &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_not_null(strstr(out, "\"oversubscribed\":true"), "not flagged: %.1000s", out);
	cr_expect_not_null(strstr(err, "OVERSUBSCRIBED"), "no note on stderr: %s", err);
	free(out);
}

struct bad {
	const char *args;
	const char *msg; /* expected in stderr */
};

Test(bench_cli, test_bad_options_exit_2_with_a_message, .init = setup_dir, .fini = tmpdir_remove)
{
	static const struct bad cases[] = {
		{"--threads 0", "--threads"},
		{"--threads 1,x", "--threads"},
		{"--precision 12", "--precision"},
		{"--replicas everywhere", "--replicas"},
		{"--seconds 1 --updates 10", "one budget"},
		{"--problem /nonexistent/file.svm", "--problem"},
		{"--density 2", "--density"},
		{"--repeat 0", "--repeat"},
		{"--target -1", "--target"},
		{"--sampling sometimes", "--sampling"},
		{"--frobnicate", "frobnicate"},
		{"--recenter --precision 32", "--recenter"},
		{"stray", "unexpected argument"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		char err[8192];
		int rc = run(cases[k].args, NULL, err, sizeof err);
		cr_expect_eq(rc, 2, "bench %s: exit %d, expected 2", cases[k].args, rc);
		cr_expect_not_null(strstr(err, cases[k].msg), "bench %s: stderr lacks '%s': %s",
		                   cases[k].args, cases[k].msg, err);
		cr_expect_eq(strncmp(err, "bench: ", 7), 0, "bench %s: stderr not 'bench: ...': %s",
		             cases[k].args, err);
	}
}
