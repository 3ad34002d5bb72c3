/* Alias sampler, RNG streams, sampling probabilities, and the per-node shard
 * correction: tested statistically with fixed seeds. */
#include <criterion/criterion.h>
#include <math.h>

#include "engine.h"
#include "internal.h"

TestSuite(sampler, .timeout = 60);

/* Chi-square critical value at p = 1e-4 (Wilson-Hilferty): a correct sampler
 * fails one such test in 10^4 runs; the seeds are fixed, so it never flakes. */
#define CHI2_Z 3.719
static double chi2_crit(double df)
{
	double h = 2.0 / (9.0 * df);
	return df * pow(1.0 - h + CHI2_Z * sqrt(h), 3);
}

static double chi2_stat(const uint64_t *count, const double *p, uint64_t n, uint64_t draws,
                        int *df)
{
	double s = 0;
	*df = -1;
	for (uint64_t i = 0; i < n; i++) {
		double e = p[i] * (double)draws;
		if (e <= 0) {
			cr_assert_eq(count[i], 0, "row %llu has p = 0 but was drawn %llu times",
			             (unsigned long long)i, (unsigned long long)count[i]);
			continue;
		}
		s += ((double)count[i] - e) * ((double)count[i] - e) / e;
		(*df)++;
	}
	return s;
}

Test(sampler, test_alias_matches_distribution)
{
	enum { N = 200, DRAWS = 2000000 };
	double w[N], p[N];
	uint64_t count[N] = {0};
	double sum = 0;
	for (int i = 0; i < N; i++) {
		w[i] = (i % 7 == 0) ? 0.0 : 1.0 + (i * 37 % 101) * (i % 3 == 0 ? 10.0 : 0.1);
		sum += w[i];
	}
	for (int i = 0; i < N; i++)
		p[i] = w[i] / sum;
	struct feral_alias a;
	cr_assert_eq(feral_alias_build(&a, w, N, NULL), FERAL_OK);
	struct feral_rng r;
	feral_rng_seed(&r, 42, 0);
	for (int k = 0; k < DRAWS; k++) {
		uint64_t i = feral_alias_draw(&a, feral_rng_next(&r));
		cr_assert_lt(i, N, "draw %llu out of range", (unsigned long long)i);
		count[i]++;
	}
	int df;
	double x2 = chi2_stat(count, p, N, DRAWS, &df);
	cr_assert_lt(x2, chi2_crit(df), "chi-square %.1f >= critical %.1f (df %d)", x2,
	             chi2_crit(df), df);
	feral_alias_free(&a);
}

Test(sampler, test_alias_detects_a_wrong_distribution)
{
	/* the same statistic must reject draws from a different distribution,
	 * or the test above proves nothing */
	enum { N = 50, DRAWS = 500000 };
	double w[N], p[N];
	uint64_t count[N] = {0};
	for (int i = 0; i < N; i++) {
		w[i] = 1.0 + i;
		p[i] = 1.0 / N; /* claim: uniform */
	}
	struct feral_alias a;
	cr_assert_eq(feral_alias_build(&a, w, N, NULL), FERAL_OK);
	struct feral_rng r;
	feral_rng_seed(&r, 7, 0);
	for (int k = 0; k < DRAWS; k++)
		count[feral_alias_draw(&a, feral_rng_next(&r))]++;
	int df;
	double x2 = chi2_stat(count, p, N, DRAWS, &df);
	cr_assert_gt(x2, chi2_crit(df), "chi-square %.1f should exceed %.1f", x2, chi2_crit(df));
	feral_alias_free(&a);
}

Test(sampler, test_alias_rejects_bad_weights)
{
	struct feral_alias a;
	struct feral_error e;
	double neg[] = {1, -1, 2}, zero[] = {0, 0, 0}, nan_[] = {1, NAN, 1};
	cr_assert_eq(feral_alias_build(&a, neg, 3, &e), FERAL_STATUS_RANGE);
	cr_assert_eq(feral_alias_build(&a, zero, 3, &e), FERAL_STATUS_RANGE);
	cr_assert_eq(feral_alias_build(&a, nan_, 3, &e), FERAL_STATUS_RANGE);
	cr_assert_eq(feral_alias_build(&a, neg, 0, &e), FERAL_STATUS_USAGE);
}

