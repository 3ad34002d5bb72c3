/* Asynchrony instruments and delayed writes (src/async.c): staleness on one
 * worker is exactly 0 without delay and exactly the delay with one; the
 * histogram holds every sample; a delayed run is bit-for-bit reproducible
 * and still converges; conflict rates are shares; the CLI rejects absurd
 * delays.  Nothing here depends on timing or on the host's core count: the
 * multi-worker tests assert only what holds under any interleaving. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>

#include "internal.h"
#include "engine.h"
#include "tmpdir.h"
#include "shell.h"
#include "solve_ok.h"

TestSuite(async, .timeout = 120);

#define UPDATES 20000        /* budget of the staleness tests */
#define DELAY_TOL 1e-6       /* ||x-x*||^2/||x*||^2 a delayed consistent solve reaches */
#define DISJOINT_BAND 0.05   /* conflict rate bound for pairwise disjoint rows */
/* Relative steps: delayed SGD needs a step of order 1/delay (Mania et al.,
 * "Perturbed iterate analysis for asynchronous stochastic optimization",
 * 2017); 0.5 diverges at delay 64 on these systems, 0.1 at 256. */
#define DELAY_STEP 0.1
#define STALE_STEP 0.005

static struct feral_dataset *gen_ls(uint64_t n, uint64_t d, uint64_t seed, double **xs)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, FERAL_GEN_GAUSSIAN);
	o.n = n;
	o.d = d;
	o.noise = 0; /* consistent: x* solves it exactly */
	o.seed = seed;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_gen(&o, &ds, xs, &e), FERAL_OK, "gen: %s", e.msg);
	return ds;
}

/* SGD at a fixed step, the whole budget, one shared model. */
static void base_config(struct feral_config *c, int threads, uint32_t delay, uint64_t *hist)
{
	feral_config_init(c);
	c->method = FERAL_METHOD_SGD;
	c->step_auto = 0;
	c->step = 0.5;
	c->tol = 0;
	c->epochs = 0;
	c->max_updates = UPDATES;
	c->threads = threads;
	c->bind = FERAL_BIND_NONE;
	c->replicas = FERAL_REPLICAS_MACHINE;
	c->delay = delay;
	c->staleness_hist = hist;
}

static uint64_t hist_sum(const uint64_t *h)
{
	uint64_t s = 0;
	for (int b = 0; b < FERAL_STALENESS_BUCKETS; b++)
		s += h[b];
	return s;
}

/* Own updates u in [from, to) that a worker samples: u % EVERY == 0. */
static uint64_t sampled_in(uint64_t from, uint64_t to)
{
	uint64_t e = FERAL_ASYNC_SAMPLE_EVERY, first = (from + e - 1) / e * e;
	return to > first ? (to - first + e - 1) / e : 0;
}

Test(async, test_bucket_bounds)
{
	cr_assert_eq(feral_staleness_bucket_lo(0), 0);
	cr_assert_eq(feral_staleness_bucket_lo(3), 3);
	cr_assert_eq(feral_staleness_bucket_lo(4), 4);
	cr_assert_eq(feral_staleness_bucket_lo(5), 8);
	cr_assert_eq(feral_staleness_bucket_lo(FERAL_STALENESS_BUCKETS - 1), 1u << 20);
	cr_assert_eq(feral_staleness_bucket_lo(FERAL_STALENESS_BUCKETS), UINT64_MAX);
	cr_assert_eq(feral_staleness_bucket_lo(-1), UINT64_MAX);
}

