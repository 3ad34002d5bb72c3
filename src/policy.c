/* Solve policy: the choices made before the workers start, from the data and
 * the configuration.  The step (Needell, Srebro & Ward, "Stochastic gradient
 * descent, weighted sampling, and the randomized Kaczmarz algorithm", 2016,
 * Corollary 2.2, with the quantities of stepsize.c), the fixed point scale,
 * the L2 degrees, the re-centring period and the replica mode.  Pure
 * functions: the pilot and warm-up runs they need are run by the caller
 * (engine.c), so no module here calls back into the solver. */
#include "internal.h"
#include "engine.h"
#include "stepsize.h"

#include <math.h>

void feral_step_begin(const struct feral_ctx *c, const double *x_star,
                      struct feral_step_choice *sc)
{
	const struct feral_dataset *ds = c->ds;
	const struct feral_config *cfg = c->cfg;
	memset(sc, 0, sizeof *sc);
	sc->rel_step = cfg->step;
	sc->decay = cfg->step_decay;
	sc->mu = NAN;
	uint64_t n = ds->n;
	if (feral_method_vr(cfg->method) && cfg->step_auto) {
		/* gamma = theta / sup L_w: prox-SVRG's bound (Xiao & Zhang 2014)
		 * with importance sampling, docs/math.md "Variance reduction" */
		sc->sup = feral_sup_lw(c->L, c->p, n);
		sc->rel_step = FERAL_SVRG_THETA * c->lbar / sc->sup;
		return;
	}
	if (cfg->method != FERAL_METHOD_SGD || !cfg->step_auto)
		return;
	sc->sup = feral_sup_lw(c->L, c->p, n);
	sc->base = c->lbar / (2 * sc->sup);
	if (cfg->loss != FERAL_LOSS_LS) {
		/* Classification: hinge is non-smooth (Corollary 2.2 does not
		 * apply), and for logistic sigma2_w at the optimum is large, so
		 * the Corollary's step for a tight tol is tiny.  Use the
		 * realizable step 1/(2 supL_w) with a 1/(1 + epoch) decay,
		 * which converges to the optimum.  It needs no mu: none is
		 * estimated (the estimate is an SVD of a 4d x d row sample,
		 * which cost more than 10 epochs on 60000 x 784), and the
		 * result reports mu only when given (or l2 > 0: a lower
		 * bound), else NaN. */
		sc->mu = cfg->mu > 0 ? cfg->mu : (cfg->l2 > 0 ? cfg->l2 : NAN);
		sc->rel_step = sc->base;
		if (sc->decay == 0)
			sc->decay = 1.0;
		return;
	}
	sc->mu = feral_estimate_mu(ds, cfg);
	/* least squares: sigma2_w at x*, or at a short serial pilot's iterate */
	sc->needs_ref = 1;
	if (!x_star)
		sc->pilot_updates = 2 * n < 200000 ? 2 * n : 200000;
}

/* Updates that Corollary 2.2 asks for to reach E||x-x*||^2 <= eps from
 * e0 = ||x0-x*||^2 at its step: 2 log(2 e0/eps) (sup/mu + sigma2/(mu^2 eps)). */
static double corollary_updates(double sup, double mu, double sigma2, double e0, double eps)
{
	return 2.0 * log(2.0 * e0 / eps) * (sup / mu + sigma2 / (mu * mu * eps));
}

/* The accuracy the step is sized for: eps (from tol), unless the update
 * budget cannot reach it.  On a noisy system the Corollary's step falls
 * with eps (gamma ~ mu eps / sigma2) and the updates it needs grow as
 * 1/eps: a tight tol with a fixed budget gave a step so small that the run
 * ended near x0 (6000 x 50, noise: tol 1e-8, 50 epochs, relative error
 * 0.9995).  Then the step is sized for the eps the budget reaches (the eps
 * whose Corollary count is the budget), which is the best end point the
 * bound promises within it.  A time-only budget has no update count: eps
 * stays. */
static double budget_eps(const struct feral_ctx *c, const struct feral_step_choice *sc,
                         double sigma2, double e0, double eps)
{
	const struct feral_config *cfg = c->cfg;
	double K = cfg->max_updates ? (double)cfg->max_updates : INFINITY;
	if (cfg->epochs > 0)
		K = fmin(K, cfg->epochs * (double)c->ds->n);
	double mu = sc->mu, sup = sc->sup;
	if (!isfinite(K) || !(sigma2 > 0) || !(mu > 0) || !(sup > 0) || !(eps > 0) ||
	    corollary_updates(sup, mu, sigma2, e0, eps) <= K)
		return eps;
	/* the count falls as eps grows: bisect log eps in [eps, e0] */
	double lo = log(eps), hi = log(e0);
	if (corollary_updates(sup, mu, sigma2, e0, e0) > K)
		return e0;
	for (int it = 0; it < 60; it++) {
		double mid = 0.5 * (lo + hi);
		if (corollary_updates(sup, mu, sigma2, e0, exp(mid)) > K)
			lo = mid;
		else
			hi = mid;
	}
	return exp(hi);
}

