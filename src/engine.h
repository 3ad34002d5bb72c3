/* Engine internals, shared by engine.c, plan.c, model.c, monitor.c and
 * policy.c (and the tests): the placement / shard / replica plan, the solve
 * context, the method interface.  Not installed.
 *
 * Module layering (each file calls only into files below it):
 *   engine.c   the context, the update, the worker loop, feral_solve
 *   hot.c      hot coordinates: hot-first rows, private copies, merges
 *              (uses policy.c)
 *   monitor.c  evaluation, trace, stop rules, tail averaging  (uses model.c,
 *              async.c)
 *   async.c    staleness, conflict rate, the delay queue's state
 *   model.c    model storage, fixed point, snapshot, replica averaging,
 *              bit centring
 *   policy.c   step, scale, replica mode, L2 degrees, re-centring period
 *              (uses stepsize.c)
 *   plan.c     threads, shards, NUMA placement of shards */
#ifndef FERAL_ENGINE_H
#define FERAL_ENGINE_H
#include "internal.h"

#include <math.h>

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
struct feral_rowrec;
/* With more than one shard, copy each shard's rows (in entry order, with
 * targets, norms, scales) into a dataset of its own, moved to the shard's
 * node (topo may be NULL: no placement), and the records rec of its rows
 * (feral_rowrec) into shard_rec.  shard_ds/shard_rec have plan->nshards
 * slots; free with feral_plan_free_data.  One shard: nothing to do (the
 * slots stay NULL). */
enum feral_status feral_plan_place_data(const struct feral_plan *plan,
                                        const struct feral_dataset *ds,
                                        const struct feral_rowrec *rec,
                                        const struct feral_topo *topo,
                                        struct feral_dataset **shard_ds,
                                        struct feral_rowrec **shard_rec, struct feral_error *err);
void feral_plan_free_data(const struct feral_plan *plan, struct feral_dataset **shard_ds,
                          struct feral_rowrec **shard_rec);
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
/* The plan on topology topo, or without one (topo NULL: T unpinned workers
 * on one node). */
enum feral_status feral_plan_make(const struct feral_topo *topo, int nthreads,
                                  enum feral_bind bind, enum feral_replicas replicas,
                                  const double *p, uint64_t n, struct feral_plan *plan,
                                  struct feral_error *err);

/* ---- the solve context ------------------------------------------------------ */

#ifndef FERAL_SCALE_HEADROOM
/* Fixed point scale: headroom over the warm-up's max |x_j|.  Measured on
 * Fashion-MNIST logistic (8-bit model): 1.0 -> 94.87%, 1.25 -> 94.93%,
 * 1.5 -> 94.74%, 2.0 -> 94.59% test accuracy (f32: 95.12%): a finer grid
 * beats the few saturations it causes. */
#define FERAL_SCALE_HEADROOM 1.25
#endif

struct feral_async;

struct feral_worker {
	uint64_t updates;     /* written by its worker only, read by the monitor */
	uint64_t saturations;
	uint64_t writes;
	uint64_t arrived;     /* rounds whose updates it has done (monitor waits on it) */
	/* the update it is in (async.c's conflict estimate): shard << 32 | row
	 * of the shard's dataset, FERAL_INFLIGHT_NONE between rounds; a relaxed
	 * store per update, on this line that its worker owns anyway */
	uint64_t inflight;
	/* its update count at its last merge of the hot coordinates, and at its
	 * last merge of all of them (the slow tier's too): async.c's staleness
	 * of hot writes, which land at merges; relaxed stores at merges */
	uint64_t merged, merged_all;
	struct feral_async *async; /* its instruments and delay queue (async.c), or NULL */
} FERAL_ALIGN64;

/* Hot coordinates (hot.c): H columns, slot s <-> column col[s], updated in a
 * private copy per worker and merged into the shared model every `every`
 * own updates.  H = 0: none. */
struct feral_hot_view {      /* one dataset's rows, hot entries first */
	struct feral_dataset ds; /* own values and indices; y, norms, scales, indptr shared */
	uint32_t *split;         /* per row: hot entries (their indices are slots) */
};
/* The slow tier's merge period, in fast periods (docs/math.md section 6). */
#define FERAL_HOT_TIER 16
struct feral_hot {
	uint32_t H;
	uint64_t every;          /* K: the fast tier's merge period */
	uint64_t every_slow;     /* FERAL_HOT_TIER K: every slot's */
	uint32_t nfast;          /* slots [0, nfast): P_j >= 2/K, merged every K */
	double share;            /* of the nonzeros, under p */
	uint32_t *col;           /* slot -> column, increasing */
	int nview;
	struct feral_hot_view *view; /* per shard dataset (one: c->ds) */
	void **priv;             /* per worker: priv[H], then base[H] at base_off bytes */
	size_t base_off;
	size_t sum_off;          /* float models: H doubles of merge scratch there */
	/* The shared hot coordinates, on their own lines: while the workers
	 * run they are the authority for the hot columns (merges never write
	 * the model; feral_hot_fold copies the values into it).  Fixed point:
	 * xh[s] is slot s's value (model precision).  Float: xh holds x0[s] in
	 * f64, the value at the last fold, and with 2+ workers acc (T arrays
	 * of acc_stride doubles) each worker's merged changes since then: the
	 * value is x0[s] + sum_t acc_t[s] (feral_hot_value). */
	void *xh;
	double *acc;
	size_t acc_stride;
};

