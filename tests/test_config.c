/* Configuration validation speaks library: every rejection names the
 * struct feral_config field it is about, never a command-line option. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "feral.h"

TestSuite(config, .timeout = 10);

struct bad {
	const char *field; /* the message must start with this */
	void (*set)(struct feral_config *c);
};

#define BAD(field, stmt) {field, ({ void f(struct feral_config *c) { stmt; } f; })}

Test(config, test_rejections_name_the_field_not_an_option)
{
	const struct bad bad[] = {
		BAD("loss", c->loss = FERAL_LOSS_COUNT),
		BAD("l2", c->l2 = -1),
		BAD("method", c->method = FERAL_METHOD_COUNT),
		BAD("method", (c->method = FERAL_METHOD_KACZMARZ, c->loss = FERAL_LOSS_HINGE)),
		BAD("relax", (c->method = FERAL_METHOD_KACZMARZ, c->relax = 2)),
		BAD("lambda", c->lambda = 1.5),
		BAD("step", (c->step_auto = 0, c->step = 0)),
		BAD("step_decay", c->step_decay = -1),
		BAD("tol", c->tol = NAN),
		BAD("mu", c->mu = -1),
		BAD("epochs", c->epochs = INFINITY),
		BAD("seconds", c->seconds = -1),
		BAD("no budget", (c->epochs = 0, c->seconds = 0, c->max_updates = 0)),
		BAD("diverge", c->diverge = 1),
		BAD("threads", c->threads = -1),
		BAD("bind", c->bind = FERAL_BIND_COUNT),
		BAD("replicas", c->replicas = FERAL_REPLICAS_COUNT),
		BAD("update", c->update = FERAL_UPDATE_COUNT),
		BAD("model_precision", c->model_precision = FERAL_PRECISION_COUNT),
		BAD("update", (c->update = FERAL_UPDATE_ATOMIC, c->model_precision = FERAL_PRECISION_I8)),
		BAD("recenter", (c->recenter = 2, c->model_precision = FERAL_PRECISION_I8)),
		BAD("recenter", c->recenter = 1),
		BAD("model_scale", c->model_scale = -1),
		BAD("checkpoint_every", c->checkpoint_every = -1),
		BAD("rounding", c->rounding = FERAL_ROUNDING_COUNT),
		BAD("rounding", c->rounding = FERAL_ROUNDING_SHARED), /* removed */
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct feral_config c;
		feral_config_init(&c);
		cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK, "defaults must be valid");
		bad[k].set(&c);
		struct feral_error e = {0};
		cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE, "case %zu (%s) accepted",
		             k, bad[k].field);
		size_t n = strlen(bad[k].field);
		cr_assert(strncmp(e.msg, bad[k].field, n) == 0 && !isalnum((unsigned char)e.msg[n]) &&
		          e.msg[n] != '_', "case %zu: message '%s' does not start with the field '%s'",
		          k, e.msg, bad[k].field);
		cr_assert_null(strstr(e.msg, "--"), "case %zu: message '%s' names an option", k, e.msg);
	}
}

Test(config, test_threads_zero_means_every_pu_and_is_accepted)
{
	struct feral_config c;
	feral_config_init(&c);
	c.threads = 0;
	cr_assert_eq(feral_config_validate(&c, NULL), FERAL_OK);
	c.threads = 4097;
	struct feral_error e = {0};
	cr_assert_eq(feral_config_validate(&c, &e), FERAL_STATUS_USAGE);
	cr_assert_not_null(strstr(e.msg, "[0, 4096]"), "%s", e.msg);
}
