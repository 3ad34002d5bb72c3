/* bench: throughput against convergence horizon, one record per point.
 *
 *   bench [--problem ls|logistic|svm|FILE] [--threads LIST] [--precision LIST]
 *         [--replicas LIST] [--seconds S | --updates U] [--repeat R] [--target EPS]
 *         [--out FILE.csv] [--trace-out FILE.csv] [--json] [--peers] [solver options]
 *
 * A point is (threads, data/model precision, replicas).  For each point bench
 * runs the solver for a fixed budget with a trace of >= 30 points and
 * records the throughput (updates/s and bytes of row data/s), the bandwidth
 * a STREAM-like probe gets on this machine with the same thread count (same
 * process, same run), their ratio (roofline fraction), and the horizon: the
 * plateau of ||x-x*||^2/||x*||^2 estimated from the trace (src/trace.c).
 *
 * Output: a table on stdout (stderr with --json); --json prints one JSON
 * object on stdout: {"bench": ..., "machine": ..., "stream": [...],
 * "records": [...], "peers": [...]}.  --out appends CSV rows (header written
 * once, checked on append) and, with --json, JSON lines to FILE.jsonl;
 * peers go to FILE-peers.csv.
 * Exit codes: 0 done (points may be "unsupported"), 2 usage or bad input,
 * 1 a point failed (diverged, I/O, memory), 130 interrupted. */
#include "bench.h"
#include "cli/cli.h"
#include "feral.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef FERAL_HAVE_LAPACKE
#include <lapacke.h>
#endif

#ifndef FERAL_GIT_REV
#define FERAL_GIT_REV "unknown"
#endif

static const char *prog = "bench";
static volatile int g_signal;

#define MAX_LIST 64
#define BENCH_TRACE_POINTS 40        /* trace points aimed at per run (>= 30 wanted) */
#define BENCH_DEFAULT_SECONDS 2.0    /* solver seconds per point */
#define BENCH_DEFAULT_D 256
#define BENCH_DEFAULT_TARGET 1e-4    /* relative ||x-x*||^2 */
#define BENCH_DEFAULT_STEP 0.5       /* relative step (units of 1/Lbar): a visible horizon */
#define BENCH_CLASSIF_L2 1e-4
#define BENCH_DGELS_MAX_XSTAR 5e7    /* n*d doubles: LAPACK x* for noisy systems */
#define BENCH_DGELS_MAX_PEER 1.5e8   /* n*d doubles: the LAPACK peer (1.2 GB) */
#define BENCH_CALIB_SECONDS 0.3      /* throughput calibration (and warm-up) per point */
#define BENCH_STREAM_REPS 5

enum problem { PROB_LS = 0, PROB_LOGISTIC, PROB_SVM, PROB_FILE };

struct opts {
	enum problem problem;
	const char *path; /* PROB_FILE */
	const char *b_path, *xstar_path;
	uint64_t n, d, data_seed;
	double density, cond, noise;
	int threads[MAX_LIST], nthreads;
	int prec[MAX_LIST], nprec;
	int repl[3], nrepl;
	int model_override; /* --model-precision given */
	enum feral_precision model_prec;
	int loss_set, l2_set;
	int repeat;
	double target;
	const char *out, *trace_out, *cache_dir;
	int json, peers;
	struct cli_solver s;
};

struct machine {
	char host[256];
	char cpu[256];
	long nproc;
	uint64_t llc;
};

/* ---- small helpers ---------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_signal(int sig)
{
	g_signal = sig;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	/* NaN sorts last (a target never reached is +inf) */
	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double t[MAX_LIST * 4];
	if (n <= 0)
		return NAN;
	memcpy(t, v, (size_t)n * sizeof *t);
	qsort(t, (size_t)n, sizeof *t, cmp_dbl);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double vmin(const double *v, int n)
{
	double m = NAN;
	for (int k = 0; k < n; k++)
		if (!isnan(v[k]) && (isnan(m) || v[k] < m))
			m = v[k];
	return m;
}

static double vmax(const double *v, int n)
{
	double m = NAN;
	for (int k = 0; k < n; k++)
		if (!isnan(v[k]) && (isnan(m) || v[k] > m))
			m = v[k];
	return m;
}

static int parse_list(const char *opt, const char *arg, int lo, int hi, int *out, int *count)
{
	char *dup = strdup(arg), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST || !cli_parse_int(t, lo, hi, &out[n])) {
			free(dup);
			return cli_usage_error(prog, "--%s %s: expected a comma-separated list of integers "
			                             "in [%d, %d] (at most %d)",
			                       opt, arg, lo, hi, MAX_LIST);
		}
		n++;
	}
	free(dup);
	if (n == 0)
		return cli_usage_error(prog, "--%s: empty list", opt);
	*count = n;
	return 0;
}

/* ---- machine ---------------------------------------------------------------------- */

static uint64_t llc_bytes(void)
{
	/* sysfs first: under KVM, sysconf's cpuid-based figure can be the host's */
	uint64_t best = 0;
	int best_level = 0;
	for (int idx = 0; idx < 8; idx++) {
		char path[128], buf[64];
		int level = 0;
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof buf, f))
			level = atoi(buf);
		fclose(f);
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof buf, f)) {
			char *end;
			unsigned long long k = strtoull(buf, &end, 10);
			uint64_t bytes = k * (*end == 'M' ? 1024 * 1024 : *end == 'K' ? 1024 : 1);
			if (level > best_level && bytes > 0) {
				best_level = level;
				best = bytes;
			}
		}
		fclose(f);
	}
	if (best)
		return best;
	long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
	v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
	return v > 0 ? (uint64_t)v : 32ull << 20;
}

static void machine_info(struct machine *m)
{
	memset(m, 0, sizeof *m);
	if (gethostname(m->host, sizeof m->host - 1) != 0)
		snprintf(m->host, sizeof m->host, "unknown");
	snprintf(m->cpu, sizeof m->cpu, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "model name", 10) == 0) {
				char *p = strchr(line, ':');
				if (p) {
					p++;
					while (*p == ' ' || *p == '\t')
						p++;
					p[strcspn(p, "\n")] = 0;
					snprintf(m->cpu, sizeof m->cpu, "%s", p);
				}
				break;
			}
		fclose(f);
	}
	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	m->llc = llc_bytes();
}

/* Best effort: reset the peak RSS so that each point reports its own peak
 * (Linux >= 4.0: "5" > /proc/self/clear_refs).  Returns 1 when it worked. */
static int reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0)
		return 0;
	int ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok;
}

/* ---- records: one list of fields, written as JSON, CSV and table ------------------ */

enum ftype { F_STR, F_NUM, F_U64, F_BOOL };
struct field {
	const char *key;
	enum ftype t;
	double v;
	uint64_t u;
	char s[256];
};
struct record {
	struct field f[96];
	int n;
};

static void r_str(struct record *r, const char *k, const char *v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_STR;
	size_t l = 0;
	for (; v && l + 1 < sizeof f->s && v[l]; l++)
		f->s[l] = v[l];
	f->s[l] = 0;
}
static void r_num(struct record *r, const char *k, double v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_NUM;
	f->v = v;
}
static void r_u64(struct record *r, const char *k, uint64_t v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_U64;
	f->u = v;
}
static void r_bool(struct record *r, const char *k, int v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_BOOL;
	f->u = v != 0;
}

static const struct field *r_get(const struct record *r, const char *k)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, k) == 0)
			return &r->f[i];
	return NULL;
}

static void record_json(const struct record *r, FILE *f)
{
	struct cli_json j;
	cli_json_begin(&j, f);
	for (int i = 0; i < r->n; i++) {
		const struct field *x = &r->f[i];
		switch (x->t) {
		case F_STR: cli_json_str(&j, x->key, x->s); break;
		case F_NUM: cli_json_num(&j, x->key, x->v); break;
		case F_U64: cli_json_u64(&j, x->key, x->u); break;
		case F_BOOL: cli_json_bool(&j, x->key, (int)x->u); break;
		}
	}
	cli_json_end(&j);
}

static void csv_header(const struct record *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", r->f[i].key);
}

static void csv_row(const struct record *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n && o < len; i++) {
		const struct field *x = &r->f[i];
		if (i)
			buf[o++] = ',';
		switch (x->t) {
		case F_STR:
			if (strpbrk(x->s, ",\"\n")) {
				buf[o++] = '"';
				for (const char *p = x->s; *p && o + 3 < len; p++) {
					if (*p == '"')
						buf[o++] = '"';
					buf[o++] = *p == '\n' ? ' ' : *p;
				}
				buf[o++] = '"';
				buf[o] = 0;
			} else {
				o += (size_t)snprintf(buf + o, len - o, "%s", x->s);
			}
			break;
		case F_NUM:
			if (isfinite(x->v))
				o += (size_t)snprintf(buf + o, len - o, "%.6g", x->v);
			break;
		case F_U64: o += (size_t)snprintf(buf + o, len - o, "%llu", (unsigned long long)x->u); break;
		case F_BOOL: o += (size_t)snprintf(buf + o, len - o, "%s", x->u ? "true" : "false"); break;
		}
	}
	if (o + 2 < len) {
		buf[o++] = '\n';
		buf[o] = 0;
	}
}

