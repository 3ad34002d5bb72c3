/* CT reconstruction workflow driver (scripts/data/ct.sh builds and runs it).
 *
 *   ct gen [--n N] [--angles K] [--rays P] [--spacing S] [--noise E] [--seed S] -o PREFIX
 *       parallel-beam system matrix (Siddon, workloads/ct.c), modified Shepp-Logan
 *       phantom, b = A x_true + e.  Writes PREFIX.feral (A and b),
 *       PREFIX.xtrue.npy (the phantom, row-major) and PREFIX.sino.png (the
 *       noisy sinogram: one row per angle, one column per ray) and PREFIX.info
 *       (key=value: sizes, the phantom's peak and mean square, build time).
 *   ct png [--window LO,HI] [--scale S] [--ref XTRUE.npy] OUT.png X.npy [X.npy ...]
 *       the square images X (n^2 values each) side by side, 2-pixel white gaps,
 *       each pixel S x S; with --ref prints "path psnr_db rel_error" for each X
 *       (PSNR with peak = max of the reference; rel_error = ||x-ref||/||ref||).
 *
 * Build: make build/libferal.a build/obj/workloads/ct.o, then cc -O2 -Iinclude
 * -Isrc -Iworkloads scripts/data/ct.c build/obj/workloads/ct.o build/libferal.a
 * $(pkg-config --libs ...) -fopenmp -lm (see ct.sh). */
#include "cli/cli.h" /* feral_status_exit_code */
#include "ct.h"

#include <getopt.h>
#include <math.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int fail(enum feral_status st, const struct feral_error *e)
{
	char buf[1200];
	fprintf(stderr, "ct: %s\n", feral_error_format(e, buf, sizeof buf));
	return feral_status_exit_code(st);
}

static int usage(void)
{
	fprintf(stderr, "usage: ct gen [--n N] [--angles K] [--rays P] [--spacing S] [--noise E] "
	                "[--seed S] -o PREFIX\n"
	                "       ct png [--window LO,HI] [--scale S] [--ref XTRUE.npy] OUT.png X.npy...\n");
	return 2;
}

static int cmd_gen(int argc, char **argv)
{
	struct feral_ct_options o;
	feral_ct_options_init(&o);
	const char *prefix = NULL;
	static const struct option opts[] = {
		{"n", required_argument, 0, 'n'},      {"angles", required_argument, 0, 'k'},
		{"rays", required_argument, 0, 'p'},   {"spacing", required_argument, 0, 's'},
		{"noise", required_argument, 0, 'e'},  {"seed", required_argument, 0, 'r'},
		{"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o.n = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'k': o.angles = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': o.rays = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': o.spacing = strtod(optarg, NULL); break;
		case 'e': o.noise = strtod(optarg, NULL); break;
		case 'r': o.seed = strtoull(optarg, NULL, 10); break;
		case 'o': prefix = optarg; break;
		default: return usage();
		}
	}
	if (!prefix || optind != argc)
		return usage();
	struct feral_error e = {0};
	struct feral_dataset *ds = NULL;
	double *x = NULL;
	uint32_t *rr = NULL;
	double t0 = now();
	enum feral_status st = feral_ct_problem(&o, &ds, &x, &rr, &e);
	if (st)
		return fail(st, &e);
	double tb = now() - t0;
	char path[4096];
	snprintf(path, sizeof path, "%s.feral", prefix);
	if ((st = feral_dataset_save(ds, path, &e)))
		return fail(st, &e);
	snprintf(path, sizeof path, "%s.xtrue.npy", prefix);
	if ((st = feral_vector_save(path, x, (uint64_t)o.n * o.n, &e)))
		return fail(st, &e);
	uint32_t P = feral_ct_rays(&o);
	double *sino = calloc((size_t)o.angles * P, sizeof *sino), hi = 0;
	if (!sino)
		return 1;
	for (uint64_t i = 0; i < ds->n; i++) {
		sino[rr[i]] = ds->y[i];
		hi = ds->y[i] > hi ? ds->y[i] : hi;
	}
	snprintf(path, sizeof path, "%s.sino.png", prefix);
	if ((st = feral_png_write_gray(path, sino, P, o.angles, 0, hi > 0 ? hi : 1, &e)))
		return fail(st, &e);
	double mn = INFINITY, mx = 0, sum = 0;
	for (uint64_t i = 0; i < ds->n; i++) {
		double l = sqrt(ds->row_sq_norm[i]);
		mn = l < mn ? l : mn;
		mx = l > mx ? l : mx;
		sum += ds->row_sq_norm[i];
	}
	double peak = 0, ms = 0;
	for (uint64_t j = 0; j < ds->d; j++) {
		peak = x[j] > peak ? x[j] : peak;
		ms += x[j] * x[j] / (double)ds->d;
	}
	snprintf(path, sizeof path, "%s.info", prefix);
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "n=%u\nangles=%u\nrays=%u\nrows=%llu\nnnz=%llu\nnoise=%g\npeak=%.17g\n"
	                  "mean_square=%.17g\nbuild_seconds=%.3f\n", o.n, o.angles, P,
	                  (unsigned long long)ds->n, (unsigned long long)ds->nnz, o.noise, peak, ms,
	                  tb) < 0 || fclose(f) != 0) {
		fprintf(stderr, "ct: %s: cannot write\n", path);
		return 1;
	}
	printf("ct gen: n %u (%llu pixels), %u angles x %u rays = %llu rays, %llu rows meet the "
	       "image, nnz %llu, row norm %.3g..%.3g (max^2/mean^2 %.3g), noise %g, built in %.2f s\n",
	       o.n, (unsigned long long)ds->d, o.angles, P, (unsigned long long)o.angles * P,
	       (unsigned long long)ds->n, (unsigned long long)ds->nnz, mn, mx,
	       mx * mx / (sum / ds->n), o.noise, tb);
	free(sino);
	free(rr);
	free(x);
	feral_dataset_destroy(&ds);
	return 0;
}

