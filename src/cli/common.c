/* Shared front-end helpers: strict option values, solver options, JSON. */
#include "cli.h"
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

int cli_exit_code(enum feral_status st)
{
	switch (st) {
	case FERAL_OK: return 0;
	case FERAL_STATUS_USAGE:
	case FERAL_STATUS_PARSE:
	case FERAL_STATUS_RANGE:
	case FERAL_STATUS_CORRUPT:
	case FERAL_STATUS_UNSUPPORTED: return 2;
	case FERAL_STATUS_INTERRUPTED: return 130;
	case FERAL_STATUS_IO:
	case FERAL_STATUS_NOMEM:
	case FERAL_STATUS_DIVERGED:
	case FERAL_STATUS_INTERNAL:
	case FERAL_STATUS_COUNT: break;
	}
	return 1;
}

int cli_report(const char *prog, enum feral_status st, const struct feral_error *err)
{
	char buf[1200];
	if (err && err->status == st && (err->msg[0] || err->file[0]))
		fprintf(stderr, "%s: %s\n", prog, feral_error_format(err, buf, sizeof buf));
	else
		fprintf(stderr, "%s: %s\n", prog, feral_strerror(st));
	return cli_exit_code(st);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

bool cli_parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return false;
	const char *p = s;
	while (isspace((unsigned char)*p)) /* strtoull skips them, then negates a '-' */
		p++;
	if (*p == '-') /* " -1" would be 2^64 - 1 */
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == 'e' || *end == 'E' || *end == '.') { /* allow 1e6 */
		double d;
		if (!cli_parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d))
			return false;
		*out = (uint64_t)d;
		return true;
	}
	if (*end || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

bool cli_parse_count(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return false;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned dig = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - dig) / 10)
			return false;
		v = v * 10 + dig;
	}
	if (*s)
		return false;
	*out = v;
	return true;
}

bool cli_parse_int(const char *s, int lo, int hi, int *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno == ERANGE || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

const char *cli_loss_name(enum feral_loss l)
{
	static const char *const names[] = {"ls", "logistic", "hinge"};
	return (unsigned)l < FERAL_LOSS_COUNT ? names[l] : "?";
}

const char *cli_replicas_name(enum feral_replicas r)
{
	static const char *const names[] = {"machine", "node", "core", "auto"};
	return (unsigned)r < FERAL_REPLICAS_COUNT ? names[r] : "?";
}

const char *cli_rounding_name(enum feral_rounding r)
{
	static const char *const names[] = {"independent", "shared", "nearest"};
	return (unsigned)r < FERAL_ROUNDING_COUNT ? names[r] : "?";
}

const char *cli_bind_name(enum feral_bind b)
{
	static const char *const names[] = {"compact", "scatter", "none"};
	return (unsigned)b < FERAL_BIND_COUNT ? names[b] : "?";
}

void cli_dmg(enum feral_precision data, enum feral_precision model, int recenter, char *buf,
             size_t len)
{
	/* G: the accumulator of the hot loop: int32 for integer x integer dots,
	 * f64 for an f64 model, f32 otherwise. */
	int g = model == FERAL_PRECISION_F64 ? 64 : 32;
	snprintf(buf, len, "D%dM%dG%d%s", feral_precision_bits(data), feral_precision_bits(model), g,
	         recenter ? "+centre" : "");
}

void cli_lean_hwloc(void)
{
	/* feral reads CPUs, caches and NUMA nodes only: hwloc's I/O objects are
	 * filtered out by default and no topology is imported from XML, so these
	 * plugins (and the GL, OpenCL and libxml2 libraries they pull in) would
	 * be loaded for nothing.  A value the user set is kept. */
	setenv("HWLOC_PLUGINS_BLACKLIST",
	       "hwloc_gl,hwloc_opencl,hwloc_cuda,hwloc_nvml,hwloc_rsmi,hwloc_levelzero,"
	       "hwloc_pci,hwloc_xml_libxml",
	       0);
}

void cli_solver_init(struct cli_solver *s)
{
	memset(s, 0, sizeof *s);
	feral_config_init(&s->cfg);
	s->data_precision = FERAL_PRECISION_F32;
}

static int pick(const char *prog, const char *opt, const char *arg, const char *const *names,
                int count, int *out)
{
	for (int i = 0; i < count; i++)
		if (names[i] && strcasecmp(arg, names[i]) == 0) {
			*out = i;
			return 1;
		}
	fprintf(stderr, "%s: --%s %s: expected one of", prog, opt, arg);
	for (int i = 0; i < count; i++)
		if (names[i])
			fprintf(stderr, " %s", names[i]);
	fputc('\n', stderr);
	return -1;
}

int cli_method_arg(const char *prog, const char *opt, const char *arg, enum feral_method *out)
{
	if (feral_method_from_name(arg, out) == FERAL_OK)
		return 1;
	fprintf(stderr, "%s: --%s %s: expected one of", prog, opt, arg);
	for (int k = 0; k < FERAL_METHOD_COUNT; k++)
		fprintf(stderr, " %s", feral_method_name((enum feral_method)k));
	fputc('\n', stderr);
	return -1;
}

static int bad_value(const char *prog, const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "%s: --%s %s: %s\n", prog, opt, arg, want);
	return -1;
}

