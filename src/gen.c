/* Synthetic problems: the five systems of Needell-Srebro-Ward Section 6, a
 * dense least-squares problem with a chosen condition number and row-norm
 * spread, a sparse power-law problem, and a planted logistic problem.
 *
 * Needell-Srebro-Ward Section 6 (docs/math.md section 1).  Each case has x*
 * standard normal and b = A x* + e.  The extracted paper lost its numbers,
 * so these were tuned with scripts/nsw-tune.c (n = 1000, d = 50, target
 * ||x - x_LS||^2 <= 1e-3 ||x_LS||^2 from x0 = 0, step of Corollary 2.2 with
 * the lambda-weighted sup L and sigma^2, lambda = 0, 0.1, .., 1, 10 seeds)
 * until the paper's findings showed:
 *   nsw1  rows N(0,1), the LAST row N(50, 50^2); e ~ N(0, 0.01^2).  The last
 *         row holds ~83% of ||A||_F^2, so with uniform sampling sup L_w =
 *         n max ||a_i||^2 is ~800x the weighted one: lambda = 0 reaches the
 *         target in ~2750 iterations, the count grows monotonically with
 *         lambda (22400 at 0.9) and lambda = 1 misses even at 10^6.  The noise
 *         is tiny because the noise term of the step favours larger lambda
 *         (weighted sampling over-weights the many small rows' residuals)
 *         and at 0.1 it already blurred lambda = 0 vs 0.1.
 *   nsw2  rows N(0,1); e ~ N(0, 0.3^2).  Row norms are nearly equal, so all
 *         lambda are within 20% (1540 at 0, 1870 at 1), lambda = 0 best.
 *   nsw3..5  row i ~ N(0, s_i^2), s_i log-spaced from 1 (row 0) to 30 (row
 *         n-1), so ||a_i||^2 spans 900x; e_i ~ N(0, (noise / s_i)^2) with
 *         noise = 30, 10, 0.3 (high, medium, low).  The noise is ROW-DEPENDENT
 *         on purpose: with i.i.d. e, sigma^2_w = sum r_i^2 ||a_i||^2 / p_i is
 *         the same at lambda = 0 and 1 and no case is "very slow" at
 *         lambda = 0.  Fully weighted sampling pays sum_i r_i^2 over ||a_i||^2
 *         / ||A||_F^2, i.e. the large residuals on the small rows (its
 *         horizon grows like max r_i^2 / ||a_i||^2); uniform sampling pays
 *         n max ||a_i||^2 in sup L; an intermediate lambda bounds both.
 *         Measured: nsw3 29000 (0) / 3070 (0.5, best) / 6840 (1);
 *         nsw4 3730 (0) / 1130 (0.2, best) / 5440 (1); nsw5 634 (0, best,
 *         monotone) / 1090 (0.5) / 5290 (1).
 * The same picture holds at d = 100 and at target 1e-2.  With Corollary
 * 3.2's lambda-independent step gamma = mu eps / (4 (eps mu Lbar + sigma^2))
 * instead, the curves are flat, and in nsw1 lambda >= 0.9 never converges
 * (gamma > 2 / sup L_w): the findings need a step that follows lambda, as
 * the auto step does.  o->noise overrides the noise level (for nsw3..5 the
 * std on the smallest rows); n and d may be changed.
 *
 * GAUSSIAN: A = U diag(s) V^T, U and V Haar, s log-spaced from 1 to 1/cond
 * and scaled so that ||A||_F^2 = n d (rows of norm ~ sqrt(d)); then row i is
 * scaled by a factor log-uniform in [1, spread].  Row scaling changes the
 * singular values, so cond is exact only at spread 1; and the unscaled rows
 * already vary a little (max/min ~2 over 2000 rows at d = 50), so the
 * measured max/min row norm is about 1.5 spread.  Large problems use scaled
 * Gaussian columns instead (see gaussian_columns).  b = A x* (+ noise).
 * SPARSE: CSR, round(density d) nonzeros in every row (at least 1), columns
 * distinct and sorted, drawn from a Zipf law of exponent `power` over a
 * random ranking of the columns; values and x* standard normal.
 * LOGISTIC: rows N(0, I), w = x* ~ N(0, I/d), y = sign(a.w + noise eta) in
 * {-1, +1} (noise default 0.25).
 *
 * Determinism.  Everything is drawn from xoshiro streams of the seed:
 * stream 0 for the global draws (x*, then V or the column popularity), and
 * one stream per block of rows (streams 1..B), where the block partition
 * depends only on n.  So the output does not depend on the number of OpenMP
 * threads (GAUSSIAN's exact path also goes through OpenBLAS, whose results
 * do not depend on its thread count for QR and GEMM in practice).
 *
 * x_star is always the PLANTED solution.  When noise > 0 the system is
 * inconsistent and the least-squares solution x_LS = x* + (A^T A)^-1 A^T e
 * differs from it; the solver's tests compute x_LS with LAPACK when they
 * need it. */
