/* libFuzzer target: the LIBSVM loader (plain and gzip, detected by magic)
 * under several option sets (the default ones through the public
 * feral_dataset_load dispatch on a .svm path), and the one-number-per-line
 * text vector reader.  The dispatch calls the loader with the default
 * options and nothing else: calling the loader directly with them as well
 * ran the same parse of the same bytes twice. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".svm", data, size);
	struct feral_load_options o;
	feral_load_options_init(&o);
	FUZZ_DATASET("dataset_load .svm", feral_dataset_load(p, NULL, &ds_, &e_));
	o.dense = 1;
	o.min_d = 3;
	FUZZ_DATASET("libsvm dense", feral_io_libsvm_load(p, &o, &ds_, &e_));
	o.dense = 0;
	o.min_d = 0;
	o.row_begin = 1;
	o.row_end = 3;
	FUZZ_DATASET("libsvm csr rows", feral_io_libsvm_load(p, &o, &ds_, &e_));
	/* any extension but .npy/.mtx/.idx is a text vector: the same file */
	FUZZ_VECTOR("vector_load (text)", feral_vector_load(p, &v_, &n_, &e_));
	return 0;
}
