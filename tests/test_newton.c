/* Method NEWTON (src/newton.c): trust-region Newton-CG reaches the optimum
 * of L2 logistic regression computed here by a plain dense Newton method
 * (dense and CSR rows, 1 and 2 threads, 8-bit data), least squares to
 * LAPACK's solution, stops on the certified tolerance, reports a budget
 * that ran out as not converged, is bit-for-bit reproducible for a given
 * thread count, stops at once from a warm start at the optimum, and rejects
 * the hinge loss and fixed point models; the CLI picks it by default. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>

#include "internal.h"
#include "engine.h"
#include "shell.h"

TestSuite(newton, .timeout = SHELL_TIMEOUT(120));

#define OBJ_GAP 1e-10 /* relative objective gap to the reference optimum */
#define X_GAP 1e-8    /* ||x - x_ref||^2 / ||x_ref||^2 */

#include "solve_ok.h"

static void newton_config(struct feral_config *c, enum feral_loss loss, double l2, int threads)
{
	feral_config_init(c);
	c->method = FERAL_METHOD_NEWTON;
	c->loss = loss;
	c->l2 = l2;
	c->threads = threads;
	c->tol = 1e-10;
	c->epochs = 500;
}

/* a_i as a dense double row (any layout, dequantized) */
static void dense_row(const struct feral_dataset *ds, uint64_t i, double *row)
{
	memset(row, 0, ds->d * sizeof *row);
	if (ds->layout == FERAL_LAYOUT_CSR) {
		for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
			row[ds->indices[k]] = feral_dataset_value(ds, i, k);
	} else {
		for (uint64_t j = 0; j < ds->d; j++)
			row[j] = feral_dataset_value(ds, i, i * ds->d + j);
	}
}

/* Solve H s = g in place (H symmetric positive definite, d x d) by a
 * plain Cholesky factorisation. */
static void chol_solve(double *H, double *g, uint64_t d)
{
	for (uint64_t j = 0; j < d; j++) {
		double s = H[j * d + j];
		for (uint64_t k = 0; k < j; k++)
			s -= H[j * d + k] * H[j * d + k];
		cr_assert(s > 0, "reference Hessian not positive definite");
		H[j * d + j] = sqrt(s);
		for (uint64_t i = j + 1; i < d; i++) {
			double t = H[i * d + j];
			for (uint64_t k = 0; k < j; k++)
				t -= H[i * d + k] * H[j * d + k];
			H[i * d + j] = t / H[j * d + j];
		}
	}
	for (uint64_t i = 0; i < d; i++) { /* L y = g */
		for (uint64_t k = 0; k < i; k++)
			g[i] -= H[i * d + k] * g[k];
		g[i] /= H[i * d + i];
	}
	for (uint64_t i = d; i-- > 0;) { /* L^T s = y */
		for (uint64_t k = i + 1; k < d; k++)
			g[i] -= H[k * d + i] * g[k];
		g[i] /= H[i * d + i];
	}
}

/* The reference optimum: full Newton steps with the exact Hessian, element
 * by element in double (no kernels, no CG, no trust region). */
static void reference(const struct feral_dataset *ds, const struct feral_config *c, double *w)
{
	uint64_t n = ds->n, d = ds->d;
	double *g = malloc(d * sizeof *g), *H = malloc(d * d * sizeof *H),
	       *row = malloc(d * sizeof *row);
	memset(w, 0, d * sizeof *w);
	for (int it = 0; it < 40; it++) {
		memset(g, 0, d * sizeof *g);
		memset(H, 0, d * d * sizeof *H);
		for (uint64_t i = 0; i < n; i++) {
			dense_row(ds, i, row);
			double t = 0;
			for (uint64_t j = 0; j < d; j++)
				t += row[j] * w[j];
			double y = ds->y[i], c1, c2;
			if (c->loss == FERAL_LOSS_LS) {
				c1 = t - y;
				c2 = 1;
			} else {
				double s = 1 / (1 + exp(-y * t));
				c1 = -y * (1 - s);
				c2 = s * (1 - s);
			}
			for (uint64_t a = 0; a < d; a++) {
				g[a] += c1 * row[a] / (double)n;
				for (uint64_t b = 0; b < d; b++)
					H[a * d + b] += c2 * row[a] * row[b] / (double)n;
			}
		}
		for (uint64_t a = 0; a < d; a++) {
			g[a] += c->l2 * w[a];
			H[a * d + a] += c->l2;
		}
		chol_solve(H, g, d);
		for (uint64_t j = 0; j < d; j++)
			w[j] -= g[j];
	}
	free(g);
	free(H);
	free(row);
}

