/* Real workloads on small slices made on the fly (no data set is committed):
 * the first 2000 Fashion-MNIST training images (IDX loader; skipped when the
 * Debian package dataset-fashion-mnist is absent) trained binary at 32 and 8
 * bits and one-vs-rest with 10 classes; one-vs-rest on a synthetic 3-class
 * problem (model format version 2, predict, version 1 still read); and the
 * SpamAssassin converter scripts/data/spam2svm.py on a tiny synthetic JSON
 * corpus (skipped without /usr/bin/python3).  Every training run passes
 * --threads 1: the bands were measured there, and no outcome may depend on
 * the host's core count (the default is every physical core). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feral.h"
#include "shell.h"

TestSuite(workloads, .timeout = SHELL_TIMEOUT(60));

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define PYTHON "/usr/bin/python3"

/* Bands, measured on these slices (seeds 1..3: binary 0.938-0.943 at 32 and
 * 8 bits, one-vs-rest 0.779-0.781); the full sets give 0.95 and 0.84. */
#define FASHION_SLICE_BINARY_MIN 0.92
#define FASHION_SLICE_OVR_MIN 0.74
#define SYNTH_OVR_MIN 0.95

static void setup(void)
{
	tmpdir_make("wl");
}

/* Run a shell command in tmpdir (stdout, or stdout+stderr when merge);
 * return the exit code.  "@F" at the start of cmd stands for the feral
 * binary. */
static int sh(int merge, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	if (!strncmp(args, "@F ", 3))
		return shell_feral(merge, "%s", args + 3);
	return shell_run(merge, "%s", args);
}

/* The first `rows` rows of an IDX image file with its labels, as LIBSVM. */
static void fashion_slice(const char *images, const char *labels, uint64_t rows, const char *out_name)
{
	char ip[512], lp[512];
	snprintf(ip, sizeof ip, "%s/%s", FASHION_DIR, images);
	snprintf(lp, sizeof lp, "%s/%s", FASHION_DIR, labels);
	struct feral_dataset *all = NULL, *sl = NULL;
	struct feral_error err = {0};
	struct feral_load_options lo;
	feral_load_options_init(&lo);
	cr_assert_eq(feral_dataset_load(ip, &lo, &all, &err), FERAL_OK, "%s: %s", ip, err.msg);
	cr_assert_eq(feral_dataset_load_targets(all, lp, &err), FERAL_OK, "%s: %s", lp, err.msg);
	cr_assert_eq(all->layout, FERAL_LAYOUT_DENSE);
	cr_assert_eq(all->precision, FERAL_PRECISION_F32);
	cr_assert_geq(all->n, rows);
	cr_assert_eq(feral_dataset_create(rows, all->d, rows * all->d, FERAL_LAYOUT_DENSE,
	                                  FERAL_PRECISION_F32, &sl, &err),
	             FERAL_OK, "%s", err.msg);
	memcpy(sl->values, all->values, rows * all->d * sizeof(float));
	memcpy(sl->y, all->y, rows * sizeof(double));
	feral_dataset_update_norms(sl);
	cr_assert_eq(feral_dataset_save(sl, tmp_path(out_name), &err), FERAL_OK, "%s", err.msg);
	feral_dataset_destroy(&sl);
	feral_dataset_destroy(&all);
}