static int precision_arg(const char *prog, const char *opt, const char *arg, bool model,
                         enum feral_precision *out)
{
	int bits;
	if (!cli_parse_int(arg, 1, 64, &bits) || feral_precision_from_bits(bits, out) != FERAL_OK ||
	    (!model && bits == 64))
		return bad_value(prog, opt, arg, model ? "expected 64, 32, 16 or 8" : "expected 32, 16 or 8");
	return 1;
}

int cli_solver_option(const char *prog, struct cli_solver *s, int opt, const char *arg)
{
	struct feral_config *c = &s->cfg;
	int v;
	double d;
	uint64_t u;
	switch (opt) {
	case OPT_LOSS: {
		static const char *const n[] = {"ls", "logistic", "hinge", "svm"};
		if (pick(prog, "loss", arg, n, 4, &v) < 0)
			return -1;
		c->loss = v == 3 ? FERAL_LOSS_HINGE : (enum feral_loss)v;
		return 1;
	}
	case OPT_METHOD:
		if (cli_method_arg(prog, "method", arg, &c->method) < 0)
			return -1;
		s->method_set = 1;
		return 1;
	case OPT_SAMPLING: {
		static const char *const n[] = {"weighted", "partial", "uniform"};
		if (pick(prog, "sampling", arg, n, 3, &v) < 0)
			return -1;
		s->sampling_set = v + 1;
		return 1;
	}
	case OPT_BIND: {
		static const char *const n[] = {"compact", "scatter", "none"};
		if (pick(prog, "bind", arg, n, 3, &v) < 0)
			return -1;
		c->bind = (enum feral_bind)v;
		return 1;
	}
	case OPT_REPLICAS: {
		static const char *const n[] = {"machine", "node", "core", "auto"};
		if (pick(prog, "replicas", arg, n, 4, &v) < 0)
			return -1;
		c->replicas = (enum feral_replicas)v;
		return 1;
	}
	case OPT_UPDATE: {
		static const char *const n[] = {"racy", "atomic"};
		if (pick(prog, "update", arg, n, 2, &v) < 0)
			return -1;
		c->update = (enum feral_update)v;
		return 1;
	}
	case OPT_ROUNDING: {
		static const char *const n[] = {"independent", NULL, "nearest"};
		if (strcasecmp(arg, "shared") == 0) {
			fprintf(stderr,
			        "%s: --rounding shared was removed (slower than independent on every "
			        "kernel measured); use --rounding independent (the default, unbiased) "
			        "or nearest\n",
			        prog);
			return -1;
		}
		if (pick(prog, "rounding", arg, n, 3, &v) < 0)
			return -1;
		c->rounding = (enum feral_rounding)v;
		return 1;
	}
	case OPT_L2:
		if (!cli_parse_double(arg, &c->l2) || c->l2 < 0)
			return bad_value(prog, "l2", arg, "expected a number >= 0");
		return 1;
	case OPT_RELAX:
		if (!cli_parse_double(arg, &c->relax) || !(c->relax > 0 && c->relax < 2))
			return bad_value(prog, "relax", arg, "expected a number in (0, 2)");
		return 1;
	case OPT_LAMBDA:
		if (!cli_parse_double(arg, &c->lambda) || c->lambda < 0 || c->lambda > 1)
			return bad_value(prog, "lambda", arg, "expected a number in [0, 1]");
		s->lambda_set = 1;
		return 1;
	case OPT_STEP:
		if (strcasecmp(arg, "auto") == 0) {
			c->step_auto = 1;
			return 1;
		}
		if (!cli_parse_double(arg, &d) || !(d > 0))
			return bad_value(prog, "step", arg, "expected 'auto' or a number > 0");
		c->step_auto = 0;
		c->step = d;
		return 1;
	case OPT_STEP_DECAY:
		if (!cli_parse_double(arg, &c->step_decay) || c->step_decay < 0)
			return bad_value(prog, "step-decay", arg, "expected a number >= 0");
		return 1;
	case OPT_TOL:
		if (!cli_parse_double(arg, &c->tol) || c->tol < 0)
			return bad_value(prog, "tol", arg, "expected a number >= 0");
		return 1;
	case OPT_MU:
		if (!cli_parse_double(arg, &c->mu) || !(c->mu > 0))
			return bad_value(prog, "mu", arg, "expected a number > 0");
		return 1;
	case OPT_EPOCHS:
		s->budget_set = 1;
		if (!cli_parse_double(arg, &c->epochs) || c->epochs < 0 || c->epochs > 1e9)
			return bad_value(prog, "epochs", arg, "expected a number in [0, 1e9]");
		return 1;
	case OPT_SECONDS:
		s->budget_set = 1;
		if (!cli_parse_double(arg, &c->seconds) || c->seconds < 0 || c->seconds > 1e7)
			return bad_value(prog, "seconds", arg, "expected a number in [0, 1e7]");
		return 1;
	case OPT_UPDATES:
		s->budget_set = 1;
		if (!cli_parse_u64(arg, &c->max_updates))
			return bad_value(prog, "updates", arg, "expected a count >= 0");
		return 1;
	case OPT_SEED:
		if (!cli_parse_u64(arg, &c->seed))
			return bad_value(prog, "seed", arg, "expected an integer >= 0");
		return 1;
	case OPT_THREADS:
		if (!cli_parse_int(arg, 1, 4096, &c->threads))
			return bad_value(prog, "threads", arg, "expected an integer in [1, 4096]");
		s->threads_set = 1;
		return 1;
	case OPT_AVERAGE_EVERY:
		if (!cli_parse_u64(arg, &u) || u == 0)
			return bad_value(prog, "average-every", arg, "expected a count >= 1");
		c->average_every = u;
		return 1;
	case OPT_HOT_THRESHOLD: /* auto (0), off (-1) or a probability */
		if (!strcmp(arg, "auto"))
			c->hot_threshold = 0;
		else if (!strcmp(arg, "off"))
			c->hot_threshold = -1;
		else if (!cli_parse_double(arg, &c->hot_threshold) ||
		         !(c->hot_threshold > 0 && c->hot_threshold <= 1))
			return bad_value(prog, "hot-threshold", arg,
			                 "expected auto, off or a probability in (0, 1]");
		return 1;
	case OPT_HOT_EVERY:
		if (!strcmp(arg, "auto"))
			c->hot_every = 0;
		else if (!cli_parse_u64(arg, &u) || u == 0)
			return bad_value(prog, "hot-every", arg, "expected auto or a count >= 1");
		else
			c->hot_every = u;
		return 1;
	case OPT_TRACE_EVERY:
		if (!cli_parse_u64(arg, &u) || u == 0)
			return bad_value(prog, "trace-every", arg, "expected a count >= 1");
		c->trace_every = u;
		return 1;
	case OPT_PRECISION:
		if (precision_arg(prog, "precision", arg, false, &s->data_precision) < 0)
			return -1;
		c->model_precision = s->data_precision;
		return 1;
	case OPT_DATA_PRECISION:
		return precision_arg(prog, "data-precision", arg, false, &s->data_precision);
	case OPT_MODEL_PRECISION:
		return precision_arg(prog, "model-precision", arg, true, &c->model_precision);
	case OPT_AVERAGE_ITERATES:
		c->average_iterates = 1;
		return 1;
	case OPT_RECENTER:
		c->recenter = 1;
		return 1;
	case OPT_RECENTER_EVERY:
		if (!cli_parse_u64(arg, &u) || u == 0)
			return bad_value(prog, "recenter-every", arg, "expected a count >= 1");
		c->recenter_every = u;
		c->recenter = 1;
		return 1;
	case OPT_DELAY:
		if (!cli_parse_u64(arg, &u) || u > FERAL_DELAY_MAX)
			return bad_value(prog, "delay", arg, "expected a count of updates in [0, 65536]");
		c->delay = (uint32_t)u;
		return 1;
	case OPT_MODEL_SCALE:
		if (!cli_parse_double(arg, &c->model_scale) || !(c->model_scale > 0))
			return bad_value(prog, "model-scale", arg, "expected a number > 0");
		return 1;
	default:
		return 0;
	}
}