#include "abi.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "lapack.h"

/* ---- the Needell-Srebro-Ward systems (tuned by scripts/nsw-tune.c) --------- */
struct nsw_spec {
	double last_mean, last_std; /* case 1: the last row's entries */
	double std_lo, std_hi;      /* cases 3-5: row i's std, log-spaced over i */
	double noise;               /* default std of e (on the smallest rows, cases 3-5) */
	double noise_pow;           /* cases 3-5: std(e_i) = noise * (std_lo / std_i)^noise_pow */
};
/* Not const so that scripts/nsw-tune.c, which #includes this file, can sweep
 * the parameters; nothing in the library writes it. */
static struct nsw_spec nsw_specs[5] = {
	/* mean  std   lo   hi    noise pow */
	{50.0, 50.0, 1.0, 1.0, 0.01, 0.0},
	{0.0, 1.0, 1.0, 1.0, 0.3, 0.0},
	{0.0, 1.0, 1.0, 30.0, 30.0, 1.0},
	{0.0, 1.0, 1.0, 30.0, 10.0, 1.0},
	{0.0, 1.0, 1.0, 30.0, 0.3, 1.0},
};

static const char *const kind_names[FERAL_GEN_COUNT] = {
	"nsw1", "nsw2", "nsw3", "nsw4", "nsw5", "gaussian", "sparse", "logistic",
};

/* GAUSSIAN builds A = U diag(s) V^T exactly while U (n x min(n,d) doubles,
 * 256 MiB here) and its QR (4 n r^2 flops, about 1.5 s on 2 cores) stay
 * small, e.g. 10^5 x 220 or 5000 x 1000; beyond that it scales Gaussian
 * columns instead (gaussian_columns). */
#ifndef GEN_EXACT_MAX_ELEMS
#define GEN_EXACT_MAX_ELEMS (32ull << 20)
#endif
#ifndef GEN_EXACT_MAX_FLOPS
#define GEN_EXACT_MAX_FLOPS 2e10
#endif

void feral_gen_options_init(struct feral_gen_options *o, enum feral_gen_kind kind)
{
	memset(o, 0, sizeof *o);
	o->struct_size = sizeof *o;
	o->kind = kind;
	switch (kind) {
	case FERAL_GEN_GAUSSIAN:
	case FERAL_GEN_LOGISTIC:
		o->n = 1000;
		o->d = 100;
		break;
	case FERAL_GEN_SPARSE:
		o->n = 10000;
		o->d = 1000;
		break;
	default: /* the paper's systems: tall and thin */
		o->n = 1000;
		o->d = 50;
		break;
	}
	o->density = 0; /* about 20 nonzeros a row for whatever d is set afterwards */
	o->cond = 10;
	o->spread = 1;
	o->noise = -1; /* the kind's default */
	o->power = 1.5;
	o->seed = 1;
}

/* The header gives this function no struct feral_error, so the caller (the
 * CLI) lists the valid names; feral_gen_kind_name enumerates them. */
enum feral_status feral_gen_kind_from_name(const char *name, enum feral_gen_kind *out)
{
	for (int k = 0; name && k < FERAL_GEN_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum feral_gen_kind)k;
			return FERAL_OK;
		}
	return FERAL_STATUS_USAGE;
}

