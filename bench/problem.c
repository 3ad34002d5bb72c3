/* bench: the problem.  A synthetic one is generated once and cached in the
 * cache directory (with its x* and its quantized copies); a data file is
 * loaded.  x*: the generator's (exact for a consistent least-squares
 * system), LAPACK's (feral_lstsq) for a noisy one small enough, a file's,
 * or none.
 *
 * The default size (no --n).  d = 256 unless --d.  n is the smallest power
 * of two (>= 1024) that makes the lowest-precision copy (1 byte a value, 5
 * a nonzero when sparse) at least 4x the last-level cache hwloc reports, so
 * every precision streams from memory on ordinary servers; then n is halved
 * while the f32 copy exceeds the cap
 *     min(time cap, MemAvailable / 8),
 *     time cap = 128 MiB x physical cores, at least 256 MiB, at most 1 GiB.
 * The time cap keeps a first run (generation, caching and one quantized
 * copy included) inside the bench's 30 s: on a 2-core VM, generating and
 * caching 256 MiB took 2.3 s idle and 6.8 s under a load of 10, quantizing
 * and caching it 2.2 s and 4.3 s (512 MiB took 16 s and 11 s under load,
 * 39 s in all: too much).  Generation and quantization are parallel, so
 * the cap grows with the cores; caching (a single-threaded write and hash)
 * does not, hence the 1 GiB ceiling.  A reported LLC that is not a real one (a
 * hypervisor's per-core share of the host's, or 3D V-Cache) thus never asks
 * for gigabytes.  The memory cap leaves room for the f32 copy, a quantized
 * one and the generator's work space.  --n and --d mean exactly that. */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the time cap: generation and quantization run on every core, caching
 * does not: 128 MiB a core, between 256 MiB and 1 GiB */
#define BENCH_TIME_CAP_PER_CORE (128ull << 20)
#define BENCH_TIME_CAP_MIN (256ull << 20)
#define BENCH_TIME_CAP_MAX (1ull << 30)
#define BENCH_MIN_N 1024

static const char *prog = BENCH_PROG;

static const char *const xstar_names[] = {"none", "exact", "lapack", "planted", "file"};

const char *xstar_name(enum xstar_kind k)
{
	return xstar_names[k];
}

/* ---- progress: one line on stderr while a phase runs (terminals only) -------- */

struct ticker {
	int on;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	double t0;
	char what[256];
};

static void *ticker_main(void *arg)
{
	struct ticker *t = arg;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		fprintf(stderr, "\r%s: %s ... %.1f s ", prog, t->what, now_s() - t->t0);
		fflush(stderr);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Nothing when stderr is not a terminal (pipes, files, CI logs). */
static void ticker_start(struct ticker *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ticker_start(struct ticker *t, const char *fmt, ...)
{
	memset(t, 0, sizeof *t);
	if (!isatty(STDERR_FILENO) || getenv("CI"))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->what, sizeof t->what, fmt, ap);
	va_end(ap);
	t->t0 = now_s();
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->on = pthread_create(&t->th, NULL, ticker_main, t) == 0;
	if (!t->on) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
	}
}

static void ticker_stop(struct ticker *t)
{
	if (!t->on)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	fputs("\r\033[K", stderr); /* the lines that follow say what was done */
	fflush(stderr);
	t->on = 0;
}

/* ---- size ------------------------------------------------------------------ */