Test(sampler, test_rng_streams_are_distinct_and_reproducible)
{
	enum { T = 8, K = 1000 };
	static uint64_t out[T][K];
	for (int t = 0; t < T; t++) {
		struct feral_rng r;
		feral_rng_seed(&r, 1234, (uint64_t)t);
		for (int k = 0; k < K; k++)
			out[t][k] = feral_rng_next(&r);
	}
	/* no value of one stream appears in another (collisions among 8000
	 * 64-bit values have probability ~1e-12) */
	for (int a = 0; a < T; a++)
		for (int b = a + 1; b < T; b++)
			for (int k = 0; k < K; k++)
				for (int m = 0; m < K; m++)
					cr_assert_neq(out[a][k], out[b][m], "streams %d and %d share a value", a, b);
	struct feral_rng r;
	feral_rng_seed(&r, 1234, 3);
	for (int k = 0; k < K; k++)
		cr_assert_eq(feral_rng_next(&r), out[3][k], "stream 3 not reproducible at %d", k);
}

Test(sampler, test_uniform_is_in_unit_interval_with_right_mean)
{
	struct feral_rng r;
	feral_rng_seed(&r, 99, 0);
	double s = 0;
	enum { M = 1000000 };
	for (int k = 0; k < M; k++) {
		double u = feral_rng_uniform(&r);
		cr_assert(u >= 0 && u < 1, "uniform %g outside [0,1)", u);
		s += u;
	}
	double mean = s / M, se = sqrt(1.0 / 12 / M);
	cr_assert_lt(fabs(mean - 0.5), 4 * se, "mean %g, expected 0.5 +- %g", mean, 4 * se);
}

Test(sampler, test_sampling_probs_follow_the_lambda_mix)
{
	double L[4] = {1, 2, 3, 0}, p[4];
	cr_assert_eq(feral_sampling_probs(L, 4, 0.0, p, NULL), FERAL_OK);
	cr_assert_float_eq(p[2], 0.5, 1e-15, "lambda 0: p = L/sum L, got %g", p[2]);
	cr_assert_eq(p[3], 0.0, "a zero-norm row is never drawn at lambda = 0 (p = %g)", p[3]);
	cr_assert_eq(feral_sampling_probs(L, 4, 1.0, p, NULL), FERAL_OK);
	for (int i = 0; i < 4; i++)
		cr_assert_float_eq(p[i], 0.25, 1e-15, "lambda 1: uniform, got p[%d] = %g", i, p[i]);
	cr_assert_eq(feral_sampling_probs(L, 4, 0.5, p, NULL), FERAL_OK);
	cr_assert_float_eq(p[0], 0.125 + 0.5 / 6, 1e-15, "lambda 1/2: got %g", p[0]);
	double Z[3] = {0, 0, 0};
	cr_assert_eq(feral_sampling_probs(Z, 3, 0.0, p, NULL), FERAL_STATUS_RANGE);
}

/* Deliberately unbalanced shard layout: 3 workers on node 0, 1 on node 1,
 * 2 on node 2.  Over all workers (equal rates), rows must be drawn with p. */
static void unbalanced_plan(const double *p, uint64_t n, struct feral_plan *plan)
{
	struct feral_placement place[6] = {
		{.pu = -1, .node = 0}, {.pu = -1, .node = 0}, {.pu = -1, .node = 0},
		{.pu = -1, .node = 1}, {.pu = -1, .node = 2}, {.pu = -1, .node = 2}};
	cr_assert_eq(feral_plan_from_placements(place, 6, FERAL_REPLICAS_MACHINE, p, n, plan, NULL),
	             FERAL_OK);
	cr_assert_eq(plan->nshards, 3);
}

static void skewed_probs(double *p, uint64_t n)
{
	double s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += (p[i] = (i < n / 10) ? 20.0 + (double)i : 1.0 + (double)(i % 5));
	for (uint64_t i = 0; i < n; i++)
		p[i] /= s;
}

