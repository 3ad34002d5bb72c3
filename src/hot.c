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
 * the hot part against priv, the cold part against the shared model.  Every
 * K own updates a worker merges: for each slot whose priv differs from base
 * it adds priv - base into the shared coordinate with a compare-and-swap
 * loop, then sets priv = base = the shared value.  Every update therefore
 * lands in the shared model exactly once (nothing lost, nothing averaged):
 * the scheme is Hogwild! with a delay of at most K own updates on the hot
 * coordinates.  The shared hot coordinates are written by merges only.
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
	memset(h, 0, sizeof *h);
}

enum feral_status feral_hot_create(struct feral_ctx *c, struct feral_result *res,
                                   struct feral_error *err)
{
	struct feral_hot *h = &c->hot;
	const struct feral_dataset *ds = c->ds;
	int T = c->plan.nthreads;
	memset(h, 0, sizeof *h);
	double thr = feral_hot_threshold(c->cfg, ds, c->replicas, T);
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
	free(P);
	if (H == 0 || H == UINT32_MAX) {
		free(cols);
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
	h->every = feral_hot_every(c->cfg);
	h->share = share;
	h->nview = c->shard_ds ? c->plan.nshards : 1;
	h->view = calloc((size_t)h->nview, sizeof *h->view);
	h->priv = calloc((size_t)T, sizeof *h->priv);
	enum feral_status st = FERAL_OK;
	if (!h->view || !h->priv)
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot set)");
	for (int k = 0; !st && k < h->nview; k++) {
		int node = c->shard_ds && c->topo
		                   ? feral_topo_node_os_index(c->topo, c->plan.shards[k].node)
		                   : -1;
		st = view_build(c->shard_ds ? c->shard_ds[k] : ds, slot_of, c->esz, node, &h->view[k],
		                err);
	}
	free(slot_of);
	/* priv and base of worker t in one block, each padded by a cache line:
	 * the gather kernels read up to 3 bytes past an int8 element */
	size_t msz = feral_precision_size(c->mp), half = ((size_t)H * msz + 127) / 64 * 64;
	for (int t = 0; !st && t < T; t++) {
		h->priv[t] = feral_aligned_alloc(2 * half);
		if (!h->priv[t])
			st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (hot copies)");
		else
			memset(h->priv[t], 0, 2 * half);
	}
	h->base_off = half;
	if (st) {
		feral_hot_free(c);
		return st;
	}
	res->hot_coords = H;
	res->hot_nnz_share = share;
	return FERAL_OK;
}

/* ---- merge and pull ------------------------------------------------------------ */

/* priv = base = the shared value, every slot. */
void feral_hot_pull(const struct feral_ctx *c, int tid, const void *x)
{
	const struct feral_hot *h = &c->hot;
	char *pv = h->priv[tid], *bs = pv + h->base_off;
	size_t msz = feral_precision_size(c->mp);
	for (uint32_t s = 0; s < h->H; s++) {
		uint64_t j = h->col[s];
		switch (c->mp) {
		case FERAL_PRECISION_F64: {
			double v = feral_racy_load_f64((const double *)x + j);
			((double *)pv)[s] = v;
			break;
		}
		case FERAL_PRECISION_F32: {
			float v = feral_racy_load_f32((const float *)x + j);
			((float *)pv)[s] = v;
			break;
		}
		case FERAL_PRECISION_I16:
			((int16_t *)pv)[s] = FERAL_RACY_LOAD((const int16_t *)x + j);
			break;
		default:
			((int8_t *)pv)[s] = FERAL_RACY_LOAD((const int8_t *)x + j);
			break;
		}
	}
	memcpy(bs, pv, (size_t)h->H * msz);
}

/* A float slot's merge: the shared value becomes old + (p - b), or p itself
 * when nobody wrote it since our last merge (old == b, bit for bit: then
 * the sum is exact, which keeps one worker bit-identical to the plain
 * shared model).  Returns the value written. */
#define MERGE_FLOAT(NAME, FT, UT)                                                          \
	static FT NAME(FT *xj, FT p, FT b)                                                 \
	{                                                                                  \
		UT *q = (UT *)xj, old = __atomic_load_n(q, __ATOMIC_RELAXED), nw, bb;      \
		FT v;                                                                      \
		memcpy(&bb, &b, sizeof bb);                                                \
		do {                                                                       \
			FT o;                                                              \
			memcpy(&o, &old, sizeof o);                                        \
			v = old == bb ? p : (FT)((double)o + ((double)p - (double)b));     \
			memcpy(&nw, &v, sizeof nw);                                        \
		} while (!__atomic_compare_exchange_n(q, &old, nw, 1, __ATOMIC_RELAXED,    \
		                                      __ATOMIC_RELAXED));                  \
		return v;                                                                  \
	}
MERGE_FLOAT(merge_f64, double, uint64_t)
MERGE_FLOAT(merge_f32, float, uint32_t)

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

/* The loop over slots for one element type: a changed slot is merged, an
 * unchanged one re-read (the other workers' merges). */
#define MERGE_LOOP(FT, LOAD, MERGE, ...)                                                   \
	do {                                                                               \
		FT *xs = x, *p = (FT *)pv, *b = (FT *)bs;                                  \
		for (uint32_t s = 0; s < h->H; s++) {                                      \
			FT *xj = xs + h->col[s];                                           \
			FT v = memcmp(&p[s], &b[s], sizeof(FT)) ? MERGE(xj, p[s], b[s] __VA_ARGS__) \
			                                        : LOAD(xj);                \
			p[s] = b[s] = v;                                                   \
		}                                                                          \
	} while (0)
#define LOAD_INT(p) FERAL_RACY_LOAD(p)

uint64_t feral_hot_merge(const struct feral_ctx *c, int tid, void *x)
{
	const struct feral_hot *h = &c->hot;
	char *pv = h->priv[tid], *bs = pv + h->base_off;
	uint64_t sat = 0;
	switch (c->mp) {
	case FERAL_PRECISION_F64: MERGE_LOOP(double, feral_racy_load_f64, merge_f64, ); break;
	case FERAL_PRECISION_F32: MERGE_LOOP(float, feral_racy_load_f32, merge_f32, ); break;
	case FERAL_PRECISION_I16: MERGE_LOOP(int16_t, LOAD_INT, merge_i16, , 32767, &sat); break;
	default: MERGE_LOOP(int8_t, LOAD_INT, merge_i8, , 127, &sat); break;
	}
	return sat;
}
