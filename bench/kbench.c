/* kbench: the dense kernels alone, on resident rows (build/kbench).
 *
 *   kbench [--n N] [--d D] [--ms MS] [--kernel NAME] [--burst B]
 *          [--rounding independent|nearest] [--pf-bytes B] [--dots]
 *
 * For data = model precision 32, 16 and 8 it times the dot, the axpy
 * (INDEPENDENT rounding unless --rounding says otherwise), the update (dot then axpy, as the engine runs
 * them) and a plain read of the row (one load a line: the memory's share)
 * over n rows of d elements, rows visited in a fixed random order.
 * The multipliers alpha come from a fixed list, log-uniform on [1e-3, 3e-2]
 * with random signs: the range feral solve passes on a Gaussian 512 x 1024
 * problem (its 10 % to 90 % quantiles).
 *
 * A shared, loaded machine stretches any long timing, so each figure is
 * the fastest of many short bursts (B updates each, the variants taking
 * turns for MS milliseconds of bursts in all): the time of an uninterrupted
 * burst, what the core itself takes.  The median burst is printed too.
 * Cycles are ns times the core clock, measured here as the fastest burst of
 * a chain of dependent integer multiplies (three cycles each).
 *
 * Out of cache (n d 4 bytes well above the last-level cache), --pf-bytes B
 * prefetches each row ceil(B / row bytes) updates ahead into L2, in two
 * halves as src/engine.c does (before the update, and after its dot), to
 * see what a prefetch distance in bytes rather than rows does.  Rows past
 * the first 4096 repeat their contents (only their addresses matter).
 *
 * --dots times instead every dense dot of the kernel set (all twelve data x
 * model pairs) on one row and model of d elements, both in L1 and 64-byte
 * aligned: ns a call, the fastest of 300 bursts.
 *
 * It also times the SIMD random bit generators the integer axpys can use
 * (feral_k_bits_avx2, kernels.h), in bytes per cycle. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "kernels.h"

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Core cycles per ns: the fastest of 200 bursts of 2^20 dependent
 * `imul reg, reg` (3 cycles each on Intel since Nehalem and on AMD Zen).
 * Not a chain of `add $1, reg`: Golden Cove and later fold immediate adds
 * at rename, so such a chain ran ~3-4 adds a cycle (it printed 13-16 GHz
 * here). */