static void optimum_case(enum feral_gen_kind kind, enum feral_loss loss, int threads,
                         enum feral_precision prec)
{
	/* 2 threads: enough nonzeros that both get rows (MIN_NNZ_PER_THREAD) */
	struct feral_dataset *ds = gen_problem(kind, threads > 1 ? 16000 : 1500, 12, -1, 5, 0.6);
	if (prec != FERAL_PRECISION_F32) {
		struct feral_dataset *q = NULL;
		struct feral_error e = {0};
		cr_assert_eq(feral_dataset_quantize(ds, prec, 7, &q, &e), FERAL_OK, "%s", e.msg);
		feral_dataset_destroy(&ds);
		ds = q;
	}
	if (loss == FERAL_LOSS_LOGISTIC)
		for (uint64_t i = 0; i < ds->n; i++)
			ds->y[i] = ds->y[i] > 0 ? 1 : -1;
	uint64_t d = ds->d;
	struct feral_config c;
	newton_config(&c, loss, 1.0 / (double)ds->n, threads);
	double *w = malloc(d * sizeof *w), *x = calloc(d, sizeof *x);
	reference(ds, &c, w);
	double fstar = feral_objective(ds, &c, w);
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	double f = feral_objective(ds, &c, x);
	cr_assert(r.converged, "not converged: gradient %g", r.grad_norm_rel);
	cr_assert_eq(r.threads, threads, "threads %d", r.threads);
	cr_assert(r.grad_norm_rel <= c.tol, "gradient %g", r.grad_norm_rel);
	cr_assert(fabs(f - fstar) <= OBJ_GAP * fabs(fstar), "objective %.15g vs reference %.15g",
	          f, fstar);
	cr_assert(rel_err2(x, w, d) <= X_GAP, "||x - x_ref||^2/||x_ref||^2 = %g", rel_err2(x, w, d));
	cr_assert(fabs(r.objective - f) <= 1e-12 * fabs(f), "reported objective %.15g vs %.15g",
	          r.objective, f);
	cr_assert(r.updates % ds->n == 0 && r.updates > 0, "updates %llu: whole passes",
	          (unsigned long long)r.updates);
	free(w);
	free(x);
	feral_dataset_destroy(&ds);
}

Test(newton, test_logistic_dense_1_thread)
{
	optimum_case(FERAL_GEN_LOGISTIC, FERAL_LOSS_LOGISTIC, 1, FERAL_PRECISION_F32);
}
Test(newton, test_logistic_dense_2_threads)
{
	optimum_case(FERAL_GEN_LOGISTIC, FERAL_LOSS_LOGISTIC, 2, FERAL_PRECISION_F32);
}
Test(newton, test_logistic_csr_2_threads)
{
	optimum_case(FERAL_GEN_SPARSE, FERAL_LOSS_LOGISTIC, 2, FERAL_PRECISION_F32);
}
Test(newton, test_logistic_int8_data)
{
	optimum_case(FERAL_GEN_LOGISTIC, FERAL_LOSS_LOGISTIC, 1, FERAL_PRECISION_I8);
}
Test(newton, test_least_squares_csr)
{
	optimum_case(FERAL_GEN_SPARSE, FERAL_LOSS_LS, 1, FERAL_PRECISION_F32);
}
Test(newton, test_least_squares_dense_2_threads)
{
	optimum_case(FERAL_GEN_GAUSSIAN, FERAL_LOSS_LS, 2, FERAL_PRECISION_F32);
}

/* Large enough that 2 threads really split the rows (MIN_NNZ_PER_THREAD). */
static struct feral_dataset *big_logistic(void)
{
	return gen_problem(FERAL_GEN_SPARSE, 20000, 400, 0.5, 3, 0.01);
}

