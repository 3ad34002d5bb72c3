/* Native binary cache (.feral): a dataset laid out exactly as it sits in
 * memory, loaded with one read into memory on huge pages (or one mmap).
 *
 * File layout (all integers little-endian):
 *   0   char[8] magic "FERALDS\0"
 *   8   u32 version (1)            12  u32 header_size (128)
 *   16  u64 n     24  u64 d     32  u64 nnz
 *   40  u32 layout                 44  u32 precision
 *   48  u64 offset of values       56  indptr     64  indices
 *   72  row_scale   80  y   88  row_sq_norm   (0 = section absent)
 *   96  u64 file_size              104 u64 body checksum
 *   112 u64 reserved (0)           120 u64 header checksum (bytes 0..119)
 *   128 sections in the order above, each starting 64-byte aligned and
 *       zero-padded to a multiple of 64 bytes, so file_size % 64 == 0.
 *
 * The offsets are redundant with (n, d, nnz, layout, precision): a reader
 * in another language can use them directly, and we insist they equal the
 * canonical layout, which makes every offset check one comparison.
 *
 * Trust: the body checksum covers every byte after the header, so a load
 * reads the whole file once.  That is the price of rejecting a corrupted
 * file rather than computing on garbage; the hash runs at memory speed (see
 * cache_hash_blocks), so it costs about what touching the pages costs
 * anyway.  A file that passes the checksum is what feral_io_cache_save
 * wrote, and save refuses datasets that fail feral_dataset_check.  A 1 GB
 * dense cache loads in 0.3-0.4 s read into huge pages that the VM has
 * touched before (up to ~2.4 s when fresh huge pages must be zeroed first),
 * 0.5-0.6 s mapped from a warm page cache, checksum and NaN scan included.  The
 * structural invariants that memory safety depends on (CSR offsets and
 * column indices) are still re-checked on load, since a checksum is no
 * defence against a crafted file. */
#define _GNU_SOURCE
#include "io_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .feral cache is little-endian and mapped in place; port the byte swaps first"
#endif

#define CACHE_MAGIC "FERALDS"
#define CACHE_VERSION 1u
#define CACHE_HEADER 128u
#define CACHE_ALIGN 64u

enum { SEC_VALUES, SEC_INDPTR, SEC_INDICES, SEC_SCALE, SEC_Y, SEC_NORMS, SEC_COUNT };
static const char *const sec_name[SEC_COUNT] = {"values", "indptr", "indices",
                                               "row_scale", "y", "row_sq_norm"};

struct cache_header {
	char magic[8];
	uint32_t version, header_size;
	uint64_t n, d, nnz;
	uint32_t layout, precision;
	uint64_t offset[SEC_COUNT];
	uint64_t file_size;
	uint64_t body_sum;
	uint64_t reserved;
	uint64_t header_sum;
};
_Static_assert(sizeof(struct cache_header) == CACHE_HEADER, "cache header must be 128 bytes");

/* ---- checksum ---------------------------------------------------------------
 * Four independent lanes over 8-byte words, lane j taking words j, j+4, ...:
 *   a = rotl(a + w * K, 31)          (K odd: w -> w * K is a bijection)
 * This is the xxHash64 round without its second multiply.  Each step is a
 * bijection of a for a fixed word and of w for a fixed a, so changing any
 * single word (any single-byte flip) always changes its lane, and the final
 * mix is a bijection in each lane: single-word damage is detected with
 * certainty, anything else with probability ~1 - 2^-64.  The rotation moves
 * a flipped bit 63 (the sign of a double) away from where the same flip in
 * the lane's next word would land, so the two cannot cancel.  The multiply
 * is off the dependency chain (add + rotate, 2 cycles), so four lanes run
 * near DRAM speed: 14-18 GB/s on a 2-core EPYC VM, where a bare summing
 * loop over the same map reaches ~24 GB/s (xor-then-multiply, with the
 * multiply on the chain, managed 6-8 GB/s). */
#define HASH_K 0x9E3779B97F4A7C15ull

struct cache_hash {
	uint64_t a[4];
	uint64_t len;
};

static uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void hash_init(struct cache_hash *h)
{
	for (int j = 0; j < 4; j++)
		h->a[j] = 0x243F6A8885A308D3ull * (uint64_t)(2 * j + 1);
	h->len = 0;
}

