/* Shared by the libFuzzer targets in tests/fuzz/: the loaders take a path
 * (they open, fstat, pread, mmap or gzdopen it), so each input goes to a
 * file in a per-process scratch directory under $TMPDIR (one file per
 * extension, kept open and rewritten in place), and every dataset a loader
 * accepts is checked and read end to end so that ASan sees any bad
 * pointer. */
#ifndef FERAL_FUZZ_COMMON_H
#define FERAL_FUZZ_COMMON_H
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_impl.h"

/* The loaders refuse allocations beyond the machine's physical memory
 * (feral_check_fits asks sysconf).  The fuzzers run them on a simulated
 * machine of FUZZ_PHYS_MB, so a header promising a huge array is judged
 * against a limit below libFuzzer's -rss_limit_mb: an allocation the check
 * lets through yet the fuzzer flags as out-of-memory is then a real
 * finding (memory not bounded by the check), not an artefact of a big host. */
#ifndef FUZZ_PHYS_MB
#define FUZZ_PHYS_MB 32
#endif
extern long __sysconf(int name);
long sysconf(int name)
{
	if (name == _SC_PHYS_PAGES) {
		long page = __sysconf(_SC_PAGESIZE);
		return page > 0 ? ((long)FUZZ_PHYS_MB << 20) / page : -1;
	}
	return __sysconf(name);
}

static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
	if (!fuzz_dir[0])
		return;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* Write data to <scratch>/in<ext> and return that path (static storage).
 * One file per extension, kept open: each input replaces the file's
 * contents in place (ftruncate + pwrite), so an execution costs no open or
 * close of its own; the scratch belongs on a RAM disk (/dev/shm). */
static const char *fuzz_file(const char *ext, const uint8_t *data, size_t size)
{
	static struct {
		char ext[16];
		char path[128];
		int fd;
	} files[4];
	static int nfiles;
	if (!fuzz_dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dir, sizeof fuzz_dir, "%s/feral-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_cleanup);
	}
	int k = 0;
	while (k < nfiles && strcmp(files[k].ext, ext) != 0)
		k++;
	if (k == nfiles) {
		if (nfiles == 4 || strlen(ext) >= sizeof files[k].ext) {
			fprintf(stderr, "fuzz: too many scratch files\n");
			abort();
		}
		snprintf(files[k].ext, sizeof files[k].ext, "%s", ext);
		snprintf(files[k].path, sizeof files[k].path, "%s/in%s", fuzz_dir, ext);
		files[k].fd = open(files[k].path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (files[k].fd < 0) {
			perror("fuzz: open");
			abort();
		}
		nfiles++;
	}
	int fd = files[k].fd;
	if (ftruncate(fd, 0) != 0) {
		perror("fuzz: ftruncate");
		abort();
	}
	for (size_t off = 0; off < size;) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
		if (w <= 0) {
			perror("fuzz: write");
			abort();
		}
		off += (size_t)w;
	}
	return files[k].path;
}

#define FUZZ_REQUIRE(cond, ...)                                                  \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			abort();                                                 \
		}                                                                \
	} while (0)

/* The error contract: a failing call says why (status and message). */
static void fuzz_check_error(const char *what, enum feral_status st, const struct feral_error *e)
{
	FUZZ_REQUIRE(st > FERAL_OK && st < FERAL_STATUS_COUNT, "%s: status %d out of range", what,
	             (int)st);
	FUZZ_REQUIRE(e->msg[0] != '\0', "%s: status %s without a message", what, feral_strerror(st));
	char buf[1200];
	feral_error_format(e, buf, sizeof buf);
}

/* A dataset a loader accepted must pass feral_dataset_check and be readable:
 * every CSR value and index (below d), the ends of every dense row, y and
 * the norms of every row. */
static void fuzz_check_dataset(const char *what, const struct feral_dataset *ds)
{
	FUZZ_REQUIRE(ds != NULL, "%s: OK without a dataset", what);
	struct feral_error e = {0};
	enum feral_status st = feral_dataset_check(ds, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "%s: loaded dataset fails its check: %s", what, e.msg);
	FUZZ_REQUIRE(ds->n > 0 && ds->d > 0, "%s: empty shape %llu x %llu", what,
	             (unsigned long long)ds->n, (unsigned long long)ds->d);
	volatile double sink = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		uint64_t k0 = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i] : i * ds->d;
		uint64_t k1 = ds->layout == FERAL_LAYOUT_CSR ? ds->indptr[i + 1] : (i + 1) * ds->d;
		FUZZ_REQUIRE(k0 <= k1 && k1 <= ds->nnz, "%s: row %llu spans [%llu, %llu) of %llu",
		             what, (unsigned long long)i, (unsigned long long)k0,
		             (unsigned long long)k1, (unsigned long long)ds->nnz);
		if (ds->layout == FERAL_LAYOUT_CSR) {
			for (uint64_t k = k0; k < k1; k++) {
				FUZZ_REQUIRE(ds->indices[k] < ds->d, "%s: index %u >= d", what,
				             ds->indices[k]);
				sink += feral_dataset_value(ds, i, k);
			}
		} else {
			/* dense rows are contiguous: their ends are what can be off */
			sink += feral_dataset_value(ds, i, k0) + feral_dataset_value(ds, i, k1 - 1);
		}
		sink += ds->y[i] + ds->row_sq_norm[i];
	}
	(void)sink;
}

static void fuzz_check_vector(const char *what, const double *v, uint64_t len)
{
	FUZZ_REQUIRE(len == 0 || v != NULL, "%s: %llu values without a buffer", what,
	             (unsigned long long)len);
	volatile double sink = 0;
	for (uint64_t i = 0; i < len; i++)
		sink += v[i];
	(void)sink;
}

/* Run one dataset loader result through the checks and free it. */
#define FUZZ_DATASET(what, call)                                                 \
	do {                                                                     \
		struct feral_dataset *ds_ = NULL;                                \
		struct feral_error e_ = {0};                                     \
		enum feral_status st_ = (call);                                  \
		if (st_ == FERAL_OK)                                             \
			fuzz_check_dataset(what, ds_);                           \
		else                                                             \
			fuzz_check_error(what, st_, &e_);                        \
		feral_dataset_destroy(&ds_);                                     \
	} while (0)

#define FUZZ_VECTOR(what, call)                                                  \
	do {                                                                     \
		double *v_ = NULL;                                               \
		uint64_t n_ = 0;                                                 \
		struct feral_error e_ = {0};                                     \
		enum feral_status st_ = (call);                                  \
		if (st_ == FERAL_OK)                                             \
			fuzz_check_vector(what, v_, n_);                         \
		else                                                             \
			fuzz_check_error(what, st_, &e_);                        \
		free(v_);                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