Test(newton, test_fixed_thread_count_is_bit_reproducible)
{
	struct feral_dataset *ds = big_logistic();
	for (uint64_t i = 0; i < ds->n; i++)
		ds->y[i] = ds->y[i] > 0 ? 1 : -1;
	uint64_t d = ds->d;
	for (int threads = 1; threads <= 2; threads++) {
		double *a = calloc(d, sizeof *a), *b = calloc(d, sizeof *b);
		struct feral_config c;
		newton_config(&c, FERAL_LOSS_LOGISTIC, 1e-4, threads);
		struct feral_result ra, rb;
		struct feral_trace ta = {0}, tb = {0};
		SOLVE_OK(ds, &c, NULL, a, &ra, &ta);
		SOLVE_OK(ds, &c, NULL, b, &rb, &tb);
		cr_assert_eq(ra.threads, threads, "threads %d", ra.threads);
		cr_assert_eq(memcmp(a, b, d * sizeof *a), 0, "%d threads: iterates differ", threads);
		cr_assert_eq(ta.len, tb.len);
		cr_assert(ta.len >= 3, "one trace point per iteration: %zu", ta.len);
		for (size_t k = 0; k < ta.len; k++)
			cr_assert(ta.pts[k].objective == tb.pts[k].objective, "trace point %zu", k);
		cr_assert(ra.grad_norm_rel == rb.grad_norm_rel && ra.updates == rb.updates);
		feral_trace_free(&ta);
		feral_trace_free(&tb);
		free(a);
		free(b);
	}
	feral_dataset_destroy(&ds);
}

/* A budget that runs out first: converged false, the gradient reached. */
Test(newton, test_budget_run_out_is_not_converged)
{
	struct feral_dataset *ds = big_logistic();
	for (uint64_t i = 0; i < ds->n; i++)
		ds->y[i] = ds->y[i] > 0 ? 1 : -1;
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	newton_config(&c, FERAL_LOSS_LOGISTIC, 1e-6, 1);
	c.epochs = 3; /* three passes: one gradient, two Hessian-vector products */
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	cr_assert(!r.converged);
	cr_assert(isfinite(r.grad_norm_rel) && r.grad_norm_rel > c.tol, "gradient %g",
	          r.grad_norm_rel);
	cr_assert(r.updates <= 4 * ds->n, "updates %llu", (unsigned long long)r.updates);
	double g = feral_grad_norm(ds, &c, x), x0[400] = {0};
	double g0 = feral_grad_norm(ds, &c, x0);
	cr_assert(fabs(r.grad_norm_rel - g / g0) <= 1e-9 * g / g0, "reported %g, measured %g",
	          r.grad_norm_rel, g / g0);
	free(x);
	feral_dataset_destroy(&ds);
}

/* From the optimum (a warm start) it stops at once: the reference gradient
 * at 0 and the one at x0, no Hessian-vector product. */
Test(newton, test_warm_start_at_optimum_stops_at_once)
{
	struct feral_dataset *ds = gen_problem(FERAL_GEN_LOGISTIC, 1500, 12, -1, 5, 0);
	uint64_t d = ds->d;
	struct feral_config c;
	newton_config(&c, FERAL_LOSS_LOGISTIC, 1e-3, 1);
	double *x = calloc(d, sizeof *x);
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	cr_assert(r.converged);
	c.tol = 1e-8; /* looser than what x meets */
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	cr_assert(r.converged);
	cr_assert_eq(r.updates, 2 * ds->n, "updates %llu", (unsigned long long)r.updates);
	free(x);
	feral_dataset_destroy(&ds);
}

Test(newton, test_rejects_hinge_and_fixed_point_models)
{
	struct feral_config c;
	newton_config(&c, FERAL_LOSS_HINGE, 0, 1);
	struct feral_error e = {0};
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "NEWTON") && strstr(e.msg, "HINGE"), "%s", e.msg);
	c.loss = FERAL_LOSS_LS;
	c.model_precision = FERAL_PRECISION_I8;
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert(strstr(e.msg, "NEWTON") && strstr(e.msg, "model_precision"), "%s", e.msg);
	enum feral_method m;
	cr_assert_eq(feral_method_from_name("newton", &m), FERAL_OK);
	cr_assert_eq(m, FERAL_METHOD_NEWTON);
}

static void setup(void)
{
	tmpdir_make("newton");
}

/* The CLI: newton by default (svrg on tall dense data), the certified
 * stop, a warning when the budget runs out, errors for hinge and 8-bit
 * models, --init from a model file. */
