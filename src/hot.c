/* Hot coordinates: Hogwild! on power-law sparse data without the cache-line
 * ping-pong of its few hottest columns (docs/math.md, "Hot coordinates").
 *
 * On text or click features whose columns follow a Zipf law, a handful of
 * columns are in almost every row, so with a shared model (Hogwild!: Niu,
 * Recht, Re & Wright, 2011) every update of every worker writes their cache
 * lines and the lines move between cores on nearly every update.  Replicas
 * per core (DimmWitted: Zhang & Re, 2014) avoid the traffic, but averaging T
 * replicas divides each sparse coordinate's progress by about T.
 *
 * Here the columns a draw touches with probability P_j >= a threshold (at
 * most FERAL_HOT_MAX of them) get a slot s in [0, H).  Each worker keeps a
 * private copy priv[H] of those coordinates (model precision) and base[H],
 * their value at its last merge; the rows are copied hot entries first, with
 * the hot columns renamed to their slots, so an update is two kernel calls:
 * the hot part against priv, the cold part against the shared model.  A
 * merge adds priv - base into the shared value of each slot and sets
 * priv = base = that value.  The shared values live apart from the model,
 * on lines of their own (xh; float models: plus one accumulator per worker
 * that only it writes, so a merge is plain loads and stores, no locked
 * instruction), and are folded into the model's columns at every round end
 * and at the end.  Every update lands in the shared value exactly once
 * (nothing lost, nothing averaged): the scheme is Hogwild! with a bounded
 * extra delay on the hot coordinates.  Two tiers: the slots with
 * P_j >= 2/K (first) merge every K own updates, the others every
 * FERAL_HOT_TIER K, so that no slot waits for more than about 2K of its own
 * column's updates (docs/math.md, "Hot coordinates").
 *
 * Layering: uses policy.c (P_j, threshold) and engine.h's inline model
 * access; engine.c calls in, never the other way. */
#include "internal.h"
#include "engine.h"
#include "topo.h"

#include <math.h>

/* ---- the hot set --------------------------------------------------------------- */

struct mass_col {
	double P;
	uint32_t j;
};

