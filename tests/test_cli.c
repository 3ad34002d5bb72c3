/* The feral command line: exit codes, error messages, --json, end-to-end
 * gen -> solve -> output, train/predict, convert, signals, checkpoints; the
 * model and checkpoint formats and the config-field -> option mapping in
 * process.  Runs whose results are asserted pass --threads 1 (the default is
 * every physical core), so no outcome depends on the host's core count. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/checkpoint.h"
#include "cli/cli.h"
#include "cli/cmd.h"
#include "cli/model.h"
#include "feral.h"
#include "internal.h"
#include "shell.h"

TestSuite(cli, .timeout = SHELL_TIMEOUT(120));

static void setup(void)
{
	tmpdir_make("cli");
}

Test(cli, test_help_and_version_exit_zero, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "--help"), 0);
	cr_assert(strstr(out, "solve") && strstr(out, "train"), "help lists commands: %s", out);
	cr_assert_eq(shell_feral(1, "--version"), 0);
	cr_assert(strstr(out, FERAL_VERSION), "version: %s", out);
	const char *cmds[] = {"solve", "train", "predict", "info", "convert", "gen"};
	for (int i = 0; i < 6; i++)
		cr_assert_eq(shell_feral(1, "%s --help", cmds[i]), 0, "%s --help: %s", cmds[i], out);
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
		/* removed (results/README.md): the error names the alternative */
		{"solve a.svm --precision 8 --rounding shared", "use --rounding independent"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		int rc = shell_feral(1, "%s", bad[k].args);
		cr_assert_eq(rc, 2, "'feral %s' exited %d: %s", bad[k].args, rc, out);
		cr_assert(strstr(out, bad[k].msg), "'feral %s': message lacks '%s': %s", bad[k].args,
		          bad[k].msg, out);
	}
}

Test(cli, test_bad_input_names_file_and_line, .init = setup, .fini = tmpdir_remove)
{
	write_text("bad.svm", "1 1:1 2:2\n-1 1:2 x:1\n");
	cr_assert_eq(shell_feral(1, "solve bad.svm"), 2, "%s", out);
	cr_assert(strstr(out, "bad.svm:2:"), "message lacks file:line: %s", out);
	write_text("nan.svm", "1 1:1\n1 1:nan\n");
	cr_assert_eq(shell_feral(1, "info nan.svm"), 2, "%s", out);
	cr_assert(strstr(out, "nan.svm:2:"), "message lacks file:line: %s", out);
	cr_assert_eq(shell_feral(1, "solve missing.svm"), 1, "missing file: %s", out);
	cr_assert(strstr(out, "missing.svm"), "%s", out);
}

Test(cli, test_gen_solve_json_and_output_roundtrip, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian --n 3000 --d 30 --seed 4 -o g.npy"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --xstar g.xstar.npy --tol 1e-12 --threads 1 --json "
	                    "-o x.npy"),
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
	cr_assert_eq(shell_feral(1, "solve g.npy g.b.npy -o x.txt --epochs 2"), 0, "%s", out);
	cr_assert_eq(shell_feral(1, "solve g.npy g.b.npy -o x.mtx --epochs 2"), 0, "%s", out);
	cr_assert_eq(shell_feral(1, "solve g.npy g.b.npy --tol 1e-12 --method kaczmarz --threads 1 --json"), 0,
	             "%s", out);
}

Test(cli, test_single_thread_output_is_identical_across_runs, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian --n 2000 --d 20 --noise 0.1 -o g.svm"), 0, "%s", out);
	/* the stochastic default (newton, the default here, ignores the seed) */
	cr_assert_eq(shell_feral(1, "solve g.svm --method svrg --epochs 3 --tol 0 --threads 1 -o a.txt"), 0, "%s", out);
	cr_assert_eq(shell_feral(1, "solve g.svm --method svrg --epochs 3 --tol 0 --threads 1 -o b.txt"), 0, "%s", out);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cmp -s '%s/a.txt' '%s/b.txt'", tmpdir, tmpdir);
	cr_assert_eq(system(cmd), 0, "two single-thread runs with the same seed differ");
	cr_assert_eq(shell_feral(1, "solve g.svm --method svrg --epochs 3 --tol 0 --threads 1 --seed 9 -o c.txt"), 0, "%s",
	             out);
	snprintf(cmd, sizeof cmd, "cmp -s '%s/a.txt' '%s/c.txt'", tmpdir, tmpdir);
	cr_assert_neq(system(cmd), 0, "a different seed gave the same output");
}