/* struct feral_config fields and the options that set them. */
static const struct {
	const char *field, *option;
} FIELD_OPTIONS[] = {
	{"loss", "loss"},
	{"l2", "l2"},
	{"method", "method"},
	{"relax", "relax"},
	{"lambda", "lambda"},
	{"step", "step"},
	{"step_auto", "step"},
	{"step_decay", "step-decay"},
	{"tol", "tol"},
	{"mu", "mu"},
	{"epochs", "epochs"},
	{"seconds", "seconds"},
	{"max_updates", "updates"},
	{"seed", "seed"},
	{"threads", "threads"},
	{"bind", "bind"},
	{"replicas", "replicas"},
	{"average_every", "average-every"},
	{"hot_threshold", "hot-threshold"},
	{"hot_every", "hot-every"},
	{"trace_every", "trace-every"},
	{"update", "update"},
	{"model_precision", "model-precision"},
	{"model_scale", "model-scale"},
	{"rounding", "rounding"},
	{"average_iterates", "average-iterates"},
	{"recenter", "recenter"},
	{"recenter_every", "recenter-every"},
	{"checkpoint_every", "checkpoint-every"},
	{"delay", "delay"},
};

static const char *field_option(const char *tok, size_t len)
{
	for (size_t i = 0; i < sizeof FIELD_OPTIONS / sizeof *FIELD_OPTIONS; i++)
		if (strlen(FIELD_OPTIONS[i].field) == len && !strncmp(tok, FIELD_OPTIONS[i].field, len))
			return FIELD_OPTIONS[i].option;
	return NULL;
}

