/* feral: the command-line front end; this file only dispatches.
 *   feral solve A [B] [-o X]        least squares / linear systems   (solve.c)
 *   feral train DATA [--test T] [-o MODEL]                           (train.c)
 *   feral predict MODEL DATA                                         (predict.c)
 *   feral info DATA                                                  (info.c)
 *   feral convert IN OUT                                             (convert.c)
 *   feral gen KIND -o OUT                                            (gen.c)
 * Exit codes (cli_exit_code): 0 ok, 2 bad usage or input, 1 other failures,
 * 130/143 signals. */
#include "cmd.h"

#include <string.h>

static const char *const USAGE =
	"usage: feral COMMAND [options]\n"
	"\n"
	"Commands:\n"
	"  solve A [B]      least squares: A from LIBSVM (targets inside), .mtx, .npy,\n"
	"                   .feral; B (targets) from .npy/.mtx/text\n"
	"  train DATA       linear classifier (logistic by default) on labelled data\n"
	"  predict MODEL DATA   predictions (one per line) and accuracy\n"
	"  info DATA        shape, nonzeros, norms, L_i spread, memory\n"
	"  convert IN OUT   any format to any format; OUT.feral is the mmap cache\n"
	"  gen KIND -o OUT  synthetic problem (nsw1..nsw5, gaussian, sparse, logistic)\n"
	"\n"
	"Run 'feral COMMAND --help' for the options of a command.\n"
	"Common: --json prints one JSON object on stdout; -h/--help; --version.\n"
	"solve and train run on every physical core unless --threads T is given;\n"
	"--threads 1 is bit-reproducible for a given --seed.\n";

int main(int argc, char **argv)
{
	cli_lean_hwloc();
	if (argc < 2) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		const char *k = "?";
		struct feral_error err;
		feral_kernels_select(&k, &err);
		printf("feral %s (%s, kernel %s)\n", FERAL_VERSION, FERAL_GIT_REV, k);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"solve", cmd_solve},     {"train", cmd_train}, {"predict", cmd_predict},
	            {"info", cmd_info},       {"convert", cmd_convert}, {"gen", cmd_gen}};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return cli_usage_error(prog, "unknown command '%s' (see feral --help)", cmd);
}
