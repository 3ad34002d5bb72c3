/* libFuzzer target: the model file reader of feral predict
 * (src/cli/model.c).  A failure must say why; an accepted model is read end
 * to end, written back with the model writer and read again to the same
 * values (the format's own round trip). */
#include "fuzz_common.h"

#include <math.h>

#include "cli/model.h"

static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_file(".txt", data, size);
	struct cli_model m;
	struct feral_error e = {0};
	enum feral_status st = cli_model_read(p, &m, &e);
	if (st) {
		fuzz_check_error("model", st, &e);
		FUZZ_REQUIRE(!m.w && !m.labels, "a failed read left buffers");
		return 0;
	}
	FUZZ_REQUIRE(m.version == 1 || m.version == 2, "version %d", m.version);
	FUZZ_REQUIRE(m.d >= 1 && m.k >= 1 && m.k <= CLI_MODEL_MAX_CLASSES, "shape %llu x %llu",
	             (unsigned long long)m.k, (unsigned long long)m.d);
	FUZZ_REQUIRE(m.version == 2 || m.k == 1, "version 1 with %llu classes",
	             (unsigned long long)m.k);
	FUZZ_REQUIRE(m.version == 1 || m.labels, "version 2 without labels");
	FUZZ_REQUIRE(m.k * m.d <= size, "%llu weights from %zu bytes",
	             (unsigned long long)(m.k * m.d), size);
	for (uint64_t j = 0; j < m.k * m.d; j++)
		FUZZ_REQUIRE(isfinite(m.w[j]), "weight %llu not finite", (unsigned long long)j);
	FUZZ_REQUIRE(memchr(m.positive, 0, sizeof m.positive), "positive not terminated");

	/* write it back and read it again */
	char out[128];
	snprintf(out, sizeof out, "%s/out.txt", fuzz_dir);
	struct cli_model_out o = {.loss = FERAL_LOSS_LS, .d = m.d, .k = m.k, .w = m.w,
	                          .neg = m.neg, .pos = m.pos, .positive = m.positive,
	                          .labels = m.labels};
	if (m.version == 2 && m.k == 1) /* a one-class version 2 file comes back as version 1 */
		o.positive = "-";
	st = cli_model_write(out, &o, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "write back: %s", e.msg);
	struct cli_model r;
	st = cli_model_read(out, &r, &e);
	FUZZ_REQUIRE(st == FERAL_OK, "read back: %s", e.msg);
	FUZZ_REQUIRE(r.d == m.d && r.k == m.k, "shape changed");
	for (uint64_t j = 0; j < m.k * m.d; j++)
		FUZZ_REQUIRE(same(r.w[j], m.w[j]), "weight %llu: %.17g -> %.17g", (unsigned long long)j,
		             m.w[j], r.w[j]);
	if (m.version == 2 && m.k > 1)
		for (uint64_t c = 0; c < m.k; c++)
			FUZZ_REQUIRE(same(r.labels[c], m.labels[c]), "label %llu", (unsigned long long)c);
	if (m.version == 1)
		FUZZ_REQUIRE(same(r.neg, m.neg) && same(r.pos, m.pos) &&
		                     !strcmp(r.positive, m.positive),
		             "version 1 labels changed");
	cli_model_free(&r);
	cli_model_free(&m);
	return 0;
}