static int ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

const char *cli_config_message(const char *msg, char *buf, size_t len)
{
	/* A field name is rewritten where it cannot be plain prose: the
	 * message's first word, a word followed by '=', or a word with an
	 * underscore.  Words already after "--" stay. */
	size_t o = 0;
	if (len == 0)
		return buf;
	for (const char *p = msg; *p && o + 1 < len;) {
		if (!ident_char(*p)) {
			buf[o++] = *p++;
			continue;
		}
		size_t n = 0;
		while (ident_char(p[n]))
			n++;
		int dashed = p - msg >= 2 && p[-1] == '-' && p[-2] == '-';
		const char *opt = dashed ? NULL : field_option(p, n);
		if (opt && !(p == msg || p[n] == '=' || memchr(p, '_', n)))
			opt = NULL;
		int w = opt ? snprintf(buf + o, len - o, "--%s", opt)
		            : snprintf(buf + o, len - o, "%.*s", (int)n, p);
		o += (size_t)w < len - o ? (size_t)w : len - o - 1;
		p += n;
	}
	buf[o] = 0;
	return buf;
}

int cli_solver_finish(const char *prog, struct cli_solver *s)
{
	struct feral_config *c = &s->cfg;
	static const double lam[] = {0.0, 0.5, 1.0};
	if (s->sampling_set) {
		double want = lam[s->sampling_set - 1];
		if (s->lambda_set && s->sampling_set != 2 && c->lambda != want) {
			fprintf(stderr, "%s: --lambda %g conflicts with --sampling %s (lambda %g)\n", prog,
			        c->lambda, s->sampling_set == 1 ? "weighted" : "uniform", want);
			return -1;
		}
		if (!s->lambda_set)
			c->lambda = want;
	}
	/* The one place the default method is chosen (solve, train; bench keeps
	 * sgd), so that the default solves to the optimum rather than stopping
	 * at a horizon.  A fixed point model gets HALP, unless bit centring
	 * (--recenter, --recenter-every: the SGD device for fixed point models)
	 * was asked.  A float model gets trust-region Newton-CG, the method that
	 * reaches the tolerance on every problem measured (docs/math.md section
	 * 7, "The default"; cli_pick_method may still take SVRG once the data's
	 * shape is known), unless an option only a stochastic method reads (a
	 * step, sampling, replicas, the hot set, delay, averaging, trace
	 * spacing) was given: then SVRG, so that it is not silently ignored.
	 * Budgets: 1000 passes of newton, 100 epochs of svrg and halp. */
	int stochastic = !c->step_auto || c->step_decay > 0 || s->sampling_set || s->lambda_set ||
	                 c->delay > 0 || c->replicas != FERAL_REPLICAS_AUTO || c->average_every > 0 ||
	                 c->hot_threshold != 0 || c->hot_every > 0 || c->average_iterates ||
	                 c->trace_every > 0;
	if (s->auto_method && !s->method_set) {
		c->method = feral_default_method(NULL, c, stochastic);
		s->method_default = c->method == FERAL_METHOD_NEWTON; /* may turn SVRG */
	}
	if (!s->budget_set && s->auto_method && c->method == FERAL_METHOD_NEWTON)
		c->epochs = FERAL_NEWTON_PASSES;
	else if (!s->budget_set && s->auto_method && !s->method_set &&
	         (c->method == FERAL_METHOD_SVRG || c->method == FERAL_METHOD_HALP))
		c->epochs = FERAL_VR_EPOCHS;
	if ((c->method == FERAL_METHOD_SVRG || c->method == FERAL_METHOD_HALP) &&
	    c->loss == FERAL_LOSS_HINGE) {
		fprintf(stderr, "%s: --method %s needs a smooth loss (ls or logistic), not --loss %s\n",
		        prog, feral_method_name(c->method), cli_loss_name(c->loss));
		return -1;
	}
	if (c->method == FERAL_METHOD_SVRG && feral_precision_fixed(c->model_precision)) {
		fprintf(stderr, "%s: --method svrg needs a floating-point model (--model-precision 64 "
		        "or 32); for an 8 or 16-bit model use --method halp\n", prog);
		return -1;
	}
	if (c->method == FERAL_METHOD_HALP && !feral_precision_fixed(c->model_precision)) {
		fprintf(stderr, "%s: --method halp needs a fixed point model (--model-precision 8 or "
		        "16, or --precision 8 or 16); for a float model use --method svrg\n", prog);
		return -1;
	}
	if (c->method == FERAL_METHOD_HALP && c->recenter_every) {
		fprintf(stderr, "%s: --method halp re-centres at its snapshots: drop --recenter-every\n",
		        prog);
		return -1;
	}
	if (c->method == FERAL_METHOD_NEWTON && c->loss == FERAL_LOSS_HINGE) {
		fprintf(stderr, "%s: --method newton needs a smooth loss (ls or logistic), not --loss "
		        "hinge; for the hinge loss use --method sgd\n", prog);
		return -1;
	}
	if (c->method == FERAL_METHOD_NEWTON && feral_precision_fixed(c->model_precision)) {
		fprintf(stderr, "%s: --method newton keeps a double model: drop --model-precision "
		        "8/16 (8/16-bit data works: --data-precision); for an 8 or 16-bit model use "
		        "--method halp\n", prog);
		return -1;
	}
	if (c->method == FERAL_METHOD_KACZMARZ && c->loss != FERAL_LOSS_LS) {
		fprintf(stderr, "%s: --method kaczmarz solves least squares: drop --loss %s\n", prog,
		        cli_loss_name(c->loss));
		return -1;
	}
	/* Conflicts between options are said here, in option terms; the
	 * library's validation below is the backstop for everything else. */
	if (c->epochs == 0 && c->seconds == 0 && c->max_updates == 0) {
		fprintf(stderr, "%s: no budget: give --epochs, --seconds or --updates\n", prog);
		return -1;
	}
	if (c->recenter && !feral_precision_fixed(c->model_precision)) {
		fprintf(stderr, "%s: --recenter needs a fixed point model (--model-precision 8 or 16)\n",
		        prog);
		return -1;
	}
	if (c->update == FERAL_UPDATE_ATOMIC && feral_precision_fixed(c->model_precision)) {
		fprintf(stderr, "%s: --update atomic needs a floating-point model (precision 32 or 64)\n",
		        prog);
		return -1;
	}
	struct feral_error err = {0};
	if (feral_config_validate(c, &err) != FERAL_OK) {
		char buf[sizeof err.msg + 256];
		fprintf(stderr, "%s: %s\n", prog, cli_config_message(err.msg, buf, sizeof buf));
		return -1;
	}
	return 0;
}

