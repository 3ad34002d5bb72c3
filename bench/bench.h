/* bench: shared declarations of the bandwidth probe and the peer runners.
 * The probe and the serial Kaczmarz peer are plain C on plain arrays: they
 * use no feral code, so they measure the machine and the textbook method,
 * not our library. */
#ifndef FERAL_BENCH_H
#define FERAL_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ---- stream.c: STREAM-like bandwidth probe ----------------------------------
 * Three arrays of doubles, each at least 2x the last-level cache (so the
 * probe's footprint is >= 6x LLC), first-touched in parallel with the same
 * thread count and static schedule as the timed loops.  Best of `reps`:
 *   read:  s += a[i] + b[i] + c[i]     24 bytes per i   (the solver's rows are read-only)
 *   triad: a[i] = b[i] + q * c[i]       24 bytes per i   (STREAM's counting, no write-allocate) */
struct bench_stream {
	int threads;
	double read_bytes_per_s;
	double triad_bytes_per_s;
	uint64_t array_bytes; /* bytes of each of the three arrays */
	double seconds;       /* wall time of the whole probe */
};
/* Returns 0, or -1 when the arrays cannot be allocated. */
int bench_stream_probe(int threads, uint64_t llc_bytes, int reps, struct bench_stream *out);

/* ---- peer_kaczmarz.c: textbook serial randomized Kaczmarz ------------------
 * x <- x + (b_i - <a_i, x>) / ||a_i||^2 a_i with i uniform (Strohmer-Vershynin
 * with uniform rows; on a consistent system it converges to x*).  Dense rows
 * (A row-major n x d floats) or CSR (indptr/indices/values floats).  Runs
 * max_updates updates, checking ||x - x*||^2/||x*||^2 every check_every
 * updates (O(d), included in the time); row norms are computed before the
 * clock starts. */
struct bench_kaczmarz {
	uint64_t updates;
	double seconds;        /* wall time of the updates */
	double time_to_target; /* first check at or below target; NaN when never */
	double rel_error;      /* at the end */
};
int bench_kaczmarz_run(uint64_t n, uint64_t d, const float *dense, const uint64_t *indptr,
                       const uint32_t *indices, const float *values, const double *b,
                       const double *x_star, double target, uint64_t max_updates,
                       double max_seconds, uint64_t seed, struct bench_kaczmarz *out);
#endif
