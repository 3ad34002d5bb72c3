/* csrbench: the sparse-row kernels into an int8 model alone (build/csrbench).
 *
 *   csrbench [--nnz K] [--d D] [--rows N] [--ms MS] [--burst B]
 *
 * N rows of K nonzeros (distinct random columns of a model of D int8
 * elements, sorted), int8 and f32 data, visited in a fixed random order;
 * the multipliers alpha come from a fixed list, log-uniform on [2^-12,
 * 2^-4] with random signs (what feral solve passes on the sparse benchmark
 * at --precision 8: 98 % of its |alpha| lie there).  For each data type it
 * times the CSR axpy of the kernel table (kernels/csr8.h) against the
 * generic scalar kernel (the _ref kernel given idx, which every table's CSR
 * slot held before), alone and after the row's dot (an update as the
 * engine runs it; its sign pulls the model towards 0 so that values do not
 * stay saturated); and, for int8 data, against csr8's float-increment loop
 * run on the int8 values (what rounding alpha once in fixed point saves).  Defaults: K 20, D 100000, N 4096 (rows and model stay in
 * L2), 2000 ms.
 *
 * As build/kbench: each figure is the fastest of many short bursts of B
 * rows (default 256), the variants taking turns, and the median burst is
 * printed too, in ns per row. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "kernels.h"
#include "csr8.h"

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}
static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct variant {
	const char *name;
	feral_k_axpy_fn axpy;
	int f32; /* data type: f32 or int8 */
	int update; /* dot first */
	double *t;
	size_t nt;
};

static volatile double sink;

/* int8 data through the float-increment loop of csr8.h (t = alpha a_k in
 * float, floor(t + u)): what the fixed-point design saves on a short row. */
FERAL_K_CSR8_INC(bench_inc_i8, int8_t)
static uint64_t axpy_i8_float(void *x, const void *a, const uint32_t *idx, size_t len,
                              double alpha, enum feral_rounding mode, struct feral_k_rng *rng)
{
	(void)mode;
	return bench_inc_i8(x, a, idx, len, (float)alpha, &rng->lane[FERAL_K_CSR8_LANE]);
}