/* len must be a multiple of 32. */
static void cache_hash_blocks(struct cache_hash *h, const unsigned char *p, uint64_t len)
{
	uint64_t a0 = h->a[0], a1 = h->a[1], a2 = h->a[2], a3 = h->a[3];
	for (uint64_t k = 0; k < len; k += 32) {
		uint64_t w[4];
		memcpy(w, p + k, 32);
		a0 = feral_rotl64(a0 + w[0] * HASH_K, 31);
		a1 = feral_rotl64(a1 + w[1] * HASH_K, 31);
		a2 = feral_rotl64(a2 + w[2] * HASH_K, 31);
		a3 = feral_rotl64(a3 + w[3] * HASH_K, 31);
	}
	h->a[0] = a0;
	h->a[1] = a1;
	h->a[2] = a2;
	h->a[3] = a3;
	h->len += len;
}

static uint64_t hash_final(const struct cache_hash *h)
{
	uint64_t r = hash_mix(h->len);
	for (int j = 0; j < 4; j++)
		r = hash_mix(r + h->a[j]);
	return r;
}

/* The header's own checksum: 15 words, each step a bijection. */
static uint64_t header_sum(const struct cache_header *hd)
{
	uint64_t w[15], r = 0x6A09E667F3BCC908ull;
	memcpy(w, hd, sizeof w);
	for (int k = 0; k < 15; k++)
		r = hash_mix(r ^ w[k]) + HASH_K;
	return r;
}

/* ---- layout ----------------------------------------------------------------- */

static uint64_t round64(uint64_t x) { return (x + CACHE_ALIGN - 1) & ~(uint64_t)(CACHE_ALIGN - 1); }

/* Section lengths in bytes (0 and absent where the dataset has none), the
 * canonical offsets and the file size.  false when a size overflows. */
static bool cache_layout(uint64_t n, uint64_t d, uint64_t nnz, enum feral_layout layout,
                         enum feral_precision prec, uint64_t len[SEC_COUNT],
                         uint64_t off[SEC_COUNT], uint64_t *file_size)
{
	bool ok = true;
	uint64_t np1 = n + 1;
	memset(len, 0, SEC_COUNT * sizeof *len);
	ok &= feral_mul_ok(nnz, feral_precision_size(prec), &len[SEC_VALUES]);
	if (layout == FERAL_LAYOUT_CSR) {
		ok &= feral_mul_ok(np1, sizeof(uint64_t), &len[SEC_INDPTR]);
		ok &= feral_mul_ok(nnz, sizeof(uint32_t), &len[SEC_INDICES]);
	}
	if (prec != FERAL_PRECISION_F32)
		ok &= feral_mul_ok(n, sizeof(float), &len[SEC_SCALE]);
	ok &= feral_mul_ok(n, sizeof(double), &len[SEC_Y]);
	ok &= feral_mul_ok(n, sizeof(double), &len[SEC_NORMS]);
	/* Keep every length far from 2^64 so the sums below cannot wrap. */
	for (int s = 0; s < SEC_COUNT; s++)
		ok &= len[s] < (1ull << 56);
	if (!ok)
		return false;
	uint64_t pos = CACHE_HEADER;
	for (int s = 0; s < SEC_COUNT; s++) {
		bool present = s == SEC_VALUES || s == SEC_Y || s == SEC_NORMS ||
		               ((s == SEC_INDPTR || s == SEC_INDICES) && layout == FERAL_LAYOUT_CSR) ||
		               (s == SEC_SCALE && prec != FERAL_PRECISION_F32);
		off[s] = present ? pos : 0;
		pos += round64(len[s]);
	}
	*file_size = pos;
	return true;
}

/* ---- save --------------------------------------------------------------------- */

static const void *cache_section_ptr(const struct feral_dataset *ds, int s)
{
	switch (s) {
	case SEC_VALUES: return ds->values;
	case SEC_INDPTR: return ds->indptr;
	case SEC_INDICES: return ds->indices;
	case SEC_SCALE: return ds->row_scale;
	case SEC_Y: return ds->y;
	default: return ds->row_sq_norm;
	}
}

