/* What asynchrony did to a run: staleness and conflict rate on a sample of
 * the updates, and the per-worker state of delayed writes (cfg->delay).
 * The worker loop (engine.c) calls in only on sampled updates; the hot
 * parts (sampling test, delay queue) are inline in engine.h.  This file
 * calls into no other engine module (engine.h's layering).
 *
 * Staleness of an update u of worker w (docs/design.md):
 *   s(u) = sum_{v != w} (U_v after u's write - U_v before u's read) + a(u)
 * where U_v is worker v's published update count (w->updates, a relaxed
 * store per update) and a(u) the writes w had queued ahead of u at its
 * read (cfg->delay; 0 without delay), which all land, in order, before
 * u's own.  One worker: s(u) = a(u), exactly 0 or exactly the delay. */
#include "internal.h"
#include "engine.h"

#include <stddef.h>

/* feral_result's new fields took reserved slots: its size, and with it the
 * ABI, is that of the release before them (6 reserved slots after
 * grad_seconds). */
_Static_assert(sizeof(struct feral_result) ==
                       offsetof(struct feral_result, hot_coords) + 6 * sizeof(uint64_t),
               "struct feral_result changed size");
_Static_assert(offsetof(struct feral_result, cpu_seconds) ==
                       offsetof(struct feral_result, hot_coords) + 5 * sizeof(uint64_t),
               "the async fields take exactly reserved slots 2, 3 and 4, cpu_seconds the "
               "last one");
_Static_assert(FERAL_ASYNC_SAMPLE_EVERY == 0 ||
                       (FERAL_ASYNC_SAMPLE_EVERY & (FERAL_ASYNC_SAMPLE_EVERY - 1)) == 0,
               "FERAL_ASYNC_SAMPLE_EVERY must be 0 or a power of two");

/* ---- histograms ------------------------------------------------------------ */

/* Fine bucket of a staleness: exact below 64, then 16 per power of two
 * (relative width 1/16), then overflow at 2^20. */
static unsigned fine_bucket(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	if (v >= (1u << 20))
		return FERAL_STALE_FINE - 1;
	unsigned k = 63u - (unsigned)__builtin_clzll(v); /* 6..19 */
	return 64 + (k - 6) * 16 + (unsigned)((v >> (k - 4)) & 15);
}

/* The smallest staleness of fine bucket b. */
static uint64_t fine_lo(unsigned b)
{
	if (b < 64)
		return b;
	if (b >= FERAL_STALE_FINE - 1)
		return 1u << 20;
	unsigned k = 6 + (b - 64) / 16, sub = (b - 64) % 16;
	return (uint64_t)(16 + sub) << (k - 4);
}

uint64_t feral_staleness_bucket_lo(int k)
{
	if (k < 0 || k >= FERAL_STALENESS_BUCKETS)
		return UINT64_MAX;
	return k < 4 ? (uint64_t)k : (uint64_t)1 << (k - 2);
}

/* The public bucket of a staleness (feral.h). */
static int coarse_bucket(uint64_t v)
{
	if (v < 4)
		return (int)v;
	if (v >= (1u << 20))
		return FERAL_STALENESS_BUCKETS - 1;
	return 2 + (63 - __builtin_clzll(v));
}

/* ---- state ----------------------------------------------------------------- */

enum feral_status feral_async_create(struct feral_ctx *c, struct feral_error *err)
{
	int T = c->plan.nthreads;
	uint32_t delay = c->cfg->delay;
	for (int t = 0; t < T; t++) {
		c->w[t].inflight = FERAL_INFLIGHT_NONE;
		c->w[t].async = NULL;
	}
	if (!FERAL_ASYNC_SAMPLE_EVERY && delay == 0)
		return FERAL_OK; /* nothing to measure, nothing to queue */
	c->async = feral_aligned_alloc((size_t)T * sizeof *c->async);
	if (!c->async)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (async state)");
	memset(c->async, 0, (size_t)T * sizeof *c->async);
	for (int t = 0; t < T; t++) {
		struct feral_async *as = &c->async[t];
		as->delay = delay;
		as->cur_seen = as->land_seen = FERAL_ASYNC_NONE;
		if (delay) {
			as->q = malloc(((size_t)delay + 1) * sizeof *as->q);
			if (!as->q)
				return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
				                  "out of memory (delay queue of %u writes)", delay);
		}
		c->w[t].async = as;
	}
	return FERAL_OK;
}

void feral_async_free(struct feral_ctx *c)
{
	if (!c->async)
		return;
	for (int t = 0; t < c->plan.nthreads; t++)
		free(c->async[t].q);
	free(c->async);
	c->async = NULL;
}

/* ---- sampling ---------------------------------------------------------------- */

