/* failalloc: an LD_PRELOAD shim that fails the k-th heap allocation made by
 * feral's own code, and counts what feral's code leaves allocated at exit.
 *
 *   FERAL_FAIL_ALLOC=k     fail the k-th allocation (1-based) whose caller is
 *                          the main executable (feral links libferal.a, so
 *                          that is exactly the library and the CLI); 0 or
 *                          unset: fail none, just count
 *   FERAL_FAIL_TRACE=1     print a backtrace of the failed allocation
 *   FERAL_FAIL_REPORT=F    at exit, write "allocs N live M failed K" to F:
 *                          N allocations by feral's code, M of them never
 *                          freed, K = 1 when the k-th was reached and failed
 *
 * Allocations made inside libc (strdup, stdio), hwloc, libnuma, OpenMP or
 * zlib are passed through untouched and not counted: those libraries have
 * their own (often fatal) out-of-memory policies, and the sweep is about
 * ours.  Like SQLite's malloc-failure tests, the driver runs a scenario once
 * with k = 0 to learn N, then for every k in 1..N.
 *
 * Built without sanitizers (ASan brings its own allocator). */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <unistd.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uintptr_t text_lo, text_hi; /* executable segments of the main program */
static atomic_int ready;
static atomic_long count;
static long fail_at;
static atomic_int failed;

/* Live set of pointers from feral's code: open addressing, never resized
 * (2^20 slots; a sweep scenario allocates a few thousand). */
#define SLOTS (1u << 20)
static uintptr_t *live;
static atomic_flag lock = ATOMIC_FLAG_INIT;
static long nlive;

static int find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size; (void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (!text_lo || lo < text_lo)
			text_lo = lo;
		if (hi > text_hi)
			text_hi = hi;
	}
	return 1; /* the first object is the main program */
}

static void init(void)
{
	int expect = 0;
	static atomic_int started;
	if (!atomic_compare_exchange_strong(&started, &expect, 1)) {
		while (!atomic_load(&ready))
			;
		return;
	}
	dl_iterate_phdr(find_exe, NULL);
	const char *k = getenv("FERAL_FAIL_ALLOC");
	fail_at = k ? atol(k) : 0;
	live = mmap(NULL, SLOTS * sizeof *live, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (live == MAP_FAILED)
		live = NULL;
	atomic_store(&ready, 1);
}

static size_t slot_of(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (SLOTS - 1);
}

static void live_add(void *p)
{
	if (!p || !live)
		return;
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
	size_t s = slot_of((uintptr_t)p);
	while (live[s] && live[s] != 1)
		s = (s + 1) & (SLOTS - 1);
	live[s] = (uintptr_t)p;
	nlive++;
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

static void live_remove(void *p)
{
	if (!p || !live)
		return;
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
	size_t s = slot_of((uintptr_t)p);
	while (live[s]) {
		if (live[s] == (uintptr_t)p) {
			live[s] = 1; /* tombstone */
			nlive--;
			break;
		}
		s = (s + 1) & (SLOTS - 1);
	}
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* Is this allocation feral's, and should it fail? */
static int ours(void *caller)
{
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		init();
	uintptr_t a = (uintptr_t)caller;
	return a >= text_lo && a < text_hi;
}

static int should_fail(void)
{
	long n = atomic_fetch_add(&count, 1) + 1;
	if (fail_at > 0 && n == fail_at) {
		atomic_store(&failed, 1);
		if (getenv("FERAL_FAIL_TRACE")) {
			void *frames[16];
			int nf = backtrace(frames, 16);
			backtrace_symbols_fd(frames, nf, STDERR_FILENO);
		}
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	if (!ours(__builtin_return_address(0)))
		return __libc_malloc(n);
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __libc_malloc(n);
	live_add(p);
	return p;
}

void *calloc(size_t m, size_t n)
{
	/* dlsym and early TLS set-up call calloc before init can run: pass those through */
	if (!atomic_load_explicit(&ready, memory_order_acquire) || !ours(__builtin_return_address(0)))
		return __libc_calloc(m, n);
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __libc_calloc(m, n);
	live_add(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	if (!ours(__builtin_return_address(0)))
		return __libc_realloc(old, n);
	if (should_fail()) {
		errno = ENOMEM;
		return NULL; /* old stays valid, as realloc promises */
	}
	void *p = __libc_realloc(old, n);
	if (p || n == 0)
		live_remove(old);
	if (p)
		live_add(p);
	return p;
}

static void *aligned(size_t align, size_t n, void *caller)
{
	if (!ours(caller))
		return __libc_memalign(align, n);
	if (should_fail())
		return NULL;
	void *p = __libc_memalign(align, n);
	live_add(p);
	return p;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p = aligned(align, n, __builtin_return_address(0));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
	void *p = aligned(align, n, __builtin_return_address(0));
	if (!p)
		errno = ENOMEM;
	return p;
}

void free(void *p)
{
	if (p && atomic_load_explicit(&ready, memory_order_acquire))
		live_remove(p);
	__libc_free(p);
}

__attribute__((destructor)) static void report(void)
{
	const char *f = getenv("FERAL_FAIL_REPORT");
	if (!f)
		return;
	FILE *fp = fopen(f, "w");
	if (!fp)
		return;
	fprintf(fp, "allocs %ld live %ld failed %d\n", atomic_load(&count), nlive,
		atomic_load(&failed));
	fclose(fp);
}
