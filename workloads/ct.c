/* Computed tomography workload: Siddon's system matrix, the modified
 * Shepp-Logan phantom, a noisy sinogram, a minimal PNG writer, PSNR.
 * See ct.h for the geometry.
 *
 * Siddon (1985), in the incremental form of Jacobs et al. (1998): clip the
 * line to the image square (slab method), then walk it from entry to exit,
 * taking at each step the nearer of the next vertical and the next
 * horizontal grid-line crossing.  Each piece between two consecutive
 * crossings lies in one pixel, found from the piece's midpoint; its length
 * is the difference of the two line parameters (direction normalised), so
 * the lengths of a row add up to the chord of the square exactly (up to
 * rounding) and each is the exact line-pixel intersection length.  Pieces
 * shorter than SIDDON_EPS (a corner touched, two crossings at one point)
 * are dropped.  A line lying ON a grid line belongs to the pixels on its
 * right/below (the midpoint's floor); one on the square's border to none. */
#include "ct.h"
#include "io_impl.h"

#include <math.h>
#ifdef FERAL_HAVE_ZLIB
#include <zlib.h>
#endif

#define SIDDON_EPS 1e-9

void feral_ct_options_init(struct feral_ct_options *o)
{
	memset(o, 0, sizeof *o);
	o->n = 128;
	o->angles = 180;
	o->rays = 0;
	o->spacing = 1.0;
	o->noise = 0.01;
	o->seed = 1;
}

uint32_t feral_ct_rays(const struct feral_ct_options *o)
{
	if (o->rays)
		return o->rays;
	/* the diagonal, rounded up to n's parity: at angle 0 the rays then pass
	 * through pixel centres, not along grid lines */
	uint32_t p = (uint32_t)ceil(sqrt(2.0) * o->n);
	return p + ((p ^ o->n) & 1u);
}

void feral_ct_ray(const struct feral_ct_options *o, uint32_t k, uint32_t p, double *px,
                  double *py, double *ux, double *uy)
{
	double th = M_PI * (double)k / (double)o->angles;
	double s = ((double)p - 0.5 * ((double)feral_ct_rays(o) - 1.0)) * o->spacing;
	double c = cos(th), sn = sin(th);
	*px = s * c;
	*py = s * sn;
	*ux = -sn;
	*uy = c;
}

/* Clip t to the slab lo <= p + t u <= hi.  False when the line misses it
 * (or, with u == 0, lies on or outside its border). */
static bool slab(double p, double u, double lo, double hi, double *t0, double *t1)
{
	if (u == 0.0)
		return p > lo && p < hi;
	double a = (lo - p) / u, b = (hi - p) / u;
	if (a > b) {
		double t = a;
		a = b;
		b = t;
	}
	if (a > *t0)
		*t0 = a;
	if (b < *t1)
		*t1 = b;
	return true;
}

static void reverse(uint32_t *idx, double *len, size_t a, size_t b) /* [a, b) */
{
	while (b > a + 1) {
		b--;
		uint32_t ti = idx[a];
		idx[a] = idx[b];
		idx[b] = ti;
		double tl = len[a];
		len[a] = len[b];
		len[b] = tl;
		a++;
	}
}

