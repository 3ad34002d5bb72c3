/* One update of the worker loop (engine.c's only): SVRG's dense part, the
 * short CSR row loops, the write of an update (hot part and cold part) and
 * the read-step-write of one row.  Private to engine.c, always inline so
 * that each specialisation of the worker loop keeps its constants. */
#ifndef FERAL_UPDATE_H
#define FERAL_UPDATE_H
#include "internal.h"
#include "engine.h"
#include "prefetch.h"

#include <math.h>

/* ---- the update ------------------------------------------------------------------ */

/* SVRG's dense part, eta x + g_bar (over P_j for CSR rows): x_j -= gamma
 * coef_j over the row's coordinates (CSR) or all of them (dense), read
 * before the row's own axpy, so v is taken at one x.  Fixed point models
 * (HALP): feral_halp_dense's stochastic rounding.  Returns saturations.
 * col: the hot slots' columns (x is then a worker's private copy, a float
 * model: HALP has no hot set), or NULL. */
static inline __attribute__((always_inline)) uint64_t
svrg_dense(const struct feral_ctx *c, void *x, const uint32_t *idx, size_t len, double gamma,
           struct feral_rng *rng, struct feral_k_rng *krng, const uint32_t *col)
{
	const struct feral_svrg *s = c->method_state;
	double eta = c->cfg->l2;
	if (s->gneg && !idx) /* dense rows, no L2 (HALP, f32 SVRG): x -= gamma g_bar */
		return s->gaxpy(x, s->gneg, NULL, len, gamma / c->scale, c->cfg->rounding, krng);
	if (c->mfixed)
		return feral_halp_dense(c, x, idx, len, gamma, rng);
	if (c->mp == FERAL_PRECISION_F32) {
		float *xf = x;
		for (size_t k = 0; k < len; k++) {
			uint64_t j = idx ? idx[k] : k;
			double v = feral_racy_load_f32(xf + j);
			uint64_t cj = col ? col[j] : j;
			feral_racy_store_f32(xf + j,
			                     (float)(v - gamma * feral_svrg_dense_coef(s, eta, cj, v)));
		}
	} else {
		double *xd = x;
		for (size_t k = 0; k < len; k++) {
			uint64_t j = idx ? idx[k] : k;
			double v = feral_racy_load_f64(xd + j);
			uint64_t cj = col ? col[j] : j;
			feral_racy_store_f64(xd + j, v - gamma * feral_svrg_dense_coef(s, eta, cj, v));
		}
	}
	return 0;
}

/* Short CSR rows of f32 data on a float model (c->fcsr; the sparse
 * default): the dot and the axpy inline, with the ref kernels' arithmetic in
 * their order (the SIMD kernels hand rows this short to ref: gathers lose
 * below ~128 nonzeros), so a row costs no kernel call, and a hot-set row's
 * two parts not two each.  Measured on Zipf columns, 20 nonzeros a row
 * (results/README.md). */
enum { SHORT_CSR = 128 };

static inline __attribute__((always_inline)) double
short_dot(int mk, const float *a, const uint32_t *idx, const void *x, size_t len)
{
	double s = 0;
	if (mk == FERAL_FCSR_F64)
		for (size_t k = 0; k < len; k++)
			s += (double)a[k] * feral_racy_load_f64((const double *)x + idx[k]);
	else
		for (size_t k = 0; k < len; k++)
			s += (double)a[k] * (double)feral_racy_load_f32((const float *)x + idx[k]);
	return s;
}

static inline __attribute__((always_inline)) void
short_axpy(int mk, void *x, const float *a, const uint32_t *idx, size_t len, double alpha)
{
	if (mk == FERAL_FCSR_F64) {
		double *xd = x;
		for (size_t k = 0; k < len; k++)
			feral_racy_store_f64(xd + idx[k],
			                     feral_racy_load_f64(xd + idx[k]) + alpha * (double)a[k]);
	} else {
		float *xf = x, al = (float)alpha;
		for (size_t k = 0; k < len; k++)
			feral_racy_store_f32(xf + idx[k], feral_racy_load_f32(xf + idx[k]) + al * a[k]);
	}
}

/* One part of a row (all of it, or its hot or cold entries): the dot and
 * the axpy inline on a short CSR row of f32 data (shortrow, from c->fcsr),
 * else through the kernels. */
static inline __attribute__((always_inline)) double
part_dot(const struct feral_ctx *c, bool shortrow, const void *a, const uint32_t *idx,
         const void *x, size_t len)
{
	return shortrow ? short_dot(c->fcsr, a, idx, x, len) : c->dot(a, idx, x, len);
}

static inline __attribute__((always_inline)) uint64_t
part_axpy(const struct feral_ctx *c, bool shortrow, void *x, const void *a, const uint32_t *idx,
          size_t len, double alpha, struct feral_k_rng *krng)
{
	if (!shortrow)
		return c->axpy(x, a, idx, len, alpha, c->cfg->rounding, krng);
	short_axpy(c->fcsr, x, a, idx, len, alpha);
	return 0;
}

static inline bool short_row(const struct feral_ctx *c, const uint32_t *idx, size_t len)
{
	return c->fcsr && idx && len < SHORT_CSR;
}

/* The row to read for shard entry e: the global row (map = the shard), or e
 * itself when the worker reads its shard's own copy (map = NULL). */
static inline uint64_t entry_row(const struct feral_shard *map, uint64_t e)
{
	return map ? shard_row(map, e) : e;
}

