/* Model averaging over MPI, in full or low precision.
 *
 * The average is weighted by the shard's row fraction, w_k = n_k / n: rank k's
 * weighted SGD (reweighted by 1/(n_k p_i^(k)) over its own shard) is unbiased
 * for F_k = (1/n_k) sum_{i in k} f_i, and F = sum_k w_k F_k.  With the even
 * row split w_k = 1/R up to one row.
 *
 * Low precision (the "C" of DMGC, Buckwild!/De Sa et al.): rank k sends
 * q_k = SR(delta_k / s_k), delta_k = x_k - ref, s_k = max_j |delta_kj| / qmax,
 * where SR rounds down or up with probabilities that make E[s_k q_k] = delta_k
 * (one uniform per element).  The messages (8-byte scale + d int8/int16) are
 * MPI_Allgather'ed -- an int8 sum would overflow, and summing in int32 would
 * send 4 bytes a coordinate -- and every rank forms
 * ref + sum_k w_k s_k q_k in rank order: the same bits on every rank, so ref
 * stays common without a broadcast.  Volume per rank: sends its message to
 * R-1 peers (ring allgather); a double Allreduce sends ~2 (R-1)/R * 8d. */
#include "fmpi.h"

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

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t next(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static inline double uniform(uint64_t *s)
{
	return (double)(next(s) >> 11) * 0x1.0p-53;
}

int fmpi_avg_init(struct fmpi_avg *a, MPI_Comm comm, int bits, uint64_t d, double weight,
                  const double *x0, uint64_t seed)
{
	memset(a, 0, sizeof *a);
	a->comm = comm;
	MPI_Comm_rank(comm, &a->rank);
	MPI_Comm_size(comm, &a->size);
	a->bits = bits;
	a->d = d;
	int R = a->size;
	a->w_all = malloc((size_t)R * sizeof *a->w_all);
	a->ref = malloc(d * sizeof *a->ref);
	a->tmp = malloc(d * sizeof *a->tmp);
	if (!a->w_all || !a->ref || !a->tmp)
		return -1;
	MPI_Allgather(&weight, 1, MPI_DOUBLE, a->w_all, 1, MPI_DOUBLE, comm);
	memcpy(a->ref, x0, d * sizeof *a->ref);
	uint64_t s = seed ^ (0xa5a5f00dull + (uint64_t)a->rank * 0x2545f4914f6cdd1dull);
	for (int k = 0; k < 4; k++)
		a->rng[k] = splitmix(&s);
	if (bits == 64) {
		a->msg = d * 8;
		a->wire_per_avg = 2.0 * (R - 1) / R * (double)a->msg;
	} else if (bits == 32) {
		a->msg = d * 4;
		a->send = malloc(a->msg ? a->msg : 1);
		a->recv = malloc(a->msg ? a->msg : 1);
		if (!a->send || !a->recv)
			return -1;
		a->wire_per_avg = 2.0 * (R - 1) / R * (double)a->msg;
	} else {
		a->msg = 8 + d * (size_t)(bits / 8);
		a->send = malloc(a->msg);
		a->recv = malloc((size_t)R * a->msg);
		if (!a->send || !a->recv)
			return -1;
		a->wire_per_avg = (double)(R - 1) * (double)a->msg;
	}
	return 0;
}

void fmpi_avg_free(struct fmpi_avg *a)
{
	free(a->w_all);
	free(a->ref);
	free(a->tmp);
	free(a->send);
	free(a->recv);
	memset(a, 0, sizeof *a);
}

/* Quantize delta = x - ref into a->send: scale, then d int8/int16. */
static void quantize(struct fmpi_avg *a, const double *x)
{
	uint64_t d = a->d;
	double m = 0;
	for (uint64_t j = 0; j < d; j++) {
		double v = x[j] - a->ref[j];
		a->tmp[j] = v;
		m = fmax(m, fabs(v));
	}
	double qmax = a->bits == 8 ? 127.0 : 32767.0;
	double scale = m > 0 ? m / qmax : 1.0, inv = 1.0 / scale;
	memcpy(a->send, &scale, 8);
	if (a->bits == 8) {
		int8_t *q = (int8_t *)(a->send + 8);
		for (uint64_t j = 0; j < d; j++) {
			double v = floor(a->tmp[j] * inv + uniform(a->rng));
			q[j] = (int8_t)fmin(qmax, fmax(-qmax, v));
		}
	} else {
		int16_t q16;
		for (uint64_t j = 0; j < d; j++) {
			double v = floor(a->tmp[j] * inv + uniform(a->rng));
			q16 = (int16_t)fmin(qmax, fmax(-qmax, v));
			memcpy(a->send + 8 + 2 * j, &q16, 2);
		}
	}
}

int fmpi_avg_run(struct fmpi_avg *a, double *x)
{
	double t0 = now();
	uint64_t d = a->d;
	int R = a->size, rc = 0;
	double w = a->w_all[a->rank];
	if (a->bits == 64) {
		for (uint64_t j = 0; j < d; j++)
			a->tmp[j] = w * x[j];
		rc = MPI_Allreduce(a->tmp, x, (int)d, MPI_DOUBLE, MPI_SUM, a->comm);
	} else if (a->bits == 32) {
		float *s = (float *)a->send, *r = (float *)a->recv;
		for (uint64_t j = 0; j < d; j++)
			s[j] = (float)(w * (x[j] - a->ref[j]));
		rc = MPI_Allreduce(s, r, (int)d, MPI_FLOAT, MPI_SUM, a->comm);
		for (uint64_t j = 0; j < d; j++)
			x[j] = a->ref[j] += (double)r[j];
	} else {
		quantize(a, x);
		rc = MPI_Allgather(a->send, (int)a->msg, MPI_BYTE, a->recv, (int)a->msg, MPI_BYTE,
		                   a->comm);
		memcpy(a->tmp, a->ref, d * sizeof *a->tmp);
		for (int k = 0; k < R; k++) {
			const unsigned char *m = a->recv + (size_t)k * a->msg;
			double scale;
			memcpy(&scale, m, 8);
			double f = a->w_all[k] * scale;
			if (a->bits == 8) {
				const int8_t *q = (const int8_t *)(m + 8);
				for (uint64_t j = 0; j < d; j++)
					a->tmp[j] += f * q[j];
			} else {
				for (uint64_t j = 0; j < d; j++) {
					int16_t q16;
					memcpy(&q16, m + 8 + 2 * j, 2);
					a->tmp[j] += f * q16;
				}
			}
		}
		memcpy(a->ref, a->tmp, d * sizeof *a->ref);
		memcpy(x, a->tmp, d * sizeof *x);
	}
	double t = now() - t0;
	a->count++;
	a->seconds += t;
	if (t > a->max_seconds)
		a->max_seconds = t;
	a->wire_bytes += a->wire_per_avg;
	return rc == MPI_SUCCESS ? 0 : -1;
}
