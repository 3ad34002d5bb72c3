/* SOLVE_OK: feral_solve that must succeed; the assertion names the failure.
 * Shared by the engine and SVRG suites. */
#ifndef FERAL_TESTS_SOLVE_OK_H
#define FERAL_TESTS_SOLVE_OK_H
#define SOLVE_OK(ds, c, xs, x, r, tr)                                                     \
	do {                                                                              \
		struct feral_error e_ = {0};                                              \
		enum feral_status st_ = feral_solve(ds, c, xs, x, r, tr, &e_);           \
		cr_assert_eq(st_, FERAL_OK, "feral_solve: %s (%s)", feral_strerror(st_), e_.msg); \
	} while (0)
#endif
