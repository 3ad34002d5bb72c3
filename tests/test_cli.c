/* The feral command line: exit codes, error messages, --json, end-to-end
 * gen -> solve -> output, train/predict, convert, signals. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feral.h"
#include "shell.h"

TestSuite(cli, .timeout = 120);

static void setup(void)
{
	tmpdir_make("cli");
}

/* Run `feral ARGS` in tmpdir; capture stdout+stderr (or stdout only); return
 * the exit code. */
static int run(int merge, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return shell_run(merge, "%s/%s/feral %s", getenv("PWD"), FERAL_BUILD_DIR, args);
}

Test(cli, test_help_and_version_exit_zero, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "--help"), 0);
	cr_assert(strstr(out, "solve") && strstr(out, "train"), "help lists commands: %s", out);
	cr_assert_eq(run(1, "--version"), 0);
	cr_assert(strstr(out, FERAL_VERSION), "version: %s", out);
	const char *cmds[] = {"solve", "train", "predict", "info", "convert", "gen"};
	for (int i = 0; i < 6; i++)
		cr_assert_eq(run(1, "%s --help", cmds[i]), 0, "%s --help: %s", cmds[i], out);
}

Test(cli, test_bad_options_exit_2_with_a_message, .init = setup, .fini = tmpdir_remove)
{
	write_text("a.svm", "1 1:1 2:2\n-1 1:2 2:1\n");
	const struct {
		const char *args, *msg;
	} bad[] = {
		{"frobnicate", "unknown command"},
		{"solve a.svm --threads -1", "threads"},
		{"solve a.svm --threads 0", "threads"},
		{"solve a.svm --lambda 1.5", "lambda"},
		{"solve a.svm --precision 12", "precision"},
		{"solve a.svm --step 0", "step"},
		{"solve a.svm --step -1", "step"},
		{"solve a.svm --sampling sideways", "sampling"},
		{"solve a.svm --sampling uniform --lambda 0.2", "conflicts"},
		{"solve a.svm --method kaczmarz --relax 2", "relax"},
		{"solve a.svm --epochs abc", "epochs"},
		{"solve a.svm --epochs 0", "budget"},
		{"solve", "expected"},
		{"solve a.svm --loss logistic", "least squares"},
		{"train a.svm --loss ls", "classification"},
		{"gen nsw9 -o x.npy", "unknown kind"},
		{"gen gaussian", "expected"},
		{"solve a.svm --bogus", "bogus"},
		{"train a.svm --recenter", "fixed point model"},
		{"train a.svm --precision 8 --recenter-every 0", "recenter-every"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		int rc = run(1, "%s", bad[k].args);
		cr_assert_eq(rc, 2, "'feral %s' exited %d: %s", bad[k].args, rc, out);
		cr_assert(strstr(out, bad[k].msg), "'feral %s': message lacks '%s': %s", bad[k].args,
		          bad[k].msg, out);
	}
}

Test(cli, test_bad_input_names_file_and_line, .init = setup, .fini = tmpdir_remove)
{
	write_text("bad.svm", "1 1:1 2:2\n-1 1:2 x:1\n");
	cr_assert_eq(run(1, "solve bad.svm"), 2, "%s", out);
	cr_assert(strstr(out, "bad.svm:2:"), "message lacks file:line: %s", out);
	write_text("nan.svm", "1 1:1\n1 1:nan\n");
	cr_assert_eq(run(1, "info nan.svm"), 2, "%s", out);
	cr_assert(strstr(out, "nan.svm:2:"), "message lacks file:line: %s", out);
	cr_assert_eq(run(1, "solve missing.svm"), 1, "missing file: %s", out);
	cr_assert(strstr(out, "missing.svm"), "%s", out);
}

Test(cli, test_gen_solve_json_and_output_roundtrip, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "gen gaussian --n 3000 --d 30 --seed 4 -o g.npy"), 0, "%s", out);
	cr_assert_eq(run(0, "solve g.npy g.b.npy --xstar g.xstar.npy --tol 1e-12 --json -o x.npy"),
	             0, "%s", out);
	const char *keys[] = {"n", "d", "nnz", "updates", "seconds", "updates_per_s", "objective",
	                      "relative_residual", "relative_error", "kernel", "peak_rss_bytes"};
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
		json_num(keys[k][0] == 'k' ? "threads" : keys[k]);
	cr_assert(strstr(out, "\"kernel\":\""), "%s", out);
	cr_assert_eq(json_num("n"), 3000);
	cr_assert_lt(json_num("relative_error"), 1e-12, "%s", out);
	/* the written solution matches x* */
	double *x, *xs;
	uint64_t n1, n2;
	char p1[512], p2[512];
	snprintf(p1, sizeof p1, "%s/x.npy", tmpdir);
	snprintf(p2, sizeof p2, "%s/g.xstar.npy", tmpdir);
	cr_assert_eq(feral_vector_load(p1, &x, &n1, NULL), FERAL_OK);
	cr_assert_eq(feral_vector_load(p2, &xs, &n2, NULL), FERAL_OK);
	cr_assert_eq(n1, 30);
	for (int j = 0; j < 30; j++)
		cr_assert_float_eq(x[j], xs[j], 1e-5 * (1 + fabs(xs[j])), "x[%d] %g vs %g", j, x[j], xs[j]);
	free(x);
	free(xs);
	/* text and mtx outputs by extension */
	cr_assert_eq(run(1, "solve g.npy g.b.npy -o x.txt --epochs 2"), 0, "%s", out);
	cr_assert_eq(run(1, "solve g.npy g.b.npy -o x.mtx --epochs 2"), 0, "%s", out);
	cr_assert_eq(run(1, "solve g.npy g.b.npy --tol 1e-12 --method kaczmarz --json"), 0, "%s", out);
}