Test(async, test_one_thread_without_delay_has_zero_staleness)
{
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return; /* instruments compiled out (a measurement build) */
	double *xs = NULL;
	struct feral_dataset *ds = gen_ls(4000, 32, 1, &xs);
	double *x = calloc(ds->d, sizeof *x);
	uint64_t hist[FERAL_STALENESS_BUCKETS];
	memset(hist, 0xff, sizeof hist); /* feral_solve must zero it */
	struct feral_config c;
	base_config(&c, 1, 0, hist);
	struct feral_result r;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	cr_assert_eq(r.staleness_mean, 0.0, "mean %g", r.staleness_mean);
	cr_assert_eq(r.staleness_p99, 0);
	cr_assert_eq(r.staleness_max, 0);
	cr_assert_eq(r.conflict_rate, 0.0, "conflict rate %g", r.conflict_rate);
	cr_assert_eq(hist[0], sampled_in(0, UPDATES), "bucket 0: %llu", (unsigned long long)hist[0]);
	cr_assert_eq(hist_sum(hist), hist[0], "samples outside bucket 0");
	cr_assert_eq(r.hot_coords, 0); /* one worker: no hot set */
	/* one worker's CPU time: positive, and not above the wall time (its
	 * own clock stops while it is descheduled) */
	cr_assert(r.cpu_seconds > 0 && r.cpu_seconds <= r.seconds * 1.05 + 1e-3, "cpu %g wall %g",
	          r.cpu_seconds, r.seconds);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(async, test_one_thread_staleness_equals_the_delay)
{
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return; /* instruments compiled out (a measurement build) */
	double *xs = NULL;
	struct feral_dataset *ds = gen_ls(4000, 32, 2, &xs);
	double *x = malloc(ds->d * sizeof *x);
	const uint32_t delays[] = {1, 3, 7, 32, 100, 1000};
	for (size_t k = 0; k < sizeof delays / sizeof *delays; k++) {
		uint32_t D = delays[k];
		uint64_t hist[FERAL_STALENESS_BUCKETS];
		struct feral_config c;
		base_config(&c, 1, D, hist);
		c.step = STALE_STEP; /* stable under the longest delay */
		struct feral_result r;
		memset(x, 0, ds->d * sizeof *x);
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		cr_assert_eq(r.staleness_mean, (double)D, "delay %u: mean %.17g", D, r.staleness_mean);
		cr_assert_eq(r.staleness_max, D, "delay %u: max %u", D, r.staleness_max);
		/* p99: exact below 64, else the lower end of a 1/16-wide bucket */
		cr_assert(r.staleness_p99 <= D && r.staleness_p99 >= D - D / 16, "delay %u: p99 %u", D,
		          r.staleness_p99);
		if (D < 64)
			cr_assert_eq(r.staleness_p99, D);
		/* sampled: the updates read with a full queue, own counts D.. */
		uint64_t want = sampled_in(D, UPDATES);
		cr_assert_eq(hist_sum(hist), want, "delay %u: %llu samples, expected %llu", D,
		             (unsigned long long)hist_sum(hist), (unsigned long long)want);
		int b = 0;
		while (b + 1 < FERAL_STALENESS_BUCKETS && feral_staleness_bucket_lo(b + 1) <= D)
			b++;
		cr_assert_eq(hist[b], want, "delay %u: bucket %d holds %llu", D, b,
		             (unsigned long long)hist[b]);
		cr_assert_eq(r.conflict_rate, 0.0);
	}
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

/* Two runs, one worker, the same seed: the same bits; and the delay changes them. */
static void reproducible(enum feral_precision mp, uint32_t delay)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen_ls(3000, 24, 3, &xs);
	double *x[3];
	for (int k = 0; k < 3; k++) {
		x[k] = calloc(ds->d, sizeof *x[k]);
		struct feral_config c;
		base_config(&c, 1, k < 2 ? delay : 0, NULL);
		c.model_precision = mp;
		c.seed = 11;
		struct feral_result r;
		SOLVE_OK(ds, &c, xs, x[k], &r, NULL);
		cr_assert_eq(r.updates, UPDATES);
	}
	cr_assert_eq(memcmp(x[0], x[1], ds->d * sizeof *x[0]), 0,
	             "delay %u, %d-bit model: two runs differ", delay, feral_precision_bits(mp));
	cr_assert_neq(memcmp(x[0], x[2], ds->d * sizeof *x[0]), 0,
	              "delay %u changed nothing (%d-bit model)", delay, feral_precision_bits(mp));
	for (int k = 0; k < 3; k++)
		free(x[k]);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(async, test_one_thread_delay_is_bit_for_bit_reproducible)
{
	reproducible(FERAL_PRECISION_F64, 16);
	reproducible(FERAL_PRECISION_F32, 5);
	reproducible(FERAL_PRECISION_I8, 32); /* stochastic rounding draws in order too */
}

Test(async, test_consistent_system_reaches_tol_with_delay_32)
{
	double *xs = NULL;
	struct feral_dataset *ds = gen_ls(4000, 32, 4, &xs);
	double *x = calloc(ds->d, sizeof *x);
	struct feral_config c;
	base_config(&c, 1, 32, NULL);
	c.step = DELAY_STEP;
	c.max_updates = 0;
	c.epochs = 60;
	c.tol = DELAY_TOL;
	struct feral_result r;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	cr_assert(r.converged, "delay 32: relative error %g after %llu updates", r.rel_error,
	          (unsigned long long)r.updates);
	cr_assert(r.rel_error <= DELAY_TOL, "relative error %g", r.rel_error);
	/* SVRG: the dense part and L2 at the write, with the queued step */
	memset(x, 0, ds->d * sizeof *x);
	c.method = FERAL_METHOD_SVRG;
	c.step_auto = 1;
	c.l2 = 0;
	SOLVE_OK(ds, &c, xs, x, &r, NULL);
	cr_assert(r.converged, "SVRG, delay 32: relative error %g", r.rel_error);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

Test(async, test_two_workers_rates_are_shares_and_every_sample_counts)
{
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return; /* instruments compiled out (a measurement build) */
	double *xs = NULL;
	struct feral_dataset *ds = gen_ls(4000, 32, 5, &xs);
	double *x = calloc(ds->d, sizeof *x);
	for (uint32_t delay = 0; delay <= 8; delay += 8) {
		uint64_t hist[FERAL_STALENESS_BUCKETS];
		struct feral_config c;
		base_config(&c, 2, delay, hist);
		struct feral_result r;
		memset(x, 0, ds->d * sizeof *x);
		SOLVE_OK(ds, &c, xs, x, &r, NULL);
		cr_assert_eq(r.threads, 2);
		cr_assert(r.conflict_rate >= 0 && r.conflict_rate <= 1, "conflict rate %g",
		          r.conflict_rate);
		/* own writes ahead count exactly; the other's add to them */
		cr_assert(r.staleness_mean >= delay, "delay %u: mean %g", delay, r.staleness_mean);
		cr_assert(r.staleness_max >= r.staleness_p99 && r.staleness_p99 >= delay);
		/* each worker samples its own counts in [delay, quota) */
		uint64_t want = 2 * sampled_in(delay, UPDATES / 2);
		cr_assert_eq(hist_sum(hist), want, "delay %u: %llu samples, expected %llu", delay,
		             (unsigned long long)hist_sum(hist), (unsigned long long)want);
	}
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
}

/* CSR rows with pairwise disjoint supports (row i: column i): two updates
 * conflict only on the same row, whatever the interleaving. */
Test(async, test_disjoint_rows_rarely_conflict)
{
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return; /* instruments compiled out (a measurement build) */
	const uint64_t n = 8192;
	struct feral_dataset *ds = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_dataset_create(n, n, n, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds, &e),
	             FERAL_OK, "%s", e.msg);
	float *v = ds->values;
	for (uint64_t i = 0; i < n; i++) {
		ds->indptr[i + 1] = i + 1;
		ds->indices[i] = (uint32_t)i;
		v[i] = 1.0f + (float)(i % 7);
		ds->y[i] = (double)(i % 13) - 6.0;
	}
	feral_dataset_update_norms(ds);
	double *x = calloc(n, sizeof *x);
	struct feral_config c;
	base_config(&c, 2, 0, NULL);
	c.max_updates = 200000;
	struct feral_result r;
	SOLVE_OK(ds, &c, NULL, x, &r, NULL);
	cr_assert(r.conflict_rate >= 0 && r.conflict_rate <= DISJOINT_BAND, "conflict rate %g",
	          r.conflict_rate);
	free(x);
	feral_dataset_destroy(&ds);
}

Test(async, test_config_rejects_a_delay_past_the_maximum)
{
	struct feral_config c;
	feral_config_init(&c);
	cr_assert_eq(c.delay, 0);
	c.delay = FERAL_DELAY_MAX;
	cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK);
	c.delay = FERAL_DELAY_MAX + 1;
	struct feral_error e = {0};
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert_not_null(strstr(e.msg, "delay"), "message: %s", e.msg);
}

static void cli_setup(void)
{
	tmpdir_make("async");
	cr_assert_eq(shell_feral(1, "gen gaussian -o g.feral --n 2000 --d 16 --noise 0"), 0, "%s",
	             out);
}

Test(async, test_cli_delay_validation_and_json, .init = cli_setup, .fini = tmpdir_remove)
{
	const char *bad[] = {"-1", "65537", "1e9", "abc", "2.5", ""};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		int rc = shell_feral(1, "solve g.feral --threads 1 --delay '%s' -o x.npy", bad[k]);
		cr_assert_eq(rc, 2, "--delay '%s': exit %d: %s", bad[k], rc, out);
		cr_assert_not_null(strstr(out, "--delay"), "--delay '%s': %s", bad[k], out);
	}
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return; /* instruments compiled out (a measurement build) */
	int rc = shell_feral(0, "solve g.feral --xstar g.xstar.npy --threads 1 --method sgd "
	                        "--step 0.5 --tol 0 --updates 10000 --delay 8 --json "
	                        "--trace t.csv -o x.npy");
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_eq(json_num("delay"), 8);
	cr_assert_eq(json_num("staleness_mean"), 8);
	cr_assert_eq(json_num("staleness_p99"), 8);
	cr_assert_eq(json_num("staleness_max"), 8);
	cr_assert_eq(json_num("conflict_rate"), 0);
	cr_assert_not_null(strstr(out, "\"staleness_hist\":[0,0,0,0,0,"), "%s", out);
	/* the trace's histogram beside it: every sample in [8, 16) */
	rc = shell_run(0, "awk -F, 'NR > 1 && $3 > 0 { print $1 \":\" $3 }' t-staleness.csv");
	cr_assert_eq(rc, 0);
	char want[64];
	snprintf(want, sizeof want, "8:%llu\n", (unsigned long long)sampled_in(8, 10000));
	cr_assert_str_eq(out, want);
}