int cli_pick_method(struct cli_solver *s, const struct feral_dataset *ds)
{
	int switched = 0;
	if (s->method_default && s->cfg.method == FERAL_METHOD_NEWTON &&
	    feral_default_method(ds, &s->cfg, 0) == FERAL_METHOD_SVRG) {
		s->cfg.method = FERAL_METHOD_SVRG;
		if (!s->budget_set)
			s->cfg.epochs = FERAL_VR_EPOCHS;
		switched = 1;
	}
	if (s->auto_method && !s->threads_set) {
		/* every physical core (hwloc: a few ms); Newton runs a problem this
		 * small on one thread whatever it is given */
		if (s->cfg.method == FERAL_METHOD_NEWTON && ds->nnz < 2 * FERAL_NEWTON_NNZ_PER_THREAD)
			s->cfg.threads = 1;
		else
			s->cfg.threads = feral_default_threads();
		s->threads_set = 1;
	}
	return switched;
}

const char *const CLI_SOLVER_HELP =
	"Solver options:\n"
	"  --loss ls|logistic|hinge   objective (svm = hinge)\n"
	"  --l2 ETA                   L2 coefficient (default 0)\n"
	"  --method sgd|kaczmarz|svrg|halp|newton  weighted SGD, the classic normalised\n"
	"                             Kaczmarz projection (least squares only), SVRG\n"
	"                             (smooth losses, float models), HALP: SVRG on an\n"
	"                             8/16-bit model centred at the snapshot, its grid\n"
	"                             shrinking every epoch (smooth losses,\n"
	"                             --model-precision 8 or 16), or newton: trust-region\n"
	"                             Newton-CG (smooth losses, float models; --epochs\n"
	"                             counts passes over the data). Default of solve and\n"
	"                             train for ls/logistic: newton (float model), halp\n"
	"                             (fixed point model, unless --recenter); hinge: sgd\n"
	"  --relax R                  Kaczmarz relaxation in (0, 2) (default 1)\n"
	"  --sampling weighted|partial|uniform   lambda = 0, 1/2 (or --lambda), 1\n"
	"  --lambda L                 p_i = L/n + (1-L) L_i/sum L (default 0.5)\n"
	"  --step auto|X              auto: Corollary 2.2 step for --tol; X: step in\n"
	"                             units of 1/Lbar (1 = Kaczmarz with weighted rows)\n"
	"  --step-decay D             step / (1 + D * epoch) (default 0)\n"
	"  --tol EPS                  stop at ||x-x*||^2/||x*||^2 <= EPS (x* known), else\n"
	"                             at ||grad F(x)|| <= EPS ||grad F(0)|| (certified;\n"
	"                             ls, logistic); 0: run the budget (default 1e-6)\n"
	"  --mu MU                    strong convexity for --step auto (default: estimate)\n"
	"  --epochs E  --seconds S  --updates U   budgets (default 50 epochs; for\n"
	"                             solve and train 1000 passes of newton, 100 epochs\n"
	"                             of svrg and halp)\n"
	"  --seed N                   random seed (default 1)\n"
	"  --threads T                workers (default: every physical core; 1 gives a\n"
	"                             bit-reproducible run for a given --seed)\n"
	"  --bind compact|scatter|none   pinning (default compact)\n"
	"  --replicas auto|machine|node|core  shared model or replicas (default auto:\n"
	"                             one per worker where rows are dense, else shared)\n"
	"  --average-every K          average replicas every K updates per worker\n"
	"  --hot-threshold auto|off|P  sparse rows, replicas auto: columns in a share >= P\n"
	"                             of the draws are updated in a private copy per\n"
	"                             worker, added into their shared values every\n"
	"                             K updates (P >= 2/K) or 16K (the others)\n"
	"                             (default auto: P = 2/(16K), several workers;\n"
	"                             an explicit P applies to 1 worker too)\n"
	"  --hot-every auto|K         merge period K of the hottest copies, in updates\n"
	"                             per worker (default auto: 64)\n"
	"  --trace-every K            trace point every K updates (default n)\n"
	"  --update racy|atomic       Hogwild! writes, or atomic adds (baseline)\n"
	"  --precision P              data and model precision: 32, 16 or 8\n"
	"  --data-precision P  --model-precision P (64, 32, 16, 8)\n"
	"  --model-scale S            fixed point model scale (default: auto)\n"
	"  --rounding independent|nearest   fixed point rounding\n"
	"  --average-iterates         return the average of the iterates over the second\n"
	"                             half of the budget (tail averaging)\n"
	"  --recenter                 fixed point model as an offset from an f32 centre,\n"
	"                             re-centred and rescaled 16 times an epoch (bit centring)\n"
	"  --recenter-every K         ... every K updates per worker instead (implies --recenter)\n"
	"  --delay D                  each worker applies an update's write D of its own\n"
	"                             updates after its read (simulated staleness; 0..65536,\n"
	"                             default 0); --json reports the staleness measured\n";