static int by_mass_desc(const void *a, const void *b)
{
	const struct mass_col *x = a, *y = b;
	if (x->P != y->P)
		return x->P > y->P ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

static int by_index(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	return i < j ? -1 : i > j;
}

uint32_t feral_hot_select(const double *P, uint64_t d, double thr, uint32_t hmax, uint32_t *cols,
                          double *share)
{
	double total = 0, hot = 0;
	uint32_t m = 0;
	for (uint64_t j = 0; j < d; j++) {
		total += P[j];
		if (thr > 0 && P[j] >= thr && P[j] > 0)
			cols[m++] = (uint32_t)j;
	}
	if (m > hmax) { /* keep the hmax most probable (ties: lower column) */
		struct mass_col *mc = malloc(m * sizeof *mc);
		if (!mc)
			return UINT32_MAX;
		for (uint32_t k = 0; k < m; k++)
			mc[k] = (struct mass_col){P[cols[k]], cols[k]};
		qsort(mc, m, sizeof *mc, by_mass_desc);
		for (uint32_t k = 0; k < hmax; k++)
			cols[k] = mc[k].j;
		free(mc);
		m = hmax;
	}
	/* slots in column order: a merge then walks the shared model forwards */
	qsort(cols, m, sizeof *cols, by_index);
	for (uint32_t s = 0; s < m; s++)
		hot += P[cols[s]];
	*share = total > 0 ? hot / total : 0;
	return m;
}

/* Reorder cols[0..H) (in column order) so that the columns with P_j >= thr
 * come first, each part in column order.  Returns their count, UINT32_MAX
 * without memory. */
static uint32_t tiers_first(const double *P, double thr, uint32_t *cols, uint32_t H)
{
	uint32_t *tmp = malloc((size_t)H * sizeof *tmp), m = 0;
	if (!tmp)
		return UINT32_MAX;
	for (uint32_t s = 0; s < H; s++)
		if (P[cols[s]] >= thr)
			tmp[m++] = cols[s];
	uint32_t fast = m;
	for (uint32_t s = 0; s < H; s++)
		if (!(P[cols[s]] >= thr))
			tmp[m++] = cols[s];
	memcpy(cols, tmp, (size_t)H * sizeof *cols);
	free(tmp);
	return fast;
}

/* ---- hot-first rows ------------------------------------------------------------ */

static void view_free(struct feral_hot_view *v)
{
	free(v->ds.values);
	free(v->ds.indices);
	free(v->split);
	memset(v, 0, sizeof *v);
}

static inline __attribute__((always_inline)) void
rows_hot_first(const struct feral_dataset *src, const uint32_t *slot_of, size_t esz,
               struct feral_hot_view *v)
{
	const char *sv = src->values;
	char *dv = v->ds.values;
	const uint32_t *si = src->indices;
	uint32_t *di = v->ds.indices;
	for (uint64_t i = 0; i < src->n; i++) {
		uint64_t b = src->indptr[i], e = src->indptr[i + 1], at = b;
		for (uint64_t k = b; k < e; k++) /* hot entries: slot numbers */
			if (slot_of[si[k]] != UINT32_MAX) {
				di[at] = slot_of[si[k]];
				memcpy(dv + at * esz, sv + k * esz, esz);
				at++;
			}
		v->split[i] = (uint32_t)(at - b);
		for (uint64_t k = b; k < e; k++) /* cold entries: columns */
			if (slot_of[si[k]] == UINT32_MAX) {
				di[at] = si[k];
				memcpy(dv + at * esz, sv + k * esz, esz);
				at++;
			}
	}
}

/* src's rows with their hot entries first (slots), then the cold ones
 * (columns), each part in its original order; the targets, norms, scales
 * and offsets are src's own.  node >= 0: placed there (a shard's node). */
static enum feral_status view_build(const struct feral_dataset *src, const uint32_t *slot_of,
                                    size_t esz, int node, struct feral_hot_view *v,
                                    struct feral_error *err)
{
	uint64_t nnz = src->indptr[src->n];
	v->ds = *src;
	v->ds.owner = NULL;
	v->ds.values = feral_big_alloc((nnz ? nnz : 1) * esz);
	v->ds.indices = feral_big_alloc((nnz ? nnz : 1) * sizeof *v->ds.indices);
	v->split = feral_big_alloc((src->n ? src->n : 1) * sizeof *v->split);
	if (!v->ds.values || !v->ds.indices || !v->split) {
		view_free(v);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                  "out of memory (hot-first rows: %llu nonzeros)",
		                  (unsigned long long)nnz);
	}
	if (node >= 0) {
		feral_numa_place(v->ds.values, (size_t)nnz * esz, node);
		feral_numa_place(v->ds.indices, (size_t)nnz * sizeof *v->ds.indices, node);
	}
	switch (esz) { /* the element copy a constant size in each loop */
	case 4: rows_hot_first(src, slot_of, 4, v); break;
	case 2: rows_hot_first(src, slot_of, 2, v); break;
	default: rows_hot_first(src, slot_of, 1, v); break;
	}
	return FERAL_OK;
}

/* Slot s of the model layout `from` (a column of the model, or a slot of
 * xh) copied raw to `to`: no rounding, so a fold is exact. */
static void copy_elem(enum feral_precision mp, void *to, uint64_t jt, const void *from,
                      uint64_t jf)
{
	switch (mp) {
	case FERAL_PRECISION_F64:
		feral_racy_store_f64((double *)to + jt, feral_racy_load_f64((const double *)from + jf));
		break;
	case FERAL_PRECISION_F32:
		feral_racy_store_f32((float *)to + jt, feral_racy_load_f32((const float *)from + jf));
		break;
	case FERAL_PRECISION_I16:
		FERAL_RACY_STORE((int16_t *)to + jt, FERAL_RACY_LOAD((const int16_t *)from + jf));
		break;
	default:
		FERAL_RACY_STORE((int8_t *)to + jt, FERAL_RACY_LOAD((const int8_t *)from + jf));
		break;
	}
}

/* ---- create / free ------------------------------------------------------------- */

void feral_hot_free(struct feral_ctx *c)
{
	struct feral_hot *h = &c->hot;
	if (h->view)
		for (int k = 0; k < h->nview; k++)
			view_free(&h->view[k]);
	if (h->priv)
		for (int t = 0; t < c->plan.nthreads; t++)
			free(h->priv[t]);
	free(h->priv);
	free(h->view);
	free(h->col);
	free(h->xh);
	free(h->acc);
	memset(h, 0, sizeof *h);
}

