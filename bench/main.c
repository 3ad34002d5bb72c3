/* bench: throughput against convergence horizon, one record per point.
 *
 *   bench [--problem ls|logistic|svm|FILE] [--threads LIST] [--precision LIST]
 *         [--replicas LIST] [--delay LIST] [--seconds S | --updates U] [--repeat R] [--target EPS]
 *         [--out FILE.csv] [--trace-out FILE.csv] [--json] [--peers] [--no-probe]
 *         [--dry-run] [solver options]
 *
 * A point is (threads, data/model precision, replicas, method, delay).  For each point bench
 * runs the solver for a fixed budget with a trace of >= 30 points and
 * records the throughput (updates/s and bytes of row data/s), the bandwidth
 * a STREAM-like probe gets on this machine with the same thread count
 * (measured once per machine and cached), their ratio (roofline fraction),
 * and the horizon: the plateau of ||x-x*||^2/||x*||^2 estimated from the
 * trace (src/trace.c).
 *
 * Output: a table on stdout (stderr with --json); --json prints one JSON
 * object on stdout: {"bench": ..., "machine": ..., "stream": [...],
 * "records": [...], "peers": [...]}.  --out appends CSV rows (header written
 * once, checked on append) and, with --json, JSON lines to FILE.jsonl;
 * peers go to FILE-peers.csv.
 * Exit codes: 0 done (points may be "unsupported"), 2 usage or bad input,
 * 1 a point failed (diverged, I/O, memory), 130 interrupted. */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *prog = BENCH_PROG;
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	g_signal = sig;
}

static const char *const USAGE =
	"usage: bench [options]\n"
	"Throughput (updates/s, bytes/s, fraction of STREAM bandwidth) against the\n"
	"convergence horizon, one record per (threads, precision, replicas, method,\n"
	"delay) point.\n"
	"With no option: dense least squares out of cache (see --n), generated once\n"
	"and cached in $TMPDIR/feral-bench-<uid>/, every physical core, precision 32,\n"
	"2 s; a first run, generation included, takes about 30 s at most.\n"
	"\n"
	"Problem:\n"
	"  --problem ls|logistic|svm|FILE   synthetic kind, or a data file (default ls)\n"
	"  --n N  --d D               rows and columns, exactly (default: D = 256, N the\n"
	"                             power of two that makes the 8-bit data >= 4x the\n"
	"                             last-level cache, halved while the f32 data exceeds\n"
	"                             min(128 MiB x cores in [256 MiB, 1 GiB],\n"
	"                             available memory / 8))\n"
	"  --density F                F < 1: sparse CSR problem (power-law columns)\n"
	"  --cond C                   condition number (ls, default 10)\n"
	"  --noise S                  b = A x* + e, std(e) = S (ls default 0: consistent)\n"
	"  --data-seed N              generator seed (default 1)\n"
	"  --b FILE  --xstar FILE     targets and known solution for --problem FILE\n"
	"  --cache-dir DIR            where generated problems and the bandwidth probe\n"
	"                             are cached (default $TMPDIR/feral-bench-<uid>)\n"
	"Sweep:\n"
	"  --threads LIST             e.g. 1,2,4 (default: every physical core; 1 is the\n"
	"                             bit-reproducible run); more than the machine's\n"
	"                             processing units is allowed and reported\n"
	"  --precision LIST           data and model bits, e.g. 32,16,8 (default 32)\n"
	"  --replicas LIST            auto,machine,node,core (default auto: a replica per\n"
	"                             worker where rows are dense, else the shared model)\n"
	"  --delay LIST               delayed writes, e.g. 0,4,16,64 (default 0): each\n"
	"                             worker applies a write LIST[k] of its own updates\n"
	"                             after its read (simulated staleness; records carry\n"
	"                             the staleness measured)\n"
	"  --model-precision P        override the model precision of every point\n"
	"  --method LIST              e.g. sgd,svrg,kaczmarz: any of the library's\n"
	"                             methods (default sgd: the horizon of plain SGD);\n"
	"                             a method a point's precision cannot run (svrg on a\n"
	"                             fixed point model) is recorded as unsupported\n"
	"  --seconds S | --updates U  budget per point (default 2 solver seconds)\n"
	"  --repeat R                 R runs per point: median, with min/max (default 1)\n"
	"  --target EPS               time to ||x-x*||^2/||x*||^2 <= EPS (default 1e-4)\n"
	"  --no-probe                 no bandwidth probe (also FERAL_BENCH_PROBE=0); the\n"
	"                             probe takes <= 2 s once per machine, then is cached\n"
	"  --dry-run                  print the plan (problem size, threads) and stop\n"
	"Output:\n"
	"  --json                     one JSON object on stdout (table goes to stderr)\n"
	"  --out FILE.csv             append CSV rows (and FILE.jsonl with --json)\n"
	"  --trace-out FILE.csv       write every point's trace\n"
	"  --peers                    also run LAPACK dgels, serial Kaczmarz (ls) or\n"
	"                             liblinear and scikit-learn (logistic, svm) through\n"
	"                             scripts/peer-*.sh|py (FERAL_SCRIPTS=DIR elsewhere)\n"
	"  -h, --help  --version\n"
	"\n"
	"bench sets --step 0.5 (not auto) and --tol 0 (run the whole budget) unless given.\n"
	"--threads, --precision, --replicas and --delay are the lists above, not the solver's\n"
	"single values below (whose defaults are those of feral solve).\n";

