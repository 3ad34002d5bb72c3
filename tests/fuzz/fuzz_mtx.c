/* libFuzzer target: the Matrix Market loaders (plain and gzip, detected by
 * magic): automatic layout and the vector reader through the public
 * dispatch on a .mtx path, then forced dense and forced CSR.
 * The public dispatch (feral_dataset_load / feral_vector_load on the path's
 * extension) calls the loader with its default options and nothing else, so
 * each parse runs once, through the dispatch: calling the loader directly
 * as well ran the same parse of the same bytes twice. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".mtx", data, size);
	struct feral_load_options o;
	feral_load_options_init(&o);
	FUZZ_DATASET("dataset_load .mtx", feral_dataset_load(p, NULL, &ds_, &e_));
	o.dense = 1;
	FUZZ_DATASET("mtx dense", feral_io_mtx_load(p, &o, &ds_, &e_));
	o.dense = 0;
	FUZZ_DATASET("mtx csr", feral_io_mtx_load(p, &o, &ds_, &e_));
	FUZZ_VECTOR("vector_load .mtx", feral_vector_load(p, &v_, &n_, &e_));
	return 0;
}