enum { FERAL_FCSR_F32 = 1, FERAL_FCSR_F64 = 2 };

/* Row i's target, step weight 1/(n p_i), squared norm and data scale, side by
 * side: an update's one metadata line besides its alias entry (and its CSR
 * offsets), where y, the weight and the scale were three lines apart, a
 * random miss each out of cache.  32 bytes, two to a line, never straddling
 * one (the array is page-aligned). */
struct feral_rowrec {
	double y, w, nn;
	float rs; /* row_scale[i], 1 for f32 data */
	uint32_t pad;
};
_Static_assert(sizeof(struct feral_rowrec) == 32, "two row records a cache line");

struct feral_ctx {
	const struct feral_dataset *ds;
	const struct feral_config *cfg;
	const double *x_star;
	double xstar_sq;
	feral_k_dot_fn dot;
	feral_k_axpy_fn axpy;
	size_t esz;               /* bytes per stored data element */
	size_t msz;               /* bytes per model element */
	bool mfixed;              /* the model is fixed point (8/16-bit) */
	int fcsr;                 /* CSR f32 rows on a float model: FERAL_FCSR_F32/F64, else 0 */
	double *L, *p;            /* row constants and sampling probabilities */
	double *wstep;            /* 1/(n p_i); freed once the row records hold it */
	/* what an update reads of its row besides the values, in one 32-byte
	 * record per row (feral_rowrec): rec for the whole dataset (one shard;
	 * freed once copied into shards), shard_rec[k] for shard k's local rows */
	struct feral_rowrec *rec;
	struct feral_rowrec **shard_rec;
	double lbar;              /* mean L_i */
	const double *l2c;        /* eta / P_j, or NULL */
	double gamma;             /* absolute step */
	double decay_per_update;  /* step_decay / n */
	enum feral_precision mp;
	double scale;             /* model scale (1 for float); set by feral_set_scale */
	/* 1 / scale: the update's multiplier g rs / scale costs a multiply, not
	 * a division on its critical path (dot -> step -> multiplier -> axpy) */
	double inv_scale;
	/* bit centring (cfg->recenter): model value j = center[j] + scale q_j */
	double *center;
	float *fcenter;           /* the same in f32, for the dot kernel */
	/* the centre as cdot reads it: fcenter, or center itself for HALP,
	 * whose f32 centre would floor the gradient near 1e-7 relative (the
	 * margin's rounding): measured 3e-8 on L2 logistic, x at 1e-15 */
	const void *cx;
	feral_k_dot_fn cdot;      /* data x f32 dot (HALP: data x f64) */
	double *maxq;             /* per worker: largest |q| of its slice */
	enum feral_replicas replicas; /* resolved (never AUTO) */
	struct feral_plan plan;
	struct feral_dataset **shard_ds; /* per shard, on its node (NULL: one shard) */
	void **models;
	struct feral_worker *w;
	struct feral_async *async; /* per worker (async.c), or NULL */
	struct feral_hot hot;     /* hot coordinates (hot.c), H = 0: none */
	uint64_t *quota;
	uint64_t round_len;       /* updates per worker between rounds (replica averages) */
	int *finished;            /* per worker: quota exhausted */
	int stop;                 /* shared stop flag */
	int stop_status;
	int all_done;             /* decided at the round barrier */
	struct feral_topo *topo;
	void *method_state;       /* the method's own (between_epochs), or NULL */
	/* the certified stop (cfg->tol without x*): ||grad F(0)||, the last
	 * measured ||grad F||/||grad F(0)||, the time in gradient passes, and
	 * the total update count of the monitor's next gradient (SGD) */
	double gnorm0, grad_rel, grad_s;
	uint64_t next_grad;
	/* monitor (worker 0 only) */
	struct feral_trace *trace;
	uint64_t trace_every, next_trace;
	/* with a between-epochs hook: the total count at the end of the
	 * current round (worker 0 sets it as the round begins; UINT64_MAX
	 * without a hook).  A trace point that falls due when every worker has
	 * finished the round is the snapshot's: the hook evaluates it, all
	 * workers together (trace_due, set by worker 0 at the round barrier). */
	uint64_t snap_total;
	int trace_due;
	int trace_now; /* worker 0 takes a due point after the round's folds */
	double trace_due_t;
	double *snap, *good;
	uint64_t *eval_rows;
	uint64_t n_eval;
	double obj0, prev_obj;
	double t0, monitor_s, avg_s, last_ckpt;
	/* CPU seconds: of the workers in the run (summed, atomically), and of
	 * the monitor's work in it (worker 0 only) */
	double cpu_s, monitor_cpu_s;
	uint64_t total_budget; /* updates, summed over workers (UINT64_MAX/4: none) */
	/* tail averaging (worker 0): sum of snapshots taken from tail_from on */
	double *tail_sum;
	uint64_t tail_n, tail_from, tail_every, next_tail;
	int converged;
	int bind_failures;
	char warning[256];
};

/* The model scale and its reciprocal, together (every write of the scale:
 * set-up, rescaling at round ends, HALP's epochs). */
static inline void feral_set_scale(struct feral_ctx *c, double scale)
{
	c->scale = scale;
	c->inv_scale = 1.0 / scale;
}

