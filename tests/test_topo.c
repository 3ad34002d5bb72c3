/* Topology and placement: hwloc synthetic machines (no timing), the real
 * machine (binding warns or succeeds), NUMA allocation. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdint.h>

#include "internal.h"
#include "topo.h"

#ifdef FERAL_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif

TestSuite(topo, .timeout = 30);

/* 2 packages x 2 NUMA nodes x 8 cores x 2 PUs = 32 cores, 64 PUs */
#define SYN64 "package:2 numa:2 core:8 pu:2"
/* this CI machine's shape: 1 node, 2 cores, no SMT */
#define SYN2 "package:1 core:2 pu:1"
/* 2 sockets x 2 NUMA nodes x 16 cores x 2 PUs = 64 cores, 128 PUs */
#define SYN128 "package:2 numa:2 core:16 pu:2"

static struct feral_topo *synthetic(const char *desc)
{
#ifndef FERAL_HAVE_HWLOC
	cr_skip_test("built without hwloc: no synthetic topologies");
#endif
	struct feral_topo *t = NULL;
	struct feral_error e = {0};
	enum feral_status st = feral_topo_create(desc, &t, &e);
	cr_assert_eq(st, FERAL_OK, "feral_topo_create(\"%s\") = %d (%s), expected OK", desc, st,
	             e.msg);
	cr_assert_not_null(t);
	return t;
}

static void plan(const struct feral_topo *t, int T, enum feral_bind b, struct feral_placement *pl,
                 int *over)
{
	struct feral_error e = {0};
	enum feral_status st = feral_topo_plan(t, T, b, pl, over, &e);
	cr_assert_eq(st, FERAL_OK, "plan(T=%d, bind=%s) = %d (%s), expected OK", T,
	             feral_bind_name(b), st, e.msg);
}

/* Synthetic topologies number PUs in logical order: core c holds PUs
 * smt*c .. smt*c+smt-1 (hwloc's default OS numbering). */

Test(topo, test_synthetic_64pu_counts)
{
	struct feral_topo *t = synthetic(SYN64);
	cr_expect_eq(feral_topo_npus(t), 64, "npus = %d, expected 64 for %s", feral_topo_npus(t), SYN64);
	cr_expect_eq(feral_topo_ncores(t), 32, "ncores = %d, expected 32 for %s",
	             feral_topo_ncores(t), SYN64);
	cr_expect_eq(feral_topo_nnodes(t), 4, "nnodes = %d, expected 4 for %s",
	             feral_topo_nnodes(t), SYN64);
	cr_expect_eq(feral_topo_npackages(t), 2, "npackages = %d, expected 2 for %s",
	             feral_topo_npackages(t), SYN64);
	cr_expect_eq(feral_topo_is_synthetic(t), 1);
	for (int j = 0; j < 4; j++)
		cr_expect_eq(feral_topo_node_os_index(t, j), j, "node %d -> OS %d, expected %d", j,
		             feral_topo_node_os_index(t, j), j);
	cr_expect_eq(feral_topo_node_os_index(t, 4), -1, "out-of-range node must map to -1");
	cr_expect_eq(feral_topo_node_os_index(t, -1), -1);
	feral_topo_destroy(&t);
	cr_expect_null(t, "destroy must reset the pointer");
}

Test(topo, test_synthetic_2core_counts)
{
	struct feral_topo *t = synthetic(SYN2);
	cr_expect_eq(feral_topo_npus(t), 2, "npus = %d, expected 2 for %s", feral_topo_npus(t), SYN2);
	cr_expect_eq(feral_topo_ncores(t), 2, "ncores = %d, expected 2 for %s", feral_topo_ncores(t),
	             SYN2);
	cr_expect_eq(feral_topo_nnodes(t), 1, "nnodes = %d, expected 1 for %s", feral_topo_nnodes(t),
	             SYN2);
	feral_topo_destroy(&t);
}

