/* LAPACK and BLAS loaded at first use (lapack.h says why). */
#include "lapack.h"

#ifdef FERAL_HAVE_LAPACKE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct feral_lapack lp;
static const struct feral_lapack *lp_ok;
static char lp_err[256];
static pthread_once_t lp_once = PTHREAD_ONCE_INIT;

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	if (!p && !lp_err[0])
		snprintf(lp_err, sizeof lp_err, "%s: %s", name, dlerror());
	return p;
}

static void load(void)
{
	static const char *const names[] = {"liblapacke.so.3", "liblapacke.so"};
	void *h = NULL;
	for (size_t i = 0; i < sizeof names / sizeof *names && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lp_err, sizeof lp_err, "%s", dlerror());
		return;
	}
	/* never closed: the library stays for the process, as a linked one */
	*(void **)&lp.dgels = sym(h, "LAPACKE_dgels");
	*(void **)&lp.dgeqrf = sym(h, "LAPACKE_dgeqrf");
	*(void **)&lp.dorgqr = sym(h, "LAPACKE_dorgqr");
	*(void **)&lp.dgesvd = sym(h, "LAPACKE_dgesvd");
	/* cblas_dgemm comes from liblapacke's dependency libblas (OpenBLAS):
	 * dlsym on a handle searches its dependencies too */
	*(void **)&lp.dgemm = sym(h, "cblas_dgemm");
	if (lp.dgels && lp.dgeqrf && lp.dorgqr && lp.dgesvd && lp.dgemm)
		lp_ok = &lp;
}

const struct feral_lapack *feral_lapack(void)
{
	pthread_once(&lp_once, load);
	return lp_ok;
}

const char *feral_lapack_error(void)
{
	pthread_once(&lp_once, load);
	return lp_ok ? "" : lp_err;
}
#endif