enum feral_status feral_io_cache_save(const struct feral_dataset *ds, const char *path,
                                      struct feral_error *err)
{
	if (ds->layout >= FERAL_LAYOUT_COUNT || ds->precision == FERAL_PRECISION_F64 ||
	    ds->precision >= FERAL_PRECISION_COUNT || ds->n == 0 || ds->d == 0)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "bad dataset shape or layout");
	/* A cache is trusted on load (beyond its checksum), so only valid
	 * datasets go in. */
	enum feral_status st = feral_dataset_check(ds, err);
	if (st) {
		if (err)
			snprintf(err->file, sizeof err->file, "%s", path);
		return st;
	}
	struct cache_header hd;
	uint64_t len[SEC_COUNT];
	memset(&hd, 0, sizeof hd);
	if (!cache_layout(ds->n, ds->d, ds->nnz, ds->layout, ds->precision, len, hd.offset,
	                  &hd.file_size))
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0, "dataset too large for a cache");
	memcpy(hd.magic, CACHE_MAGIC, 8);
	hd.version = CACHE_VERSION;
	hd.header_size = CACHE_HEADER;
	hd.n = ds->n;
	hd.d = ds->d;
	hd.nnz = ds->nnz;
	hd.layout = ds->layout;
	hd.precision = ds->precision;

	/* Hash first (memory speed), then write sequentially: the header goes
	 * out first and the file is never rewritten in place. */
	static const unsigned char zeros[CACHE_ALIGN];
	struct cache_hash h;
	hash_init(&h);
	for (int s = 0; s < SEC_COUNT; s++) {
		if (!hd.offset[s] || !len[s])
			continue;
		const unsigned char *p = cache_section_ptr(ds, s);
		uint64_t full = len[s] & ~(uint64_t)(CACHE_ALIGN - 1);
		cache_hash_blocks(&h, p, full);
		if (full < len[s]) {
			unsigned char tail[CACHE_ALIGN] = {0};
			memcpy(tail, p + full, len[s] - full);
			cache_hash_blocks(&h, tail, CACHE_ALIGN);
		}
	}
	hd.body_sum = hash_final(&h);
	hd.header_sum = header_sum(&hd);

	struct feral_wfile w;
	if ((st = feral_wfile_open(&w, path, err)))
		return st;
	bool ok = fwrite(&hd, sizeof hd, 1, w.f) == 1;
	for (int s = 0; s < SEC_COUNT && ok; s++) {
		if (!hd.offset[s] || !len[s])
			continue;
		ok = fwrite(cache_section_ptr(ds, s), 1, len[s], w.f) == len[s];
		uint64_t pad = round64(len[s]) - len[s];
		ok = ok && (pad == 0 || fwrite(zeros, 1, pad, w.f) == pad);
	}
	if (!ok) {
		st = feral_fail_errno(err, FERAL_STATUS_IO, path, "write failed");
		feral_wfile_abort(&w);
		return st;
	}
	return feral_wfile_commit(&w, err);
}

/* ---- load ---------------------------------------------------------------------- */

/* Index of the first f32 value that is NaN or Inf, or n.  Branch-free over
 * blocks so the compiler vectorises it (SSE2 compares): this runs at memory
 * speed where the element-by-element isfinite() loop in
 * feral_dataset_check would cost more than the checksum. */
static uint64_t first_nonfinite_f32(const float *v, uint64_t n)
{
	enum { BLOCK = 4096 }; /* a constant trip count, which -O2 vectorises */
	const unsigned char *p = (const unsigned char *)v;
	uint64_t b = 0;
	for (; b + BLOCK <= n; b += BLOCK) {
		uint32_t bad = 0;
		for (unsigned k = 0; k < BLOCK; k++) {
			uint32_t bits;
			memcpy(&bits, p + 4 * (b + k), 4);
			bad |= (bits & 0x7f800000u) == 0x7f800000u;
		}
		if (bad)
			break;
	}
	for (; b < n; b++)
		if (!isfinite(v[b]))
			return b;
	return n;
}

/* The invariants that keep solvers in bounds and finite.  f32 values were
 * scanned during the checksum pass (values_finite); a dense f32 set (the
 * big case) then needs only y.  Everything else goes through
 * feral_dataset_check, whose cost there is in the CSR indices. */
static enum feral_status cache_check(const char *path, const struct feral_dataset *ds,
                                     bool values_finite, struct feral_error *err)
{
	enum feral_status st = FERAL_OK;
	if (!values_finite) {
		uint64_t k = first_nonfinite_f32(ds->values, ds->nnz);
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0, "value %llu is not finite",
		                  (unsigned long long)k);
	}
	if (ds->layout == FERAL_LAYOUT_DENSE && ds->precision == FERAL_PRECISION_F32) {
		for (uint64_t i = 0; i < ds->n; i++)
			if (!isfinite(ds->y[i]))
				return feral_fail(err, FERAL_STATUS_RANGE, path, 0,
				                  "target of row %llu is not finite",
				                  (unsigned long long)i);
	} else if ((st = feral_dataset_check(ds, err)) && err) {
		snprintf(err->file, sizeof err->file, "%s", path);
	}
	return st;
}

