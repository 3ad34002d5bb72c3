/* Engine internals exposed for tests: the placement / shard / replica plan. */
#ifndef FERAL_ENGINE_H
#define FERAL_ENGINE_H
#include "internal.h"

/* A shard: the rows (with their probability mass) that the workers of one
 * NUMA node draw from.  Shards are cut by probability mass, not by row
 * count: shard k receives mass t_k / T, where t_k is its worker count, and a
 * row that straddles a cut is split between the two shards.  Each worker then
 * draws row i from its shard with probability m_ik / (t_k / T), so over all
 * workers (equal update rates) row i is drawn with probability
 * sum_k (t_k/T) m_ik/(t_k/T) = sum_k m_ik = p_i exactly, and the step keeps
 * its weight 1/(n p_i): the expected update is the full gradient. */
struct feral_shard {
	int node;          /* logical NUMA node */
	int workers;       /* t_k */
	uint64_t len;      /* entries */
	uint32_t *rows;    /* global row of each entry; NULL = identity (one shard) */
	double *mass;      /* m_ik of each entry (NULL = p itself) */
	struct feral_alias alias;
};

struct feral_plan {
	int nthreads;
	int oversubscribed;
	struct feral_placement *place; /* per worker */
	int nshards;
	struct feral_shard *shards;
	int *shard_of;                 /* worker -> shard */
	int nrep;
	int *rep_node;                 /* replica -> logical node */
	int *rep_of;                   /* worker -> replica */
};

/* Build the plan for T workers on topology t from sampling probabilities p
 * (length n, summing to 1). */
enum feral_status feral_plan_build(const struct feral_topo *t, int nthreads, enum feral_bind bind,
                                   enum feral_replicas replicas, const double *p, uint64_t n,
                                   struct feral_plan *plan, struct feral_error *err);
/* Same, from explicit placements (tests use it for unbalanced layouts). */
enum feral_status feral_plan_from_placements(const struct feral_placement *place, int nthreads,
                                             enum feral_replicas replicas, const double *p,
                                             uint64_t n, struct feral_plan *plan,
                                             struct feral_error *err);
void feral_plan_free(struct feral_plan *plan);
/* With more than one shard, copy each shard's rows (in entry order, with
 * targets, norms, scales) into a dataset of its own, moved to the shard's
 * node (topo may be NULL: no placement), with the step weights wstep of its
 * rows.  shard_ds/shard_w have plan->nshards slots; free with
 * feral_plan_free_data.  One shard: nothing to do (the slots stay NULL). */
enum feral_status feral_plan_place_data(const struct feral_plan *plan,
                                        const struct feral_dataset *ds, const double *wstep,
                                        const struct feral_topo *topo,
                                        struct feral_dataset **shard_ds, double **shard_w,
                                        struct feral_error *err);
void feral_plan_free_data(const struct feral_plan *plan, struct feral_dataset **shard_ds,
                          double **shard_w);
/* The global row of a shard entry. */
static inline uint64_t shard_row(const struct feral_shard *s, uint64_t e)
{
	return s->rows ? s->rows[e] : e;
}
/* Draw an entry of a shard and map it to its global row. */
static inline uint64_t feral_shard_draw(const struct feral_shard *s, uint64_t r)
{
	return shard_row(s, feral_alias_draw(&s->alias, r));
}
#endif