/* Append one line with a single write() on an O_APPEND descriptor, writing the
 * header first when the file is empty and checking it otherwise.  Returns 0,
 * 2 (header mismatch) or 1 (I/O). */
static int csv_append(const char *path, const char *header, const char *row)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 1;
	}
	size_t hl = strlen(header);
	if (st.st_size == 0) {
		char *h = malloc(hl + 2);
		memcpy(h, header, hl);
		h[hl] = '\n';
		ssize_t w = write(fd, h, hl + 1);
		free(h);
		if (w != (ssize_t)hl + 1) {
			close(fd);
			return 1;
		}
	} else {
		FILE *f = fopen(path, "r");
		char *line = malloc(hl + 4);
		int same = f && line && fgets(line, (int)hl + 3, f) && strncmp(line, header, hl) == 0 &&
		           line[hl] == '\n';
		if (f)
			fclose(f);
		free(line);
		if (!same) {
			close(fd);
			fprintf(stderr,
			        "%s: %s: its header differs from this bench's fields: append to a new "
			        "file\n",
			        prog, path);
			return 2;
		}
	}
	size_t rl = strlen(row);
	ssize_t w = write(fd, row, rl);
	close(fd);
	if (w != (ssize_t)rl) {
		fprintf(stderr, "%s: %s: write failed: %s\n", prog, path, strerror(errno));
		return 1;
	}
	return 0;
}

static int jsonl_append(const char *path, const struct record *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return 1;
	record_json(r, m);
	fclose(m);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int rc = 1;
	if (fd >= 0) {
		rc = write(fd, buf, len) == (ssize_t)len ? 0 : 1;
		close(fd);
	}
	if (rc)
		fprintf(stderr, "%s: %s: write failed\n", prog, path);
	free(buf);
	return rc;
}

/* FILE.csv -> FILE<suffix>.<ext> */
static void sibling(const char *path, const char *suffix, const char *ext, char *out, size_t len)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	snprintf(out, len, "%.*s%s.%s", (int)stem, path, suffix, ext);
}

/* ---- usage -------------------------------------------------------------------------- */

static const char *const USAGE =
	"usage: bench [options]\n"
	"Throughput (updates/s, bytes/s, fraction of STREAM bandwidth) against the\n"
	"convergence horizon, one record per (threads, precision, replicas) point.\n"
	"With no option: dense least squares >= 4x the last-level cache, generated once\n"
	"and cached in $TMPDIR/feral-bench-<uid>/, 1 thread, precision 32, 2 s.\n"
	"\n"
	"Problem:\n"
	"  --problem ls|logistic|svm|FILE   synthetic kind, or a data file (default ls)\n"
	"  --n N  --d D               rows and columns (default: D = 256, N so that the\n"
	"                             8-bit data is >= 4x the last-level cache)\n"
	"  --density F                F < 1: sparse CSR problem (power-law columns)\n"
	"  --cond C                   condition number (ls, default 10)\n"
	"  --noise S                  b = A x* + e, std(e) = S (ls default 0: consistent)\n"
	"  --data-seed N              generator seed (default 1)\n"
	"  --b FILE  --xstar FILE     targets and known solution for --problem FILE\n"
	"  --cache-dir DIR            where generated problems are cached\n"
	"Sweep:\n"
	"  --threads LIST             e.g. 1,2,4 (default 1); more than the machine's\n"
	"                             processing units is allowed and reported\n"
	"  --precision LIST           data and model bits, e.g. 32,16,8 (default 32)\n"
	"  --replicas LIST            machine,node,core (default machine)\n"
	"  --model-precision P        override the model precision of every point\n"
	"  --seconds S | --updates U  budget per point (default 2 solver seconds)\n"
	"  --repeat R                 R runs per point: median, with min/max (default 1)\n"
	"  --target EPS               time to ||x-x*||^2/||x*||^2 <= EPS (default 1e-4)\n"
	"Output:\n"
	"  --json                     one JSON object on stdout (table goes to stderr)\n"
	"  --out FILE.csv             append CSV rows (and FILE.jsonl with --json)\n"
	"  --trace-out FILE.csv       write every point's trace\n"
	"  --peers                    also run LAPACK dgels, serial Kaczmarz (ls) or\n"
	"                             liblinear and scikit-learn (logistic, svm)\n"
	"  -h, --help  --version\n"
	"\n"
	"bench sets --step 0.5 (not auto) and --tol 0 (run the whole budget) unless given.\n";

/* ---- problem ------------------------------------------------------------------------ */

enum xstar_kind { XS_NONE = 0, XS_EXACT, XS_LAPACK, XS_PLANTED, XS_FILE };
static const char *const xstar_names[] = {"none", "exact", "lapack", "planted", "file"};

struct problem_data {
	struct feral_dataset *ds; /* F32 (or as loaded) */
	double *x_star;
	enum xstar_kind xs;
	char name[64];
	char cache_path[4096];
	int cached; /* loaded from the cache */
	double gen_seconds;
	double dgels_seconds; /* when x* came from LAPACK: its time */
};

static int make_dirs(const char *dir)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0700);
			*p = '/';
		}
	return mkdir(tmp, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* LAPACK least squares in double: x (length d) = argmin ||A x - y||.  Returns
 * 0, -1 when unavailable or it failed. */
static int lapack_ls(const struct feral_dataset *ds, double *x, double *seconds)
{
#ifdef FERAL_HAVE_LAPACKE
	uint64_t n = ds->n, d = ds->d;
	double *a = malloc(n * d * sizeof *a), *b = malloc(n * sizeof *b);
	if (!a || !b) {
		free(a);
		free(b);
		return -1;
	}
	/* column-major copy, 64 rows at a time */
	for (uint64_t i0 = 0; i0 < n; i0 += 64) {
		uint64_t i1 = i0 + 64 < n ? i0 + 64 : n;
		if (ds->layout == FERAL_LAYOUT_DENSE) {
			for (uint64_t j = 0; j < d; j++)
				for (uint64_t i = i0; i < i1; i++)
					a[j * n + i] = feral_dataset_value(ds, i, i * d + j);
		} else {
			for (uint64_t j = 0; j < d; j++)
				for (uint64_t i = i0; i < i1; i++)
					a[j * n + i] = 0;
			for (uint64_t i = i0; i < i1; i++)
				for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
					a[ds->indices[k] * n + i] = feral_dataset_value(ds, i, k);
		}
	}
	memcpy(b, ds->y, n * sizeof *b);
	double t = now_s();
	lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)d, 1, a,
	                                (lapack_int)n, b, (lapack_int)n);
	*seconds = now_s() - t;
	if (info == 0)
		memcpy(x, b, d * sizeof *x);
	free(a);
	free(b);
	return info == 0 ? 0 : -1;
#else
	(void)ds;
	(void)x;
	*seconds = NAN;
	return -1;
#endif
}