Test(cli, test_single_thread_output_is_identical_across_runs, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "gen gaussian --n 2000 --d 20 --noise 0.1 -o g.svm"), 0, "%s", out);
	cr_assert_eq(run(1, "solve g.svm --epochs 3 --tol 0 -o a.txt"), 0, "%s", out);
	cr_assert_eq(run(1, "solve g.svm --epochs 3 --tol 0 -o b.txt"), 0, "%s", out);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cmp -s '%s/a.txt' '%s/b.txt'", tmpdir, tmpdir);
	cr_assert_eq(system(cmd), 0, "two single-thread runs with the same seed differ");
	cr_assert_eq(run(1, "solve g.svm --epochs 3 --tol 0 --seed 9 -o c.txt"), 0, "%s", out);
	snprintf(cmd, sizeof cmd, "cmp -s '%s/a.txt' '%s/c.txt'", tmpdir, tmpdir);
	cr_assert_neq(system(cmd), 0, "a different seed gave the same output");
}

Test(cli, test_train_predict_convert_info, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "gen logistic --n 3000 --d 20 --seed 3 -o t.svm"), 0, "%s", out);
	cr_assert_eq(run(0, "train t.svm --test t.svm --json -o m.txt"), 0, "%s", out);
	double acc = json_num("test_accuracy");
	cr_assert_gt(acc, 0.9, "test accuracy %g", acc);
	cr_assert_gt(json_num("train_accuracy"), 0.9);
	cr_assert_eq(run(0, "predict m.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), acc, 1e-12, "predict disagrees with train");
	cr_assert_eq(run(1, "convert t.svm t.feral"), 0, "%s", out);
	cr_assert_eq(run(0, "info t.feral --json"), 0, "%s", out);
	cr_assert_eq(json_num("n"), 3000);
	cr_assert_eq(json_num("d"), 20);
	cr_assert_eq(run(1, "convert t.svm t8.feral --precision 8"), 0, "%s", out);
	cr_assert_eq(run(0, "info t8.feral --json"), 0, "%s", out);
	cr_assert_eq(json_num("precision_bits"), 8);
	cr_assert_eq(run(0, "train t8.feral --precision 8 --json"), 0, "%s", out);
	cr_assert_gt(json_num("train_accuracy"), 0.85, "8-bit training: %s", out);
	/* labels 0/1 are mapped; three labels need --positive */
	write_text("three.svm", "0 1:1\n1 1:2\n2 1:3\n");
	cr_assert_eq(run(1, "train three.svm"), 2, "%s", out);
	cr_assert(strstr(out, "--positive"), "%s", out);
	cr_assert_eq(run(1, "train three.svm --positive 2 --epochs 2"), 0, "%s", out);
}

Test(cli, test_divergence_exits_1, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "gen gaussian --n 2000 --d 20 -o g.npy"), 0, "%s", out);
	int rc = run(1, "solve g.npy g.b.npy --step 50 --trace-every 100 -o x.npy");
	cr_assert_eq(rc, 1, "diverging run exited %d: %s", rc, out);
	cr_assert(strstr(out, "diverged"), "%s", out);
}

