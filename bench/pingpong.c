/* pingpong: what it costs to move a cache line between two cores.
 *
 * A standalone program (no feral code), the measured input of
 * scripts/scaling-model.py.  Two threads, pinned to two processing units
 * (pthread affinity; the first two PUs the process may use unless --cpus
 * names them), run a fixed number of operations per repeat; every figure
 * is the median over the repeats, with the minimum and maximum beside it.
 *
 *   one_way_ns          ping-pong: one shared counter on its own line; thread A
 *                       waits for an even value and stores +1, B waits for an odd
 *                       one and stores +1.  Each store the other thread sees is one
 *                       transfer of the line: round trip / 2.
 *   local_rmw_ns        one thread, load + 1 + store on its own line (relaxed
 *                       atomics: plain moves on x86): the uncontended update.
 *   local_atomic_ns     one thread, atomic fetch-add on its own line.
 *   false_sharing_ns    two threads, load/+1/store each on its own word of ONE line
 *                       (per operation of one thread, both running).
 *   private_lines_ns    the same with the words two lines apart (no sharing).
 *   atomic_shared_ns    two threads, atomic fetch-add on the same word.
 *   sweep_shared_ns     a Hogwild!-shaped update of `lines` lines: read every
 *                       word (the dot product), then write every word (the
 *                       axpy), both threads on ONE array of `lines` lines.
 *   sweep_private_ns    the same, each thread on its own array.
 *   conflict_line_ns    (sweep_shared - sweep_private) / lines: the price of one
 *                       model line that the other core wrote since this one last
 *                       touched it, with the overlap (memory-level parallelism)
 *                       a real update gets.  scripts/scaling-model.py's kappa.
 *
 * Spin waits yield the processor after a while without progress, so a
 * thread whose partner is descheduled (a loaded machine, or both threads on
 * one PU when only one is allowed) does not burn its time slice: the run
 * time stays bounded (about 1-3 s by default, --quick well under 1 s) and
 * the median discards the repeats that a preemption spoiled.  On one PU the
 * two-thread figures measure context switches, not line transfers; the
 * output says so (same_pu). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "pingpong"
#define LINE 64
#define WORDS_PER_LINE (LINE / (int)sizeof(uint64_t))
#define MAX_REPEATS 101
#define MAX_LINES 4096
#define SPINS_BEFORE_YIELD 4096

enum measure {
	M_ONE_WAY,
	M_LOCAL_RMW,
	M_LOCAL_ATOMIC,
	M_FALSE_SHARING,
	M_PRIVATE_LINES,
	M_ATOMIC_SHARED,
	M_SWEEP_SHARED,
	M_SWEEP_PRIVATE,
	M_CONFLICT_LINE, /* derived from the two sweeps, repeat by repeat */
	M_COUNT
};

static const char *const measure_name[M_COUNT] = {
	"one_way_ns",       "local_rmw_ns",     "local_atomic_ns",
	"false_sharing_ns", "private_lines_ns", "atomic_shared_ns",
	"sweep_shared_ns",  "sweep_private_ns", "conflict_line_ns",
};

struct opts {
	int cpu[2];
	int cpus_given;
	int repeats;
	int lines;
	int quick;
	double max_seconds;
	enum { FMT_TEXT, FMT_JSON, FMT_CSV } format;
	int header;
};

/* ---- shared state of one two-thread run --------------------------------------------- */

