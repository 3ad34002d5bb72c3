/* The model file format (model.h): writer and reader in one place, so the
 * two cannot drift apart. */
#include "model.h"
#include "cli.h"
#include "io_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum feral_status cli_model_write(const char *path, const struct cli_model_out *m,
                                  struct feral_error *err)
{
	struct feral_wfile w;
	enum feral_status st = feral_wfile_open(&w, path, err);
	if (st)
		return st;
	FILE *f = w.f;
	if (m->k <= 1) {
		fprintf(f, "feral-model 1\nloss %s\nd %llu\nlabels %.17g %.17g\npositive %s\n",
		        cli_loss_name(m->loss), (unsigned long long)m->d, m->neg, m->pos,
		        m->positive ? m->positive : "-");
	} else {
		fprintf(f, "feral-model 2\nloss %s\nd %llu\nclasses %llu\nlabels",
		        cli_loss_name(m->loss), (unsigned long long)m->d, (unsigned long long)m->k);
		for (uint64_t c = 0; c < m->k; c++)
			fprintf(f, " %.17g", m->labels[c]);
		fputc('\n', f);
	}
	if (m->bias > 0)
		fprintf(f, "bias %.17g\n", m->bias);
	fputs("weights\n", f);
	uint64_t k = m->k ? m->k : 1;
	for (uint64_t j = 0; j < k * (m->d + (m->bias > 0)); j++)
		fprintf(f, "%.17g\n", m->w[j]);
	return feral_wfile_commit(&w, err);
}

int cli_model_save(const char *prog, const char *path, const struct cli_model_out *m)
{
	struct feral_error err = {0};
	enum feral_status st = cli_model_write(path, m, &err);
	return st ? cli_report(prog, st, &err) : 0;
}

void cli_model_free(struct cli_model *m)
{
	free(m->w);
	free(m->labels);
	m->w = m->labels = NULL;
}

/* The positive list of a version 1 model: "-", or labels as `train
 * --positive` takes them (numbers between commas; empty items skipped). */
static int positive_ok(const char *s)
{
	if (!strcmp(s, "-"))
		return 1;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
		double v;
		if (!cli_parse_double(t, &v))
			return 0;
	}
	return n > 0;
}

/* The end of the header: an optional "bias B" line (B > 0), then
 * "weights".  1 when it parses. */
static int read_tail(FILE *f, struct cli_model *m)
{
	char word[16];
	if (fscanf(f, " %15s", word) != 1)
		return 0;
	if (!strcmp(word, "bias")) {
		if (fscanf(f, "%lf", &m->bias) != 1 || !isfinite(m->bias) || !(m->bias > 0) ||
		    fscanf(f, " %15s", word) != 1)
			return 0;
	}
	return !strcmp(word, "weights");
}

/* Why a header did not parse, when there is more to say than "bad header". */
struct header_why {
	long line;
	char msg[96];
};

/* "<key> <count>": the count is read as a word and parsed strictly (fscanf's
 * %llu would take "-1" as 2^64 - 1).  1 when it parses. */
static int read_count(FILE *f, const char *key, long line, unsigned long long *out,
                      struct header_why *why)
{
	char fmt[24], word[32];
	uint64_t v;
	snprintf(fmt, sizeof fmt, "%s %%31s ", key);
	if (fscanf(f, fmt, word) != 1)
		return 0;
	if (!cli_parse_count(word, &v)) {
		why->line = line;
		snprintf(why->msg, sizeof why->msg, ": %s '%s' is not a count from 0 to 2^64 - 1", key,
		         word);
		return 0;
	}
	*out = v;
	return 1;
}

/* The header after the first line, up to and including "weights".  Returns
 * 1 when it parses; *dd and *kk the shape. */
static int read_header(FILE *f, struct cli_model *m, unsigned long long *dd,
                       unsigned long long *kk, enum feral_status *st, struct header_why *why)
{
	char loss[32];
	int at = -1;
	*kk = 1;
	m->bias = 0;
	if (fscanf(f, "loss %31s\n", loss) != 1 || !read_count(f, "d", 3, dd, why))
		return 0;
	if (m->version == 1) {
		int p0 = -1, p1 = -1;
		return fscanf(f, "labels %lf %lf\n", &m->neg, &m->pos) == 2 &&
		       fscanf(f, "positive %n%255s%n", &p0, m->positive, &p1) == 1 &&
		       (size_t)(p1 - p0) == strlen(m->positive) && positive_ok(m->positive) &&
		       read_tail(f, m);
	}
	if (!read_count(f, "classes", 4, kk, why) || *kk < 1 || *kk > CLI_MODEL_MAX_CLASSES ||
	    fscanf(f, "labels%n", &at) != 0 || at < 0)
		return 0;
	m->labels = malloc(*kk * sizeof *m->labels);
	if (!m->labels) {
		*st = FERAL_STATUS_NOMEM;
		return 0;
	}
	for (unsigned long long c = 0; c < *kk; c++)
		if (fscanf(f, "%lf", &m->labels[c]) != 1 || !isfinite(m->labels[c]))
			return 0;
	return read_tail(f, m);
}

enum feral_status cli_model_read(const char *path, struct cli_model *m, struct feral_error *err)
{
	memset(m, 0, sizeof *m);
	FILE *f = fopen(path, "r");
	if (!f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	char line[64] = "";
	unsigned long long dd = 0, kk = 1;
	enum feral_status st = FERAL_STATUS_PARSE;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	if (strcmp(line, "feral-model 1\n") == 0)
		m->version = 1;
	else if (strcmp(line, "feral-model 2\n") == 0)
		m->version = 2;
	struct header_why why = {0, ""};
	int ok = m->version && read_header(f, m, &dd, &kk, &st, &why);
	/* weight j is on line j + 7 in both versions, j + 8 with a bias line */
	const long hdr_lines = 6 + (m->bias > 0);
	const uint64_t per = dd + (m->bias > 0); /* weights a class */
	if (!ok || dd == 0 || dd > (1ull << 32) || kk * per > (1ull << 32)) {
		if (ok || st == FERAL_STATUS_PARSE)
			st = feral_fail(err, FERAL_STATUS_PARSE, path, why.line,
			                "not a feral model file (bad header%s)", why.msg);
		else
			st = feral_fail(err, st, path, 0, "out of memory for %llu labels", kk);
		goto fail;
	}
	/* Each weight takes a byte at least: a header promising more than the
	 * file holds is refused before the allocation. */
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && kk * per > (uint64_t)sb.st_size) {
		st = feral_fail(err, FERAL_STATUS_PARSE, path, 0,
		                "truncated: the header promises %llu weights, the file has %llu bytes",
		                kk * per, (unsigned long long)sb.st_size);
		goto fail;
	}
	m->w = malloc(kk * per * sizeof *m->w);
	if (!m->w) {
		st = feral_fail(err, FERAL_STATUS_NOMEM, path, 0, "out of memory for %llu weights",
		                kk * per);
		goto fail;
	}
	for (uint64_t j = 0; j < kk * per; j++)
		if (fscanf(f, "%lf", &m->w[j]) != 1 || !isfinite(m->w[j])) {
			st = feral_fail(err, FERAL_STATUS_PARSE, path, (long)j + 1 + hdr_lines,
			                "bad or missing weight");
			goto fail;
		}
	fclose(f);
	m->d = dd;
	m->k = kk;
	return FERAL_OK;
fail:
	fclose(f);
	cli_model_free(m);
	return st;
}