/* Ask every worker to stop; the first request's status wins. */
static inline void feral_request_stop(struct feral_ctx *c, enum feral_status st)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&c->stop, &expected, 1, 0, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		c->stop_status = st;
}

/* ---- methods -------------------------------------------------------------------
 * A method plugs into the worker loop through one small interface, dispatched
 * on cfg->method (enum feral_method):
 *
 *   feral_method_step(m, c, r, aux, i, t, gamma, &g)
 *       per update, static inline: row i (its record r = rec + i: target,
 *       step weight, squared norm; per-row method data aux or NULL) with
 *       prediction t = a_i.x; sets g
 *       for the update x += g a_i and returns 1, or returns 0 to skip the
 *       row.  A non-finite g stops the solve as diverged.
 *   feral_method_between_epochs(m)
 *       the hook run between epochs, or NULL.  When non-NULL every worker
 *       calls hook(c, tid) once before its first update and then, after a
 *       per-epoch barrier, each epoch (n updates summed over workers, after
 *       the replicas are averaged): worker tid takes its slice of the
 *       coordinates (as feral_model_average does) and may meet the others
 *       at barriers inside; worker 0 may keep per-method data in
 *       c->method_state.  SVRG (Johnson & Zhang, "Accelerating stochastic
 *       gradient descent using predictive variance reduction", 2013)
 *       computes its snapshot and full gradient there (svrg.c).  A failure
 *       status stops the solve.
 *
 * The worker loop is a static inline function specialised once per method
 * (a switch hoisted out of the loop, m a compile-time constant in each
 * copy), so the step stays inlined in the hot path.  Adding a method: an
 * enum value in feral.h, a case in each of the two functions, and one in
 * the specialisation switch of engine.c's worker_main.  HALP runs SVRG's
 * specialisation: only its dense part (feral_halp_dense) and its hook's
 * re-centring and rescaling (svrg.c) differ, and both branch on the model
 * precision / the method outside the row's inner loops. */
typedef enum feral_status (*feral_epoch_hook)(struct feral_ctx *c, int tid);

/* A trace point's sums over evaluation rows (monitor.c): the loss, the
 * squared residual, ||y||^2 and the sign errors; one per worker when the
 * workers evaluate a point together, a cache line each. */
struct feral_eval_sums {
	double obj, rr, bb;
	uint64_t wrong;
	char pad[32];
};

/* Row i's share of a trace point, t = a_i.x (the monitor's arithmetic, in
 * row order, wherever a point is evaluated). */
static inline void feral_eval_add(struct feral_eval_sums *e, enum feral_loss loss, double t,
                                  double y)
{
	e->obj += feral_loss_phi(loss, t, y);
	e->rr += (t - y) * (t - y);
	e->bb += y * y;
	e->wrong += (t >= 0) != (y > 0);
}

/* Alignment and stride granule of SVRG's per-worker partial sums: a page,
 * so no two workers write near each other (svrg.c). */
#define FERAL_GPART_ALIGN 4096

/* SVRG's state (c->method_state): the snapshot x~, c_i = phi'(a_i.x~, y_i)
 * of every row, g_bar = (1/n) sum_j c_j a_j, and for CSR rows 1/P_j, so
 * that the dense part eta x + g_bar of the step is applied on the row's
 * support only, scaled by 1/P_j (unbiased, O(nnz_i); docs/math.md,
 * "Variance reduction"). */
struct feral_svrg {
	double *xs;        /* d */
	double *cval;      /* n, by global row */
	double **cshard;   /* per shard: cval of its entries (NULL: one shard) */
	double *gbar;      /* d */
	double *gpart;     /* T x gstride: each worker's partial sum */
	uint64_t gstride;  /* d rounded up to FERAL_GPART_ALIGN bytes */
	double *sq;        /* T: partial ||grad F(x~)||^2 (8 doubles apart) */
	const double *invp; /* CSR: 1/P_j (0 for untouched columns); NULL dense */
	feral_k_axpy_fn axpy64; /* data x f64 axpy, for the full gradient */
	uint64_t snapshots; /* full gradients taken */
	double gn_prev;     /* HALP: ||grad F|| at the previous snapshot */
	/* dense rows without L2 (HALP, or an f32 model): the dense part is
	 * -g_bar, the same for every update of an epoch, so the kernels' f32 x
	 * model axpy (SIMD; unbiased rounding for fixed point) applies it:
	 * gneg = -g_bar in f32 */
	float *gneg;
	feral_k_axpy_fn gaxpy;
	struct feral_eval_sums *es; /* T: the snapshot's trace point (c->trace_due) */
};

/* SVRG or HALP: the methods with a snapshot and a full gradient (svrg.c). */
static inline int feral_method_vr(enum feral_method m)
{
	return m == FERAL_METHOD_SVRG || m == FERAL_METHOD_HALP;
}

/* The model holds offsets from a full precision centre: bit centring
 * (cfg->recenter), or HALP, whose centre is SVRG's snapshot. */
static inline int feral_centred(const struct feral_config *cfg)
{
	return cfg->recenter || cfg->method == FERAL_METHOD_HALP;
}

