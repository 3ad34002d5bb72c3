/* bench: the machine (host, CPU, cores, caches, memory) and its bandwidth.
 *
 * The bandwidth probe is sized from a measured bandwidth-versus-size curve,
 * not from the cache size hwloc reports (under some hypervisors that is the
 * host's, or a per-core share of a huge L3: arrays sized from it measured
 * cache bandwidth, or ran for minutes).  The arrays start at 8 MiB each
 * (24 MiB in all) and double while the read bandwidth still changes: the
 * curve has flattened when the last three sizes (a 4x range) agree within
 * 10 %, and the largest size is the one recorded.  Growth also stops at the
 * time budget (the next size would overrun it) and at a quarter of the
 * available memory.  The result is cached in the bench's cache directory,
 * one file per (host, CPU model, threads), so a machine is measured once. */
#define _GNU_SOURCE
#include "bench.h"
#include "internal.h"
#include "topo.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef FERAL_HAVE_HWLOC
#include <hwloc.h>
#endif

#define PROBE_FIRST_BYTES (8ull << 20) /* each of the three arrays, first size */
#define PROBE_MAX_BYTES (4ull << 30)   /* each array, at most */
#define PROBE_FLAT 1.10                /* max/min of the last three sizes */
#define PROBE_REPS 3

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int make_dirs(const char *dir)
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

/* Linux >= 4.0: "5" > /proc/self/clear_refs.  Returns 1 when it worked. */
int reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0)
		return 0;
	int ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok;
}

/* sysfs: the highest cache level of cpu0 (under KVM, sysconf's cpuid-based
 * figure can be the host's). */
static uint64_t llc_sysfs(void)
{
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

/* The last-level cache as hwloc reports it (it honours HWLOC_SYNTHETIC and
 * HWLOC_XMLFILE, which is how the tests make it report a large one); sysfs
 * without hwloc. */
static uint64_t llc_bytes(void)
{
#ifdef FERAL_HAVE_HWLOC
	hwloc_topology_t t;
	uint64_t best = 0;
	if (hwloc_topology_init(&t) == 0) {
		if (hwloc_topology_load(t) == 0) {
			static const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L4CACHE,
			                                          HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE};
			for (size_t k = 0; k < sizeof levels / sizeof *levels && !best; k++) {
				hwloc_obj_t o = hwloc_get_obj_by_type(t, levels[k], 0);
				if (o && o->attr)
					best = o->attr->cache.size;
			}
		}
		hwloc_topology_destroy(t);
	}
	if (best)
		return best;
#endif
	return llc_sysfs();
}

void machine_info(struct machine *m)
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
	m->mem_available = feral_mem_available();
	/* physical cores: the library's topology (hwloc), the threads default */
	struct feral_topo *t = NULL;
	struct feral_error err = {0};
	if (feral_topo_create(NULL, &t, &err) == FERAL_OK)
		m->cores = feral_topo_ncores(t);
	feral_topo_destroy(&t);
	if (m->cores < 1)
		m->cores = m->nproc > 0 ? (int)m->nproc : 1;
}

/* ---- the probe cache --------------------------------------------------------- */

static void probe_path(const struct machine *m, const char *dir, int threads, char *out,
                       size_t len)
{
	/* FNV-1a of host and CPU model: one file per machine and thread count */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *s = m->host; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	h = (h ^ '\n') * 0x100000001b3ull;
	for (const char *s = m->cpu; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	snprintf(out, len, "%s/probe-%016llx-t%d.txt", dir, (unsigned long long)h, threads);
}

/* 0 when the file holds a probe of this host, CPU and thread count. */
static int probe_load(const struct machine *m, const char *path, int threads,
                      struct bench_stream *s)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int host = 0, cpu = 0, got = 0, t = -1;
	memset(s, 0, sizeof *s);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = 0;
		if (!strcmp(line, "host"))
			host = !strcmp(eq, m->host);
		else if (!strcmp(line, "cpu"))
			cpu = !strcmp(eq, m->cpu);
		else if (!strcmp(line, "threads"))
			t = atoi(eq);
		else if (!strcmp(line, "read_bytes_per_s"))
			got |= (s->read_bytes_per_s = strtod(eq, NULL)) > 0;
		else if (!strcmp(line, "triad_bytes_per_s"))
			s->triad_bytes_per_s = strtod(eq, NULL);
		else if (!strcmp(line, "array_bytes"))
			s->array_bytes = strtoull(eq, NULL, 10);
		else if (!strcmp(line, "seconds"))
			s->seconds = strtod(eq, NULL);
		else if (!strcmp(line, "sizes"))
			s->sizes = atoi(eq);
		else if (!strcmp(line, "flat"))
			s->flat = atoi(eq);
	}
	fclose(f);
	if (!host || !cpu || t != threads || !got || !s->array_bytes)
		return -1;
	s->threads = threads;
	s->cached = 1;
	return 0;
}

