/* Topology, worker placement and NUMA memory (docs/design.md, Threads).
 *
 * The machine (hwloc, or a synthetic hwloc description for tests) is read once
 * into a flat table of PUs in hwloc logical order, each with its OS index, its
 * logical core, NUMA node and package, and its SMT rank (0 for the first PU of
 * its core, 1 for the second, ...).  Both placement orders are computed from
 * that table at creation, so planning is O(T) and independent of hwloc.
 *
 * Placement orders (worker w gets order[w mod npus]; T > npus wraps around
 * and reports oversubscription):
 *
 *   compact  PUs sorted by (SMT rank, logical NUMA node, logical core):
 *            first PU of every core of node 0 in core order, then node 1, ...;
 *            only after every core holds one worker, the second PUs (SMT
 *            siblings) in the same core order, then the third, ...
 *            On "package:2 numa:2 core:8 pu:2": workers 0-7 on cores 0-7
 *            (node 0), 8-15 on cores 8-15 (node 1), ..., 32-63 on the
 *            siblings of cores 0-31.
 *
 *   scatter  round-robin over packages; the k-th worker of a package goes
 *            round-robin over the NUMA nodes of that package; the k-th worker
 *            of a (package, node) pair takes that pair's PUs sorted by
 *            (SMT rank, core): all its cores first, then the SMT siblings.
 *            Uneven packages/nodes are interleaved skipping exhausted ones.
 *            On the same machine: worker 0 -> node 0, 1 -> node 2 (package 1),
 *            2 -> node 1, 3 -> node 3, 4 -> node 0 (next core), ...
 *
 *   none     pu = -1 and core = -1 for every worker (the OS schedules them);
 *            node = the w-th NUMA node that has PUs, round-robin, so the
 *            engine's per-node row shards stay balanced; package = the
 *            package of that node.
 *
 * Without hwloc (FERAL_HAVE_HWLOC undefined) the machine is one package and
 * one node; the PUs are the CPUs of the process affinity mask (or
 * 0..sysconf(_SC_NPROCESSORS_ONLN)-1), each its own core; binding uses
 * pthread_setaffinity_np on Linux.  Synthetic topologies need hwloc.
 *
 * Nothing here prints: binding failures come back as warnings. */
#define _GNU_SOURCE
#include "topo.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef FERAL_HAVE_HWLOC
#include <hwloc.h>
#endif
#ifdef FERAL_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif

struct topo_pu {
	int os;      /* OS index (what binding uses) */
	int core;    /* logical core, dense 0..ncores-1 */
	int node;    /* logical NUMA node */
	int package; /* logical package */
	int smt;     /* rank of this PU inside its core */
};

struct feral_topo {
#ifdef FERAL_HAVE_HWLOC
	hwloc_topology_t hw; /* NULL without hwloc data */
#endif
	int synthetic;
	int npus, ncores, nnodes, npackages;
	struct topo_pu *pus; /* npus, hwloc logical order */
	int *node_os;        /* nnodes: logical -> OS node number */
	int *cpu_nodes;      /* ncpu_nodes logical nodes that hold PUs, ascending */
	int *node_package;   /* nnodes: package of the node's first PU (0 if none) */
	int ncpu_nodes;
	int *compact; /* npus indices into pus */
	int *scatter; /* npus indices into pus */
};

/* ---- building the PU table ------------------------------------------------- */

static enum feral_status topo_alloc_tables(struct feral_topo *t, struct feral_error *err)
{
	t->pus = calloc((size_t)t->npus, sizeof *t->pus);
	t->node_os = calloc((size_t)t->nnodes, sizeof *t->node_os);
	t->node_package = calloc((size_t)t->nnodes, sizeof *t->node_package);
	t->cpu_nodes = calloc((size_t)t->nnodes, sizeof *t->cpu_nodes);
	t->compact = calloc((size_t)t->npus, sizeof *t->compact);
	t->scatter = calloc((size_t)t->npus, sizeof *t->scatter);
	if (!t->pus || !t->node_os || !t->node_package || !t->cpu_nodes || !t->compact ||
	    !t->scatter)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "topology: out of memory");
	return FERAL_OK;
}

