/* A minimal stand-in for Criterion, used only by the ThreadSanitizer build
 * (make test SANITIZER=thread): Criterion's sandbox (BoxFort) maps its
 * shared arena at random addresses in a range TSan reserves for itself, so a
 * TSan-instrumented Criterion binary aborts at start-up ("Could not
 * initialize inheritable arena", Snaipe/Criterion#274).  This header
 * implements the subset the tests use -- Test, TestSuite, .init/.fini/
 * .timeout/.disabled (per test, else per suite), cr_assert*, cr_expect*,
 * cr_skip_test, cr_log_* -- with the same
 * semantics: every test runs in its own forked process (a crash, a timeout
 * or a sanitizer abort fails that test only), --jobs=N runs N at a time, and
 * the closing line has Criterion's "Synthesis" format that
 * scripts/run-tests.sh reads.  A failing or crashing test's output is shown
 * in full, so a TSan report reaches the log (MC_SHOW_OUTPUT=1: every
 * test's output). */
#ifndef FERAL_MINI_CRITERION_H
#define FERAL_MINI_CRITERION_H
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct criterion_test_extra_data {
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	int disabled;
	const char *description;
};

struct mc_test {
	const char *suite, *name;
	void (*fn)(void);
	struct criterion_test_extra_data opt;
	struct mc_test *next;
};
struct mc_suite {
	const char *name;
	struct criterion_test_extra_data opt;
	struct mc_suite *next;
};

static struct mc_test *mc_tests, **mc_tail = &mc_tests;
static struct mc_suite *mc_suites;
static int mc_expect_failed;

static void mc_register(struct mc_test *t)
{
	*mc_tail = t;
	mc_tail = &t->next;
}

#define MC_NAME(a, b, c) mc_##a##_##b##_##c