static int build_problem(const struct opts *o, const struct machine *m, struct problem_data *pd)
{
	struct feral_error err = {0};
	enum feral_status st;
	memset(pd, 0, sizeof *pd);
	pd->dgels_seconds = NAN;
	if (o->problem == PROB_FILE) {
		struct feral_load_options lo;
		feral_load_options_init(&lo);
		double t = now_s();
		st = feral_dataset_load(o->path, &lo, &pd->ds, &err);
		if (st)
			return cli_report(prog, st, &err);
		if (o->b_path && (st = feral_dataset_load_targets(pd->ds, o->b_path, &err)))
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
		}
		return 0;
	}
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
	struct feral_gen_options g;
	feral_gen_options_init(&g, kind);
	g.seed = o->data_seed;
	g.d = o->d ? o->d : BENCH_DEFAULT_D;
	if (kind == FERAL_GEN_SPARSE)
		g.density = o->density;
	if (o->n) {
		g.n = o->n;
	} else {
		/* the lowest precision's copy (1 byte a value, + 4 per index when sparse)
		 * is >= 4x the last-level cache: every precision streams from memory */
		double per_row = kind == FERAL_GEN_SPARSE ? fmax(1.0, o->density * (double)g.d) * 5.0
		                                          : (double)g.d;
		double want = 4.0 * (double)m->llc / per_row;
		uint64_t n = 1024;
		while ((double)n < want)
			n *= 2;
		g.n = n;
	}
	if (kind == FERAL_GEN_GAUSSIAN && o->cond > 0)
		g.cond = o->cond;
	if (o->noise >= 0)
		g.noise = o->noise;
	snprintf(pd->name, sizeof pd->name, "%s", o->problem == PROB_LS ? (kind == FERAL_GEN_SPARSE
	                                                                           ? "ls-sparse"
	                                                                           : "ls")
	                                                                 : o->problem == PROB_SVM
	                                                                           ? "svm"
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
	         kind == FERAL_GEN_SPARSE ? "sparse"
	                                  : kind == FERAL_GEN_LOGISTIC ? "logistic" : "ls",
	         (unsigned long long)g.n, (unsigned long long)g.d, extra,
	         (unsigned long long)g.seed);
	char xpath[4200];
	snprintf(pd->cache_path, sizeof pd->cache_path, "%s.feral", base);
	snprintf(xpath, sizeof xpath, "%s.xstar.npy", base);
	double t = now_s();
	if (access(pd->cache_path, R_OK) == 0 && access(xpath, R_OK) == 0) {
		struct feral_load_options lo;
		feral_load_options_init(&lo);
		uint64_t len = 0;
		if (feral_dataset_load(pd->cache_path, &lo, &pd->ds, &err) == FERAL_OK &&
		    feral_vector_load(xpath, &pd->x_star, &len, &err) == FERAL_OK &&
		    len == pd->ds->d && pd->ds->n == g.n) {
			pd->cached = 1;
		} else {
			fprintf(stderr, "%s: note: cache %s unreadable (%s): regenerating\n", prog,
			        pd->cache_path, err.msg);
			feral_dataset_destroy(&pd->ds);
			free(pd->x_star);
			pd->x_star = NULL;
		}
	}
	if (!pd->cached) {
		fprintf(stderr, "%s: generating %s %llu x %llu%s (cached in %s)\n", prog, pd->name,
		        (unsigned long long)g.n, (unsigned long long)g.d,
		        kind == FERAL_GEN_SPARSE ? " sparse" : "", o->cache_dir);
		st = feral_gen(&g, &pd->ds, &pd->x_star, &err);
		if (st)
			return cli_report(prog, st, &err);
		if (make_dirs(o->cache_dir) != 0 ||
		    feral_dataset_save(pd->ds, pd->cache_path, &err) != FERAL_OK ||
		    feral_vector_save(xpath, pd->x_star, pd->ds->d, &err) != FERAL_OK)
			fprintf(stderr, "%s: note: could not cache the problem in %s: %s\n", prog,
			        o->cache_dir, err.msg[0] ? err.msg : strerror(errno));
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
			xl = malloc(pd->ds->d * sizeof *xl);
			if (xl && lapack_ls(pd->ds, xl, &pd->dgels_seconds) == 0) {
				free(pd->x_star);
				pd->x_star = xl;
				pd->xs = XS_LAPACK;
				feral_vector_save(lpath, xl, pd->ds->d, &err);
			} else {
				free(xl);
				pd->xs = XS_PLANTED;
			}
		}
	} else {
		pd->xs = XS_PLANTED;
	}
	return 0;
}

/* ---- one point ---------------------------------------------------------------------- */

struct run {
	enum feral_status st;
	char msg[512];
	struct feral_result res;
	struct feral_horizon hz;
	double time_to_target;
	double accuracy;
	uint64_t peak_rss;
	size_t trace_len;
};

struct point {
	int threads;
	enum feral_replicas replicas;
	int bits;
	enum feral_precision data_prec, model_prec;
	struct run runs[MAX_LIST];
	int nruns;
	double stream_read, stream_triad;
	struct record rec;
	int failed, unsupported;
};

/* x* handed to the solver: for planted (noisy LS too large for LAPACK) we still
 * pass it so the record has the distance to the planted solution; the
 * classification problems get none. */
static const double *solver_xstar(const struct opts *o, const struct problem_data *pd)
{
	if (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM)
		return NULL;
	return pd->x_star;
}

static int bench_recenter(const struct opts *o, const struct point *pt)
{
	return o->s.cfg.recenter && feral_precision_fixed(pt->model_prec);
}

static void run_point(const struct opts *o, const struct problem_data *pd,
                      const struct feral_dataset *ds, struct point *pt, FILE *trace_f,
                      int point_id)
{
	const double *xs = solver_xstar(o, pd);
	enum feral_trace_metric metric = xs ? FERAL_TRACE_REL_ERROR : FERAL_TRACE_OBJECTIVE;
	struct feral_config cfg = o->s.cfg;
	cfg.threads = pt->threads;
	cfg.replicas = pt->replicas;
	cfg.model_precision = pt->model_prec;
	/* --recenter applies to the fixed point points of a sweep */
	cfg.recenter = bench_recenter(o, pt);
	cfg.stop_flag = &g_signal;
	double *x = malloc(ds->d * sizeof *x);
	double budget_s = cfg.seconds;
	/* calibrate the trace period (and warm the data up) with a short run */
	uint64_t trace_every;
	double monitor_per_point = 0;
	if (cfg.max_updates > 0) {
		trace_every = cfg.max_updates / BENCH_TRACE_POINTS;
		cfg.seconds = 0;
	} else {
		struct feral_config cc = cfg;
		cc.seconds = fmin(BENCH_CALIB_SECONDS, budget_s);
		cc.tol = 0;
		cc.trace_every = ds->n / 4 > 1000 ? ds->n / 4 : 1000;
		struct feral_result r;
		struct feral_trace tr = {0};
		memset(x, 0, ds->d * sizeof *x);
		enum feral_status st = feral_solve(ds, &cc, xs, x, &r, &tr, NULL);
		double rate = st == FERAL_OK && r.updates_per_s > 0 ? r.updates_per_s : 1e6;
		if (tr.len > 1)
			monitor_per_point = r.monitor_seconds / (double)(tr.len - 1);
		feral_trace_free(&tr);
		trace_every = (uint64_t)(rate * budget_s / BENCH_TRACE_POINTS);
		/* The budget is solver seconds: the monitor's share comes on top, up to
		 * 2x the budget (an oversubscribed monitor is slow: fewer points then,
		 * recorded as trace_points). */
		long pus = sysconf(_SC_NPROCESSORS_ONLN);
		int eff = pus > 0 && pt->threads > pus ? (int)pus : pt->threads;
		cfg.seconds = budget_s + fmin(BENCH_TRACE_POINTS * monitor_per_point / eff, 2 * budget_s);
	}
	cfg.trace_every = trace_every > 0 ? trace_every : 1;
	for (int rep = 0; rep < o->repeat && !g_signal; rep++) {
		struct run *rn = &pt->runs[pt->nruns++];
		memset(rn, 0, sizeof *rn);
		struct feral_config rc = cfg;
		rc.seed = cfg.seed + (uint64_t)rep;
		memset(x, 0, ds->d * sizeof *x);
		struct feral_trace tr = {0};
		struct feral_error err = {0};
		reset_peak_rss();
		rn->st = feral_solve(ds, &rc, xs, x, &rn->res, &tr, &err);
		rn->peak_rss = cli_peak_rss();
		if (rn->st)
			snprintf(rn->msg, sizeof rn->msg, "%s", err.msg[0] ? err.msg : feral_strerror(rn->st));
		feral_trace_horizon(&tr, metric, &rn->hz);
		rn->time_to_target = feral_trace_time_to_target(&tr, metric, o->target);
		rn->accuracy = (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM ||
		                (o->problem == PROB_FILE && cfg.loss != FERAL_LOSS_LS))
		                       ? feral_accuracy(ds, x)
		                       : NAN;
		rn->trace_len = tr.len;
		if (trace_f) {
			char pre[256], dmg[32];
			cli_dmg(pt->data_prec, pt->model_prec, bench_recenter(o, pt), dmg, sizeof dmg);
			snprintf(pre, sizeof pre, "%d,%d,%s,%s,%s,%d", point_id, pt->threads, dmg,
			         cli_replicas_name(pt->replicas), rn->res.kernel ? rn->res.kernel : "",
			         rep);
			feral_trace_write_csv(trace_f, pre, &tr);
			fflush(trace_f);
		}
		feral_trace_free(&tr);
		if (rn->st == FERAL_STATUS_UNSUPPORTED)
			break;
	}
	free(x);
}

static const char *sampling_name(double lambda)
{
	return lambda == 0 ? "weighted" : lambda == 0.5 ? "partial" : lambda == 1 ? "uniform" : "mixed";
}