/* The other workers' published update counts, summed. */
static uint64_t others(const struct feral_ctx *c, int tid)
{
	uint64_t s = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		if (t != tid)
			s += __atomic_load_n(&c->w[t].updates, __ATOMIC_RELAXED);
	return s;
}

/* Row r of ds: its CSR support (idx, len), or idx NULL for a dense row. */
static void support(const struct feral_dataset *ds, uint64_t r, const uint32_t **idx, size_t *len)
{
	if (ds->layout == FERAL_LAYOUT_CSR) {
		*idx = ds->indices + ds->indptr[r];
		*len = ds->indptr[r + 1] - ds->indptr[r];
	} else {
		*idx = NULL;
		*len = ds->d;
	}
}

/* The support that can conflict of row r of shard k (ds its rows): with a
 * hot set, only the cold columns (the hot-first copy's entries after the
 * row's hot slots: hot columns live in private copies and race with no
 * one); else the whole row. */
static void conflict_support(const struct feral_ctx *c, int k, const struct feral_dataset *ds,
                             uint64_t r, const uint32_t **idx, size_t *len)
{
	if (!c->hot.H) {
		support(ds, r, idx, len);
		return;
	}
	const struct feral_hot_view *v = &c->hot.view[c->shard_ds ? k : 0];
	uint64_t b = v->ds.indptr[r], h = v->split[r];
	*idx = v->ds.indices + b + h;
	*len = v->ds.indptr[r + 1] - b - h;
}

/* Do two rows share a coordinate?  Sorted CSR index lists are merged; a
 * dense row touches every coordinate. */