void problem_plan(const struct opts *o, const struct machine *m, struct problem_plan *p)
{
	memset(p, 0, sizeof *p);
	int sparse = o->problem == PROB_LS && o->density < 1;
	p->d = o->d ? o->d : BENCH_DEFAULT_D;
	double nnz_row = sparse ? fmax(1.0, o->density * (double)p->d) : (double)p->d;
	double low_row = sparse ? 5.0 * nnz_row : nnz_row;         /* 8-bit values (+ index) */
	double f32_row = sparse ? 8.0 * nnz_row + 8.0 : 4.0 * nnz_row; /* f32 values (+ index) */
	p->want_bytes = 4 * m->llc;
	uint64_t mem_cap = m->mem_available / 8;
	uint64_t time_cap = BENCH_TIME_CAP_PER_CORE * (uint64_t)(m->cores > 0 ? m->cores : 1);
	time_cap = time_cap < BENCH_TIME_CAP_MIN   ? BENCH_TIME_CAP_MIN
	           : time_cap > BENCH_TIME_CAP_MAX ? BENCH_TIME_CAP_MAX
	                                           : time_cap;
	p->cap_bytes = mem_cap < time_cap ? mem_cap : time_cap;
	if (o->problem == PROB_FILE) {
		p->n = p->d = 0; /* the file's */
		p->limit = "file";
	} else if (o->n) {
		p->n = o->n;
		p->limit = "given";
	} else {
		p->sized = 1;
		p->limit = "llc";
		uint64_t n = BENCH_MIN_N;
		while ((double)n * low_row < (double)p->want_bytes)
			n *= 2;
		while (n > BENCH_MIN_N && (double)n * f32_row > (double)p->cap_bytes) {
			n /= 2;
			p->limit = mem_cap < time_cap ? "memory" : "time";
		}
		p->n = n;
	}
	p->f32_bytes = (uint64_t)((double)p->n * f32_row);
}

/* ---- build ------------------------------------------------------------------ */

/* LAPACK's x* (feral_lstsq) for a least-squares problem up to max_elems. */
static double *lapack_xstar(const struct feral_dataset *ds, double max_elems, double *seconds)
{
	double *x = malloc(ds->d * sizeof *x), t = now_s();
	struct feral_error err = {0};
	if (x && feral_lstsq(ds, x, (uint64_t)max_elems, &err) == FERAL_OK) {
		*seconds = now_s() - t;
		return x;
	}
	free(x);
	return NULL;
}

static int load_file_problem(const struct opts *o, struct problem_data *pd)
{
	struct feral_error err = {0};
	enum feral_status st;
	struct feral_load_options lo;
	struct ticker tk;
	feral_load_options_init(&lo);
	double t = now_s();
	ticker_start(&tk, "loading %s", o->path);
	st = feral_dataset_load(o->path, &lo, &pd->ds, &err);
	if (!st && o->b_path)
		st = feral_dataset_load_targets(pd->ds, o->b_path, &err);
	ticker_stop(&tk);
	if (st)
		return cli_report(prog, st, &err);
	pd->gen_seconds = now_s() - t;
	const char *base = strrchr(o->path, '/');
	snprintf(pd->name, sizeof pd->name, "%s", base ? base + 1 : o->path);
	if (o->xstar_path) {
		uint64_t len = 0;
		st = feral_vector_load(o->xstar_path, &pd->x_star, &len, &err);
		if (st)
			return cli_report(prog, st, &err);
		if (len != pd->ds->d) {
			fprintf(stderr, "%s: %s: x* has %llu entries, expected %llu\n", prog,
			        o->xstar_path, (unsigned long long)len, (unsigned long long)pd->ds->d);
			return 2;
		}
		pd->xs = XS_FILE;
	} else if (o->s.cfg.loss == FERAL_LOSS_LS &&
	           (double)pd->ds->n * (double)pd->ds->d <= BENCH_DGELS_MAX_XSTAR &&
	           (pd->x_star = lapack_xstar(pd->ds, BENCH_DGELS_MAX_XSTAR, &pd->dgels_seconds))) {
		pd->xs = XS_LAPACK;
	}
	return 0;
}