static void probe_save(const struct machine *m, const char *dir, const char *path,
                       const struct bench_stream *s)
{
	char tmp[4300];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *f;
	if (make_dirs(dir) != 0 || !(f = fopen(tmp, "w")))
		return; /* best effort: measured again next time */
	fprintf(f,
	        "host=%s\ncpu=%s\nthreads=%d\nread_bytes_per_s=%.6e\ntriad_bytes_per_s=%.6e\n"
	        "array_bytes=%llu\nseconds=%.3f\nsizes=%d\nflat=%d\n",
	        m->host, m->cpu, s->threads, s->read_bytes_per_s, s->triad_bytes_per_s,
	        (unsigned long long)s->array_bytes, s->seconds, s->sizes, s->flat);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}

/* ---- the bandwidth-versus-size curve ----------------------------------------- */

static int probe_measure(const struct machine *m, int threads, double budget,
                         struct bench_stream *out)
{
	double t0 = now_s(), bw[64], last_step = 0;
	uint64_t cap = m->mem_available / 12; /* three arrays <= a quarter of MemAvailable */
	if (cap > PROBE_MAX_BYTES)
		cap = PROBE_MAX_BYTES;
	int k = 0, flat = 0;
	struct bench_stream s;
	memset(out, 0, sizeof *out);
	for (uint64_t bytes = PROBE_FIRST_BYTES; bytes <= cap && k < 64; bytes *= 2) {
		double left = budget - (now_s() - t0);
		/* a step costs about twice the last one (twice the pages to touch) */
		if (k > 0 && 2.2 * last_step > left)
			break;
		double ts = now_s();
		if (bench_stream_measure(threads, bytes, PROBE_REPS, left, &s) != 0)
			break;
		last_step = now_s() - ts;
		*out = s;
		bw[k++] = s.read_bytes_per_s;
		if (k >= 3) {
			double lo = fmin(bw[k - 1], fmin(bw[k - 2], bw[k - 3]));
			double hi = fmax(bw[k - 1], fmax(bw[k - 2], bw[k - 3]));
			if (lo > 0 && hi <= PROBE_FLAT * lo) {
				flat = 1;
				break;
			}
		}
	}
	if (k == 0)
		return -1;
	out->threads = threads;
	out->sizes = k;
	out->flat = flat;
	out->seconds = now_s() - t0;
	return 0;
}

int bench_probe(const struct machine *m, const char *cache_dir, int threads, double budget,
                struct bench_stream *out)
{
	char path[4200];
	probe_path(m, cache_dir, threads, path, sizeof path);
	if (probe_load(m, path, threads, out) == 0)
		return 0;
	if (probe_measure(m, threads, budget, out) != 0) {
		memset(out, 0, sizeof *out);
		out->threads = threads;
		out->read_bytes_per_s = out->triad_bytes_per_s = NAN;
		return -1;
	}
	probe_save(m, cache_dir, path, out);
	return 0;
}

int bench_probe_cached(const struct machine *m, const char *cache_dir, int threads)
{
	char path[4200];
	struct bench_stream s;
	probe_path(m, cache_dir, threads, path, sizeof path);
	return probe_load(m, path, threads, &s) == 0;
}
