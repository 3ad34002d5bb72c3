/* libFuzzer target: the NumPy .npy loaders (2-D dataset, 1-D vector) and
 * the public dispatch on a .npy path. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".npy", data, size);
	FUZZ_DATASET("npy", feral_io_npy_load(p, &ds_, &e_));
	FUZZ_VECTOR("npy vector", feral_io_npy_vector_load(p, &v_, &n_, &e_));
	FUZZ_DATASET("dataset_load .npy", feral_dataset_load(p, NULL, &ds_, &e_));
	FUZZ_VECTOR("vector_load .npy", feral_vector_load(p, &v_, &n_, &e_));
	return 0;
}
