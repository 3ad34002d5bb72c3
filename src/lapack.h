/* LAPACK and BLAS, loaded at first use rather than linked.  Linking
 * liblapacke pulls in OpenBLAS, whose constructor starts a thread pool in
 * every process that loads it (~0.5 ms of a 4 ms `feral train` on
 * heart_scale, and spinning threads on the other cores) although only the
 * LAPACK reference (`--reference lapack`), the exact Gaussian generator and
 * the SGD step's mu estimate use it.  feral_lapack() dlopens liblapacke
 * once (thread-safe) and returns its entry points, or NULL when it cannot
 * be loaded; callers then fail with a message (the reference) or take the
 * path of a build without LAPACKE (the generator, the estimate). */
#ifndef FERAL_LAPACK_H
#define FERAL_LAPACK_H

#ifdef FERAL_HAVE_LAPACKE
#include <cblas.h>
#include <lapacke.h>

struct feral_lapack {
	__typeof__(LAPACKE_dgels) *dgels;
	__typeof__(LAPACKE_dgeqrf) *dgeqrf;
	__typeof__(LAPACKE_dorgqr) *dorgqr;
	__typeof__(LAPACKE_dgesvd) *dgesvd;
	__typeof__(cblas_dgemm) *dgemm;
};

const struct feral_lapack *feral_lapack(void);
/* Why feral_lapack() returned NULL (dlerror's text), or "". */
const char *feral_lapack_error(void);
#endif

#endif