#ifdef FERAL_HAVE_HWLOC
static enum feral_status topo_from_hwloc(struct feral_topo *t, struct feral_error *err);

static enum feral_status topo_read_hwloc(struct feral_topo *t, const char *synthetic,
                                         struct feral_error *err)
{
	if (hwloc_topology_init(&t->hw) < 0) {
		t->hw = NULL;
		return feral_fail_errno(err, FERAL_STATUS_INTERNAL, NULL, "hwloc_topology_init");
	}
	if (synthetic) {
		if (hwloc_topology_set_synthetic(t->hw, synthetic) < 0)
			return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
			                  "bad synthetic topology '%s' (hwloc 2 syntax, e.g. "
			                  "\"package:2 numa:2 core:8 pu:2\")",
			                  synthetic);
		t->synthetic = 1;
	}
	if (hwloc_topology_load(t->hw) < 0)
		return feral_fail_errno(err, FERAL_STATUS_INTERNAL, NULL, "hwloc_topology_load");
	return topo_from_hwloc(t, err);
}

/* The machine's topology, discovered once per process and kept: every
 * hwloc_topology_init with no live topology dlopens hwloc's plugins (GL,
 * OpenCL, libxml2 and what they link) and every destroy of the last one
 * unloads them, about 8-10 ms each time on a Debian 12 VM, paid by the CLI's
 * default thread count, each solve's plan and each pilot run.  Each
 * feral_topo gets a cheap hwloc_topology_dup of this one (a loaded topology
 * is safe to read from several threads).  A failed load is not kept, so the
 * next call tries again. */
static pthread_mutex_t machine_lock = PTHREAD_MUTEX_INITIALIZER;
static hwloc_topology_t machine_topo;

static enum feral_status topo_read_machine(struct feral_topo *t, struct feral_error *err)
{
	pthread_mutex_lock(&machine_lock);
	if (!machine_topo) {
		hwloc_topology_t hw;
		if (hwloc_topology_init(&hw) == 0) {
			if (hwloc_topology_load(hw) == 0)
				machine_topo = hw;
			else
				hwloc_topology_destroy(hw);
		}
	}
	int rc = machine_topo ? hwloc_topology_dup(&t->hw, machine_topo) : -1;
	pthread_mutex_unlock(&machine_lock);
	if (rc < 0) {
		t->hw = NULL;
		return feral_fail_errno(err, FERAL_STATUS_INTERNAL, NULL, "hwloc topology");
	}
	return topo_from_hwloc(t, err);
}

/* The PU, core, node and package tables of a loaded t->hw. */
static enum feral_status topo_from_hwloc(struct feral_topo *t, struct feral_error *err)
{