#define TestSuite(suite, ...)                                                              \
	static struct mc_suite MC_NAME(suite, suite, data) = {#suite, {__VA_ARGS__}, NULL}; \
	__attribute__((constructor)) static void MC_NAME(suite, suite, reg)(void)          \
	{                                                                                  \
		MC_NAME(suite, suite, data).next = mc_suites;                              \
		mc_suites = &MC_NAME(suite, suite, data);                                  \
	}

#define Test(suite, name, ...)                                                            \
	static void MC_NAME(suite, name, impl)(void);                                      \
	static struct mc_test MC_NAME(suite, name, data) = {                               \
		#suite, #name, MC_NAME(suite, name, impl), {__VA_ARGS__}, NULL};           \
	__attribute__((constructor)) static void MC_NAME(suite, name, reg)(void)           \
	{                                                                                  \
		mc_register(&MC_NAME(suite, name, data));                                  \
	}                                                                                  \
	static void MC_NAME(suite, name, impl)(void)

static void mc_report(int fatal, const char *file, int line, const char *expr,
                      const char *fmt, ...)
{
	char msg[4096] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "[----] %s:%d: Assertion Failed\n[----]   %s\n", file, line,
	        msg[0] ? msg : expr);
	fflush(stderr);
	if (fatal)
		_exit(1);
	mc_expect_failed = 1;
}

/* cr_assert(cond) or cr_assert(cond, "format", args...) */
#define MC_CHECK(fatal, cond, expr, ...)                                              \
	do {                                                                           \
		if (!(cond))                                                           \
			mc_report(fatal, __FILE__, __LINE__, expr, "" __VA_ARGS__);     \
	} while (0)

/* Every check has an assert form (the test stops) and an expect form (the
 * test goes on, then fails).  A Criterion macro missing here fails the TSan
 * build at link time ("undefined reference to cr_..."): add it here. */
#define cr_assert(c, ...) MC_CHECK(1, (c), #c, __VA_ARGS__)
#define cr_expect(c, ...) MC_CHECK(0, (c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) MC_CHECK(1, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_expect_not(c, ...) MC_CHECK(0, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_fail(...) MC_CHECK(1, 0, "cr_assert_fail", __VA_ARGS__)
#define cr_expect_fail(...) MC_CHECK(0, 0, "cr_expect_fail", __VA_ARGS__)
#define MC_CMP(f, a, op, b, ...) MC_CHECK(f, (a) op (b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) MC_CMP(1, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) MC_CMP(1, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) MC_CMP(1, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) MC_CMP(1, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) MC_CMP(1, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) MC_CMP(1, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) MC_CMP(0, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) MC_CMP(0, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) MC_CMP(0, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) MC_CMP(0, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) MC_CMP(0, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) MC_CMP(0, a, >=, b, __VA_ARGS__)
#define cr_assert_null(p, ...) MC_CHECK(1, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) MC_CHECK(1, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) MC_CHECK(0, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) MC_CHECK(0, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) MC_CHECK(1, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) MC_CHECK(1, strcmp((a), (b)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) MC_CHECK(0, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...) MC_CHECK(0, strcmp((a), (b)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_assert_str_empty(a, ...) MC_CHECK(1, (a)[0] == '\0', #a " is empty", __VA_ARGS__)
#define cr_assert_str_not_empty(a, ...) MC_CHECK(1, (a)[0] != '\0', #a " is not empty", __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) MC_CHECK(1, memcmp((a), (b), (n)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_assert_arr_neq(a, b, n, ...) MC_CHECK(1, memcmp((a), (b), (n)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_expect_arr_eq(a, b, n, ...) MC_CHECK(0, memcmp((a), (b), (n)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_arr_neq(a, b, n, ...) MC_CHECK(0, memcmp((a), (b), (n)) != 0, #a " != " #b, __VA_ARGS__)
#define MC_FEQ(a, b, eps) (fabs((double)(a) - (double)(b)) <= (double)(eps))
#define cr_assert_float_eq(a, b, eps, ...) MC_CHECK(1, MC_FEQ(a, b, eps), #a " ~= " #b, __VA_ARGS__)
#define cr_assert_float_neq(a, b, eps, ...) MC_CHECK(1, !MC_FEQ(a, b, eps), #a " !~= " #b, __VA_ARGS__)
#define cr_expect_float_eq(a, b, eps, ...) MC_CHECK(0, MC_FEQ(a, b, eps), #a " ~= " #b, __VA_ARGS__)
#define cr_expect_float_neq(a, b, eps, ...) MC_CHECK(0, !MC_FEQ(a, b, eps), #a " !~= " #b, __VA_ARGS__)
#define cr_log_info(...) (fprintf(stderr, "[----] " __VA_ARGS__), fputc('\n', stderr))
#define cr_log_warn(...) (fprintf(stderr, "[WARN] " __VA_ARGS__), fputc('\n', stderr))
#define cr_log_error(...) (fprintf(stderr, "[ERR ] " __VA_ARGS__), fputc('\n', stderr))
#define MC_SKIP 77
#define cr_skip_test(...)                                                   \
	do {                                                                \
		fprintf(stderr, "[SKIP] " __VA_ARGS__);                    \
		fputc('\n', stderr);                                        \
		fflush(stderr);                                             \
		_exit(MC_SKIP);                                             \
	} while (0)

#define cr_skip(...) cr_skip_test(__VA_ARGS__)

struct mc_run {
	struct mc_test *t;
	pid_t pid;
	FILE *log;
};

/* The test's own properties, else its suite's (TestSuite(..., .init = f)). */
static struct criterion_test_extra_data mc_opts(const struct mc_test *t)
{
	struct criterion_test_extra_data o = t->opt;
	for (const struct mc_suite *su = mc_suites; su; su = su->next)
		if (!strcmp(su->name, t->suite)) {
			if (!o.init)
				o.init = su->opt.init;
			if (!o.fini)
				o.fini = su->opt.fini;
			if (!(o.timeout > 0))
				o.timeout = su->opt.timeout;
			o.disabled |= su->opt.disabled;
		}
	return o;
}

static double mc_timeout(const struct mc_test *t)
{
	double s = mc_opts(t).timeout;
	/* Sanitized code runs several times slower than the timeouts assume. */
	const char *k = getenv("MC_TIMEOUT_SCALE");
	double scale = k ? atof(k) : 10.0;
	return s > 0 ? s * (scale > 0 ? scale : 1.0) : 0;
}

static void mc_start(struct mc_run *r)
{
	fflush(NULL);
	r->log = tmpfile();
	if (!r->log) {
		perror("mini-criterion: tmpfile");
		exit(2);
	}
	r->pid = fork();
	if (r->pid < 0) {
		perror("mini-criterion: fork");
		exit(2);
	}
	if (r->pid == 0) {
		dup2(fileno(r->log), 1);
		dup2(fileno(r->log), 2);
		struct criterion_test_extra_data o = mc_opts(r->t);
		double s = mc_timeout(r->t);
		if (s > 0)
			alarm((unsigned)ceil(s));
		if (o.init)
			o.init();
		r->t->fn();
		if (o.fini)
			o.fini();
		fflush(NULL);
		_exit(mc_expect_failed);
	}
}

/* Returns 0 pass, 1 fail, 2 crash, 3 skipped. */
static int mc_finish(struct mc_run *r, int status)
{
	int res;
	char why[128] = "";
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		res = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == MC_SKIP) {
		res = 3;
	} else if (WIFEXITED(status)) {
		res = 1;
		snprintf(why, sizeof why, " (exit %d)", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		res = 2;
		snprintf(why, sizeof why, ": Timed out (%.1f s)", mc_timeout(r->t));
	} else {
		res = 2;
		snprintf(why, sizeof why, ": CRASH! (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	/* Show the output of failures, and of anything a sanitizer spoke in. */
	char buf[8192];
	size_t n;
	bool show = res == 1 || res == 2 || getenv("MC_SHOW_OUTPUT");
	rewind(r->log);
	if (!show)
		while ((n = fread(buf, 1, sizeof buf - 1, r->log)) > 0) {
			buf[n] = 0;
			if (strstr(buf, "Sanitizer") || strstr(buf, "runtime error"))
				show = true;
		}
	if (show) {
		rewind(r->log);
		while ((n = fread(buf, 1, sizeof buf, r->log)) > 0)
			fwrite(buf, 1, n, stderr);
	}
	fclose(r->log);
	if (res == 1 || res == 2)
		fprintf(stderr, "[FAIL] %s::%s%s\n", r->t->suite, r->t->name, why);
	else if (res == 3)
		fprintf(stderr, "[SKIP] %s::%s\n", r->t->suite, r->t->name);
	return res;
}

int main(int argc, char **argv)
{
	int jobs = 1;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--jobs=", 7) || !strncmp(argv[i], "-j", 2))
			jobs = atoi(argv[i] + (argv[i][1] == 'j' ? 2 : 7));
		else if (!strncmp(argv[i], "--filter=", 9))
			only = argv[i] + 9; /* suite::name substring */
	}
	if (jobs < 1)
		jobs = 1;
	struct mc_run *run = calloc((size_t)jobs, sizeof *run);
	int tested = 0, passed = 0, failed = 0, crashed = 0, active = 0;
	struct mc_test *next = mc_tests;
	for (;;) {
		while (active < jobs && next) {
			struct mc_test *t = next;
			next = next->next;
			char full[512];
			snprintf(full, sizeof full, "%s::%s", t->suite, t->name);
			if (mc_opts(t).disabled || (only && !strstr(full, only)))
				continue;
			for (int k = 0; k < jobs; k++)
				if (!run[k].t) {
					run[k].t = t;
					mc_start(&run[k]);
					active++;
					break;
				}
		}
		if (!active)
			break;
		int status;
		pid_t pid = wait(&status);
		if (pid < 0)
			break;
		for (int k = 0; k < jobs; k++)
			if (run[k].t && run[k].pid == pid) {
				int res = mc_finish(&run[k], status);
				if (res != 3) {
					tested++;
					passed += res == 0;
					failed += res != 0;
					crashed += res == 2;
				}
				run[k].t = NULL;
				active--;
			}
	}
	free(run);
	fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d \n",
	        tested, passed, failed, crashed);
	return failed ? 1 : 0;
}
#endif
