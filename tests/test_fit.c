/* Fitting options of solve and train: the intercept (--bias), the warm start
 * (--init), and the auto step of SGD under a tight tolerance. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feral.h"
#include "shell.h"

TestSuite(fit, .timeout = SHELL_TIMEOUT(120));

static void setup(void)
{
	tmpdir_make("fit");
}

/* One feature x uniform in [0, 1], label +1 when x > 0.7: the classes are
 * separable by a threshold, which a linear model through the origin cannot
 * represent (sign(w x) is the same for every x > 0), and one with an
 * intercept can. */
static void write_threshold(const char *name, int n, unsigned seed)
{
	FILE *f = fopen(tmp_path(name), "w");
	cr_assert_not_null(f);
	srand(seed);
	for (int i = 0; i < n; i++) {
		double x = (i + 0.5) / n;
		(void)rand();
		fprintf(f, "%d 1:%.6f\n", x > 0.7 ? 1 : -1, x);
	}
	fclose(f);
}

/* A float32 1-D .npy of n values (version 1.0: 10 bytes, then the header
 * dict padded with spaces to 128 bytes in all, ending in a newline). */
static void write_npy_f32(const char *name, const float *v, int n)
{
	char hdr[128];
	memset(hdr, ' ', sizeof hdr);
	memcpy(hdr, "\x93NUMPY\x01\x00\x76\x00", 10); /* header length 118 */
	int k = snprintf(hdr + 10, sizeof hdr - 10,
	                 "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }", n);
	hdr[10 + k] = ' ';
	hdr[127] = '\n';
	FILE *f = fopen(tmp_path(name), "wb");
	cr_assert_not_null(f);
	fwrite(hdr, 1, sizeof hdr, f);
	fwrite(v, sizeof *v, (size_t)n, f);
	fclose(f);
}

