/* Model storage: the replicas of the iterate in f64, f32 or fixed point
 * (Buckwild!: De Sa, Zhang, Olukotun & Re, "Taming the wild: a unified
 * analysis of Hogwild!-style algorithms", 2015), their snapshot into
 * doubles, replica averaging (DimmWitted: Zhang & Re, "DimmWitted: a study
 * of main-memory statistical analytics", 2014) and bit centring (De Sa et
 * al., "High-accuracy low-precision training", 2018).  Element get/set are
 * static inline in engine.h: the update path uses them too. */
#include "internal.h"
#include "engine.h"
#include "topo.h"

#include <math.h>

static void *alloc_model(enum feral_precision mp, uint64_t d, int node)
{
	size_t bytes = d * feral_precision_size(mp);
	void *m = feral_numa_alloc(bytes, node);
	if (m)
		memset(m, 0, bytes);
	return m;
}

enum feral_status feral_model_create(struct feral_ctx *c, const double *x, uint64_t *saturations,
                                     struct feral_error *err)
{
	uint64_t d = c->ds->d;
	int R = c->plan.nrep, T = c->plan.nthreads;
	c->models = calloc((size_t)R, sizeof *c->models);
	if (!c->models)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (models)");
	if (feral_centred(c->cfg)) { /* the centre starts at x0, the offsets at 0 */
		c->center = malloc(d * sizeof *c->center);
		c->fcenter = feral_aligned_alloc(d * sizeof *c->fcenter);
		c->maxq = calloc((size_t)T, sizeof *c->maxq);
		if (!c->center || !c->fcenter || !c->maxq)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (centre)");
		for (uint64_t j = 0; j < d; j++) {
			c->center[j] = x[j];
			c->fcenter[j] = (float)x[j];
		}
		c->cx = c->cfg->method == FERAL_METHOD_HALP ? (const void *)c->center
		                                            : (const void *)c->fcenter;
	}
	for (int r = 0; r < R; r++) {
		int node = c->topo ? feral_topo_node_os_index(c->topo, c->plan.rep_node[r]) : -1;
		c->models[r] = alloc_model(c->mp, d, node);
		if (!c->models[r])
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (model)");
		struct feral_rng qr;
		feral_rng_seed(&qr, c->cfg->seed ^ 0x9e37ull, 0);
		for (uint64_t j = 0; j < d; j++)
			*saturations += (uint64_t)feral_model_set(
			        c->models[r], c->mp, c->scale, j, c->center ? 0 : x[j],
			        feral_precision_fixed(c->mp) ? feral_rng_uniform(&qr) : 0);
	}
	return FERAL_OK;
}

void feral_model_free(struct feral_ctx *c)
{
	if (c->models)
		for (int r = 0; r < c->plan.nrep; r++)
			if (c->models[r])
				feral_numa_free(c->models[r], c->ds->d * feral_precision_size(c->mp));
	free(c->models);
	free(c->center);
	free(c->fcenter);
	free(c->maxq);
	c->models = NULL;
	c->center = NULL;
	c->fcenter = NULL;
	c->maxq = NULL;
}

void feral_model_snapshot(const struct feral_ctx *c, double *out)
{
	uint64_t d = c->ds->d;
	int R = c->plan.nrep;
	for (uint64_t j = 0; j < d; j++) {
		double s = 0;
		for (int r = 0; r < R; r++)
			s += feral_model_get(c->models[r], c->mp, c->scale, j);
		out[j] = s / R + (c->center ? c->center[j] : 0);
	}
	/* hot coordinates (one shared model, no centre): their authority,
	 * which the workers' merges write while they run */
	for (uint32_t s = 0; s < c->hot.H; s++)
		out[c->hot.col[s]] = feral_hot_value(c, s);
}

/* Average the replicas: each worker takes a slice of the coordinates. */
void feral_model_average(struct feral_ctx *c, int tid, struct feral_rng *rng)
{
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t d = c->ds->d;
	uint64_t lo = d * (uint64_t)tid / (uint64_t)T, hi = d * (uint64_t)(tid + 1) / (uint64_t)T;
	for (uint64_t j = lo; j < hi; j++) {
		double s = 0;
		for (int r = 0; r < R; r++)
			s += feral_model_get(c->models[r], c->mp, c->scale, j);
		s /= R;
		double u = feral_precision_fixed(c->mp) ? feral_rng_uniform(rng) : 0;
		for (int r = 0; r < R; r++)
			feral_model_set(c->models[r], c->mp, c->scale, j, s, u);
	}
}

