/* bench: records.  A record is one list of named fields, written as a JSON
 * object, a CSV row (header written once, checked on append) and a table
 * row; the statistics of repeated runs (median, min, max). */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = BENCH_PROG;

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	/* NaN sorts last (a target never reached is +inf) */
	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return (x > y) - (x < y);
}

double median(const double *v, int n)
{
	double t[MAX_LIST * 4];
	if (n <= 0)
		return NAN;
	memcpy(t, v, (size_t)n * sizeof *t);
	qsort(t, (size_t)n, sizeof *t, cmp_dbl);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

double vmin(const double *v, int n)
{
	double m = NAN;
	for (int k = 0; k < n; k++)
		if (!isnan(v[k]) && (isnan(m) || v[k] < m))
			m = v[k];
	return m;
}

double vmax(const double *v, int n)
{
	double m = NAN;
	for (int k = 0; k < n; k++)
		if (!isnan(v[k]) && (isnan(m) || v[k] > m))
			m = v[k];
	return m;
}

void r_str(struct record *r, const char *k, const char *v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_STR;
	size_t l = 0;
	for (; v && l + 1 < sizeof f->s && v[l]; l++)
		f->s[l] = v[l];
	f->s[l] = 0;
}
void r_num(struct record *r, const char *k, double v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_NUM;
	f->v = v;
}
void r_u64(struct record *r, const char *k, uint64_t v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_U64;
	f->u = v;
}
void r_bool(struct record *r, const char *k, int v)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_BOOL;
	f->u = v != 0;
}

void r_arr(struct record *r, const char *k, const uint64_t *v, int n)
{
	struct field *f = &r->f[r->n++];
	f->key = k;
	f->t = F_ARR;
	size_t o = 0;
	f->s[0] = 0;
	for (int i = 0; i < n && o < sizeof f->s; i++)
		o += (size_t)snprintf(f->s + o, sizeof f->s - o, "%s%llu", i ? " " : "",
		                      (unsigned long long)v[i]);
}

struct field *r_field(struct record *r, const char *k)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, k) == 0)
			return &r->f[i];
	return NULL;
}

const struct field *r_get(const struct record *r, const char *k)
{
	return r_field((struct record *)r, k);
}

void record_json(const struct record *r, FILE *f)
{
	struct cli_json j;
	cli_json_begin(&j, f);
	for (int i = 0; i < r->n; i++) {
		const struct field *x = &r->f[i];
		switch (x->t) {
		case F_STR: cli_json_str(&j, x->key, x->s); break;
		case F_NUM: cli_json_num(&j, x->key, x->v); break;
		case F_U64: cli_json_u64(&j, x->key, x->u); break;
		case F_BOOL: cli_json_bool(&j, x->key, (int)x->u); break;
		case F_ARR: {
			char raw[sizeof x->s + 2];
			snprintf(raw, sizeof raw, "[%s]", x->s);
			for (char *p = raw; *p; p++)
				*p = *p == ' ' ? ',' : *p;
			cli_json_raw(&j, x->key, raw);
			break;
		}
		}
	}
	cli_json_end(&j);
}

void csv_header(const struct record *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", r->f[i].key);
}

void csv_row(const struct record *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n && o < len; i++) {
		const struct field *x = &r->f[i];
		if (i)
			buf[o++] = ',';
		switch (x->t) {
		case F_ARR: /* space-separated: no quoting */
		case F_STR:
			if (strpbrk(x->s, ",\"\n")) {
				buf[o++] = '"';
				for (const char *p = x->s; *p && o + 3 < len; p++) {
					if (*p == '"')
						buf[o++] = '"';
					buf[o++] = *p == '\n' ? ' ' : *p;
				}
				buf[o++] = '"';
				buf[o] = 0;
			} else {
				o += (size_t)snprintf(buf + o, len - o, "%s", x->s);
			}
			break;
		case F_NUM:
			if (isfinite(x->v))
				o += (size_t)snprintf(buf + o, len - o, "%.6g", x->v);
			break;
		case F_U64: o += (size_t)snprintf(buf + o, len - o, "%llu", (unsigned long long)x->u); break;
		case F_BOOL: o += (size_t)snprintf(buf + o, len - o, "%s", x->u ? "true" : "false"); break;
		}
	}
	if (o + 2 < len) {
		buf[o++] = '\n';
		buf[o] = 0;
	}
}

/* Append one line with a single write() on an O_APPEND descriptor, writing the
 * header first when the file is empty and checking it otherwise.  Returns 0,
 * 2 (header mismatch) or 1 (I/O). */