size_t feral_ct_siddon(uint32_t n, double px, double py, double ux, double uy, uint32_t *idx,
                       double *len)
{
	double norm = hypot(ux, uy);
	if (n == 0 || !(norm > 0) || !isfinite(norm) || !isfinite(px) || !isfinite(py))
		return 0;
	ux /= norm;
	uy /= norm;
	double h = 0.5 * n, t0 = -INFINITY, t1 = INFINITY;
	if (!slab(px, ux, -h, h, &t0, &t1) || !slab(py, uy, -h, h, &t0, &t1) ||
	    !(t1 - t0 > SIDDON_EPS))
		return 0;
	/* next vertical grid line x = -h + ix after t0, in the direction of travel */
	double tx = INFINITY, ty = INFINITY;
	int64_t ix = 0, iy = 0, sx = ux > 0 ? 1 : -1, sy = uy > 0 ? 1 : -1;
	if (ux != 0) {
		double g = px + t0 * ux + h; /* in [0, n] up to rounding */
		ix = ux > 0 ? (int64_t)floor(g) + 1 : (int64_t)ceil(g) - 1;
		tx = (-h + (double)ix - px) / ux;
	}
	if (uy != 0) {
		double g = py + t0 * uy + h;
		iy = uy > 0 ? (int64_t)floor(g) + 1 : (int64_t)ceil(g) - 1;
		ty = (-h + (double)iy - py) / uy;
	}
	size_t cap = 2 * (size_t)n + 2, m = 0;
	double t = t0;
	while (t < t1) {
		double tn = tx < ty ? tx : ty;
		if (tn > t1)
			tn = t1;
		if (tn - t > SIDDON_EPS && m < cap) {
			double tm = 0.5 * (t + tn);
			double gx = floor(px + tm * ux + h), gy = floor(h - (py + tm * uy));
			int64_t c = gx < 0 ? 0 : gx > n - 1 ? n - 1 : (int64_t)gx;
			int64_t r = gy < 0 ? 0 : gy > n - 1 ? n - 1 : (int64_t)gy;
			idx[m] = (uint32_t)(r * (int64_t)n + c);
			len[m] = tn - t;
			m++;
		}
		if (tx <= tn) {
			ix += sx;
			tx = (-h + (double)ix - px) / ux;
		}
		if (ty <= tn) {
			iy += sy;
			ty = (-h + (double)iy - py) / uy;
		}
		if (tn >= t1)
			break;
		t = tn;
	}
	/* Sort by index.  Along the walk the row (r = floor(h - y)) and the
	 * column are monotone, so: reverse the whole walk when the row
	 * decreases (uy > 0), then reverse each run of one row whose columns
	 * decrease; then merge any equal neighbours. */
	if (uy > 0)
		reverse(idx, len, 0, m);
	for (size_t a = 0; a < m;) {
		size_t b = a + 1;
		while (b < m && idx[b] / n == idx[a] / n)
			b++;
		if (idx[b - 1] < idx[a])
			reverse(idx, len, a, b);
		a = b;
	}
	size_t w = 0;
	for (size_t k = 0; k < m; k++) {
		if (w > 0 && idx[w - 1] == idx[k])
			len[w - 1] += len[k];
		else {
			idx[w] = idx[k];
			len[w] = len[k];
			w++;
		}
	}
	return w;
}

/* ---- the modified Shepp-Logan phantom (Toft) ------------------------------------- */

/* value, semi-axis along x, semi-axis along y, centre x, centre y, angle
 * (degrees, counter-clockwise): MATLAB's phantom('Modified Shepp-Logan'). */
static const double shepp_logan[10][6] = {
	{1.0, 0.69, 0.92, 0.0, 0.0, 0.0},
	{-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0},
	{-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0},
	{-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0},
	{0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0},
	{0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0},
	{0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0},
	{0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0},
	{0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0},
	{0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0},
};

double feral_ct_phantom_at(double x, double y)
{
	double v = 0;
	for (int e = 0; e < 10; e++) {
		const double *q = shepp_logan[e];
		double phi = q[5] * M_PI / 180.0, c = cos(phi), s = sin(phi);
		double dx = x - q[3], dy = y - q[4];
		double u = (dx * c + dy * s) / q[1], w = (-dx * s + dy * c) / q[2];
		if (u * u + w * w <= 1.0)
			v += q[0];
	}
	return v;
}

void feral_ct_phantom(uint32_t n, int ss, double *img)
{
	if (ss < 1)
		ss = 1;
	double pix = 2.0 / n, sub = pix / ss;
	for (uint32_t r = 0; r < n; r++)
		for (uint32_t c = 0; c < n; c++) {
			double acc = 0;
			for (int a = 0; a < ss; a++)
				for (int b = 0; b < ss; b++) {
					double x = -1.0 + c * pix + (b + 0.5) * sub;
					double y = 1.0 - r * pix - (a + 0.5) * sub;
					acc += feral_ct_phantom_at(x, y);
				}
			img[(size_t)r * n + c] = acc / (ss * ss);
		}
}

/* ---- the scan ---------------------------------------------------------------------- */