/* The relative step of SVRG's auto step: gamma = FERAL_SVRG_THETA / sup L_w
 * (docs/math.md, "Variance reduction").  Epochs to a certified relative
 * gradient of 1e-8, one thread, theta = 0.05 / 0.1 / 0.15 / 0.2 / 0.3 / 0.5 /
 * 0.8: dense LS 50000 x 100 (cond 10, noise 0.1) 17/11/13/14/18/23/38;
 * heart_scale logistic (C = 1) 240/120/81/61/41/26/22; generated logistic
 * 20000 x 50 (l2 1e-4) 118/59/39/30/18/19/27; sparse LS 50000 x 2000
 * reached 2.9e-5/7.5e-6/3.5e-6/1.8e-6/5.1e-7/4.4e-8 in 300 epochs (0.8: done
 * in 245).  Prox-SVRG's bound needs theta < 1/8; where kappa_w is not small
 * next to n the larger steps win, and 0.3 is within 1.6x of the best on
 * every case that converged. */
/* HALP's headroom over the predicted largest offset of an epoch (svrg.c's
 * halp_rescale).  Epochs to ||x - x_LS||^2/||x_LS||^2 <= 1e-8, 8-bit model,
 * Gaussian LS 100000 x 100 cond 10, consistent / noise 0.1, one thread,
 * H = 1.25 / 1.5 / 2 / 3 / 4: 12 / 13-14 / 21 / 45-52 / stalls near 3e-4
 * (a coarser grid is more rounding noise per epoch); saturated writes
 * 1e4-3e4 / 3e3 / 4e2 at 1.25 / 1.5 / 2 (of 2e7 an epoch). */
#ifndef FERAL_HALP_HEADROOM
#define FERAL_HALP_HEADROOM 1.5
#endif

#ifndef FERAL_SVRG_THETA
#define FERAL_SVRG_THETA 0.3
#endif

static inline __attribute__((always_inline)) int
feral_method_step(enum feral_method m, const struct feral_ctx *c, const struct feral_rowrec *r,
                  const double *aux, uint64_t i, double t, double gamma, double *g)
{
	switch (m) {
	case FERAL_METHOD_KACZMARZ: {
		/* the normalised projection: x += relax (b_i - a_i.x) a_i / ||a_i||^2 */
		double nn = r->nn;
		if (!(nn > 0))
			return 0;
		*g = c->cfg->relax * (r->y - t) / nn;
		return 1;
	}
	case FERAL_METHOD_SVRG:
	case FERAL_METHOD_HALP: /* SVRG's step on offsets (worker_main runs it as SVRG) */
		/* the row part of v = w_i (phi'(a_i.x) - phi'(a_i.x~)) a_i + eta x + g_bar;
		 * the dense part is feral_svrg_dense_coef's */
		*g = -gamma * r->w * (feral_loss_dphi(c->cfg->loss, t, r->y) - aux[i]);
		return 1;
	default: /* weighted SGD: x -= gamma / (n p_i) grad f_i(x) */
		*g = -gamma * r->w * feral_loss_dphi(c->cfg->loss, t, r->y);
		return 1;
	}
}

/* SVRG's dense part at coordinate j of a row (value xj): the step subtracts
 * gamma times this.  Dense rows: eta x_j + g_bar_j; CSR rows: the same over
 * P_j, the probability that a draw touches j. */
static inline double feral_svrg_dense_coef(const struct feral_svrg *s, double eta, uint64_t j,
                                           double xj)
{
	double v = eta * xj + s->gbar[j];
	return s->invp ? v * s->invp[j] : v;
}

enum feral_status feral_svrg_epoch(struct feral_ctx *c, int tid);

static inline feral_epoch_hook feral_method_between_epochs(enum feral_method m)
{
	switch (m) {
	case FERAL_METHOD_SVRG:
	case FERAL_METHOD_HALP: return feral_svrg_epoch;
	default: /* SGD and Kaczmarz keep no state across epochs */
		return NULL;
	}
}

/* ---- newton.c: trust-region Newton-CG (method NEWTON), a solve of its own ---- */
enum feral_status feral_newton_solve(const struct feral_dataset *ds,
                                     const struct feral_config *cfg, const double *x_star,
                                     double *x, struct feral_result *res,
                                     struct feral_trace *trace, struct feral_error *err);

/* ---- svrg.c: SVRG's state and full gradient (the certified stop's gradient
 * outside SVRG: objective.c's feral_grad_norm) ---- */

/* c->method_state for SVRG (needs c->ds, c->p, c->plan, c->shard_ds). */
enum feral_status feral_svrg_create(struct feral_ctx *c, struct feral_error *err);
void feral_svrg_free(struct feral_ctx *c);
/* The certified stop applies: tol > 0, no x*, a smooth loss. */
static inline int feral_grad_rule(const struct feral_ctx *c)
{
	return c->cfg->tol > 0 && !c->x_star && c->cfg->loss != FERAL_LOSS_HINGE;
}

/* ---- hot.c: hot coordinates (cfg->hot_threshold) ------------------------------- */

/* The columns with P_j >= thr (thr <= 0: none), at most hmax of the most
 * probable (ties: the lower column), into cols (d slots) in increasing
 * order; *share = their sum of P_j over the total.  Returns their count,
 * UINT32_MAX without memory. */
uint32_t feral_hot_select(const double *P, uint64_t d, double thr, uint32_t hmax, uint32_t *cols,
                          double *share);