Test(topo, test_bad_synthetic_description_is_usage_error)
{
#ifndef FERAL_HAVE_HWLOC
	cr_skip_test("built without hwloc");
#endif
	struct feral_topo *t = (struct feral_topo *)1;
	struct feral_error e = {0};
	enum feral_status st = feral_topo_create("bogus:3 frob", &t, &e);
	cr_assert_eq(st, FERAL_STATUS_USAGE, "status %d, expected USAGE", st);
	cr_assert_null(t, "out must be NULL on failure");
	cr_assert(strstr(e.msg, "bogus:3 frob"), "message '%s' should name the description", e.msg);
}

Test(topo, test_compact_fills_cores_of_node0_first_then_smt_siblings)
{
	struct feral_topo *t = synthetic(SYN64);
	struct feral_placement pl[64];
	int over = -1;
	plan(t, 64, FERAL_BIND_COMPACT, pl, &over);
	cr_assert_eq(over, 0, "64 workers on 64 PUs: oversubscribed = %d, expected 0", over);
	int core_used[32] = {0}, pu_used[64] = {0};
	for (int w = 0; w < 64; w++) {
		cr_assert(pl[w].pu >= 0 && pl[w].pu < 64, "worker %d: pu %d out of range", w, pl[w].pu);
		cr_assert_eq(pu_used[pl[w].pu]++, 0, "worker %d: PU %d used twice (T=64)", w, pl[w].pu);
		cr_assert_eq(pl[w].pu / 2, pl[w].core, "worker %d: pu %d is not in core %d", w,
		             pl[w].pu, pl[w].core);
		if (w < 32) {
			cr_assert_eq(core_used[pl[w].core]++, 0, "worker %d: core %d already has a worker",
			             w, pl[w].core);
			cr_assert_eq(pl[w].core, w, "worker %d: core %d, expected %d (cores in order)", w,
			             pl[w].core, w);
			cr_assert_eq(pl[w].pu % 2, 0, "worker %d: pu %d, expected the core's first PU", w,
			             pl[w].pu);
			cr_assert_eq(pl[w].node, w / 8, "worker %d: node %d, expected %d (node 0 first)",
			             w, pl[w].node, w / 8);
			cr_assert_eq(pl[w].package, w / 16, "worker %d: package %d, expected %d", w,
			             pl[w].package, w / 16);
		} else {
			cr_assert_eq(pl[w].core, w - 32, "worker %d: core %d, expected sibling on core %d",
			             w, pl[w].core, w - 32);
			cr_assert_eq(pl[w].pu % 2, 1, "worker %d: pu %d, expected the SMT sibling", w,
			             pl[w].pu);
		}
	}
	/* a smaller T is a prefix of the same order */
	struct feral_placement small[20];
	plan(t, 20, FERAL_BIND_COMPACT, small, &over);
	for (int w = 0; w < 20; w++)
		cr_assert_eq(small[w].pu, pl[w].pu, "T=20 worker %d: pu %d, expected %d", w,
		             small[w].pu, pl[w].pu);
	feral_topo_destroy(&t);
}

static int count_distinct(const int *v, int n)
{
	int d = 0;
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= v[j] == v[i];
		d += !seen;
	}
	return d;
}