	int npus = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_PU);
	if (npus < 1)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0, "hwloc reports no PU");
	int nnodes = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_NUMANODE);
	int ncore_objs = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_CORE);
	int npack = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_PACKAGE);
	if (ncore_objs < 0 || npack < 0 || (size_t)ncore_objs + (size_t)npus > INT_MAX)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                  "hwloc: cores or packages at several depths");
	t->npus = npus;
	t->nnodes = nnodes > 0 ? nnodes : 1;
	t->npackages = npack > 0 ? npack : 1;
	enum feral_status st = topo_alloc_tables(t, err);
	if (st)
		return st;
	for (int j = 0; j < t->nnodes; j++) {
		hwloc_obj_t n = nnodes > 0 ? hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, (unsigned)j)
		                           : NULL;
		t->node_os[j] = n ? (int)n->os_index : 0;
	}
	/* Core ids: the hwloc logical index, or a fresh id for a PU outside any
	 * core; then renumbered densely in order of first appearance. */
	int nraw = ncore_objs + npus;
	int *remap = malloc((size_t)nraw * sizeof *remap);
	int *count = calloc((size_t)nraw, sizeof *count);
	if (!remap || !count) {
		free(remap);
		free(count);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "topology: out of memory");
	}
	for (int k = 0; k < nraw; k++)
		remap[k] = -1;
	int ncores = 0;
	for (int i = 0; i < npus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_PU, (unsigned)i);
		struct topo_pu *p = &t->pus[i];
		p->os = (int)pu->os_index;
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t->hw, HWLOC_OBJ_CORE, pu);
		int raw = core ? (int)core->logical_index : ncore_objs + i;
		if (remap[raw] < 0)
			remap[raw] = ncores++;
		p->core = remap[raw];
		p->smt = count[p->core]++;
		hwloc_obj_t pack = hwloc_get_ancestor_obj_by_type(t->hw, HWLOC_OBJ_PACKAGE, pu);
		p->package = pack ? (int)pack->logical_index : 0;
		p->node = 0;
		for (int j = 0; j < nnodes; j++) {
			hwloc_obj_t n = hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, (unsigned)j);
			if (n && n->cpuset && hwloc_bitmap_isset(n->cpuset, pu->os_index)) {
				p->node = j;
				break;
			}
		}
	}
	free(remap);
	free(count);
	t->ncores = ncores;
	return FERAL_OK;
}
#endif

/* One package, one node, every allowed CPU its own core. */
static enum feral_status topo_read_fallback(struct feral_topo *t, struct feral_error *err)
{
	int cpus[CPU_SETSIZE];
	int n = 0;
#ifdef __linux__
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
#endif
	if (n == 0) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		if (online < 1)
			online = 1;
		if (online > CPU_SETSIZE)
			online = CPU_SETSIZE;
		for (int c = 0; c < online; c++)
			cpus[n++] = c;
	}
	t->npus = n;
	t->ncores = n;
	t->nnodes = 1;
	t->npackages = 1;
	enum feral_status st = topo_alloc_tables(t, err);
	if (st)
		return st;
	for (int i = 0; i < n; i++)
		t->pus[i] = (struct topo_pu){.os = cpus[i], .core = i, .node = 0, .package = 0, .smt = 0};
	t->node_os[0] = 0;
	return FERAL_OK;
}

/* ---- placement orders ------------------------------------------------------- */

/* Sorting without global state: each PU becomes a record of its sort keys,
 * compared lexicographically; the last key is the PU index (a total order). */
struct sort_rec {
	int k[5];
};

static int cmp_rec(const void *a, const void *b)
{
	const struct sort_rec *p = a, *q = b;
	for (int i = 0; i < 5; i++)
		if (p->k[i] != q->k[i])
			return (p->k[i] > q->k[i]) - (p->k[i] < q->k[i]);
	return 0;
}

/* scatter = 0: compact keys (smt, node, core);
 * scatter = 1: grouping keys (package, node, smt, core). */
static void sort_pus(const struct feral_topo *t, struct sort_rec *rec, int *idx, int scatter)
{
	for (int i = 0; i < t->npus; i++) {
		const struct topo_pu *p = &t->pus[i];
		rec[i] = scatter ? (struct sort_rec){{p->package, p->node, p->smt, p->core, i}}
		                 : (struct sort_rec){{p->smt, p->node, p->core, i, i}};
	}
	qsort(rec, (size_t)t->npus, sizeof *rec, cmp_rec);
	for (int i = 0; i < t->npus; i++)
		idx[i] = rec[i].k[4];
}

/* src[lo, hi) is made of consecutive runs on which key() is constant; write
 * into dst[lo, hi) the round-robin interleaving of the runs: the first element
 * of every run, then the second of every run that has one, ... */
static void interleave_runs(const struct feral_topo *t, const int *src, int *dst, int lo, int hi,
                            int (*key)(const struct topo_pu *), int *starts, int *lens)
{
	int nruns = 0;
	for (int i = lo; i < hi; i++) {
		if (i == lo || key(&t->pus[src[i]]) != key(&t->pus[src[i - 1]])) {
			starts[nruns] = i;
			lens[nruns++] = 0;
		}
		lens[nruns - 1]++;
	}
	int out = lo;
	for (int r = 0; out < hi; r++)
		for (int g = 0; g < nruns; g++)
			if (r < lens[g])
				dst[out++] = src[starts[g] + r];
}

