/* pingpong: what it costs to move a cache line between two cores.
 *
 * A standalone program (no feral code), the measured input of
 * scripts/scaling-model.py.  Two threads, pinned to two processing units
 * (pthread affinity; the first two PUs the process may use unless --cpus
 * names them), run each measure in chunks of a fixed number of operations
 * (10-50 us on a quiet machine), both threads starting each chunk together.
 * A repeat's figure is the median over its chunks of the longer thread's
 * time per operation; the printed figure is the median over the repeats,
 * with the minimum and maximum beside it.
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
 * Why chunks: on a loaded machine a thread loses its processor for
 * milliseconds at a time, and a whole-run average then measures the
 * scheduler.  A preemption lengthens the chunk it falls in (the chunk's time
 * is the longer thread's), it never shortens one, so the median chunk is an
 * undisturbed one while fewer than half are hit.  Spin waits yield the
 * processor after about a millisecond without progress (at once when both
 * threads share one PU), so the run time stays bounded: the repeats stop
 * after --max-seconds (default 3 s; --quick well under 1 s).  On one PU the
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
#define MAX_CHUNKS 256
/* A wait yields the processor after this many spins: about a millisecond
 * (its partner has lost its processor: spinning on would only keep it from
 * another task), or almost at once when both threads share one PU. */
#define SPINS_BEFORE_YIELD (1u << 20)
#define SPINS_SAME_PU 64u

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
	uint64_t ops;         /* operations of one thread per chunk */
	int chunks;
	int lines;
	int nthreads;
	unsigned patience;    /* spins before a wait yields the processor */
	uint64_t *shared;     /* `lines` + 2 lines, line-aligned */
	uint64_t *priv[2];    /* each thread's own lines (sweep_private, private_lines) */
	uint64_t *arrive;     /* chunk barrier: arrivals, on a line of its own */
	int abort;            /* a thread could not start: the other leaves at once */
	double t[2][MAX_CHUNKS]; /* each thread's time for each chunk */
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

/* Spin until *p == want, yielding every `patience` spins (see the top). */
static inline void wait_for(const uint64_t *p, uint64_t want, unsigned patience)
{
	unsigned spins = 0;
	while (ld_acq(p) != want)
		if (++spins == patience) {
			spins = 0;
			sched_yield();
		}
}

/* Both threads start chunk `ch` together.  Returns 0 when the run was
 * called off (the other thread could not start). */