static int parse_list(const char *opt, const char *arg, int lo, int hi, int *out, int *count)
{
	char *dup = strdup(arg), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST || !cli_parse_int(t, lo, hi, &out[n])) {
			free(dup);
			return cli_usage_error(prog, "--%s %s: expected a comma-separated list of integers "
			                             "in [%d, %d] (at most %d)",
			                       opt, arg, lo, hi, MAX_LIST);
		}
		n++;
	}
	free(dup);
	if (n == 0)
		return cli_usage_error(prog, "--%s: empty list", opt);
	*count = n;
	return 0;
}

enum {
	OPT_JSON = 2000, OPT_PROBLEM, OPT_N, OPT_D, OPT_DENSITY, OPT_COND, OPT_NOISE, OPT_DATA_SEED,
	OPT_B, OPT_XSTAR, OPT_CACHE_DIR, OPT_REPEAT, OPT_TARGET, OPT_OUT, OPT_TRACE_OUT, OPT_PEERS,
	OPT_NO_PROBE, OPT_DRY_RUN, OPT_VERSION, OPT_HELP = 'h'
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		CLI_SOLVER_OPTIONS,
		{"json", no_argument, 0, OPT_JSON},
		{"problem", required_argument, 0, OPT_PROBLEM},
		{"n", required_argument, 0, OPT_N},
		{"d", required_argument, 0, OPT_D},
		{"density", required_argument, 0, OPT_DENSITY},
		{"cond", required_argument, 0, OPT_COND},
		{"noise", required_argument, 0, OPT_NOISE},
		{"data-seed", required_argument, 0, OPT_DATA_SEED},
		{"b", required_argument, 0, OPT_B},
		{"xstar", required_argument, 0, OPT_XSTAR},
		{"cache-dir", required_argument, 0, OPT_CACHE_DIR},
		{"repeat", required_argument, 0, OPT_REPEAT},
		{"target", required_argument, 0, OPT_TARGET},
		{"out", required_argument, 0, OPT_OUT},
		{"trace-out", required_argument, 0, OPT_TRACE_OUT},
		{"peers", no_argument, 0, OPT_PEERS},
		{"no-probe", no_argument, 0, OPT_NO_PROBE},
		{"dry-run", no_argument, 0, OPT_DRY_RUN},
		{"version", no_argument, 0, OPT_VERSION},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0}};
	memset(o, 0, sizeof *o);
	cli_solver_init(&o->s);
	/* bench's defaults: a fixed step (a horizon to measure) and the whole budget */
	o->s.cfg.step_auto = 0;
	o->s.cfg.step = BENCH_DEFAULT_STEP;
	o->s.cfg.tol = 0;
	o->s.cfg.epochs = 0;
	o->nthreads = 0; /* every physical core, once the machine is known */
	const char *probe_env = getenv("FERAL_BENCH_PROBE");
	o->probe = !(probe_env && !strcmp(probe_env, "0"));
	o->prec[0] = 32;
	o->nprec = 1;
	o->repl[0] = FERAL_REPLICAS_AUTO;
	o->nrepl = 1;
	o->methods[0] = FERAL_METHOD_SGD;
	o->nmethods = 1;
	o->delay[0] = 0;
	o->ndelay = 1;
	o->density = 1;
	o->noise = -1;
	o->data_seed = 1;
	o->repeat = 1;
	o->target = BENCH_DEFAULT_TARGET;
	int c;
	opterr = 0; /* our own messages, prefixed "bench: " */
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		if (c == '?')
			return cli_usage_error(prog, "unrecognized option '%s' (see bench --help)",
			                       argv[optind - 1]);
		if (c == ':')
			return cli_usage_error(prog, "option '%s' needs a value", argv[optind - 1]);
		switch (c) { /* the list options, before the single-value solver parser */
		case OPT_THREADS:
			if (parse_list("threads", optarg, 1, 4096, o->threads, &o->nthreads))
				return 2;
			continue;
		case OPT_PRECISION: {
			if (parse_list("precision", optarg, 8, 32, o->prec, &o->nprec))
				return 2;
			for (int k = 0; k < o->nprec; k++)
				if (o->prec[k] != 8 && o->prec[k] != 16 && o->prec[k] != 32)
					return cli_usage_error(prog, "--precision %s: each entry must be 32, 16 or 8",
					                       optarg);
			continue;
		}
		case OPT_REPLICAS: {
			static const char *const names[] = {"machine", "node", "core", "auto"};
			char *dup = strdup(optarg), *save = NULL;
			o->nrepl = 0;
			for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int k;
				for (k = 0; k < 4 && strcasecmp(t, names[k]); k++)
					;
				if (k == 4 || o->nrepl == 4) {
					free(dup);
					return cli_usage_error(prog, "--replicas %s: expected a list of auto, "
					                             "machine, node, core",
					                       optarg);
				}
				o->repl[o->nrepl++] = k;
			}
			free(dup);
			if (!o->nrepl)
				return cli_usage_error(prog, "--replicas: empty list");
			continue;
		}
		case OPT_METHOD: {
			char *dup = strdup(optarg), *save = NULL;
			o->nmethods = 0;
			for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o->nmethods == MAX_LIST ||
				    cli_method_arg(prog, "method", t, &o->methods[o->nmethods]) < 0) {
					free(dup);
					return 2;
				}
				o->nmethods++;
			}
			free(dup);
			if (!o->nmethods)
				return cli_usage_error(prog, "--method: empty list");
			continue;
		}
		case OPT_DELAY:
			if (parse_list("delay", optarg, 0, (int)FERAL_DELAY_MAX, o->delay, &o->ndelay))
				return 2;
			continue;
		case OPT_DATA_PRECISION:
			return cli_usage_error(prog, "--data-precision: use --precision LIST (data and model "
			                             "bits), and --model-precision to override the model");
		case OPT_MODEL_PRECISION: {
			int bits;
			if (!cli_parse_int(optarg, 8, 64, &bits) ||
			    feral_precision_from_bits(bits, &o->model_prec) != FERAL_OK)
				return cli_usage_error(prog, "--model-precision %s: expected 64, 32, 16 or 8",
				                       optarg);
			o->model_override = 1;
			continue;
		}
		case OPT_LOSS: o->loss_set = 1; break;
		case OPT_L2: o->l2_set = 1; break;
		default: break;
		}
		int h = cli_solver_option(prog, &o->s, c, optarg);
		if (h < 0)
			return 2;
		if (h)
			continue;
		double v;
		switch (c) {
		case OPT_JSON: o->json = 1; break;
		case OPT_PEERS: o->peers = 1; break;
		case OPT_NO_PROBE: o->probe = 0; break;
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_PROBLEM:
			if (!strcmp(optarg, "ls"))
				o->problem = PROB_LS;
			else if (!strcmp(optarg, "logistic"))
				o->problem = PROB_LOGISTIC;
			else if (!strcmp(optarg, "svm") || !strcmp(optarg, "hinge"))
				o->problem = PROB_SVM;
			else if (access(optarg, R_OK) == 0) {
				o->problem = PROB_FILE;
				o->path = optarg;
			} else
				return cli_usage_error(prog, "--problem %s: expected ls, logistic, svm or a "
				                             "readable data file (%s)",
				                       optarg, strerror(errno));
			break;
		case OPT_N:
			if (!cli_parse_u64(optarg, &o->n) || o->n < 2 || o->n > (1ull << 40))
				return cli_usage_error(prog, "--n %s: expected a row count >= 2", optarg);
			break;
		case OPT_D:
			if (!cli_parse_u64(optarg, &o->d) || o->d < 1 || o->d > (1ull << 31))
				return cli_usage_error(prog, "--d %s: expected a column count >= 1", optarg);
			break;
		case OPT_DENSITY:
			if (!cli_parse_double(optarg, &o->density) || !(o->density > 0 && o->density <= 1))
				return cli_usage_error(prog, "--density %s: expected a number in (0, 1]", optarg);
			break;
		case OPT_COND:
			if (!cli_parse_double(optarg, &o->cond) || !(o->cond >= 1))
				return cli_usage_error(prog, "--cond %s: expected a number >= 1", optarg);
			break;
		case OPT_NOISE:
			if (!cli_parse_double(optarg, &o->noise) || o->noise < 0)
				return cli_usage_error(prog, "--noise %s: expected a number >= 0", optarg);
			break;
		case OPT_DATA_SEED:
			if (!cli_parse_u64(optarg, &o->data_seed))
				return cli_usage_error(prog, "--data-seed %s: expected an integer >= 0", optarg);
			break;
		case OPT_B: o->b_path = optarg; break;
		case OPT_XSTAR: o->xstar_path = optarg; break;
		case OPT_CACHE_DIR: o->cache_dir = optarg; break;
		case OPT_REPEAT:
			if (!cli_parse_int(optarg, 1, MAX_LIST, &o->repeat))
				return cli_usage_error(prog, "--repeat %s: expected an integer in [1, %d]", optarg,
				                       MAX_LIST);
			break;
		case OPT_TARGET:
			if (!cli_parse_double(optarg, &v) || !(v > 0))
				return cli_usage_error(prog, "--target %s: expected a number > 0", optarg);
			o->target = v;
			break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_TRACE_OUT: o->trace_out = optarg; break;
		case OPT_VERSION: printf("bench %s (%s)\n", FERAL_VERSION, FERAL_GIT_REV); return -1;
		case OPT_HELP: printf("%s\n%s", USAGE, CLI_SOLVER_HELP); return -1;
		default: return cli_usage_error(prog, "unexpected option (see bench --help)");
		}
	}
	if (optind < argc)
		return cli_usage_error(prog, "unexpected argument '%s' (see bench --help)", argv[optind]);
	if ((o->b_path || o->xstar_path) && o->problem != PROB_FILE)
		return cli_usage_error(prog, "--b and --xstar go with --problem FILE");
	if (o->problem == PROB_FILE && (o->n || o->d || o->density < 1 || o->cond > 0 || o->noise >= 0))
		return cli_usage_error(prog, "--n, --d, --density, --cond and --noise shape a synthetic "
		                             "problem: not with --problem FILE");
	if (o->problem == PROB_LOGISTIC || o->problem == PROB_SVM) {
		if (!o->loss_set)
			o->s.cfg.loss = o->problem == PROB_SVM ? FERAL_LOSS_HINGE : FERAL_LOSS_LOGISTIC;
		if (!o->l2_set)
			o->s.cfg.l2 = BENCH_CLASSIF_L2;
	}
	if (o->s.cfg.seconds > 0 && o->s.cfg.max_updates > 0)
		return cli_usage_error(prog, "--seconds and --updates: give one budget per point");
	if (o->s.cfg.epochs > 0)
		return cli_usage_error(prog, "--epochs: bench budgets are --seconds or --updates");
	if (o->s.cfg.seconds == 0 && o->s.cfg.max_updates == 0)
		o->s.cfg.seconds = BENCH_DEFAULT_SECONDS;
	/* --recenter applies to the fixed point points of the sweep only */
	int recenter = o->s.cfg.recenter;
	o->s.cfg.recenter = 0;
	/* every method of the sweep with the other options (float model): a
	 * conflict (svrg with hinge, kaczmarz with logistic) is a usage error */
	for (int k = 0; k < o->nmethods; k++) {
		struct cli_solver t = o->s;
		t.cfg.method = o->methods[k];
		if (cli_solver_finish(prog, &t) < 0)
			return 2;
	}
	o->s.cfg.method = o->methods[0];
	if (cli_solver_finish(prog, &o->s) < 0)
		return 2;
	o->s.cfg.recenter = recenter;
	bool fixed = o->model_override && feral_precision_fixed(o->model_prec);
	for (int k = 0; k < o->nprec && !o->model_override; k++)
		fixed |= o->prec[k] < 32; /* 16 and 8 bits: fixed point */
	if (recenter && !fixed)
		return cli_usage_error(prog, "--recenter: no point of the sweep has a fixed point "
		                             "model (add --precision 8 or 16)");
	return 0;
}

