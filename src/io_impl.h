/* Internal I/O interfaces: one loader/writer pair per format, and the
 * shared atomic-write helper.  feral_dataset_load/save (io.c) dispatch here;
 * every dataset loader returns a finished dataset (dataset_build.h). */
#ifndef FERAL_IO_IMPL_H
#define FERAL_IO_IMPL_H
#include "internal.h"

/* Atomic writes: data goes to "<path>.tmp.<pid>", then rename on commit, so
 * a reader never sees a half-written file and a failed write (a full disk)
 * leaves the previous file intact.  `durable` (set after open) adds an fsync
 * before the rename, so that the new file also survives a power loss: the
 * checkpoints, whose purpose is to survive a crash, set it; models, vectors
 * and datasets do not (an fsync costs ~10 ms on a VM disk, as much as a whole
 * small training run).  An existing path that is not a regular file
 * (/dev/null, a FIFO) is written in place instead (tmp is then ""): a rename
 * would replace the device or pipe. */
struct feral_wfile {
	FILE *f;
	int durable;
	char path[4096];
	char tmp[4200];
};
enum feral_status feral_wfile_open(struct feral_wfile *w, const char *path, struct feral_error *err);
enum feral_status feral_wfile_commit(struct feral_wfile *w, struct feral_error *err);
void feral_wfile_abort(struct feral_wfile *w);

/* Size of a regular file, or IO error naming it. */
enum feral_status feral_file_size(const char *path, uint64_t *size, struct feral_error *err);
/* Refuse to allocate more than the machine's physical memory (plus slack):
 * RANGE with a clear message naming the file, before any allocation. */
enum feral_status feral_check_fits(const char *path, uint64_t bytes, struct feral_error *err);
/* The zlib buffer (gzbuffer) for a gzip file of `compressed` bytes (0:
 * unknown size): the file size within [8 KiB, 256 KiB].  zlib allocates
 * three times this per open; a small file needs no 768 KiB (under
 * AddressSanitizer each such malloc maps fresh pages). */
unsigned feral_gz_buffer_size(uint64_t compressed);

/* Plain-text vectors (io_text.c): one number per line, blank lines and '#'
 * comments skipped (load); "%.17g" per line, exact for any double (save). */
enum feral_status feral_io_text_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err);
enum feral_status feral_io_text_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err);
/* LIBSVM / SVMlight text (plain or .gz): io_libsvm.c */
enum feral_status feral_io_libsvm_load(const char *path, const struct feral_load_options *opt,
                                       struct feral_dataset **out, struct feral_error *err);
enum feral_status feral_io_libsvm_save(const struct feral_dataset *ds, const char *path,
                                       struct feral_error *err);
/* Matrix Market (plain or .gz): io_mtx.c.  Vectors are "array" n x 1. */
enum feral_status feral_io_mtx_load(const char *path, const struct feral_load_options *opt,
                                    struct feral_dataset **out, struct feral_error *err);
enum feral_status feral_io_mtx_save(const struct feral_dataset *ds, const char *path,
                                    struct feral_error *err);
enum feral_status feral_io_mtx_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err);
enum feral_status feral_io_mtx_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err);
/* NumPy .npy: io_npy.c.  2-D float32/float64 C-order -> dense f32 dataset. */
enum feral_status feral_io_npy_load(const char *path, struct feral_dataset **out,
                                    struct feral_error *err);
enum feral_status feral_io_npy_save(const struct feral_dataset *ds, const char *path,
                                    struct feral_error *err);
enum feral_status feral_io_npy_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err);
enum feral_status feral_io_npy_vector_save(const char *path, const double *v, uint64_t len,
                                           struct feral_error *err);
/* IDX (MNIST; plain or .gz): io_idx.c.  Images (idx3, ubyte) -> dense f32
 * rows of rows*cols pixels scaled to [0, 1]; labels (idx1) -> vector. */
enum feral_status feral_io_idx_load(const char *path, struct feral_dataset **out,
                                    struct feral_error *err);
enum feral_status feral_io_idx_vector_load(const char *path, double **out, uint64_t *len,
                                           struct feral_error *err);
/* Native cache .feral: io_cache.c.  mmap'd load; header with magic,
 * version, shape, layout, precision, checksum.  Its loader checks the data in
 * the checksum pass instead of calling feral_dataset_finish (a second pass
 * over a 1 GiB cache cost a third of its load time). */
enum feral_status feral_io_cache_load(const char *path, bool map, struct feral_dataset **out,
                                      struct feral_error *err);
enum feral_status feral_io_cache_save(const struct feral_dataset *ds, const char *path,
                                      struct feral_error *err);
#endif