int csv_append(const char *path, const char *header, const char *row)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 1;
	}
	size_t hl = strlen(header);
	if (st.st_size == 0) {
		char *h = malloc(hl + 2);
		memcpy(h, header, hl);
		h[hl] = '\n';
		ssize_t w = write(fd, h, hl + 1);
		free(h);
		if (w != (ssize_t)hl + 1) {
			close(fd);
			return 1;
		}
	} else {
		FILE *f = fopen(path, "r");
		char *line = malloc(hl + 4);
		int same = f && line && fgets(line, (int)hl + 3, f) && strncmp(line, header, hl) == 0 &&
		           line[hl] == '\n';
		if (f)
			fclose(f);
		free(line);
		if (!same) {
			close(fd);
			fprintf(stderr,
			        "%s: %s: its header differs from this bench's fields: append to a new "
			        "file\n",
			        prog, path);
			return 2;
		}
	}
	size_t rl = strlen(row);
	ssize_t w = write(fd, row, rl);
	close(fd);
	if (w != (ssize_t)rl) {
		fprintf(stderr, "%s: %s: write failed: %s\n", prog, path, strerror(errno));
		return 1;
	}
	return 0;
}

int jsonl_append(const char *path, const struct record *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return 1;
	record_json(r, m);
	fclose(m);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int rc = 1;
	if (fd >= 0) {
		rc = write(fd, buf, len) == (ssize_t)len ? 0 : 1;
		close(fd);
	}
	if (rc)
		fprintf(stderr, "%s: %s: write failed\n", prog, path);
	free(buf);
	return rc;
}

/* FILE.csv -> FILE<suffix>.<ext> */
void sibling(const char *path, const char *suffix, const char *ext, char *out, size_t len)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	snprintf(out, len, "%.*s%s.%s", (int)stem, path, suffix, ext);
}

void fmt_num(char *b, size_t len, double v, const char *f)
{
	if (isfinite(v))
		snprintf(b, len, f, v);
	else
		snprintf(b, len, "-");
}

void table_header(FILE *f)
{
	fprintf(f, "%-8s %-9s %-8s %-8s %-7s %6s %10s %10s %9s %9s %6s %12s %9s %8s %6s  %s\n",
	        "threads", "precision", "replicas", "method", "kernel", "delay", "updates/s",
	        "upd/cpu-s", "GB/s", "STREAM",
	        "roof", "horizon", "t_target", "stale", "oversub", "status");
}

void table_row(FILE *f, const struct record *r)
{
	char a[32], u[32], b[32], c[32], d[32], e[32], g[32], st[32];
	fmt_num(a, sizeof a, r_get(r, "updates_per_s")->v, "%.3g");
	fmt_num(u, sizeof u, r_get(r, "updates_per_cpu_s")->v, "%.3g");
	fmt_num(b, sizeof b, r_get(r, "bytes_per_s")->v / 1e9, "%.2f");
	fmt_num(c, sizeof c, r_get(r, "stream_bytes_per_s")->v / 1e9, "%.2f");
	fmt_num(d, sizeof d, 100 * r_get(r, "roofline_fraction")->v, "%.0f%%");
	double h = r_get(r, "horizon")->v;
	if (isfinite(h))
		snprintf(e, sizeof e, "%s%.2e", r_get(r, "plateau_reached")->u ? "" : "<=", h);
	else
		snprintf(e, sizeof e, "-");
	fmt_num(g, sizeof g, r_get(r, "time_to_target")->v, "%.3gs");
	fmt_num(st, sizeof st, r_get(r, "staleness_mean")->v, "%.3g");
	fprintf(f, "%-8llu %-9s %-8s %-8s %-7s %6llu %10s %10s %9s %9s %6s %12s %9s %8s %6s  %s\n",
	        (unsigned long long)r_get(r, "threads")->u, r_get(r, "precision")->s,
	        r_get(r, "replicas")->s, r_get(r, "method")->s, r_get(r, "kernel")->s,
	        (unsigned long long)r_get(r, "delay")->u, a, u, b, c, d, e, g, st,
	        r_get(r, "oversubscribed")->u ? "yes" : "no", r_get(r, "status")->s);
}

int record_append(const struct record *r, const char *path, const char *jsonl)
{
	char header[4096], row[8192];
	csv_header(r, header, sizeof header);
	csv_row(r, row, sizeof row);
	int w = csv_append(path, header, row);
	if (!w && jsonl && jsonl[0])
		w = jsonl_append(jsonl, r);
	return w;
}
