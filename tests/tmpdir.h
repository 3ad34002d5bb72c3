/* Scaffolding shared by the suites that write files: a fresh temporary
 * directory per test (made in the suite's .init, removed in its .fini),
 * paths in it, and whole-file writes and reads.  Header-only, static: each
 * suite has its own directory.  nftw needs _GNU_SOURCE (or _XOPEN_SOURCE)
 * defined before the first system header of the suite. */
#ifndef FERAL_TESTS_TMPDIR_H
#define FERAL_TESTS_TMPDIR_H
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[64]; /* "/tmp/feral-test-<tag>-XXXXXX" */

/* .init: /tmp/feral-test-<tag>-XXXXXX */
static inline void tmpdir_make(const char *tag)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/feral-test-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static inline int tmpdir_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* .fini: the directory and everything in it. */
static inline void tmpdir_remove(void)
{
	nftw(tmpdir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A path in the directory; four rotating buffers, so four may be live. */
static inline const char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, 512, "%s/%.400s", tmpdir, name); /* names are short */
	return p;
}

static inline void write_bytes(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot create %s", path);
	cr_assert_eq(fwrite(p, 1, len, f), len, "short write to %s", path);
	fclose(f);
}

/* Writes `content` to the directory's file `name`; returns its path. */
static inline const char *write_text(const char *name, const char *content)
{
	const char *p = tmp_path(name);
	write_bytes(p, content, strlen(content));
	return p;
}

/* The whole file, malloc'd; *len its size. */
static inline unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	unsigned char *p = malloc(*len ? *len : 1);
	cr_assert_eq(fread(p, 1, *len, f), *len, "short read of %s", path);
	fclose(f);
	return p;
}
#endif