const char *feral_gen_kind_name(enum feral_gen_kind k)
{
	return (unsigned)k < FERAL_GEN_COUNT ? kind_names[k] : "unknown";
}

/* ---- random helpers ----------------------------------------------------------- */

/* Marsaglia's polar method, both outputs used: no trigonometry, so about
 * twice as fast as Box-Muller (feral_rng_normal), which matters for 10^8
 * element matrices.  The rejections consume a variable number of draws, but
 * each block always asks for the same counts in the same order, so the
 * output is still a function of (seed, block). */
static void fill_normal(struct feral_rng *r, double *out, size_t m)
{
	size_t k = 0;
	while (k < m) {
		double u = 2.0 * feral_rng_uniform(r) - 1.0;
		double v = 2.0 * feral_rng_uniform(r) - 1.0;
		double q = u * u + v * v;
		if (q >= 1.0 || q == 0.0)
			continue;
		double f = sqrt(-2.0 * log(q) / q);
		out[k++] = u * f;
		if (k < m)
			out[k++] = v * f;
	}
}

static void fill_normal_f32(struct feral_rng *r, float *out, size_t m, double mean, double std)
{
	double buf[256];
	for (size_t k = 0; k < m; k += 256) {
		size_t c = m - k < 256 ? m - k : 256;
		fill_normal(r, buf, c);
		for (size_t j = 0; j < c; j++)
			out[k + j] = (float)(mean + std * buf[j]);
	}
}

/* Uniform integer in [0, m) from the high half of a 64x64 product (bias
 * below 2^-32 for any m < 2^32). */
static uint64_t uniform_below(struct feral_rng *r, uint64_t m)
{
	return (uint64_t)(((unsigned __int128)feral_rng_next(r) * m) >> 64);
}

/* Row blocks: at most 256 whatever n is, so that seeding stream b (b jumps
 * of xoshiro) stays cheap, and the partition depends only on n. */
struct gen_blocks {
	uint64_t rows; /* rows per block */
	uint64_t count;
};
static struct gen_blocks gen_blocks_of(uint64_t n)
{
	struct gen_blocks b;
	b.rows = (n + 255) / 256;
	if (b.rows < 16)
		b.rows = 16;
	b.count = (n + b.rows - 1) / b.rows;
	return b;
}

/* b_i = a_i . x* in double from the STORED floats, so that a noiseless
 * system is consistent up to double rounding, not float rounding. */
static double dot_f32(const float *a, const double *x, uint64_t d)
{
	double s = 0;
	for (uint64_t j = 0; j < d; j++)
		s += (double)a[j] * x[j];
	return s;
}

static int max_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

