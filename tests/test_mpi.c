/* feral-mpi: data-parallel training with model averaging, run as
 * `mpirun --oversubscribe -n R build/feral-mpi ...` on localhost (2 and 4
 * ranks) and compared with the single-process `feral` within named bands.
 * Skipped (with a message) when feral-mpi was not built: MPI not found, or a
 * sanitizer build.  The single process runs with --threads 1, as each rank
 * does (feral's own default is every physical core). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feral.h"
#include "shell.h"

TestSuite(mpi, .timeout = SHELL_TIMEOUT(120));

/* Bands (named, so a failure says which claim broke). */
#define ACC_BAND 0.01     /* test accuracy: within 1 point of the single process */
#define LS_FACTOR 3.0     /* least squares at the horizon: rel. error within 3x */
#define N_TRAIN 5000
#define N_TEST 1000
#define D_LOG 20

static char bin[1024]; /* absolute build tmpdir */

static void skip_unless_mpi(void)
{
	const char *b = FERAL_BUILD_DIR;
	if (b[0] == '/')
		snprintf(bin, sizeof bin, "%s", b);
	else
		snprintf(bin, sizeof bin, "%s/%s", getenv("PWD") ? getenv("PWD") : ".", b);
	char path[1100];
	snprintf(path, sizeof path, "%s/feral-mpi", bin);
	if (access(path, X_OK) != 0) {
		fprintf(stderr, "[----] SKIPPED: %s not built (MPI not found, or a sanitizer build)\n",
		        path);
		cr_skip_test("%s not built (MPI not found, or a sanitizer build): MPI tests skipped",
		             path);
	}
	if (system("command -v mpirun >/dev/null 2>&1") != 0) {
		fprintf(stderr, "[----] SKIPPED: mpirun not on PATH\n");
		cr_skip_test("mpirun not on PATH: MPI tests skipped");
	}
	/* Open MPI refuses root without these; harmless otherwise */
	setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
	setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
	tmpdir_make("mpi");
}

static void teardown(void)
{
	if (tmpdir[0]) /* not when setup skipped the test first */
		tmpdir_remove();
}

/* build/feral ARGS (stdout only) */
static int FERAL(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int FERAL(const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return shell_run(0, "%s/feral %s", bin, args);
}

/* mpirun -n R feral-mpi ARGS (stdout only: the JSON of rank 0) */
static int mpi(int ranks, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mpi(int ranks, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return shell_run(0, "mpirun --oversubscribe -n %d %s/feral-mpi %s", ranks, bin, args);
}

static int json_has(const char *key, const char *str_value)
{
	char pat[256];
	snprintf(pat, sizeof pat, "\"%s\":\"%s\"", key, str_value);
	return strstr(out, pat) != NULL;
}

/* Rows [b, e) of a dense f32 dataset, saved to tmpdir/name. */
static void save_rows(const struct feral_dataset *ds, uint64_t b, uint64_t e, const char *name)
{
	struct feral_dataset *s = NULL;
	struct feral_error err = {0};
	cr_assert_eq(feral_dataset_create(e - b, ds->d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &s,
	                                  &err),
	             FERAL_OK, "%s", err.msg);
	memcpy(s->values, (const float *)ds->values + b * ds->d, (e - b) * ds->d * sizeof(float));
	memcpy(s->y, ds->y + b, (e - b) * sizeof *s->y);
	feral_dataset_update_norms(s);
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	cr_assert_eq(feral_dataset_save(s, path, &err), FERAL_OK, "%s: %s", path, err.msg);
	feral_dataset_destroy(&s);
}

/* A planted logistic problem: tr.feral (N_TRAIN rows), te.feral (N_TEST). */
static void make_logistic(void)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_LOGISTIC);
	o.n = N_TRAIN + N_TEST;
	o.d = D_LOG;
	o.seed = 7;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	struct feral_error err = {0};
	cr_assert_eq(feral_gen(&o, &ds, &xs, &err), FERAL_OK, "%s", err.msg);
	save_rows(ds, 0, N_TRAIN, "tr.feral");
	save_rows(ds, N_TRAIN, N_TRAIN + N_TEST, "te.feral");
	free(xs);
	feral_dataset_destroy(&ds);
}