Test(topo, test_scatter_spreads_over_packages_then_nodes_then_cores)
{
	struct feral_topo *t = synthetic(SYN64);
	struct feral_placement pl[64];
	int v[64], over;

	plan(t, 2, FERAL_BIND_SCATTER, pl, &over);
	for (int w = 0; w < 2; w++)
		v[w] = pl[w].package;
	cr_assert_eq(count_distinct(v, 2), 2, "T=2: packages %d,%d, expected 2 different", v[0],
	             v[1]);

	plan(t, 4, FERAL_BIND_SCATTER, pl, &over);
	for (int w = 0; w < 4; w++)
		v[w] = pl[w].node;
	cr_assert_eq(count_distinct(v, 4), 4, "T=4: nodes %d,%d,%d,%d, expected 4 different", v[0],
	             v[1], v[2], v[3]);

	plan(t, 32, FERAL_BIND_SCATTER, pl, &over);
	int per_node[4] = {0};
	for (int w = 0; w < 32; w++) {
		cr_assert(pl[w].node >= 0 && pl[w].node < 4, "worker %d: node %d", w, pl[w].node);
		per_node[pl[w].node]++;
		v[w] = pl[w].core;
		cr_assert_eq(pl[w].core / 8, pl[w].node, "worker %d: core %d is not in node %d", w,
		             pl[w].core, pl[w].node);
	}
	for (int j = 0; j < 4; j++)
		cr_assert_eq(per_node[j], 8, "T=32: node %d has %d workers, expected 8", j,
		             per_node[j]);
	cr_assert_eq(count_distinct(v, 32), 32, "T=32: %d distinct cores, expected 32",
	             count_distinct(v, 32));

	plan(t, 64, FERAL_BIND_SCATTER, pl, &over);
	for (int w = 0; w < 64; w++)
		v[w] = pl[w].pu;
	cr_assert_eq(count_distinct(v, 64), 64, "T=64: %d distinct PUs, expected 64",
	             count_distinct(v, 64));
	feral_topo_destroy(&t);
}

Test(topo, test_none_is_unbound_with_nodes_round_robin)
{
	struct feral_topo *t = synthetic(SYN64);
	struct feral_placement pl[10];
	int over = -1;
	plan(t, 10, FERAL_BIND_NONE, pl, &over);
	cr_assert_eq(over, 0);
	for (int w = 0; w < 10; w++) {
		cr_assert_eq(pl[w].pu, -1, "worker %d: pu %d, expected -1 (unbound)", w, pl[w].pu);
		cr_assert_eq(pl[w].core, -1, "worker %d: core %d, expected -1", w, pl[w].core);
		cr_assert_eq(pl[w].node, w % 4, "worker %d: node %d, expected %d", w, pl[w].node, w % 4);
		cr_assert_eq(pl[w].package, (w % 4) / 2, "worker %d: package %d, expected %d", w,
		             pl[w].package, (w % 4) / 2);
	}
	struct feral_error e = {0};
	cr_assert_eq(feral_topo_bind_self(t, &pl[0], &e), 0, "pu -1 needs no binding: expected 0");
	feral_topo_destroy(&t);
}

Test(topo, test_oversubscription_wraps_and_uses_every_pu)
{
	struct feral_topo *t = synthetic(SYN64);
	struct feral_placement pl[80];
	enum feral_bind binds[] = {FERAL_BIND_COMPACT, FERAL_BIND_SCATTER, FERAL_BIND_NONE};
	for (int b = 0; b < 3; b++) {
		int over = -1;
		plan(t, 80, binds[b], pl, &over);
		cr_assert_eq(over, 1, "T=80 on 64 PUs (%s): oversubscribed = %d, expected 1",
		             feral_bind_name(binds[b]), over);
		if (binds[b] == FERAL_BIND_NONE)
			continue;
		int used[64] = {0};
		for (int w = 0; w < 80; w++) {
			cr_assert(pl[w].pu >= 0 && pl[w].pu < 64, "worker %d: pu %d", w, pl[w].pu);
			used[pl[w].pu]++;
		}
		for (int p = 0; p < 64; p++)
			cr_assert(used[p] >= 1 && used[p] <= 2,
			          "T=80 (%s): PU %d used %d times, expected 1 or 2",
			          feral_bind_name(binds[b]), p, used[p]);
	}
	feral_topo_destroy(&t);
}

Test(topo, test_two_core_machine_compact_and_oversubscription)
{
	struct feral_topo *t = synthetic(SYN2);
	struct feral_placement pl[4];
	int over = -1;
	plan(t, 2, FERAL_BIND_COMPACT, pl, &over);
	cr_assert_eq(over, 0, "T=2 on 2 PUs: oversubscribed = %d, expected 0", over);
	cr_assert_neq(pl[0].core, pl[1].core, "T=2: both workers on core %d", pl[0].core);
	cr_assert_neq(pl[0].pu, pl[1].pu, "T=2: both workers on PU %d", pl[0].pu);
	plan(t, 4, FERAL_BIND_COMPACT, pl, &over);
	cr_assert_eq(over, 1, "T=4 on 2 PUs: oversubscribed = %d, expected 1", over);
	plan(t, 4, FERAL_BIND_SCATTER, pl, &over);
	cr_assert_eq(over, 1, "T=4 on 2 PUs (scatter): oversubscribed = %d, expected 1", over);
	feral_topo_destroy(&t);
}