static int thread_num(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

/* ---- validation -------------------------------------------------------------- */

/* Nonzeros in every SPARSE row: round(density d), at least 1.  density 0
 * means "about 20 a row" for whatever d the caller set. */
static uint64_t sparse_row_nnz(const struct feral_gen_options *o)
{
	double dens = o->density > 0 ? o->density : 20.0 / (double)o->d;
	double k = round(dens * (double)o->d);
	if (k < 1)
		k = 1;
	if (k > (double)o->d)
		k = (double)o->d;
	return (uint64_t)k;
}

static enum feral_status gen_validate(const struct feral_gen_options *o, struct feral_error *err)
{
#define BAD(...) feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, __VA_ARGS__)
	if (feral_check_struct_size(err, "feral_gen_options", "feral_gen_options_init",
	                            o->struct_size, sizeof *o))
		return FERAL_STATUS_USAGE;
	if ((unsigned)o->kind >= FERAL_GEN_COUNT)
		return BAD("generator kind %d: must be one of nsw1, nsw2, nsw3, nsw4, nsw5, "
		           "gaussian, sparse, logistic", (int)o->kind);
	if (o->n < 1)
		return BAD("generator n = %llu: must be at least 1", (unsigned long long)o->n);
	if (o->d < 1)
		return BAD("generator d = %llu: must be at least 1", (unsigned long long)o->d);
	if (o->d > UINT32_MAX)
		return BAD("generator d = %llu: at most 2^32-1 columns", (unsigned long long)o->d);
	if (!(o->density >= 0 && o->density <= 1))
		return BAD("generator density = %g: must be in (0, 1] (0: about 20 a row)",
		           o->density);
	if (!(o->cond >= 1) || !isfinite(o->cond))
		return BAD("generator cond = %g: must be finite and >= 1", o->cond);
	if (!(o->spread >= 1) || !isfinite(o->spread))
		return BAD("generator spread = %g: must be finite and >= 1", o->spread);
	if (!(o->power >= 0) || !isfinite(o->power))
		return BAD("generator power = %g: must be finite and >= 0", o->power);
	if (!isfinite(o->noise))
		return BAD("generator noise = %g: must be finite (< 0: the kind's default)",
		           o->noise);
	/* 2^40 elements (4 TiB of f32 plus indices) is far past any machine, and
	 * keeps every size product below in range. */
	uint64_t elems;
	uint64_t per_row = o->kind == FERAL_GEN_SPARSE ? sparse_row_nnz(o) : o->d;
	if (!feral_mul_ok(o->n, per_row, &elems) || elems > (1ull << 40))
		return BAD("generator n = %llu x %s = %llu: too large", (unsigned long long)o->n,
		           o->kind == FERAL_GEN_SPARSE ? "nonzeros a row" : "d",
		           (unsigned long long)per_row);
	return FERAL_OK;
#undef BAD
}

static double default_noise(enum feral_gen_kind k)
{
	switch (k) {
	case FERAL_GEN_NSW1:
	case FERAL_GEN_NSW2:
	case FERAL_GEN_NSW3:
	case FERAL_GEN_NSW4:
	case FERAL_GEN_NSW5:
		return nsw_specs[k - FERAL_GEN_NSW1].noise;
	case FERAL_GEN_LOGISTIC:
		return 0.25; /* ~8% of labels flipped: not separable once n >> d */
	default:
		return 0; /* GAUSSIAN and SPARSE are consistent unless asked */
	}
}

/* ---- dense kinds: NSW, LOGISTIC, GAUSSIAN by scaled columns --------------------- */

struct dense_ctx {
	const struct feral_gen_options *o;
	double noise;
	const double *x;     /* planted x* (or w) */
	const double *colsc; /* GAUSSIAN by columns: column scales, else NULL */
	float *A;
	double *y;
};

/* Row i's entry distribution and noise std for the NSW cases. */
static void nsw_row(const struct dense_ctx *c, uint64_t i, double *mean, double *std,
                    double *estd)
{
	const struct nsw_spec *s = &nsw_specs[c->o->kind - FERAL_GEN_NSW1];
	uint64_t n = c->o->n;
	*mean = 0;
	*std = 1;
	*estd = c->noise;
	switch (c->o->kind) {
	case FERAL_GEN_NSW1:
		if (i == n - 1) {
			*mean = s->last_mean;
			*std = s->last_std;
		}
		break;
	case FERAL_GEN_NSW3:
	case FERAL_GEN_NSW4:
	case FERAL_GEN_NSW5: {
		double t = n > 1 ? (double)i / (double)(n - 1) : 0;
		*std = s->std_lo * pow(s->std_hi / s->std_lo, t);
		*estd = c->noise * pow(s->std_lo / *std, s->noise_pow);
		break;
	}
	default:
		break;
	}
}

static void dense_block(const struct dense_ctx *c, uint64_t i0, uint64_t i1, struct feral_rng *r)
{
	uint64_t d = c->o->d;
	enum feral_gen_kind kind = c->o->kind;
	for (uint64_t i = i0; i < i1; i++) {
		float *a = c->A + i * d;
		double mean = 0, std = 1, estd = c->noise;
		if (kind <= FERAL_GEN_NSW5)
			nsw_row(c, i, &mean, &std, &estd);
		fill_normal_f32(r, a, d, mean, std);
		if (kind == FERAL_GEN_GAUSSIAN) {
			double f = c->o->spread > 1 ? exp(feral_rng_uniform(r) * log(c->o->spread)) : 1;
			for (uint64_t j = 0; j < d; j++)
				a[j] = (float)(a[j] * c->colsc[j] * f);
		}
		double e = estd * feral_rng_normal(r);
		double t = dot_f32(a, c->x, d);
		if (kind == FERAL_GEN_LOGISTIC)
			c->y[i] = t + e >= 0 ? 1.0 : -1.0;
		else
			c->y[i] = t + e;
	}
}

static void dense_rows(const struct dense_ctx *c)
{
	struct gen_blocks bl = gen_blocks_of(c->o->n);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic)
#endif
	for (uint64_t b = 0; b < bl.count; b++) {
		struct feral_rng r;
		feral_rng_seed(&r, c->o->seed, b + 1);
		uint64_t i0 = b * bl.rows;
		uint64_t i1 = i0 + bl.rows < c->o->n ? i0 + bl.rows : c->o->n;
		dense_block(c, i0, i1, &r);
	}
}