static double single_accuracy(void)
{
	cr_assert_eq(FERAL("train tr.feral --test te.feral --threads 1 --json"), 0, "feral train: %s", out);
	return json_num("test_accuracy");
}

Test(mpi, test_logistic_2_and_4_ranks_match_single_process_accuracy, .fini = teardown)
{
	skip_unless_mpi();
	make_logistic();
	double a1 = single_accuracy();
	for (int R = 2; R <= 4; R += 2) {
		int rc = mpi(R, "train tr.feral --test te.feral -o m%d.txt --json", R);
		cr_assert_eq(rc, 0, "R=%d: exit %d: %s", R, rc, out);
		double a = json_num("test_accuracy");
		cr_assert(fabs(a - a1) <= ACC_BAND,
		          "R=%d: test accuracy %.4f vs single process %.4f: outside +-%.2f", R, a, a1,
		          ACC_BAND);
		cr_assert_eq(json_num("ranks"), R);
		cr_assert_eq(json_num("n"), N_TRAIN, "R=%d: n %g", R, json_num("n"));
		cr_assert(json_has("shard_method", "cache-rows"), "R=%d: %s", R, out);
		cr_assert_eq(json_num("shard_rows_min") * 1.0, (double)(N_TRAIN / R), "R=%d", R);
		/* default: one average per epoch of the global n, 10 epochs */
		cr_assert_eq(json_num("averages"), 10, "R=%d: averages %g", R, json_num("averages"));
		cr_assert_eq(json_num("updates"), 10.0 * N_TRAIN, "R=%d", R);
		/* ring Allreduce of d doubles: 2 8d bytes over all ranks */
		cr_assert_eq(json_num("bytes_per_average"), 2.0 * (R - 1) * 8 * D_LOG, "R=%d: %g", R,
		             json_num("bytes_per_average"));
		cr_assert_eq(json_num("comm_bytes_total"), 10 * 2.0 * (R - 1) * 8 * D_LOG, "R=%d", R);
		cr_assert(json_num("average_seconds_mean") > 0, "R=%d: time per average", R);
		/* the model file is the one `feral predict` reads */
		rc = FERAL("predict m%d.txt te.feral --json", R);
		cr_assert_eq(rc, 0, "R=%d: predict: %s", R, out);
		cr_assert(fabs(json_num("accuracy") - a) < 1e-9, "R=%d: predict %g vs %g", R,
		          json_num("accuracy"), a);
	}
}

/* Staleness is reported in feral-mpi's record as in feral's: inside each rank's
 * Hogwild! team; one thread with --delay 8 has a staleness of exactly 8 on every
 * rank, so the update-weighted mean, the p99 and the max are all 8. */
Test(mpi, test_staleness_reported_delay_exact_on_every_rank, .fini = teardown)
{
	skip_unless_mpi();
	make_logistic();
	int rc = mpi(2, "train tr.feral --threads 1 --delay 8 --json");
	cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
	cr_assert_eq(json_num("staleness_mean"), 8.0, "%s", out);
	cr_assert_eq(json_num("staleness_p99"), 8.0, "%s", out);
	cr_assert_eq(json_num("staleness_max"), 8.0, "%s", out);
	rc = mpi(2, "train tr.feral --threads 1 --json");
	cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
	cr_assert_eq(json_num("staleness_max"), 0.0, "one thread, no delay: %s", out);
	cr_assert(json_has("method", "sgd"), "%s", out);
}

