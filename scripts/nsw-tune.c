/* Throwaway experiment behind the NSW parameters in src/gen.c: randomized
 * Kaczmarz with partially biased sampling on the five Needell-Srebro-Ward
 * Section 6 systems, sweeping lambda = 0, 0.1, ..., 1.
 *
 * It #includes src/gen.c so that it can override the nsw_specs table from
 * the command line; with no overrides it measures exactly what feral_gen
 * produces.  Not built by make.  Build and run (after the library):
 *   make BUILD=build-gen build-gen/libferal.a
 *   cc -std=gnu11 -O2 -fopenmp -Iinclude -Isrc -DFERAL_HAVE_LAPACKE \
 *      $(pkg-config --cflags lapacke openblas) scripts/nsw-tune.c \
 *      build-gen/libferal.a $(pkg-config --libs lapacke openblas) -lm -o build-gen/nsw-tune
 *   build-gen/nsw-tune [--cases 12345] [--seeds 5] [--tol 1e-3] [--cap 1000000]
 *                      [--n 1000] [--d 50] [--step c22|c32]
 *                      [--set CASE.FIELD=VALUE ...]   (FIELD: mean std lo hi noise pow)
 *
 * Per lambda: p_i = lambda/n + (1-lambda) ||a_i||^2/||A||_F^2; the
 * reweighted SGD step on f_i = (n/2)(a_i.x - b_i)^2 (docs/math.md section 1) is
 *   x <- x + gamma (b_i - a_i.x) a_i / p_i.
 * gamma: c22 (default) is Corollary 2.2 with the weighted quantities,
 *   gamma = mu eps / (2 eps mu supL_w + 2 sigma2_w),
 *   supL_w = max_i ||a_i||^2 / p_i,  sigma2_w = sum_i r_i^2 ||a_i||^2 / p_i,
 *   mu = sigma_min(A)^2, r = A x_LS - b, eps = tol ||x_LS||^2 (x0 = 0);
 * c32 is Corollary 3.2's lambda-independent gamma = mu eps / (4 (eps mu Lbar + sigma2))
 * with the uniform sigma2 = n sum r_i^2 ||a_i||^2 and Lbar = ||A||_F^2.
 * The count is the first iteration with ||x - x_LS||^2 <= eps (cap if never). */
#include "../src/gen.c"

#include <stdio.h>

static double now_s(void)
{
	return feral_now();
}

struct run_opts {
	int seeds;
	double tol;
	uint64_t cap;
	uint64_t n, d;
	int c32;
};

/* One problem (case, seed): iterations to target for each of 11 lambdas. */
static int run_case(int kase, int seed, const struct run_opts *ro, double *iters, double *bound)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, (enum feral_gen_kind)(FERAL_GEN_NSW1 + kase - 1));
	o.n = ro->n;
	o.d = ro->d;
	o.seed = (uint64_t)seed;
	struct feral_dataset *ds;
	double *xs;
	struct feral_error e;
	if (feral_gen(&o, &ds, &xs, &e)) {
		fprintf(stderr, "gen: %s\n", e.msg);
		return -1;
	}
	uint64_t n = ds->n, d = ds->d;
	double *A = malloc(n * d * sizeof *A), *Acm = malloc(n * d * sizeof *A);
	double *bb = malloc(n * sizeof *bb), *sv = malloc(d * sizeof *sv);
	const float *vf = ds->values;
	for (uint64_t i = 0; i < n; i++)
		for (uint64_t j = 0; j < d; j++) {
			A[i * d + j] = vf[i * d + j];
			Acm[j * n + i] = vf[i * d + j];
		}
	memcpy(bb, ds->y, n * sizeof *bb);
	lapack_int rank;
	LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)d, 1, Acm, (lapack_int)n, bb,
	               (lapack_int)n, sv, -1.0, &rank);
	double mu = sv[d - 1] * sv[d - 1];
	double *xls = bb; /* first d entries */
	double *r = malloc(n * sizeof *r), *nrm = ds->row_sq_norm;
	double fro = 0, xn = 0;
	for (uint64_t i = 0; i < n; i++) {
		double t = 0;
		for (uint64_t j = 0; j < d; j++)
			t += A[i * d + j] * xls[j];
		r[i] = t - ds->y[i];
		fro += nrm[i];
	}
	for (uint64_t j = 0; j < d; j++)
		xn += xls[j] * xls[j];
	double eps = ro->tol * xn;
	double sig_u = 0;
	for (uint64_t i = 0; i < n; i++)
		sig_u += (double)n * r[i] * r[i] * nrm[i];
	double *p = malloc(n * sizeof *p), *x = malloc(d * sizeof *x);
	for (int l = 0; l <= 10; l++) {
		double lam = l / 10.0, supl = 0, sig = 0;
		for (uint64_t i = 0; i < n; i++) {
			p[i] = lam / (double)n + (1 - lam) * nrm[i] / fro;
			if (nrm[i] / p[i] > supl)
				supl = nrm[i] / p[i];
			sig += r[i] * r[i] * nrm[i] / p[i];
		}
		double gam = ro->c32 ? mu * eps / (4 * (eps * mu * fro + sig_u))
		                     : mu * eps / (2 * eps * mu * supl + 2 * sig);
		bound[l] = 2 * log(2 * xn / eps) * (supl / mu + sig / (mu * mu * eps));
		struct feral_alias al;
		feral_alias_build(&al, p, n, NULL);
		struct feral_rng rng;
		feral_rng_seed(&rng, 7777 + (uint64_t)seed * 31 + (uint64_t)l, 0);
		memset(x, 0, d * sizeof *x);
		uint64_t k;
		for (k = 1; k <= ro->cap; k++) {
			uint64_t i = feral_alias_draw(&al, feral_rng_next(&rng));
			const double *a = A + i * d;
			double t = 0;
			for (uint64_t j = 0; j < d; j++)
				t += a[j] * x[j];
			double c = gam * (ds->y[i] - t) / p[i];
			double er = 0;
			for (uint64_t j = 0; j < d; j++) {
				x[j] += c * a[j];
				double dj = x[j] - xls[j];
				er += dj * dj;
			}
			if (!(er == er)) {
				k = ro->cap + 1;
				break;
			}
			if (er <= eps)
				break;
		}
		iters[l] = (double)(k > ro->cap ? ro->cap : k);
		if (k > ro->cap)
			iters[l] = -1; /* did not reach */
		feral_alias_free(&al);
	}
	free(A);
	free(Acm);
	free(bb);
	free(sv);
	free(r);
	free(p);
	free(x);
	free(xs);
	feral_dataset_destroy(&ds);
	return 0;
}