int build_problem(const struct opts *o, const struct machine *m, struct problem_data *pd)
{
	struct feral_error err = {0};
	enum feral_status st;
	memset(pd, 0, sizeof *pd);
	pd->dgels_seconds = NAN;
	if (o->problem == PROB_FILE)
		return load_file_problem(o, pd);
	/* synthetic */
	enum feral_gen_kind kind = o->problem == PROB_LS
	                                   ? (o->density < 1 ? FERAL_GEN_SPARSE : FERAL_GEN_GAUSSIAN)
	                                   : FERAL_GEN_LOGISTIC;
	if (o->problem != PROB_LS && o->density < 1) {
		fprintf(stderr, "%s: --density < 1 is for --problem ls (the generator's logistic kind "
		                "is dense): unsupported\n",
		        prog);
		return 2;
	}
	struct problem_plan plan;
	problem_plan(o, m, &plan);
	struct feral_gen_options g;
	feral_gen_options_init(&g, kind);
	g.seed = o->data_seed;
	g.d = plan.d;
	g.n = plan.n;
	if (kind == FERAL_GEN_SPARSE)
		g.density = o->density;
	if (kind == FERAL_GEN_GAUSSIAN && o->cond > 0)
		g.cond = o->cond;
	if (o->noise >= 0)
		g.noise = o->noise;
	snprintf(pd->name, sizeof pd->name, "%s",
	         o->problem == PROB_LS ? (kind == FERAL_GEN_SPARSE ? "ls-sparse" : "ls")
	         : o->problem == PROB_SVM ? "svm"
	                                  : "logistic");
	char base[3800], extra[128] = "";
	size_t el = 0;
	if (kind == FERAL_GEN_SPARSE)
		el += (size_t)snprintf(extra + el, sizeof extra - el, "-p%g", g.density);
	if (kind == FERAL_GEN_GAUSSIAN && o->cond > 0)
		el += (size_t)snprintf(extra + el, sizeof extra - el, "-c%g", o->cond);
	if (o->noise >= 0)
		el += (size_t)snprintf(extra + el, sizeof extra - el, "-e%g", o->noise);
	snprintf(base, sizeof base, "%s/%s-%llux%llu%s-s%llu", o->cache_dir,
	         kind == FERAL_GEN_SPARSE ? "sparse" : kind == FERAL_GEN_LOGISTIC ? "logistic" : "ls",
	         (unsigned long long)g.n, (unsigned long long)g.d, extra,
	         (unsigned long long)g.seed);
	char xpath[4200];
	snprintf(pd->cache_path, sizeof pd->cache_path, "%s.feral", base);
	snprintf(xpath, sizeof xpath, "%s.xstar.npy", base);
	double t = now_s();
	struct ticker tk;
	if (access(pd->cache_path, R_OK) == 0 && access(xpath, R_OK) == 0) {
		struct feral_load_options lo;
		feral_load_options_init(&lo);
		uint64_t len = 0;
		ticker_start(&tk, "loading %s", pd->cache_path);
		if (feral_dataset_load(pd->cache_path, &lo, &pd->ds, &err) == FERAL_OK &&
		    feral_vector_load(xpath, &pd->x_star, &len, &err) == FERAL_OK &&
		    len == pd->ds->d && pd->ds->n == g.n) {
			pd->cached = 1;
		} else {
			feral_dataset_destroy(&pd->ds);
			free(pd->x_star);
			pd->x_star = NULL;
		}
		ticker_stop(&tk);
		if (!pd->cached)
			fprintf(stderr, "%s: note: cache %s unreadable (%s): regenerating\n", prog,
			        pd->cache_path, err.msg);
	}
	if (!pd->cached) {
		fprintf(stderr, "%s: generating %s %llu x %llu%s (cached in %s)\n", prog, pd->name,
		        (unsigned long long)g.n, (unsigned long long)g.d,
		        kind == FERAL_GEN_SPARSE ? " sparse" : "", o->cache_dir);
		ticker_start(&tk, "generating %s %llu x %llu (%.0f MiB)", pd->name,
		             (unsigned long long)g.n, (unsigned long long)g.d,
		             (double)plan.f32_bytes / 1048576.0);
		st = feral_gen(&g, &pd->ds, &pd->x_star, &err);
		ticker_stop(&tk);
		if (st)
			return cli_report(prog, st, &err);
		ticker_start(&tk, "caching %s", pd->cache_path);
		int saved = make_dirs(o->cache_dir) == 0 &&
		            feral_dataset_save(pd->ds, pd->cache_path, &err) == FERAL_OK &&
		            feral_vector_save(xpath, pd->x_star, pd->ds->d, &err) == FERAL_OK;
		int saved_errno = errno;
		ticker_stop(&tk);
		if (!saved)
			fprintf(stderr, "%s: note: could not cache the problem in %s: %s\n", prog,
			        o->cache_dir, err.msg[0] ? err.msg : strerror(saved_errno));
	}
	pd->gen_seconds = now_s() - t;
	/* which x*: the generator's is exact for a consistent least-squares system */
	double noise = o->noise >= 0 ? o->noise : 0;
	if (o->problem != PROB_LS) {
		pd->xs = XS_PLANTED; /* not the minimiser of the loss: not used for the horizon */
	} else if (noise == 0) {
		pd->xs = XS_EXACT;
	} else if ((double)pd->ds->n * (double)pd->ds->d <= BENCH_DGELS_MAX_XSTAR) {
		char lpath[4200];
		snprintf(lpath, sizeof lpath, "%s.xls.npy", base);
		uint64_t len = 0;
		double *xl = NULL;
		if (access(lpath, R_OK) == 0 && feral_vector_load(lpath, &xl, &len, &err) == FERAL_OK &&
		    len == pd->ds->d) {
			free(pd->x_star);
			pd->x_star = xl;
			pd->xs = XS_LAPACK;
		} else {
			free(xl);
			xl = lapack_xstar(pd->ds, BENCH_DGELS_MAX_XSTAR, &pd->dgels_seconds);
			if (xl) {
				free(pd->x_star);
				pd->x_star = xl;
				pd->xs = XS_LAPACK;
				feral_vector_save(lpath, xl, pd->ds->d, &err);
			} else {
				pd->xs = XS_PLANTED;
			}
		}
	} else {
		pd->xs = XS_PLANTED;
	}
	return 0;
}

