/* libFuzzer target: the IDX (MNIST) loaders, plain and gzip (detected by
 * magic): images as a dataset, labels as a vector, through the public
 * dispatch on an .idx path.
 * The public dispatch (feral_dataset_load / feral_vector_load on the path's
 * extension) calls the loader with its default options and nothing else, so
 * each parse runs once, through the dispatch: calling the loader directly
 * as well ran the same parse of the same bytes twice. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".idx", data, size);
	FUZZ_DATASET("dataset_load .idx", feral_dataset_load(p, NULL, &ds_, &e_));
	FUZZ_VECTOR("vector_load .idx", feral_vector_load(p, &v_, &n_, &e_));
	return 0;
}
