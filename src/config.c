/* Solver configuration: defaults and one validation pass before any work
 * (liblinear's check_parameter).  Messages name the struct feral_config
 * field, never a command-line option: the front ends map options to fields. */
#include "abi.h"

#include <math.h>
#include <strings.h>

void feral_config_init(struct feral_config *c)
{
	memset(c, 0, sizeof *c);
	c->struct_size = sizeof *c;
	c->loss = FERAL_LOSS_LS;
	c->l2 = 0.0;
	c->method = FERAL_METHOD_SGD;
	c->relax = 1.0;
	c->lambda = 0.5; /* partially biased sampling (Needell, Srebro and Ward 2016) */
	c->step_auto = 1;
	c->step = 0.5;
	c->step_decay = 0.0;
	c->tol = 1e-6;
	c->mu = 0.0;
	c->epochs = 50.0;
	c->seconds = 0.0;
	c->max_updates = 0;
	c->diverge = 1e8;
	c->seed = 1;
	c->threads = 1;
	c->bind = FERAL_BIND_COMPACT;
	c->replicas = FERAL_REPLICAS_AUTO;
	c->average_every = 0;
	c->trace_every = 0;
	c->update = FERAL_UPDATE_RACY;
	c->model_precision = FERAL_PRECISION_F64;
	c->model_scale = 0.0;
	c->rounding = FERAL_ROUNDING_INDEPENDENT;
}

#define BAD(...) feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, __VA_ARGS__)