static int load_square(const char *path, double **x, uint32_t *n)
{
	struct feral_error e = {0};
	uint64_t len = 0;
	enum feral_status st = feral_vector_load(path, x, &len, &e);
	if (st)
		return fail(st, &e);
	uint64_t s = (uint64_t)llround(sqrt((double)len));
	if (s * s != len || s == 0) {
		fprintf(stderr, "ct: %s: %llu values is not a square image\n", path,
		        (unsigned long long)len);
		return 2;
	}
	*n = (uint32_t)s;
	return 0;
}

static int cmd_png(int argc, char **argv)
{
	double lo = 0, hi = 1;
	int scale = 1;
	const char *ref = NULL;
	static const struct option opts[] = {{"window", required_argument, 0, 'w'},
	                                     {"scale", required_argument, 0, 's'},
	                                     {"ref", required_argument, 0, 'r'},
	                                     {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (sscanf(optarg, "%lf,%lf", &lo, &hi) != 2 || !(hi > lo))
				return usage();
			break;
		case 's': scale = atoi(optarg); break;
		case 'r': ref = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind < 2 || scale < 1 || scale > 16)
		return usage();
	const char *out = argv[optind];
	int k = argc - optind - 1, rc;
	double *xr = NULL, peak = 0, rn = 0;
	uint32_t n = 0, nr = 0;
	if (ref) {
		if ((rc = load_square(ref, &xr, &nr)))
			return rc;
		for (uint64_t i = 0; i < (uint64_t)nr * nr; i++) {
			peak = xr[i] > peak ? xr[i] : peak;
			rn += xr[i] * xr[i];
		}
	}
	double **xs = calloc(k, sizeof *xs);
	for (int i = 0; i < k; i++) {
		uint32_t ni;
		if ((rc = load_square(argv[optind + 1 + i], &xs[i], &ni)))
			return rc;
		if (i && ni != n) {
			fprintf(stderr, "ct: %s: %u x %u, the first image is %u x %u\n",
			        argv[optind + 1 + i], ni, ni, n, n);
			return 2;
		}
		n = ni;
		if (xr) {
			if (nr != n) {
				fprintf(stderr, "ct: %s and %s differ in size\n", ref, argv[optind + 1 + i]);
				return 2;
			}
			double se = 0;
			for (uint64_t j = 0; j < (uint64_t)n * n; j++)
				se += (xs[i][j] - xr[j]) * (xs[i][j] - xr[j]);
			printf("%s %.3f %.5f\n", argv[optind + 1 + i],
			       feral_ct_psnr(xs[i], xr, (size_t)n * n, peak), sqrt(se / rn));
		}
	}
	uint32_t gap = 2, side = n * scale, w = k * side + (k - 1) * gap, h = side;
	double *img = malloc((size_t)w * h * sizeof *img);
	for (size_t j = 0; j < (size_t)w * h; j++)
		img[j] = hi; /* gaps white */
	for (int i = 0; i < k; i++)
		for (uint32_t r = 0; r < h; r++)
			for (uint32_t cc = 0; cc < side; cc++)
				img[(size_t)r * w + i * (side + gap) + cc] =
					xs[i][(size_t)(r / scale) * n + cc / scale];
	struct feral_error e = {0};
	enum feral_status st = feral_png_write_gray(out, img, w, h, lo, hi, &e);
	for (int i = 0; i < k; i++)
		free(xs[i]);
	free(xs);
	free(xr);
	free(img);
	return st ? fail(st, &e) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "png"))
		return cmd_png(argc - 1, argv + 1);
	return usage();
}
