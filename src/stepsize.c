/* Needell-Srebro-Ward step sizes (Needell, Srebro & Ward, "Stochastic gradient
 * descent, weighted sampling, and the randomized Kaczmarz algorithm", 2016;
 * docs/math.md).
 *
 * With weights w_i = n p_i, weighted SGD  x <- x - (gamma / w_i) grad f_i(x)
 * has, by Corollary 2.2 applied to the reweighted components,
 *
 *     gamma = mu eps / (2 eps mu supL_w + 2 sigma2_w),
 *     supL_w = max_i L_i / w_i,   sigma2_w = (1/n) sum_i ||grad f_i(x*)||^2 / w_i,
 *
 * and E||x_k - x*||^2 <= eps after k = 2 log(2 eps0/eps)(supL_w/mu + sigma2_w/(mu^2 eps)).
 * feral reports steps relative to Lbar = mean L_i (gamma = step / Lbar), so a
 * relative step of 1 with fully weighted sampling on least squares is exactly
 * the Strohmer-Vershynin Kaczmarz projection.
 *
 * Estimates we use (documented in README "Step sizes"):
 *   supL_w  exact, from the data;
 *   mu      --mu if given; else eta + sigma_min(A_S)^2/m for LS (logistic: c_phi
 *           times that), A_S a uniform sample of m = min(n, 4d) rows, by
 *           LAPACK's SVD; skipped (NaN) when d > 1024 or without LAPACK;
 *   sigma2_w exact at x* when x* is known, else at a pilot iterate (the caller
 *           runs a short serial solve and passes it in as x_ref).
 * When sigma2_w == 0 (realizable) the step is 1/(2 supL_w), independent of mu. */
#include "internal.h"
#include "stepsize.h"

#include <math.h>
#include "lapack.h"

double feral_sup_lw(const double *L, const double *p, uint64_t n)
{
	double sup = 0;
	for (uint64_t i = 0; i < n; i++)
		if (p[i] > 0) {
			double v = L[i] / ((double)n * p[i]);
			if (v > sup)
				sup = v;
		}
	return sup;
}

double feral_sigma2_w(const struct feral_dataset *ds, const struct feral_config *cfg,
                      const double *p, const double *x_ref)
{
	double xx = 0;
	for (uint64_t j = 0; j < ds->d; j++)
		xx += x_ref[j] * x_ref[j];
	double s = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		if (p[i] <= 0)
			continue;
		double t = feral_row_dot(ds, i, x_ref);
		double g = feral_loss_dphi(cfg->loss, t, ds->y[i]);
		/* ||g a_i + eta x||^2 = g^2 ||a_i||^2 + 2 g eta t + eta^2 ||x||^2 */
		double gi = g * g * ds->row_sq_norm[i] + 2 * g * cfg->l2 * t + cfg->l2 * cfg->l2 * xx;
		s += gi / ((double)ds->n * p[i]);
	}
	return s / (double)ds->n;
}

double feral_estimate_mu(const struct feral_dataset *ds, const struct feral_config *cfg)
{
	if (cfg->mu > 0)
		return cfg->mu;
	double c = feral_loss_curvature(cfg->loss);
	if (c == 0)
		return cfg->l2 > 0 ? cfg->l2 : NAN;
#ifdef FERAL_HAVE_LAPACKE
	const struct feral_lapack *lp = feral_lapack();
	if (ds->d > 1024 || !lp)
		return cfg->l2 > 0 ? cfg->l2 : NAN;
	uint64_t m = ds->n < 4 * ds->d ? ds->n : 4 * ds->d;
	if (m < ds->d)
		return cfg->l2 > 0 ? cfg->l2 : NAN; /* underdetermined: sigma_min = 0 */
	double *B = malloc(m * ds->d * sizeof *B);
	double *s = malloc(ds->d * sizeof *s);
	double *superb = malloc(ds->d * sizeof *superb);
	double mu = NAN;
	if (B && s && superb) {
		memset(B, 0, m * ds->d * sizeof *B);
		struct feral_rng r;
		feral_rng_seed(&r, cfg->seed ^ 0x6d75ull, 0);
		for (uint64_t k = 0; k < m; k++) {
			uint64_t i = m == ds->n ? k : (uint64_t)(feral_rng_uniform(&r) * (double)ds->n);
			double *row = B + k * ds->d;
			if (ds->layout == FERAL_LAYOUT_CSR) {
				for (uint64_t q = ds->indptr[i]; q < ds->indptr[i + 1]; q++)
					row[ds->indices[q]] = feral_dataset_value(ds, i, q);
			} else {
				for (uint64_t j = 0; j < ds->d; j++)
					row[j] = feral_dataset_value(ds, i, i * ds->d + j);
			}
		}
		lapack_int info = lp->dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)m,
		                             (lapack_int)ds->d, B, (lapack_int)ds->d, s, NULL, 1, NULL, 1,
		                             superb);
		if (info == 0) {
			double smin = s[ds->d - 1];
			/* a rank-deficient sample says nothing about mu: unknown */
			mu = smin > 1e-12 * s[0] ? c * smin * smin / (double)m + cfg->l2
			                         : (cfg->l2 > 0 ? cfg->l2 : NAN);
		}
	}
	free(B);
	free(s);
	free(superb);
	return mu;
#else
	return cfg->l2 > 0 ? cfg->l2 : NAN;
#endif
}

double feral_auto_step(double lbar, double sup_lw, double sigma2_w, double mu, double eps)
{
	double gamma;
	if (!(sigma2_w > 0) || !(mu > 0) || !(eps > 0))
		gamma = 1.0 / (2.0 * sup_lw);
	else
		gamma = mu * eps / (2.0 * eps * mu * sup_lw + 2.0 * sigma2_w);
	return gamma * lbar;
}
