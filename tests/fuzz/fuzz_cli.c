/* libFuzzer target: the option parsers of the feral commands (the
 * cmd_<command>_parse functions of src/cli/<command>.c) and of bench (bench/main.c,
 * through bench_args.c), without running anything.  The input is split at
 * NUL bytes and newlines into argv strings, each in its own allocation (so
 * that ASan sees a read past any one of them); argv[0] names the command as
 * feral's main passes it (solve, train, predict, info, convert, gen, or
 * bench).  Each parse must end in CLI_PARSED, 0 (help) or 2 (usage), must
 * leave optind on an operand count the command accepts, and every string it
 * hands back must be one of the argv strings (or inside one).  Parsing the
 * same argv twice must give the same result: nothing may survive from one
 * parse to the next (getopt_long's state included). */
#include "fuzz_common.h"

#include "cli/cmd.h"

#define MAX_ARGS 64

int fuzz_bench_parse(int argc, char **argv, int *nthreads, int *nprec, int *nrepl, int *repeat);

static int argc_;
static char **argv_;

/* s is NULL or points into one of the argv strings */
static void in_argv(const char *what, const char *s)
{
	if (!s)
		return;
	for (int i = 0; i < argc_; i++)
		if (s >= argv_[i] && s <= argv_[i] + strlen(argv_[i]))
			return;
	FUZZ_REQUIRE(0, "%s points outside argv", what);
}

static void operands(const char *cmd, int lo, int hi)
{
	int n = argc_ - optind;
	FUZZ_REQUIRE(optind >= 1 && n >= lo && n <= hi, "%s: parsed with optind %d of %d", cmd,
	             optind, argc_);
}

static void solver(const char *cmd, const struct cli_solver *s)
{
	struct feral_error e = {0};
	enum feral_status st = feral_config_validate(&s->cfg, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "%s: accepted options the library rejects: %s", cmd, e.msg);
}

