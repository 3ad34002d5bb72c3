/* CLI test of build/bench: a tiny problem end to end (JSON fields, CSV
 * append, oversubscription flag), bad options (exit 2, "bench: reason"),
 * the default problem size under a synthetic 1 GiB L3, and the cached
 * bandwidth probe.  Every run passes explicit small sizes and one thread,
 * and skips the probe unless the test is about it (then it is time-bounded):
 * no test's run time depends on the host's cache, memory or cores. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>

#ifndef FERAL_BUILD_DIR
#define FERAL_BUILD_DIR "build"
#endif
#define BENCH FERAL_BUILD_DIR "/bench"
#include "tmpdir.h"

#define TINY "--n 2000 --d 32 --updates 20000 --no-probe"

/* Sanitizers slow the bench 2-15x: their builds get real headroom. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_TEST_TIMEOUT 240
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BENCH_TEST_TIMEOUT 240
#endif
#endif
#ifndef BENCH_TEST_TIMEOUT
#define BENCH_TEST_TIMEOUT 60
#endif

TestSuite(bench_cli, .timeout = BENCH_TEST_TIMEOUT);

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
	snprintf(args, sizeof args, TINY " --threads 1 --out '%s'", path);
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

/* --method LIST is a sweep dimension: one record per method, side by
 * side, each saying its method; a method the point's precision cannot run
 * is an unsupported record, not a failure. */
Test(bench_cli, test_method_sweep_records_each_method, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192];
	int rc = run(TINY " --json --threads 1 --precision 32,8 --method sgd,svrg,kaczmarz", &out, err,
	             sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	static const char *const want[6] = {"sgd", "svrg", "kaczmarz", "sgd", "svrg", "kaczmarz"};
	const char *p = strstr(out, "\"records\":[");
	cr_assert_not_null(p, "%.500s", out);
	for (int k = 0; k < 6; k++) {
		p = strstr(p, "\"method\":\"");
		cr_assert_not_null(p, "record %d has no method: %.3000s", k, out);
		p += strlen("\"method\":\"");
		cr_expect_eq(strncmp(p, want[k], strlen(want[k])), 0, "record %d: %.20s, expected %s", k,
		             p, want[k]);
		cr_expect_eq(p[strlen(want[k])], '"', "record %d: %.20s", k, p);
		const char *st = strstr(p, "\"status\":\"");
		cr_assert_not_null(st);
		st += strlen("\"status\":\"");
		/* 8-bit SVRG is the one the library refuses */
		if (k == 4)
			cr_expect_eq(strncmp(st, "unsupported", 11), 0, "8-bit svrg: %.100s", st);
		else
			cr_expect_eq(strncmp(st, "ok", 2), 0, "record %d (%s): %.100s", k, want[k], st);
	}
	cr_expect_null(strstr(p, "\"method\":\""), "more than 6 records");
	/* the table has the column */
	cr_expect_not_null(strstr(err, "method"), "%s", err);
	free(out);
	/* the default is plain SGD */
	rc = run(TINY " --json --threads 1", &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_not_null(strstr(out, "\"method\":\"sgd\""), "%.2000s", out);
	free(out);
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
		{"--method sgd,lbfgs", "--method lbfgs: expected one of sgd kaczmarz svrg halp newton"},
		{"--method sgd,kaczmarz --problem logistic", "--method kaczmarz"},
		{"--method svrg --problem svm", "--method svrg"},
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

/* The number after "key": in s (NaN when absent or null). */
static double num_after(const char *s, const char *key)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = s ? strstr(s, pat) : NULL;
	if (!p)
		return NAN;
	p += strlen(pat);
	return strncmp(p, "null", 4) ? strtod(p, NULL) : NAN;
}

/* hwloc made to report a 1 GiB L3 on two cores (a synthetic topology): the
 * default problem stays within the sizing rule's cap instead of following
 * the L3 (4 GiB of 8-bit data), and the default threads are the cores. */
Test(bench_cli, test_default_size_capped_when_hwloc_reports_1gib_l3, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out, err[8192];
	setenv("HWLOC_SYNTHETIC", "pack:1 l3:1(size=1GiB) core:2 pu:1", 1);
	int rc = run("--dry-run --json", &out, err, sizeof err);
	unsetenv("HWLOC_SYNTHETIC");
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	double llc = num_after(out, "llc_bytes"), n = num_after(out, "n"), d = num_after(out, "d"),
	       cap = num_after(out, "cap_bytes"), want = num_after(out, "want_bytes");
	cr_assert_eq(llc, (double)(1ull << 30), "hwloc's L3 not used: %s", out);
	cr_expect_eq(d, 256, "%s", out);
	cr_expect_eq(want, 4.0 * llc, "%s", out);
	double mem = num_after(out, "mem_available_bytes");
	/* time cap: 128 MiB a core (2 here), at least 256 MiB; memory: 1/8 */
	cr_expect_eq(cap, fmin(256.0 * 1048576, floor(mem / 8)), "cap %g: %s", cap, out);
	cr_expect(n >= 1024 && n * d * 4 <= cap, "n*d*4 = %g over the cap %g: %s", n * d * 4, cap,
	          out);
	/* the largest power of two under the cap (or 1024 rows) */
	cr_expect(n == 1024 || 2 * n * d * 4 > cap, "n = %g is not the largest under the cap", n);
	cr_expect(strstr(out, "\"limit\":\"time\"") || strstr(out, "\"limit\":\"memory\""),
	          "not capped: %s", out);
	cr_expect_eq(num_after(out, "threads"), 2, "default threads are not the 2 cores: %s", out);
	free(out);
}

/* More cores, a larger time cap, never above 1 GiB: 16 cores -> 1 GiB. */
Test(bench_cli, test_default_size_cap_grows_with_cores_up_to_1gib, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out, err[8192];
	setenv("HWLOC_SYNTHETIC", "pack:1 l3:1(size=1GiB) core:16 pu:1", 1);
	int rc = run("--dry-run --json", &out, err, sizeof err);
	unsetenv("HWLOC_SYNTHETIC");
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	double n = num_after(out, "n"), d = num_after(out, "d"), cap = num_after(out, "cap_bytes");
	double mem = num_after(out, "mem_available_bytes");
	cr_expect_eq(num_after(out, "cores"), 16, "%s", out);
	cr_expect_eq(cap, fmin(1024.0 * 1048576, floor(mem / 8)), "cap %g: %s", cap, out);
	cr_expect(n >= 1024 && n * d * 4 <= cap, "n*d*4 = %g over the cap %g", n * d * 4, cap);
	free(out);
}

Test(bench_cli, test_explicit_n_and_d_are_exact, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192];
	setenv("HWLOC_SYNTHETIC", "pack:1 l3:1(size=1GiB) core:2 pu:1", 1);
	int rc = run("--dry-run --json --n 3000000 --d 300", &out, err, sizeof err);
	unsetenv("HWLOC_SYNTHETIC");
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_eq(num_after(out, "n"), 3000000, "%s", out);
	cr_expect_eq(num_after(out, "d"), 300, "%s", out);
	cr_expect_not_null(strstr(out, "\"limit\":\"given\""), "%s", out);
	free(out);
}