static int key_node(const struct topo_pu *p) { return p->node; }
static int key_package(const struct topo_pu *p) { return p->package; }

static enum feral_status topo_build_orders(struct feral_topo *t, struct feral_error *err)
{
	int n = t->npus;
	int *tmp = malloc((size_t)n * sizeof *tmp);
	int *mid = calloc((size_t)n, sizeof *mid);
	int *starts = malloc((size_t)n * sizeof *starts);
	int *lens = malloc((size_t)n * sizeof *lens);
	struct sort_rec *rec = malloc((size_t)n * sizeof *rec);
	if (!tmp || !mid || !starts || !lens || !rec) {
		free(rec);
		free(tmp);
		free(mid);
		free(starts);
		free(lens);
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "topology: out of memory");
	}
	sort_pus(t, rec, t->compact, 0);

	/* scatter: sorted by (package, node, smt, core); interleave the nodes
	 * inside each package, then the packages. */
	sort_pus(t, rec, tmp, 1);
	for (int lo = 0; lo < n;) {
		int hi = lo;
		while (hi < n && t->pus[tmp[hi]].package == t->pus[tmp[lo]].package)
			hi++;
		interleave_runs(t, tmp, mid, lo, hi, key_node, starts, lens);
		lo = hi;
	}
	interleave_runs(t, mid, t->scatter, 0, n, key_package, starts, lens);

	/* nodes with PUs, and each node's package */
	for (int j = 0; j < t->nnodes; j++)
		t->node_package[j] = -1;
	for (int i = 0; i < n; i++) {
		const struct topo_pu *p = &t->pus[i];
		if (p->node >= 0 && p->node < t->nnodes && t->node_package[p->node] < 0)
			t->node_package[p->node] = p->package;
	}
	t->ncpu_nodes = 0;
	for (int j = 0; j < t->nnodes; j++) {
		if (t->node_package[j] >= 0)
			t->cpu_nodes[t->ncpu_nodes++] = j;
		else
			t->node_package[j] = 0;
	}
	if (t->ncpu_nodes == 0)
		t->cpu_nodes[t->ncpu_nodes++] = 0;
	free(rec);
	free(tmp);
	free(mid);
	free(starts);
	free(lens);
	return FERAL_OK;
}

/* ---- public (internal.h) ------------------------------------------------------ */

enum feral_status feral_topo_create(const char *synthetic, struct feral_topo **out,
                                    struct feral_error *err)
{
	if (!out)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "feral_topo_create: out is NULL");
	*out = NULL;
	struct feral_topo *t = calloc(1, sizeof *t);
	if (!t)
		return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "topology: out of memory");
	enum feral_status st;
#ifdef FERAL_HAVE_HWLOC
	st = synthetic ? topo_read_hwloc(t, synthetic, err) : topo_read_machine(t, err);
	if (st && !synthetic && st != FERAL_STATUS_NOMEM) {
		/* hwloc failed on the real machine: carry on with the flat model */
		feral_topo_destroy(&t);
		t = calloc(1, sizeof *t);
		if (!t)
			return feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "topology: out of memory");
		st = topo_read_fallback(t, err);
	}
#else
	if (synthetic)
		st = feral_fail(err, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		                "synthetic topology '%s' needs hwloc (built without it)", synthetic);
	else
		st = topo_read_fallback(t, err);
#endif
	if (!st)
		st = topo_build_orders(t, err);
	if (st) {
		feral_topo_destroy(&t);
		return st;
	}
	*out = t;
	return FERAL_OK;
}