enum feral_status feral_config_validate(const struct feral_config *c, struct feral_error *err)
{
	if (!c)
		return BAD("no configuration (NULL)");
	enum feral_status st = feral_check_struct_size(err, "feral_config", "feral_config_init",
	                                               c->struct_size, sizeof *c);
	if (st)
		return st;
	if ((unsigned)c->loss >= FERAL_LOSS_COUNT)
		return BAD("loss: unknown loss %d", (int)c->loss);
	if (!(c->l2 >= 0) || !isfinite(c->l2))
		return BAD("l2 = %g: must be a finite number >= 0", c->l2);
	if ((unsigned)c->method >= FERAL_METHOD_COUNT)
		return BAD("method: unknown method %d", (int)c->method);
	if (c->method == FERAL_METHOD_KACZMARZ) {
		if (c->loss != FERAL_LOSS_LS)
			return BAD("method KACZMARZ needs loss LS (least squares)");
		if (!(c->relax > 0 && c->relax < 2))
			return BAD("relax = %g: must lie in (0, 2)", c->relax);
	}
	int vr = c->method == FERAL_METHOD_SVRG || c->method == FERAL_METHOD_HALP;
	const char *mname = c->method == FERAL_METHOD_HALP ? "HALP" : "SVRG";
	if (vr && c->loss == FERAL_LOSS_HINGE)
		return BAD("method %s with loss HINGE: %s needs a smooth loss (LS or LOGISTIC); "
		           "the hinge loss has no gradient to reduce the variance of", mname, mname);
	int fixed = (unsigned)c->model_precision < FERAL_PRECISION_COUNT &&
	            feral_precision_fixed(c->model_precision);
	if (c->method == FERAL_METHOD_SVRG && fixed)
		return BAD("method SVRG with a fixed point model_precision (I16 or I8): use method "
		           "HALP, SVRG on a fixed point model centred at the snapshot");
	if (c->method == FERAL_METHOD_HALP && !fixed)
		return BAD("method HALP needs a fixed point model_precision (I16 or I8); for an F32 "
		           "or F64 model use method SVRG");
	if (c->method == FERAL_METHOD_HALP && c->recenter_every != 0)
		return BAD("recenter_every = %llu: method HALP re-centres at its snapshots (once an "
		           "epoch); leave it 0", (unsigned long long)c->recenter_every);
	if (c->method == FERAL_METHOD_NEWTON && c->loss == FERAL_LOSS_HINGE)
		return BAD("method NEWTON with loss HINGE: Newton needs a smooth loss (LS or "
		           "LOGISTIC); for the hinge loss use method SGD");
	if (c->method == FERAL_METHOD_NEWTON && fixed)
		return BAD("method NEWTON keeps a double model: model_precision I16 or I8 is for "
		           "methods SGD and HALP (any data precision works with NEWTON)");
	if (!(c->lambda >= 0 && c->lambda <= 1))
		return BAD("lambda = %g: must lie in [0, 1]", c->lambda);
	if (!c->step_auto && !(c->step > 0 && isfinite(c->step)))
		return BAD("step = %g: must be a finite number > 0 (or step_auto = 1)", c->step);
	if (!(c->step_decay >= 0) || !isfinite(c->step_decay))
		return BAD("step_decay = %g: must be a finite number >= 0", c->step_decay);
	if (!(c->tol >= 0) || !isfinite(c->tol))
		return BAD("tol = %g: must be a finite number >= 0", c->tol);
	if (!(c->mu >= 0) || !isfinite(c->mu))
		return BAD("mu = %g: must be a finite number >= 0", c->mu);
	if (!(c->epochs >= 0) || !isfinite(c->epochs))
		return BAD("epochs = %g: must be a finite number >= 0", c->epochs);
	if (!(c->seconds >= 0) || !isfinite(c->seconds))
		return BAD("seconds = %g: must be a finite number >= 0", c->seconds);
	if (c->epochs == 0 && c->seconds == 0 && c->max_updates == 0)
		return BAD("no budget: epochs, seconds and max_updates are all 0");
	if (!(c->diverge > 1))
		return BAD("diverge = %g: must be > 1", c->diverge);
	if (c->threads < 0 || c->threads > 4096)
		return BAD("threads = %d: must lie in [0, 4096] (0 = every PU)", c->threads);
	if ((unsigned)c->bind >= FERAL_BIND_COUNT)
		return BAD("bind: unknown policy %d", (int)c->bind);
	if ((unsigned)c->replicas >= FERAL_REPLICAS_COUNT)
		return BAD("replicas: unknown mode %d", (int)c->replicas);
	if (!isfinite(c->hot_threshold) || c->hot_threshold > 1)
		return BAD("hot_threshold = %g: must be a finite number <= 1 (0 = auto, < 0 = none)",
		           c->hot_threshold);
	/* a hot set lives in the shared model AUTO picks: an explicit replica
	 * mode or bit centring has none, and an explicit threshold would be
	 * silently ignored */
	if (c->hot_threshold > 0 && c->replicas != FERAL_REPLICAS_AUTO)
		return BAD("hot_threshold = %g needs replicas AUTO (an explicit replica mode has no "
		           "hot set)", c->hot_threshold);
	if (c->hot_threshold > 0 && c->recenter)
		return BAD("hot_threshold = %g with recenter: bit centring has no hot set",
		           c->hot_threshold);
	if ((unsigned)c->update >= FERAL_UPDATE_COUNT)
		return BAD("update: unknown mode %d", (int)c->update);
	if ((unsigned)c->model_precision >= FERAL_PRECISION_COUNT)
		return BAD("model_precision: unknown precision %d", (int)c->model_precision);
	if (c->update == FERAL_UPDATE_ATOMIC && c->model_precision != FERAL_PRECISION_F64 &&
	    c->model_precision != FERAL_PRECISION_F32)
		return BAD("update ATOMIC needs a floating-point model_precision (F64 or F32)");
	if (c->recenter != 0 && c->recenter != 1)
		return BAD("recenter = %d: must be 0 or 1", c->recenter);
	if (c->recenter && !feral_precision_fixed(c->model_precision))
		return BAD("recenter needs a fixed point model_precision (I16 or I8)");
	if (!(c->model_scale >= 0) || !isfinite(c->model_scale))
		return BAD("model_scale = %g: must be a finite number >= 0 (0 = auto)", c->model_scale);
	if (!(c->checkpoint_every >= 0) || !isfinite(c->checkpoint_every))
		return BAD("checkpoint_every = %g: must be a finite number >= 0 (seconds)",
		           c->checkpoint_every);
	if ((unsigned)c->rounding >= FERAL_ROUNDING_COUNT)
		return BAD("rounding: unknown mode %d", (int)c->rounding);
	if (c->rounding == FERAL_ROUNDING_SHARED)
		return BAD("rounding: shared was removed (slower than independent on every kernel "
		           "measured, results/README.md); use independent (the default, unbiased) "
		           "or nearest");
	if (c->delay > FERAL_DELAY_MAX)
		return BAD("delay = %u: must lie in [0, %u] (updates of a worker)", c->delay,
		           FERAL_DELAY_MAX);
	return FERAL_OK;
}

void feral_trace_free(struct feral_trace *t)
{
	if (!t)
		return;
	free(t->pts);
	t->pts = NULL;
	t->len = t->cap = 0;
}

/* One name a method, in enum order: the CLI, bench and the Python binding
 * take their lists from here. */
static const char *const method_names[] = {"sgd", "kaczmarz", "svrg", "halp", "newton"};
_Static_assert(sizeof method_names / sizeof *method_names == FERAL_METHOD_COUNT,
               "a method without a name: add it to method_names");

const char *feral_method_name(enum feral_method m)
{
	return (unsigned)m < FERAL_METHOD_COUNT ? method_names[m] : "unknown";
}

enum feral_status feral_method_from_name(const char *name, enum feral_method *out)
{
	for (int k = 0; name && k < FERAL_METHOD_COUNT; k++)
		if (strcasecmp(name, method_names[k]) == 0) {
			*out = (enum feral_method)k;
			return FERAL_OK;
		}
	return FERAL_STATUS_USAGE;
}