/* The probe runs once (time-bounded), is cached in the cache directory, and
 * the second run reads it back; the record says which size it used, and a
 * roofline above 1.2 is never reported (it says the probe was in cache). */
Test(bench_cli, test_bandwidth_probe_is_cached_and_bounded, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out1, *out2, err[8192];
	const char *args = "--n 2000 --d 32 --updates 20000 --threads 1 --json";
	int rc = run(args, &out1, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_not_null(strstr(out1, "\"cached\":false,\"sizes\""), "first probe: %s", out1);
	double t = num_after(out1, "probe_seconds"), bw = num_after(out1, "read_bytes_per_s");
	double arr = num_after(out1, "array_bytes");
	/* 2 s budget; no size starts past it, but the last one may overrun it
	 * under load (or a sanitizer): headroom, not a guess of the host's speed */
	cr_expect(t >= 0 && t <= 6.0, "probe took %g s (budget 2 s)", t);
	cr_expect(bw > 0, "no bandwidth: %s", out1);
	cr_expect_eq(num_after(out1, "stream_array_bytes"), arr, "record: %s", out1);
	rc = run(args, &out2, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_not_null(strstr(out2, "\"cached\":true,\"sizes\""), "second probe: %s", out2);
	double bw2 = num_after(out2, "read_bytes_per_s");
	cr_expect(fabs(bw2 - bw) <= 1e-5 * bw, "cached bandwidth %g differs from %g", bw2, bw);
	cr_expect_eq(num_after(out2, "array_bytes"), arr, "cached size differs");
	double roof = num_after(out2, "roofline_fraction");
	if (strstr(out2, "\"probe_in_cache\":true"))
		cr_expect(isnan(roof), "in cache, yet roofline %g", roof);
	else
		cr_expect(roof > 0 && roof <= 1.2, "roofline %g: %s", roof, out2);
	free(out1);
	free(out2);
}

/* Rewrite the read bandwidth of the cached probe file(s) in the cache. */
static void set_cached_bandwidth(const char *value)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "sed -i 's/^read_bytes_per_s=.*/read_bytes_per_s=%s/' '%s'/cache/probe-*-t1.txt",
	         value, tmpdir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A probe slower than the solver's own traffic (it ran in a cache, or the
 * data did): no roofline above 1.2 is reported, the record says so; a fast
 * one gives a plain fraction.  The bandwidths come from the probe cache. */
Test(bench_cli, test_roofline_above_1_2_says_probe_in_cache, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out, err[8192];
	const char *args = "--n 2000 --d 32 --updates 20000 --threads 1 --json";
	int rc = run(args, &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	free(out);
	set_cached_bandwidth("1e3"); /* 1 kB/s: any run beats it */
	rc = run(args, &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_eq(num_after(out, "read_bytes_per_s"), 1e3, "cache not read: %.500s", out);
	cr_expect_not_null(strstr(out, "\"roofline_fraction\":null"), "%.3000s", out);
	cr_expect_not_null(strstr(out, "\"probe_in_cache\":true"), "%.3000s", out);
	free(out);
	set_cached_bandwidth("1e15"); /* 1 PB/s: a tiny fraction */
	rc = run(args, &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	double roof = num_after(out, "roofline_fraction");
	cr_expect(roof > 0 && roof < 1e-3, "roofline %g: %.3000s", roof, out);
	cr_expect_not_null(strstr(out, "\"probe_in_cache\":false"), "%.3000s", out);
	free(out);
}

/* --peers on a tiny logistic problem: liblinear and scikit-learn run through
 * scripts/peer-*; a peer whose tool is not installed is "unsupported: ...",
 * never dropped; an installed liblinear gives a training accuracy. */
Test(bench_cli, test_classification_peers_through_scripts, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out, err[8192];
	int rc = run("--problem logistic --n 2000 --d 16 --updates 20000 --threads 1 --no-probe "
	             "--json --peers",
	             &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	const char *ll = strstr(out, "\"peer\":\"liblinear\"");
	const char *sk = strstr(out, "\"peer\":\"sklearn-sgd\"");
	cr_assert_not_null(ll, "no liblinear record: %s", out);
	cr_assert_not_null(sk, "no sklearn record: %s", out);
	for (const char *p = ll; p; p = p == ll ? sk : NULL) {
		const char *st = strstr(p, "\"status\":\"");
		cr_assert_not_null(st);
		st += 10;
		cr_expect(!strncmp(st, "ok\"", 3) || !strncmp(st, "unsupported", 11), "status %.200s",
		          st);
	}
	if (system("command -v liblinear-train >/dev/null 2>&1") == 0) {
		cr_expect_eq(strncmp(strstr(ll, "\"status\":\"") + 10, "ok\"", 3), 0, "%.600s", ll);
		double acc = num_after(ll, "accuracy");
		cr_expect(acc > 0.5 && acc <= 1, "liblinear accuracy %g", acc);
		cr_expect_not_null(strstr(ll, "peer-liblinear.sh"), "not through the script: %.600s", ll);
	}
	free(out);
}

/* FERAL_BENCH_PROBE=0 skips the probe; no progress line goes to a file. */
Test(bench_cli, test_probe_env_off_and_no_progress_in_pipes, .init = setup_dir,
     .fini = tmpdir_remove)
{
	char *out, err[8192];
	setenv("FERAL_BENCH_PROBE", "0", 1);
	int rc = run("--n 2000 --d 32 --updates 20000 --threads 1 --precision 8 --json", &out, err,
	             sizeof err);
	unsetenv("FERAL_BENCH_PROBE");
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_expect_not_null(strstr(out, "\"stream\":[]"), "probe ran: %.500s", out);
	cr_expect_not_null(strstr(out, "\"stream_bytes_per_s\":null"), "%.2000s", out);
	/* bench studies the constant-step horizon: sgd on 8 bits too (solve
	 * and train default to halp there) */
	cr_expect_not_null(strstr(out, "\"method\":\"sgd\""), "%.2000s", out);
	cr_expect_null(strchr(err, '\r'), "progress line in a file: %s", err);
	cr_expect_not_null(strstr(err, "generating"), "%s", err);
	free(out);
}

/* --delay LIST is a dimension of the sweep: one record per delay, each with
 * the staleness measured (one worker: exactly the delay). */
Test(bench_cli, test_delay_sweep_records_the_staleness, .init = setup_dir, .fini = tmpdir_remove)
{
	char *out, err[8192];
	int rc = run(TINY " --json --threads 1 --step 0.1 --delay 0,8", &out, err, sizeof err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	const char *r8 = strstr(out, "\"delay\":8");
	cr_assert_not_null(strstr(out, "\"delay\":0"), "%.2000s", out);
	cr_assert_not_null(r8, "%.2000s", out);
	cr_assert_eq(num_after(out, "staleness_mean"), 0.0, "%.2000s", out); /* the first record */
	cr_assert_eq(num_after(r8, "staleness_mean"), 8.0, "%.2000s", r8);
	cr_assert_eq(num_after(r8, "staleness_max"), 8.0);
	cr_assert_eq(num_after(r8, "conflict_rate"), 0.0);
	cr_assert_not_null(strstr(r8, "\"staleness_hist\":[0,0,0,0,0,"), "%.2000s", r8);
	free(out);
	static const char *const bad[] = {"--delay 1,-2", "--delay 70000", "--delay x"};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		rc = run(bad[k], NULL, err, sizeof err);
		cr_expect_eq(rc, 2, "bench %s: exit %d, expected 2", bad[k], rc);
		cr_expect_not_null(strstr(err, "bench: --delay"), "bench %s: %s", bad[k], err);
	}
}