enum feral_status feral_ct_problem(const struct feral_ct_options *o, struct feral_dataset **out,
                                   double **x_true, uint32_t **row_ray, struct feral_error *err)
{
	*out = NULL;
	*x_true = NULL;
	if (row_ray)
		*row_ray = NULL;
	if (o->n < 1 || o->n > 65535 || o->angles < 1 || !(o->spacing > 0) ||
	    !isfinite(o->spacing) || !(o->noise >= 0) || !isfinite(o->noise))
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
		                  "ct: need 1 <= n <= 65535, angles >= 1, spacing > 0, noise >= 0 "
		                  "(n %u, angles %u, spacing %g, noise %g)",
		                  o->n, o->angles, o->spacing, o->noise);
	uint32_t n = o->n, P = feral_ct_rays(o);
	uint64_t rays = (uint64_t)o->angles * P, d = (uint64_t)n * n;
	if (P < 1 || rays > UINT32_MAX)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "ct: %u angles x %u rays: bad count",
		                  o->angles, P);
	size_t cap = 2 * (size_t)n + 2;
	uint32_t *idx = malloc(cap * sizeof *idx), *rr = malloc(rays * sizeof *rr);
	double *len = malloc(cap * sizeof *len), *x = malloc(d * sizeof *x);
	uint32_t *cnt = malloc(rays * sizeof *cnt);
	struct feral_dataset *ds = NULL;
	enum feral_status st = FERAL_OK;
	if (!idx || !rr || !len || !x || !cnt) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, NULL, 0, "ct: out of memory");
		goto fail;
	}
	/* pass 1: pixels per ray */
	uint64_t m = 0, nnz = 0;
	for (uint64_t q = 0; q < rays; q++) {
		double px, py, ux, uy;
		feral_ct_ray(o, (uint32_t)(q / P), (uint32_t)(q % P), &px, &py, &ux, &uy);
		cnt[q] = (uint32_t)feral_ct_siddon(n, px, py, ux, uy, idx, len);
		if (cnt[q]) {
			rr[m++] = (uint32_t)q;
			nnz += cnt[q];
		}
	}
	if (m == 0) {
		st = feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "ct: no ray meets the image");
		goto fail;
	}
	st = feral_dataset_create(m, d, nnz, FERAL_LAYOUT_CSR, FERAL_PRECISION_F32, &ds, err);
	if (st)
		goto fail;
	/* pass 2: the rows */
	float *val = ds->values;
	uint64_t at = 0;
	for (uint64_t i = 0; i < m; i++) {
		uint32_t q = rr[i];
		double px, py, ux, uy;
		feral_ct_ray(o, q / P, q % P, &px, &py, &ux, &uy);
		size_t c = feral_ct_siddon(n, px, py, ux, uy, idx, len);
		FERAL_ASSERT(c == cnt[q]);
		for (size_t k = 0; k < c; k++) {
			ds->indices[at + k] = idx[k];
			val[at + k] = (float)len[k];
		}
		at += c;
		ds->indptr[i + 1] = at;
	}
	/* truth and data: y = A x (the stored f32 A, in double) + e */
	feral_ct_phantom(n, 1, x);
	double ss = 0;
	for (uint64_t i = 0; i < m; i++) {
		double s = 0;
		for (uint64_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
			s += (double)val[k] * x[ds->indices[k]];
		ds->y[i] = s;
		ss += s * s;
	}
	if (o->noise > 0) {
		double sigma = o->noise * sqrt(ss / (double)m);
		struct feral_rng g;
		feral_rng_seed(&g, o->seed, 0);
		for (uint64_t i = 0; i < m; i++)
			ds->y[i] += sigma * feral_rng_normal(&g);
	}
	feral_dataset_update_norms(ds);
	free(idx);
	free(len);
	free(cnt);
	*out = ds;
	*x_true = x;
	if (row_ray)
		*row_ray = rr;
	else
		free(rr);
	return FERAL_OK;
fail:
	free(idx);
	free(len);
	free(cnt);
	free(rr);
	free(x);
	feral_dataset_destroy(&ds);
	return st;
}

double feral_ct_psnr(const double *x, const double *ref, size_t m, double peak)
{
	double se = 0;
	for (size_t i = 0; i < m; i++) {
		double e = x[i] - ref[i];
		se += e * e;
	}
	if (se == 0)
		return INFINITY;
	return 10.0 * log10(peak * peak / (se / (double)m));
}

/* ---- PNG --------------------------------------------------------------------------- */