/* With hot coordinates, a write's hot part lands at its worker's next merge
 * (of every slot when the row has a slow tier slot), and its values came
 * from that worker's last pull of the tier: the sample's staleness is the
 * other workers' updates merged in between, if more than its cold part's.
 * The bookkeeping replayed on a hand-built two-worker context, worker 1's
 * published counts set by hand: exact values, no threads. */
Test(async, test_hot_writes_wait_for_their_merge)
{
	if (!FERAL_ASYNC_SAMPLE_EVERY)
		return;
	/* 4 hot slots, 0 and 1 in the fast tier; rows: fast slots only, a slow
	 * slot, no hot entry (one cold column each) */
	uint64_t indptr[] = {0, 3, 6, 7};
	uint32_t indices[] = {0, 1, 9, 0, 3, 8, 7}, split[] = {2, 2, 0};
	struct feral_hot_view view = {0};
	view.ds.layout = FERAL_LAYOUT_CSR;
	view.ds.n = 3;
	view.ds.d = 10;
	view.ds.indptr = indptr;
	view.ds.indices = indices;
	view.split = split;
	static struct feral_worker w[2];
	int shard_of[2] = {0, 0}, rep_of[2] = {0, 0};
	struct feral_config cfg;
	feral_config_init(&cfg);
	struct feral_ctx c;
	memset(&c, 0, sizeof c);
	c.cfg = &cfg;
	c.w = w;
	c.plan.nthreads = 2;
	c.plan.shard_of = shard_of;
	c.plan.rep_of = rep_of;
	c.hot.H = 4;
	c.hot.nfast = 2;
	c.hot.view = &view;
	c.hot.nview = 1;
	struct feral_error e = {0};
	cr_assert_eq(feral_async_create(&c, &e), FERAL_OK, "%s", e.msg);
	/* row 0 (fast tier): read with worker 1 at 10 updates, none merged */
	w[1].updates = 10;
	feral_async_read(&c, 0, &view.ds, 0);
	w[1].updates = 12; /* cold part: 2 */
	feral_async_landed(&c, 0);
	cr_assert_eq(c.async[0].samples, 0, "a hot write lands at its merge");
	w[1].merged = 64; /* worker 1 merged its first 64 */
	w[1].updates = 70;
	feral_async_merged(&c, 0, 64, false);
	cr_assert_eq(c.async[0].samples, 1);
	cr_assert_eq(c.async[0].sum, 64, "fast: the 64 merged since the pull, got %llu",
	             (unsigned long long)c.async[0].sum);
	/* row 1 (a slow slot): its values are from the pull of all slots (0 merged
	 * then); a fast merge does not land it, the full one does */
	feral_async_read(&c, 0, &view.ds, 1);
	feral_async_landed(&c, 0);
	w[1].merged = 128;
	feral_async_merged(&c, 0, 128, false);
	cr_assert_eq(c.async[0].samples, 1, "landed by a fast merge");
	w[1].merged = w[1].merged_all = 1024;
	w[1].updates = 1030;
	feral_async_merged(&c, 0, 1024, true);
	cr_assert_eq(c.async[0].samples, 2);
	cr_assert_eq(c.async[0].max, 1024, "slow: %llu", (unsigned long long)c.async[0].max);
	/* row 2 (cold only): recorded when written, from the others' counts */
	feral_async_read(&c, 0, &view.ds, 2);
	w[1].updates = 1033;
	feral_async_landed(&c, 0);
	cr_assert_eq(c.async[0].samples, 3);
	cr_assert_eq(c.async[0].sum, 64 + 1024 + 3);
	/* a cold part staler than the merge window: the larger counts */
	feral_async_read(&c, 0, &view.ds, 0); /* pulled at 1024 (the full merge) */
	w[1].updates = 1133;
	feral_async_landed(&c, 0); /* cold part: 100 */
	w[1].merged = 1088;
	feral_async_merged(&c, 0, 1088, false);
	cr_assert_eq(c.async[0].sum, 64 + 1024 + 3 + 100);
	cr_assert_eq(c.async[0].hot_samples, 3);
	cr_assert_eq(w[0].merged, 1088, "its own merge count published");
	cr_assert_eq(w[0].merged_all, 1024);
	struct feral_result r;
	memset(&r, 0, sizeof r);
	feral_async_result(&c, &r);
	cr_assert_float_eq(r.staleness_mean, (64 + 1024 + 3 + 100) / 4.0, 1e-12);
	cr_assert_eq(r.staleness_max, 1024);
	feral_async_free(&c);
}
