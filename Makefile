# feral: non-recursive build.
#   make                     build/feral build/bench build/libferal.a build/libferal.so
#                            (libferal.so -> libferal.so.<abi> -> libferal.so.<version>)
#   make test                build and run every test (Criterion + CLI)
#   make bench               build/bench
#   make install PREFIX=/usr/local
#   make test SANITIZER=address|undefined|thread   (objects under build/<sanitizer>)
#   make test RACES=atomic SANITIZER=thread        relaxed atomics for the Hogwild! races
#   make fuzz                libFuzzer targets (clang) under build/fuzz
#   make fuzz-smoke          run each fuzz target briefly (FUZZ_TIME s each, default 12)
#   make fuzz-deep           the deep runs, outside CI (scripts/fuzz-deep.sh)
#   make check               module/prefetch/VNNI checks, test + ASan + UBSan + TSan (RACES=atomic,
#                            LLVM libomp), test-python, check-faults, fuzz-smoke
#   V=1 shows the commands; OPENMP=0 builds without OpenMP.

BUILD ?= build
BUILD_BASE := $(BUILD)
# override: also when BUILD=... is given on the command line
ifneq ($(SANITIZER),)
override BUILD := $(BUILD)/$(SANITIZER)$(if $(RACES),-$(RACES))
else ifneq ($(RACES),)
override BUILD := $(BUILD)/races-$(RACES)
endif

CC ?= cc
PREFIX ?= /usr/local
PKG_CONFIG ?= pkg-config
OPENMP ?= 1

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- dependency probes: say what was found -------------------------------
have = $(shell $(PKG_CONFIG) --exists $(1) && echo yes)
HAVE_HWLOC := $(call have,hwloc)
HAVE_NUMA := $(call have,numa)
HAVE_CRITERION := $(call have,criterion)
HAVE_LAPACKE := $(call have,lapacke)
HAVE_ZLIB := $(call have,zlib)
ifeq ($(MAKECMDGOALS),)
$(info feral: hwloc=$(or $(HAVE_HWLOC),no) libnuma=$(or $(HAVE_NUMA),no) zlib=$(or $(HAVE_ZLIB),no) lapacke=$(or $(HAVE_LAPACKE),no) criterion=$(or $(HAVE_CRITERION),no) openmp=$(OPENMP))
endif

# ---- flags, layered ----------------------------------------------------------
OPT ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -fPIC -fvisibility=hidden -pthread -MMD -MP \
	-Iinclude -Isrc -Ikernels