/* The hot set of the solve (after the plan, the shard data, the model and
 * the budget): the selection, the hot-first rows of each dataset a worker
 * reads (nnz (esz + 4) + 4 n bytes each), the per-worker copies; sets
 * res->hot_coords and res->hot_nnz_share.  No hot set: c->hot.H = 0. */
enum feral_status feral_hot_create(struct feral_ctx *c, struct feral_result *res,
                                   struct feral_error *err);
void feral_hot_free(struct feral_ctx *c);
/* The merge state for c->hot.H slots of columns c->hot.col (priv, base,
 * xh, acc), from the model c->models[0]; part of feral_hot_create. */
enum feral_status feral_hot_state_create(struct feral_ctx *c, struct feral_error *err);
/* The shared value of slot s (model units), as the merges left it. */
double feral_hot_value(const struct feral_ctx *c, uint32_t s);
/* Worker tid: priv = base = the shared value (after a fold or at the start). */
void feral_hot_pull(const struct feral_ctx *c, int tid);
/* Worker tid, slots [0, nslots) (c->hot.nfast: the fast tier; H: all):
 * add priv - base into the shared value (its accumulator, or xh by
 * compare-and-swap for fixed point), then priv = base = the shared value.
 * Returns the fixed point saturations of the adds. */
uint64_t feral_hot_merge(const struct feral_ctx *c, int tid, uint32_t nslots);
/* Copy xh into the shared model's hot columns: the slots whose columns are
 * in worker tid's slice of the coordinates (feral_model_average's), or all
 * of them (tid < 0).  Nobody may be merging. */
void feral_hot_fold(const struct feral_ctx *c, int tid);

/* ---- model.c: storage, fixed point, snapshot, replicas, bit centring ---------- */

static inline double feral_qmax(enum feral_precision p)
{
	return p == FERAL_PRECISION_I8 ? 127.0 : p == FERAL_PRECISION_I16 ? 32767.0 : INFINITY;
}

/* model element j as a real number */
static inline double feral_model_get(const void *x, enum feral_precision mp, double s, uint64_t j)
{
	switch (mp) {
	case FERAL_PRECISION_F64: return feral_racy_load_f64((const double *)x + j);
	case FERAL_PRECISION_F32: return feral_racy_load_f32((const float *)x + j);
	case FERAL_PRECISION_I16: return s * FERAL_RACY_LOAD((const int16_t *)x + j);
	case FERAL_PRECISION_I8: return s * FERAL_RACY_LOAD((const int8_t *)x + j);
	default: return NAN;
	}
}

/* Store a real value (rounded stochastically for fixed point, u in [0,1)).
 * Returns 1 when it saturated. */
static inline int feral_model_set(void *x, enum feral_precision mp, double s, uint64_t j,
                                  double v, double u)
{
	switch (mp) {
	case FERAL_PRECISION_F64: feral_racy_store_f64((double *)x + j, v); return 0;
	case FERAL_PRECISION_F32: feral_racy_store_f32((float *)x + j, (float)v); return 0;
	default: break;
	}
	double qm = feral_qmax(mp);
	double q = floor(v / s + u);
	int sat = 0;
	if (q > qm) { q = qm; sat = 1; }
	if (q < -qm) { q = -qm; sat = 1; }
	if (mp == FERAL_PRECISION_I16)
		FERAL_RACY_STORE((int16_t *)x + j, (int16_t)q);
	else
		FERAL_RACY_STORE((int8_t *)x + j, (int8_t)q);
	return sat;
}

/* HALP's dense part (SVRG's eta x + g_bar, over P_j for CSR rows) on a
 * fixed point offset model centred at the snapshot: for each coordinate j
 * of the row (all of them for dense rows), x_j = centre_j + s q_j and
 *   q_j <- clamp(floor(q_j - gamma coef_j / s + u), +-qmax),  u ~ U[0,1),
 * so E[s q_j] moves by -gamma coef_j (unbiased stochastic rounding of the
 * increment, up to the 2^-32 quanta of u's 32 bits; the row's own part goes
 * through the kernels' axpy).  Read before the row's axpy, like svrg_dense.
 * floor is an integer conversion (a libm call otherwise: no SSE4.1 in the
 * baseline ISA), and one 64-bit draw gives two u: this loop is most of an
 * update's time on dense rows.  Returns the saturated writes. */
#define FERAL_HALP_DENSE_LOOP(T)                                                           \
	for (size_t k = 0; k < len; k++) {                                                  \
		uint64_t j = idx ? idx[k] : k;                                              \
		if ((k & 1) == 0)                                                            \
			r = feral_rng_next(rng);                                            \
		double u = (double)(uint32_t)r * 0x1.0p-32;                                 \
		r >>= 32;                                                                    \
		double q = (double)FERAL_RACY_LOAD((T *)x + j);                             \
		double t = q - step * feral_svrg_dense_coef(s, eta, j, c->center[j] + sc * q) + u; \
		int64_t nq;                                                                  \
		if (!(t < qm + 1)) { /* NaN saturates upwards, as in the kernels */         \
			nq = (int64_t)qm;                                                   \
			sat++;                                                               \
		} else if (t < -qm) {                                                        \
			nq = -(int64_t)qm;                                                  \
			sat++;                                                               \
		} else {                                                                     \
			nq = (int64_t)t; /* floor, t in [-qmax, qmax + 1) */                \
			nq -= (double)nq > t;                                               \
		}                                                                            \
		FERAL_RACY_STORE((T *)x + j, (T)nq);                                        \
	}