/* ---- GAUSSIAN ------------------------------------------------------------------- */

/* r singular values log-spaced from 1 down to 1/cond, scaled so that their
 * squares sum to n d: an average row then has norm sqrt(d) before the
 * spread. */
static void gaussian_sv(const struct feral_gen_options *o, uint64_t r, double *s)
{
	double ss = 0;
	for (uint64_t k = 0; k < r; k++) {
		s[k] = r > 1 ? pow(o->cond, -(double)k / (double)(r - 1)) : 1.0;
		ss += s[k] * s[k];
	}
	double f = sqrt((double)o->n * (double)o->d / ss);
	for (uint64_t k = 0; k < r; k++)
		s[k] *= f;
}

#ifdef FERAL_HAVE_LAPACKE
static bool gaussian_exact_fits(const struct feral_gen_options *o)
{
	double n = (double)o->n, r = (double)(o->n < o->d ? o->n : o->d);
	return n * r <= (double)GEN_EXACT_MAX_ELEMS && 4 * n * r * r <= GEN_EXACT_MAX_FLOPS &&
	       o->n <= INT32_MAX && o->d <= INT32_MAX && feral_lapack();
}

/* A = U diag(s) V^T, U (n x r) and V (d x r) the Q factors of Gaussian
 * matrices, so Haar distributed; r = min(n, d).  g continues stream 0 after
 * x*.  Then row i is scaled by f_i, log-uniform in [1, spread]; that changes
 * the singular values (by up to the factor spread), so cond is exact only
 * for spread = 1. */