Test(cli, test_sigterm_writes_the_current_model, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(run(1, "gen gaussian --n 20000 --d 100 -o g.npy"), 0, "%s", out);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "cd '%s' && (%s/%s/feral solve g.npy g.b.npy --epochs 0 --seconds 60 --tol 0 --trace-every "
	         "10000 -o x.npy & pid=$!; sleep 1; kill -TERM $pid; wait $pid; echo rc=$?) 2>&1",
	         tmpdir, getenv("PWD"), FERAL_BUILD_DIR);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert(strstr(out, "rc=143"), "SIGTERM: %s", out);
	char path[512];
	snprintf(path, sizeof path, "%s/x.npy", tmpdir);
	cr_assert_eq(access(path, R_OK), 0, "no model written after SIGTERM: %s", out);
}

Test(cli, test_killed_training_resumes_to_the_same_accuracy_band, .init = setup, .fini = tmpdir_remove)
{
	/* Band: the resumed model's test accuracy within 0.02 of an uninterrupted run */
	const double band = 0.02;
	cr_assert_eq(run(1, "gen logistic --n 200000 --d 40 --seed 5 -o t.feral"), 0, "%s", out);
	cr_assert_eq(run(0, "train t.feral --test t.feral --epochs 4 --tol 0 --json"), 0, "%s", out);
	double full = json_num("test_accuracy");
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "cd '%s' && (%s/%s/feral train t.feral --epochs 400 --tol 0 --checkpoint-every 0.2 "
	         "--checkpoint c.ckpt -o m.txt & pid=$!; sleep 1.5; kill -KILL $pid; wait $pid; "
	         "echo rc=$?) 2>&1",
	         tmpdir, getenv("PWD"), FERAL_BUILD_DIR);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert(strstr(out, "rc=137"), "the run was not killed: %s", out);
	char path[512];
	snprintf(path, sizeof path, "%s/c.ckpt", tmpdir);
	cr_assert_eq(access(path, R_OK), 0, "no checkpoint after 1.5 s: %s", out);
	snprintf(path, sizeof path, "%s/m.txt", tmpdir);
	cr_assert_neq(access(path, R_OK), 0, "a killed run left a model file");
	cr_assert_eq(run(0, "train t.feral --test t.feral --epochs 400 --seconds 1 --tol 0 "
	                    "--resume c.ckpt --json -o m.txt"),
	             0, "%s", out);
	double resumed = json_num("test_accuracy");
	cr_assert_gt(json_num("updates"), 1000, "the resumed run did no work: %s", out);
	cr_assert_lt(fabs(resumed - full), band, "resumed accuracy %g, uninterrupted %g", resumed,
	             full);
	cr_assert_eq(run(1, "train t.feral --resume missing.ckpt"), 1, "%s", out);
	write_text("bad.ckpt", "feral-checkpoint 1\nupdates 5\nd 3\n1\n2\n3\n");
	cr_assert_eq(run(1, "train t.feral --resume bad.ckpt"), 2, "%s", out);
	cr_assert(strstr(out, "dimension"), "%s", out);
}
