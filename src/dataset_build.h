/* Internal: building and finishing loaded datasets (dataset_build.c).  Every
 * loader ends with one of these, so each returns a finished dataset: norms
 * set, every invariant checked, and the file named in any complaint. */
#ifndef FERAL_DATASET_BUILD_H
#define FERAL_DATASET_BUILD_H
#include "internal.h"

/* Norms (heap norms only: a mapped cache's are read-only and trusted after
 * its checksum) and feral_dataset_check, with err->file set to path on
 * failure.  The caller still owns ds either way. */
enum feral_status feral_dataset_finish(const char *path, struct feral_dataset *ds,
                                       struct feral_error *err);

/* A finished dataset from CSR arrays of n rows (0-based sorted unique column
 * indices, f32 values, all from malloc).  dense: 1 dense, 0 CSR, -1 dense
 * when more than half full and it fits in memory.  The CSR arrays (and y,
 * when non-NULL) are taken over and their pointers set to NULL; the caller
 * frees whatever is left.  y NULL: zero targets. */
enum feral_status feral_dataset_from_csr(const char *path, uint64_t n, uint64_t d,
                                         uint64_t **indptr, uint32_t **indices, float **values,
                                         double **y, int dense, struct feral_dataset **out,
                                         struct feral_error *err);
#endif
