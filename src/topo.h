/* Private helpers of topo.c beyond the interface in internal.h.
 * Not installed; hidden from the shared library's ABI like internal.h. */
#ifndef FERAL_TOPO_H
#define FERAL_TOPO_H

#include "internal.h"

/* Number of packages (sockets); 1 when hwloc reports none. */
int feral_topo_npackages(const struct feral_topo *t);
/* 1 for a topology built from a synthetic description (cannot bind). */
int feral_topo_is_synthetic(const struct feral_topo *t);
/* OS number of the logical NUMA node `logical_node` (what feral_numa_alloc
 * takes); -1 when out of range.  Synthetic topologies map to the synthetic
 * OS numbers, which need not exist on this machine: feral_numa_alloc then
 * falls back to local memory. */
int feral_topo_node_os_index(const struct feral_topo *t, int logical_node);

/* "compact", "scatter", "none"; "unknown" otherwise. */
const char *feral_bind_name(enum feral_bind b);
/* Inverse of feral_bind_name (case-insensitive).  0 on success, -1 if unknown. */
int feral_bind_from_name(const char *s, enum feral_bind *out);

/* Format n placements into buf (always NUL-terminated when len > 0).
 * json == 0: one line per worker, "worker 3: pu 6 core 3 node 0 package 0"
 *            (pu -1 prints as "pu -"; core -1 as "core -");
 * json != 0: [{"worker":0,"pu":0,"core":0,"node":0,"package":0},...]
 * Returns the length the full text needs (excluding the NUL), as snprintf. */
size_t feral_placement_format(const struct feral_placement *p, int n, int json, char *buf,
                              size_t len);

/* Move the whole pages of an existing range to OS node `node` (libnuma's
 * mbind, MPOL_PREFERRED, MPOL_MF_MOVE).  0 on success; -1 when not possible
 * (no libnuma, bad node, or the kernel refused): the memory stays usable. */
int feral_numa_place(void *p, size_t bytes, int node);

/* The calling thread's CPU affinity, saved before binding it so it can be
 * put back (the library leaves the caller's threads as it found them). */
struct feral_affinity {
	int saved;
	unsigned char set[128]; /* a cpu_set_t (CPU_SETSIZE 1024 bits) */
};
/* 0 when saved (then feral_affinity_restore puts it back), -1 otherwise. */
int feral_affinity_save(struct feral_affinity *a);
void feral_affinity_restore(const struct feral_affinity *a);

#endif /* FERAL_TOPO_H */