#ifdef FERAL_HAVE_ZLIB
static uint32_t png_crc(uint32_t crc, const unsigned char *p, size_t len)
{
	return (uint32_t)crc32(crc, p, (uInt)len);
}
#else
static uint32_t png_crc(uint32_t crc, const unsigned char *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}
#endif

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void png_chunk(FILE *f, const char *type, const unsigned char *data, size_t len)
{
	unsigned char b[4];
	put32(b, (uint32_t)len);
	fwrite(b, 1, 4, f);
	fwrite(type, 1, 4, f);
	if (len)
		fwrite(data, 1, len, f);
	uint32_t crc = png_crc(0, (const unsigned char *)type, 4);
	if (len)
		crc = png_crc(crc, data, len);
	put32(b, crc);
	fwrite(b, 1, 4, f);
}

/* The zlib stream of raw[len] into a malloc'd buffer. */
static unsigned char *png_deflate(const unsigned char *raw, size_t len, size_t *out_len)
{
#ifdef FERAL_HAVE_ZLIB
	uLongf cap = compressBound((uLong)len);
	unsigned char *z = malloc(cap);
	if (!z || compress2(z, &cap, raw, (uLong)len, 9) != Z_OK) {
		free(z);
		return NULL;
	}
	*out_len = cap;
	return z;
#else
	/* stored blocks: header 78 01, then [final, LEN, ~LEN, bytes]..., Adler-32 */
	size_t blocks = len / 65535 + 1, cap = 2 + blocks * 5 + len + 4, o = 0;
	unsigned char *z = malloc(cap);
	if (!z)
		return NULL;
	z[o++] = 0x78;
	z[o++] = 0x01;
	size_t at = 0;
	do {
		size_t b = len - at > 65535 ? 65535 : len - at;
		z[o++] = at + b == len ? 1 : 0;
		z[o++] = (unsigned char)b;
		z[o++] = (unsigned char)(b >> 8);
		z[o++] = (unsigned char)~b;
		z[o++] = (unsigned char)(~b >> 8);
		memcpy(z + o, raw + at, b);
		o += b;
		at += b;
	} while (at < len);
	uint32_t s1 = 1, s2 = 0;
	for (size_t i = 0; i < len; i++) {
		s1 = (s1 + raw[i]) % 65521u;
		s2 = (s2 + s1) % 65521u;
	}
	put32(z + o, (s2 << 16) | s1);
	*out_len = o + 4;
	return z;
#endif
}

enum feral_status feral_png_write_gray(const char *path, const double *img, uint32_t w, uint32_t h,
                                       double lo, double hi, struct feral_error *err)
{
	if (w == 0 || h == 0 || w > (1u << 24) || h > (1u << 24) || !(hi > lo))
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                  "png: need a non-empty image (%u x %u) and hi > lo (%g, %g)", w, h, lo,
		                  hi);
	size_t stride = (size_t)w + 1, len = stride * h;
	unsigned char *raw = malloc(len);
	if (!raw)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "png: out of memory");
	for (uint32_t r = 0; r < h; r++) {
		unsigned char *row = raw + (size_t)r * stride;
		row[0] = 0; /* filter: none */
		for (uint32_t c = 0; c < w; c++) {
			double v = (img[(size_t)r * w + c] - lo) / (hi - lo);
			v = v != v ? 0 : v < 0 ? 0 : v > 1 ? 1 : v;
			row[1 + c] = (unsigned char)lround(255.0 * v);
		}
	}
	size_t zlen = 0;
	unsigned char *z = png_deflate(raw, len, &zlen);
	free(raw);
	if (!z)
		return feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "png: compression failed");
	struct feral_wfile wf;
	enum feral_status st = feral_wfile_open(&wf, path, err);
	if (st) {
		free(z);
		return st;
	}
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char ihdr[13];
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 0;  /* colour type: grey */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering (type 0 rows) */
	ihdr[12] = 0; /* no interlace */
	fwrite(sig, 1, 8, wf.f);
	png_chunk(wf.f, "IHDR", ihdr, 13);
	png_chunk(wf.f, "IDAT", z, zlen);
	png_chunk(wf.f, "IEND", NULL, 0);
	free(z);
	return feral_wfile_commit(&wf, err);
}