static enum feral_status gaussian_exact(const struct feral_gen_options *o, double noise,
                                        const double *x, struct feral_rng *g,
                                        struct feral_dataset *ds, struct feral_error *err)
{
	uint64_t n = o->n, d = o->d, r = n < d ? n : d;
	struct gen_blocks bl = gen_blocks_of(n);
	double *U = malloc(n * r * sizeof *U); /* column-major, ld n */
	double *V = malloc(d * r * sizeof *V); /* column-major, ld d */
	double *tau = malloc(r * sizeof *tau);
	double *s = malloc(r * sizeof *s);
	double *f = malloc(n * sizeof *f);   /* row spread factors */
	double *eta = malloc(n * sizeof *eta); /* noise draws */
	double *buf = malloc(bl.rows * d * sizeof *buf);
	double *tmp = malloc(r * sizeof *tmp);
	enum feral_status st = FERAL_OK;
	if (!U || !V || !tau || !s || !f || !eta || !buf || !tmp) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                "gaussian generator: no memory for a %llu x %llu factor",
		                (unsigned long long)n, (unsigned long long)r);
		goto out;
	}
	for (uint64_t j = 0; j < d; j++) {
		fill_normal(g, tmp, r);
		for (uint64_t k = 0; k < r; k++)
			V[k * d + j] = tmp[k];
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic)
#endif
	for (uint64_t b = 0; b < bl.count; b++) {
		struct feral_rng rr;
		feral_rng_seed(&rr, o->seed, b + 1);
		uint64_t i0 = b * bl.rows, i1 = i0 + bl.rows < n ? i0 + bl.rows : n;
		double row[256];
		for (uint64_t i = i0; i < i1; i++) {
			for (uint64_t k0 = 0; k0 < r; k0 += 256) {
				uint64_t m = r - k0 < 256 ? r - k0 : 256;
				fill_normal(&rr, row, m);
				for (uint64_t k = 0; k < m; k++)
					U[(k0 + k) * n + i] = row[k];
			}
			f[i] = o->spread > 1 ? exp(feral_rng_uniform(&rr) * log(o->spread)) : 1;
			eta[i] = feral_rng_normal(&rr);
		}
	}
	const struct feral_lapack *lp = feral_lapack(); /* non-NULL: gaussian_exact_fits */
	lapack_int info = lp->dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)r, U,
	                             (lapack_int)n, tau);
	if (!info)
		info = lp->dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)r, (lapack_int)r, U,
		                  (lapack_int)n, tau);
	if (!info)
		info = lp->dgeqrf(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)r, V, (lapack_int)d,
		                  tau);
	if (!info)
		info = lp->dorgqr(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)r, (lapack_int)r, V,
		                  (lapack_int)d, tau);
	if (info) {
		st = feral_fail(err, FERAL_STATUS_INTERNAL, NULL, 0,
		                "gaussian generator: LAPACK QR failed (info %d)", (int)info);
		goto out;
	}
	/* The column-major d x r V is the row-major r x d V^T: scale its rows by s. */
	gaussian_sv(o, r, s);
	for (uint64_t k = 0; k < r; k++)
		for (uint64_t j = 0; j < d; j++)
			V[k * d + j] *= s[k];
	float *A = ds->values;
	for (uint64_t i0 = 0; i0 < n; i0 += bl.rows) {
		uint64_t m = n - i0 < bl.rows ? n - i0 : bl.rows;
		/* rows i0.. of the column-major U are columns of the row-major U^T */
		lp->dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)r, 1.0, U + i0,
		          (int)n, V, (int)d, 0.0, buf, (int)d);
		for (uint64_t i = 0; i < m; i++) {
			float *a = A + (i0 + i) * d;
			for (uint64_t j = 0; j < d; j++)
				a[j] = (float)(buf[i * d + j] * f[i0 + i]);
			ds->y[i0 + i] = dot_f32(a, x, d) + noise * eta[i0 + i];
		}
	}
out:
	free(U);
	free(V);
	free(tau);
	free(s);
	free(f);
	free(eta);
	free(buf);
	free(tmp);
	return st;
}
#endif

/* Too large for the exact construction (or no LAPACK): A = G diag(s) / sqrt(n)
 * with G Gaussian.  For n >> d, G/sqrt(n) is nearly orthonormal, so the
 * singular values are s_j (1 +- sqrt(d/n)) and cond holds within a factor
 * (1 + sqrt(d/n)) / (1 - sqrt(d/n)) (1.12 for n = 300000, d = 1024); the
 * singular vectors are then the coordinate axes.  For n < 4d the condition
 * number is only loosely related to cond. */
static enum feral_status gaussian_columns(const struct feral_gen_options *o, double noise,
                                          const double *x, struct feral_dataset *ds,
                                          struct feral_error *err)
{
	double *s = malloc(o->d * sizeof *s);
	if (!s)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "gaussian generator");
	gaussian_sv(o, o->d, s);
	for (uint64_t j = 0; j < o->d; j++)
		s[j] /= sqrt((double)o->n);
	struct dense_ctx c = {o, noise, x, s, ds->values, ds->y};
	dense_rows(&c);
	free(s);
	return FERAL_OK;
}

/* ---- SPARSE ---------------------------------------------------------------------- */