/* The bandwidth probe, once per distinct thread count, before the data is
 * loaded; 2 s in all for those not cached yet. */
static int probe_all(const struct opts *o, const struct machine *m, struct bench_stream *streams)
{
	int ns = 0, todo = 0;
	if (!o->probe)
		return 0;
	for (int k = 0; k < o->nthreads; k++)
		todo += !bench_probe_cached(m, o->cache_dir, o->threads[k]);
	for (int k = 0; k < o->nthreads && !g_signal; k++) {
		int seen = 0;
		for (int q = 0; q < ns; q++)
			seen |= streams[q].threads == o->threads[k];
		if (seen)
			continue;
		double budget = BENCH_PROBE_SECONDS / (todo > 0 ? todo : 1);
		if (bench_probe(m, o->cache_dir, o->threads[k], budget, &streams[ns]) != 0)
			fprintf(stderr, "%s: note: no memory for the bandwidth probe: roofline unavailable\n",
			        prog);
		else if (!streams[ns].cached)
			fprintf(stderr, "%s: bandwidth probe, %d thread%s: %.1f GB/s read at 3 x %.0f MiB "
			                "(%d sizes, %s) in %.1f s; cached\n",
			        prog, o->threads[k], o->threads[k] == 1 ? "" : "s",
			        streams[ns].read_bytes_per_s / 1e9,
			        (double)streams[ns].array_bytes / 1048576.0, streams[ns].sizes,
			        streams[ns].flat ? "flat" : "stopped by the time or memory cap",
			        streams[ns].seconds);
		ns++;
	}
	return ns;
}