DEFS :=
LIBS := -lm -pthread
ifeq ($(HAVE_HWLOC),yes)
DEFS += -DFERAL_HAVE_HWLOC
PKGS += hwloc
endif
ifeq ($(HAVE_NUMA),yes)
DEFS += -DFERAL_HAVE_NUMA
PKGS += numa
endif
ifeq ($(HAVE_ZLIB),yes)
DEFS += -DFERAL_HAVE_ZLIB
PKGS += zlib
endif
ifeq ($(HAVE_LAPACKE),yes)
# headers only: the library dlopens liblapacke at first use (src/lapack.h);
# the tests and bench's peers call LAPACKE directly and link it
DEFS += -DFERAL_HAVE_LAPACKE $(shell $(PKG_CONFIG) --cflags lapacke openblas)
LAPACK_LIBS := $(shell $(PKG_CONFIG) --libs lapacke openblas)
endif
ifneq ($(strip $(PKGS)),)
DEFS += $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS += $(shell $(PKG_CONFIG) --libs $(PKGS))
endif
ifeq ($(OPENMP),1)
BASE_CFLAGS += -fopenmp
LIBS += -fopenmp
endif
ifeq ($(RACES),atomic)
DEFS += -DFERAL_RACES_ATOMIC
endif
ifneq ($(SANITIZER),)
BASE_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LIBS += -fsanitize=$(SANITIZER)
ifeq ($(SANITIZER),undefined)
BASE_CFLAGS += -fno-sanitize-recover=undefined
endif
endif
# ThreadSanitizer cannot see the synchronisation inside gcc's libgomp (not
# instrumented): its barriers read as races.  So a TSan build links LLVM's
# libomp instead (it implements the GOMP_* ABI gcc emits), and the tests run
# with libomp's Archer tool (OMP_TOOL_LIBRARIES=libarcher.so), which tells
# TSan about every OpenMP barrier, lock and task.  Our own code stays fully
# instrumented; nothing is suppressed.
ifeq ($(SANITIZER)$(OPENMP),thread1)
TSAN_OMP_DIR ?= $(patsubst %/libomp.so,%,$(lastword $(sort $(wildcard /usr/lib/llvm-*/lib/libomp.so))))
ifneq ($(TSAN_OMP_DIR),)
LIBS := $(filter-out -fopenmp,$(LIBS)) -L$(TSAN_OMP_DIR) -Wl,-rpath,$(TSAN_OMP_DIR) -lomp
ARCHER ?= $(wildcard $(TSAN_OMP_DIR)/libarcher.so)
endif
ifeq ($(ARCHER),)
$(warning SANITIZER=thread without LLVM libomp + Archer (libomp-dev): expect false reports from libgomp)
endif
endif
# Criterion's sandbox cannot start under TSan (its arena is mapped at random
# addresses TSan reserves: Snaipe/Criterion#274), so TSan test binaries use
# tests/tsan/criterion/criterion.h, a fork-per-test stand-in for the subset
# of Criterion the tests use, with the same synthesis line.
ifeq ($(SANITIZER),thread)
TEST_CFLAGS := -Itests/tsan
TEST_LIBS :=
else
TEST_CFLAGS :=
TEST_LIBS = $(shell $(PKG_CONFIG) --libs criterion)
endif
# Runtime options for the sanitized tests: every report aborts the process
# (a crash Criterion counts), and only third-party code is suppressed.
SAN_ENV_address := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
SAN_ENV_undefined := UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1
SAN_ENV_thread := TSAN_OPTIONS=abort_on_error=1:halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1 \
	$(if $(ARCHER),OMP_TOOL_LIBRARIES=$(ARCHER))
SAN_ENV := $(SAN_ENV_$(SANITIZER))
# Shared library names: the real file carries the full version, the soname
# the ABI version (include/feral.h), and libferal.so is the link-time name.
FERAL_VERSION := $(shell sed -n 's/^\#define FERAL_VERSION "\(.*\)"/\1/p' include/feral.h)
FERAL_ABI := $(shell sed -n 's/^\#define FERAL_ABI_VERSION \([0-9]*\).*/\1/p' include/feral.h)
SONAME := libferal.so.$(FERAL_ABI)
SO_REAL := libferal.so.$(FERAL_VERSION)
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
CFLAGS_ALL = $(BASE_CFLAGS) $(DEFS) -DFERAL_GIT_REV='"$(GIT_REV)"' $(CFLAGS)
# ISA flags live only on kernels/*_<isa>.c (docs/design.md); VNNI only on
# *_avx512vnni.c, whose table is offered only when cpuid reports VNNI
ISA_avx2 := -mavx2 -mfma -mf16c
ISA_avx512 := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq
ISA_avx512vnni := $(ISA_avx512) -mavx512vnni

