/* libFuzzer target: the IDX (MNIST) loaders, plain and gzip (detected by
 * magic): images as a dataset, labels as a vector, and the public dispatch
 * on an .idx path. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".idx", data, size);
	FUZZ_DATASET("idx", feral_io_idx_load(p, &ds_, &e_));
	FUZZ_VECTOR("idx vector", feral_io_idx_vector_load(p, &v_, &n_, &e_));
	FUZZ_DATASET("dataset_load .idx", feral_dataset_load(p, NULL, &ds_, &e_));
	FUZZ_VECTOR("vector_load .idx", feral_vector_load(p, &v_, &n_, &e_));
	return 0;
}