Test(sampler, test_shard_correction_draws_rows_with_p)
{
	enum { N = 300, PER_WORKER = 400000 };
	double p[N];
	uint64_t count[N] = {0};
	skewed_probs(p, N);
	struct feral_plan plan;
	unbalanced_plan(p, N, &plan);
	for (int t = 0; t < plan.nthreads; t++) {
		struct feral_rng r;
		feral_rng_seed(&r, 5, (uint64_t)t + 1);
		const struct feral_shard *s = &plan.shards[plan.shard_of[t]];
		for (int k = 0; k < PER_WORKER; k++)
			count[feral_shard_draw(s, feral_rng_next(&r))]++;
	}
	int df;
	uint64_t draws = (uint64_t)PER_WORKER * plan.nthreads;
	double x2 = chi2_stat(count, p, N, draws, &df);
	cr_assert_lt(x2, chi2_crit(df), "chi-square %.1f >= %.1f (df %d)", x2, chi2_crit(df), df);
	/* the shards really are unequal in rows: mass, not count, is balanced */
	cr_assert_neq(plan.shards[0].len, plan.shards[1].len);
	feral_plan_free(&plan);
}

Test(sampler, test_shard_mean_update_equals_full_gradient)
{
	/* least squares on a small problem: the mean of the reweighted sampled
	 * gradients (1/(n p_i)) grad f_i(x) over all workers' draws must equal
	 * grad F(x) = (1/n) sum_i (a_i.x - b_i) a_i within 4 standard errors */
	enum { N = 120, D = 4, PER_WORKER = 300000 };
	double A[N][D], b[N], x[D] = {0.3, -1.0, 0.5, 2.0}, p[N], L[N];
	struct feral_rng g;
	feral_rng_seed(&g, 11, 0);
	for (int i = 0; i < N; i++) {
		double sc = i < 10 ? 8.0 : 1.0; /* skewed row norms */
		L[i] = 0;
		for (int j = 0; j < D; j++) {
			A[i][j] = sc * feral_rng_normal(&g);
			L[i] += A[i][j] * A[i][j];
		}
		b[i] = feral_rng_normal(&g);
	}
	cr_assert_eq(feral_sampling_probs(L, N, 0.3, p, NULL), FERAL_OK);
	double full[D] = {0};
	for (int i = 0; i < N; i++) {
		double r = -b[i];
		for (int j = 0; j < D; j++)
			r += A[i][j] * x[j];
		for (int j = 0; j < D; j++)
			full[j] += r * A[i][j] / N;
	}
	struct feral_plan plan;
	unbalanced_plan(p, N, &plan);
	double sum[D] = {0}, sq[D] = {0};
	uint64_t m = 0;
	for (int t = 0; t < plan.nthreads; t++) {
		struct feral_rng r;
		feral_rng_seed(&r, 77, (uint64_t)t + 1);
		const struct feral_shard *s = &plan.shards[plan.shard_of[t]];
		for (int k = 0; k < PER_WORKER; k++, m++) {
			uint64_t i = feral_shard_draw(s, feral_rng_next(&r));
			double res = -b[i];
			for (int j = 0; j < D; j++)
				res += A[i][j] * x[j];
			double w = 1.0 / (N * p[i]);
			for (int j = 0; j < D; j++) {
				double gj = w * res * A[i][j];
				sum[j] += gj;
				sq[j] += gj * gj;
			}
		}
	}
	for (int j = 0; j < D; j++) {
		double mean = sum[j] / (double)m;
		double se = sqrt((sq[j] / (double)m - mean * mean) / (double)m);
		cr_assert_lt(fabs(mean - full[j]), 4 * se,
		             "coordinate %d: mean update %g, full gradient %g, 4 SE %g", j, mean,
		             full[j], 4 * se);
	}
	feral_plan_free(&plan);
}

/* Plans on hwloc synthetic topologies: shards and replicas land on the
 * nodes of their workers, and the sampler correction holds there too. */
#include "topo.h"

static void plan_on(const char *synth, int T, enum feral_bind bind, enum feral_replicas rep,
                    const double *p, uint64_t n, struct feral_plan *plan)
{
	struct feral_topo *t = NULL;
	struct feral_error e = {0};
	enum feral_status st = feral_topo_create(synth, &t, &e);
	if (st == FERAL_STATUS_UNSUPPORTED)
		cr_skip("no hwloc: %s", e.msg);
	cr_assert_eq(st, FERAL_OK, "%s: %s", synth, e.msg);
	cr_assert_eq(feral_plan_build(t, T, bind, rep, p, n, plan, &e), FERAL_OK, "%s", e.msg);
	feral_topo_destroy(&t);
}

