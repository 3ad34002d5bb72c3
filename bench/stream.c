/* STREAM-like read and triad probe (bench.h), OpenMP over the solver's
 * thread count.  Plain loops; -O3 for this file only. */
#pragma GCC optimize("O3")
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int bench_stream_measure(int threads, uint64_t array_bytes, int reps, double max_seconds,
                         struct bench_stream *out)
{
	memset(out, 0, sizeof *out);
	out->threads = threads;
	size_t n = (size_t)(array_bytes / sizeof(double));
	if (n < 1024)
		n = 1024;
	double t0 = now();
	double *a = aligned_alloc(64, n * sizeof *a), *b = aligned_alloc(64, n * sizeof *b),
	       *c = aligned_alloc(64, n * sizeof *c);
	if (!a || !b || !c) {
		free(a);
		free(b);
		free(c);
		return -1;
	}
	(void)threads;
	/* first touch with the timed loops' schedule: pages land where they are used */
#pragma omp parallel for num_threads(threads) schedule(static)
	for (size_t i = 0; i < n; i++) {
		a[i] = 1.0;
		b[i] = 2.0;
		c[i] = 0.5;
	}
	double best_read = 0, best_triad = 0, sink = 0;
	const double bytes = 3.0 * (double)n * sizeof(double);
	for (int r = 0; r < reps && (r == 0 || now() - t0 < max_seconds); r++) {
		double s = 0, t = now();
#pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+ : s)
		for (size_t i = 0; i < n; i++)
			s += a[i] + b[i] + c[i];
		t = now() - t;
		sink += s;
		if (t > 0 && bytes / t > best_read)
			best_read = bytes / t;
		t = now();
#pragma omp parallel for simd num_threads(threads) schedule(static)
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] + 0.5 * c[i];
		t = now() - t;
		if (t > 0 && bytes / t > best_triad)
			best_triad = bytes / t;
	}
	/* keep the reads alive */
	if (sink == -1.0)
		a[0] = sink;
	free(a);
	free(b);
	free(c);
	out->read_bytes_per_s = best_read;
	out->triad_bytes_per_s = best_triad;
	out->array_bytes = (uint64_t)(n * sizeof(double));
	out->seconds = now() - t0;
	return 0;
}
