/* Losses, per-row constants L_i, sampling probabilities, the objective
 * F(x) = (1/n) sum_i [phi(a_i.x, y_i) + (eta/2)||x||^2]  (docs/math.md section 1),
 * and its full gradient's norm (the certified stop). */
#include "internal.h"

#include <math.h>

double feral_loss_phi(enum feral_loss loss, double t, double y)
{
	switch (loss) {
	case FERAL_LOSS_LS: return 0.5 * (t - y) * (t - y);
	case FERAL_LOSS_LOGISTIC: {
		double z = -y * t; /* log(1 + e^z) without overflow */
		return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
	}
	case FERAL_LOSS_HINGE: return y * t < 1.0 ? 1.0 - y * t : 0.0;
	default: return NAN;
	}
}

double feral_loss_curvature(enum feral_loss loss)
{
	switch (loss) {
	case FERAL_LOSS_LS: return 1.0;
	case FERAL_LOSS_LOGISTIC: return 0.25;
	default: return 0.0;
	}
}

void feral_objective_row_constants(const struct feral_dataset *ds, const struct feral_config *cfg,
                                   double *L)
{
	double c = feral_loss_curvature(cfg->loss);
	for (uint64_t i = 0; i < ds->n; i++) {
		if (cfg->loss == FERAL_LOSS_HINGE) /* non-smooth: G_i, paper section 4 */
			L[i] = sqrt(ds->row_sq_norm[i]) + cfg->l2;
		else
			L[i] = c * ds->row_sq_norm[i] + cfg->l2;
	}
}

enum feral_status feral_sampling_probs(const double *L, uint64_t n, double lambda, double *p,
                                       struct feral_error *err)
{
	double sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += L[i];
	if (!(sum > 0) && lambda < 1)
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                  "every row has zero norm: weighted sampling is undefined "
		                  "(use lambda = 1, uniform sampling)");
	for (uint64_t i = 0; i < n; i++)
		p[i] = lambda / (double)n + (lambda < 1 ? (1 - lambda) * L[i] / sum : 0.0);
	return FERAL_OK;
}

/* a_i . x in double, for any stored precision. */
double feral_row_dot(const struct feral_dataset *ds, uint64_t i, const double *x)
{
	static const struct feral_kernels *k;
	const struct feral_kernels *kt = __atomic_load_n(&k, __ATOMIC_ACQUIRE);
	if (!kt) {
		kt = feral_kernels_get(NULL);
		if (!kt)
			kt = feral_kernels_named("ref");
		__atomic_store_n(&k, kt, __ATOMIC_RELEASE);
	}
	uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * ds->d;
	uint64_t len = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] - b : ds->d;
	const void *a = (const char *)ds->values + b * feral_precision_size(ds->precision);
	const uint32_t *idx = ds->layout == FERAL_LAYOUT_CSR ? ds->indices + b : NULL;
	double s = kt->dot[ds->layout][ds->precision][FERAL_PRECISION_F64](a, idx, x, len);
	return ds->row_scale ? s * ds->row_scale[i] : s;
}

double feral_objective(const struct feral_dataset *ds, const struct feral_config *cfg,
                       const double *x)
{
	double s = 0;
	for (uint64_t i = 0; i < ds->n; i++)
		s += feral_loss_phi(cfg->loss, feral_row_dot(ds, i, x), ds->y[i]);
	double xx = 0;
	if (cfg->l2 > 0)
		for (uint64_t j = 0; j < ds->d; j++)
			xx += x[j] * x[j];
	return s / (double)ds->n + 0.5 * cfg->l2 * xx;
}

double feral_accuracy(const struct feral_dataset *ds, const double *x)
{
	uint64_t ok = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double t = feral_row_dot(ds, i, x);
		ok += (t >= 0 ? 1.0 : -1.0) == (ds->y[i] > 0 ? 1.0 : -1.0);
	}
	return (double)ok / (double)ds->n;
}

double feral_rel_residual(const struct feral_dataset *ds, const double *x)
{
	double r = 0, b = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double e = feral_row_dot(ds, i, x) - ds->y[i];
		r += e * e;
		b += ds->y[i] * ds->y[i];
	}
	return b > 0 ? sqrt(r / b) : sqrt(r);
}

double feral_rel_dist2(const double *x, const double *xs, uint64_t d, double xs_sq)
{
	double e = 0;
	for (uint64_t j = 0; j < d; j++)
		e += (x[j] - xs[j]) * (x[j] - xs[j]);
	return xs_sq > 0 ? e / xs_sq : e;
}

/* The data x f64 axpy (y += alpha a) of a layout and precision. */
feral_k_axpy_fn feral_axpy64_of(const struct feral_dataset *ds)
{
	const struct feral_kernels *kt = feral_kernels_get(NULL);
	if (!kt)
		kt = feral_kernels_named("ref");
	return kt->axpy[ds->layout][ds->precision][FERAL_PRECISION_F64];
}

/* out += alpha a_i (dequantized), in double. */
void feral_row_axpy(const struct feral_dataset *ds, feral_k_axpy_fn axpy, uint64_t i,
                    double alpha, double *out)
{
	uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * ds->d;
	uint64_t len = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] - b : ds->d;
	const void *a = (const char *)ds->values + b * feral_precision_size(ds->precision);
	const uint32_t *idx = ds->layout == FERAL_LAYOUT_CSR ? ds->indices + b : NULL;
	if (ds->row_scale)
		alpha *= ds->row_scale[i];
	/* an f64 target is written exactly: no rounding, no random numbers */
	axpy(out, a, idx, len, alpha, FERAL_ROUNDING_NEAREST, NULL);
}

double feral_grad_norm(const struct feral_dataset *ds, const struct feral_config *cfg,
                       const double *x)
{
	uint64_t n = ds->n, d = ds->d;
	double *g = calloc(d, sizeof *g);
	if (!g)
		return NAN;
	feral_k_axpy_fn axpy = feral_axpy64_of(ds);
	for (uint64_t i = 0; i < n; i++) {
		double ci = feral_loss_dphi(cfg->loss, feral_row_dot(ds, i, x), ds->y[i]);
		if (ci != 0)
			feral_row_axpy(ds, axpy, i, ci, g);
	}
	double s = 0;
	for (uint64_t j = 0; j < d; j++) {
		double v = g[j] / (double)n + cfg->l2 * x[j];
		s += v * v;
	}
	free(g);
	return sqrt(s);
}
