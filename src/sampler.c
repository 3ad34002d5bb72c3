/* Per-thread random numbers and Walker/Vose alias tables.
 *
 * Sampling follows Needell-Srebro-Ward (docs/math.md section 1): row i is drawn
 * with p_i = lambda/n + (1-lambda) L_i / sum_j L_j, and the step is reweighted
 * by 1/(n p_i) so that the expected update is the full gradient. */
#include "internal.h"

#include <math.h>

uint64_t feral_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* xoshiro256's jump: equivalent to 2^128 calls of next(). */
static void rng_jump(struct feral_rng *r)
{
	static const uint64_t J[] = {0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull,
	                             0xa9582618e03fc9aaull, 0x39abdc4529b1661cull};
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 64; b++) {
			if (J[i] & (1ull << b)) {
				s0 ^= r->s[0];
				s1 ^= r->s[1];
				s2 ^= r->s[2];
				s3 ^= r->s[3];
			}
			feral_rng_next(r);
		}
	r->s[0] = s0;
	r->s[1] = s1;
	r->s[2] = s2;
	r->s[3] = s3;
}

void feral_rng_seed(struct feral_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t sm = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = feral_splitmix64(&sm);
	/* Streams are 2^128 draws apart, so they never overlap.  Jumps cost
	 * O(stream); thread counts are small. */
	for (uint64_t k = 0; k < stream; k++)
		rng_jump(r);
}

double feral_rng_normal(struct feral_rng *r)
{
	/* Box-Muller; u1 in (0, 1] so the log is finite. */
	double u1 = 1.0 - feral_rng_uniform(r);
	double u2 = feral_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void feral_alias_free(struct feral_alias *a)
{
	if (!a)
		return;
	free(a->e);
	a->e = NULL;
	a->n = 0;
}

/* Vose's method: scale probabilities to mean 1, pair each "small" column with
 * a "large" donor.  Exact in the limit of the 2^-64 threshold resolution. */
enum feral_status feral_alias_build(struct feral_alias *a, const double *w, uint64_t n,
                                    struct feral_error *err)
{
	memset(a, 0, sizeof *a);
	if (n == 0 || n > UINT32_MAX)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "alias table of %llu entries (must be 1..2^32-1)",
		                  (unsigned long long)n);
	double sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!(w[i] >= 0) || !isfinite(w[i]))
			return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
			                  "sampling weight %llu is %g (must be finite, >= 0)",
			                  (unsigned long long)i, w[i]);
		sum += w[i];
	}
	if (!(sum > 0) || !isfinite(sum))
		return feral_fail(err, FERAL_STATUS_RANGE, NULL, 0,
		                  "sampling weights sum to %g (must be positive)", sum);
	double *q = malloc(n * sizeof *q);
	uint32_t *stack = malloc(n * sizeof *stack);
	a->e = feral_big_alloc(n * sizeof *a->e);
	if (!q || !stack || !a->e) {
		free(q);
		free(stack);
		feral_alias_free(a);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "alias table of %llu rows",
		                  (unsigned long long)n);
	}
	a->n = n;
	/* small columns grow from the bottom of `stack`, large from the top */
	uint64_t ns = 0, nl = n;
	for (uint64_t i = 0; i < n; i++) {
		q[i] = w[i] * ((double)n / sum);
		if (q[i] < 1.0)
			stack[ns++] = (uint32_t)i;
		else
			stack[--nl] = (uint32_t)i;
	}
	while (ns > 0 && nl < n) {
		uint32_t s = stack[--ns];
		uint32_t l = stack[nl];
		a->e[s].alias = l;
		a->e[s].cut = q[s] <= 0 ? 0 : (uint64_t)ldexp(q[s], 64);
		q[l] -= 1.0 - q[s];
		if (q[l] < 1.0) {
			nl++;
			stack[ns++] = l;
		}
	}
	/* What is left has q == 1 up to rounding: always keep. */
	while (ns > 0) {
		uint32_t s = stack[--ns];
		a->e[s].alias = s;
		a->e[s].cut = UINT64_MAX;
	}
	while (nl < n) {
		uint32_t l = stack[nl++];
		a->e[l].alias = l;
		a->e[l].cut = UINT64_MAX;
	}
	free(q);
	free(stack);
	return FERAL_OK;
}