Test(topo, test_plan_rejects_bad_arguments)
{
	struct feral_topo *t = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_topo_create(NULL, &t, &e), FERAL_OK, "%s", e.msg);
	struct feral_placement pl[1];
	int over;
	cr_expect_eq(feral_topo_plan(t, 0, FERAL_BIND_COMPACT, pl, &over, &e), FERAL_STATUS_USAGE,
	             "T=0 must be a usage error (the caller resolves 0 to npus)");
	cr_expect_eq(feral_topo_plan(t, 1, FERAL_BIND_COUNT, pl, &over, &e), FERAL_STATUS_USAGE,
	             "bind=COUNT must be a usage error");
	cr_expect_eq(feral_topo_plan(t, 1, FERAL_BIND_COMPACT, NULL, &over, &e), FERAL_STATUS_USAGE);
	cr_expect_eq(feral_topo_create(NULL, NULL, &e), FERAL_STATUS_USAGE);
	feral_topo_destroy(&t);
	feral_topo_destroy(&t); /* NULL is fine */
	feral_topo_destroy(NULL);
}

Test(topo, test_synthetic_topology_does_not_bind)
{
	struct feral_topo *t = synthetic(SYN2);
	struct feral_placement pl[1];
	int over;
	plan(t, 1, FERAL_BIND_COMPACT, pl, &over);
	struct feral_error e = {0};
	int rc = feral_topo_bind_self(t, &pl[0], &e);
	cr_assert_eq(rc, -1, "bind on a synthetic topology returned %d, expected -1", rc);
	cr_assert(strstr(e.msg, "synthetic topology: not binding"), "warning '%s'", e.msg);
	feral_topo_destroy(&t);
}

Test(topo, test_real_machine_binding_succeeds_or_warns)
{
	struct feral_topo *t = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_topo_create(NULL, &t, &e), FERAL_OK, "create(NULL): %s", e.msg);
	int n = feral_topo_npus(t);
	cr_assert(n >= 1, "npus = %d, expected >= 1", n);
	cr_assert(feral_topo_ncores(t) >= 1 && feral_topo_ncores(t) <= n, "ncores = %d, npus = %d",
	          feral_topo_ncores(t), n);
	cr_assert(feral_topo_nnodes(t) >= 1, "nnodes = %d", feral_topo_nnodes(t));
	cr_assert_eq(feral_topo_is_synthetic(t), 0);
	cr_assert(feral_topo_node_os_index(t, 0) >= 0, "node 0 -> OS %d",
	          feral_topo_node_os_index(t, 0));
	struct feral_placement *pl = calloc((size_t)n, sizeof *pl);
	cr_assert_not_null(pl);
	enum feral_bind binds[] = {FERAL_BIND_COMPACT, FERAL_BIND_SCATTER};
	for (int b = 0; b < 2; b++) {
		int over = -1;
		plan(t, n, binds[b], pl, &over);
		cr_assert_eq(over, 0, "T = npus = %d: oversubscribed = %d", n, over);
		for (int w = 0; w < n; w++) {
			memset(&e, 0, sizeof e);
			int rc = feral_topo_bind_self(t, &pl[w], &e);
			cr_assert(rc == 0 || (rc == -1 && e.msg[0] != '\0'),
			          "bind worker %d to PU %d (%s): rc %d, warning '%s'", w, pl[w].pu,
			          feral_bind_name(binds[b]), rc, e.msg);
			if (rc)
				cr_log_info("binding warned (allowed): %s", e.msg);
		}
	}
	/* a PU that does not exist: warns, never aborts */
	struct feral_placement bogus = {.pu = 1 << 20, .core = 0, .node = 0, .package = 0};
	memset(&e, 0, sizeof e);
	cr_assert_eq(feral_topo_bind_self(t, &bogus, &e), -1, "binding PU %d must fail", bogus.pu);
	cr_assert(strstr(e.msg, "1048576"), "warning '%s' should name the PU", e.msg);
	free(pl);
	feral_topo_destroy(&t);
}

