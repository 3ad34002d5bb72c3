/* Step sizes (stepsize.c): the quantities of Corollary 2.2 for weighted SGD. */
#ifndef FERAL_STEPSIZE_H
#define FERAL_STEPSIZE_H
#include "internal.h"

/* max_i L_i / (n p_i) over rows with p_i > 0 */
double feral_sup_lw(const double *L, const double *p, uint64_t n);
/* (1/n) sum_i ||grad f_i(x_ref)||^2 / (n p_i) */
double feral_sigma2_w(const struct feral_dataset *ds, const struct feral_config *cfg,
                      const double *p, const double *x_ref);
/* cfg->mu, or an estimate (NaN when none is available) */
double feral_estimate_mu(const struct feral_dataset *ds, const struct feral_config *cfg);
/* Relative step (gamma * Lbar) of Corollary 2.2; eps is the absolute target
 * on ||x - x*||^2.  Falls back to gamma = 1/(2 supL_w) when sigma2_w == 0 or
 * mu/eps are unknown. */
double feral_auto_step(double lbar, double sup_lw, double sigma2_w, double mu, double eps);
#endif