static void build_record(const struct opts *o, const struct machine *m,
                         const struct problem_data *pd, const struct feral_dataset *ds,
                         struct point *pt)
{
	struct record *r = &pt->rec;
	r->n = 0;
	int R = pt->nruns;
	double ups[MAX_LIST], sec[MAX_LIST], upd[MAX_LIST], hz[MAX_LIST], ttt[MAX_LIST],
	       err[MAX_LIST], res[MAX_LIST], obj[MAX_LIST], acc[MAX_LIST], sat[MAX_LIST],
	       rss[MAX_LIST], tl[MAX_LIST];
	int plateau = 0, ok_runs = 0;
	const struct run *first = &pt->runs[0];
	const char *status = "ok";
	char status_buf[600];
	for (int k = 0; k < R; k++) {
		const struct run *rn = &pt->runs[k];
		ups[k] = rn->res.updates_per_s;
		sec[k] = rn->res.seconds;
		upd[k] = (double)rn->res.updates;
		hz[k] = rn->hz.horizon;
		ttt[k] = rn->time_to_target;
		err[k] = rn->res.rel_error;
		res[k] = rn->res.rel_residual;
		obj[k] = rn->res.objective;
		acc[k] = rn->accuracy;
		sat[k] = (double)rn->res.saturations;
		rss[k] = (double)rn->peak_rss;
		tl[k] = (double)rn->trace_len;
		plateau += rn->hz.plateau_reached;
		if (rn->st == FERAL_OK)
			ok_runs++;
		else {
			snprintf(status_buf, sizeof status_buf, "%s: %s",
			         rn->st == FERAL_STATUS_UNSUPPORTED ? "unsupported" : feral_strerror(rn->st),
			         rn->msg);
			status = status_buf;
			if (rn->st == FERAL_STATUS_UNSUPPORTED)
				pt->unsupported = 1;
			else
				pt->failed = 1;
		}
	}
	if (pt->unsupported) {
		/* nothing was measured: never report numbers for it */
		for (int k = 0; k < R; k++)
			ups[k] = sec[k] = upd[k] = hz[k] = ttt[k] = err[k] = res[k] = obj[k] = acc[k] =
			        sat[k] = tl[k] = NAN;
	}
	char dmg[32];
	cli_dmg(pt->data_prec, pt->model_prec, bench_recenter(o, pt), dmg, sizeof dmg);
	double bytes_row = (double)feral_dataset_bytes(ds) / (double)ds->n;
	double u_med = median(ups, R);
	time_t now = time(NULL);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	r_str(r, "git_rev", FERAL_GIT_REV);
	r_str(r, "timestamp", ts);
	r_str(r, "host", m->host);
	r_str(r, "cpu", m->cpu);
	r_u64(r, "nproc", (uint64_t)m->nproc);
	r_u64(r, "llc_bytes", m->llc);
	r_str(r, "kernel", first->res.kernel ? first->res.kernel : "");
	r_str(r, "problem", pd->name);
	r_str(r, "loss", cli_loss_name(o->s.cfg.loss));
	r_str(r, "method", o->s.cfg.method == FERAL_METHOD_KACZMARZ ? "kaczmarz" : "sgd");
	r_u64(r, "n", ds->n);
	r_u64(r, "d", ds->d);
	r_u64(r, "nnz", ds->nnz);
	r_str(r, "layout", ds->layout == FERAL_LAYOUT_CSR ? "csr" : "dense");
	r_str(r, "xstar", xstar_names[pd->xs]);
	r_u64(r, "threads", (uint64_t)pt->threads);
	r_str(r, "bind", cli_bind_name(o->s.cfg.bind));
	r_str(r, "replicas", cli_replicas_name(pt->replicas));
	r_u64(r, "data_bits", (uint64_t)feral_precision_bits(pt->data_prec));
	r_u64(r, "model_bits", (uint64_t)feral_precision_bits(pt->model_prec));
	r_str(r, "precision", dmg);
	r_str(r, "rounding", cli_rounding_name(o->s.cfg.rounding));
	r_str(r, "sampling", sampling_name(o->s.cfg.lambda));
	r_num(r, "lambda", o->s.cfg.lambda);
	r_num(r, "step", first->res.step);
	r_num(r, "l2", o->s.cfg.l2);
	r_str(r, "budget", o->s.cfg.max_updates ? "updates" : "seconds");
	r_num(r, "budget_value",
	      o->s.cfg.max_updates ? (double)o->s.cfg.max_updates : o->s.cfg.seconds);
	r_u64(r, "repeat", (uint64_t)R);
	r_num(r, "updates", median(upd, R));
	r_num(r, "seconds", median(sec, R));
	r_num(r, "updates_per_s", u_med);
	r_num(r, "updates_per_s_min", vmin(ups, R));
	r_num(r, "updates_per_s_max", vmax(ups, R));
	r_num(r, "bytes_per_row", bytes_row);
	r_num(r, "bytes_per_s", u_med * bytes_row);
	r_num(r, "stream_bytes_per_s", pt->stream_read);
	r_num(r, "stream_triad_bytes_per_s", pt->stream_triad);
	r_num(r, "roofline_fraction",
	      pt->stream_read > 0 ? u_med * bytes_row / pt->stream_read : NAN);
	r_str(r, "horizon_metric", feral_trace_metric_name(solver_xstar(o, pd)
	                                                            ? FERAL_TRACE_REL_ERROR
	                                                            : FERAL_TRACE_OBJECTIVE));
	r_num(r, "horizon", median(hz, R));
	r_num(r, "horizon_min", vmin(hz, R));
	r_num(r, "horizon_max", vmax(hz, R));
	r_bool(r, "plateau_reached", !pt->unsupported && R > 0 && 2 * plateau > R);
	r_num(r, "target", o->target);
	r_num(r, "time_to_target", median(ttt, R));
	r_num(r, "relative_error", median(err, R));
	r_num(r, "relative_residual", median(res, R));
	r_num(r, "objective", median(obj, R));
	r_num(r, "accuracy", median(acc, R));
	r_num(r, "trace_points", median(tl, R));
	r_num(r, "saturations", median(sat, R));
	r_num(r, "model_scale", first->res.model_scale);
	r_bool(r, "oversubscribed", pt->threads > m->nproc || first->res.oversubscribed);
	r_u64(r, "bind_failures", (uint64_t)first->res.bind_failures);
	r_num(r, "peak_rss_bytes", vmax(rss, R));
	r_u64(r, "seed", o->s.cfg.seed);
	r_str(r, "status", status);
	r_str(r, "warning", first->res.warning);
	(void)ok_runs;
}

/* ---- table ------------------------------------------------------------------------ */

static void fmt_num(char *b, size_t len, double v, const char *f)
{
	if (isfinite(v))
		snprintf(b, len, f, v);
	else
		snprintf(b, len, "-");
}

static void table_header(FILE *f)
{
	fprintf(f, "%-8s %-9s %-8s %-7s %10s %9s %9s %6s %12s %9s %6s  %s\n", "threads", "precision",
	        "replicas", "kernel", "updates/s", "GB/s", "STREAM", "roof", "horizon", "t_target",
	        "oversub", "status");
}

static void table_row(FILE *f, const struct record *r)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	fmt_num(a, sizeof a, r_get(r, "updates_per_s")->v, "%.3g");
	fmt_num(b, sizeof b, r_get(r, "bytes_per_s")->v / 1e9, "%.2f");
	fmt_num(c, sizeof c, r_get(r, "stream_bytes_per_s")->v / 1e9, "%.2f");
	fmt_num(d, sizeof d, 100 * r_get(r, "roofline_fraction")->v, "%.0f%%");
	double h = r_get(r, "horizon")->v;
	if (isfinite(h))
		snprintf(e, sizeof e, "%s%.2e", r_get(r, "plateau_reached")->u ? "" : "<=", h);
	else
		snprintf(e, sizeof e, "-");
	fmt_num(g, sizeof g, r_get(r, "time_to_target")->v, "%.3gs");
	fprintf(f, "%-8llu %-9s %-8s %-7s %10s %9s %9s %6s %12s %9s %6s  %s\n",
	        (unsigned long long)r_get(r, "threads")->u, r_get(r, "precision")->s,
	        r_get(r, "replicas")->s, r_get(r, "kernel")->s, a, b, c, d, e, g,
	        r_get(r, "oversubscribed")->u ? "yes" : "no", r_get(r, "status")->s);
}

/* ---- peers -------------------------------------------------------------------------- */

struct peer_ctx {
	const struct opts *o;
	const struct machine *m;
	const struct problem_data *pd;
	const struct point *ref; /* the feral point compared against */
	struct record recs[8];
	int n;
};

static struct record *peer_begin(struct peer_ctx *pc, const char *peer)
{
	struct record *r = &pc->recs[pc->n++];
	r->n = 0;
	r_str(r, "git_rev", FERAL_GIT_REV);
	r_str(r, "host", pc->m->host);
	r_str(r, "cpu", pc->m->cpu);
	r_str(r, "problem", pc->pd->name);
	r_u64(r, "n", pc->pd->ds->n);
	r_u64(r, "d", pc->pd->ds->d);
	r_u64(r, "nnz", pc->pd->ds->nnz);
	r_str(r, "xstar", xstar_names[pc->pd->xs]);
	r_str(r, "peer", peer);
	return r;
}