Test(newton, test_cli_default_and_errors, .init = setup, .fini = tmpdir_remove)
{
	cr_assert_eq(shell_feral(1, "gen logistic -o l.svm --n 2000 --d 20"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "train l.svm --l2 5e-4 --threads 1 --json -o m.txt"), 0, "%s",
	             out);
	cr_assert(strstr(out, "\"method\":\"newton\"") && strstr(out, "\"converged\":true"), "%s",
	          out);
	cr_assert(json_num("grad_norm_rel") <= 1e-6, "%s", out);
	double f = json_num("objective");
	cr_assert_eq(shell_feral(0, "train l.svm --l2 5e-4 --threads 1 --json --init m.txt"), 0,
	             "%s", out);
	cr_assert(strstr(out, "\"converged\":true") && json_num("updates") == 2 * 2000, "%s", out);
	cr_assert(fabs(json_num("objective") - f) <= 1e-12 * f, "%s", out);
	cr_assert_eq(shell_feral(1, "train l.svm --l2 5e-4 --threads 1 --tol 1e-12 --epochs 2 --json"),
	             0, "%s", out);
	cr_assert(strstr(out, "\"converged\":false"), "%s", out);
	cr_assert(strstr(out, "warning: the budget ran out before the tolerance"), "%s", out);
	cr_assert_eq(shell_feral(1, "train l.svm --method newton --loss hinge"), 2, "%s", out);
	cr_assert(strstr(out, "--method newton needs a smooth loss"), "%s", out);
	cr_assert_eq(shell_feral(1, "train l.svm --method newton --model-precision 8"), 2, "%s", out);
	cr_assert(strstr(out, "--method newton keeps a double model"), "%s", out);
	/* tall dense data (n >= 128 d): svrg */
	cr_assert_eq(shell_feral(1, "gen gaussian -o t.npy --n 3000 --d 10 --noise 0.1"), 0, "%s", out);
	cr_assert_eq(shell_feral(0, "solve t.npy t.b.npy --threads 1 --json"), 0, "%s", out);
	cr_assert(strstr(out, "\"method\":\"svrg\"") && strstr(out, "\"converged\":true"), "%s",
	          out);
	cr_assert_eq(shell_feral(0, "solve t.npy t.b.npy --threads 1 --method newton --json"), 0,
	             "%s", out);
	cr_assert(strstr(out, "\"method\":\"newton\"") && strstr(out, "\"converged\":true"), "%s",
	          out);
}

/* The default-method rule (feral_default_method), every branch: the shape
 * rule at its boundary n = 128 d, unknown shape, the stochastic flag, the
 * fixed point model with and without recenter, hinge. */
Test(newton, test_default_method_rule)
{
	struct feral_config c;
	feral_config_init(&c);
	c.loss = FERAL_LOSS_LS;
	struct feral_dataset tall = {0}, wide = {0}, csr = {0};
	tall.layout = wide.layout = FERAL_LAYOUT_DENSE;
	csr.layout = FERAL_LAYOUT_CSR;
	tall.d = wide.d = csr.d = 100;
	tall.n = csr.n = 128 * 100;
	wide.n = 128 * 100 - 1;
	cr_assert_eq(feral_default_method(NULL, &c, 0), FERAL_METHOD_NEWTON);
	cr_assert_eq(feral_default_method(&wide, &c, 0), FERAL_METHOD_NEWTON);
	cr_assert_eq(feral_default_method(&tall, &c, 0), FERAL_METHOD_SVRG, "n = 128 d, dense");
	cr_assert_eq(feral_default_method(&csr, &c, 0), FERAL_METHOD_NEWTON, "CSR rows");
	cr_assert_eq(feral_default_method(&wide, &c, 1), FERAL_METHOD_SVRG, "stochastic option");
	c.loss = FERAL_LOSS_LOGISTIC;
	cr_assert_eq(feral_default_method(&csr, &c, 0), FERAL_METHOD_NEWTON);
	c.model_precision = FERAL_PRECISION_I8;
	cr_assert_eq(feral_default_method(&csr, &c, 0), FERAL_METHOD_HALP);
	c.recenter = 1;
	cr_assert_eq(feral_default_method(&csr, &c, 0), FERAL_METHOD_SGD, "bit centring: SGD");
	c.model_precision = FERAL_PRECISION_F32;
	c.recenter = 0;
	c.loss = FERAL_LOSS_HINGE;
	cr_assert_eq(feral_default_method(&csr, &c, 0), FERAL_METHOD_SGD);
}
