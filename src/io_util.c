/* Shared I/O helpers: atomic writes and size checks. */
#define _GNU_SOURCE
#include "io_impl.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

enum feral_status feral_wfile_open(struct feral_wfile *w, const char *path, struct feral_error *err)
{
	memset(w, 0, sizeof *w);
	if (strlen(path) >= sizeof w->path)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "path too long");
	snprintf(w->path, sizeof w->path, "%s", path);
	/* A path that exists and is not a regular file (/dev/null, a FIFO, a
	 * terminal) is written in place: renaming a temporary over it would
	 * replace the device or pipe with a plain file (as root, /dev/null). */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return feral_fail(err, FERAL_STATUS_IO, path, 0, "cannot write: a directory");
		w->f = fopen(path, "wb");
		if (!w->f)
			return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
		return FERAL_OK;
	}
	snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", path, (long)getpid());
	w->f = fopen(w->tmp, "wb");
	if (!w->f)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot create");
	return FERAL_OK;
}

enum feral_status feral_wfile_commit(struct feral_wfile *w, struct feral_error *err)
{
	int bad = ferror(w->f);
	bad |= fflush(w->f) != 0;
	if (w->durable)
		bad |= fsync(fileno(w->f)) != 0 && errno != EINVAL;
	if (fclose(w->f) != 0)
		bad = 1;
	w->f = NULL;
	if (bad) {
		enum feral_status st = feral_fail_errno(err, FERAL_STATUS_IO, w->path, "write failed");
		if (w->tmp[0])
			unlink(w->tmp);
		return st;
	}
	if (w->tmp[0] && rename(w->tmp, w->path) != 0) {
		enum feral_status st = feral_fail_errno(err, FERAL_STATUS_IO, w->path, "cannot rename");
		unlink(w->tmp);
		return st;
	}
	return FERAL_OK;
}

void feral_wfile_abort(struct feral_wfile *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	if (w->tmp[0])
		unlink(w->tmp);
}

enum feral_status feral_file_size(const char *path, uint64_t *size, struct feral_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return feral_fail_errno(err, FERAL_STATUS_IO, path, "cannot open");
	if (!S_ISREG(st.st_mode))
		return feral_fail(err, FERAL_STATUS_IO, path, 0, "not a regular file");
	*size = (uint64_t)st.st_size;
	return FERAL_OK;
}

/* Physical memory in bytes, 0 if unknown. */
static uint64_t phys_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	return (pages > 0 && psize > 0) ? (uint64_t)pages * (uint64_t)psize : 0;
}

uint64_t feral_mem_available(void)
{
	/* Linux: MemAvailable (free + reclaimable page cache); elsewhere half
	 * of physical memory. */
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		char line[256];
		unsigned long long kb;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
				fclose(f);
				return (uint64_t)kb * 1024u;
			}
		fclose(f);
	}
	return phys_bytes() / 2;
}

enum feral_status feral_check_fits(const char *path, uint64_t bytes, struct feral_error *err)
{
	uint64_t phys = phys_bytes();
	if (phys && bytes > phys)
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                  "needs %.1f GiB but the machine has %.1f GiB of memory",
		                  (double)bytes / (1u << 30), (double)phys / (1u << 30));
	return FERAL_OK;
}

unsigned feral_gz_buffer_size(uint64_t compressed)
{
	const unsigned lo = 8u << 10, hi = 256u << 10;
	if (compressed == 0 || compressed > hi)
		return hi;
	return compressed < lo ? lo : (unsigned)compressed;
}