void feral_topo_destroy(struct feral_topo **tp)
{
	if (!tp || !*tp)
		return;
	struct feral_topo *t = *tp;
#ifdef FERAL_HAVE_HWLOC
	if (t->hw)
		hwloc_topology_destroy(t->hw);
#endif
	free(t->pus);
	free(t->node_os);
	free(t->node_package);
	free(t->cpu_nodes);
	free(t->compact);
	free(t->scatter);
	free(t);
	*tp = NULL;
}

int feral_topo_npus(const struct feral_topo *t) { return t ? t->npus : 1; }
int feral_topo_ncores(const struct feral_topo *t) { return t ? t->ncores : 1; }

int feral_default_threads(void)
{
#ifdef FERAL_HAVE_HWLOC
	struct feral_topo *t = NULL;
	if (feral_topo_create(NULL, &t, NULL) != FERAL_OK)
		return 1;
	int n = feral_topo_ncores(t);
	feral_topo_destroy(&t);
	return n < 1 ? 1 : n > 4096 ? 4096 : n;
#else
	return 1; /* without hwloc the cores are unknown (only the PUs) */
#endif
}
int feral_topo_nnodes(const struct feral_topo *t) { return t ? t->nnodes : 1; }
int feral_topo_npackages(const struct feral_topo *t) { return t ? t->npackages : 1; }
int feral_topo_is_synthetic(const struct feral_topo *t) { return t ? t->synthetic : 0; }

int feral_topo_node_os_index(const struct feral_topo *t, int logical_node)
{
	if (!t || logical_node < 0 || logical_node >= t->nnodes)
		return -1;
	return t->node_os[logical_node];
}

enum feral_status feral_topo_plan(const struct feral_topo *t, int nthreads, enum feral_bind bind,
                                  struct feral_placement *out, int *oversubscribed,
                                  struct feral_error *err)
{
	if (!t || !out)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "feral_topo_plan: NULL argument");
	if (nthreads < 1)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "threads %d: need at least 1 (0 means every PU: pass %d)", nthreads,
		                  t->npus);
	if ((unsigned)bind >= FERAL_BIND_COUNT)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "bind: unknown policy %d",
		                  (int)bind);
	if (oversubscribed)
		*oversubscribed = nthreads > t->npus;
	const int *order = bind == FERAL_BIND_SCATTER ? t->scatter : t->compact;
	for (int w = 0; w < nthreads; w++) {
		if (bind == FERAL_BIND_NONE) {
			int node = t->cpu_nodes[w % t->ncpu_nodes];
			out[w] = (struct feral_placement){
				.pu = -1, .core = -1, .node = node, .package = t->node_package[node]};
		} else {
			const struct topo_pu *p = &t->pus[order[w % t->npus]];
			out[w] = (struct feral_placement){
				.pu = p->os, .core = p->core, .node = p->node, .package = p->package};
		}
	}
	return FERAL_OK;
}

