/* Peer: textbook serial randomized Kaczmarz (bench.h).  Plain loops, uniform
 * rows, double iterate, float data; no feral code.  -O3 for this file only. */
#pragma GCC optimize("O3")
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* splitmix64: the textbook generator */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rel_err(uint64_t d, const double *x, const double *xs, double xs2)
{
	double e = 0;
	for (uint64_t j = 0; j < d; j++)
		e += (x[j] - xs[j]) * (x[j] - xs[j]);
	return xs2 > 0 ? e / xs2 : e;
}

int bench_kaczmarz_run(uint64_t n, uint64_t d, const float *dense, const uint64_t *indptr,
                       const uint32_t *indices, const float *values, const double *b,
                       const double *x_star, double target, uint64_t max_updates,
                       double max_seconds, uint64_t seed, struct bench_kaczmarz *out)
{
	memset(out, 0, sizeof *out);
	out->time_to_target = NAN;
	out->rel_error = NAN;
	double *x = calloc(d, sizeof *x), *inv = malloc(n * sizeof *inv);
	if (!x || !inv) {
		free(x);
		free(inv);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		double s = 0;
		if (dense) {
			const float *a = dense + i * d;
			for (uint64_t j = 0; j < d; j++)
				s += (double)a[j] * a[j];
		} else {
			for (uint64_t k = indptr[i]; k < indptr[i + 1]; k++)
				s += (double)values[k] * values[k];
		}
		inv[i] = s > 0 ? 1.0 / s : 0;
	}
	double xs2 = 0;
	if (x_star)
		for (uint64_t j = 0; j < d; j++)
			xs2 += x_star[j] * x_star[j];
	uint64_t check_every = n < 4096 ? 4096 : n / 8;
	uint64_t rng = seed * 0x2545f4914f6cdd1dull + 1, k = 0;
	double t0 = now();
	while (k < max_updates) {
		uint64_t stop = k + check_every < max_updates ? k + check_every : max_updates;
		for (; k < stop; k++) {
			uint64_t i = (uint64_t)(((unsigned __int128)next_u64(&rng) * n) >> 64);
			double r = b[i];
			if (dense) {
				const float *a = dense + i * d;
				for (uint64_t j = 0; j < d; j++)
					r -= a[j] * x[j];
				r *= inv[i];
				for (uint64_t j = 0; j < d; j++)
					x[j] += r * a[j];
			} else {
				for (uint64_t q = indptr[i]; q < indptr[i + 1]; q++)
					r -= values[q] * x[indices[q]];
				r *= inv[i];
				for (uint64_t q = indptr[i]; q < indptr[i + 1]; q++)
					x[indices[q]] += r * values[q];
			}
		}
		if (x_star) {
			double e = rel_err(d, x, x_star, xs2);
			if (isnan(out->time_to_target) && e <= target)
				out->time_to_target = now() - t0;
			if (!isfinite(e))
				break;
		}
		if (max_seconds > 0 && now() - t0 >= max_seconds)
			break;
	}
	out->seconds = now() - t0;
	out->updates = k;
	if (x_star)
		out->rel_error = rel_err(d, x, x_star, xs2);
	free(x);
	free(inv);
	return 0;
}
