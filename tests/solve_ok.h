/* SOLVE_OK: feral_solve that must succeed; the assertion names the failure.
 * Shared by the engine, SVRG and HALP suites; with them two helpers. */
#ifndef FERAL_TESTS_SOLVE_OK_H
#define FERAL_TESTS_SOLVE_OK_H
#define SOLVE_OK(ds, c, xs, x, r, tr)                                                     \
	do {                                                                              \
		struct feral_error e_ = {0};                                              \
		enum feral_status st_ = feral_solve(ds, c, xs, x, r, tr, &e_);           \
		cr_assert_eq(st_, FERAL_OK, "feral_solve: %s (%s)", feral_strerror(st_), e_.msg); \
	} while (0)
/* A generated problem (x* dropped): noise < 0 keeps the generator's default,
 * density 0 its default nonzeros. */
static inline struct feral_dataset *gen_problem(enum feral_gen_kind kind, uint64_t n, uint64_t d,
                                                double noise, uint64_t seed, double density)
{
	struct feral_gen_options o;
	feral_gen_options_init(&o, kind);
	o.n = n;
	o.d = d;
	if (noise >= 0)
		o.noise = noise;
	o.seed = seed;
	if (density > 0)
		o.density = density;
	struct feral_dataset *ds = NULL;
	double *xs = NULL;
	struct feral_error e = {0};
	cr_assert_eq(feral_gen(&o, &ds, &xs, &e), FERAL_OK, "gen: %s", e.msg);
	free(xs);
	return ds;
}

/* ||x - y||^2 / ||y||^2 */
static inline double rel_err2(const double *x, const double *y, uint64_t d)
{
	double e = 0, s = 0;
	for (uint64_t j = 0; j < d; j++) {
		e += (x[j] - y[j]) * (x[j] - y[j]);
		s += y[j] * y[j];
	}
	return e / s;
}
#endif