int main(int argc, char **argv)
{
	size_t K = 20, D = 100000, N = 4096, B = 256;
	double ms = 2000;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (i + 1 >= argc) {
			fprintf(stderr, "csrbench: %s needs a value (see the top of bench/csrbench.c)\n", o);
			return 2;
		}
		const char *v = argv[++i];
		char *end;
		double x = strtod(v, &end);
		if (*end || x < 1 || x > 1e9) {
			fprintf(stderr, "csrbench: %s %s: not a number in [1, 1e9]\n", o, v);
			return 2;
		}
		if (!strcmp(o, "--nnz"))
			K = (size_t)x;
		else if (!strcmp(o, "--d"))
			D = (size_t)x;
		else if (!strcmp(o, "--rows"))
			N = (size_t)x;
		else if (!strcmp(o, "--burst"))
			B = (size_t)x;
		else if (!strcmp(o, "--ms"))
			ms = x;
		else {
			fprintf(stderr, "csrbench: unknown option %s\n", o);
			return 2;
		}
	}
	if (K > D || D > UINT32_MAX) {
		fprintf(stderr, "csrbench: need --nnz <= --d < 2^32\n");
		return 2;
	}
	struct feral_rng r;
	feral_rng_seed(&r, 1, 0);
	uint32_t *idx = malloc(N * K * sizeof *idx);
	int8_t *a8 = malloc(N * K), *x = calloc(D, 1);
	float *af = malloc(N * K * sizeof *af);
	size_t *order = malloc(N * sizeof *order);
	enum { NA = 1024 };
	double alpha[NA];
	if (!idx || !a8 || !x || !af || !order) {
		fprintf(stderr, "csrbench: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < N; i++) {
		uint32_t *c = idx + i * K;
		for (size_t k = 0; k < K; k++) {
			uint32_t v;
			int dup;
			do { /* distinct columns */
				v = (uint32_t)(feral_rng_next(&r) % D);
				dup = 0;
				for (size_t j = 0; j < k; j++)
					dup |= c[j] == v;
			} while (dup);
			c[k] = v;
			a8[i * K + k] = (int8_t)((int)(feral_rng_next(&r) % 255) - 127);
			af[i * K + k] = (float)a8[i * K + k] * 0.0173f;
		}
		qsort(c, K, sizeof *c, cmp_u32);
		order[i] = i;
	}
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = feral_rng_next(&r) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < NA; i++) {
		double e = -12 + 8 * feral_rng_uniform(&r);
		alpha[i] = (feral_rng_next(&r) >> 63 ? -1 : 1) * __builtin_exp2(e);
	}
	struct variant v[] = {
		{"i8 axpy, generic ref", feral_k_axpy_i8_i8_ref, 0, 0, NULL, 0},
		{"i8 axpy, csr8", feral_k_axpy_i8_i8_csr_ref, 0, 0, NULL, 0},
		{"i8 update, generic ref", feral_k_axpy_i8_i8_ref, 0, 1, NULL, 0},
		{"i8 update, csr8", feral_k_axpy_i8_i8_csr_ref, 0, 1, NULL, 0},
		{"i8 axpy, float increments", axpy_i8_float, 0, 0, NULL, 0},
		{"i8 axpy, csr8 (again)", feral_k_axpy_i8_i8_csr_ref, 0, 0, NULL, 0},
		{"f32 axpy, generic ref", feral_k_axpy_f32_i8_ref, 1, 0, NULL, 0},
		{"f32 axpy, csr8", feral_k_axpy_f32_i8_csr_ref, 1, 0, NULL, 0},
		{"f32 update, generic ref", feral_k_axpy_f32_i8_ref, 1, 1, NULL, 0},
		{"f32 update, csr8", feral_k_axpy_f32_i8_csr_ref, 1, 1, NULL, 0},
	};
	const size_t NV = sizeof v / sizeof v[0];
	size_t cap = 1 << 16;
	for (size_t i = 0; i < NV; i++)
		if (!(v[i].t = malloc(cap * sizeof(double)))) {
			fprintf(stderr, "csrbench: out of memory\n");
			return 1;
		}
	struct feral_k_rng kr;
	feral_k_rng_seed(&kr, 7, 0);
	size_t pos = 0, ai = 0;
	double t_end = now_ns() + ms * 1e6, acc = 0;
	while (now_ns() < t_end && v[NV - 1].nt < cap)
		for (size_t i = 0; i < NV; i++) {
			const struct variant *w = &v[i];
			size_t p0 = pos, a0 = ai;
			if (i % 2 == 0) { /* a pair sees the same rows and alphas */
				pos = (pos + B) % N;
				ai = (ai + B) % NA;
			}
			double t0 = now_ns();
			for (size_t b = 0; b < B; b++) {
				size_t row = order[(p0 + b) % N];
				const void *a = w->f32 ? (const void *)(af + row * K) : (const void *)(a8 + row * K);
				const uint32_t *c = idx + row * K;
				double al = alpha[(a0 + b) % NA];
				if (w->update) {
					double d = w->f32 ? feral_k_dot_f32_i8_ref(a, c, x, K)
					                  : feral_k_dot_i8_i8_ref(a, c, x, K);
					acc += d;
					al = d > 0 ? -fabs(al) : fabs(al); /* pull towards 0 */
				}
				w->axpy(x, a, c, K, al, FERAL_ROUNDING_INDEPENDENT, &kr);
			}
			v[i].t[v[i].nt++] = (now_ns() - t0) / (double)B;
		}
	sink = acc;
	printf("csrbench: %zu rows of %zu nonzeros, d %zu, %zu bursts of %zu rows each\n", N, K, D,
	       v[0].nt, B);
	printf("%-26s %10s %10s\n", "ns per row", "fastest", "median");
	for (size_t i = 0; i < NV; i++) {
		qsort(v[i].t, v[i].nt, sizeof(double), cmp_d);
		printf("%-26s %10.1f %10.1f\n", v[i].name, v[i].t[0], v[i].t[v[i].nt / 2]);
	}
	for (size_t i = 0; i < NV; i++)
		free(v[i].t);
	free(idx);
	free(a8);
	free(x);
	free(af);
	free(order);
	return 0;
}