struct sparse_ctx {
	const struct feral_gen_options *o;
	uint64_t k; /* nonzeros a row */
	struct feral_alias alias;
	const double *x;
	double noise;
	struct feral_dataset *ds;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void sort_u32(uint32_t *v, uint64_t m)
{
	if (m > 32) {
		qsort(v, m, sizeof *v, cmp_u32);
		return;
	}
	for (uint64_t a = 1; a < m; a++) {
		uint32_t t = v[a];
		uint64_t b = a;
		for (; b > 0 && v[b - 1] > t; b--)
			v[b] = v[b - 1];
		v[b] = t;
	}
}

/* The columns taken in the current row: open addressing over 2^bits >= 2k
 * slots, cleared per row, so memory and work are O(k) even when d is 10^9.
 * Empty slots hold UINT32_MAX, never a column (d <= 2^32 - 1). */
struct colset {
	uint32_t *slot;
	uint64_t mask;
	int shift;
};

static bool colset_init(struct colset *s, uint64_t k)
{
	int bits = 4;
	while ((1ull << bits) < 2 * k)
		bits++;
	s->mask = (1ull << bits) - 1;
	s->shift = 64 - bits;
	s->slot = malloc((s->mask + 1) * sizeof *s->slot);
	return s->slot != NULL;
}

static void colset_clear(struct colset *s)
{
	memset(s->slot, 0xff, (s->mask + 1) * sizeof *s->slot);
}

/* true when j was not there yet (and is now) */
static bool colset_add(struct colset *s, uint32_t j)
{
	uint64_t h = ((uint64_t)j * 0x9e3779b97f4a7c15ull) >> s->shift;
	for (;; h = (h + 1) & s->mask) {
		if (s->slot[h] == j)
			return false;
		if (s->slot[h] == UINT32_MAX) {
			s->slot[h] = j;
			return true;
		}
	}
}

/* Columns of one row: k distinct draws from the power law.  Drawing without
 * replacement from a skewed law can take unbounded time (power 8 puts nearly
 * all mass on a few columns), so after 4k + 64 draws the rest of the row is
 * filled uniformly among the columns not yet taken: by rejection while at
 * least half of them are free, else by a partial Fisher-Yates over the free
 * ones (then d < 2k, so `pool` of 2k entries holds them). */
static void sparse_row_columns(const struct sparse_ctx *c, struct feral_rng *r,
                               struct colset *set, uint32_t *pool, uint32_t *cols)
{
	uint64_t k = c->k, d = c->o->d, got = 0;
	colset_clear(set);
	for (uint64_t draws = 0; got < k && draws < 4 * k + 64; draws++) {
		uint32_t j = (uint32_t)feral_alias_draw(&c->alias, feral_rng_next(r));
		if (colset_add(set, j))
			cols[got++] = j;
	}
	if (got < k && 2 * k <= d) {
		while (got < k) {
			uint32_t j = (uint32_t)uniform_below(r, d);
			if (colset_add(set, j))
				cols[got++] = j;
		}
	} else if (got < k) {
		uint64_t m = 0;
		for (uint64_t j = 0; j < d; j++)
			if (colset_add(set, (uint32_t)j))
				pool[m++] = (uint32_t)j;
		for (uint64_t t = 0; got < k; t++) {
			uint64_t u = t + uniform_below(r, m - t);
			uint32_t tmp = pool[t];
			pool[t] = pool[u];
			pool[u] = tmp;
			cols[got++] = pool[t];
		}
	}
	sort_u32(cols, k);
}

static enum feral_status sparse_gen(const struct feral_gen_options *o, double noise,
                                    const double *x, struct feral_rng *g,
                                    struct feral_dataset *ds, struct feral_error *err)
{
	uint64_t n = o->n, d = o->d;
	struct sparse_ctx c = {o, sparse_row_nnz(o), {0}, x, noise, ds};
	/* Column popularity: the column of rank q gets weight (q+1)^-power; the
	 * ranks are a random permutation so that popular columns are spread over
	 * the model (as in real data), not packed into its first cache lines. */
	double *w = malloc(d * sizeof *w);
	uint32_t *perm = malloc(d * sizeof *perm);
	if (!w || !perm) {
		free(w);
		free(perm);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "sparse generator: d = %llu",
		                  (unsigned long long)d);
	}
	for (uint64_t j = 0; j < d; j++)
		perm[j] = (uint32_t)j;
	for (uint64_t j = d - 1; j > 0; j--) {
		uint64_t u = uniform_below(g, j + 1);
		uint32_t t = perm[j];
		perm[j] = perm[u];
		perm[u] = t;
	}
	for (uint64_t q = 0; q < d; q++)
		w[perm[q]] = pow((double)(q + 1), -o->power);
	free(perm);
	enum feral_status st = feral_alias_build(&c.alias, w, d, err);
	free(w);
	if (st)
		return st;