enum feral_status feral_hot_state_create(struct feral_ctx *c, struct feral_error *err)
{
	struct feral_hot *h = &c->hot;
	int T = c->plan.nthreads;
	uint32_t H = h->H;
	size_t msz = feral_precision_size(c->mp);
	int fl = !feral_precision_fixed(c->mp);
	/* priv and base of worker t in one block, each padded by a cache line
	 * (the gather kernels read up to 3 bytes past an int8 element); float
	 * models: then H doubles of scratch for the merge's sums */
	size_t half = ((size_t)H * msz + 127) / 64 * 64, dbl = ((size_t)H * 8 + 63) / 64 * 64;
	size_t blk = 2 * half + (fl ? dbl : 0);
	h->priv = calloc((size_t)T, sizeof *h->priv);
	if (!h->priv)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot copies)");
	for (int t = 0; t < T; t++) {
		if (!(h->priv[t] = feral_aligned_alloc(blk)))
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot copies)");
		memset(h->priv[t], 0, blk);
	}
	h->base_off = half;
	h->sum_off = 2 * half;
	/* the shared part: xh on its own lines (fixed point: the values, in
	 * the model precision; float: x0 in f64), then (float, 2+ workers)
	 * each worker's accumulator, 128 bytes apart (the adjacent-line
	 * prefetcher moves lines in pairs) */
	size_t xb = fl ? dbl : ((size_t)H * msz + 63) / 64 * 64;
	if (!(h->xh = feral_aligned_alloc(xb)))
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot coordinates)");
	if (fl && T > 1) {
		h->acc_stride = ((size_t)H * 8 + 127) / 128 * 128 / 8;
		if (!(h->acc = feral_aligned_alloc((size_t)T * h->acc_stride * 8 + 64)))
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
			                  "out of memory (hot accumulators)");
		memset(h->acc, 0, (size_t)T * h->acc_stride * 8);
	}
	for (uint32_t s = 0; s < H; s++) {
		if (fl)
			((double *)h->xh)[s] = feral_model_get(c->models[0], c->mp, 1, h->col[s]);
		else
			copy_elem(c->mp, h->xh, s, c->models[0], h->col[s]);
	}
	return FERAL_OK;
}

enum feral_status feral_hot_create(struct feral_ctx *c, struct feral_result *res,
                                   struct feral_error *err)
{
	struct feral_hot *h = &c->hot;
	const struct feral_dataset *ds = c->ds;
	memset(h, 0, sizeof *h);
	double thr = feral_hot_threshold(c->cfg, ds, c->replicas, c->plan.nthreads);
	if (!(thr > 0))
		return FERAL_OK;
	double *P = feral_column_mass(ds, c->p);
	uint32_t *cols = malloc((ds->d ? ds->d : 1) * sizeof *cols);
	if (!P || !cols) {
		free(P);
		free(cols);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot set)");
	}
	double share = 0;
	uint32_t H = feral_hot_select(P, ds->d, thr, FERAL_HOT_MAX, cols, &share);
	uint64_t K = feral_hot_every(c->cfg);
	uint32_t nfast = 0;
	if (H != 0 && H != UINT32_MAX) /* the fast tier (P_j >= 2/K) first, each in column order */
		nfast = tiers_first(P, 2.0 / (double)K, cols, H);
	free(P);
	if (H == 0 || H == UINT32_MAX || nfast == UINT32_MAX) {
		free(cols);
		if (nfast == UINT32_MAX)
			H = UINT32_MAX;
		return H ? feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot set)")
		         : FERAL_OK;
	}
	uint32_t *shrunk = realloc(cols, (size_t)H * sizeof *cols);
	if (shrunk)
		cols = shrunk;
	/* the slot of every column (UINT32_MAX: cold), for the row copies */
	uint32_t *slot_of = malloc(ds->d * sizeof *slot_of);
	if (!slot_of) {
		free(cols);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot set)");
	}
	for (uint64_t j = 0; j < ds->d; j++)
		slot_of[j] = UINT32_MAX;
	for (uint32_t s = 0; s < H; s++)
		slot_of[cols[s]] = s;
	h->H = H;
	h->col = cols;
	h->every = K;
	h->every_slow = K > UINT64_MAX / FERAL_HOT_TIER ? UINT64_MAX : K * FERAL_HOT_TIER;
	h->nfast = nfast;
	h->share = share;
	h->nview = c->shard_ds ? c->plan.nshards : 1;
	h->view = calloc((size_t)h->nview, sizeof *h->view);
	enum feral_status st = FERAL_OK;
	if (!h->view)
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot set)");
	for (int k = 0; !st && k < h->nview; k++) {
		int node = c->shard_ds && c->topo
		                   ? feral_topo_node_os_index(c->topo, c->plan.shards[k].node)
		                   : -1;
		st = view_build(c->shard_ds ? c->shard_ds[k] : ds, slot_of, c->esz, node, &h->view[k],
		                err);
	}
	free(slot_of);
	if (!st)
		st = feral_hot_state_create(c, err);
	if (st) {
		feral_hot_free(c);
		return st;
	}
	res->hot_coords = H;
	res->hot_nnz_share = share;
	return FERAL_OK;
}