static bool overlap(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	if (na == 0 || nb == 0)
		return false;
	if (!a || !b)
		return true;
	size_t i = 0, j = 0;
	while (i < na && j < nb) {
		if (a[i] == b[j])
			return true;
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return false;
}

/* The merge that lands the hot part of row r of shard k (FERAL_HOT_WAIT_*):
 * none without hot entries, the next merge when all are in the fast tier
 * (slots below nfast), else the next merge of all slots. */
static uint32_t hot_wait(const struct feral_ctx *c, int k, uint64_t r)
{
	if (!c->hot.H)
		return FERAL_HOT_WAIT_NONE;
	const struct feral_hot_view *v = &c->hot.view[c->shard_ds ? k : 0];
	const uint32_t *slot = v->ds.indices + v->ds.indptr[r];
	uint32_t h = v->split[r];
	if (h == 0)
		return FERAL_HOT_WAIT_NONE;
	for (uint32_t e = 0; e < h; e++)
		if (slot[e] >= c->hot.nfast)
			return FERAL_HOT_WAIT_ALL;
	return FERAL_HOT_WAIT_FAST;
}

/* The other workers' update counts at their last merge (all: of every
 * slot), summed. */
static uint64_t others_merged(const struct feral_ctx *c, int tid, bool all)
{
	uint64_t s = 0;
	for (int t = 0; t < c->plan.nthreads; t++)
		if (t != tid)
			s += __atomic_load_n(all ? &c->w[t].merged_all : &c->w[t].merged,
			                     __ATOMIC_RELAXED);
	return s;
}

__attribute__((noinline, cold)) void feral_async_read(struct feral_ctx *c, int tid,
                                                      const struct feral_dataset *ds, uint64_t i)
{
	struct feral_async *as = &c->async[tid];
	if (as->len < as->delay)
		return; /* sample the steady state: a full queue ahead */
	uint64_t seen = others(c, tid);
	/* its hot values were pulled at this worker's last merge of their tier */
	uint32_t wait = hot_wait(c, c->plan.shard_of[tid], i);
	uint64_t start = wait == FERAL_HOT_WAIT_FAST ? as->pull_fast : as->pull_all;
	if (as->delay) { /* queued with the update by feral_delay_push */
		as->cur_seen = seen;
		as->cur_ahead = as->len;
		as->cur_hot = wait;
		as->cur_hot_start = start;
	} else { /* written in this same iteration */
		as->land_seen = seen;
		as->land_ahead = 0;
		as->land_hot = wait;
		as->land_hot_start = start;
	}
	/* conflict: the rows the others writing the same model are in now,
	 * against this one (a replica of its own races with no one) */
	const uint32_t *idx, *oidx;
	size_t len, olen;
	conflict_support(c, c->plan.shard_of[tid], ds, i, &idx, &len);
	bool hit = false;
	for (int t = 0; t < c->plan.nthreads && !hit; t++) {
		if (t == tid || c->plan.rep_of[t] != c->plan.rep_of[tid])
			continue;
		uint64_t tag = __atomic_load_n(&c->w[t].inflight, __ATOMIC_RELAXED);
		if (tag == FERAL_INFLIGHT_NONE)
			continue;
		uint64_t shard = tag >> 32, r = tag & 0xffffffffu;
		const struct feral_dataset *ods = c->shard_ds ? c->shard_ds[shard] : c->ds;
		conflict_support(c, (int)shard, ods, r, &oidx, &olen);
		hit = overlap(idx, len, oidx, olen);
	}
	as->probes++;
	as->conflicts += hit;
}

static void record(struct feral_async *as, uint64_t s)
{
	as->samples++;
	as->sum += s;
	if (s > as->max)
		as->max = s;
	as->hist[fine_bucket(s)]++;
}

__attribute__((noinline, cold)) void feral_async_landed(struct feral_ctx *c, int tid)
{
	struct feral_async *as = &c->async[tid];
	uint64_t s = others(c, tid) - as->land_seen + as->land_ahead;
	uint32_t wait = as->land_hot;
	as->land_seen = FERAL_ASYNC_NONE;
	as->land_hot = FERAL_HOT_WAIT_NONE;
	if (wait == FERAL_HOT_WAIT_NONE) {
		record(as, s);
		return;
	}
	/* the hot part lands at a merge: the sample waits for it */
	if (as->npending == FERAL_HOT_PENDING)
		return; /* not sampled: FERAL_HOT_PENDING already wait */
	as->pending[as->npending].wait = wait;
	as->pending[as->npending].start = as->land_hot_start;
	as->pending[as->npending].s = s;
	as->npending++;
}

/* A merge of worker tid's hot values, its own part (published) and its
 * sampled writes', then its pull: the hot staleness of a write is the others'
 * updates merged between the pull its hot values came from and the merge
 * that landed it (docs/design.md); the sample's staleness is the larger of
 * that and its cold part's. */
void feral_async_merged(struct feral_ctx *c, int tid, uint64_t done, bool all)
{
	struct feral_worker *w = &c->w[tid];
	__atomic_store_n(&w->merged, done, __ATOMIC_RELAXED);
	if (all)
		__atomic_store_n(&w->merged_all, done, __ATOMIC_RELAXED);
	struct feral_async *as = w->async;
	if (!as)
		return;
	uint64_t f = others_merged(c, tid, false), a = all ? others_merged(c, tid, true) : 0;
	uint32_t keep = 0;
	for (uint32_t k = 0; k < as->npending; k++) {
		uint64_t start = as->pending[k].start, s = as->pending[k].s;
		if (as->pending[k].wait == FERAL_HOT_WAIT_ALL && !all) {
			as->pending[keep++] = as->pending[k];
			continue;
		}
		uint64_t end = as->pending[k].wait == FERAL_HOT_WAIT_FAST ? f : a;
		uint64_t hs = end > start ? end - start : 0;
		record(as, hs > s ? hs : s);
		as->hot_samples++;
	}
	as->npending = keep;
	as->pull_fast = f;
	if (all)
		as->pull_all = a;
}

/* After a fold (round end): every worker merged all its updates. */
void feral_async_pulled(struct feral_ctx *c, int tid)
{
	struct feral_async *as = c->async ? &c->async[tid] : NULL;
	if (as)
		as->pull_fast = as->pull_all = others_merged(c, tid, true);
}

/* ---- the result -------------------------------------------------------------- */

void feral_async_result(const struct feral_ctx *c, struct feral_result *res)
{
	uint64_t fine[FERAL_STALE_FINE] = {0}, n = 0, sum = 0, max = 0, probes = 0, conflicts = 0;
	for (int t = 0; c->async && t < c->plan.nthreads; t++) {
		const struct feral_async *as = &c->async[t];
		n += as->samples;
		sum += as->sum;
		probes += as->probes;
		conflicts += as->conflicts;
		if (as->max > max)
			max = as->max;
		for (unsigned b = 0; b < FERAL_STALE_FINE; b++)
			fine[b] += as->hist[b];
	}
	uint64_t *out = c->cfg->staleness_hist;
	if (out)
		memset(out, 0, FERAL_STALENESS_BUCKETS * sizeof *out);
	res->staleness_mean = n ? (double)sum / (double)n : NAN;
	res->conflict_rate = probes ? (double)conflicts / (double)probes : NAN;
	res->staleness_max = max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
	res->staleness_p99 = 0;
	uint64_t want = n - n / 100, cum = 0; /* the smallest value with >= 99 % at or below */
	bool found = false;
	for (unsigned b = 0; b < FERAL_STALE_FINE; b++) {
		cum += fine[b];
		if (!found && n && cum >= want) {
			uint64_t lo = fine_lo(b);
			/* the bucket's lower end (exact below 64), at most the maximum */
			res->staleness_p99 = (uint32_t)(lo < max ? lo : max);
			found = true;
		}
		if (out && fine[b])
			out[coarse_bucket(fine_lo(b))] += fine[b];
	}
}