static inline uint64_t feral_halp_dense(const struct feral_ctx *c, void *x, const uint32_t *idx,
                                        size_t len, double gamma, struct feral_rng *rng)
{
	const struct feral_svrg *s = c->method_state;
	double eta = c->cfg->l2, sc = c->scale, qm = feral_qmax(c->mp);
	double step = gamma / sc; /* quanta per unit of coef */
	uint64_t sat = 0, r = 0;
	if (c->mp == FERAL_PRECISION_I16)
		FERAL_HALP_DENSE_LOOP(int16_t)
	else
		FERAL_HALP_DENSE_LOOP(int8_t)
	return sat;
}
#undef FERAL_HALP_DENSE_LOOP

/* The plan's replicas (c->plan.nrep models of c->mp, placed on their nodes)
 * set to x0 (with bit centring: the centre at x0, the offsets at 0).  Adds
 * the saturations of the initial rounding to *saturations. */
enum feral_status feral_model_create(struct feral_ctx *c, const double *x0,
                                     uint64_t *saturations, struct feral_error *err);
void feral_model_free(struct feral_ctx *c);
/* L2 by degree on a row's coordinates (docs/math.md section 2); col maps
 * hot slots to columns when x is a worker's private copy, else NULL. */
void feral_model_l2_decay(const struct feral_ctx *c, void *x, const uint32_t *idx, size_t len,
                          double gamma, struct feral_rng *rng, const uint32_t *col);
/* x += g a_i (row i of ds: entries base.. base+len, columns idx or 0..len-1)
 * by a CAS loop per element: the ATOMIC update mode, float models. */
void feral_model_axpy_atomic(const struct feral_ctx *c, const struct feral_dataset *ds, void *x,
                             uint64_t i, const uint32_t *idx, uint64_t base, size_t len, double g);
/* The mean of the replicas (plus the centre), in doubles. */
void feral_model_snapshot(const struct feral_ctx *c, double *out);
/* Average the replicas: worker tid of T takes its slice of the coordinates. */
void feral_model_average(struct feral_ctx *c, int tid, struct feral_rng *rng);
/* Bit centring, part 1 (each worker, its slice, after feral_model_average)
 * and part 2 (worker 0 after a barrier). */
void feral_model_recenter_fold(struct feral_ctx *c, int tid);
void feral_model_recenter_scale(struct feral_ctx *c);

/* ---- monitor.c: evaluation, trace, stop rules, tail averaging ------------------ */

/* Allocate the monitor's buffers, pick the evaluation rows, evaluate x0 and
 * record it as the first trace point.  Needs c->total_budget. */
enum feral_status feral_monitor_start(struct feral_ctx *c, const double *x0,
                                      struct feral_error *err);
/* Worker 0's first own update count at which to call feral_monitor_tick. */
uint64_t feral_monitor_first_check(const struct feral_ctx *c);
/* Worker 0 at its own count `done`: trace point, tail snapshot, time and
 * signal checks.  Returns the next own count at which to call it.  Cold:
 * kept out of the update loop. */
uint64_t feral_monitor_tick(struct feral_ctx *c, uint64_t done);
/* Worker 0 after its own updates of round `round` (counted from 1): goes on
 * monitoring (trace, tolerance, time, stop flag) until every other worker
 * has done its updates of that round too.  Cold. */
void feral_monitor_wait(struct feral_ctx *c, uint64_t round);
/* Worker 0 as a round begins at own count `done` (with a between-epochs
 * hook): c->snap_total, the total when every worker has done the round
 * (rounds are round_len long for all). */
void feral_monitor_round_begin(struct feral_ctx *c, uint64_t done);
/* Worker 0 at the round barrier, every update of the round done: whether a
 * trace point is due.  FERAL_TRACE_SNAPSHOT: with hook_runs, the hook
 * evaluates it at its snapshot (set c->trace_due); FERAL_TRACE_NOW: worker 0
 * takes it (feral_monitor_round_point) once the round's folds and averages
 * are done, which the other workers write while it would read. */
enum { FERAL_TRACE_NONE, FERAL_TRACE_SNAPSHOT, FERAL_TRACE_NOW };
int feral_monitor_round_end(struct feral_ctx *c, bool hook_runs);
/* Worker 0, after the round's folds and averages: the trace point due. */
void feral_monitor_round_point(struct feral_ctx *c);
/* Eval rows k in [*klo, *khi) are the rows of [ilo, ihi) that trace points
 * evaluate (c->eval_rows, or every row). */
void feral_monitor_eval_range(const struct feral_ctx *c, uint64_t ilo, uint64_t ihi,
                              uint64_t *klo, uint64_t *khi);
static inline uint64_t feral_monitor_eval_row(const struct feral_ctx *c, uint64_t k)
{
	return c->eval_rows ? c->eval_rows[k] : k;
}
/* Worker 0 in the hook: the snapshot's trace point at x, from the workers'
 * sums es[0..T-1] (added in worker order), recorded with its stop rules. */
void feral_monitor_snapshot_point(struct feral_ctx *c, const double *x,
                                  const struct feral_eval_sums *es, int T);