/* The common tail of a peer record: its numbers, feral's, and the ratios. */
static void peer_end(struct peer_ctx *pc, struct record *r, const char *status, double seconds,
                     double updates, double rel_error, double ttt, double accuracy,
                     double feral_match_s, const char *command)
{
	const struct record *fr = &pc->ref->rec;
	r_str(r, "status", status);
	r_str(r, "command", command);
	r_num(r, "seconds", seconds);
	r_num(r, "updates", updates);
	r_num(r, "relative_error", rel_error);
	r_num(r, "time_to_target", ttt);
	r_num(r, "accuracy", accuracy);
	r_num(r, "target", pc->o->target);
	r_u64(r, "feral_threads", r_get(fr, "threads")->u);
	r_str(r, "feral_precision", r_get(fr, "precision")->s);
	r_str(r, "feral_kernel", r_get(fr, "kernel")->s);
	double fs = r_get(fr, "seconds")->v, ft = r_get(fr, "time_to_target")->v;
	r_num(r, "feral_seconds", fs);
	r_num(r, "feral_updates", r_get(fr, "updates")->v);
	r_num(r, "feral_updates_per_s", r_get(fr, "updates_per_s")->v);
	r_num(r, "feral_time_to_target", ft);
	r_num(r, "feral_relative_error", r_get(fr, "relative_error")->v);
	r_num(r, "feral_accuracy", r_get(fr, "accuracy")->v);
	r_num(r, "feral_time_to_match", feral_match_s);
	/* ratio > 1: the peer takes longer than feral */
	double ratio = NAN;
	const char *basis = "none";
	if (isfinite(ttt) && isfinite(ft) && ft > 0) {
		ratio = ttt / ft;
		basis = "time_to_target";
	} else if (isfinite(feral_match_s) && feral_match_s > 0 && isfinite(seconds)) {
		ratio = seconds / feral_match_s;
		basis = "time_to_match_accuracy";
	} else if (isfinite(seconds) && isfinite(fs) && fs > 0) {
		ratio = seconds / fs; /* feral never met the target: against its whole budget */
		basis = "feral_budget";
	}
	r_num(r, "time_ratio_peer_over_feral", ratio);
	r_str(r, "ratio_basis", basis);
	double fe = r_get(fr, "relative_error")->v;
	r_num(r, "error_ratio_peer_over_feral",
	      isfinite(rel_error) && isfinite(fe) && fe > 0 ? rel_error / fe : NAN);
}