/* One parse; returns its code, and a digest of what it set in *sig. */
static int parse(const char *cmd, uint64_t *sig)
{
	int rc;
	*sig = 0;
	opterr = 1; /* as in a fresh process (bench's parser clears it) */
	if (!strcmp(cmd, "solve")) {
		struct solve_opts o;
		if ((rc = cmd_solve_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 1, 2);
			solver(cmd, &o.s);
			in_argv("-o", o.out);
			in_argv("--xstar", o.xstar_path);
			in_argv("--trace", o.trace_path);
			in_argv("--checkpoint", o.ck.path);
			in_argv("--checkpoint-every", o.ck.every);
			in_argv("--resume", o.ck.resume);
			*sig = o.s.cfg.seed ^ (uint64_t)o.s.cfg.threads << 32 ^ (uint64_t)o.json << 1 ^
			       (uint64_t)o.reference << 2 ^ (uintptr_t)o.out ^ (uintptr_t)o.ck.every;
		}
	} else if (!strcmp(cmd, "train")) {
		struct train_opts o;
		if ((rc = cmd_train_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 1, 1);
			solver(cmd, &o.s);
			FUZZ_REQUIRE(o.s.cfg.loss != FERAL_LOSS_LS, "train: least squares accepted");
			FUZZ_REQUIRE(!(o.ovr && o.positive), "train: --ovr with --positive accepted");
			in_argv("-o", o.out);
			in_argv("--test", o.test);
			in_argv("--positive", o.positive);
			in_argv("--trace", o.trace_path);
			in_argv("--checkpoint", o.ck.path);
			in_argv("--checkpoint-every", o.ck.every);
			in_argv("--resume", o.ck.resume);
			*sig = o.s.cfg.seed ^ (uint64_t)o.s.cfg.threads << 32 ^ (uint64_t)o.ovr << 1 ^
			       (uintptr_t)o.positive ^ (uintptr_t)o.test;
		}
	} else if (!strcmp(cmd, "predict")) {
		struct predict_opts o;
		if ((rc = cmd_predict_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 2, 2);
			*sig = (uint64_t)o.json;
		}
	} else if (!strcmp(cmd, "info")) {
		struct info_opts o;
		if ((rc = cmd_info_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 1, 1);
			*sig = (uint64_t)o.json;
		}
	} else if (!strcmp(cmd, "convert")) {
		struct convert_opts o;
		if ((rc = cmd_convert_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 2, 2);
			FUZZ_REQUIRE(feral_precision_bits(o.prec) <= 32, "convert: precision %d bits",
			             feral_precision_bits(o.prec));
			in_argv("--targets", o.targets);
			in_argv("--targets-out", o.targets_out);
			*sig = o.seed ^ (uint64_t)o.prec << 40 ^ (uintptr_t)o.targets;
		}
	} else if (!strcmp(cmd, "gen")) {
		struct gen_opts o;
		if ((rc = cmd_gen_parse(argc_, argv_, &o)) == CLI_PARSED) {
			operands(cmd, 1, 1);
			FUZZ_REQUIRE(o.out, "gen: no -o accepted");
			in_argv("-o", o.out);
			in_argv("--xstar", o.xstar);
			*sig = o.go.seed ^ o.go.n << 20 ^ o.go.d ^ (uint64_t)o.go.kind << 60;
		}
	} else if (!strcmp(cmd, "bench")) {
		int nthreads, nprec, nrepl, repeat;
		optind = 0; /* bench's main parses once and leaves optind alone */
		rc = fuzz_bench_parse(argc_, argv_, &nthreads, &nprec, &nrepl, &repeat);
		FUZZ_REQUIRE(rc == 0 || rc == -1 || rc == 2, "bench: parse returned %d", rc);
		if (rc == 0) {
			FUZZ_REQUIRE(nthreads >= 0 && nthreads <= 64 && nprec >= 1 && nprec <= 64 &&
			                     nrepl >= 1 && nrepl <= 4 && repeat >= 1,
			             "bench: lists %d %d %d, repeat %d", nthreads, nprec, nrepl, repeat);
			*sig = (uint64_t)nthreads ^ (uint64_t)nprec << 8 ^ (uint64_t)nrepl << 16 ^
			       (uint64_t)repeat << 24;
		}
		return rc == -1 ? 0 : rc == 0 ? CLI_PARSED : rc;
	} else {
		return -100;
	}
	FUZZ_REQUIRE(rc == CLI_PARSED || rc == 0 || rc == 2, "%s: parse returned %d", cmd, rc);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 1];
	int argc = 0;
	size_t start = 0;
	for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
		if (i < size && data[i] != '\0' && data[i] != '\n')
			continue;
		char *a = malloc(i - start + 1);
		if (!a)
			abort();
		memcpy(a, data + start, i - start);
		a[i - start] = '\0';
		args[argc++] = a;
		start = i + 1;
	}
	args[argc] = NULL;
	/* getopt_long permutes argv: keep the originals to free, parse a copy */
	char **argv = malloc((size_t)(argc + 1) * sizeof *argv);
	if (!argv)
		abort();
	memcpy(argv, args, (size_t)(argc + 1) * sizeof *argv);
	argc_ = argc;
	argv_ = argv;
	uint64_t sig1, sig2;
	int rc1 = parse(args[0], &sig1);
	if (rc1 != -100) {
		/* the same command line again (argv as the first parse left it,
		 * permuted: operands after the options), to the same outcome */
		int o1 = optind;
		int rc2 = parse(args[0], &sig2);
		FUZZ_REQUIRE(rc2 == rc1 && (rc1 != CLI_PARSED || (optind == o1 && sig1 == sig2)),
		             "%s: second parse %d (optind %d) after %d (optind %d)", args[0], rc2,
		             optind, rc1, o1);
	}
	free(argv);
	for (int i = 0; i < argc; i++)
		free(args[i]);
	return 0;
}