void problem_free(struct problem_data *pd)
{
	feral_dataset_destroy(&pd->ds);
	free(pd->x_star);
	pd->x_star = NULL;
}

/* ---- precision copies -------------------------------------------------------- */

const struct feral_dataset *problem_at_precision(const struct opts *o,
                                                 const struct problem_data *pd, int bits,
                                                 struct feral_dataset **q, char *msg,
                                                 size_t msglen)
{
	enum feral_precision dp;
	feral_precision_from_bits(bits, &dp);
	*q = NULL;
	msg[0] = 0;
	if (dp == pd->ds->precision)
		return pd->ds;
	if (pd->ds->precision != FERAL_PRECISION_F32) {
		snprintf(msg, msglen, "unsupported: data stored at %d bits: cannot make %d",
		         feral_precision_bits(pd->ds->precision), bits);
		return NULL;
	}
	double t = now_s();
	struct ticker tk;
	/* the quantized copy is cached next to the problem (synthetic ones) */
	char qpath[4200] = "";
	if (o->problem != PROB_FILE && pd->cache_path[0]) {
		size_t bl = strlen(pd->cache_path) - strlen(".feral");
		snprintf(qpath, sizeof qpath, "%.*s-q%d.feral", (int)bl, pd->cache_path, bits);
		struct feral_load_options lo;
		feral_load_options_init(&lo);
		struct feral_error qe = {0};
		if (access(qpath, R_OK) == 0) {
			ticker_start(&tk, "loading the %d-bit copy %s", bits, qpath);
			if (feral_dataset_load(qpath, &lo, q, &qe) == FERAL_OK &&
			    ((*q)->precision != dp || (*q)->n != pd->ds->n || (*q)->d != pd->ds->d))
				feral_dataset_destroy(q);
			ticker_stop(&tk);
		}
	}
	if (*q) {
		fprintf(stderr, "%s: %d-bit copy loaded from the cache in %.2f s\n", prog, bits,
		        now_s() - t);
		return *q;
	}
	struct feral_error err = {0};
	ticker_start(&tk, "quantizing to %d bits", bits);
	enum feral_status st = feral_dataset_quantize(pd->ds, dp, o->data_seed, q, &err);
	ticker_stop(&tk);
	if (st) {
		snprintf(msg, msglen, "%s: quantize: %s",
		         st == FERAL_STATUS_UNSUPPORTED ? "unsupported" : feral_strerror(st), err.msg);
		return NULL;
	}
	fprintf(stderr, "%s: quantized to %d bits in %.2f s\n", prog, bits, now_s() - t);
	struct feral_error qe = {0};
	if (qpath[0]) {
		ticker_start(&tk, "caching %s", qpath);
		st = feral_dataset_save(*q, qpath, &qe);
		ticker_stop(&tk);
		if (st != FERAL_OK)
			fprintf(stderr, "%s: note: could not cache %s: %s\n", prog, qpath, qe.msg);
	}
	return *q;
}