static void peer_lapack(struct peer_ctx *pc)
{
	struct record *r = peer_begin(pc, "lapack-dgels");
	const struct problem_data *pd = pc->pd;
	const struct feral_dataset *ds = pd->ds;
	if (pd->ds->precision != FERAL_PRECISION_F32) {
		peer_end(pc, r, "unsupported: data not stored as f32", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
#ifndef FERAL_HAVE_LAPACKE
	peer_end(pc, r, "unsupported: built without LAPACKE", NAN, NAN, NAN, NAN, NAN, NAN, "");
	return;
#endif
	if ((double)ds->n * (double)ds->d > BENCH_DGELS_MAX_PEER) {
		char s[128];
		snprintf(s, sizeof s, "unsupported: n*d = %.3g > %.3g doubles", (double)ds->n * ds->d,
		         BENCH_DGELS_MAX_PEER);
		peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, "LAPACKE_dgels");
		return;
	}
	double *x = malloc(ds->d * sizeof *x), secs = NAN;
	if (!x || lapack_ls(ds, x, &secs) != 0) {
		free(x);
		peer_end(pc, r, "failed: LAPACKE_dgels", NAN, NAN, NAN, NAN, NAN, NAN, "LAPACKE_dgels");
		return;
	}
	double e = NAN;
	if (pd->x_star) {
		double num = 0, den = 0;
		for (uint64_t j = 0; j < ds->d; j++) {
			num += (x[j] - pd->x_star[j]) * (x[j] - pd->x_star[j]);
			den += pd->x_star[j] * pd->x_star[j];
		}
		e = den > 0 ? num / den : num;
	}
	free(x);
	/* a direct solve: its time to the target is its time (when it meets it) */
	peer_end(pc, r, "ok", secs, NAN, e, isfinite(e) && e <= pc->o->target ? secs : NAN, NAN, NAN,
	         "LAPACKE_dgels(col-major, double copy of the f32 data; copy not timed)");
}

static void peer_kaczmarz(struct peer_ctx *pc)
{
	struct record *r = peer_begin(pc, "kaczmarz-serial");
	const struct feral_dataset *ds = pc->pd->ds;
	if (ds->precision != FERAL_PRECISION_F32) {
		peer_end(pc, r, "unsupported: data not stored as f32", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
	double fu = r_get(&pc->ref->rec, "updates")->v;
	uint64_t updates = isfinite(fu) && fu > 0 ? (uint64_t)fu : ds->n * 10;
	struct bench_kaczmarz k;
	int rc = bench_kaczmarz_run(ds->n, ds->d,
	                            ds->layout == FERAL_LAYOUT_DENSE ? (const float *)ds->values : NULL,
	                            ds->indptr, ds->indices, (const float *)ds->values, ds->y,
	                            pc->pd->x_star, pc->o->target, updates, 0, pc->o->s.cfg.seed, &k);
	if (rc) {
		peer_end(pc, r, "failed: out of memory", NAN, NAN, NAN, NAN, NAN, NAN, "");
		return;
	}
	peer_end(pc, r, "ok", k.seconds, (double)k.updates, k.rel_error, k.time_to_target, NAN, NAN,
	         "bench/peer_kaczmarz.c: serial, uniform rows, -O3, same update count as feral");
}

/* Run a shell command, time it, capture its stdout (first 4 KiB). */
static int run_timed(const char *cmd, double *seconds, char *outbuf, size_t len)
{
	double t = now_s();
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t o = 0;
	int c;
	while ((c = fgetc(p)) != EOF)
		if (o + 1 < len)
			outbuf[o++] = (char)c;
	outbuf[o] = 0;
	int st = pclose(p);
	*seconds = now_s() - t;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *python_path(void)
{
	const char *p = getenv("FERAL_PYTHON");
	if (p && *p)
		return p;
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void peers_classification(struct peer_ctx *pc, const char *dir)
{
	const struct problem_data *pd = pc->pd;
	const struct opts *o = pc->o;
	int hinge = o->s.cfg.loss == FERAL_LOSS_HINGE;
	char svm[4200], model[4300], pred[4300], cmd[10000], out[4096];
	snprintf(svm, sizeof svm, "%s/peer-%s-%llux%llu-s%llu.svm", dir, pd->name,
	         (unsigned long long)pd->ds->n, (unsigned long long)pd->ds->d,
	         (unsigned long long)o->data_seed);
	snprintf(model, sizeof model, "%s.model", svm);
	snprintf(pred, sizeof pred, "%s.pred", svm);
	struct feral_error err = {0};
	if (pd->ds->precision != FERAL_PRECISION_F32 ||
	    (access(svm, R_OK) != 0 && (make_dirs(dir), feral_dataset_save(pd->ds, svm, &err)) != FERAL_OK)) {
		struct record *r = peer_begin(pc, "liblinear");
		peer_end(pc, r, "failed: cannot write the LIBSVM file", NAN, NAN, NAN, NAN, NAN, NAN, svm);
		return;
	}
	double l2 = o->s.cfg.l2 > 0 ? o->s.cfg.l2 : BENCH_CLASSIF_L2;
	double C = 1.0 / ((double)pd->ds->n * l2); /* (1/n) sum loss + l2/2 |w|^2  ==  C sum loss + 1/2 |w|^2 */
	/* liblinear: -s 0 L2-regularised logistic regression (primal), -s 3 L2 hinge (dual) */
	{
		struct record *r = peer_begin(pc, "liblinear");
		double secs = NAN, ps = 0;
		snprintf(cmd, sizeof cmd, "liblinear-train -q -s %d -c %.6g '%s' '%s' 2>&1", hinge ? 3 : 0,
		         C, svm, model);
		int rc = run_timed(cmd, &secs, out, sizeof out);
		if (rc != 0) {
			char s[300];
			snprintf(s, sizeof s, "unsupported: liblinear-train failed (exit %d): %.200s", rc, out);
			peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, cmd);
		} else {
			char cmd2[16000];
			snprintf(cmd2, sizeof cmd2, "liblinear-predict '%s' '%s' '%s' 2>&1", svm, model, pred);
			double acc = NAN;
			if (run_timed(cmd2, &ps, out, sizeof out) == 0) {
				char *a = strstr(out, "Accuracy = ");
				if (a)
					acc = strtod(a + 11, NULL) / 100.0;
			}
			double match = NAN;
			(void)match;
			peer_end(pc, r, "ok", secs, NAN, NAN, NAN, acc, NAN, cmd);
		}
	}
	/* scikit-learn SGDClassifier: the fit alone is timed inside Python */
	{
		struct record *r = peer_begin(pc, "sklearn-sgd");
		double secs = NAN;
		snprintf(cmd, sizeof cmd,
		         "%s -W ignore -c 'import sys,time,warnings\n"
		         "warnings.simplefilter(\"ignore\")\n"
		         "from sklearn.datasets import load_svmlight_file\n"
		         "from sklearn.linear_model import SGDClassifier\n"
		         "X,y=load_svmlight_file(sys.argv[1],n_features=%llu)\n"
		         "c=SGDClassifier(loss=\"%s\",penalty=\"l2\",alpha=%.6g,fit_intercept=False,"
		         "max_iter=%d,tol=1e-4,random_state=%llu)\n"
		         "t=time.perf_counter();c.fit(X,y);t=time.perf_counter()-t\n"
		         "print(\"RESULT %%.6f %%.6f %%d\"%%(t,c.score(X,y),c.n_iter_))' '%s' 2>&1",
		         python_path(), (unsigned long long)pd->ds->d, hinge ? "hinge" : "log_loss", l2, 50,
		         (unsigned long long)o->s.cfg.seed, svm);
		int rc = run_timed(cmd, &secs, out, sizeof out);
		double fit = NAN, acc = NAN;
		int iters = 0;
		const char *res = strstr(out, "RESULT ");
		if (rc != 0 || !res || sscanf(res, "RESULT %lf %lf %d", &fit, &acc, &iters) != 3) {
			char s[400];
			snprintf(s, sizeof s, "unsupported: scikit-learn run failed (exit %d): %.300s", rc, out);
			peer_end(pc, r, s, NAN, NAN, NAN, NAN, NAN, NAN, "sklearn.linear_model.SGDClassifier");
		} else {
			peer_end(pc, r, "ok", fit, (double)iters * (double)pd->ds->n, NAN, NAN, acc, NAN,
			         "sklearn.linear_model.SGDClassifier (fit timed in Python; updates = "
			         "epochs * n)");
		}
	}
}

/* feral's time to reach a peer's training accuracy (within 0.5 points), from
 * the reference point's trace: the trace's rel_residual is the error rate. */
static void peers_fill_match(struct peer_ctx *pc, const struct feral_dataset *ds,
                             const struct opts *o)
{
	/* re-run the reference point once with a trace to find the crossing */
	for (int k = 0; k < pc->n; k++) {
		struct record *r = &pc->recs[k];
		struct field *acc = NULL, *match = NULL, *ratio = NULL, *secs = NULL;
		for (int i = 0; i < r->n; i++) {
			if (!strcmp(r->f[i].key, "accuracy"))
				acc = &r->f[i];
			if (!strcmp(r->f[i].key, "feral_time_to_match"))
				match = &r->f[i];
			if (!strcmp(r->f[i].key, "time_ratio_peer_over_feral"))
				ratio = &r->f[i];
			if (!strcmp(r->f[i].key, "seconds"))
				secs = &r->f[i];
		}
		if (!acc || !isfinite(acc->v))
			continue;
		struct feral_config cfg = o->s.cfg;
		cfg.threads = pc->ref->threads;
		cfg.replicas = pc->ref->replicas;
		cfg.model_precision = pc->ref->model_prec;
		cfg.stop_flag = &g_signal;
		if (cfg.max_updates == 0)
			cfg.trace_every = (uint64_t)fmax(1, r_get(&pc->ref->rec, "updates")->v / 40);
		else
			cfg.trace_every = cfg.max_updates / 40 ? cfg.max_updates / 40 : 1;
		double *x = calloc(ds->d, sizeof *x);
		struct feral_trace tr = {0};
		struct feral_result res;
		if (x && feral_solve(ds, &cfg, NULL, x, &res, &tr, NULL) == FERAL_OK) {
			double want = 1.0 - acc->v + 0.005; /* error rate */
			match->v = feral_trace_time_to_target(&tr, FERAL_TRACE_REL_RESIDUAL, want);
			if (isfinite(match->v) && match->v > 0 && isfinite(secs->v)) {
				ratio->v = secs->v / match->v;
				for (int i = 0; i < r->n; i++)
					if (!strcmp(r->f[i].key, "ratio_basis"))
						snprintf(r->f[i].s, sizeof r->f[i].s, "time_to_match_accuracy");
			}
		}
		feral_trace_free(&tr);
		free(x);
	}
}

/* ---- main ------------------------------------------------------------------------ */

enum {
	OPT_JSON = 2000, OPT_PROBLEM, OPT_N, OPT_D, OPT_DENSITY, OPT_COND, OPT_NOISE, OPT_DATA_SEED,
	OPT_B, OPT_XSTAR, OPT_CACHE_DIR, OPT_REPEAT, OPT_TARGET, OPT_OUT, OPT_TRACE_OUT, OPT_PEERS,
	OPT_VERSION, OPT_HELP = 'h'
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		CLI_SOLVER_OPTIONS,
		{"json", no_argument, 0, OPT_JSON},
		{"problem", required_argument, 0, OPT_PROBLEM},
		{"n", required_argument, 0, OPT_N},
		{"d", required_argument, 0, OPT_D},
		{"density", required_argument, 0, OPT_DENSITY},
		{"cond", required_argument, 0, OPT_COND},
		{"noise", required_argument, 0, OPT_NOISE},
		{"data-seed", required_argument, 0, OPT_DATA_SEED},
		{"b", required_argument, 0, OPT_B},
		{"xstar", required_argument, 0, OPT_XSTAR},
		{"cache-dir", required_argument, 0, OPT_CACHE_DIR},
		{"repeat", required_argument, 0, OPT_REPEAT},
		{"target", required_argument, 0, OPT_TARGET},
		{"out", required_argument, 0, OPT_OUT},
		{"trace-out", required_argument, 0, OPT_TRACE_OUT},
		{"peers", no_argument, 0, OPT_PEERS},
		{"version", no_argument, 0, OPT_VERSION},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0}};
	memset(o, 0, sizeof *o);
	cli_solver_init(&o->s);
	/* bench's defaults: a fixed step (a horizon to measure) and the whole budget */
	o->s.cfg.step_auto = 0;
	o->s.cfg.step = BENCH_DEFAULT_STEP;
	o->s.cfg.tol = 0;
	o->s.cfg.epochs = 0;
	o->threads[0] = 1;
	o->nthreads = 1;
	o->prec[0] = 32;
	o->nprec = 1;
	o->repl[0] = FERAL_REPLICAS_MACHINE;
	o->nrepl = 1;
	o->density = 1;
	o->noise = -1;
	o->data_seed = 1;
	o->repeat = 1;
	o->target = BENCH_DEFAULT_TARGET;
	int c;
	opterr = 0; /* our own messages, prefixed "bench: " */
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		if (c == '?')
			return cli_usage_error(prog, "unrecognized option '%s' (see bench --help)",
			                       argv[optind - 1]);
		if (c == ':')
			return cli_usage_error(prog, "option '%s' needs a value", argv[optind - 1]);
		switch (c) { /* the list options, before the single-value solver parser */
		case OPT_THREADS:
			if (parse_list("threads", optarg, 1, 4096, o->threads, &o->nthreads))
				return 2;
			continue;
		case OPT_PRECISION: {
			if (parse_list("precision", optarg, 8, 32, o->prec, &o->nprec))
				return 2;
			for (int k = 0; k < o->nprec; k++)
				if (o->prec[k] != 8 && o->prec[k] != 16 && o->prec[k] != 32)
					return cli_usage_error(prog, "--precision %s: each entry must be 32, 16 or 8",
					                       optarg);
			continue;
		}
		case OPT_REPLICAS: {
			static const char *const names[] = {"machine", "node", "core"};
			char *dup = strdup(optarg), *save = NULL;
			o->nrepl = 0;
			for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int k;
				for (k = 0; k < 3 && strcasecmp(t, names[k]); k++)
					;
				if (k == 3 || o->nrepl == 3) {
					free(dup);
					return cli_usage_error(prog, "--replicas %s: expected a list of machine, "
					                             "node, core",
					                       optarg);
				}
				o->repl[o->nrepl++] = k;
			}
			free(dup);
			if (!o->nrepl)
				return cli_usage_error(prog, "--replicas: empty list");
			continue;
		}
		case OPT_DATA_PRECISION:
			return cli_usage_error(prog, "--data-precision: use --precision LIST (data and model "
			                             "bits), and --model-precision to override the model");
		case OPT_MODEL_PRECISION: {
			int bits;
			if (!cli_parse_int(optarg, 8, 64, &bits) ||
			    feral_precision_from_bits(bits, &o->model_prec) != FERAL_OK)
				return cli_usage_error(prog, "--model-precision %s: expected 64, 32, 16 or 8",
				                       optarg);
			o->model_override = 1;
			continue;
		}
		case OPT_LOSS: o->loss_set = 1; break;
		case OPT_L2: o->l2_set = 1; break;
		default: break;
		}
		int h = cli_solver_option(prog, &o->s, c, optarg);
		if (h < 0)
			return 2;
		if (h)
			continue;
		double v;
		switch (c) {
		case OPT_JSON: o->json = 1; break;
		case OPT_PEERS: o->peers = 1; break;
		case OPT_PROBLEM:
			if (!strcmp(optarg, "ls"))
				o->problem = PROB_LS;
			else if (!strcmp(optarg, "logistic"))
				o->problem = PROB_LOGISTIC;
			else if (!strcmp(optarg, "svm") || !strcmp(optarg, "hinge"))
				o->problem = PROB_SVM;
			else if (access(optarg, R_OK) == 0) {
				o->problem = PROB_FILE;
				o->path = optarg;
			} else
				return cli_usage_error(prog, "--problem %s: expected ls, logistic, svm or a "
				                             "readable data file (%s)",
				                       optarg, strerror(errno));
			break;
		case OPT_N:
			if (!cli_parse_u64(optarg, &o->n) || o->n < 2 || o->n > (1ull << 40))
				return cli_usage_error(prog, "--n %s: expected a row count >= 2", optarg);
			break;
		case OPT_D:
			if (!cli_parse_u64(optarg, &o->d) || o->d < 1 || o->d > (1ull << 31))
				return cli_usage_error(prog, "--d %s: expected a column count >= 1", optarg);
			break;
		case OPT_DENSITY:
			if (!cli_parse_double(optarg, &o->density) || !(o->density > 0 && o->density <= 1))
				return cli_usage_error(prog, "--density %s: expected a number in (0, 1]", optarg);
			break;
		case OPT_COND:
			if (!cli_parse_double(optarg, &o->cond) || !(o->cond >= 1))
				return cli_usage_error(prog, "--cond %s: expected a number >= 1", optarg);
			break;
		case OPT_NOISE:
			if (!cli_parse_double(optarg, &o->noise) || o->noise < 0)
				return cli_usage_error(prog, "--noise %s: expected a number >= 0", optarg);
			break;
		case OPT_DATA_SEED:
			if (!cli_parse_u64(optarg, &o->data_seed))
				return cli_usage_error(prog, "--data-seed %s: expected an integer >= 0", optarg);
			break;
		case OPT_B: o->b_path = optarg; break;
		case OPT_XSTAR: o->xstar_path = optarg; break;
		case OPT_CACHE_DIR: o->cache_dir = optarg; break;
		case OPT_REPEAT:
			if (!cli_parse_int(optarg, 1, MAX_LIST, &o->repeat))
				return cli_usage_error(prog, "--repeat %s: expected an integer in [1, %d]", optarg,
				                       MAX_LIST);
			break;
		case OPT_TARGET:
			if (!cli_parse_double(optarg, &v) || !(v > 0))
				return cli_usage_error(prog, "--target %s: expected a number > 0", optarg);
			o->target = v;
			break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_TRACE_OUT: o->trace_out = optarg; break;
		case OPT_VERSION: printf("bench %s (%s)\n", FERAL_VERSION, FERAL_GIT_REV); return -1;
		case OPT_HELP: printf("%s\n%s", USAGE, CLI_SOLVER_HELP); return -1;
		default: return cli_usage_error(prog, "unexpected option (see bench --help)");
		}
	}
	if (optind < argc)
		return cli_usage_error(prog, "unexpected argument '%s' (see bench --help)", argv[optind]);
	if ((o->b_path || o->xstar_path) && o->problem != PROB_FILE)
		return cli_usage_error(prog, "--b and --xstar go with --problem FILE");
	if (o->problem == PROB_FILE && (o->n || o->d || o->density < 1 || o->cond > 0 || o->noise >= 0))
		return cli_usage_error(prog, "--n, --d, --density, --cond and --noise shape a synthetic "
		                             "problem: not with --problem FILE");
	if (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM) {
		if (!o->loss_set)
			o->s.cfg.loss = o->problem == PROB_SVM ? FERAL_LOSS_HINGE : FERAL_LOSS_LOGISTIC;
		if (!o->l2_set)
			o->s.cfg.l2 = BENCH_CLASSIF_L2;
	}
	if (o->s.cfg.seconds > 0 && o->s.cfg.max_updates > 0)
		return cli_usage_error(prog, "--seconds and --updates: give one budget per point");
	if (o->s.cfg.epochs > 0)
		return cli_usage_error(prog, "--epochs: bench budgets are --seconds or --updates");
	if (o->s.cfg.seconds == 0 && o->s.cfg.max_updates == 0)
		o->s.cfg.seconds = BENCH_DEFAULT_SECONDS;
	/* --recenter applies to the fixed point points of the sweep only */
	int recenter = o->s.cfg.recenter;
	o->s.cfg.recenter = 0;
	if (cli_solver_finish(prog, &o->s) < 0)
		return 2;
	o->s.cfg.recenter = recenter;
	bool fixed = o->model_override && feral_precision_fixed(o->model_prec);
	for (int k = 0; k < o->nprec && !o->model_override; k++)
		fixed |= o->prec[k] < 32; /* 16 and 8 bits: fixed point */
	if (recenter && !fixed)
		return cli_usage_error(prog, "--recenter: no point of the sweep has a fixed point "
		                             "model (add --precision 8 or 16)");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	char cache_dir[4096];
	if (!o.cache_dir) {
		const char *tmp = getenv("TMPDIR");
		snprintf(cache_dir, sizeof cache_dir, "%s/feral-bench-%lu", tmp && *tmp ? tmp : "/tmp",
		         (unsigned long)getuid());
		o.cache_dir = cache_dir;
	}
	FILE *table = o.json ? stderr : stdout;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct machine m;
	machine_info(&m);
	const char *kname = NULL;
	struct feral_error err = {0};
	enum feral_status st = feral_kernels_select(&kname, &err);
	if (st)
		return cli_report(prog, st, &err);
	double t_start = now_s();

	/* output files: fail early on an unwritable path or a foreign header */
	FILE *trace_f = NULL;
	if (o.trace_out) {
		trace_f = fopen(o.trace_out, "w");
		if (!trace_f) {
			fprintf(stderr, "%s: %s: cannot create: %s\n", prog, o.trace_out, strerror(errno));
			return 1;
		}
		fprintf(trace_f, "point,threads,precision,replicas,kernel,repeat,updates,seconds,"
		                 "objective,relative_residual,relative_error\n");
	}

	/* the bandwidth probe, per distinct thread count, before the data is loaded */
	struct bench_stream streams[MAX_LIST];
	int nstreams = 0;
	for (int k = 0; k < o.nthreads; k++) {
		int seen = 0;
		for (int q = 0; q < nstreams; q++)
			seen |= streams[q].threads == o.threads[k];
		if (seen)
			continue;
		if (bench_stream_probe(o.threads[k], m.llc, BENCH_STREAM_REPS, &streams[nstreams]) != 0) {
			fprintf(stderr, "%s: note: no memory for the bandwidth probe: roofline unavailable\n",
			        prog);
			streams[nstreams].read_bytes_per_s = NAN;
			streams[nstreams].triad_bytes_per_s = NAN;
			streams[nstreams].threads = o.threads[k];
		}
		nstreams++;
	}

	struct problem_data pd;
	rc = build_problem(&o, &m, &pd);
	if (rc) {
		feral_dataset_destroy(&pd.ds);
		free(pd.x_star);
		if (trace_f)
			fclose(trace_f);
		return rc;
	}
	if (o.problem == PROB_FILE && o.s.cfg.loss == FERAL_LOSS_LS && !pd.x_star &&
	    (double)pd.ds->n * (double)pd.ds->d <= BENCH_DGELS_MAX_XSTAR) {
		double *xl = malloc(pd.ds->d * sizeof *xl);
		if (xl && lapack_ls(pd.ds, xl, &pd.dgels_seconds) == 0) {
			pd.x_star = xl;
			pd.xs = XS_LAPACK;
		} else
			free(xl);
	}
	fprintf(stderr, "%s: %s %llu x %llu (%s, %.0f MiB at f32, %s) %s in %.1f s; x* %s; LLC %.0f MiB\n",
	        prog, pd.name, (unsigned long long)pd.ds->n, (unsigned long long)pd.ds->d,
	        pd.ds->layout == FERAL_LAYOUT_CSR ? "csr" : "dense",
	        (double)feral_dataset_bytes(pd.ds) / 1048576.0 *
	                (4.0 / (double)feral_precision_size(pd.ds->precision)),
	        kname, pd.cached ? "loaded from cache" : "built", pd.gen_seconds,
	        xstar_names[pd.xs], (double)m.llc / 1048576.0);
	for (int k = 0; k < o.nthreads; k++)
		if (o.threads[k] > m.nproc) {
			fprintf(stderr,
			        "%s: note: %d threads on %ld processing units: OVERSUBSCRIBED (threads "
			        "time-share cores; records say oversubscribed=true)\n",
			        prog, o.threads[k], m.nproc);
		}

	int npoints = o.nprec * o.nthreads * o.nrepl;
	struct point *pts = calloc((size_t)npoints, sizeof *pts);
	if (!pts) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	char out_jsonl[4200] = "";
	if (o.out && o.json)
		sibling(o.out, "", "jsonl", out_jsonl, sizeof out_jsonl);
	int np = 0, any_failed = 0, out_rc = 0, header_shown = 0;
	for (int ip = 0; ip < o.nprec && !g_signal; ip++) {
		enum feral_precision dp;
		feral_precision_from_bits(o.prec[ip], &dp);
		struct feral_dataset *q = NULL;
		const struct feral_dataset *ds = pd.ds;
		char qmsg[600] = "";
		if (dp != pd.ds->precision) {
			if (pd.ds->precision != FERAL_PRECISION_F32) {
				snprintf(qmsg, sizeof qmsg, "unsupported: data stored at %d bits: cannot make %d",
				         feral_precision_bits(pd.ds->precision), o.prec[ip]);
			} else {
				double t = now_s();
				/* the quantized copy is cached next to the problem (synthetic ones) */
				char qpath[4200] = "";
				if (o.problem != PROB_FILE && pd.cache_path[0]) {
					size_t bl = strlen(pd.cache_path) - strlen(".feral");
					snprintf(qpath, sizeof qpath, "%.*s-q%d.feral", (int)bl, pd.cache_path,
					         o.prec[ip]);
					struct feral_load_options lo;
					feral_load_options_init(&lo);
					struct feral_error qe = {0};
					if (access(qpath, R_OK) == 0 &&
					    feral_dataset_load(qpath, &lo, &q, &qe) == FERAL_OK &&
					    (q->precision != dp || q->n != pd.ds->n || q->d != pd.ds->d))
						feral_dataset_destroy(&q);
				}
				if (q) {
					fprintf(stderr, "%s: %d-bit copy loaded from the cache in %.2f s\n", prog,
					        o.prec[ip], now_s() - t);
				} else {
					st = feral_dataset_quantize(pd.ds, dp, o.data_seed, &q, &err);
					if (st)
						snprintf(qmsg, sizeof qmsg, "%s: quantize: %s",
						         st == FERAL_STATUS_UNSUPPORTED ? "unsupported"
						                                        : feral_strerror(st),
						         err.msg);
					else {
						fprintf(stderr, "%s: quantized to %d bits in %.2f s\n", prog, o.prec[ip],
						        now_s() - t);
						struct feral_error qe = {0};
						if (qpath[0] && feral_dataset_save(q, qpath, &qe) != FERAL_OK)
							fprintf(stderr, "%s: note: could not cache %s: %s\n", prog, qpath,
							        qe.msg);
					}
				}
				ds = q;
			}
		}
		for (int it = 0; it < o.nthreads && !g_signal; it++)
			for (int ir = 0; ir < o.nrepl && !g_signal; ir++) {
				struct point *pt = &pts[np];
				pt->threads = o.threads[it];
				pt->replicas = (enum feral_replicas)o.repl[ir];
				pt->bits = o.prec[ip];
				pt->data_prec = dp;
				pt->model_prec = o.model_override ? o.model_prec : dp;
				for (int k = 0; k < nstreams; k++)
					if (streams[k].threads == pt->threads) {
						pt->stream_read = streams[k].read_bytes_per_s;
						pt->stream_triad = streams[k].triad_bytes_per_s;
					}
				if (qmsg[0] || !ds) {
					pt->nruns = 1;
					pt->runs[0].st = strncmp(qmsg, "unsupported", 11) == 0
					                         ? FERAL_STATUS_UNSUPPORTED
					                         : FERAL_STATUS_INTERNAL;
					snprintf(pt->runs[0].msg, sizeof pt->runs[0].msg, "%s", qmsg);
					pt->runs[0].res.rel_error = NAN;
				} else {
					run_point(&o, &pd, ds, pt, trace_f, np);
				}
				if (pt->nruns == 0)
					break; /* interrupted before the first run */
				build_record(&o, &m, &pd, ds ? ds : pd.ds, pt);
				any_failed |= pt->failed;
				if (!header_shown++)
					table_header(table);
				table_row(table, &pt->rec);
				fflush(table);
				if (o.out) {
					char header[4096], row[8192];
					csv_header(&pt->rec, header, sizeof header);
					csv_row(&pt->rec, row, sizeof row);
					int w = csv_append(o.out, header, row);
					if (!w && out_jsonl[0])
						w = jsonl_append(out_jsonl, &pt->rec);
					if (w) {
						out_rc = w;
						g_signal = g_signal ? g_signal : -1;
					}
				}
				np++;
			}
		feral_dataset_destroy(&q);
	}
	if (trace_f)
		fclose(trace_f);

	/* peers: against the fastest f32 point (else the first) */
	struct peer_ctx pc;
	memset(&pc, 0, sizeof pc);
	if (o.peers && np > 0 && !g_signal) {
		int best = 0;
		for (int k = 0; k < np; k++)
			if (pts[k].bits == 32 && !pts[k].unsupported && !pts[k].failed &&
			    (pts[best].bits != 32 || r_get(&pts[k].rec, "updates_per_s")->v >
			                                     r_get(&pts[best].rec, "updates_per_s")->v))
				best = k;
		pc.o = &o;
		pc.m = &m;
		pc.pd = &pd;
		pc.ref = &pts[best];
		if (o.s.cfg.loss == FERAL_LOSS_LS) {
			peer_lapack(&pc);
			peer_kaczmarz(&pc);
		} else {
			peers_classification(&pc, o.cache_dir);
			peers_fill_match(&pc, pd.ds, &o);
		}
		fprintf(table, "\npeers (ratio > 1: the peer takes longer than feral at %llu thread(s), %s):\n",
		        (unsigned long long)pts[best].threads, r_get(&pts[best].rec, "precision")->s);
		fprintf(table, "%-16s %10s %12s %10s %9s %9s  %s\n", "peer", "seconds", "rel_error",
		        "t_target", "accuracy", "ratio", "status");
		for (int k = 0; k < pc.n; k++) {
			const struct record *r = &pc.recs[k];
			char a[32], b[32], c[32], d[32], e[32];
			fmt_num(a, sizeof a, r_get(r, "seconds")->v, "%.3f");
			fmt_num(b, sizeof b, r_get(r, "relative_error")->v, "%.2e");
			fmt_num(c, sizeof c, r_get(r, "time_to_target")->v, "%.3f");
			fmt_num(d, sizeof d, r_get(r, "accuracy")->v, "%.4f");
			fmt_num(e, sizeof e, r_get(r, "time_ratio_peer_over_feral")->v, "%.2f");
			fprintf(table, "%-16s %10s %12s %10s %9s %9s  %s\n", r_get(r, "peer")->s, a, b, c, d,
			        e, r_get(r, "status")->s);
			if (o.out) {
				char pp[4200], header[4096], row[8192];
				sibling(o.out, "-peers", "csv", pp, sizeof pp);
				csv_header(r, header, sizeof header);
				csv_row(r, row, sizeof row);
				if (csv_append(pp, header, row))
					out_rc = 1;
			}
		}
	}

	if (o.json) {
		struct cli_json j;
		printf("{\"bench\":");
		cli_json_begin(&j, stdout);
		cli_json_str(&j, "version", FERAL_VERSION);
		cli_json_str(&j, "git_rev", FERAL_GIT_REV);
		cli_json_str(&j, "problem", pd.name);
		cli_json_str(&j, "cache", pd.cache_path);
		cli_json_bool(&j, "cached", pd.cached);
		cli_json_num(&j, "seconds", now_s() - t_start);
		cli_json_u64(&j, "points", (uint64_t)np);
		cli_json_end(&j);
		printf(",\"machine\":");
		cli_json_begin(&j, stdout);
		cli_json_str(&j, "host", m.host);
		cli_json_str(&j, "cpu", m.cpu);
		cli_json_u64(&j, "nproc", (uint64_t)m.nproc);
		cli_json_u64(&j, "llc_bytes", m.llc);
		cli_json_end(&j);
		printf(",\"stream\":[");
		for (int k = 0; k < nstreams; k++) {
			printf("%s", k ? "," : "");
			cli_json_begin(&j, stdout);
			cli_json_u64(&j, "threads", (uint64_t)streams[k].threads);
			cli_json_num(&j, "read_bytes_per_s", streams[k].read_bytes_per_s);
			cli_json_num(&j, "triad_bytes_per_s", streams[k].triad_bytes_per_s);
			cli_json_u64(&j, "array_bytes", streams[k].array_bytes);
			cli_json_end(&j);
		}
		printf("],\"records\":[\n");
		for (int k = 0; k < np; k++) {
			printf("%s", k ? "," : "");
			record_json(&pts[k].rec, stdout);
		}
		printf("],\"peers\":[\n");
		for (int k = 0; k < pc.n; k++) {
			printf("%s", k ? "," : "");
			record_json(&pc.recs[k], stdout);
		}
		printf("]}\n");
		fflush(stdout);
	}
	fprintf(stderr, "%s: %d point%s in %.1f s\n", prog, np, np == 1 ? "" : "s", now_s() - t_start);
	free(pts);
	feral_dataset_destroy(&pd.ds);
	free(pd.x_star);
	if (g_signal > 0)
		return g_signal == SIGTERM ? 143 : 130;
	if (out_rc)
		return out_rc;
	return any_failed ? 1 : 0;
}