int feral_topo_bind_self(const struct feral_topo *t, const struct feral_placement *p,
                         struct feral_error *warn)
{
	if (!t || !p) {
		feral_fail(warn, FERAL_STATUS_USAGE, NULL, 0, "bind: no topology or placement");
		return -1;
	}
	if (p->pu < 0)
		return 0; /* unbound by request */
	if (t->synthetic) {
		feral_fail(warn, FERAL_STATUS_UNSUPPORTED, NULL, 0,
		           "synthetic topology: not binding (PU %d)", p->pu);
		return -1;
	}
#ifdef FERAL_HAVE_HWLOC
	if (t->hw) {
		hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(t->hw, (unsigned)p->pu);
		if (!pu || !pu->cpuset) {
			feral_fail(warn, FERAL_STATUS_RANGE, NULL, 0,
			           "cannot bind to PU %d: not in this machine's topology", p->pu);
			return -1;
		}
		if (hwloc_set_cpubind(t->hw, pu->cpuset, HWLOC_CPUBIND_THREAD) < 0) {
			feral_fail_errno(warn, FERAL_STATUS_UNSUPPORTED, NULL,
			                 "cannot bind thread to PU %d (core %d, node %d)", p->pu,
			                 p->core, p->node);
			return -1;
		}
		return 0;
	}
#endif
#ifdef __linux__
	if (p->pu >= CPU_SETSIZE) {
		feral_fail(warn, FERAL_STATUS_RANGE, NULL, 0,
		           "cannot bind to PU %d: beyond CPU_SETSIZE %d", p->pu, CPU_SETSIZE);
		return -1;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(p->pu, &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	if (rc != 0) {
		errno = rc;
		feral_fail_errno(warn, FERAL_STATUS_UNSUPPORTED, NULL,
		                 "cannot bind thread to PU %d (core %d, node %d)", p->pu, p->core,
		                 p->node);
		return -1;
	}
	return 0;
#else
	feral_fail(warn, FERAL_STATUS_UNSUPPORTED, NULL, 0,
	           "cannot bind thread to PU %d: thread binding unsupported on this platform",
	           p->pu);
	return -1;
#endif
}

/* ---- NUMA memory ---------------------------------------------------------------
 * Every block starts with a 64-byte header saying how it was obtained, so
 * feral_numa_free needs no size and never mixes up munmap and free.
 *
 * Placement uses mmap + mbind(MPOL_PREFERRED) rather than numa_alloc_onnode:
 * the latter reports a refused mbind (common in containers: EPERM) through
 * libnuma's numa_error(), which prints to stderr, and the library never
 * prints; and MPOL_BIND (what numa_alloc_onnode uses) kills the process at
 * fault time when the node is full, where PREFERRED spills to another node.
 * A refused mbind leaves plain memory under the default policy. */
#define NUMA_HDR 64
#define NUMA_MAGIC 0x6665726c6e756d61ull /* "ferlnuma" */
enum { BLOCK_HEAP = 1, BLOCK_MMAP = 2 };
struct numa_hdr {
	uint64_t magic;
	uint32_t kind;
	size_t total;
};
_Static_assert(sizeof(struct numa_hdr) <= NUMA_HDR, "header fits its cache line");

static void *numa_block_init(void *base, uint32_t kind, size_t total)
{
	struct numa_hdr *h = base;
	h->magic = NUMA_MAGIC;
	h->kind = kind;
	h->total = total;
	return (char *)base + NUMA_HDR;
}

void *feral_numa_alloc(size_t bytes, int node)
{
	if (bytes == 0)
		bytes = 1;
	if (bytes > SIZE_MAX / 2)
		return NULL;
	size_t total = NUMA_HDR + ((bytes + FERAL_CACHELINE - 1) & ~(size_t)(FERAL_CACHELINE - 1));
#ifdef FERAL_HAVE_NUMA
	if (node >= 0 && numa_available() >= 0 && node <= numa_max_node() && node < 1024 &&
	    numa_all_nodes_ptr && numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node)) {
		long page = sysconf(_SC_PAGESIZE);
		size_t pg = page > 0 ? (size_t)page : 4096;
		size_t len = (total + pg - 1) / pg * pg;
		void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base != MAP_FAILED) {
			unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
			const unsigned bits = 8 * sizeof(unsigned long);
			mask[(unsigned)node / bits] |= 1ul << ((unsigned)node % bits);
			int saved = errno;
			/* maxnode counts one past the last bit (the kernel drops one) */
			(void)mbind(base, len, MPOL_PREFERRED, mask, ((unsigned)node / bits + 1) * bits + 1,
			            0);
			errno = saved;
			return numa_block_init(base, BLOCK_MMAP, len);
		}
	}
#else
	(void)node;
#endif
	void *base = NULL;
	if (posix_memalign(&base, FERAL_CACHELINE, total) != 0)
		return NULL;
	return numa_block_init(base, BLOCK_HEAP, total);
}