struct run {
	enum measure m;
	uint64_t iters;
	int lines;
	uint64_t *shared;     /* MAX(2, lines) * 2 lines, line-aligned */
	uint64_t *priv[2];    /* each thread's own lines (sweep_private, private_lines) */
	int ready;            /* start barrier: both threads arrive, then go */
	int abort;            /* a thread could not start: the other leaves at once */
	double seconds[2];    /* each thread's elapsed time */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t ld_acq(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void st(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void st_rel(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* Spin until *p == want, yielding after a while without it (see the top). */
static inline void wait_for(const uint64_t *p, uint64_t want)
{
	unsigned spins = 0;
	while (ld_acq(p) != want)
		if (++spins == SPINS_BEFORE_YIELD) {
			spins = 0;
			sched_yield();
		}
}

/* Returns 0 when the run was called off. */
static int start_barrier(struct run *r)
{
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
	unsigned spins = 0;
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < 2) {
		if (__atomic_load_n(&r->abort, __ATOMIC_ACQUIRE))
			return 0;
		if (++spins == SPINS_BEFORE_YIELD) {
			spins = 0;
			sched_yield();
		}
	}
	return 1;
}

/* One Hogwild!-shaped update of `lines` lines: read all, then write all. */
static inline uint64_t sweep(uint64_t *x, int lines, uint64_t salt)
{
	int n = lines * WORDS_PER_LINE;
	uint64_t s = salt;
	for (int k = 0; k < n; k++)
		s += ld(x + k);
	uint64_t g = (s & 7) + 1;
	for (int k = 0; k < n; k++)
		st(x + k, ld(x + k) + g);
	return s;
}

static volatile uint64_t sink; /* keeps the sweeps' sums alive */

static void body(struct run *r, int tid)
{
	uint64_t n = r->iters;
	uint64_t *own = r->priv[tid];
	uint64_t acc = 0;
	if (!start_barrier(r))
		return;
	double t0 = now_s();
	switch (r->m) {
	case M_ONE_WAY: {
		uint64_t *c = r->shared;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t v = 2 * i + (uint64_t)tid;
			wait_for(c, v);
			st_rel(c, v + 1);
		}
		break;
	}
	case M_FALSE_SHARING: { /* word tid of line 0 */
		uint64_t *w = r->shared + tid;
		for (uint64_t i = 0; i < n; i++)
			st(w, ld(w) + 1);
		break;
	}
	case M_PRIVATE_LINES:
	case M_LOCAL_RMW:
		for (uint64_t i = 0; i < n; i++)
			st(own, ld(own) + 1);
		break;
	case M_LOCAL_ATOMIC:
		for (uint64_t i = 0; i < n; i++)
			__atomic_fetch_add(own, 1, __ATOMIC_RELAXED);
		break;
	case M_ATOMIC_SHARED:
		for (uint64_t i = 0; i < n; i++)
			__atomic_fetch_add(r->shared, 1, __ATOMIC_RELAXED);
		break;
	case M_SWEEP_SHARED:
		for (uint64_t i = 0; i < n; i++)
			acc += sweep(r->shared, r->lines, i);
		break;
	case M_SWEEP_PRIVATE:
		for (uint64_t i = 0; i < n; i++)
			acc += sweep(own, r->lines, i);
		break;
	default:
		break;
	}
	r->seconds[tid] = now_s() - t0;
	sink += acc;
}

struct arg {
	struct run *r;
	int tid;
};

static void *thread_main(void *p)
{
	struct arg *a = p;
	body(a->r, a->tid);
	return NULL;
}

static int one_thread(enum measure m)
{
	return m == M_LOCAL_RMW || m == M_LOCAL_ATOMIC;
}

/* Runs measure m once on threads pinned to cpu[0] (and cpu[1]); returns the
 * nanoseconds per operation of one thread, or -1 on a thread error.  The
 * caller's thread runs nothing, so its affinity is never changed. */
static double run_once(const struct opts *o, enum measure m, uint64_t iters, uint64_t *mem)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.m = m;
	r.iters = iters;
	r.lines = o->lines;
	/* layout: the shared block, then each thread's block, each `lines` + 2
	 * lines long (the gap keeps the adjacent-line prefetcher off the others) */
	size_t block = (size_t)(o->lines + 2) * WORDS_PER_LINE;
	memset(mem, 0, 3 * block * sizeof *mem);
	r.shared = mem;
	r.priv[0] = mem + block;
	r.priv[1] = mem + 2 * block;
	int nt = one_thread(m) ? 1 : 2;
	if (nt == 1)
		r.ready = 1; /* the barrier waits for one thread only */
	pthread_t th[2];
	struct arg args[2];
	for (int t = 0; t < nt; t++) {
		pthread_attr_t at;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(o->cpu[t], &set);
		args[t].r = &r;
		args[t].tid = t;
		int e = pthread_attr_init(&at);
		if (!e) {
			e = pthread_attr_setaffinity_np(&at, sizeof set, &set);
			if (!e)
				e = pthread_create(&th[t], &at, thread_main, &args[t]);
			pthread_attr_destroy(&at);
		}
		if (e) {
			fprintf(stderr, "%s: cannot start a thread pinned to cpu %d: %s\n", PROG,
			        o->cpu[t], strerror(e));
			__atomic_store_n(&r.abort, 1, __ATOMIC_RELEASE); /* thread 0 leaves its barrier */
			for (int u = 0; u < t; u++)
				pthread_join(th[u], NULL);
			return -1;
		}
	}
	for (int t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	double s = r.seconds[0];
	if (nt == 2 && r.seconds[1] > s)
		s = r.seconds[1];
	/* ping-pong: 2 transfers per round trip, iters round trips */
	double ops = m == M_ONE_WAY ? 2.0 * (double)iters : (double)iters;
	return 1e9 * s / ops;
}

/* ---- statistics and output ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stat3 {
	double median, min, max;
	int n;
};

static struct stat3 summarize(const double *v, int n)
{
	double s[MAX_REPEATS];
	struct stat3 r = {NAN, NAN, NAN, n};
	if (n <= 0)
		return r;
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	r.median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
	r.min = s[0];
	r.max = s[n - 1];
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: " PROG " [--cpus A,B] [--repeats N] [--lines L] [--quick]\n"
	        "                [--max-seconds S] [--format text|json|csv] [--no-header]\n"
	        "\n"
	        "The cost of moving a cache line between two cores: ping-pong latency, the\n"
	        "uncontended update, false sharing against private lines, a contended atomic,\n"
	        "and a Hogwild!-shaped update of L lines shared by both threads against private\n"
	        "ones.  Two threads pinned to two processing units; each figure is the median\n"
	        "of the repeats (with min and max), in nanoseconds per operation of one thread.\n"
	        "\n"
	        "  --cpus A,B         the two processing units (default: the first two allowed)\n"
	        "  --repeats N        repeats per measure (default 15, --quick 3; at most %d)\n"
	        "  --lines L          lines of the swept update (default 16: d = 256 in f32)\n"
	        "  --quick            a tenth of the operations and 3 repeats (a smoke run)\n"
	        "  --max-seconds S    stop repeating a measure once the run has taken S seconds\n"
	        "                     (default 4; every measure gets at least one repeat)\n"
	        "  --format F         text (one line per measure), json (one object) or csv\n"
	        "                     (one row per measure)\n"
	        "  --no-header        csv without its header line (to append runs)\n"
	        "  --help             this text\n",
	        MAX_REPEATS);
}

/* The first two CPUs of the process's affinity mask (one twice when only one
 * is allowed).  Returns the number allowed, or -1. */
static int default_cpus(int cpu[2])
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return -1;
	int n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	if (n == 1)
		cpu[1] = cpu[0];
	return CPU_COUNT(&set);
}

static int allowed(int c)
{
	cpu_set_t set;
	return c >= 0 && c < CPU_SETSIZE && sched_getaffinity(0, sizeof set, &set) == 0 &&
	       CPU_ISSET(c, &set);
}

static int parse_int(const char *s, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return 0;
	*v = x;
	return 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"cpus", required_argument, 0, 'c'},      {"repeats", required_argument, 0, 'r'},
		{"lines", required_argument, 0, 'l'},     {"quick", no_argument, 0, 'q'},
		{"max-seconds", required_argument, 0, 's'}, {"format", required_argument, 0, 'f'},
		{"no-header", no_argument, 0, 'H'},       {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int repeats_given = 0, c;
	long v;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': {
			char *comma = strchr(optarg, ',');
			long a, b;
			if (!comma) {
				fprintf(stderr, "%s: --cpus %s: expected two CPU numbers A,B\n", PROG, optarg);
				return 2;
			}
			*comma = 0;
			if (!parse_int(optarg, 0, CPU_SETSIZE - 1, &a) ||
			    !parse_int(comma + 1, 0, CPU_SETSIZE - 1, &b)) {
				fprintf(stderr, "%s: --cpus %s,%s: expected two CPU numbers A,B\n", PROG,
				        optarg, comma + 1);
				return 2;
			}
			o->cpu[0] = (int)a;
			o->cpu[1] = (int)b;
			o->cpus_given = 1;
			break;
		}
		case 'r':
			if (!parse_int(optarg, 1, MAX_REPEATS, &v)) {
				fprintf(stderr, "%s: --repeats %s: expected 1 to %d\n", PROG, optarg,
				        MAX_REPEATS);
				return 2;
			}
			o->repeats = (int)v;
			repeats_given = 1;
			break;
		case 'l':
			if (!parse_int(optarg, 1, MAX_LINES, &v)) {
				fprintf(stderr, "%s: --lines %s: expected 1 to %d\n", PROG, optarg, MAX_LINES);
				return 2;
			}
			o->lines = (int)v;
			break;
		case 'q': o->quick = 1; break;
		case 's': {
			char *end;
			double s = strtod(optarg, &end);
			if (end == optarg || *end || !(s > 0) || !isfinite(s)) {
				fprintf(stderr, "%s: --max-seconds %s: expected a positive number\n", PROG,
				        optarg);
				return 2;
			}
			o->max_seconds = s;
			break;
		}
		case 'f':
			if (!strcmp(optarg, "text"))
				o->format = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				o->format = FMT_JSON;
			else if (!strcmp(optarg, "csv"))
				o->format = FMT_CSV;
			else {
				fprintf(stderr, "%s: --format %s: expected text, json or csv\n", PROG, optarg);
				return 2;
			}
			break;
		case 'H': o->header = 0; break;
		case 'h': usage(stdout); return 1;
		default:
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROG, argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", PROG, argv[optind]);
		return 2;
	}
	if (o->quick && !repeats_given)
		o->repeats = 3;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.repeats = 15, .lines = 16, .max_seconds = 4.0, .format = FMT_TEXT,
	                 .header = 1};
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	int ncpu;
	if (o.cpus_given) {
		for (int t = 0; t < 2; t++)
			if (!allowed(o.cpu[t])) {
				fprintf(stderr, "%s: --cpus: cpu %d is not one this process may run on\n",
				        PROG, o.cpu[t]);
				return 2;
			}
		ncpu = 2;
	} else if ((ncpu = default_cpus(o.cpu)) < 1) {
		fprintf(stderr, "%s: cannot read this process's CPU affinity: %s\n", PROG,
		        strerror(errno));
		return 1;
	}
	int same_pu = o.cpu[0] == o.cpu[1];
	if (same_pu)
		fprintf(stderr, "%s: note: both threads on cpu %d (one allowed): the two-thread "
		                "figures are context switches, not line transfers\n",
		        PROG, o.cpu[0]);

	size_t words = 3 * (size_t)(o.lines + 2) * WORDS_PER_LINE;
	uint64_t *mem = aligned_alloc(2 * LINE, (words * sizeof(uint64_t) + 2 * LINE - 1) /
	                                                (2 * LINE) * (2 * LINE));
	if (!mem) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	/* Operations per repeat: a few milliseconds each on a quiet machine. */
	uint64_t scale = o.quick ? 10 : 1;
	uint64_t iters[M_COUNT] = {
		[M_ONE_WAY] = 20000,       [M_LOCAL_RMW] = 2000000,  [M_LOCAL_ATOMIC] = 1000000,
		[M_FALSE_SHARING] = 200000, [M_PRIVATE_LINES] = 2000000, [M_ATOMIC_SHARED] = 200000,
	};
	/* the sweeps: about 320000 line visits */
	iters[M_SWEEP_SHARED] = iters[M_SWEEP_PRIVATE] = 320000 / (uint64_t)o.lines + 1;
	double per[M_COUNT][MAX_REPEATS];
	int done[M_COUNT] = {0};
	double t_start = now_s();
	/* Repeat-major order: every measure sees the same spread of machine
	 * states, and the sweeps pair up repeat by repeat for conflict_line. */
	for (int rep = 0; rep < o.repeats; rep++) {
		if (rep > 0 && now_s() - t_start > o.max_seconds)
			break;
		for (int m = 0; m < M_CONFLICT_LINE; m++) {
			uint64_t n = iters[m] / scale + 1;
			double ns = run_once(&o, (enum measure)m, n, mem);
			if (ns < 0) {
				free(mem);
				return 1;
			}
			per[m][done[m]++] = ns;
		}
		double c = (per[M_SWEEP_SHARED][rep] - per[M_SWEEP_PRIVATE][rep]) / o.lines;
		per[M_CONFLICT_LINE][done[M_CONFLICT_LINE]++] = c;
	}
	double elapsed = now_s() - t_start;
	free(mem);

	char host[256] = "unknown";
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	char stamp[32];
	time_t tt = time(NULL);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
	struct stat3 s[M_COUNT];
	for (int m = 0; m < M_COUNT; m++)
		s[m] = summarize(per[m], done[m]);

	switch (o.format) {
	case FMT_JSON:
		printf("{\"host\":\"%s\",\"timestamp\":\"%s\",\"cpus\":[%d,%d],\"allowed_cpus\":%d,"
		       "\"same_pu\":%s,\"lines\":%d,\"repeats\":%d,\"quick\":%s,\"seconds\":%.3f",
		       host, stamp, o.cpu[0], o.cpu[1], ncpu, same_pu ? "true" : "false", o.lines,
		       s[0].n, o.quick ? "true" : "false", elapsed);
		for (int m = 0; m < M_COUNT; m++)
			printf(",\"%s\":%.4g,\"%s_min\":%.4g,\"%s_max\":%.4g", measure_name[m], s[m].median,
			       measure_name[m], s[m].min, measure_name[m], s[m].max);
		printf("}\n");
		break;
	case FMT_CSV:
		if (o.header)
			printf("timestamp,host,cpu_a,cpu_b,same_pu,lines,repeats,measure,median_ns,min_ns,"
			       "max_ns\n");
		for (int m = 0; m < M_COUNT; m++)
			printf("%s,%s,%d,%d,%d,%d,%d,%s,%.4g,%.4g,%.4g\n", stamp, host, o.cpu[0], o.cpu[1],
			       same_pu, o.lines, s[m].n, measure_name[m], s[m].median, s[m].min, s[m].max);
		break;
	default:
		printf("# pingpong: cpus %d,%d%s, %d repeats, %.2f s; ns per operation of one thread: "
		       "median [min max]\n",
		       o.cpu[0], o.cpu[1], same_pu ? " (same PU)" : "", s[0].n, elapsed);
		for (int m = 0; m < M_COUNT; m++)
			printf("%-18s %9.2f  [%.2f %.2f]\n", measure_name[m], s[m].median, s[m].min,
			       s[m].max);
		break;
	}
	return 0;
}