void feral_step_finish(const struct feral_ctx *c, const double *xr, struct feral_step_choice *sc)
{
	uint64_t d = c->ds->d;
	double xx = 0;
	for (uint64_t j = 0; j < d; j++)
		xx += xr[j] * xr[j];
	double sigma2 = feral_sigma2_w(c->ds, c->cfg, c->p, xr);
	/* a consistent system has sigma2 ~ 0 up to the pilot's error:
	 * treat sigma2 below tol * (sup L_w ||x||)^2 ... as zero */
	if (sigma2 < 1e-24 * sc->sup * sc->sup * fmax(xx, 1e-300))
		sigma2 = 0;
	/* tol 0 means "do not stop on tol": size the step for 1e-6 */
	double eps = (c->cfg->tol > 0 ? c->cfg->tol : 1e-6) * (xx > 0 ? xx : 1.0);
	eps = budget_eps(c, sc, sigma2, xx > 0 ? xx : 1.0, eps);
	sc->rel_step = feral_auto_step(c->lbar, sc->sup, sigma2, sc->mu, eps);
}

/* Rule: s = 1.25 max_j |x_warm_j| / qmax, where x_warm is a short serial
 * f64 warm-up from x0 (min(n, 20000 + 20 d) updates): the factor leaves
 * headroom for |x*| above the warm-up's (FERAL_SCALE_HEADROOM). */
uint64_t feral_scale_warmup_updates(const struct feral_dataset *ds)
{
	uint64_t wu = 20000 + 20 * ds->d;
	return wu > ds->n ? ds->n : wu;
}

double feral_scale_warmup_step(const struct feral_config *cfg, double rel_step)
{
	return cfg->method == FERAL_METHOD_KACZMARZ ? 0.5 : rel_step;
}

double feral_scale_from_warmup(const struct feral_config *cfg, enum feral_precision mp,
                               const double *xw, const double *x, uint64_t d)
{
	double m = 0; /* with bit centring, of the offset from the centre x0 */
	for (uint64_t j = 0; j < d; j++)
		m = fmax(m, feral_centred(cfg) ? fabs(xw[j] - x[j]) : fmax(fabs(xw[j]), fabs(x[j])));
	return (m > 0 ? FERAL_SCALE_HEADROOM * m : 1.0) / feral_qmax(mp);
}

/* L2 by degree: x_j -= gamma eta/P_j x_j for the row's coordinates, which is
 * unbiased for the dense decay gamma eta x and O(nnz_i) (docs/math.md).
 * P_j = sum_{i: a_ij != 0} p_i is the probability a draw touches j. */
double *feral_column_mass(const struct feral_dataset *ds, const double *p)
{
	double *c = calloc(ds->d, sizeof *c);
	if (!c)
		return NULL;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		for (uint64_t i = 0; i < ds->n; i++)
			for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
				c[ds->indices[k]] += p[i];
	} else {
		for (uint64_t j = 0; j < ds->d; j++)
			c[j] = 1;
	}
	return c;
}

double *feral_l2_degrees(const struct feral_dataset *ds, double eta, const double *p)
{
	double *c = feral_column_mass(ds, p);
	if (!c)
		return NULL;
	for (uint64_t j = 0; j < ds->d; j++)
		c[j] = c[j] > 0 ? eta / c[j] : 0;
	return c;
}

/* Hot coordinates (hot.c, docs/math.md "Hot coordinates").  Privatising
 * column j saves the line transfers of its writes (P_j per update, about
 * half of them conflicted with 2 workers) and costs, per merge of its tier
 * (every K' own updates), its slot's share of the merge: a few vector
 * lanes and (T - 1) / 8 + 1/8 line transfers, overlapped (the float
 * merge is plain loads and stores on the accumulators' lines).  A slot
 * pays where several of a worker's writes to j fold into one merge:
 * K' P_j >= 2.  Two tiers: K' = K for P_j >= 2/K, K' = FERAL_HOT_TIER K
 * below, so auto is P_j >= 2 / (FERAL_HOT_TIER K).  Each tier then holds at
 * most r K' / 2 columns (sum_j P_j = r, the mean nonzeros of a draw), so
 * its merges cost at most r / 2 slot visits per update; and a slow slot's
 * delay, about 2 K' (T-1) P_j of its own column's updates, stays below
 * 4 FERAL_HOT_TIER (T-1) = 64 (T-1), under the fast tier's 2 K (T-1) for its
 * hottest column (128 (T-1) at K = 64). */