int feral_numa_place(void *p, size_t bytes, int node)
{
#ifdef FERAL_HAVE_NUMA
	if (!p || !bytes || node < 0 || node >= 1024 || numa_available() < 0 ||
	    node > numa_max_node())
		return -1;
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t pg = page > 0 ? (uintptr_t)page : 4096;
	uintptr_t lo = ((uintptr_t)p + pg - 1) & ~(pg - 1); /* whole pages inside the range */
	uintptr_t hi = ((uintptr_t)p + bytes) & ~(pg - 1);
	if (hi <= lo)
		return 0;
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
	const unsigned bits = 8 * sizeof(unsigned long);
	mask[(unsigned)node / bits] |= 1ul << ((unsigned)node % bits);
	int saved = errno;
	long rc = mbind((void *)lo, hi - lo, MPOL_PREFERRED, mask,
	                ((unsigned)node / bits + 1) * bits + 1, MPOL_MF_MOVE);
	errno = saved;
	return rc == 0 ? 0 : -1;
#else
	(void)p;
	(void)bytes;
	(void)node;
	return -1;
#endif
}

void feral_numa_free(void *p, size_t bytes)
{
	(void)bytes; /* the header knows */
	if (!p)
		return;
	struct numa_hdr *h = (struct numa_hdr *)((char *)p - NUMA_HDR);
	FERAL_ASSERT(h->magic == NUMA_MAGIC);
	h->magic = 0;
	if (h->kind == BLOCK_MMAP)
		munmap(h, h->total);
	else
		free(h);
}

/* ---- names and formatting ------------------------------------------------------- */

static const char *const bind_names[FERAL_BIND_COUNT] = {"compact", "scatter", "none"};

const char *feral_bind_name(enum feral_bind b)
{
	return (unsigned)b < FERAL_BIND_COUNT ? bind_names[b] : "unknown";
}

int feral_bind_from_name(const char *s, enum feral_bind *out)
{
	if (!s)
		return -1;
	for (int b = 0; b < FERAL_BIND_COUNT; b++)
		if (strcasecmp(s, bind_names[b]) == 0) {
			if (out)
				*out = (enum feral_bind)b;
			return 0;
		}
	return -1;
}

/* Appends like snprintf but keeps counting past the end of buf. */
static void fmt_append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fmt_append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *dst = *pos < len ? buf + *pos : NULL;
	size_t room = *pos < len ? len - *pos : 0;
	int k = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		*pos += (size_t)k;
}

size_t feral_placement_format(const struct feral_placement *p, int n, int json, char *buf,
                              size_t len)
{
	size_t pos = 0;
	if (buf && len > 0)
		buf[0] = '\0';
	if (!buf)
		len = 0;
	if (json)
		fmt_append(buf, len, &pos, "[");
	for (int w = 0; p && w < n; w++) {
		if (json) {
			fmt_append(buf, len, &pos,
			           "%s{\"worker\":%d,\"pu\":%d,\"core\":%d,\"node\":%d,\"package\":%d}",
			           w ? "," : "", w, p[w].pu, p[w].core, p[w].node, p[w].package);
		} else {
			char pu[16] = "-", core[16] = "-";
			if (p[w].pu >= 0)
				snprintf(pu, sizeof pu, "%d", p[w].pu);
			if (p[w].core >= 0)
				snprintf(core, sizeof core, "%d", p[w].core);
			fmt_append(buf, len, &pos, "worker %d: pu %s core %s node %d package %d\n", w,
			           pu, core, p[w].node, p[w].package);
		}
	}
	if (json)
		fmt_append(buf, len, &pos, "]");
	return pos;
}

int feral_affinity_save(struct feral_affinity *a)
{
	a->saved = 0;
#ifdef __linux__
	_Static_assert(sizeof(cpu_set_t) <= sizeof a->set, "cpu_set_t larger than the save area");
	cpu_set_t set;
	if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) != 0)
		return -1;
	memcpy(a->set, &set, sizeof set);
	a->saved = 1;
	return 0;
#else
	return -1;
#endif
}

void feral_affinity_restore(const struct feral_affinity *a)
{
#ifdef __linux__
	if (!a->saved)
		return;
	cpu_set_t set;
	memcpy(&set, a->set, sizeof set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
	(void)a;
#endif
}