static int set_param(const char *s)
{
	int c;
	char f[16];
	double v;
	if (sscanf(s, "%d.%15[a-z]=%lf", &c, f, &v) != 3 || c < 1 || c > 5)
		return -1;
	struct nsw_spec *p = &nsw_specs[c - 1];
	if (!strcmp(f, "mean")) p->last_mean = v;
	else if (!strcmp(f, "std")) p->last_std = v;
	else if (!strcmp(f, "lo")) p->std_lo = v;
	else if (!strcmp(f, "hi")) p->std_hi = v;
	else if (!strcmp(f, "noise")) p->noise = v;
	else if (!strcmp(f, "pow")) p->noise_pow = v;
	else return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct run_opts ro = {5, 1e-3, 1000000, 1000, 50, 0};
	const char *cases = "12345";
	for (int a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : "";
		if (!strcmp(argv[a], "--cases")) cases = v, a++;
		else if (!strcmp(argv[a], "--seeds")) ro.seeds = atoi(v), a++;
		else if (!strcmp(argv[a], "--tol")) ro.tol = atof(v), a++;
		else if (!strcmp(argv[a], "--cap")) ro.cap = strtoull(v, NULL, 10), a++;
		else if (!strcmp(argv[a], "--n")) ro.n = strtoull(v, NULL, 10), a++;
		else if (!strcmp(argv[a], "--d")) ro.d = strtoull(v, NULL, 10), a++;
		else if (!strcmp(argv[a], "--step")) ro.c32 = !strcmp(v, "c32"), a++;
		else if (!strcmp(argv[a], "--set") && !set_param(v)) a++;
		else {
			fprintf(stderr, "nsw-tune: bad argument '%s'\n", argv[a]);
			return 2;
		}
	}
	printf("n=%llu d=%llu tol=%g cap=%llu seeds=%d step=%s\n", (unsigned long long)ro.n,
	       (unsigned long long)ro.d, ro.tol, (unsigned long long)ro.cap, ro.seeds,
	       ro.c32 ? "cor3.2" : "cor2.2");
	printf("case |");
	for (int l = 0; l <= 10; l++)
		printf(" l=%.1f  ", l / 10.0);
	printf("\n");
	for (const char *c = cases; *c; c++) {
		int kase = *c - '0';
		double sum[11] = {0}, bsum[11] = {0};
		int miss[11] = {0};
		double t0 = now_s();
		for (int s = 1; s <= ro.seeds; s++) {
			double it[11], bd[11];
			if (run_case(kase, s, &ro, it, bd))
				return 1;
			for (int l = 0; l <= 10; l++) {
				if (it[l] < 0) {
					miss[l]++;
					sum[l] += (double)ro.cap;
				} else {
					sum[l] += it[l];
				}
				bsum[l] += bd[l];
			}
		}
		printf("%4d |", kase);
		for (int l = 0; l <= 10; l++)
			printf(" %7.0f%s", sum[l] / ro.seeds, miss[l] ? "+" : " ");
		printf("   (%.1fs)\n  bd |", now_s() - t0);
		for (int l = 0; l <= 10; l++)
			printf(" %7.0f ", bsum[l] / ro.seeds);
		printf("\n");
	}
	printf("(+: some seeds did not reach the target within the cap; counted as the cap)\n");
	return 0;
}
