/* The plan of a solve: worker placement (threads), row shards cut by
 * probability mass with their rows copied to their NUMA node, and which
 * replica each worker writes.  The shard cut keeps the weighted SGD
 * expectation exact (see struct feral_shard in engine.h). */
#include "internal.h"
#include "engine.h"
#include "topo.h"

#include <math.h>

/* ---- plan: placements, shards, replicas -------------------------------------- */

void feral_plan_free(struct feral_plan *plan)
{
	if (!plan)
		return;
	for (int k = 0; k < plan->nshards; k++) {
		free(plan->shards[k].rows);
		free(plan->shards[k].mass);
		feral_alias_free(&plan->shards[k].alias);
	}
	free(plan->shards);
	free(plan->place);
	free(plan->shard_of);
	free(plan->rep_node);
	free(plan->rep_of);
	memset(plan, 0, sizeof *plan);
}

enum feral_status feral_plan_from_placements(const struct feral_placement *place, int T,
                                             enum feral_replicas replicas, const double *p,
                                             uint64_t n, struct feral_plan *plan,
                                             struct feral_error *err)
{
	memset(plan, 0, sizeof *plan);
	plan->nthreads = T;
	plan->place = malloc((size_t)T * sizeof *plan->place);
	plan->shard_of = malloc((size_t)T * sizeof *plan->shard_of);
	plan->rep_of = malloc((size_t)T * sizeof *plan->rep_of);
	plan->rep_node = malloc((size_t)T * sizeof *plan->rep_node);
	plan->shards = calloc((size_t)T, sizeof *plan->shards);
	if (!plan->place || !plan->shard_of || !plan->rep_of || !plan->rep_node || !plan->shards) {
		feral_plan_free(plan);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (plan)");
	}
	memcpy(plan->place, place, (size_t)T * sizeof *place);
	/* one shard per distinct node, in order of first appearance */
	for (int t = 0; t < T; t++) {
		int k;
		for (k = 0; k < plan->nshards; k++)
			if (plan->shards[k].node == place[t].node)
				break;
		if (k == plan->nshards) {
			plan->shards[k].node = place[t].node;
			plan->nshards++;
		}
		plan->shards[k].workers++;
		plan->shard_of[t] = k;
	}
	/* replicas */
	for (int t = 0; t < T; t++) {
		switch (replicas) {
		case FERAL_REPLICAS_CORE:
			plan->rep_of[t] = t;
			plan->rep_node[t] = place[t].node;
			plan->nrep = T;
			break;
		case FERAL_REPLICAS_NODE:
			plan->rep_of[t] = plan->shard_of[t];
			plan->rep_node[plan->shard_of[t]] = place[t].node;
			plan->nrep = plan->nshards;
			break;
		default:
			plan->rep_of[t] = 0;
			plan->rep_node[0] = place[0].node;
			plan->nrep = 1;
		}
	}
	if (plan->nshards == 1) {
		struct feral_shard *s = &plan->shards[0];
		s->len = n;
		enum feral_status st = feral_alias_build(&s->alias, p, n, err);
		if (st)
			feral_plan_free(plan);
		return st;
	}
	/* Cut the cumulative mass at C_k = sum_{k' < k} t_k' / T. */
	double cut_lo = 0;
	uint64_t i = 0;
	double row_lo = 0; /* cumulative mass before row i */
	for (int k = 0; k < plan->nshards; k++) {
		struct feral_shard *s = &plan->shards[k];
		double cut_hi = k == plan->nshards - 1 ? INFINITY : cut_lo + (double)s->workers / T;
		uint64_t cap = 1024, len = 0;
		s->rows = malloc(cap * sizeof *s->rows);
		s->mass = malloc(cap * sizeof *s->mass);
		uint64_t j = i;
		double lo = row_lo;
		while (j < n && lo < cut_hi) {
			double hi = lo + p[j];
			double m = fmin(hi, cut_hi) - fmax(lo, cut_lo);
			if (m > 0) {
				if (len == cap) {
					cap *= 2;
					uint32_t *r2 = realloc(s->rows, cap * sizeof *r2);
					double *m2 = realloc(s->mass, cap * sizeof *m2);
					if (r2) s->rows = r2;
					if (m2) s->mass = m2;
					if (!r2 || !m2) {
						s->len = len;
						feral_plan_free(plan);
						return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
					}
				}
				if (!s->rows || !s->mass)
					break;
				s->rows[len] = (uint32_t)j;
				s->mass[len] = m;
				len++;
			}
			if (hi <= cut_hi) { /* row ends inside this shard */
				j++;
				lo = hi;
			} else {
				break; /* row straddles the cut: it continues in the next shard */
			}
		}
		s->len = len;
		if (!s->rows || !s->mass) {
			feral_plan_free(plan);
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
		}
		if (len == 0) { /* no mass here (e.g. all p on zero rows): borrow row j */
			s->rows[0] = (uint32_t)(j < n ? j : n - 1);
			s->mass[0] = 1;
			s->len = len = 1;
		}
		enum feral_status st = feral_alias_build(&s->alias, s->mass, len, err);
		if (st) {
			feral_plan_free(plan);
			return st;
		}
		i = j;
		row_lo = lo;
		cut_lo = cut_hi;
	}
	return FERAL_OK;
}

