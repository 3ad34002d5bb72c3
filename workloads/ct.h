/* Computed tomography workload: the parallel-beam system matrix by Siddon's
 * algorithm, the modified Shepp-Logan phantom, a noisy sinogram, a minimal
 * grey-scale PNG writer and PSNR.  Not part of libferal: the Makefile builds
 * workloads/ct.c into the programs that use it (tests/test_ct.c, and
 * scripts/data/ct.c through ct.sh), against libferal.a and its internal
 * headers (src/), so this header is not installed.
 *
 * Geometry (pixel units).  The image is n x n square pixels of width 1,
 * centred at the origin: it covers [-n/2, n/2]^2.  Pixel (r, c) -- row r from
 * the TOP, column c from the left -- covers x in [-n/2 + c, -n/2 + c + 1],
 * y in [n/2 - r - 1, n/2 - r]; its unknown is x[r * n + c] (row-major, as
 * the PNG is written).  Ray (k, p) of a parallel-beam scan with K angles and
 * P rays per angle is the line
 *     { s (cos t, sin t) + u (-sin t, cos t) : u real },
 *     t = pi k / K  (k = 0..K-1),   s = (p - (P - 1)/2) * spacing,
 * so its row of A holds the exact length of that line inside each pixel and
 * (A x)_ray is the line integral of the piecewise-constant image. */
#ifndef FERAL_CT_H
#define FERAL_CT_H

#include "internal.h"

struct feral_ct_options {
	uint32_t n;      /* image is n x n pixels (default 128) */
	uint32_t angles; /* K, angles uniform in [0, pi) (default 180) */
	uint32_t rays;   /* P rays per angle; 0 = ceil(sqrt(2) n) (the diagonal) rounded
	                  * up to the parity of n, so that rays at angle 0 pass
	                  * through pixel centres (with spacing 1) */
	double spacing;  /* detector spacing in pixels (default 1) */
	double noise;    /* relative noise: e ~ N(0, s^2), s = noise ||A x|| / sqrt(m) (default 0.01) */
	uint64_t seed;   /* noise seed (default 1) */
};
void feral_ct_options_init(struct feral_ct_options *o);
/* P actually used (rays, or the default above when rays == 0). */
uint32_t feral_ct_rays(const struct feral_ct_options *o);

/* Siddon: the pixels of the n x n grid crossed by the line (px, py) + u (ux, uy)
 * ((ux, uy) need not be unit; lengths are Euclidean), with the length of the
 * line inside each.  idx[] and len[] must hold 2n + 2 entries; the output is
 * sorted by index with no duplicates and no zero lengths (pieces shorter than
 * 1e-9 pixel, i.e. corner touches, are dropped).  Returns the count. */
size_t feral_ct_siddon(uint32_t n, double px, double py, double ux, double uy, uint32_t *idx,
                       double *len);
/* The ray (k, p) of the scan: a point and the unit direction. */
void feral_ct_ray(const struct feral_ct_options *o, uint32_t k, uint32_t p, double *px,
                  double *py, double *ux, double *uy);

/* Modified Shepp-Logan phantom (Toft 1996, the 10 ellipses of MATLAB's
 * phantom('Modified Shepp-Logan')) at (x, y) in [-1, 1]^2, y up.  Values in
 * [0, 1]: 1 skull, 0.2 brain, 0.3 / 0.1 / 0.0 features, 0 outside. */
double feral_ct_phantom_at(double x, double y);
/* Rasterised on the n x n grid: img[r * n + c] = the mean of ss x ss samples
 * of the phantom inside pixel (r, c) (ss = 1: the value at its centre). */
void feral_ct_phantom(uint32_t n, int ss, double *img);

/* The scan as a least-squares problem: A (CSR, F32, rows = the rays that
 * meet the image, in the order k * P + p; empty rays are dropped),
 * y = A x_true + e, x_true the phantom (ss = 1).  *x_true (n^2) and, when
 * row_ray is not NULL, *row_ray (the ray number k * P + p of each row) are
 * malloc'd.  USAGE for bad options, NOMEM. */
enum feral_status feral_ct_problem(const struct feral_ct_options *o, struct feral_dataset **out,
                                   double **x_true, uint32_t **row_ray, struct feral_error *err);

/* 8-bit grey-scale PNG of img (h rows of w values, row-major, first row at
 * the top): value v -> round(255 clamp((v - lo)/(hi - lo), 0, 1)); NaN -> 0.
 * Written atomically.  zlib's compress2 and crc32 when FERAL_HAVE_ZLIB, else
 * stored (uncompressed) deflate blocks with our own CRC-32 and Adler-32. */
enum feral_status feral_png_write_gray(const char *path, const double *img, uint32_t w, uint32_t h,
                                       double lo, double hi, struct feral_error *err);

/* PSNR in dB: 10 log10(peak^2 / MSE), MSE = mean (x - ref)^2 over m values;
 * +inf when x == ref. */
double feral_ct_psnr(const double *x, const double *ref, size_t m, double peak);

#endif /* FERAL_CT_H */