/* Updates done so far, summed over workers. */
uint64_t feral_total_updates(const struct feral_ctx *c);
/* After the workers joined: the returned iterate into x (the snapshot that
 * met the tolerance, the tail average, or the last iterate), the final trace
 * point and every result field measured by the solve.  Returns the solve's
 * status (OK, DIVERGED, INTERRUPTED). */
enum feral_status feral_monitor_finish(struct feral_ctx *c, double *x, double wall,
                                       struct feral_result *res, struct feral_error *err);
void feral_monitor_free(struct feral_ctx *c);

/* ---- async.c: what asynchrony did to a run; delayed writes --------------------
 * Staleness (docs/design.md): on 1 in FERAL_ASYNC_SAMPLE_EVERY of its
 * updates, a worker sums the other workers' published update counts just
 * before the update's read (its dot product) and just after its write (its
 * axpy); the difference, plus its own writes that landed in between (the
 * writes queued ahead of it under cfg->delay), is the update's staleness.
 * No shared counter is written per update: each worker's count is the
 * relaxed store the monitor already reads.  The same sampled update tests
 * its row's support against the rows the other workers are in (their
 * inflight), for the conflict rate.  Under cfg->delay only updates read
 * with a full queue are sampled (steady state), so one worker gives exactly
 * the delay.  Compile with -DFERAL_ASYNC_SAMPLE_EVERY=0 to remove the
 * instruments (the delay queue stays). */
#ifndef FERAL_ASYNC_SAMPLE_EVERY
/* A power of two, or 0: no instruments.  A sample costs a few cache-line
 * transfers between cores (~0.3-0.5 us with two workers); 1 in 256 keeps
 * that under 2 % of an update of 100 ns and still gives ~40000 samples per
 * 10^7 updates. */
#define FERAL_ASYNC_SAMPLE_EVERY 256
#endif
#define FERAL_INFLIGHT_NONE UINT64_MAX
#define FERAL_ASYNC_NONE UINT64_MAX /* no sample pending */

/* One delayed write: the row as update_row laid it out, the coefficient,
 * the step, and the sample taken at its read. */
struct feral_delayed {
	const void *a;
	const uint32_t *idx;
	uint64_t base, i;
	size_t len;
	double rs, g, gamma;
	uint64_t seen;  /* sampled: the others' count at the read; else FERAL_ASYNC_NONE */
	uint32_t ahead; /* own writes queued ahead of it at the read */
	uint32_t h;     /* hot entries first in the row (hot.c), 0 without */
	/* sampled, with hot entries: the merge its hot part waits for
	 * (FERAL_HOT_WAIT_*) and the others' merge count at the read */
	uint32_t hot_wait;
	uint64_t hot_start;
};
enum { FERAL_HOT_WAIT_NONE, FERAL_HOT_WAIT_FAST, FERAL_HOT_WAIT_ALL };
/* sampled hot writes waiting for their merge, per worker (more are not sampled) */
#define FERAL_HOT_PENDING 16

/* Staleness histogram, fine: 0..63 exactly, then 16 buckets per power of
 * two up to 2^20, then one overflow bucket. */
#define FERAL_STALE_FINE (64 + 14 * 16 + 1)

struct feral_async {
	/* cfg->delay's FIFO: delay + 1 slots (the slot handed back by
	 * feral_delay_push stays valid until the next push) */
	struct feral_delayed *q;
	uint32_t delay, head, len;
	/* the sample of the update being read (queued with it), and of the
	 * write just applied (feral_async_landed records it) */
	uint64_t cur_seen, land_seen;
	uint32_t cur_ahead, land_ahead;
	/* hot coordinates: the sample's tier (FERAL_HOT_WAIT_*) and the others'
	 * merge count its hot values were pulled at, of the read and of the
	 * write just applied; the others' merge counts at this worker's last
	 * pull of the fast tier and of all slots; the sampled writes whose hot
	 * part waits for a merge to land (start, and staleness so far) */
	uint32_t cur_hot, land_hot, npending;
	uint64_t cur_hot_start, land_hot_start, pull_fast, pull_all;
	struct { uint32_t wait; uint64_t start, s; } pending[FERAL_HOT_PENDING];
	uint64_t hot_samples;        /* of them, recorded at a merge */
	uint64_t samples, sum, max;  /* staleness of the sampled writes */
	uint64_t probes, conflicts;  /* conflict tests of the sampled reads */
	uint64_t hist[FERAL_STALE_FINE];
} FERAL_ALIGN64;

/* Per-worker state (c->async, w->async) when cfg->delay > 0 or the
 * instruments are compiled in; after set_budget. */
enum feral_status feral_async_create(struct feral_ctx *c, struct feral_error *err);
void feral_async_free(struct feral_ctx *c);
/* Worker tid is about to read row i of ds (its shard's dataset), an update
 * whose own count is a multiple of FERAL_ASYNC_SAMPLE_EVERY: unless writes
 * are still queueing up (delay, queue not full), the others' count, the
 * writes queued ahead, the conflict test.  Cold. */
void feral_async_read(struct feral_ctx *c, int tid, const struct feral_dataset *ds, uint64_t i);
/* The sampled write just landed: its staleness into the histogram (or, with
 * a hot part, kept until the merge that lands that part).  Cold. */
void feral_async_landed(struct feral_ctx *c, int tid);
/* Worker tid merged its hot coordinates (all: the slow tier too) after its
 * update `done`, and pulled the others' merged values: publishes its merge
 * counts, records the sampled writes this merge landed.  Every K updates. */