Test(fit, test_train_intercept_is_on_by_default_and_predict_applies_it, .init = setup,
     .fini = tmpdir_remove)
{
	write_threshold("t.svm", 2000, 1);
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-4 --json -o m.txt"), 0, "%s", out);
	double with = json_num("train_accuracy");
	cr_assert_eq(json_num("d"), 1, "d counts the data's features: %s", out);
	cr_assert_eq(json_num("bias"), 1, "%s", out);
	cr_assert_geq(with, 0.97, "an intercept separates the threshold: %s", out);
	cr_assert_eq(shell_run(0, "sed -n 6p m.txt"), 0);
	cr_assert_str_eq(out, "bias 1\n");
	/* predict adds B times the last weight */
	cr_assert_eq(shell_feral(0, "predict m.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), with, 1e-12, "%s", out);
	/* without it: no better than the majority class (0.7) */
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-4 --no-bias --json -o m0.txt"), 0,
	             "%s", out);
	double without = json_num("train_accuracy");
	cr_assert_leq(without, 0.71, "no intercept: %s", out);
	cr_assert_null(strstr(out, "\"bias\""), "%s", out);
	cr_assert_eq(shell_run(0, "grep -c bias m0.txt"), 1, "a model without bias has no bias line");
	/* --bias -1 is liblinear's off */
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-4 --bias -1 --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("train_accuracy"), without, 1e-12);
	/* another B: the same model up to the regularisation of the bias
	 * weight, so nearly the same accuracy, and the model says B */
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-4 --bias 10 --json -o m10.txt"), 0,
	             "%s", out);
	cr_assert_geq(json_num("train_accuracy"), 0.97, "%s", out);
	cr_assert_eq(shell_run(0, "sed -n 6p m10.txt"), 0);
	cr_assert_str_eq(out, "bias 10\n");
	/* an 8-bit cache gets the bias on each row's grid */
	cr_assert_eq(shell_feral(1, "convert t.svm t8.feral --precision 8"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "train t8.feral --precision 8 --threads 1 --l2 1e-4 --json"), 0,
	             "%s", out);
	cr_assert_geq(json_num("train_accuracy"), 0.95, "8-bit data with the bias: %s", out);
	/* the test set gets the same column */
	write_threshold("te.svm", 500, 2);
	cr_assert_eq(shell_feral(0, "train t.svm --test te.svm --threads 1 --l2 1e-4 --json"), 0, "%s",
	             out);
	cr_assert_geq(json_num("test_accuracy"), 0.97, "%s", out);
	/* one-vs-rest models carry it too */
	cr_assert_eq(shell_feral(0, "train t.svm --ovr --threads 1 --l2 1e-4 --json -o ovr.txt"), 0,
	             "%s", out);
	double ovr = json_num("train_accuracy");
	cr_assert_geq(ovr, 0.97, "%s", out);
	cr_assert_eq(shell_feral(0, "predict ovr.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), ovr, 1e-12, "%s", out);
	/* bad values */
	cr_assert_eq(shell_feral(1, "train t.svm --bias 0"), 2, "%s", out);
	cr_assert(strstr(out, "--bias 0"), "%s", out);
	cr_assert_eq(shell_feral(1, "train t.svm --bias x"), 2, "%s", out);
}

Test(fit, test_old_model_files_without_bias_still_predict, .init = setup, .fini = tmpdir_remove)
{
	write_threshold("t.svm", 100, 3);
	/* a model file as written before --bias: score = w x */
	write_text("old.txt", "feral-model 1\nloss logistic\nd 1\nlabels -1 1\npositive -\nweights\n2\n");
	cr_assert_eq(shell_feral(0, "predict old.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), 0.3, 1e-12, "every row +1: %s", out);
	/* the same weight with an intercept of -1.4 (B = 2, last weight -0.7):
	 * sign(2x - 1.4), the threshold exactly */
	write_text("new.txt", "feral-model 1\nloss logistic\nd 1\nlabels -1 1\npositive -\nbias 2\n"
	                      "weights\n2\n-0.7\n");
	cr_assert_eq(shell_feral(0, "predict new.txt t.svm --json"), 0, "%s", out);
	cr_assert_float_eq(json_num("accuracy"), 1.0, 1e-12, "%s", out);
	/* a bad bias line, and a missing bias weight (named by its line) */
	write_text("b0.txt", "feral-model 1\nloss logistic\nd 1\nlabels -1 1\npositive -\nbias 0\n"
	                     "weights\n2\n1\n");
	cr_assert_eq(shell_feral(1, "predict b0.txt t.svm"), 2, "%s", out);
	cr_assert(strstr(out, "bad header"), "%s", out);
	write_text("short.txt", "feral-model 1\nloss logistic\nd 1\nlabels -1 1\npositive -\nbias 1\n"
	                        "weights\n2\n");
	cr_assert_eq(shell_feral(1, "predict short.txt t.svm"), 2, "%s", out);
	cr_assert(strstr(out, "short.txt:9: bad or missing weight"), "%s", out);
}

Test(fit, test_solve_bias_fits_the_offset, .init = setup, .fini = tmpdir_remove)
{
	/* y = 2 + 0.5 x1 - x2, consistent: the weight of the constant column
	 * B = 4 is 2 / 4 */
	FILE *f = fopen(tmp_path("ls.svm"), "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 400; i++) {
		double x1 = sin(0.37 * i), x2 = cos(1.3 * i + 0.2);
		fprintf(f, "%.17g 1:%.9g 2:%.9g\n", 2 + 0.5 * (float)x1 - (float)x2, (float)x1, (float)x2);
	}
	fclose(f);
	cr_assert_eq(shell_feral(0, "solve ls.svm --bias 4 --tol 1e-12 --epochs 400 --threads 1 "
	                            "--json -o x.txt"),
	             0, "%s", out);
	cr_assert_eq(json_num("d"), 2, "%s", out);
	cr_assert_eq(shell_run(0, "cat x.txt"), 0);
	double x[3];
	cr_assert_eq(sscanf(out, "%lf %lf %lf", &x[0], &x[1], &x[2]), 3, "%s", out);
	cr_assert_float_eq(x[0], 0.5, 1e-5, "%s", out);
	cr_assert_float_eq(x[1], -1.0, 1e-5, "%s", out);
	cr_assert_float_eq(4 * x[2], 2.0, 1e-5, "intercept: %s", out);
	/* solve's default has none: the offset is left in the residual */
	cr_assert_eq(shell_feral(0, "solve ls.svm --threads 1 --json"), 0, "%s", out);
	cr_assert_null(strstr(out, "\"bias\""), "%s", out);
	cr_assert_gt(json_num("relative_residual"), 0.5, "%s", out);
}

Test(fit, test_init_warm_starts_from_a_model_or_a_vector, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen logistic --n 3000 --d 20 --seed 3 -o t.svm"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-3 --tol 1e-8 --json -o m.txt"), 0,
	             "%s", out);
	double cold = json_num("updates"), obj = json_num("objective");
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	/* from the optimum: certified (relative to ||grad F(0)||) at once */
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-3 --tol 1e-8 --json --init m.txt"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	cr_assert_lt(json_num("updates"), cold / 4, "warm start from the optimum: %s", out);
	cr_assert_float_eq(json_num("objective"), obj, 1e-9 * fabs(obj), "%s", out);
	/* a vector: solve's -o format (d+1 with the bias weight, or d) */
	cr_assert_eq(shell_run(0, "sed -n '8,$p' m.txt > w.txt && head -20 w.txt > w20.txt"), 0);
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-3 --tol 1e-8 --json --init w.txt"),
	             0, "%s", out);
	cr_assert_lt(json_num("updates"), cold / 4, "%s", out);
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --l2 1e-3 --tol 1e-8 --json --init w20.txt"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	/* float32 .npy */
	float v[21] = {0};
	v[0] = 0.5f;
	write_npy_f32("x32.npy", v, 21);
	cr_assert_eq(shell_feral(0, "train t.svm --threads 1 --epochs 1 --tol 0 --json --init x32.npy"),
	             0, "%s", out);
	/* bad files: exit 2 (1 for I/O) with the file named */
	write_npy_f32("x5.npy", v, 5);
	cr_assert_eq(shell_feral(1, "train t.svm --init x5.npy"), 2, "%s", out);
	cr_assert(strstr(out, "x5.npy: --init: 5 entries, expected 21"), "%s", out);
	write_text("nan.txt", "1\n2\nnan\n");
	cr_assert_eq(shell_feral(1, "train t.svm --init nan.txt"), 2, "%s", out);
	cr_assert(strstr(out, "nan.txt"), "%s", out);
	v[3] = NAN;
	write_npy_f32("nan.npy", v, 21);
	cr_assert_eq(shell_feral(1, "train t.svm --init nan.npy"), 2, "%s", out);
	cr_assert(strstr(out, "nan.npy"), "%s", out);
	cr_assert_eq(shell_feral(1, "train t.svm --init missing.npy"), 1, "%s", out);
	cr_assert(strstr(out, "missing.npy"), "%s", out);
	cr_assert_eq(shell_feral(1, "train t.svm --no-bias --init m.txt"), 2, "%s", out);
	cr_assert(strstr(out, "m.txt: --init: the model has an intercept"), "%s", out);
	cr_assert_eq(shell_feral(1, "train t.svm --ovr --init m.txt"), 2, "%s", out);
	cr_assert(strstr(out, "m.txt: --init: a model of 1 class"), "%s", out);
	cr_assert_eq(shell_feral(1, "train t.svm --init m.txt --resume m.txt"), 2, "%s", out);
	/* solve: from its own output */
	cr_assert_eq(shell_feral(1, "gen gaussian --n 2000 --d 10 --seed 2 -o g.feral"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.feral --threads 1 --tol 1e-10 --json -o x.npy"), 0, "%s",
	             out);
	cold = json_num("updates");
	cr_assert_eq(shell_feral(0, "solve g.feral --threads 1 --tol 1e-10 --json --init x.npy"), 0,
	             "%s", out);
	cr_assert_lt(json_num("updates"), cold / 4, "%s", out);
	cr_assert_eq(shell_feral(1, "solve g.feral --bias 1 --init x.npy --epochs 1 --tol 0"), 0, "%s",
	             out);
}

/* The auto step of SGD on a noisy system is sized for the accuracy the
 * update budget can reach, not for a tolerance it cannot: a tight tol used
 * to shrink the step ~ tol, and the run ended near x0 (relative error
 * 0.9995 at tol 1e-8 on this problem). */
Test(fit, test_sgd_auto_step_survives_a_tight_tol, .init = setup, .fini = tmpdir_remove)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = 6000;
	o.d = 50;
	o.noise = 0.5;
	o.seed = 1;
	struct feral_dataset *ds = NULL;
	double *planted = NULL;
	cr_assert_eq(feral_gen(&o, &ds, &planted, NULL), FERAL_OK);
	double *xls = malloc(o.d * sizeof *xls), *x = calloc(o.d, sizeof *x);
	cr_assert_eq(feral_lstsq(ds, xls, 0, NULL), FERAL_OK);
	double res_opt = feral_rel_residual(ds, xls);
	const double tols[] = {1e-4, 1e-8};
	for (int k = 0; k < 2; k++) {
		struct feral_config c;
		feral_config_init(&c);
		c.method = FERAL_METHOD_SGD;
		c.step_auto = 1;
		c.tol = tols[k];
		c.epochs = 50;
		c.threads = 1;
		struct feral_result r;
		/* with x* (the step from sigma2 at x*) */
		memset(x, 0, o.d * sizeof *x);
		cr_assert_eq(feral_solve(ds, &c, xls, x, &r, NULL, NULL), FERAL_OK);
		cr_assert_leq(r.rel_error, 1e-3, "tol %g, x* known: relative error %g, step %g", c.tol,
		              r.rel_error, r.step);
		/* without (the step from a pilot's sigma2) */
		memset(x, 0, o.d * sizeof *x);
		cr_assert_eq(feral_solve(ds, &c, NULL, x, &r, NULL, NULL), FERAL_OK);
		double res = feral_rel_residual(ds, x);
		cr_assert_leq(res, 1.02 * res_opt, "tol %g: residual %g, optimum %g, step %g", c.tol, res,
		              res_opt, r.step);
	}
	free(x);
	free(xls);
	free(planted);
	feral_dataset_destroy(&ds);
}