/* ---- merge, pull and fold --------------------------------------------------------
 * Float models, 2+ workers: the shared value of slot s is
 *     x0[s] + acc_0[s] + ... + acc_{T-1}[s]
 * (x0 = c->hot.xh in f64: the value at the last fold; acc_t: worker t's
 * merged changes since then, written by t only).  A merge adds t's change
 * into its own accumulator and re-reads the sum: plain stores and loads on
 * whole lines, no locked instruction, and the lines of the others'
 * accumulators are requested together.  One worker: its private copy is
 * the value (a merge does nothing), so it runs the plain update bit for
 * bit.  Fixed point models: xh holds the values; a merge adds into it with
 * an integer compare-and-swap saturating at +-qmax. */

static inline double *acc_of(const struct feral_hot *h, int t)
{
	return (double *)h->acc + (size_t)t * h->acc_stride;
}

double feral_hot_value(const struct feral_ctx *c, uint32_t s)
{
	const struct feral_hot *h = &c->hot;
	if (feral_precision_fixed(c->mp))
		return feral_model_get(h->xh, c->mp, c->scale, s);
	if (!h->acc) /* one worker */
		return feral_model_get(h->priv[0], c->mp, 1, s);
	double v = feral_racy_load_f64((const double *)h->xh + s);
	for (int t = 0; t < c->plan.nthreads; t++)
		v += feral_racy_load_f64(acc_of(h, t) + s);
	return v;
}

/* priv = base = the shared value, every slot: the accumulators are 0 here
 * (after a fold, or at the start), so it is x0, or xh's fixed point value. */
void feral_hot_pull(const struct feral_ctx *c, int tid)
{
	const struct feral_hot *h = &c->hot;
	char *pv = h->priv[tid], *bs = pv + h->base_off;
	size_t msz = feral_precision_size(c->mp);
	const double *x0 = h->xh;
	switch (c->mp) {
	case FERAL_PRECISION_F64:
		for (uint32_t s = 0; s < h->H; s++)
			((double *)pv)[s] = feral_racy_load_f64(x0 + s);
		break;
	case FERAL_PRECISION_F32:
		for (uint32_t s = 0; s < h->H; s++)
			((float *)pv)[s] = (float)feral_racy_load_f64(x0 + s);
		break;
	case FERAL_PRECISION_I16:
		for (uint32_t s = 0; s < h->H; s++)
			((int16_t *)pv)[s] = FERAL_RACY_LOAD((const int16_t *)h->xh + s);
		break;
	default:
		for (uint32_t s = 0; s < h->H; s++)
			((int8_t *)pv)[s] = FERAL_RACY_LOAD((const int8_t *)h->xh + s);
		break;
	}
	memcpy(bs, pv, (size_t)h->H * msz);
}

void feral_hot_fold(const struct feral_ctx *c, int tid)
{
	const struct feral_hot *h = &c->hot;
	uint64_t d = c->ds->d, T = (uint64_t)c->plan.nthreads;
	uint64_t lo = tid < 0 ? 0 : d * (uint64_t)tid / T;
	uint64_t hi = tid < 0 ? d : d * (uint64_t)(tid + 1) / T;
	void *x = c->models[0]; /* a hot set implies one shared model */
	for (uint32_t s = 0; s < h->H; s++) {
		uint64_t j = h->col[s];
		if (j < lo || j >= hi)
			continue;
		if (feral_precision_fixed(c->mp)) {
			copy_elem(c->mp, x, j, h->xh, s);
			continue;
		}
		/* the value, rounded once to the model precision; x0 takes it
		 * and the accumulators restart from 0 */
		double v = feral_hot_value(c, s);
		if (c->mp == FERAL_PRECISION_F32)
			v = (float)v;
		feral_model_set(x, c->mp, 1, j, v, 0);
		feral_racy_store_f64((double *)h->xh + s, v);
		if (h->acc)
			for (uint64_t t = 0; t < T; t++)
				feral_racy_store_f64(acc_of(h, (int)t) + s, 0);
	}
}