Test(sampler, test_shards_and_replicas_land_on_worker_nodes)
{
	enum { N = 1000 };
	static double p[N];
	skewed_probs(p, N);
	const char *synth = "package:2 numa:2 core:16 pu:2"; /* 2 sockets, 4 nodes, 64 cores */
	const enum feral_replicas reps[] = {FERAL_REPLICAS_MACHINE, FERAL_REPLICAS_NODE,
	                                    FERAL_REPLICAS_CORE};
	for (int b = 0; b < 2; b++) {
		enum feral_bind bind = b ? FERAL_BIND_SCATTER : FERAL_BIND_COMPACT;
		for (int r = 0; r < 3; r++) {
			struct feral_plan plan;
			plan_on(synth, 32, bind, reps[r], p, N, &plan);
			/* 32 workers: compact fills nodes 0-1, scatter all four */
			cr_assert_eq(plan.nshards, b ? 4 : 2, "bind %d: %d shards", b, plan.nshards);
			int per_node[4] = {0};
			for (int t = 0; t < 32; t++) {
				const struct feral_shard *s = &plan.shards[plan.shard_of[t]];
				cr_assert_eq(s->node, plan.place[t].node, "worker %d on node %d draws from "
				             "the shard of node %d", t, plan.place[t].node, s->node);
				/* machine: one shared model, on worker 0's node */
				int want = reps[r] == FERAL_REPLICAS_MACHINE ? plan.place[0].node
				                                             : plan.place[t].node;
				cr_assert_eq(plan.rep_node[plan.rep_of[t]], want,
				             "worker %d (node %d) writes a replica on node %d (mode %d)", t,
				             plan.place[t].node, plan.rep_node[plan.rep_of[t]], r);
				per_node[plan.place[t].node]++;
			}
			int expect_reps = reps[r] == FERAL_REPLICAS_MACHINE ? 1
			                  : reps[r] == FERAL_REPLICAS_NODE ? plan.nshards : 32;
			cr_assert_eq(plan.nrep, expect_reps, "mode %d: %d replicas", r, plan.nrep);
			for (int k = 0; k < (b ? 4 : 2); k++)
				cr_assert_eq(per_node[k], b ? 8 : 16, "bind %d node %d: %d workers", b, k,
				             per_node[k]);
			/* shard masses are proportional to the workers on the node */
			for (int k = 0; k < plan.nshards; k++) {
				double m = 0;
				for (uint64_t e = 0; e < plan.shards[k].len; e++)
					m += plan.shards[k].mass[e];
				cr_assert_float_eq(m, (double)plan.shards[k].workers / 32, 1e-12,
				                   "shard %d mass %g", k, m);
			}
			feral_plan_free(&plan);
		}
	}
}

Test(sampler, test_shard_correction_holds_on_synthetic_layouts)
{
	enum { N = 400, PER_WORKER = 60000 };
	static double p[N];
	skewed_probs(p, N);
	const struct {
		const char *synth;
		int T;
	} layouts[] = {{"package:2 numa:2 core:8 pu:2", 12}, {"package:1 core:2 pu:1", 2},
	               {"package:2 numa:2 core:16 pu:2", 32}};
	for (int l = 0; l < 3; l++) {
		struct feral_plan plan;
		plan_on(layouts[l].synth, layouts[l].T, FERAL_BIND_SCATTER, FERAL_REPLICAS_MACHINE, p,
		        N, &plan);
		static uint64_t count[N];
		memset(count, 0, sizeof count);
		for (int t = 0; t < plan.nthreads; t++) {
			struct feral_rng r;
			feral_rng_seed(&r, 31 + (uint64_t)l, (uint64_t)t + 1);
			const struct feral_shard *s = &plan.shards[plan.shard_of[t]];
			for (int k = 0; k < PER_WORKER; k++)
				count[feral_shard_draw(s, feral_rng_next(&r))]++;
		}
		int df;
		uint64_t draws = (uint64_t)PER_WORKER * plan.nthreads;
		double x2 = chi2_stat(count, p, N, draws, &df);
		cr_assert_lt(x2, chi2_crit(df), "%s, %d workers: chi-square %.1f >= %.1f",
		             layouts[l].synth, layouts[l].T, x2, chi2_crit(df));
		feral_plan_free(&plan);
	}
}