static void print_plan(const struct opts *o, const struct machine *m)
{
	struct problem_plan p;
	problem_plan(o, m, &p);
	if (o->json) {
		struct cli_json j;
		printf("{\"plan\":");
		cli_json_begin(&j, stdout);
		cli_json_u64(&j, "n", p.n);
		cli_json_u64(&j, "d", p.d);
		cli_json_bool(&j, "sized", p.sized);
		cli_json_str(&j, "limit", p.limit);
		cli_json_u64(&j, "f32_bytes", p.f32_bytes);
		cli_json_u64(&j, "want_bytes", p.want_bytes);
		cli_json_u64(&j, "cap_bytes", p.cap_bytes);
		cli_json_u64(&j, "llc_bytes", m->llc);
		cli_json_u64(&j, "mem_available_bytes", m->mem_available);
		cli_json_u64(&j, "cores", (uint64_t)m->cores);
		cli_json_u64(&j, "threads", (uint64_t)o->threads[0]);
		cli_json_end(&j);
		printf("}\n");
	} else {
		printf("%s: plan: %llu x %llu (f32 %.0f MiB, set by %s; 4 x LLC = %.0f MiB, cap %.0f "
		       "MiB), threads %d (%d cores)\n",
		       prog, (unsigned long long)p.n, (unsigned long long)p.d,
		       (double)p.f32_bytes / 1048576.0, p.limit, (double)p.want_bytes / 1048576.0,
		       (double)p.cap_bytes / 1048576.0, o->threads[0], m->cores);
	}
}