static void check_block(void *p, size_t bytes, int node)
{
	cr_assert_not_null(p, "feral_numa_alloc(%zu, %d) returned NULL", bytes, node);
	cr_assert_eq((uintptr_t)p % 64, 0, "feral_numa_alloc(%zu, %d) = %p is not 64-byte aligned",
	             bytes, node, p);
	memset(p, 0xa5, bytes);
	cr_assert_eq(((unsigned char *)p)[bytes - 1], 0xa5);
}

Test(topo, test_numa_alloc_is_aligned_writable_and_falls_back)
{
	int nodes[] = {0, -1, 4095, 1 << 20, -7};
	size_t sizes[] = {1, 63, 64, 4096, 3 << 20};
	for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++)
		for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
			void *p = feral_numa_alloc(sizes[s], nodes[i]);
			check_block(p, sizes[s], nodes[i]);
			feral_numa_free(p, sizes[s]);
		}
	void *z = feral_numa_alloc(0, 0);
	cr_assert_not_null(z, "zero bytes must still give a valid pointer");
	feral_numa_free(z, 0);
	feral_numa_free(NULL, 0);
	cr_assert_null(feral_numa_alloc(SIZE_MAX - 8, 0), "an impossible size must give NULL");
#ifdef FERAL_HAVE_NUMA
	/* where libnuma works, a touched page of a node-0 block sits on node 0 */
	if (numa_available() >= 0) {
		size_t bytes = 1 << 20;
		char *p = feral_numa_alloc(bytes, 0);
		check_block(p, bytes, 0);
		int where = -1;
		if (get_mempolicy(&where, NULL, 0, p + bytes / 2, MPOL_F_NODE | MPOL_F_ADDR) == 0)
			cr_expect_eq(where, 0, "page of a node-0 block is on node %d", where);
		feral_numa_free(p, bytes);
	}
#endif
}

Test(topo, test_bind_names_roundtrip)
{
	for (int b = 0; b < FERAL_BIND_COUNT; b++) {
		enum feral_bind out = FERAL_BIND_COUNT;
		const char *name = feral_bind_name((enum feral_bind)b);
		cr_assert_eq(feral_bind_from_name(name, &out), 0, "'%s' not parsed", name);
		cr_assert_eq((int)out, b, "'%s' -> %d, expected %d", name, (int)out, b);
	}
	enum feral_bind out;
	cr_assert_eq(feral_bind_from_name("SCATTER", &out), 0);
	cr_assert_eq(out, FERAL_BIND_SCATTER);
	cr_assert_eq(feral_bind_from_name("spread", &out), -1);
	cr_assert_str_eq(feral_bind_name(FERAL_BIND_COUNT), "unknown");
}

Test(topo, test_placement_format_text_json_and_truncation)
{
	struct feral_placement pl[2] = {{.pu = 6, .core = 3, .node = 0, .package = 0},
	                                {.pu = -1, .core = -1, .node = 1, .package = 0}};
	char buf[256];
	size_t n = feral_placement_format(pl, 2, 0, buf, sizeof buf);
	const char *want = "worker 0: pu 6 core 3 node 0 package 0\n"
	                   "worker 1: pu - core - node 1 package 0\n";
	cr_assert_str_eq(buf, want);
	cr_assert_eq(n, strlen(want), "length %zu, expected %zu", n, strlen(want));
	n = feral_placement_format(pl, 2, 1, buf, sizeof buf);
	const char *wantj = "[{\"worker\":0,\"pu\":6,\"core\":3,\"node\":0,\"package\":0},"
	                    "{\"worker\":1,\"pu\":-1,\"core\":-1,\"node\":1,\"package\":0}]";
	cr_assert_str_eq(buf, wantj);
	cr_assert_eq(n, strlen(wantj));
	char small[10];
	n = feral_placement_format(pl, 2, 1, small, sizeof small);
	cr_assert_eq(n, strlen(wantj), "truncated call must still report the full length");
	cr_assert_eq(strlen(small), sizeof small - 1, "truncated text must be NUL-terminated");
	cr_assert_eq(feral_placement_format(pl, 2, 1, NULL, 0), strlen(wantj));
}