Test(cli, test_train_predict_convert_info, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen logistic --n 3000 --d 20 --seed 3 -o t.svm"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "train t.svm --test t.svm --threads 1 --json -o m.txt"), 0, "%s", out);
	double acc = json_num("test_accuracy");
	cr_assert_gt(acc, 0.9, "test accuracy %g", acc);
	cr_assert_gt(json_num("train_accuracy"), 0.9);
	cr_assert_eq(shell_feral(0, "predict m.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), acc, 1e-12, "predict disagrees with train");
	cr_assert_eq(shell_feral(1, "convert t.svm t.feral"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "info t.feral --json"), 0, "%s", out);
	cr_assert_eq(json_num("n"), 3000);
	cr_assert_eq(json_num("d"), 20);
	cr_assert_eq(shell_feral(1, "convert t.svm t8.feral --precision 8"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "info t8.feral --json"), 0, "%s", out);
	cr_assert_eq(json_num("precision_bits"), 8);
	cr_assert_eq(shell_feral(0, "train t8.feral --precision 8 --threads 1 --json"), 0, "%s", out);
	cr_assert_gt(json_num("train_accuracy"), 0.85, "8-bit training: %s", out);
	/* labels 0/1 are mapped; three labels need --positive */
	write_text("three.svm", "0 1:1\n1 1:2\n2 1:3\n");
	cr_assert_eq(shell_feral(1, "train three.svm"), 2, "%s", out);
	cr_assert(strstr(out, "--positive"), "%s", out);
	cr_assert_eq(shell_feral(1, "train three.svm --positive 2 --epochs 2 --threads 1"), 0, "%s", out);
}

Test(cli, test_divergence_exits_1, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian --n 2000 --d 20 -o g.npy"), 0, "%s", out);
	int rc = shell_feral(1, "solve g.npy g.b.npy --step 50 --trace-every 100 --threads 1 -o x.npy");
	cr_assert_eq(rc, 1, "diverging run exited %d: %s", rc, out);
	cr_assert(strstr(out, "diverged"), "%s", out);
}

/* Run `sh -c SCRIPT` in tmpdir, where @F stands for the feral binary, with
 * stdout and stderr in out. */
static void script(const char *body)
{
	char bin[512], cmd[3072];
	snprintf(bin, sizeof bin, "%s/%s/feral", getenv("PWD"), FERAL_BUILD_DIR);
	size_t o = 0;
	for (const char *p = body; *p && o + sizeof bin < sizeof cmd; p++)
		if (p[0] == '@' && p[1] == 'F') {
			o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s", bin);
			p++;
		} else {
			cmd[o++] = *p;
		}
	cmd[o] = 0;
	shell_run(1, "(%s) 2>&1", cmd);
}

Test(cli, test_sigterm_writes_the_current_model, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian --n 20000 --d 100 -o g.npy"), 0, "%s", out);
	/* the signal goes once feral says its handlers are in place */
	script("FERAL_READY_FILE=ready @F solve g.npy g.b.npy --epochs 0 --seconds 600 --tol 0 "
	       "--trace-every 10000 -o x.npy & pid=$!; " SHELL_WAIT_FOR("ready")
	       "[ -e ready ] && echo ready=yes; kill -TERM $pid; wait $pid; echo rc=$?");
	cr_assert(strstr(out, "ready=yes"), "feral never created FERAL_READY_FILE: %s", out);
	cr_assert(strstr(out, "rc=143"), "SIGTERM: %s", out);
	cr_assert(strstr(out, "interrupted"), "SIGTERM: %s", out);
	cr_assert_eq(access(tmp_path("x.npy"), R_OK), 0, "no model written after SIGTERM: %s", out);
}

Test(cli, test_killed_training_resumes_to_the_same_accuracy_band, .init = setup, .fini = tmpdir_remove)
{
	/* Band: the resumed model's test accuracy within 0.02 of an uninterrupted
	 * run of the same number of updates after the start or the resume */
	const double band = 0.02;
	const uint64_t n = 200000, epochs = 4;
	cr_assert_eq(shell_feral(1, "gen logistic --n %llu --d 40 --seed 5 -o t.feral", (unsigned long long)n),
	             0, "%s", out);
	cr_assert_eq(shell_feral(0, "train t.feral --test t.feral --epochs %llu --tol 0 --threads 1 --json",
	                 (unsigned long long)epochs),
	             0, "%s", out);
	double full = json_num("test_accuracy");
	/* a run with no budget but time is killed once its first checkpoint is there */
	script("@F train t.feral --epochs 0 --seconds 600 --tol 0 --threads 1 --checkpoint-every "
	       "0.2 --checkpoint c.ckpt -o m.txt & pid=$!; " SHELL_WAIT_FOR("c.ckpt")
	       "kill -KILL $pid; wait $pid; echo rc=$?");
	cr_assert(strstr(out, "rc=137"), "the run was not killed: %s", out);
	cr_assert_eq(access(tmp_path("c.ckpt"), R_OK), 0, "no checkpoint: %s", out);
	cr_assert_neq(access(tmp_path("m.txt"), R_OK), 0, "a killed run left a model file");
	/* the checkpoint is whole (atomic writes), and says how far it got */
	size_t len;
	char *ck = (char *)read_all(tmp_path("c.ckpt"), &len);
	unsigned long long done = 0, d = 0;
	cr_assert_eq(sscanf(ck, "feral-checkpoint 1\nupdates %llu\nd %llu", &done, &d), 2, "%.200s", ck);
	cr_assert_eq(d, 41); /* 40 features and the bias weight (train's default --bias 1) */
	free(ck);
	cr_assert_eq(shell_feral(0, "train t.feral --test t.feral --epochs 0 --updates %llu --tol 0 --threads 1 "
	                    "--resume c.ckpt --json -o m.txt",
	                 done + epochs * n),
	             0, "%s", out);
	double resumed = json_num("test_accuracy");
	cr_assert_eq(json_num("updates"), (double)(epochs * n), "the resumed run's budget: %s", out);
	cr_assert_lt(fabs(resumed - full), band, "resumed accuracy %g, uninterrupted %g", resumed,
	             full);
	cr_assert_eq(shell_feral(1, "train t.feral --resume missing.ckpt"), 1, "%s", out);
	write_text("bad.ckpt", "feral-checkpoint 1\nupdates 5\nd 3\n1\n2\n3\n");
	cr_assert_eq(shell_feral(1, "train t.feral --resume bad.ckpt"), 2, "%s", out);
	cr_assert(strstr(out, "dimension"), "%s", out);
}

Test(cli, test_solve_and_train_default_to_every_physical_core, .init = setup, .fini = tmpdir_remove)
{
	int cores = 1;
#ifdef FERAL_HAVE_HWLOC
	struct feral_topo *t = NULL;
	if (feral_topo_create(NULL, &t, NULL) == FERAL_OK)
		cores = feral_topo_ncores(t);
	feral_topo_destroy(&t);
#endif
	cr_assert_eq(shell_feral(1, "gen gaussian --n 500 --d 10 -o g.npy"), 0, "%s", out);
	/* a budget too small to matter: only the thread count is looked at
	 * (svrg: newton runs a problem this small on one thread) */
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --method svrg --updates 100 --tol 0 --json"), 0, "%s", out);
	cr_assert_eq(json_num("threads"), cores, "default threads, %d cores: %s", cores, out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --updates 100 --tol 0 --threads 1 --json"), 0, "%s",
	             out);
	cr_assert_eq(json_num("threads"), 1, "%s", out);
	cr_assert_eq(shell_feral(1, "gen logistic --n 500 --d 10 -o t.svm"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "train t.svm --method svrg --updates 100 --tol 0 --json"), 0, "%s", out);
	cr_assert_eq(json_num("threads"), cores, "train: default threads, %d cores: %s", cores, out);
	cr_assert_eq(shell_feral(1, "solve --help"), 0, "%s", out);
	cr_assert(strstr(out, "every physical core") && strstr(out, "--threads"), "%s", out);
}

Test(cli, test_convert_targets_option, .init = setup, .fini = tmpdir_remove)
{
	/* --targets B puts B in OUT (here LIBSVM, where y is the first column) */
	cr_assert_eq(shell_feral(1, "gen gaussian --n 50 --d 4 --seed 2 -o g.npy"), 0, "%s", out);
	cr_assert_eq(shell_feral(1, "convert g.npy g.svm --targets g.b.npy"), 0, "%s", out);
	struct feral_dataset *ds = NULL;
	double *b = NULL;
	uint64_t nb = 0;
	cr_assert_eq(feral_dataset_load(tmp_path("g.svm"), NULL, &ds, NULL), FERAL_OK);
	cr_assert_eq(feral_vector_load(tmp_path("g.b.npy"), &b, &nb, NULL), FERAL_OK);
	cr_assert_eq(nb, ds->n);
	for (uint64_t i = 0; i < nb; i++)
		cr_assert_float_eq(ds->y[i], b[i], 1e-6 * (1 + fabs(b[i])), "y[%llu]",
		                   (unsigned long long)i);
	free(b);
	feral_dataset_destroy(&ds);
	cr_assert_eq(shell_feral(1, "convert g.npy g2.svm --targets missing.npy"), 1, "%s", out);
	cr_assert(strstr(out, "missing.npy"), "%s", out);
}

Test(cli, test_model_format_roundtrip_and_bad_files, .init = setup, .fini = tmpdir_remove)
{
	struct feral_error err = {0};
	struct cli_model m;
	/* version 1 */
	const double w1[3] = {0.5, -1.25, 1e-300};
	struct cli_model_out o1 = {.loss = FERAL_LOSS_HINGE, .d = 3, .k = 1, .w = w1, .neg = 2,
	                           .pos = 7, .positive = "7,9"};
	cr_assert_eq(cli_model_write(tmp_path("m1.txt"), &o1, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(cli_model_read(tmp_path("m1.txt"), &m, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(m.version, 1);
	cr_assert_eq(m.d, 3);
	cr_assert_eq(m.k, 1);
	cr_assert_eq(m.neg, 2);
	cr_assert_eq(m.pos, 7);
	cr_assert_str_eq(m.positive, "7,9");
	for (int j = 0; j < 3; j++)
		cr_assert_eq(m.w[j], w1[j], "w[%d]: %.17g", j, m.w[j]); /* %.17g: exact */
	cli_model_free(&m);
	/* version 2 */
	const double w2[6] = {1, 2, 3, 4, 5, 6}, lab[3] = {5, 7.5, -9};
	struct cli_model_out o2 = {.loss = FERAL_LOSS_LOGISTIC, .d = 2, .k = 3, .w = w2, .labels = lab};
	cr_assert_eq(cli_model_write(tmp_path("m2.txt"), &o2, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(cli_model_read(tmp_path("m2.txt"), &m, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(m.version, 2);
	cr_assert_eq(m.k, 3);
	for (int c = 0; c < 3; c++)
		cr_assert_eq(m.labels[c], lab[c]);
	for (int j = 0; j < 6; j++)
		cr_assert_eq(m.w[j], w2[j]);
	cli_model_free(&m);
	/* no temporary file is left next to the model */
	cr_assert_eq(shell_run(1, "ls"), 0);
	cr_assert(!strstr(out, "tmp"), "%s", out);
	/* bad files: status, file and line */
	write_text("bad.txt", "feral-model 1\nloss ls\nd 2\nlabels 0 1\npositive -\nweights\n1\nnan\n");
	cr_assert_eq(cli_model_read(tmp_path("bad.txt"), &m, &err), FERAL_STATUS_PARSE);
	cr_assert_eq(err.line, 8);
	cr_assert(strstr(err.msg, "bad or missing weight"), "%s", err.msg);
	cr_assert_null(m.w);
	/* a header promising far more weights than the file holds is refused
	 * before anything is allocated */
	write_text("huge.txt", "feral-model 2\nloss ls\nd 4294967296\nclasses 1\nlabels 1\nweights\n1\n");
	cr_assert_eq(cli_model_read(tmp_path("huge.txt"), &m, &err), FERAL_STATUS_PARSE);
	cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
	/* the positive list is what train --positive takes: labels, or "-" */
	write_text("pos.txt", "feral-model 1\nloss ls\nd 1\nlabels -1 1\npositive 1,x\nweights\n1\n");
	cr_assert_eq(cli_model_read(tmp_path("pos.txt"), &m, &err), FERAL_STATUS_PARSE);
	cr_assert(strstr(err.msg, "bad header"), "%s", err.msg);
	write_bytes(tmp_path("nul.txt"), "feral-model 1\nloss ls\nd 1\nlabels -1 1\npositive \0\0"
	                                 "1\nweights\n1\n", 61);
	cr_assert_eq(cli_model_read(tmp_path("nul.txt"), &m, &err), FERAL_STATUS_PARSE);
	write_text("nohdr.txt", "feral-model 3\n");
	cr_assert_eq(cli_model_read(tmp_path("nohdr.txt"), &m, &err), FERAL_STATUS_PARSE);
	cr_assert(strstr(err.msg, "bad header"), "%s", err.msg);
	cr_assert_eq(cli_model_read(tmp_path("missing.txt"), &m, &err), FERAL_STATUS_IO);
	cr_assert_eq(cli_model_write(tmp_path("no/such/dir.txt"), &o1, &err), FERAL_STATUS_IO);
}

Test(cli, test_checkpoint_format_roundtrip_and_bad_files, .init = setup, .fini = tmpdir_remove)
{
	struct feral_error err = {0};
	const double x[4] = {1.0 / 3, -2, 0, 1e10};
	double y[4] = {0};
	uint64_t upd = 0;
	cr_assert_eq(cli_ckpt_write(tmp_path("c.ckpt"), x, 4, 123456789012ull, &err), FERAL_OK, "%s",
	             err.msg);
	cr_assert_eq(cli_ckpt_read(tmp_path("c.ckpt"), 4, y, &upd, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(upd, 123456789012ull);
	for (int j = 0; j < 4; j++)
		cr_assert_eq(y[j], x[j], "x[%d]", j);
	cr_assert_eq(cli_ckpt_read(tmp_path("c.ckpt"), 5, y, &upd, &err), FERAL_STATUS_PARSE);
	cr_assert(strstr(err.msg, "dimension"), "%s", err.msg);
	write_text("bad.ckpt", "feral-checkpoint 1\nupdates 5\nd 2\n1\ninf\n");
	cr_assert_eq(cli_ckpt_read(tmp_path("bad.ckpt"), 2, y, &upd, &err), FERAL_STATUS_PARSE);
	cr_assert_eq(err.line, 5);
	write_text("hdr.ckpt", "feral-checkpoint 2\nupdates 5\nd 2\n1\n2\n");
	cr_assert_eq(cli_ckpt_read(tmp_path("hdr.ckpt"), 2, y, &upd, &err), FERAL_STATUS_PARSE);
	cr_assert(strstr(err.msg, "bad header"), "%s", err.msg);
	cr_assert_eq(cli_ckpt_read(tmp_path("missing.ckpt"), 2, y, &upd, &err), FERAL_STATUS_IO);
}

/* Counts in the model and checkpoint headers are parsed strictly: fscanf's
 * %llu (what both readers used) takes "-1" as 2^64 - 1 and "-(2^64 - k)"
 * as k, so a negative count could even be read as a plausible one.  Each
 * bad count is refused with the file, its line and the reason. */
Test(cli, test_model_and_checkpoint_counts_reject_negatives, .init = setup, .fini = tmpdir_remove)
{
	struct feral_error err = {0};
	double y[3] = {0};
	uint64_t upd = 0;
	const struct {
		const char *text;
		long line;
		const char *what;
	} ckpt[] = {
		{"feral-checkpoint 1\nupdates -1\nd 3\n1\n2\n3\n", 2, "updates '-1'"},
		{"feral-checkpoint 1\nupdates 18446744073709551616\nd 3\n1\n2\n3\n", 2,
		 "updates '18446744073709551616'"},
		{"feral-checkpoint 1\nupdates +5\nd 3\n1\n2\n3\n", 2, "updates '+5'"},
		/* -(2^64 - 3) wraps to exactly the d asked for */
		{"feral-checkpoint 1\nupdates 5\nd -18446744073709551613\n1\n2\n3\n", 3,
		 "d '-18446744073709551613'"},
		{"feral-checkpoint 1\nupdates 5\nd 3x\n1\n2\n3\n", 3, "d '3x'"},
	};
	for (size_t k = 0; k < sizeof ckpt / sizeof *ckpt; k++) {
		write_text("neg.ckpt", ckpt[k].text);
		cr_assert_eq(cli_ckpt_read(tmp_path("neg.ckpt"), 3, y, &upd, &err), FERAL_STATUS_PARSE,
		             "%s", ckpt[k].text);
		cr_assert_eq(err.line, ckpt[k].line, "%s: line %ld", ckpt[k].text, err.line);
		cr_assert(strstr(err.msg, ckpt[k].what) && strstr(err.msg, "not a count"), "%s",
		          err.msg);
		cr_assert(strstr(err.file, "neg.ckpt"), "%s", err.file);
	}
	/* the largest count is still read */
	write_text("max.ckpt", "feral-checkpoint 1\nupdates 18446744073709551615\nd 3\n1\n2\n3\n");
	cr_assert_eq(cli_ckpt_read(tmp_path("max.ckpt"), 3, y, &upd, &err), FERAL_OK, "%s", err.msg);
	cr_assert_eq(upd, UINT64_MAX);

	struct cli_model m;
	const struct {
		const char *text;
		long line;
		const char *what;
	} model[] = {
		/* -(2^64 - 1) wraps to d = 1 */
		{"feral-model 1\nloss ls\nd -18446744073709551615\nlabels -1 1\npositive -\nweights\n1\n",
		 3, "d '-18446744073709551615'"},
		{"feral-model 1\nloss ls\nd -1\nlabels -1 1\npositive -\nweights\n1\n", 3, "d '-1'"},
		/* -(2^64 - 2) wraps to 2 classes */
		{"feral-model 2\nloss ls\nd 1\nclasses -18446744073709551614\nlabels 1 2\nweights\n1\n2\n",
		 4, "classes '-18446744073709551614'"},
	};
	for (size_t k = 0; k < sizeof model / sizeof *model; k++) {
		write_text("neg.txt", model[k].text);
		cr_assert_eq(cli_model_read(tmp_path("neg.txt"), &m, &err), FERAL_STATUS_PARSE, "%s",
		             model[k].text);
		cr_assert_eq(err.line, model[k].line, "%s: line %ld", model[k].text, err.line);
		cr_assert(strstr(err.msg, model[k].what) && strstr(err.msg, "not a count"), "%s",
		          err.msg);
		cr_assert(strstr(err.file, "neg.txt"), "%s", err.file);
		cr_assert_null(m.w);
	}
}

Test(cli, test_config_fields_are_shown_as_options)
{
	char buf[256];
	const struct {
		const char *in, *want;
	} cases[] = {
		{"step_decay -1: must be >= 0", "--step-decay -1: must be >= 0"},
		{"threads 5000: must lie in [1, 4096]", "--threads 5000: must lie in [1, 4096]"},
		{"bad value: max_updates=0 and epochs=0", "bad value: --updates=0 and --epochs=0"},
		{"--lambda 2: must lie in [0, 1]", "--lambda 2: must lie in [0, 1]"},
		/* prose keeps its words: only the first word or marked fields change */
		{"the step must be > 0 for this loss", "the step must be > 0 for this loss"},
		{"recenter needs model_precision 8 or 16", "--recenter needs --model-precision 8 or 16"},
		{"", ""},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
		cr_assert_str_eq(cli_config_message(cases[k].in, buf, sizeof buf), cases[k].want);
	/* a short buffer truncates, still terminated */
	char tiny[6];
	cr_assert_str_eq(cli_config_message("step_decay -1", tiny, sizeof tiny), "--ste");
}

/* Each command's option parser may run more than once in a process (the
 * fuzz target tests/fuzz/fuzz_cli.c does): every parse restarts
 * getopt_long in full.  With optind = 1 (as they had) a parse that stopped
 * inside an option cluster ("-xh": 'x' unknown) left getopt_long's cursor
 * on that argv's "h", and the next parse resumed there: --help (exit 0)
 * instead of the options given, read from the previous argv (freed memory
 * in the fuzzer). */
Test(cli, test_option_parsers_restart_getopt)
{
	char cluster[] = "-xh", json[] = "--json", a[] = "a.svm", b[] = "b.svm", o[] = "-o",
	     threads[] = "--threads", one[] = "1", kind[] = "gaussian";
	struct {
		const char *cmd;
		int argc;
		char *args[6];
	} good[] = {
		{"info", 3, {json, a}},
		{"predict", 4, {json, a, b}},
		{"convert", 3, {a, b}},
		{"gen", 4, {o, a, kind}},
		{"solve", 5, {threads, one, a, b}},
		{"train", 4, {threads, one, a}},
	};
	for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
		char cmd[16];
		snprintf(cmd, sizeof cmd, "%s", good[k].cmd);
		char *bad_argv[] = {cmd, cluster, NULL};
		char *argv[7] = {cmd};
		memcpy(argv + 1, good[k].args, sizeof good[k].args);
		int rc1 = -9, rc2 = -9;
		if (!strcmp(cmd, "info")) {
			struct info_opts io;
			rc1 = cmd_info_parse(2, bad_argv, &io);
			rc2 = cmd_info_parse(good[k].argc, argv, &io);
			cr_assert(rc2 != CLI_PARSED || io.json, "info: --json lost");
		} else if (!strcmp(cmd, "predict")) {
			struct predict_opts po;
			rc1 = cmd_predict_parse(2, bad_argv, &po);
			rc2 = cmd_predict_parse(good[k].argc, argv, &po);
			cr_assert(rc2 != CLI_PARSED || po.json, "predict: --json lost");
		} else if (!strcmp(cmd, "convert")) {
			struct convert_opts co;
			rc1 = cmd_convert_parse(2, bad_argv, &co);
			rc2 = cmd_convert_parse(good[k].argc, argv, &co);
		} else if (!strcmp(cmd, "gen")) {
			struct gen_opts go;
			rc1 = cmd_gen_parse(2, bad_argv, &go);
			rc2 = cmd_gen_parse(good[k].argc, argv, &go);
			cr_assert(rc2 != CLI_PARSED || go.out == a, "gen: -o lost");
		} else if (!strcmp(cmd, "solve")) {
			struct solve_opts so;
			rc1 = cmd_solve_parse(2, bad_argv, &so);
			rc2 = cmd_solve_parse(good[k].argc, argv, &so);
			cr_assert(rc2 != CLI_PARSED || so.s.cfg.threads == 1, "solve: --threads lost");
		} else {
			struct train_opts to;
			rc1 = cmd_train_parse(2, bad_argv, &to);
			rc2 = cmd_train_parse(good[k].argc, argv, &to);
			cr_assert(rc2 != CLI_PARSED || to.s.cfg.threads == 1, "train: --threads lost");
		}
		cr_assert_eq(rc1, 2, "%s -xh: %d", cmd, rc1);
		cr_assert_eq(rc2, CLI_PARSED, "%s after -xh: %d, not the options given", cmd, rc2);
		cr_assert_eq(optind, good[k].argc - (k == 1 || k == 2 || k == 4 ? 2 : 1),
		             "%s: operands from %d", cmd, optind);
	}
}

/* feral gen's --n and --d went through a double: counts above 2^53 were
 * rounded (9007199254740993 became ...992) and 2^64 - 1 overflowed the
 * conversion back (undefined; 0 on x86-64).  Found by fuzz_cli (UBSan). */
Test(cli, test_gen_counts_stay_exact)
{
	char cmd[] = "gen", n[] = "--n", nv[] = "9007199254740993", d[] = "--d",
	     dv[] = "18446744073709551615", o[] = "-o", out[] = "g.npy", kind[] = "gaussian";
	char *argv[] = {cmd, n, nv, d, dv, o, out, kind, NULL};
	struct gen_opts go;
	cr_assert_eq(cmd_gen_parse(8, argv, &go), CLI_PARSED);
	cr_assert_eq(go.go.n, 9007199254740993ull, "n = %llu", (unsigned long long)go.go.n);
	cr_assert_eq(go.go.d, UINT64_MAX, "d = %llu", (unsigned long long)go.go.d);
}

/* cli_parse_u64 refused "-1" but took " -1" (strtoull skips blanks, then
 * negates): --seed " -1" was 2^64 - 1, --updates " -5" a huge budget. */
Test(cli, test_parse_u64_refuses_blank_minus)
{
	uint64_t v = 7;
	cr_assert(!cli_parse_u64("-1", &v));
	cr_assert(!cli_parse_u64(" -1", &v), "' -1' read as %llu", (unsigned long long)v);
	cr_assert(!cli_parse_u64("\t\n -5", &v), "read as %llu", (unsigned long long)v);
	cr_assert(cli_parse_u64(" 5", &v) && v == 5); /* blanks before a number: as before */
	cr_assert(cli_parse_u64("1e6", &v) && v == 1000000);
}
