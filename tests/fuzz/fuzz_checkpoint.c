/* libFuzzer target: the checkpoint reader of feral solve/train --resume
 * (src/cli/checkpoint.c), for models of 1 and 3 weights.  A failure must say
 * why; an accepted checkpoint is written back and read again to the same
 * values. */
#include "fuzz_common.h"

#include <math.h>

#include "cli/checkpoint.h"

static void one(const char *p, uint64_t d)
{
	double x[3], y[3];
	uint64_t upd = 0, upd2 = 0;
	struct feral_error e = {0};
	enum feral_status st = cli_ckpt_read(p, d, x, &upd, &e);
	if (st) {
		fuzz_check_error("checkpoint", st, &e);
		return;
	}
	for (uint64_t j = 0; j < d; j++)
		FUZZ_REQUIRE(isfinite(x[j]), "weight %llu not finite", (unsigned long long)j);
	char out[128];
	snprintf(out, sizeof out, "%s/out.ckpt", fuzz_dir);
	st = cli_ckpt_write(out, x, d, upd, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "write back: %s", e.msg);
	st = cli_ckpt_read(out, d, y, &upd2, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "read back: %s", e.msg);
	FUZZ_REQUIRE(upd2 == upd, "updates %llu -> %llu", (unsigned long long)upd,
	             (unsigned long long)upd2);
	for (uint64_t j = 0; j < d; j++)
		FUZZ_REQUIRE(x[j] == y[j], "weight %llu: %.17g -> %.17g", (unsigned long long)j, x[j],
		             y[j]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".ckpt", data, size);
	one(p, 1);
	one(p, 3);
	return 0;
}