static int have_fashion(void)
{
	return access(FASHION_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0 &&
	       access(FASHION_DIR "/t10k-labels-idx1-ubyte.gz", R_OK) == 0;
}

Test(workloads, test_fashion_slice_binary_and_ovr_reach_their_bands, .init = setup,
     .fini = tmpdir_remove)
{
	if (!have_fashion())
		cr_skip_test("%s not installed (Debian package dataset-fashion-mnist)", FASHION_DIR);
	fashion_slice("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 2000, "tr.svm");
	fashion_slice("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 1000, "te.svm");
	/* binary: T-shirt/top, pullover, coat, shirt against the rest */
	/* the bands are SVRG's after 10 epochs (newton, the default, counts passes) */
	const char *cfg[] = {"--method svrg --epochs 10", "--epochs 10 --precision 8 --step 0.1"};
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(sh(0, "@F train tr.svm --test te.svm --positive 0,2,4,6 %s --threads 1 --json -o b.txt",
		                cfg[k]),
		             0, "%s: %s", cfg[k], out);
		double acc = json_num("test_accuracy");
		cr_assert_geq(acc, FASHION_SLICE_BINARY_MIN, "binary %s: test accuracy %g < %g", cfg[k],
		              acc, FASHION_SLICE_BINARY_MIN);
		cr_assert_eq(sh(0, "@F predict b.txt te.svm --json"), 0, "%s", out);
		cr_assert_float_eq(json_num("accuracy"), acc, 1e-12, "predict disagrees (%s)", cfg[k]);
	}
	/* ten classes, one-vs-rest */
	cr_assert_eq(sh(0, "@F train tr.svm --test te.svm --ovr --method svrg --epochs 10 --threads 1 --json -o m.txt"), 0, "%s", out);
	double acc = json_num("test_accuracy");
	cr_assert_eq(json_num("classes"), 10, "%s", out);
	cr_assert_geq(acc, FASHION_SLICE_OVR_MIN, "one-vs-rest: test accuracy %g < %g", acc,
	              FASHION_SLICE_OVR_MIN);
	cr_assert_eq(sh(0, "@F predict m.txt te.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), acc, 1e-12, "predict disagrees with train");
	cr_assert_eq(sh(0, "head -5 m.txt"), 0);
	cr_assert(strstr(out, "feral-model 2\n") && strstr(out, "classes 10\n") &&
	          strstr(out, "labels 0 1 2 3 4 5 6 7 8 9\n"),
	          "model header: %s", out);
}

/* Three Gaussian blobs around e_1, e_2, e_3 (plus a constant column), labels 5, 7, 9. */
static void write_blobs(const char *name, int n, unsigned seed)
{
	FILE *f = fopen(tmp_path(name), "w");
	cr_assert_not_null(f);
	srand(seed);
	static const int lab[3] = {5, 7, 9};
	for (int i = 0; i < n; i++) {
		int c = i % 3;
		fprintf(f, "%d", lab[c]);
		for (int j = 0; j < 3; j++) {
			double u = (double)rand() / RAND_MAX - 0.5;
			fprintf(f, " %d:%.6f", j + 1, (j == c ? 1.0 : 0.0) + 0.5 * u);
		}
		fprintf(f, " 4:1\n");
	}
	fclose(f);
}

Test(workloads, test_ovr_model_v2_roundtrip_and_v1_still_read, .init = setup, .fini = tmpdir_remove)
{
	write_blobs("tr.svm", 900, 1);
	write_blobs("te.svm", 300, 2);
	cr_assert_eq(sh(0, "@F train tr.svm --test te.svm --multiclass ovr --epochs 10 --threads 1 --json -o m.txt"), 0, "%s",
	             out);
	double acc = json_num("test_accuracy");
	cr_assert_geq(acc, SYNTH_OVR_MIN, "3 blobs: test accuracy %g", acc);
	cr_assert_eq(json_num("classes"), 3);
	cr_assert_eq(sh(0, "head -7 m.txt"), 0);
	cr_assert(!strcmp(out, "feral-model 2\nloss logistic\nd 4\nclasses 3\nlabels 5 7 9\nbias 1\n"
	                       "weights\n"),
	          "header: %s", out);
	cr_assert_eq(sh(0, "wc -l < m.txt"), 0);
	cr_assert_eq(atoi(out), 7 + 3 * (4 + 1), "lines (4 weights and the bias's a class): %s", out);
	/* predict prints labels from the class set, and the same accuracy */
	cr_assert_eq(sh(0, "@F predict m.txt te.svm 2>/dev/null | sort -u | tr '\\n' ' '"), 0);
	cr_assert(!strcmp(out, "5 7 9 "), "predicted labels: %s", out);
	cr_assert_eq(sh(0, "@F predict m.txt te.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), acc, 1e-12);
	/* binary models are still version 1 and still read */
	cr_assert_eq(sh(0, "@F train tr.svm --positive 7 --epochs 10 --threads 1 --json -o b.txt"), 0, "%s", out);
	cr_assert_eq(sh(0, "head -1 b.txt"), 0);
	cr_assert(!strcmp(out, "feral-model 1\n"), "%s", out);
	cr_assert_eq(sh(0, "@F predict b.txt te.svm --json"), 0, "%s", out);
	cr_assert_gt(json_num("accuracy"), 0.9);
	/* bad inputs: exit 2 with a message */
	write_text("bad.txt", "feral-model 2\nloss logistic\nd 4\nclasses 3\nlabels 5 7\nweights\n1\n");
	cr_assert_eq(sh(1, "@F predict bad.txt te.svm"), 2, "%s", out);
	cr_assert(strstr(out, "bad header"), "%s", out);
	write_text("short.txt", "feral-model 2\nloss logistic\nd 2\nclasses 2\nlabels 0 1\nweights\n1\n2\n3\n");
	cr_assert_eq(sh(1, "@F predict short.txt te.svm"), 2, "%s", out);
	cr_assert(strstr(out, "short.txt:10: bad or missing weight"), "%s", out);
	cr_assert_eq(sh(1, "@F train tr.svm --ovr --positive 5"), 2, "%s", out);
	cr_assert_eq(sh(1, "@F train tr.svm --multiclass all"), 2, "%s", out);
	write_text("one.svm", "3 1:1\n3 1:2\n");
	cr_assert_eq(sh(1, "@F train one.svm --ovr"), 2, "%s", out);
	cr_assert(strstr(out, "distinct labels"), "%s", out);
}

/* One email as the npm package stores it. */
static void write_email(const char *group, const char *name, const char *text)
{
	char rel[256], cmd[512];
	snprintf(rel, sizeof rel, "pkg/data/%s", group);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", tmpdir, rel);
	cr_assert_eq(system(cmd), 0);
	char file[512];
	snprintf(file, sizeof file, "%s/%s.json", rel, name);
	char body[2048];
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"group\":\"%s\",\"text\":\"%s\"}", name, group,
	         text);
	write_text(file, body);
}

Test(workloads, test_spam_converter_on_a_tiny_corpus, .init = setup, .fini = tmpdir_remove)
{
	if (access(PYTHON, X_OK) != 0)
		cr_skip_test("%s not found", PYTHON);
	/* 8 emails: 4 spam, 4 ham; "To:" headers must not become features */
	write_email("spam-1", "00001", "To: a@b\\nSubject: FREE money\\n\\nfree free money now!");
	write_email("spam-1", "00002", "Subject: win $$$\\n\\nclick here to win");
	write_email("spam-2", "00001", "Subject: cheap pills\\n\\nbuy cheap pills");
	write_email("spam-2", "00002", "Subject: offer\\n\\nlimited offer, act now!");
	write_email("easy-ham-1", "00001", "To: team\\nSubject: meeting\\n\\nsee you at the meeting");
	write_email("easy-ham-1", "00002", "Subject: patch\\n\\nthe patch fixes the build");
	write_email("easy-ham-2", "00001", "Subject: lunch\\n\\nlunch at noon?");
	write_email("hard-ham-1", "00001", "Subject: newsletter\\n\\nour weekly newsletter");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s/scripts/data/spam2svm.py pkg out --test-fraction 0.25 --seed 7",
	         PYTHON, getenv("PWD"));
	cr_assert_eq(sh(1, "%s", cmd), 0, "%s", out);
	cr_assert(strstr(out, "8 emails (4 spam), 6 train / 2 test"), "%s", out);
	/* every row: label +-1, sorted 1-based indices below 2^18, unit L2 norm */
	const char *parts[] = {"out/train.svm", "out/test.svm"};
	int rows = 0, spam = 0, saw_free = 0;
	for (int k = 0; k < 2; k++) {
		FILE *f = fopen(tmp_path(parts[k]), "r");
		cr_assert_not_null(f, "%s", parts[k]);
		char line[4096];
		while (fgets(line, sizeof line, f)) {
			rows++;
			char *save = NULL, *t = strtok_r(line, " \n", &save);
			cr_assert(!strcmp(t, "+1") || !strcmp(t, "-1"), "label %s", t);
			spam += t[0] == '+';
			double sq = 0;
			long prev = 0;
			int nnz = 0;
			double vals[64];
			while ((t = strtok_r(NULL, " \n", &save))) {
				long j = strtol(t, NULL, 10);
				double v = strtod(strchr(t, ':') + 1, NULL);
				cr_assert(j > prev && j <= (1L << 18), "index %ld after %ld", j, prev);
				prev = j;
				sq += v * v;
				if (nnz < 64)
					vals[nnz] = v;
				nnz++;
			}
			cr_assert_float_eq(sq, 1.0, 1e-5, "row %d of %s: squared norm %g", rows, parts[k], sq);
			/* "free money" + "free free money now !": free x3, money x2, now, ! */
			if (nnz == 4) {
				double s3 = 3 / sqrt(15), s2 = 2 / sqrt(15), s1 = 1 / sqrt(15);
				int n3 = 0, n2 = 0, n1 = 0;
				for (int q = 0; q < 4; q++) {
					n3 += fabs(vals[q] - s3) < 1e-5;
					n2 += fabs(vals[q] - s2) < 1e-5;
					n1 += fabs(vals[q] - s1) < 1e-5;
				}
				saw_free |= n3 == 1 && n2 == 1 && n1 == 2;
			}
		}
		fclose(f);
	}
	cr_assert_eq(rows, 8);
	cr_assert_eq(spam, 4);
	cr_assert(saw_free, "no row with term counts 3, 2, 1, 1 (subject + body, To: dropped)");
	/* the split is a function of the seed */
	snprintf(cmd, sizeof cmd, "%s %s/scripts/data/spam2svm.py pkg out2 --test-fraction 0.25 --seed 7 && cmp out/test.svm out2/test.svm",
	         PYTHON, getenv("PWD"));
	cr_assert_eq(sh(1, "%s", cmd), 0, "same seed, different split: %s", out);
	/* feral reads the output */
	cr_assert_eq(sh(1, "@F train out/train.svm --test out/test.svm --epochs 5 --threads 1"), 0, "%s", out);
}