enum feral_status feral_plan_build(const struct feral_topo *topo, int T, enum feral_bind bind,
                                   enum feral_replicas replicas, const double *p, uint64_t n,
                                   struct feral_plan *plan, struct feral_error *err)
{
	struct feral_placement *place = malloc((size_t)T * sizeof *place);
	if (!place)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "out of memory (plan)");
	int over = 0;
	enum feral_status st = feral_topo_plan(topo, T, bind, place, &over, err);
	if (st == FERAL_OK)
		st = feral_plan_from_placements(place, T, replicas, p, n, plan, err);
	if (st == FERAL_OK)
		plan->oversubscribed = over;
	free(place);
	return st;
}

/* ---- shard data on its node -------------------------------------------------------- */

void feral_plan_free_data(const struct feral_plan *plan, struct feral_dataset **shard_ds,
                          struct feral_rowrec **shard_rec)
{
	for (int k = 0; k < plan->nshards; k++) {
		if (shard_ds)
			feral_dataset_destroy(&shard_ds[k]);
		if (shard_rec) {
			free(shard_rec[k]);
			shard_rec[k] = NULL;
		}
	}
}

enum feral_status feral_plan_place_data(const struct feral_plan *plan,
                                        const struct feral_dataset *ds,
                                        const struct feral_rowrec *rec,
                                        const struct feral_topo *topo,
                                        struct feral_dataset **shard_ds,
                                        struct feral_rowrec **shard_rec, struct feral_error *err)
{
	for (int k = 0; k < plan->nshards; k++) {
		shard_ds[k] = NULL;
		shard_rec[k] = NULL;
	}
	if (plan->nshards < 2)
		return FERAL_OK;
	size_t esz = feral_precision_size(ds->precision);
	for (int k = 0; k < plan->nshards; k++) {
		const struct feral_shard *sh = &plan->shards[k];
		uint64_t nnz = 0;
		for (uint64_t e = 0; e < sh->len; e++) {
			uint64_t r = shard_row(sh, e);
			nnz += ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r + 1] - ds->indptr[r] : ds->d;
		}
		struct feral_dataset *l = NULL;
		enum feral_status st = feral_dataset_create(sh->len, ds->d, nnz ? nnz : 1, ds->layout,
		                                            ds->precision, &l, err);
		shard_rec[k] = feral_big_alloc(sh->len * sizeof *shard_rec[k]);
		if (st || !shard_rec[k]) {
			feral_dataset_destroy(&l);
			feral_plan_free_data(plan, shard_ds, shard_rec);
			return st ? st : feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "shard records");
		}
		shard_ds[k] = l;
		if (topo) { /* values and indices are what the workers stream */
			int os = feral_topo_node_os_index(topo, sh->node);
			feral_numa_place(l->values, (size_t)nnz * esz, os);
			if (l->indices)
				feral_numa_place(l->indices, (size_t)nnz * sizeof *l->indices, os);
		}
		uint64_t at = 0;
		for (uint64_t e = 0; e < sh->len; e++) {
			uint64_t r = shard_row(sh, e);
			uint64_t b = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r] : r * ds->d;
			uint64_t len = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[r + 1] - b : ds->d;
			memcpy((char *)l->values + at * esz, (const char *)ds->values + b * esz, len * esz);
			if (ds->layout == FERAL_LAYOUT_CSR) {
				memcpy(l->indices + at, ds->indices + b, len * sizeof *l->indices);
				l->indptr[e + 1] = at + len;
			}
			at += len;
			l->y[e] = ds->y[r];
			l->row_sq_norm[e] = ds->row_sq_norm[r];
			if (ds->row_scale)
				l->row_scale[e] = ds->row_scale[r];
			shard_rec[k][e] = rec[r];
		}
		l->nnz = at;
	}
	return FERAL_OK;
}

enum feral_status feral_plan_make(const struct feral_topo *topo, int T, enum feral_bind bind,
                                  enum feral_replicas replicas, const double *p, uint64_t n,
                                  struct feral_plan *plan, struct feral_error *err)
{
	if (topo)
		return feral_plan_build(topo, T, bind, replicas, p, n, plan, err);
	struct feral_placement *pl = calloc((size_t)T, sizeof *pl);
	if (!pl)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "plan");
	for (int t = 0; t < T; t++)
		pl[t].pu = -1;
	enum feral_status st = feral_plan_from_placements(pl, T, replicas, p, n, plan, err);
	free(pl);
	return st;
}