static int chunk_barrier(struct run *r, int ch)
{
	uint64_t want = (uint64_t)r->nthreads * (uint64_t)(ch + 1);
	__atomic_fetch_add(r->arrive, 1, __ATOMIC_ACQ_REL);
	unsigned spins = 0;
	while (ld_acq(r->arrive) < want) {
		if (__atomic_load_n(&r->abort, __ATOMIC_ACQUIRE))
			return 0;
		if (++spins == r->patience) {
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

static uint64_t sink; /* keeps the sweeps' sums alive (both threads add to it) */

/* Operations [from, from + n) of one chunk. */
static uint64_t chunk(struct run *r, int tid, uint64_t from, uint64_t n)
{
	uint64_t *own = r->priv[tid];
	uint64_t acc = 0;
	switch (r->m) {
	case M_ONE_WAY: {
		uint64_t *c = r->shared;
		for (uint64_t i = from; i < from + n; i++) {
			uint64_t v = 2 * i + (uint64_t)tid;
			wait_for(c, v, r->patience);
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
			acc += sweep(r->shared, r->lines, from + i);
		break;
	case M_SWEEP_PRIVATE:
		for (uint64_t i = 0; i < n; i++)
			acc += sweep(own, r->lines, from + i);
		break;
	default:
		break;
	}
	return acc;
}

/* Chunks, each started by both threads together and timed by each.  A chunk
 * during which either thread lost its processor shows as a long one in that
 * thread's time (the chunk's time is the longer of the two), never as a
 * short one: the per-chunk median is robust to a few preemptions. */
static void body(struct run *r, int tid)
{
	uint64_t acc = 0;
	for (int ch = 0; ch < r->chunks; ch++) {
		if (!chunk_barrier(r, ch))
			return;
		double t0 = now_s();
		acc += chunk(r, tid, (uint64_t)ch * r->ops, r->ops);
		r->t[tid][ch] = now_s() - t0;
	}
	__atomic_fetch_add(&sink, acc, __ATOMIC_RELAXED);
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Runs measure m once (`chunks` chunks of `ops` operations) on threads pinned
 * to cpu[0] (and cpu[1]); returns the median over the chunks of nanoseconds
 * per operation of one thread, or -1 on a thread error.  The caller's thread
 * runs nothing, so its affinity is never changed. */
static double run_once(const struct opts *o, enum measure m, uint64_t ops, int chunks,
                       uint64_t *mem)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.m = m;
	r.ops = ops;
	r.chunks = chunks;
	r.lines = o->lines;
	r.nthreads = one_thread(m) ? 1 : 2;
	r.patience = o->cpu[0] == o->cpu[1] ? SPINS_SAME_PU : SPINS_BEFORE_YIELD;
	/* layout: the barrier's line, the shared block, then each thread's block,
	 * each block `lines` + 2 lines long (the gap keeps the adjacent-line
	 * prefetcher off the others) */
	size_t block = (size_t)(o->lines + 2) * WORDS_PER_LINE;
	memset(mem, 0, (2 * WORDS_PER_LINE + 3 * block) * sizeof *mem);
	r.arrive = mem;
	r.shared = mem + 2 * WORDS_PER_LINE;
	r.priv[0] = r.shared + block;
	r.priv[1] = r.shared + 2 * block;
	pthread_t th[2];
	struct arg args[2];
	for (int t = 0; t < r.nthreads; t++) {
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
	for (int t = 0; t < r.nthreads; t++)
		pthread_join(th[t], NULL);
	/* ping-pong: 2 transfers per round trip */
	double per_op = 1e9 / (double)ops / (m == M_ONE_WAY ? 2.0 : 1.0);
	double v[MAX_CHUNKS];
	for (int ch = 0; ch < chunks; ch++) {
		double s = r.t[0][ch];
		if (r.nthreads == 2 && r.t[1][ch] > s)
			s = r.t[1][ch];
		v[ch] = s * per_op;
	}
	return median(v, chunks);
}

/* ---- statistics and output ------------------------------------------------------------- */

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
	r.median = median(s, n);
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
	        "  --quick            16 chunks a measure instead of 64, and 3 repeats (a smoke run)\n"
	        "  --max-seconds S    stop repeating a measure once the run has taken S seconds\n"
	        "                     (default 3; every measure gets at least one repeat)\n"
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
	struct opts o = {.repeats = 15, .lines = 16, .max_seconds = 3.0, .format = FMT_TEXT,
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

	size_t words = 2 * WORDS_PER_LINE + 3 * (size_t)(o.lines + 2) * WORDS_PER_LINE;
	uint64_t *mem = aligned_alloc(2 * LINE, (words * sizeof(uint64_t) + 2 * LINE - 1) /
	                                                (2 * LINE) * (2 * LINE));
	if (!mem) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	/* Operations of one thread per chunk: some 10-50 us each on a quiet
	 * machine (short enough that most chunks run without a preemption). */
	uint64_t ops[M_COUNT] = {
		[M_ONE_WAY] = 128,         [M_LOCAL_RMW] = 16384,     [M_LOCAL_ATOMIC] = 4096,
		[M_FALSE_SHARING] = 4096,  [M_PRIVATE_LINES] = 16384, [M_ATOMIC_SHARED] = 1024,
	};
	/* the sweeps: about 1024 line visits a chunk */
	ops[M_SWEEP_SHARED] = ops[M_SWEEP_PRIVATE] = 1024 / (uint64_t)o.lines + 1;
	int chunks = o.quick ? 16 : 64;
	double per[M_COUNT][MAX_REPEATS];
	int done[M_COUNT] = {0};
	double t_start = now_s();
	/* Repeat-major order: every measure sees the same spread of machine
	 * states, and the sweeps pair up repeat by repeat for conflict_line. */
	for (int rep = 0; rep < o.repeats; rep++) {
		if (rep > 0 && now_s() - t_start > o.max_seconds)
			break;
		for (int m = 0; m < M_CONFLICT_LINE; m++) {
			double ns = run_once(&o, (enum measure)m, ops[m], chunks, mem);
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