Test(mpi, test_low_precision_communication_8_and_16_bits, .fini = teardown)
{
	skip_unless_mpi();
	make_logistic();
	double a1 = single_accuracy();
	const int bits[] = {8, 16}, ranks[] = {4, 2};
	for (int k = 0; k < 2; k++) {
		int B = bits[k], R = ranks[k];
		int rc = mpi(R, "train tr.feral --test te.feral --comm-bits %d --average-every 500 --json",
		             B);
		cr_assert_eq(rc, 0, "%d bits, R=%d: exit %d: %s", B, R, rc, out);
		double a = json_num("test_accuracy");
		cr_assert(fabs(a - a1) <= ACC_BAND,
		          "%d-bit comm, R=%d: test accuracy %.4f vs single %.4f: outside +-%.2f", B, R, a,
		          a1, ACC_BAND);
		cr_assert(json_has("comm_op", "allgather"), "%s", out);
		/* one 8-byte scale + d values of B bits, gathered by R-1 peers */
		double msg = 8 + D_LOG * B / 8;
		cr_assert_eq(json_num("message_bytes"), msg, "%d bits: %g", B, json_num("message_bytes"));
		cr_assert_eq(json_num("bytes_per_average"), R * (R - 1) * msg, "%d bits", B);
		double avgs = json_num("averages");
		cr_assert_eq(avgs, 10.0 * N_TRAIN / R / 500, "%d bits: averages %g", B, avgs);
	}
}

Test(mpi, test_least_squares_rel_error_within_factor_of_single_process, .fini = teardown)
{
	skip_unless_mpi();
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 4000;
	o.d = 20;
	o.noise = 0.1;
	o.seed = 3;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	struct feral_error err = {0};
	cr_assert_eq(feral_gen(&o, &ds, &xs, &err), FERAL_OK, "%s", err.msg);
	char p[512];
	snprintf(p, sizeof p, "%s/g.feral", tmpdir);
	cr_assert_eq(feral_dataset_save(ds, p, &err), FERAL_OK, "%s", err.msg);
	snprintf(p, sizeof p, "%s/xs.npy", tmpdir);
	cr_assert_eq(feral_vector_save(p, xs, o.d, &err), FERAL_OK, "%s", err.msg);
	free(xs);
	feral_dataset_destroy(&ds);
	/* a constant step run to its horizon: the comparison is at the plateau */
	const char *opts = "--xstar xs.npy --method sgd --step 0.2 --tol 0 --epochs 20 --json";
	cr_assert_eq(FERAL("solve g.feral %s --threads 1", opts), 0, "feral solve: %s", out);
	double e1 = json_num("relative_error");
	for (int R = 2; R <= 4; R += 2) {
		int rc = mpi(R, "solve g.feral %s", opts);
		cr_assert_eq(rc, 0, "R=%d: exit %d: %s", R, rc, out);
		double e = json_num("relative_error");
		cr_assert(isfinite(e) && e <= LS_FACTOR * e1 && e >= e1 / (10 * LS_FACTOR),
		          "R=%d: relative error %.3g vs single process %.3g: outside x%.0f", R, e, e1,
		          LS_FACTOR);
	}
}

Test(mpi, test_libsvm_ranks_parse_only_their_byte_range, .fini = teardown)
{
	skip_unless_mpi();
	make_logistic();
	double a1 = single_accuracy();
	cr_assert_eq(FERAL("convert tr.feral tr.svm"), 0, "convert: %s", out);
	int rc = mpi(2, "train tr.svm --test te.feral --json");
	cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
	cr_assert(json_has("shard_method", "libsvm-bytes"),
	          "expected byte-range shards (feral_load_options.byte_begin/end): %s", out);
	cr_assert_eq(json_num("n"), N_TRAIN, "rows over both ranks: %s", out);
	cr_assert_eq(json_num("d"), D_LOG, "%s", out);
	cr_assert(fabs(json_num("test_accuracy") - a1) <= ACC_BAND, "accuracy %g vs %g",
	          json_num("test_accuracy"), a1);
}

Test(mpi, test_errors_exit_codes, .fini = teardown)
{
	skip_unless_mpi();
	cr_assert_eq(mpi(2, "train missing.feral"), 1, "missing file: %s", out);
	cr_assert_eq(mpi(2, "train x.feral --comm-bits 7"), 2, "bad --comm-bits: %s", out);
	cr_assert_eq(mpi(2, "frobnicate"), 2, "unknown command: %s", out);
}