double feral_hot_threshold(const struct feral_config *cfg, const struct feral_dataset *ds,
                           enum feral_replicas resolved, int T)
{
	if (cfg->hot_threshold < 0 || cfg->replicas != FERAL_REPLICAS_AUTO || feral_centred(cfg) ||
	    ds->layout != FERAL_LAYOUT_CSR || resolved != FERAL_REPLICAS_MACHINE)
		return -1;
	if (cfg->hot_threshold > 0)
		return cfg->hot_threshold; /* explicit: one worker too */
	if (T <= 1)
		return -1; /* one worker: no line to share */
	return 2.0 / (double)(FERAL_HOT_TIER * feral_hot_every(cfg));
}

uint64_t feral_hot_every(const struct feral_config *cfg)
{
	return cfg->hot_every ? cfg->hot_every : FERAL_HOT_EVERY_AUTO;
}

/* Re-centre every recenter_every updates per worker, and at every replica
 * average.  Auto: 16 times an epoch (Fashion-MNIST, 8-bit model, validation
 * split: once an epoch 95.31 %, 4 times 95.44 %, 16 times 95.55 %, 64 times
 * 95.46 % with saturations, f32 95.57 %), but never so often that the O(d)
 * fold costs more than 1/16 of the work between folds (sparse rows, large d). */
uint64_t feral_recenter_period(const struct feral_config *cfg, const struct feral_dataset *ds,
                               int T)
{
	uint64_t per = cfg->recenter_every;
	if (cfg->method == FERAL_METHOD_HALP) /* at its snapshots only (svrg.c) */
		return UINT64_MAX;
	if (per == 0) {
		double nnz_row = ds->n ? (double)ds->nnz / (double)ds->n : 1;
		double by_fold = 16.0 * (double)ds->d / fmax(nnz_row, 1.0);
		per = (uint64_t)ceil(fmax((double)ds->n / 16.0, by_fold) / (double)T); /* >= 1 */
	}
	return per;
}

/* The replica mode.  A shared iterate costs cache-line transfers between
 * cores: while one worker does an update, another writes the lines of its
 * own row's coordinates, and each line of ours it wrote comes back from the
 * other core's cache (~100 ns, the time of a whole sparse update).  With a
 * model of L = ceil(d b / 64) lines (b bytes an element) and r nonzeros a
 * row spread over them, an update writes l = L (1 - (1 - 1/L)^r) distinct
 * lines (dense rows: all L), and two concurrent updates share l^2 / L lines
 * on average.  From one shared line per update pair on, the transfers cost
 * more than the update (dense d = 256 f32: 16 lines, 2 threads at 0.31x of
 * one on a shared iterate, 1.4x with a replica per core), so AUTO gives each
 * worker its own replica; below, the shared iterate (Hogwild!'s sparse
 * regime: Niu, Recht, Re & Wright, 2011) keeps every update visible to every
 * worker at no transfer cost.  One worker: nothing to share. */
double feral_shared_lines_per_update(const struct feral_dataset *ds, enum feral_precision mp)
{
	double bytes = (double)ds->d * (double)feral_precision_size(mp);
	double L = ceil(bytes / FERAL_CACHELINE);
	if (!(L >= 1))
		return 0;
	double r = ds->layout == FERAL_LAYOUT_CSR ? (ds->n ? (double)ds->nnz / (double)ds->n : 0)
	                                           : (double)ds->d;
	double l = ds->layout == FERAL_LAYOUT_CSR ? L * -expm1(r * log1p(-1.0 / L)) : L;
	if (L == 1)
		l = r > 0 ? 1 : 0;
	return l * l / L;
}

enum feral_replicas feral_replicas_resolve(const struct feral_config *cfg,
                                           const struct feral_dataset *ds, int T)
{
	if (cfg->replicas != FERAL_REPLICAS_AUTO)
		return cfg->replicas;
	if (T <= 1)
		return FERAL_REPLICAS_MACHINE;
	return feral_shared_lines_per_update(ds, cfg->model_precision) >= 1.0
	               ? FERAL_REPLICAS_CORE
	               : FERAL_REPLICAS_MACHINE;
}

enum feral_method feral_default_method(const struct feral_dataset *ds,
                                       const struct feral_config *cfg, int stochastic)
{
	if (cfg->loss == FERAL_LOSS_HINGE)
		return FERAL_METHOD_SGD;
	if (feral_precision_fixed(cfg->model_precision))
		return cfg->recenter ? FERAL_METHOD_SGD : FERAL_METHOD_HALP;
	if (stochastic)
		return FERAL_METHOD_SVRG;
	if (ds && ds->layout == FERAL_LAYOUT_DENSE && ds->n >= (uint64_t)FERAL_SVRG_TALL * ds->d)
		return FERAL_METHOD_SVRG;
	return FERAL_METHOD_NEWTON;
}