static void print_problem(const struct opts *o, const struct machine *m,
                          const struct problem_data *pd, const char *kname)
{
	fprintf(stderr, "%s: %s %llu x %llu (%s, %.0f MiB at f32, %s) %s in %.1f s; x* %s; LLC %.0f MiB\n",
	        prog, pd->name, (unsigned long long)pd->ds->n, (unsigned long long)pd->ds->d,
	        pd->ds->layout == FERAL_LAYOUT_CSR ? "csr" : "dense",
	        (double)feral_dataset_bytes(pd->ds) / 1048576.0 *
	                (4.0 / (double)feral_precision_size(pd->ds->precision)),
	        kname, pd->cached ? "loaded from cache" : "built", pd->gen_seconds,
	        xstar_name(pd->xs), (double)m->llc / 1048576.0);
	for (int k = 0; k < o->nthreads; k++)
		if (o->threads[k] > m->nproc)
			fprintf(stderr,
			        "%s: note: %d threads on %ld processing units: OVERSUBSCRIBED (threads "
			        "time-share cores; records say oversubscribed=true)\n",
			        prog, o->threads[k], m->nproc);
}

static void print_json(const struct machine *m, const struct problem_data *pd,
                       const struct bench_stream *streams, int nstreams, const struct sweep *sw,
                       const struct peer_ctx *pc, double seconds)
{
	struct cli_json j;
	printf("{\"bench\":");
	cli_json_begin(&j, stdout);
	cli_json_str(&j, "version", FERAL_VERSION);
	cli_json_str(&j, "git_rev", FERAL_GIT_REV);
	cli_json_str(&j, "problem", pd->name);
	cli_json_str(&j, "cache", pd->cache_path);
	cli_json_bool(&j, "cached", pd->cached);
	cli_json_num(&j, "seconds", seconds);
	cli_json_u64(&j, "points", (uint64_t)sw->np);
	cli_json_end(&j);
	printf(",\"machine\":");
	cli_json_begin(&j, stdout);
	cli_json_str(&j, "host", m->host);
	cli_json_str(&j, "cpu", m->cpu);
	cli_json_u64(&j, "nproc", (uint64_t)m->nproc);
	cli_json_u64(&j, "cores", (uint64_t)m->cores);
	cli_json_u64(&j, "llc_bytes", m->llc);
	cli_json_u64(&j, "mem_available_bytes", m->mem_available);
	cli_json_end(&j);
	printf(",\"stream\":[");
	for (int k = 0; k < nstreams; k++) {
		printf("%s", k ? "," : "");
		cli_json_begin(&j, stdout);
		cli_json_u64(&j, "threads", (uint64_t)streams[k].threads);
		cli_json_num(&j, "read_bytes_per_s", streams[k].read_bytes_per_s);
		cli_json_num(&j, "triad_bytes_per_s", streams[k].triad_bytes_per_s);
		cli_json_u64(&j, "array_bytes", streams[k].array_bytes);
		cli_json_bool(&j, "cached", streams[k].cached);
		cli_json_u64(&j, "sizes", (uint64_t)streams[k].sizes);
		cli_json_bool(&j, "flat", streams[k].flat);
		cli_json_num(&j, "probe_seconds", streams[k].seconds);
		cli_json_end(&j);
	}
	printf("],\"records\":[\n");
	for (int k = 0; k < sw->np; k++) {
		printf("%s", k ? "," : "");
		record_json(&sw->pts[k].rec, stdout);
	}
	printf("],\"peers\":[\n");
	for (int k = 0; k < pc->n; k++) {
		printf("%s", k ? "," : "");
		record_json(&pc->recs[k], stdout);
	}
	printf("]}\n");
	fflush(stdout);
}

