/* Scaffolding of the command-line suites: shell commands run in the suite's
 * temporary directory (tmpdir.h) with their output captured in `out`, and
 * numbers read back from a one-line JSON object there. */
#ifndef FERAL_TESTS_SHELL_H
#define FERAL_TESTS_SHELL_H
#include "tmpdir.h"
#include <stdarg.h>
#include <sys/wait.h>

static char out[1 << 16];

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