/* A worker's hot coordinates (hot.c) as update_row sees them: its private
 * copy priv (slots), the hot entry count of each row of its hot-first rows,
 * the slot -> column map.  priv NULL: no hot set. */
struct hot_ref {
	void *priv;
	const uint32_t *split;
	const uint32_t *col;
};

/* The write of an update x += g a_i on row i (laid out as update_row found
 * it: values a, CSR indices idx or NULL, offset base, len entries, the first
 * h of them hot slots of hr->priv, row scale rs) at step gamma: the method's
 * dense part, L2, the axpy, each on the hot part and then the cold part, in
 * the row's order, so with one worker it is the plain update. */
static inline __attribute__((always_inline)) void
write_row(enum feral_method m, struct feral_ctx *c, struct feral_worker *w, void *x,
          const struct feral_dataset *ds, uint64_t i, const void *a, const uint32_t *idx,
          uint64_t base, size_t len, size_t h, double rs, double g, double gamma,
          struct feral_k_rng *krng, struct feral_rng *rng, const struct hot_ref *hr)
{
	const struct feral_config *cfg = c->cfg;
	/* the cold part (all of the row without hot coordinates): ac, idc, len - h of x */
	const void *ac = (const char *)a + h * c->esz;
	const uint32_t *idc = idx ? idx + h : NULL;
	if (m == FERAL_METHOD_SVRG) {
		if (h)
			svrg_dense(c, hr->priv, idx, h, gamma, rng, krng, hr->col);
		w->saturations += svrg_dense(c, x, idc, len - h, gamma, rng, krng, NULL);
	}
	if (c->l2c) {
		if (h)
			feral_model_l2_decay(c, hr->priv, idx, h, gamma, rng, hr->col);
		feral_model_l2_decay(c, x, idc, len - h, gamma, rng, NULL);
	}
	if (g != 0) {
		if (cfg->update == FERAL_UPDATE_ATOMIC) {
			if (h) /* private: the same arithmetic as the shared part */
				feral_model_axpy_atomic(c, ds, hr->priv, i, idx, base, h, g);
			feral_model_axpy_atomic(c, ds, x, i, idc, base + h, len - h, g);
		} else {
			double al = g * rs * c->inv_scale;
			bool sh = short_row(c, idx, len);
			if (h)
				w->saturations += part_axpy(c, sh, hr->priv, a, idx, h, al, krng);
			w->saturations += part_axpy(c, sh, x, ac, idc, len - h, al, krng);
			w->writes += len;
		}
	}
}

/* One update on row i by method m (a constant in each specialisation of the
 * worker loop).  Returns false when the step is not finite.  With hot
 * coordinates (hr->priv), the row's first h = split[i] entries are slots of
 * priv and the rest columns of x: each step below runs on the two parts in
 * turn, in the row's order, so with one worker it is the plain update. */
static inline __attribute__((always_inline)) bool
update_row(enum feral_method m, struct feral_ctx *c, struct feral_worker *w, void *x,
                              const struct feral_dataset *ds, const struct feral_rowrec *rec,
                              const double *aux, uint64_t i, double gamma,
                              struct feral_k_rng *krng, struct feral_rng *rng,
                              const struct hot_ref *hr,
                              uint64_t pf /* a dense row to prefetch */)
{
	const void *a;
	const uint32_t *idx;
	size_t len;
	uint64_t base;
	if (ds->layout == FERAL_LAYOUT_CSR) {
		base = ds->indptr[i];
		len = ds->indptr[i + 1] - base;
		idx = ds->indices + base;
	} else {
		base = i * ds->d;
		len = ds->d;
		idx = NULL;
	}
	a = (const char *)ds->values + base * c->esz;
	const struct feral_rowrec *r = rec + i;
	double rs = r->rs;
	/* the cold part (all of the row without hot coordinates): a, idc, len - h of x */
	size_t h = hr->priv ? hr->split[i] : 0;
	const void *ac = (const char *)a + h * c->esz;
	const uint32_t *idc = idx ? idx + h : NULL;
	bool sh = short_row(c, idx, len);
	double t = (h ? part_dot(c, sh, a, idx, hr->priv, h) + part_dot(c, sh, ac, idc, x, len - h)
	              : part_dot(c, sh, a, idx, x, len)) *
	           c->scale;
	if (c->center)
		t += c->cdot(a, idx, c->cx, len);
	t *= rs;
	if (!idx) /* the second half of the dense row prefetch_row began */
		prefetch_bytes(dense_row(c, ds, pf), ds->d * c->esz / 2, ds->d * c->esz);
	double g; /* x += g a_i */
	if (!feral_method_step(m, c, r, aux, i, t, gamma, &g))
		return true;
	if (FERAL_UNLIKELY(!isfinite(g)))
		return false;
	/* ---- async hook (async.c): with cfg->delay the write is queued, and
	 * the one queued `delay` updates ago is applied instead, with its own
	 * step (docs/math.md, "Delayed updates") ---- */
	if (FERAL_UNLIKELY(w->async && w->async->delay)) {
		const struct feral_delayed in = {a, idx, base, i, len, rs, g, gamma, 0, 0, (uint32_t)h,
		                                 FERAL_HOT_WAIT_NONE, 0};
		const struct feral_delayed *e = feral_delay_push(w->async, &in);
		if (e)
			write_row(m, c, w, x, ds, e->i, e->a, e->idx, e->base, e->len, e->h, e->rs, e->g,
			          e->gamma, krng, rng, hr);
		return true;
	}
	write_row(m, c, w, x, ds, i, a, idx, base, len, h, rs, g, gamma, krng, rng, hr);
	return true;
}

#endif