/* Condensed table: one line per worker group that shares package/node and
 * PU parity, e.g. "w0-15  pkg0 node0 cores 0-15 (first PUs)". */
static void log_table(const char *title, const struct feral_placement *pl, int T)
{
	char buf[8192];
	size_t pos = 0;
	for (int w = 0; w < T; w++)
		pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "%sw%d:p%d/n%d/c%d/pu%d",
		                        w % 8 ? " " : "\n  ", w, pl[w].package, pl[w].node, pl[w].core,
		                        pl[w].pu);
	cr_log_info("%s:%s", title, buf);
}

Test(topo, test_32_threads_on_two_socket_four_node_machine)
{
	struct feral_topo *t = synthetic(SYN128);
	cr_assert_eq(feral_topo_npus(t), 128, "npus %d, expected 128", feral_topo_npus(t));
	cr_assert_eq(feral_topo_ncores(t), 64, "ncores %d, expected 64", feral_topo_ncores(t));
	cr_assert_eq(feral_topo_nnodes(t), 4, "nnodes %d, expected 4", feral_topo_nnodes(t));
	struct feral_placement c[32], s[32];
	int over;
	plan(t, 32, FERAL_BIND_COMPACT, c, &over);
	plan(t, 32, FERAL_BIND_SCATTER, s, &over);
	log_table("compact, T=32 on " SYN128, c, 32);
	log_table("scatter, T=32 on " SYN128, s, 32);

	int cores[32], per_node[4] = {0};
	for (int w = 0; w < 32; w++) {
		cr_assert_eq(c[w].core, w, "compact worker %d: core %d, expected %d", w, c[w].core, w);
		cr_assert_eq(c[w].node, w / 16, "compact worker %d: node %d, expected %d", w, c[w].node,
		             w / 16);
		cr_assert_eq(c[w].package, 0, "compact worker %d: package %d, expected 0", w,
		             c[w].package);
		cr_assert_eq(c[w].pu, 2 * w, "compact worker %d: pu %d, expected first PU %d", w,
		             c[w].pu, 2 * w);
		per_node[s[w].node]++;
		cores[w] = s[w].core;
		cr_assert_eq(s[w].pu % 2, 0, "scatter worker %d: pu %d is an SMT sibling", w, s[w].pu);
	}
	for (int j = 0; j < 4; j++)
		cr_assert_eq(per_node[j], 8, "scatter: node %d has %d workers, expected 8", j,
		             per_node[j]);
	cr_assert_eq(count_distinct(cores, 32), 32, "scatter: %d distinct cores, expected 32",
	             count_distinct(cores, 32));
	/* the exact round-robin: packages, then nodes within the package */
	int want_node[4] = {0, 2, 1, 3};
	for (int w = 0; w < 32; w++)
		cr_assert_eq(s[w].node, want_node[w % 4], "scatter worker %d: node %d, expected %d", w,
		             s[w].node, want_node[w % 4]);
	feral_topo_destroy(&t);
}

/* The tools' and bindings' default worker count is the machine's physical
 * cores, as the topology reads them. */
Test(topo, test_default_threads_are_the_physical_cores)
{
	int cores = 1;
#ifdef FERAL_HAVE_HWLOC
	struct feral_topo *t = NULL;
	cr_assert_eq(feral_topo_create(NULL, &t, NULL), FERAL_OK);
	cores = feral_topo_ncores(t);
	feral_topo_destroy(&t);
#endif
	cr_assert_eq(feral_default_threads(), cores < 1 ? 1 : cores > 4096 ? 4096 : cores);
}
