/* For fuzz_cli: bench's option parser (parse_args, static in bench/main.c)
 * reached without changing bench: main.c is compiled here with its main()
 * renamed, and parse_args is handed out through fuzz_bench_parse.  Its own
 * translation unit because bench and the feral commands both name a static
 * `prog`. */
#define main bench_main_unused
#include "../../bench/main.c"
#undef main

int fuzz_bench_parse(int argc, char **argv, int *nthreads, int *nprec, int *nrepl, int *repeat);

int fuzz_bench_parse(int argc, char **argv, int *nthreads, int *nprec, int *nrepl, int *repeat)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	*nthreads = o.nthreads;
	*nprec = o.nprec;
	*nrepl = o.nrepl;
	*repeat = o.repeat;
	return rc;
}