# ---- sources -------------------------------------------------------------------
LIB_SRC := $(wildcard src/*.c) $(wildcard kernels/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
# bench/pingpong.c, bench/kbench.c and bench/csrbench.c are programs of their own
# (build/pingpong: cache-line transfers; build/kbench: the kernels alone;
# build/csrbench: the sparse int8 kernels alone), not part of build/bench
BENCH_SRC := $(filter-out bench/pingpong.c bench/kbench.c bench/csrbench.c,$(wildcard bench/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
CLI_HELPERS := $(filter-out src/cli/main.c,$(CLI_SRC))
CLI_HELPER_OBJ := $(CLI_HELPERS:%.c=$(BUILD)/obj/%.o)
# Workloads (workloads/*.c: the CT problem) are not part of libferal: they
# are linked only into the tests (and scripts) that use them.
WORKLOAD_SRC := $(wildcard workloads/*.c)
WORKLOAD_OBJ := $(WORKLOAD_SRC:%.c=$(BUILD)/obj/%.o)
WORKLOAD_TESTS := test_ct

.PHONY: all test bench install clean fuzz check-deps check fuzz-smoke fuzz-deep
all: $(BUILD)/feral $(BUILD)/bench $(BUILD)/pingpong $(BUILD)/kbench $(BUILD)/csrbench \
     $(BUILD)/libferal.a \
     $(BUILD)/libferal.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(ISA_$(lastword $(subst _, ,$(basename $(notdir $<))))) -c $< -o $@

$(BUILD)/libferal.a: $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/$(SO_REAL): $(LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LIBS)

$(BUILD)/$(SONAME): $(BUILD)/$(SO_REAL)
	$(Q)ln -sfn $(SO_REAL) $@

$(BUILD)/libferal.so: $(BUILD)/$(SONAME)
	$(Q)ln -sfn $(SONAME) $@

$(BUILD)/feral: $(CLI_OBJ) $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libferal.a $(LIBS)

$(BUILD)/bench: $(BENCH_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(BENCH_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a $(LIBS) $(LAPACK_LIBS)

bench: $(BUILD)/bench

# The cache-line ping-pong microbenchmark: plain C and pthreads, no feral code
# (scripts/scaling-model.py reads its figures).
$(BUILD)/pingpong: $(BUILD)/obj/bench/pingpong.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $< -lm -pthread $(filter -fsanitize=%,$(LIBS))
$(BUILD)/tests/test_pingpong: $(BUILD)/pingpong

$(BUILD)/kbench: $(BUILD)/obj/bench/kbench.o $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $< $(BUILD)/libferal.a $(LIBS)

$(BUILD)/csrbench: $(BUILD)/obj/bench/csrbench.o $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $< $(BUILD)/libferal.a $(LIBS)

# ---- MPI (optional): build/feral-mpi ---------------------------------------------
# A separate binary, so that feral and libferal never depend on MPI.  Probe:
# Open MPI's wrapper (mpicc --showme:compile/--showme:link), else pkg-config
# ompi-c.  Not built in sanitizer builds (Open MPI's own allocations would
# trip LeakSanitizer); tests/test_mpi.c skips when build/feral-mpi is absent.
MPICC ?= mpicc
MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null || $(PKG_CONFIG) --cflags ompi-c 2>/dev/null)
MPI_LIBS := $(shell $(MPICC) --showme:link 2>/dev/null || $(PKG_CONFIG) --libs ompi-c 2>/dev/null)
HAVE_MPI := $(if $(strip $(MPI_LIBS)),yes)
MPI_SRC := $(wildcard src/mpi/*.c)
MPI_OBJ := $(MPI_SRC:%.c=$(BUILD)/obj/%.o)
ifeq ($(HAVE_MPI)$(SANITIZER),yes)
all: $(BUILD)/feral-mpi
$(MPI_OBJ): DEFS += $(MPI_CFLAGS)
$(BUILD)/feral-mpi: $(MPI_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(MPI_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a $(LIBS) $(MPI_LIBS)
MPI_INSTALL := $(BUILD)/feral-mpi
else ifeq ($(filter-out all test install,$(or $(MAKECMDGOALS),all)),)
$(info feral: $(if $(HAVE_MPI),sanitizer build,MPI not found): skipping feral-mpi)
endif

# Each tests/test_<module>.c is its own Criterion binary.
$(WORKLOAD_TESTS:%=$(BUILD)/tests/%): $(WORKLOAD_OBJ)
$(BUILD)/tests/%: tests/%.c $(BUILD)/libferal.a $(CLI_HELPER_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Iworkloads -DFERAL_BUILD_DIR='"$(BUILD)"' -o $@ $< \
		$(filter $(WORKLOAD_OBJ),$^) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a $(LIBS) $(LAPACK_LIBS) \
		$(TEST_LIBS)

# TESTS="test_engine test_sampler" runs a subset.
TEST_RUN := $(if $(TESTS),$(TESTS:%=$(BUILD)/tests/%),$(TEST_BIN))
test: all $(TEST_RUN)
ifneq ($(HAVE_CRITERION),yes)
	$(error Criterion not found: run scripts/deps.sh)
endif
	$(Q)$(SAN_ENV) FERAL_BUILD_DIR=$(BUILD) sh scripts/run-tests.sh $(TEST_RUN)

# ---- fuzzing (clang + libFuzzer) -------------------------------------------------
# One target per loader (tests/fuzz/fuzz_<format>.c), and fuzz_cli for the
# commands' option parsers; seeds in tests/fuzz/corpus/<target>/,
# dictionaries tests/fuzz/<format>.dict.  The library is compiled once for
# fuzzing (no OpenMP, no SIMD kernels) into $(FUZZ_DIR)/libferal-fuzz.a.
# fuzz-smoke runs each target FUZZ_TIME seconds (fuzz_cli FUZZ_CLI_TIME) on
# a scratch copy of its corpus (new inputs never land in git); FUZZ_TIME=300
# make fuzz-smoke is the longer local run, scripts/fuzz-deep.sh the deep one
# (millions of executions per target, corpora minimized back into git).
# The targets write each input to a scratch file under TMPDIR: fuzz-smoke
# sets it to FUZZ_TMP (/dev/shm when writable: on a VM's disk those writes
# cost several times the execution), and runs with ASan's quarantine at
# 64 MB (FUZZ_ASAN_OPTIONS; far above what one execution frees, and fewer
# fresh pages than the default 256 MB).
FUZZ_TMP ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)
FUZZ_ASAN_OPTIONS ?= quarantine_size_mb=64
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD_BASE)/fuzz
FUZZ_TIME ?= 12
FUZZ_CLI_TIME ?= 5
FUZZ_FLAGS ?= -max_len=4096 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
# The CLI's file formats (model, checkpoint) are fuzzed too: their readers
# and what they use of common.c go into the archive with the library.
# fuzz_cli parses every command's options (the cmd_*_parse functions), so
# the commands, what they use and bench's modules go in too (an archive:
# each target links only what it calls).
FUZZ_LIB_SRC := $(filter-out kernels/%_avx2.c kernels/%_avx512.c kernels/%_avx512vnni.c,$(LIB_SRC)) \
	$(CLI_HELPERS) $(filter-out bench/main.c,$(BENCH_SRC))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
# No hwloc either: feral_default_threads (which solve and train call while
# parsing) would load the machine's topology on every execution of fuzz_cli
# (~8 ms: 125 executions/s); without hwloc it is 1.
FUZZ_CFLAGS = -std=gnu11 -O1 -g $(FUZZ_SAN) -pthread -MMD -MP -Iinclude -Isrc -Ikernels \
	$(filter-out -fopenmp -DFERAL_HAVE_HWLOC,$(DEFS)) -DFERAL_NO_SIMD -DFERAL_GIT_REV='"fuzz"'
# Is there a clang with libFuzzer?  (Evaluated only by the fuzz targets.)
FUZZ_PROBE = printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
	$(FUZZ_CC) -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-CC $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libferal-fuzz.a: $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_DIR)/libferal-fuzz.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) \
		$(FUZZ_DIR)/libferal-fuzz.a $(filter-out -fopenmp,$(LIBS))

# bench's parser is static in bench/main.c: bench_args.c compiles that file
# with its main() renamed and hands the parser to fuzz_cli.
$(FUZZ_DIR)/fuzz_cli: $(FUZZ_DIR)/obj/tests/fuzz/bench_args.o

fuzz: $(FUZZ_BIN)

# The deep runs, outside CI (see scripts/fuzz-deep.sh for its settings):
# FUZZ_MERGE=1 make fuzz-deep also minimizes the corpora back into git.
fuzz-deep:
	$(Q)BUILD=$(BUILD_BASE) sh scripts/fuzz-deep.sh $(FUZZ_TARGETS)

# Exits 0 with a message when clang/libFuzzer is missing; any crash, leak,
# timeout or sanitizer report in a target fails it.
fuzz-smoke:
	@if ! $(FUZZ_PROBE); then \
		echo "fuzz-smoke: SKIPPED: $(FUZZ_CC) with libFuzzer (-fsanitize=fuzzer) not available"; \
	else \
		$(MAKE) --no-print-directory fuzz BUILD=$(BUILD_BASE) SANITIZER= RACES= && \
		for t in $(FUZZ_NAMES); do \
			f=$${t#fuzz_}; work=$(FUZZ_DIR)/work/$$t; rm -rf $$work; mkdir -p $$work; \
			dict=; [ -f tests/fuzz/$$f.dict ] && dict=-dict=tests/fuzz/$$f.dict; \
			secs=$(FUZZ_TIME); extra=; \
			if [ $$t = fuzz_cli ]; then secs=$(FUZZ_CLI_TIME); extra=-close_fd_mask=3; fi; \
			echo "  FUZZ    $$t ($$secs s)"; \
			TMPDIR=$(FUZZ_TMP) ASAN_OPTIONS=$${ASAN_OPTIONS:-$(FUZZ_ASAN_OPTIONS)} \
			$(FUZZ_DIR)/$$t $(FUZZ_FLAGS) -max_total_time=$$secs $$dict $$extra \
				-artifact_prefix=$(FUZZ_DIR)/$$t- $$work tests/fuzz/corpus/$$t \
				> $(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
			grep -E '^stat::number_of_executed_units|^stat::peak_rss' $(FUZZ_DIR)/$$t.log | \
				sed "s|^|  $$t: |"; \
			if [ $$rc -ne 0 ]; then tail -60 $(FUZZ_DIR)/$$t.log; \
				echo "fuzz-smoke: $$t FAILED (exit $$rc, log $(FUZZ_DIR)/$$t.log)"; exit 1; fi; \
		done; \
		echo "fuzz-smoke: all targets passed"; \
	fi

# ---- check: everything CI runs ------------------------------------------------------
# Plain tests, ASan(+LSan), UBSan, then TSan on the RACES=atomic build (libomp
# + Archer), then the fuzz smoke run.  Stops at the first failure.
# TSan runs every test binary but test_bench_cli, whose checks are timed and
# fail at TSan's 5-15x slowdown (test_cli waits for events, not clocks).
# Builds run with -j<cores> unless make was given -j already.
TSAN_SKIP ?= test_bench_cli
TSAN_TESTS ?= $(filter-out $(TSAN_SKIP),$(TEST_SRC:tests/%.c=%))
CHECK_MAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2)) \
	BUILD=$(BUILD_BASE)
# The engine's software prefetches must survive the compiler: GCC 12 once
# deleted every one of them (a non-inlined prefetch-only helper looks free of
# effects to IPA mod-ref).  A build that keeps them has ~20 in engine.o; the
# broken one had 4.
PREFETCH_MIN ?= 12
.PHONY: check-prefetch
check-prefetch: $(BUILD)/libferal.a
	$(Q)n=$$(objdump -d $(BUILD)/obj/src/engine.o | grep -c 'prefetch'); \
	if [ $$n -lt $(PREFETCH_MIN) ]; then \
		echo "check-prefetch: only $$n prefetch instructions in engine.o (want >= $(PREFETCH_MIN)): the compiler dropped the pipeline's prefetches"; exit 1; \
	else echo "check-prefetch: $$n prefetch instructions in engine.o"; fi

# No VNNI instruction outside the VNNI kernel file: the "avx512" table runs
# on AVX-512 CPUs without VNNI (Skylake-SP), where one would be SIGILL.  The
# VNNI object itself must show some, or the grep is not matching anything.
VNNI_OPS := vpdpbusd|vpdpbusds|vpdpwssd|vpdpwssds
VNNI_OBJ := $(filter %_avx512vnni.o,$(LIB_OBJ))
NON_VNNI_OBJ := $(filter $(BUILD)/obj/kernels/%,$(filter-out $(VNNI_OBJ),$(LIB_OBJ)))
.PHONY: check-vnni
check-vnni: $(BUILD)/libferal.a
	$(Q)bad=0; for o in $(NON_VNNI_OBJ); do \
		n=$$(objdump -d $$o | grep -cwE '$(VNNI_OPS)'); \
		if [ $$n -ne 0 ]; then echo "check-vnni: $$o has $$n VNNI instructions:"; \
			objdump -d $$o | grep -wE '$(VNNI_OPS)' | head -5; bad=1; fi; \
	done; \
	v=$$(objdump -d $(VNNI_OBJ) | grep -cwE '$(VNNI_OPS)'); \
	if [ $$v -eq 0 ]; then echo "check-vnni: no VNNI instruction in $(VNNI_OBJ): the check matches nothing"; bad=1; fi; \
	if [ $$bad -ne 0 ]; then exit 1; fi; \
	echo "check-vnni: 0 VNNI instructions in $(notdir $(NON_VNNI_OBJ)); $$v in $(notdir $(VNNI_OBJ))"

.PHONY: check
check:
	@echo "== check: make check-prefetch check-vnni check-modules"
	$(Q)$(CHECK_MAKE) check-prefetch check-vnni check-modules SANITIZER= RACES=
	@echo "== check: make test"
	$(Q)$(CHECK_MAKE) test SANITIZER= RACES=
	@echo "== check: make test SANITIZER=address"
	$(Q)$(CHECK_MAKE) test SANITIZER=address RACES=
	@echo "== check: make test SANITIZER=undefined"
	$(Q)$(CHECK_MAKE) test SANITIZER=undefined RACES=
	@echo "== check: make test SANITIZER=thread RACES=atomic TESTS=\"$(TSAN_TESTS)\""
	$(Q)$(CHECK_MAKE) test SANITIZER=thread RACES=atomic TESTS="$(TSAN_TESTS)"
	@echo "== check: make test-python"
	$(Q)$(CHECK_MAKE) test-python SANITIZER= RACES=
	@echo "== check: make check-faults"
	$(Q)$(CHECK_MAKE) check-faults SANITIZER= RACES=
	@echo "== check: make fuzz-smoke"
	$(Q)$(CHECK_MAKE) fuzz-smoke SANITIZER= RACES=
	@echo "== check: all passed"

# ---- install -------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/feral $(BUILD)/bench $(MPI_INSTALL) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libferal.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/$(SO_REAL) $(DESTDIR)$(PREFIX)/lib/
	ln -sfn $(SO_REAL) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(PREFIX)/lib/libferal.so
	install -m 644 include/feral.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(FERAL_VERSION)|' \
		-e 's|@REQUIRES@|$(filter-out openblas lapacke,$(PKGS))|' \
		feral.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/feral.pc

clean:
	rm -rf build

-include $(shell find $(BUILD) $(if $(filter fuzz%,$(MAKECMDGOALS)),$(FUZZ_DIR)) -name '*.d' 2>/dev/null)

# ---- Python bindings (python/feral: ctypes over libferal.so) --------------------------
# `make test-python` runs tests/python with PYTHONPATH=python against
# $(BUILD)/libferal.so.  PYTHON defaults to Debian's interpreter (the one
# python3-numpy/-scipy/-sklearn/-pytest are installed for; see scripts/deps.sh).
PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
.PHONY: python test-python
python: $(BUILD)/libferal.so $(BUILD)/feral
test-python: python
	$(Q)PYTHONPATH=$(CURDIR)/python FERAL_LIBRARY=$(CURDIR)/$(BUILD)/libferal.so \
		FERAL_BUILD_DIR=$(BUILD) $(PYTHON) -m pytest -p no:cacheprovider -q tests/python

# ---- module cycles and fault injection ---------------------------------------------
# check-modules: no two objects call into each other, directly or around a ring
# (scripts/check-modules.py: Tarjan over nm's symbols), for the library + CLI and
# the library + bench.
.PHONY: check-modules check-faults
check-modules: all
	$(Q)$(PYTHON) scripts/check-modules.py $(LIB_OBJ) $(CLI_OBJ)
	$(Q)$(PYTHON) scripts/check-modules.py $(LIB_OBJ) $(CLI_HELPER_OBJ) $(BENCH_OBJ)

# check-faults (plain build only): tests/fault/sweep.sh fails every allocation
# feral's code makes, one at a time, through load/solve/train/predict/convert/gen
# (an LD_PRELOAD shim); fullfs.sh writes outputs into a nearly full tmpfs (root
# only, else skipped); stress.sh runs 50 seeded solves with random threads,
# replicas, precisions, OpenMP team limits and signals, each bounded to 10 s.
$(BUILD)/tests/libfailalloc.so: tests/fault/failalloc.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O1 -g -fPIC -shared -o $@ $< -ldl
check-faults: all $(BUILD)/tests/libfailalloc.so
	$(Q)sh tests/fault/sweep.sh $(BUILD)
	$(Q)sh tests/fault/fullfs.sh $(BUILD)
	$(Q)sh tests/fault/stress.sh $(BUILD) 50 1