/* ---- JSON ------------------------------------------------------------------------ */

void cli_json_begin(struct cli_json *j, FILE *f)
{
	j->f = f;
	j->n = 0;
	fputc('{', f);
}

static void key(struct cli_json *j, const char *k)
{
	fprintf(j->f, "%s\"%s\":", j->n++ ? "," : "", k);
}

void cli_json_num(struct cli_json *j, const char *k, double v)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.10g", v);
	else
		fputs("null", j->f);
}

void cli_json_u64(struct cli_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void cli_json_str(struct cli_json *j, const char *k, const char *v)
{
	key(j, k);
	fputc('"', j->f);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(j->f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(j->f, "\\u%04x", *p);
		else
			fputc(*p, j->f);
	}
	fputc('"', j->f);
}

void cli_json_bool(struct cli_json *j, const char *k, int v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void cli_json_raw(struct cli_json *j, const char *k, const char *raw)
{
	key(j, k);
	fputs(raw, j->f);
}

void cli_json_hist(struct cli_json *j, const char *k, const uint64_t *hist)
{
	key(j, k);
	for (int b = 0; b < FERAL_STALENESS_BUCKETS; b++)
		fprintf(j->f, "%c%llu", b ? ',' : '[', (unsigned long long)hist[b]);
	fputc(']', j->f);
}

void cli_json_end(struct cli_json *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
}

uint64_t cli_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024u;
}
