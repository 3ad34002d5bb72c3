/* The horizon estimator (src/trace.c) on synthetic traces with a known
 * plateau, with none, and on degenerate input. */
#include "trace.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

TestSuite(horizon, .timeout = 10);

#define NPTS 60

/* e_k = h + e0 * 10^(-k / decay_pts), optionally with multiplicative noise of
 * +-noise_dec decades (deterministic LCG). */
static void make_trace(double *x, double *e, size_t n, double h, double e0, double decay_pts,
                       double noise_dec)
{
	uint64_t s = 12345;
	for (size_t k = 0; k < n; k++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		double u = (double)(s >> 11) / 9007199254740992.0 * 2 - 1; /* [-1, 1) */
		x[k] = 1000.0 * (double)(k + 1);
		e[k] = (h + e0 * pow(10.0, -(double)k / decay_pts)) * pow(10.0, noise_dec * u);
	}
}

Test(horizon, test_plateau_found_at_known_level)
{
	double x[NPTS], e[NPTS];
	const double h = 1e-4;
	make_trace(x, e, NPTS, h, 1.0, 5.0, 0.0); /* 1 decade every 5 points: flat by k = 40 */
	struct feral_horizon r;
	feral_horizon_estimate(x, e, NPTS, &r);
	cr_assert(r.plateau_reached, "plateau not found (tail drop %g decades)", r.tail_drop);
	cr_assert(fabs(log10(r.horizon / h)) < 0.01, "horizon %g, expected %g", r.horizon, h);
	cr_assert_eq(r.points, NPTS);
	cr_assert_eq(r.tail, NPTS / 3);
}

Test(horizon, test_noisy_plateau_within_band)
{
	double x[NPTS], e[NPTS];
	const double h = 0.1;
	make_trace(x, e, NPTS, h, 1.0, 4.0, 0.15); /* +-0.15 decades of noise, as D8M8 shows */
	struct feral_horizon r;
	feral_horizon_estimate(x, e, NPTS, &r);
	cr_assert(r.plateau_reached, "noisy plateau not found (tail drop %g decades)", r.tail_drop);
	cr_assert(fabs(log10(r.horizon / h)) < 0.1, "horizon %g, expected %g +- 0.1 decade",
	          r.horizon, h);
	cr_assert(r.tail_spread > 0.05, "spread %g: the noise should show", r.tail_spread);
}

Test(horizon, test_no_plateau_gives_last_value_upper_bound)
{
	double x[NPTS], e[NPTS];
	make_trace(x, e, NPTS, 0.0, 1.0, 10.0, 0.0); /* pure decay: 6 decades, no floor */
	struct feral_horizon r;
	feral_horizon_estimate(x, e, NPTS, &r);
	cr_assert(!r.plateau_reached, "plateau claimed on a pure decay (drop %g)", r.tail_drop);
	cr_assert_eq(r.horizon, e[NPTS - 1], "horizon %g, expected the last value %g", r.horizon,
	             e[NPTS - 1]);
	cr_assert(r.tail_drop < -1.5, "tail drop %g decades, expected about -2", r.tail_drop);
	for (size_t k = 0; k < NPTS; k++)
		cr_assert(r.horizon <= e[k], "the last value is not the smallest: %g > e[%zu]=%g",
		          r.horizon, k, e[k]);
}

Test(horizon, test_slow_decay_just_above_threshold_is_not_a_plateau)
{
	/* the tail (last 20 of 60 points, x spanning 19 steps) falls by 0.4 decades */
	double x[NPTS], e[NPTS];
	for (size_t k = 0; k < NPTS; k++) {
		x[k] = (double)k;
		e[k] = pow(10.0, -0.4 * (double)k / 19.0);
	}
	struct feral_horizon r;
	feral_horizon_estimate(x, e, NPTS, &r);
	cr_assert(!r.plateau_reached, "drop %g decades should exceed %g", r.tail_drop,
	          FERAL_HORIZON_FLAT_DECADES);
	cr_assert(fabs(r.tail_drop + 0.4) < 1e-9, "tail drop %g, expected -0.4", r.tail_drop);
}

Test(horizon, test_skips_nan_and_nonpositive_and_short_traces)
{
	double e[9] = {1, NAN, 0.5, -1, 0, INFINITY, 0.25, 0.2, 0.2};
	struct feral_horizon r;
	feral_horizon_estimate(NULL, e, 9, &r);
	cr_assert_eq(r.points, 5, "usable points %zu, expected 5", r.points);
	cr_assert(!r.plateau_reached, "5 points are too few for a plateau");
	cr_assert_eq(r.horizon, 0.2);
	double six[6] = {1, 0.5, 0.25, 0.2, 0.2, 0.2}; /* 6 points: tail of 3, flat */
	feral_horizon_estimate(NULL, six, 6, &r);
	cr_assert(r.plateau_reached && r.tail == 3 && fabs(r.horizon - 0.2) < 1e-12,
	          "plateau %d tail %zu horizon %g", r.plateau_reached, r.tail, r.horizon);
	feral_horizon_estimate(NULL, e, 0, &r);
	cr_assert(isnan(r.horizon) && !r.plateau_reached && r.points == 0);
	double nan3[3] = {NAN, NAN, NAN};
	feral_horizon_estimate(NULL, nan3, 3, &r);
	cr_assert(isnan(r.horizon));
}

Test(horizon, test_solver_trace_helpers)
{
	struct feral_trace_point pts[40];
	for (int k = 0; k < 40; k++) {
		pts[k].updates = (uint64_t)k * 100;
		pts[k].seconds = 0.01 * k;
		pts[k].objective = 1.0;
		pts[k].rel_residual = 1.0;
		pts[k].rel_error = 1e-3 + pow(10.0, -(double)k / 3.0);
	}
	pts[0].rel_error = 1.0; /* x0: left out of the fit */
	struct feral_trace t = {40, 40, pts};
	struct feral_horizon r;
	feral_trace_horizon(&t, FERAL_TRACE_REL_ERROR, &r);
	cr_assert(r.plateau_reached && fabs(log10(r.horizon / 1e-3)) < 0.01, "horizon %g",
	          r.horizon);
	cr_assert_eq(r.points, 39);
	double tt = feral_trace_time_to_target(&t, FERAL_TRACE_REL_ERROR, 0.02);
	/* 1e-3 + 10^(-k/3) <= 0.02 first at k = 6 (0.011) */
	cr_assert(fabs(tt - 0.06) < 1e-12, "time to target %g, expected 0.06", tt);
	cr_assert(isnan(feral_trace_time_to_target(&t, FERAL_TRACE_REL_ERROR, 1e-4)));
	cr_assert_str_eq(feral_trace_metric_name(FERAL_TRACE_OBJECTIVE), "objective");
}
