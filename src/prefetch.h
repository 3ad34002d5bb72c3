/* The worker loop's prefetch pipeline (engine.c's only): depths, and the
 * helpers that prefetch a drawn row's metadata, its values, and the model
 * lines it will write.  Private to engine.c. */
#ifndef FERAL_PREFETCH_H
#define FERAL_PREFETCH_H
#include "internal.h"
#include "engine.h"

/* Prefetch pipeline depths, in updates ahead of use.  An update's draw is
 * split PF_SPLIT ahead (its alias entry prefetched), resolved PF_DRAW ahead
 * (the row's metadata prefetched) and its row prefetched PF_ROW ahead.
 * Measured with bench on 1 GiB of dense rows, d = 1024, one thread (the
 * updates/s of D8M8 and D32M32 before -> after; run to run noise ~10 %):
 *  - rows prefetched to L2 (prefetcht2) rather than L1: 3.6M -> 4.7M and
 *    1.45M -> 2.0M.  One core's L1 miss buffers are the limit, and L1
 *    prefetches hold them until the line arrives;
 *  - a dense row's prefetches in two bursts, half before the update and
 *    half after its dot product, rather than one burst of d/64 lines that
 *    stalls the core while the miss queue is full: 4.7M -> 5.0M and
 *    2.0M -> 2.6M;
 *  - the metadata prefetched twice, when drawn and with the row (the first
 *    ones are sometimes dropped while the miss queue is full): +5-10 %.
 * The distances matter less (+-10 % for PF_ROW 2..4).  Dense rows: see
 * pf_depths below. */
enum { PF_SPLIT = 6, PF_DRAW = 4, PF_ROW = 3, PF_MODEL = 1 };

/* Dense rows: the row distance is PF_DENSE_BYTES of row values ahead, not
 * PF_ROW rows, so short rows are prefetched further ahead: ceil(bytes / row
 * bytes) rows (d = 1024: f32 3 rows as before, int16 6, int8 12; d = 256
 * int8: 48), the metadata draw and the split moving with it (PF_DRAW -
 * PF_ROW and PF_SPLIT - PF_ROW updates before the row).  The rings hold
 * PF_RING_MAX updates.  CSR rows keep the PF_* depths (their own tuning). */
#ifndef PF_DENSE_BYTES
#define PF_DENSE_BYTES 12288
#endif
enum { PF_RING_MAX = 64 }; /* a power of two above the deepest split distance */

struct pf_depths {
	unsigned split, draw, row, model;
};

static inline struct pf_depths pf_depths(const struct feral_dataset *ds, size_t esz)
{
	struct pf_depths p = {PF_SPLIT, PF_DRAW, PF_ROW, PF_MODEL};
	size_t rb = ds->d * esz;
	if (ds->layout == FERAL_LAYOUT_CSR || rb == 0)
		return p;
	size_t r = (PF_DENSE_BYTES + rb - 1) / rb;
	r = r > PF_RING_MAX - (PF_SPLIT - PF_ROW) - 1 ? PF_RING_MAX - (PF_SPLIT - PF_ROW) - 1 : r;
	p.row = (unsigned)r;
	p.draw = p.row + (PF_DRAW - PF_ROW);
	p.split = p.row + (PF_SPLIT - PF_ROW);
	return p;
}

/* The prefetch helpers are always_inline: GCC 12's IPA mod-ref analysis
 * deems a call that only prefetches free of effects and deletes it when it
 * is not inlined first, which silently removed every row prefetch. */
#define FERAL_PREFETCHER static inline __attribute__((always_inline)) void

/* Metadata of row i: CSR offsets, target, step weight (row norm for
 * Kaczmarz), scale, the method's per-row data (SVRG: c_i), its hot entry
 * count (split: hot-first rows, else NULL; a demand miss on it cost 30 % of
 * a sparse update). */
FERAL_PREFETCHER prefetch_meta(enum feral_method m, const struct feral_dataset *ds,
                               const struct feral_rowrec *rec, const double *aux,
                               const uint32_t *split,
                               uint64_t i)
{
	if (split)
		__builtin_prefetch(split + i);
	if (m == FERAL_METHOD_SVRG)
		__builtin_prefetch(aux + i);
	if (ds->layout == FERAL_LAYOUT_CSR)
		__builtin_prefetch(ds->indptr + i);
	__builtin_prefetch(rec + i);
}

/* Dense row i's values. */
static inline const char *dense_row(const struct feral_ctx *c, const struct feral_dataset *ds,
                                    uint64_t i)
{
	return (const char *)ds->values + i * ds->d * c->esz;
}

/* Bytes [from, to) of a row's values, into L2. */
FERAL_PREFETCHER prefetch_bytes(const char *p, size_t from, size_t to)
{
	for (size_t off = from; off < to; off += 64)
		__builtin_prefetch(p + off, 0, 1);
}

/* Row i: a CSR row's values and indices (its offsets now cached), or the
 * first half of a dense row's values (update_row prefetches the rest). */
FERAL_PREFETCHER prefetch_row(const struct feral_ctx *c, const struct feral_dataset *ds, uint64_t i)
{
	if (ds->layout == FERAL_LAYOUT_CSR) {
		uint64_t b = ds->indptr[i];
		__builtin_prefetch(ds->indices + b, 0, 1);
		prefetch_bytes((const char *)ds->values + b * c->esz, 0,
		               (ds->indptr[i + 1] - b) * c->esz);
	} else {
		prefetch_bytes(dense_row(c, ds, i), 0, ds->d * c->esz / 2);
	}
}

/* The model lines of CSR row i's shared (cold) coordinates, for writing:
 * the row's indices are in cache (prefetch_row, PF_ROW - 1 updates ago).
 * A line another core wrote since this one last had it then arrives
 * while the updates before it run, not when the dot product needs it. */
FERAL_PREFETCHER prefetch_model(const struct feral_ctx *c, const struct feral_dataset *ds,
                                const uint32_t *split, const void *x, uint64_t i)
{
	if (ds->layout != FERAL_LAYOUT_CSR)
		return;
	uint64_t b = ds->indptr[i] + (split ? split[i] : 0), e = ds->indptr[i + 1];
	for (uint64_t k = b; k < e; k++)
		__builtin_prefetch((const char *)x + (size_t)ds->indices[k] * c->msz, 1, 3);
}

#endif