/* Defaults that need the machine, the cache directory and the signals. */
static void setup(struct opts *o, const struct machine *m, char *cache_dir, size_t len)
{
	if (o->nthreads == 0) {
		o->threads[0] = m->cores;
		o->nthreads = 1;
	}
	if (!o->cache_dir) {
		const char *tmp = getenv("TMPDIR");
		snprintf(cache_dir, len, "%s/feral-bench-%lu", tmp && *tmp ? tmp : "/tmp",
		         (unsigned long)getuid());
		o->cache_dir = cache_dir;
	}
	o->stop = &g_signal;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The trace file, with its header: fail early on an unwritable path. */
static int open_trace(const struct opts *o, FILE **trace_f)
{
	*trace_f = NULL;
	if (!o->trace_out)
		return 0;
	*trace_f = fopen(o->trace_out, "w");
	if (!*trace_f) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", prog, o->trace_out, strerror(errno));
		return 1;
	}
	fprintf(*trace_f, "point,threads,precision,replicas,method,kernel,repeat,updates,seconds,"
	                  "objective,relative_residual,relative_error\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct machine m;
	char cache_dir[4096];
	cli_lean_hwloc();
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	machine_info(&m);
	setup(&o, &m, cache_dir, sizeof cache_dir);
	if (o.dry_run) {
		print_plan(&o, &m);
		return 0;
	}
	FILE *table = o.json ? stderr : stdout, *trace_f;
	const char *kname = NULL;
	struct feral_error err = {0};
	enum feral_status st = feral_kernels_select(&kname, &err);
	if (st)
		return cli_report(prog, st, &err);
	double t_start = now_s();
	if (open_trace(&o, &trace_f))
		return 1;
	struct bench_stream streams[MAX_LIST];
	int nstreams = probe_all(&o, &m, streams);
	struct problem_data pd;
	if ((rc = build_problem(&o, &m, &pd)) != 0) {
		problem_free(&pd);
		if (trace_f)
			fclose(trace_f);
		return rc;
	}
	print_problem(&o, &m, &pd, kname);
	struct sweep sw;
	struct peer_ctx pc;
	rc = sweep_run(&o, &m, &pd, streams, nstreams, table, trace_f, &sw);
	if (trace_f)
		fclose(trace_f);
	if (rc) {
		problem_free(&pd);
		return rc;
	}
	if (peers_run(&o, &m, &pd, &sw, table, &pc))
		sw.out_rc = 1;
	if (o.json)
		print_json(&m, &pd, streams, nstreams, &sw, &pc, now_s() - t_start);
	fprintf(stderr, "%s: %d point%s in %.1f s\n", prog, sw.np, sw.np == 1 ? "" : "s",
	        now_s() - t_start);
	free(sw.pts);
	problem_free(&pd);
	if (g_signal > 0)
		return g_signal == SIGTERM ? 143 : 130;
	if (sw.out_rc)
		return sw.out_rc;
	return sw.any_failed ? 1 : 0;
}