/* A fixed point slot's merge: an integer add of p - b, saturated at +-qmax
 * (counted in *sat).  Returns the value written. */
#define MERGE_INT(NAME, IT)                                                                \
	static IT NAME(IT *xj, IT p, IT b, int qmax, uint64_t *sat)                        \
	{                                                                                  \
		IT old = __atomic_load_n(xj, __ATOMIC_RELAXED), nw;                        \
		int s;                                                                     \
		do {                                                                       \
			int v = (int)old + ((int)p - (int)b);                              \
			s = v > qmax || v < -qmax;                                         \
			v = v > qmax ? qmax : v < -qmax ? -qmax : v;                       \
			nw = (IT)v;                                                        \
		} while (!__atomic_compare_exchange_n(xj, &old, nw, 1, __ATOMIC_RELAXED,   \
		                                      __ATOMIC_RELAXED));                  \
		*sat += (uint64_t)s;                                                       \
		return nw;                                                                 \
	}
MERGE_INT(merge_i16, int16_t)
MERGE_INT(merge_i8, int8_t)

/* The loop over fixed point slots: a changed slot is merged, an unchanged
 * one re-read (the other workers' merges). */
#define MERGE_LOOP(FT, MERGE, QMAX)                                                        \
	do {                                                                               \
		FT *xs = h->xh, *p = (FT *)pv, *b = (FT *)bs;                              \
		for (uint32_t s = 0; s < H; s++) {                                         \
			FT v = p[s] != b[s] ? MERGE(xs + s, p[s], b[s], QMAX, &sat)         \
			                    : FERAL_RACY_LOAD(xs + s);                     \
			p[s] = b[s] = v;                                                   \
		}                                                                          \
	} while (0)

/* A float model's merge (2+ workers): acc_t += priv - base, then
 * priv = base = x0 + the sum of the accumulators. */
#define MERGE_FLOAT(FT)                                                                    \
	do {                                                                               \
		FT *p = (FT *)pv, *b = (FT *)bs;                                           \
		double *own = acc_of(h, tid), *sum = (double *)(pv + h->sum_off);         \
		const double *x0 = h->xh;                                                  \
		for (uint32_t s = 0; s < H; s++)                                           \
			feral_racy_store_f64(own + s, feral_racy_load_f64(own + s) +       \
			                                     ((double)p[s] - (double)b[s]));  \
		for (uint32_t s = 0; s < H; s++)                                           \
			sum[s] = feral_racy_load_f64(x0 + s);                               \
		for (int t = 0; t < T; t++) {                                              \
			const double *a = acc_of(h, t);                                    \
			for (uint32_t s = 0; s < H; s++)                                   \
				sum[s] += feral_racy_load_f64(a + s);                      \
		}                                                                          \
		for (uint32_t s = 0; s < H; s++)                                           \
			p[s] = b[s] = (FT)sum[s];                                          \
	} while (0)

uint64_t feral_hot_merge(const struct feral_ctx *c, int tid, uint32_t H)
{
	const struct feral_hot *h = &c->hot;
	char *pv = h->priv[tid], *bs = pv + h->base_off;
	int T = c->plan.nthreads;
	uint64_t sat = 0;
	switch (c->mp) {
	case FERAL_PRECISION_F64:
	case FERAL_PRECISION_F32:
		if (!h->acc) /* one worker: priv is the value */
			return 0;
		/* the others' accumulators, all lines requested at once */
		for (int t = 0; t < T; t++)
			if (t != tid)
				for (size_t off = 0; off < (size_t)H * 8; off += 64)
					__builtin_prefetch((const char *)acc_of(h, t) + off, 0, 3);
		if (c->mp == FERAL_PRECISION_F64)
			MERGE_FLOAT(double);
		else
			MERGE_FLOAT(float);
		break;
	case FERAL_PRECISION_I16: MERGE_LOOP(int16_t, merge_i16, 32767); break;
	default: MERGE_LOOP(int8_t, merge_i8, 127); break;
	}
	return sat;
}