/* The default method of solve and train solves to the optimum on a fixed
 * point model too: HALP for least squares and logistic (plain 8-bit SGD
 * would stop at its horizon, ~1e-2), sgd where HALP does not apply (hinge)
 * or where bit centring was asked (--recenter); bench keeps sgd. */
Test(fit, test_fixed_point_model_defaults_to_halp, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen gaussian --n 4000 --d 20 -o g.npy"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --precision 8 --threads 1 --tol 1e-9 --json"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"halp\""), "%s", out);
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	cr_assert_leq(json_num("grad_norm_rel"), 1e-9, "%s", out);
	/* an 8-bit model on the float data, against the planted x* (consistent) */
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --model-precision 8 --threads 1 --xstar "
	                            "g.xstar.npy --tol 1e-8 --json"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"halp\""), "%s", out);
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	cr_assert_leq(json_num("relative_error"), 1e-8, "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --precision 8 --recenter --threads 1 "
	                            "--epochs 2 --json"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"sgd\""), "%s", out);
	write_threshold("t.svm", 2000, 1);
	cr_assert_eq(shell_feral(0, "train t.svm --precision 8 --threads 1 --l2 1e-3 --json"), 0,
	             "%s", out);
	cr_assert(strstr(out, "\"method\":\"halp\""), "%s", out);
	cr_assert(strstr(out, "\"converged\":true"), "%s", out);
	cr_assert_eq(shell_feral(0, "train t.svm --loss hinge --precision 8 --threads 1 --epochs 2 "
	                            "--json"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"sgd\""), "%s", out);
	cr_assert_eq(shell_feral(0, "solve g.npy g.b.npy --precision 16 --threads 1 --json"), 0, "%s",
	             out);
	cr_assert(strstr(out, "\"method\":\"halp\""), "%s", out);
}