/* Bit centring, part 1, at the round barrier after the replicas are
 * averaged (so every replica holds the same offset): each worker folds its
 * slice of the offset into the centre, zeroes it, and notes its largest
 * |q|.  Raw quanta (scale 1) are read and written, so nothing is rounded. */
void feral_model_recenter_fold(struct feral_ctx *c, int tid)
{
	int T = c->plan.nthreads, R = c->plan.nrep;
	uint64_t d = c->ds->d;
	uint64_t lo = d * (uint64_t)tid / (uint64_t)T, hi = d * (uint64_t)(tid + 1) / (uint64_t)T;
	double m = 0;
	for (uint64_t j = lo; j < hi; j++) {
		double q = feral_model_get(c->models[0], c->mp, 1.0, j);
		m = fmax(m, fabs(q));
		c->center[j] += c->scale * q;
		c->fcenter[j] = (float)c->center[j];
		for (int r = 0; r < R; r++)
			feral_model_set(c->models[r], c->mp, 1.0, j, 0, 0);
	}
	c->maxq[tid] = m;
}

/* Part 2, worker 0 after a barrier: the new scale makes the largest offset
 * of the round that ended 1/1.25 of the range (FERAL_SCALE_HEADROOM), by a
 * factor in [1/8, 2]: the next round moves less (a decaying step, an
 * iterate that settles), and a saturated round (|q| = qmax) grows it.
 * HALP keeps the scale its snapshot hook sets (svrg.c), which reads maxq. */
void feral_model_recenter_scale(struct feral_ctx *c)
{
	if (c->cfg->method == FERAL_METHOD_HALP) /* svrg.c sets it at the snapshot */
		return;
	double m = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		m = fmax(m, c->maxq[t]);
	double f = FERAL_SCALE_HEADROOM * m / feral_qmax(c->mp);
	feral_set_scale(c, c->scale * fmin(fmax(f, 0.125), 2.0));
}

/* ---- atomic updates (cfg->update ATOMIC) ---- */

static void atomic_add_f64(double *p, double v)
{
	uint64_t *q = (uint64_t *)p, old = __atomic_load_n(q, __ATOMIC_RELAXED), nw;
	do {
		double o, s;
		memcpy(&o, &old, sizeof o);
		s = o + v;
		memcpy(&nw, &s, sizeof nw);
	} while (!__atomic_compare_exchange_n(q, &old, nw, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static void atomic_add_f32(float *p, float v)
{
	uint32_t *q = (uint32_t *)p, old = __atomic_load_n(q, __ATOMIC_RELAXED), nw;
	do {
		float o, s;
		memcpy(&o, &old, sizeof o);
		s = o + v;
		memcpy(&nw, &s, sizeof nw);
	} while (!__atomic_compare_exchange_n(q, &old, nw, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* x += g a_i with atomic adds (cfg->update ATOMIC, float models only). */
void feral_model_axpy_atomic(const struct feral_ctx *c, const struct feral_dataset *ds, void *x,
                             uint64_t i, const uint32_t *idx, uint64_t base, size_t len, double g)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t j = idx ? idx[k] : k;
		double v = g * feral_dataset_value(ds, i, base + k);
		if (c->mp == FERAL_PRECISION_F64)
			atomic_add_f64((double *)x + j, v);
		else
			atomic_add_f32((float *)x + j, (float)v);
	}
}

/* L2 by degree: x_j -= gamma eta/P_j x_j for the row's coordinates, which is
 * unbiased for the dense decay gamma eta x and O(nnz_i) (docs/math.md). */
void feral_model_l2_decay(const struct feral_ctx *c, void *x, const uint32_t *idx, size_t len,
                          double gamma, struct feral_rng *rng,
                          const uint32_t *col /* hot slots' columns, or NULL */)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t j = idx ? idx[k] : k; /* the element of x; its column is col[j] for a slot */
		double f = gamma * c->l2c[col ? col[j] : j];
		if (f > 1)
			f = 1; /* never overshoot zero on rarely touched coordinates */
		double z = c->center ? c->center[j] : 0;
		double v = z + feral_model_get(x, c->mp, c->scale, j);
		double u = feral_precision_fixed(c->mp) ? feral_rng_uniform(rng) : 0;
		feral_model_set(x, c->mp, c->scale, j, v - f * v - z, u);
	}
}