void feral_async_merged(struct feral_ctx *c, int tid, uint64_t done, bool all);
/* Worker tid pulled the hot values after a fold (every update merged). */
void feral_async_pulled(struct feral_ctx *c, int tid);
/* After the workers joined: the result's staleness and conflict fields,
 * and cfg->staleness_hist. */
void feral_async_result(const struct feral_ctx *c, struct feral_result *res);

/* Queue a write (cfg->delay > 0); returns the write now due (queued
 * `delay` pushes ago), or NULL while the queue fills. */
static inline const struct feral_delayed *feral_delay_push(struct feral_async *as,
                                                           const struct feral_delayed *in)
{
	uint32_t cap = as->delay + 1, tail = as->head + as->len;
	if (tail >= cap)
		tail -= cap;
	struct feral_delayed *e = &as->q[tail];
	*e = *in;
	e->seen = as->cur_seen;
	e->ahead = as->cur_ahead;
	e->hot_wait = as->cur_hot;
	e->hot_start = as->cur_hot_start;
	as->cur_seen = FERAL_ASYNC_NONE;
	as->cur_hot = FERAL_HOT_WAIT_NONE;
	if (++as->len <= as->delay)
		return NULL;
	e = &as->q[as->head];
	as->head = as->head + 1 == cap ? 0 : as->head + 1;
	as->len--;
	as->land_seen = e->seen;
	as->land_ahead = e->ahead;
	as->land_hot = e->hot_wait;
	as->land_hot_start = e->hot_start;
	return e;
}

/* The oldest queued write (the flush at a round end), or NULL. */
static inline const struct feral_delayed *feral_delay_pop(struct feral_async *as)
{
	if (!as || as->len == 0)
		return NULL;
	const struct feral_delayed *e = &as->q[as->head];
	as->head = as->head + 1 == as->delay + 1 ? 0 : as->head + 1;
	as->len--;
	as->land_seen = e->seen;
	as->land_ahead = e->ahead;
	as->land_hot = e->hot_wait;
	as->land_hot_start = e->hot_start;
	return e;
}

/* ---- policy.c: step, scale, replica mode, L2, re-centring period --------------- */

/* The auto step (Needell, Srebro & Ward, "Stochastic gradient descent,
 * weighted sampling, and the randomized Kaczmarz algorithm", 2016,
 * Corollary 2.2) in two parts: feral_step_begin fixes everything it can from
 * the data; when ref_updates > 0 the caller runs a serial pilot of that many
 * updates at relative step `base` (least squares without x*) and passes its
 * iterate (or x*) to feral_step_finish. */
struct feral_step_choice {
	double rel_step;         /* relative step: gamma = rel_step / lbar */
	double decay;            /* step_decay to use */
	double mu;               /* mu used (NaN: none) */
	double sup, base;        /* sup L_w, lbar / (2 sup L_w) */
	int needs_ref;           /* feral_step_finish needs a reference point */
	uint64_t pilot_updates;  /* 0: the reference is x* */
};
void feral_step_begin(const struct feral_ctx *c, const double *x_star,
                      struct feral_step_choice *sc);
void feral_step_finish(const struct feral_ctx *c, const double *x_ref,
                       struct feral_step_choice *sc);
/* Fixed point scale from a serial f64 warm-up: its update count, its
 * relative step, and the scale from its iterate xw (x0 the start). */
uint64_t feral_scale_warmup_updates(const struct feral_dataset *ds);
double feral_scale_warmup_step(const struct feral_config *cfg, double rel_step);
double feral_scale_from_warmup(const struct feral_config *cfg, enum feral_precision mp,
                               const double *xw, const double *x0, uint64_t d);
/* P_j = sum_{i: a_ij != 0} p_i, the probability that a draw touches column
 * j (dense: 1); NULL: no memory. */
double *feral_column_mass(const struct feral_dataset *ds, const double *p);
/* The hot set's threshold on P_j for a solve whose replica mode resolved
 * to `resolved` with T workers; negative: no hot set (also for a centred
 * model: bit centring or HALP, feral_centred). */
double feral_hot_threshold(const struct feral_config *cfg, const struct feral_dataset *ds,
                           enum feral_replicas resolved, int T);
/* The merge period K (cfg->hot_every or FERAL_HOT_EVERY_AUTO). */
uint64_t feral_hot_every(const struct feral_config *cfg);
/* L2 by degree: eta / P_j, P_j = sum_{i: a_ij != 0} p_i (NULL: no memory). */
double *feral_l2_degrees(const struct feral_dataset *ds, double eta, const double *p);
/* Updates per worker between re-centrings (cfg->recenter_every or auto). */
uint64_t feral_recenter_period(const struct feral_config *cfg, const struct feral_dataset *ds,
                               int nthreads);
/* FERAL_REPLICAS_AUTO resolved for T workers (other modes unchanged). */
enum feral_replicas feral_replicas_resolve(const struct feral_config *cfg,
                                           const struct feral_dataset *ds, int nthreads);
/* Model cache lines two concurrent updates are expected to both write
 * (the rule behind feral_replicas_resolve). */
double feral_shared_lines_per_update(const struct feral_dataset *ds, enum feral_precision mp);
#endif