static double clock_ghz(void)
{
	double best = 1e30;
	for (int r = 0; r < 200; r++) {
		uint64_t v = 2 * (uint64_t)r + 3; /* odd: the product never turns 0 */
		double t0 = now_ns();
		for (int k = 0; k < (1 << 18); k++)
			__asm__ volatile("imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0"
			                 : "+r"(v));
		double t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	return 3.0 * (double)(1 << 20) / best;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum { OP_DOT, OP_AXPY, OP_UPDATE, OP_READ, OP_COUNT };
static const char *const OPN[] = {"dot", "axpy", "update", "read"};

/* "read": one 8-byte load from each 64-byte line of the row, no arithmetic:
 * what moving the row alone costs (out of cache with --pf-bytes: the
 * memory system's time for a row of this size, the ceiling of an update). */
static double read_row(const char *a, size_t bytes)
{
	uint64_t s = 0;
	for (size_t o = 0; o < bytes; o += 64) {
		uint64_t v;
		memcpy(&v, a + o, sizeof v);
		s ^= v;
	}
	return (double)(s & 1);
}
#define NALPHA 4096

struct var {
	enum feral_precision p;
	int op;
	size_t esz;
	void *rows, *x;
	feral_k_dot_fn dot;
	feral_k_axpy_fn axpy;
	double *t; /* ns per burst */
	size_t nt;
};

static void fill_rows(void *v, enum feral_precision p, size_t n, struct feral_rng *r)
{
	for (size_t k = 0; k < n; k++) {
		/* roughly Gaussian (sum of 4 uniforms), scaled to the type's range */
		double g = 0;
		for (int j = 0; j < 4; j++)
			g += feral_rng_uniform(r) - 0.5;
		g *= 1.7;
		if (p == FERAL_PRECISION_F32)
			((float *)v)[k] = (float)g;
		else if (p == FERAL_PRECISION_I16)
			((int16_t *)v)[k] = (int16_t)lrint(g / 2 * 32767);
		else
			((int8_t *)v)[k] = (int8_t)lrint(g / 2 * 127);
	}
}

/* --dots: every dense dot of table kt at d, row and model resident. */
static int all_dots(const struct feral_kernels *kt, size_t d)
{
	static const char *const PN[] = {"f32", "f64", "i16", "i8"};
	void *a = feral_aligned_alloc(d * 8), *x = feral_aligned_alloc(d * 8);
	if (!a || !x) {
		fprintf(stderr, "kbench: out of memory\n");
		return 1;
	}
	struct feral_rng r;
	feral_rng_seed(&r, 5, 0);
	int reps = (int)(65536 / d) + 8;
	volatile double sink = 0;
	printf("kbench --dots: kernels %s, d %zu, row and model in L1\n%-4s %-4s %10s\n", kt->name,
	       d, "data", "model", "ns(best)");
	for (int dp = 0; dp < FERAL_PRECISION_COUNT; dp++)
		for (int mp = 0; mp < FERAL_PRECISION_COUNT; mp++) {
			feral_k_dot_fn f = kt->dot[FERAL_LAYOUT_DENSE][dp][mp];
			if (dp == FERAL_PRECISION_F64 || !f)
				continue;
			fill_rows(a, (enum feral_precision)dp, d, &r);
			if (mp == FERAL_PRECISION_F64)
				for (size_t k = 0; k < d; k++)
					((double *)x)[k] = feral_rng_uniform(&r) - 0.5;
			else
				fill_rows(x, (enum feral_precision)mp, d, &r);
			double best = 1e30;
			for (int b = 0; b < 300; b++) {
				double s = 0, t0 = now_ns();
				for (int i = 0; i < reps; i++)
					s += f(a, NULL, x, d);
				double t = (now_ns() - t0) / reps;
				best = t < best ? t : best;
				sink += s;
			}
			printf("%-4s %-4s %10.1f\n", PN[dp], PN[mp], best);
		}
	fprintf(stderr, "%s", sink == 12345.678 ? " " : "");
	free(a);
	free(x);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 512, d = 1024, burst = 64, pfb = 0;
	int dots = 0;
	double ms = 1500;
	const char *kname = NULL;
	enum feral_rounding mode = FERAL_ROUNDING_INDEPENDENT;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--n"))
			n = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--d"))
			d = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--ms"))
			ms = strtod(argv[++i], NULL);
		else if (i + 1 < argc && !strcmp(argv[i], "--burst"))
			burst = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--pf-bytes"))
			pfb = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dots"))
			dots = 1;
		else if (i + 1 < argc && !strcmp(argv[i], "--kernel"))
			kname = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--rounding")) {
			const char *m = argv[++i];
			if (!strcmp(m, "independent") || !strcmp(m, "nearest"))
				mode = m[0] == 'i' ? FERAL_ROUNDING_INDEPENDENT : FERAL_ROUNDING_NEAREST;
			else {
				fprintf(stderr, "kbench: --rounding %s: want independent or nearest%s\n", m,
				        strcmp(m, "shared") ? ""
				                            : " (shared was removed: slower than independent "
				                              "everywhere)");
				return 2;
			}
		}
		else {
			fprintf(stderr,
			        "usage: kbench [--n N] [--d D] [--ms MS] [--burst B] [--kernel NAME]\n"
			        "              [--rounding independent|nearest] [--pf-bytes B] [--dots]\n");
			return 2;
		}
	}
	if (!n || !d || !burst) {
		fprintf(stderr, "kbench: --n, --d and --burst must be positive\n");
		return 2;
	}
	struct feral_error err = {0};
	const struct feral_kernels *kt = kname ? feral_kernels_named(kname) : feral_kernels_get(&err);
	if (!kt) {
		fprintf(stderr, "kbench: kernel set %s not available here\n", kname ? kname : "(auto)");
		return 2;
	}
	if (dots)
		return all_dots(kt, d);
	double ghz = clock_ghz();
	static const char *const MODES[] = {"independent", "shared", "nearest"};
	printf("kbench: kernels %s, n %zu x d %zu, bursts of %zu, %s rounding, prefetch %zu bytes "
	       "ahead, core clock %.2f GHz\n",
	       kt->name, n, d, burst, MODES[mode], pfb, ghz);

	struct feral_rng r;
	feral_rng_seed(&r, 2026, 0);
	double alphas[NALPHA];
	for (int k = 0; k < NALPHA; k++) {
		double m = 1e-3 * pow(30.0, feral_rng_uniform(&r));
		alphas[k] = feral_rng_uniform(&r) < 0.5 ? -m : m;
	}
	uint32_t *order = malloc(n * sizeof *order);
	for (size_t k = 0; k < n; k++)
		order[k] = (uint32_t)k;
	for (size_t k = n; k > 1; k--) {
		size_t j = (size_t)(feral_rng_uniform(&r) * (double)k);
		uint32_t t = order[k - 1];
		order[k - 1] = order[j];
		order[j] = t;
	}
	static const enum feral_precision P[] = {FERAL_PRECISION_F32, FERAL_PRECISION_I16,
	                                         FERAL_PRECISION_I8};
	enum { NV = 3 * OP_COUNT };
	struct var v[NV];
	size_t maxb = (size_t)(ms * 1e6 / NV / 1000) + 16; /* bursts >= 1 us */
	for (int pi = 0; pi < 3; pi++) {
		size_t esz = feral_precision_size(P[pi]);
		/* rows on huge pages, as datasets; the model 64-byte aligned, as
		 * feral_numa_alloc gives it (calloc's 16-byte alignment split
		 * every 64-byte load of it across two cache lines) */
		void *rows = feral_big_alloc(n * d * esz), *x = feral_aligned_alloc(d * esz);
		if (!rows || !x) {
			fprintf(stderr, "kbench: out of memory\n");
			return 1;
		}
		memset(x, 0, d * esz);
		size_t n0 = n < 4096 ? n : 4096;
		fill_rows(rows, P[pi], n0 * d, &r);
		for (size_t i = n0; i < n; i += n0)
			memcpy((char *)rows + i * d * esz, rows, (n - i < n0 ? n - i : n0) * d * esz);
		for (int op = 0; op < OP_COUNT; op++) {
			struct var *w = &v[pi * OP_COUNT + op];
			w->p = P[pi];
			w->op = op;
			w->esz = esz;
			w->rows = rows;
			w->x = x;
			w->dot = kt->dot[FERAL_LAYOUT_DENSE][P[pi]][P[pi]];
			w->axpy = kt->axpy[FERAL_LAYOUT_DENSE][P[pi]][P[pi]];
			w->t = malloc(maxb * sizeof *w->t);
			w->nt = 0;
		}
	}
	struct feral_k_rng krng;
	feral_k_rng_seed(&krng, 7, 1);
	volatile double sink = 0;
	size_t row = 0, ai = 0;
	double end = now_ns() + ms * 1e6;
	while (now_ns() < end) {
		for (int k = 0; k < NV; k++) {
			struct var *w = &v[k];
			if (w->nt == maxb)
				continue;
			size_t rb = d * w->esz, ahead = pfb ? (pfb + rb - 1) / rb : 0;
			double s = 0, t0 = now_ns();
			for (size_t b = 0; b < burst; b++) {
				const char *a = (const char *)w->rows + (size_t)order[row] * rb;
				const char *pf = (const char *)w->rows + (size_t)order[(row + ahead) % n] * rb;
				double al = alphas[ai];
				row = row + 1 == n ? 0 : row + 1;
				ai = (ai + 1) % NALPHA;
				if (ahead)
					for (size_t o = 0; o < rb / 2; o += 64)
						__builtin_prefetch(pf + o, 0, 1);
				if (w->op == OP_READ) {
					s += read_row(a, rb);
					continue;
				}
				if (w->op != OP_AXPY)
					s += w->dot(a, NULL, w->x, d);
				if (ahead)
					for (size_t o = rb / 2; o < rb; o += 64)
						__builtin_prefetch(pf + o, 0, 1);
				if (w->op != OP_DOT)
					s += (double)w->axpy(w->x, a, NULL, d, al, mode, &krng);
			}
			w->t[w->nt++] = now_ns() - t0;
			sink += s;
		}
	}
	printf("%-4s %-7s %10s %10s %9s %12s %8s\n", "P", "op", "ns(best)", "ns(median)", "cycles",
	       "per_s(best)", "vs_f32");
	double base[OP_COUNT] = {0};
	for (int k = 0; k < NV; k++) {
		struct var *w = &v[k];
		qsort(w->t, w->nt, sizeof *w->t, cmp_d);
		double best = w->t[0] / (double)burst, med = w->t[w->nt / 2] / (double)burst;
		if (w->p == FERAL_PRECISION_F32)
			base[w->op] = best;
		printf("%-4s %-7s %10.1f %10.1f %9.0f %12.0f %7.2fx\n",
		       w->p == FERAL_PRECISION_F32 ? "32" : w->p == FERAL_PRECISION_I16 ? "16" : "8",
		       OPN[w->op], best, med, best * ghz, 1e9 / best, base[w->op] / best);
	}
	/* random bits: 2^15 x 32 bytes (1 MiB) a burst, fastest of 60 */
	static const char *const GN[FERAL_K_BITS_GENS] = {
		"xorshift64 x4, 1 state", "xorshift64 x4, 2 states", "xorshift64 x4, 4 states",
		"ARS-5 (VAES), 1 vector", "ARS-5 (VAES), 4 vectors", "ARS-4 (VAES), 4 vectors",
		"ARS-7 (VAES), 4 vectors"};
	printf("\n%-26s %10s %8s\n", "generator", "ns/KiB", "B/cycle");
	for (int g = 0; g < FERAL_K_BITS_GENS; g++) {
		if (g >= 3 && !feral_k_cpu_vaes()) {
			printf("%-26s %10s %8s\n", GN[g], "-", "no VAES");
			continue;
		}
		double best = 1e30;
		uint64_t f = 0;
		for (int rep = 0; rep < 60; rep++) {
			double t0 = now_ns();
			f ^= feral_k_bits_avx2(&krng, 1u << 15, g);
			double t = now_ns() - t0;
			best = t < best ? t : best;
		}
		sink += (double)(f & 1);
		double bytes = 32.0 * (1u << 15);
		printf("%-26s %10.1f %8.2f\n", GN[g], best / bytes * 1024, bytes / (best * ghz));
	}
	fprintf(stderr, "%s", sink == 12345.678 ? " " : "");
	return 0;
}