static enum feral_status cache_validate(const char *path, const struct cache_header *hd,
                                        uint64_t actual_size, uint64_t len[SEC_COUNT],
                                        struct feral_error *err)
{
	if (memcmp(hd->magic, CACHE_MAGIC, 8) != 0)
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "not a .feral cache (bad magic at byte 0)");
	/* The header checksum comes before the version so any damaged byte in
	 * the header reads as damage, never as an unknown version.  Its
	 * definition is therefore frozen across versions. */
	if (header_sum(hd) != hd->header_sum)
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "header checksum mismatch (bytes 0-127 are damaged)");
	if (hd->version != CACHE_VERSION)
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                  "cache version %u (this build reads version %u): rebuild the cache",
		                  hd->version, CACHE_VERSION);
	if (hd->header_size != CACHE_HEADER || hd->reserved != 0)
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "header size %u (expected %u) or reserved field set",
		                  hd->header_size, CACHE_HEADER);
	if (hd->layout >= FERAL_LAYOUT_COUNT ||
	    (hd->precision != FERAL_PRECISION_F32 && hd->precision != FERAL_PRECISION_I16 &&
	     hd->precision != FERAL_PRECISION_I8))
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "layout %u or precision %u at bytes 40-47 is invalid", hd->layout,
		                  hd->precision);
	uint64_t dense_nnz;
	if (hd->n == 0 || hd->d == 0 || hd->d > UINT32_MAX ||
	    (hd->layout == FERAL_LAYOUT_DENSE &&
	     (!feral_mul_ok(hd->n, hd->d, &dense_nnz) || dense_nnz != hd->nnz)))
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "shape n = %llu, d = %llu, nnz = %llu is inconsistent",
		                  (unsigned long long)hd->n, (unsigned long long)hd->d,
		                  (unsigned long long)hd->nnz);
	uint64_t off[SEC_COUNT], file_size;
	if (!cache_layout(hd->n, hd->d, hd->nnz, hd->layout, hd->precision, len, off, &file_size))
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                  "shape n = %llu, d = %llu, nnz = %llu overflows",
		                  (unsigned long long)hd->n, (unsigned long long)hd->d,
		                  (unsigned long long)hd->nnz);
	for (int s = 0; s < SEC_COUNT; s++)
		if (hd->offset[s] != off[s])
			return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
			                  "section %s at byte %llu, expected %llu", sec_name[s],
			                  (unsigned long long)hd->offset[s],
			                  (unsigned long long)off[s]);
	if (hd->file_size != file_size)
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  "header says %llu bytes, its shape needs %llu",
		                  (unsigned long long)hd->file_size, (unsigned long long)file_size);
	if (actual_size != file_size)
		return feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                  actual_size < file_size ? "truncated: header says %llu bytes, file has %llu"
		                                          : "header says %llu bytes, file has %llu "
		                                            "(trailing bytes)",
		                  (unsigned long long)file_size, (unsigned long long)actual_size);
	return FERAL_OK;
}

/* The body's checksum and NaN/Inf scan, fed 64-byte multiples in order as
 * the bytes become available (each chunk is scanned while still cached). */
struct cache_scan {
	struct cache_hash h;
	uint64_t done;   /* file offset scanned up to */
	uint64_t v0, v1; /* the values section */
	bool f32, finite;
};
static void cache_scan_to(struct cache_scan *sc, const unsigned char *base, uint64_t upto)
{
	upto &= ~(uint64_t)63;
	if (upto <= sc->done)
		return;
	cache_hash_blocks(&sc->h, base + sc->done, upto - sc->done);
	uint64_t a = sc->done > sc->v0 ? sc->done : sc->v0, b = upto < sc->v1 ? upto : sc->v1;
	if (sc->f32 && sc->finite && a < b)
		sc->finite = first_nonfinite_f32((const float *)(base + a), (b - a) / 4) == (b - a) / 4;
	sc->done = upto;
}

/* The file's bytes in one block: read into memory on transparent huge pages
 * (default), or mapped copy-on-write (opt->map_cache). */
static enum feral_status cache_block(const char *path, int fd, uint64_t size, bool map,
                                     struct cache_scan *sc, unsigned char **out,
                                     struct feral_error *err)
{
	enum { CHUNK = 1 << 18 };
	if (map) {
		/* MAP_POPULATE: the checksum touches every page anyway, and the
		 * kernel maps them in bulk far faster than one fault at a time.
		 * Private: callers may relabel y in place; the file never changes. */
		void *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE,
		               fd, 0);
		if (m == MAP_FAILED)
			return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot mmap");
		*out = m;
		for (uint64_t pos = CACHE_HEADER; pos < size; pos += CHUNK)
			cache_scan_to(sc, m, size - pos < CHUNK ? size : pos + CHUNK);
		return FERAL_OK;
	}
	/* Read rather than map: the solver reads rows at random, and a file
	 * mapping is backed by 4 KiB pages, so nearly every row costs a TLB miss
	 * and a page walk. */
	unsigned char *m = feral_big_alloc((size_t)size);
	if (!m)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "%llu bytes for the cache",
		                  (unsigned long long)size);
	for (uint64_t pos = 0; pos < size;) {
		uint64_t want = size - pos < CHUNK ? size - pos : CHUNK;
		ssize_t got = pread(fd, m + pos, (size_t)want, (off_t)pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			enum feral_status st =
			        got < 0 ? feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot read")
			                : feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
			                             "file shrank while being read (%llu of %llu bytes)",
			                             (unsigned long long)pos, (unsigned long long)size);
			free(m);
			return st;
		}
		pos += (uint64_t)got;
		cache_scan_to(sc, m, pos);
	}
	*out = m;
	return FERAL_OK;
}

