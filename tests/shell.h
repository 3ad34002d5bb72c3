/* Scaffolding of the command-line suites: shell commands run in the suite's
 * temporary directory (tmpdir.h) with their output captured in `out`, and
 * numbers read back from a one-line JSON object there. */
#ifndef FERAL_TESTS_SHELL_H
#define FERAL_TESTS_SHELL_H
#include "tmpdir.h"
#include <stdarg.h>
#include <sys/wait.h>

static char out[1 << 16];

/* How much slower a sanitized build runs (ASan 2-5x, TSan 5-15x, on loaded
 * CI machines).  It scales the bounds of the polls below and the suites'
 * Criterion timeouts; the TSan stand-in (tests/tsan) scales timeouts itself,
 * so SHELL_TIMEOUT leaves them alone there.  UBSan (no predefined macro)
 * costs less than 2x and runs with the plain timeouts. */
#if defined(__SANITIZE_THREAD__)
#define SHELL_SLOW 10
#define SHELL_TIMEOUT(s) (s)
#elif defined(__SANITIZE_ADDRESS__)
#define SHELL_SLOW 5
#define SHELL_TIMEOUT(s) ((s) * SHELL_SLOW)
#else
#define SHELL_SLOW 1
#define SHELL_TIMEOUT(s) (s)
#endif

/* A shell fragment that waits until FILE exists or the background job $pid
 * has ended, polling every 50 ms for at most 60 s (times SHELL_SLOW): an
 * event wait with a generous upper bound, not a guess at how long the job
 * takes to get there. */
#define SHELL_WAIT_FOR(file)                                                             \
	"i=0; while [ ! -e " file " ] && kill -0 $pid 2>/dev/null && [ $i -lt $(("      \
	SHELL_STR(1200 * SHELL_SLOW) ")) ]; do sleep 0.05; i=$((i+1)); done; "
#define SHELL_STR(x) SHELL_STR_(x)
#define SHELL_STR_(x) #x

/* `cd tmpdir && CMD`: out gets its stdout, and its stderr too when merge.
 * Returns the exit code (128 + the signal when killed). */
static int shell_run(int merge, const char *fmt, ...) __attribute__((unused, format(printf, 2, 3)));
static int shell_run(int merge, const char *fmt, ...)
{
	char args[3072], cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "cd '%s' && %s%s", tmpdir, args, merge ? " 2>&1" : " 2>/dev/null");
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen(%s)", cmd);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `feral ARGS` (the build's binary) in tmpdir, as shell_run. */
static int shell_feral(int merge, const char *fmt, ...) __attribute__((unused, format(printf, 2, 3)));
static int shell_feral(int merge, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return shell_run(merge, "%s/%s/feral %s", getenv("PWD"), FERAL_BUILD_DIR, args);
}

/* The number after "key": in out. */
static inline double json_num(const char *key)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(out, pat);
	cr_assert_not_null(p, "no %s in: %s", key, out);
	return strtod(p + strlen(pat), NULL);
}
#endif