	/* per-thread scratch, indexed by omp_get_thread_num() */
	int nt = max_threads();
	struct colset *sets = calloc((size_t)nt, sizeof *sets);
	uint32_t **pools = calloc((size_t)nt, sizeof *pools);
	bool ok = sets && pools;
	for (int t = 0; ok && t < nt; t++) {
		pools[t] = malloc(2 * c.k * sizeof **pools);
		ok = colset_init(&sets[t], c.k) && pools[t];
	}
	if (ok) {
		for (uint64_t i = 0; i <= n; i++)
			ds->indptr[i] = i * c.k;
		struct gen_blocks bl = gen_blocks_of(n);
		float *vals = ds->values;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic)
#endif
		for (uint64_t b = 0; b < bl.count; b++) {
			int t = thread_num();
			struct feral_rng r;
			feral_rng_seed(&r, o->seed, b + 1);
			uint64_t i0 = b * bl.rows, i1 = i0 + bl.rows < n ? i0 + bl.rows : n;
			for (uint64_t i = i0; i < i1; i++) {
				uint32_t *cols = ds->indices + i * c.k;
				float *v = vals + i * c.k;
				sparse_row_columns(&c, &r, &sets[t], pools[t], cols);
				fill_normal_f32(&r, v, c.k, 0, 1);
				double s = 0;
				for (uint64_t q = 0; q < c.k; q++)
					s += (double)v[q] * x[cols[q]];
				ds->y[i] = s + noise * feral_rng_normal(&r);
			}
		}
	} else {
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0,
		                "sparse generator: scratch for %d threads, %llu nonzeros a row", nt,
		                (unsigned long long)c.k);
	}
	for (int t = 0; t < nt; t++) {
		if (sets)
			free(sets[t].slot);
		if (pools)
			free(pools[t]);
	}
	free(sets);
	free(pools);
	feral_alias_free(&c.alias);
	return st;
}

/* ---- entry point ----------------------------------------------------------------- */

enum feral_status feral_gen(const struct feral_gen_options *o, struct feral_dataset **out,
                            double **x_star, struct feral_error *err)
{
	if (out)
		*out = NULL;
	if (x_star)
		*x_star = NULL;
	if (!o || !out)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "feral_gen: options and output must not be NULL");
	enum feral_status st = gen_validate(o, err);
	if (st)
		return st;
	uint64_t n = o->n, d = o->d;
	double noise = o->noise >= 0 ? o->noise : default_noise(o->kind);

	double *x = malloc(d * sizeof *x);
	if (!x)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "generator: x* of %llu",
		                  (unsigned long long)d);
	struct feral_rng g;
	feral_rng_seed(&g, o->seed, 0);
	fill_normal(&g, x, d);
	/* LOGISTIC: w ~ N(0, I/d) keeps the margin a.w ~ N(0, 1) at any d, so
	 * the default noise means the same label-flip rate everywhere. */
	if (o->kind == FERAL_GEN_LOGISTIC)
		for (uint64_t j = 0; j < d; j++)
			x[j] /= sqrt((double)d);

	struct feral_dataset *ds = NULL;
	if (o->kind == FERAL_GEN_SPARSE) {
		uint64_t k = sparse_row_nnz(o);
		st = feral_dataset_create(n, d, n * k, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds,
		                          err);
		if (!st)
			st = sparse_gen(o, noise, x, &g, ds, err);
	} else {
		st = feral_dataset_create(n, d, 0, FERAL_LAYOUT_DENSE, FERAL_PRECISION_F32, &ds,
		                          err);
		if (!st && o->kind == FERAL_GEN_GAUSSIAN) {
#ifdef FERAL_HAVE_LAPACKE
			if (gaussian_exact_fits(o))
				st = gaussian_exact(o, noise, x, &g, ds, err);
			else
#endif
				st = gaussian_columns(o, noise, x, ds, err);
		} else if (!st) {
			struct dense_ctx c = {o, noise, x, NULL, ds->values, ds->y};
			dense_rows(&c);
		}
	}
	if (st) {
		feral_dataset_destroy(&ds);
		free(x);
		return st;
	}
	feral_dataset_update_norms(ds);
	*out = ds;
	if (x_star)
		*x_star = x;
	else
		free(x);
	return FERAL_OK;
}