enum feral_status feral_io_cache_load(const char *path, bool map, struct feral_dataset **out,
                                      struct feral_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	struct stat sb;
	enum feral_status st = FERAL_OK;
	struct cache_header hd;
	uint64_t size = 0, len[SEC_COUNT];
	if (fstat(fd, &sb) != 0)
		st = feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot stat");
	else if (!S_ISREG(sb.st_mode))
		st = feral_fail(err, FERAL_STATUS_IO, path, 0, "not a regular file");
	else if ((size = (uint64_t)sb.st_size) < CACHE_HEADER)
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "truncated: %llu bytes, shorter than the %u-byte header",
		                (unsigned long long)size, CACHE_HEADER);
	else if (size > SIZE_MAX)
		st = feral_fail(err, FERAL_STATUS_RANGE, path, 0, "file too large to load");
	else if (pread(fd, &hd, sizeof hd, 0) != (ssize_t)sizeof hd)
		st = feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot read the header");
	else
		st = cache_validate(path, &hd, size, len, err); /* before allocating the body */
	struct cache_scan sc = {.done = CACHE_HEADER, .finite = true};
	hash_init(&sc.h);
	unsigned char *block = NULL;
	if (!st && !map) {
		/* a cache that would not fit in memory is mapped instead: the page
		 * cache can page it, an allocation that size would swap or be
		 * killed */
		uint64_t avail = feral_mem_available();
		if (avail && size > avail / 10 * 9)
			map = true;
	}
	if (!st) {
		sc.v0 = hd.offset[SEC_VALUES];
		sc.v1 = sc.v0 + len[SEC_VALUES];
		sc.f32 = hd.precision == FERAL_PRECISION_F32;
		st = cache_block(path, fd, size, map, &sc, &block, err);
	}
	close(fd);
	if (st)
		return st;
	const unsigned char *base = block;
	struct feral_dataset *ds = NULL;
	if (memcmp(&hd, base, sizeof hd) != 0) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0, "header changed while being read");
		goto fail;
	}
	if (hash_final(&sc.h) != hd.body_sum) {
		st = feral_fail(err, FERAL_STATUS_CORRUPT, path, 0,
		                "checksum mismatch: the data after the header is damaged");
		goto fail;
	}
	if ((st = feral_dataset_shell(&ds, err)))
		goto fail;
	ds->n = hd.n;
	ds->d = hd.d;
	ds->nnz = hd.nnz;
	ds->layout = (enum feral_layout)hd.layout;
	ds->precision = (enum feral_precision)hd.precision;
	ds->owner->block = block;
	ds->owner->block_len = (size_t)size;
	ds->owner->block_mapped = map;
	/* Every array points into the one block (heap_mask 0).  Callers replace
	 * arrays rather than write them (feral_dataset_load_targets swaps y;
	 * io.c recomputes norms only when they are heap-owned). */
	ds->values = (void *)(base + hd.offset[SEC_VALUES]);
	if (hd.offset[SEC_INDPTR])
		ds->indptr = (uint64_t *)(base + hd.offset[SEC_INDPTR]);
	if (hd.offset[SEC_INDICES])
		ds->indices = (uint32_t *)(base + hd.offset[SEC_INDICES]);
	if (hd.offset[SEC_SCALE])
		ds->row_scale = (float *)(base + hd.offset[SEC_SCALE]);
	ds->y = (double *)(base + hd.offset[SEC_Y]);
	ds->row_sq_norm = (double *)(base + hd.offset[SEC_NORMS]);
	ds->owner->heap_mask = 0;
	if ((st = cache_check(path, ds, sc.finite, err))) {
		feral_dataset_destroy(&ds);
		return st;
	}
	*out = ds;
	return FERAL_OK;
fail:
	feral_block_free(block, (size_t)size, map);
	return st;
}
