/* libFuzzer target: the native .feral cache loader and the public dispatch
 * on a .feral path.  Each input is loaded as is (exercising the header and
 * body checksums), then, if it is long enough to hold a header, again with
 * both checksums recomputed: a checksum is no defence against a crafted
 * file, so the structural checks behind it must hold on their own.  The
 * hash below mirrors io_cache.c (format version 1); if the two drift apart
 * the fuzzer only loses depth, never reports a false crash.  Each distinct
 * (bytes, read or mapped) pair is loaded once. */
#include "fuzz_common.h"

#define HDR 128u
#define HASH_K 0x9E3779B97F4A7C15ull

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Recompute body_sum (bytes 104..111) and header_sum (120..127) in place.
 * The loader hashes whole 32-byte blocks, so bodies of other lengths only
 * get the header fixed. */
static void fix_checksums(uint8_t *b, size_t size)
{
	uint64_t body = size - HDR;
	if (body % 32 == 0) {
		uint64_t a[4];
		for (int j = 0; j < 4; j++)
			a[j] = 0x243F6A8885A308D3ull * (uint64_t)(2 * j + 1);
		for (uint64_t k = 0; k < body; k += 32) {
			uint64_t w[4];
			memcpy(w, b + HDR + k, 32);
			for (int j = 0; j < 4; j++)
				a[j] = rotl(a[j] + w[j] * HASH_K, 31);
		}
		uint64_t r = mix(body);
		for (int j = 0; j < 4; j++)
			r = mix(r + a[j]);
		memcpy(b + 104, &r, 8);
	}
	uint64_t w[15], r = 0x6A09E667F3BCC908ull;
	memcpy(w, b, sizeof w);
	for (int k = 0; k < 15; k++)
		r = mix(r ^ w[k]) + HASH_K;
	memcpy(b + 120, &r, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the dispatch on .feral is feral_io_cache_load(p, false): read, not mapped */
	const char *p = fuzz_file(".feral", data, size);
	FUZZ_DATASET("dataset_load .feral", feral_dataset_load(p, NULL, &ds_, &e_));
	if (size < HDR)
		return 0;
	uint8_t *b = malloc(size);
	if (!b)
		return 0;
	memcpy(b, data, size);
	fix_checksums(b, size);
	bool changed = memcmp(b, data, size) != 0;
	if (changed) {
		p = fuzz_file(".feral", b, size);
		FUZZ_DATASET("cache (checksums fixed)", feral_io_cache_load(p, false, &ds_, &e_));
	}
	/* odd sizes: the mapped path too, on the input with valid checksums */
	if (size & 1)
		FUZZ_DATASET("cache mapped", feral_io_cache_load(p, true, &ds_, &e_));
	free(b);
	return 0;
}
