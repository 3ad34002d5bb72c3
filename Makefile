# feral: non-recursive build.
#   make                     build/feral build/bench build/libferal.a build/libferal.so
#   make test                build and run every test (Criterion + CLI)
#   make bench               build/bench
#   make install PREFIX=/usr/local
#   make test SANITIZER=address|undefined|thread   (objects under build/<sanitizer>)
#   make test RACES=atomic SANITIZER=thread        relaxed atomics for the Hogwild! races
#   make fuzz                libFuzzer targets (clang) under build/fuzz
#   V=1 shows the commands; OPENMP=0 builds without OpenMP.

BUILD ?= build
ifneq ($(SANITIZER),)
BUILD := $(BUILD)/$(SANITIZER)$(if $(RACES),-$(RACES))
else ifneq ($(RACES),)
BUILD := $(BUILD)/races-$(RACES)
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
DEFS += -DFERAL_HAVE_LAPACKE
PKGS += lapacke openblas
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
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
CFLAGS_ALL = $(BASE_CFLAGS) $(DEFS) -DFERAL_GIT_REV='"$(GIT_REV)"' $(CFLAGS)
# ISA flags live only on kernels/*_<isa>.c (DESIGN.md section 4)
ISA_avx2 := -mavx2 -mfma -mf16c
ISA_avx512 := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni

# ---- sources -------------------------------------------------------------------
LIB_SRC := $(wildcard src/*.c) $(wildcard kernels/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
BENCH_SRC := $(wildcard bench/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
CLI_HELPERS := $(filter-out src/cli/main.c,$(CLI_SRC))
CLI_HELPER_OBJ := $(CLI_HELPERS:%.c=$(BUILD)/obj/%.o)

.PHONY: all test bench install clean fuzz check-deps
all: $(BUILD)/feral $(BUILD)/bench $(BUILD)/libferal.a $(BUILD)/libferal.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(ISA_$(lastword $(subst _, ,$(basename $(notdir $<))))) -c $< -o $@

$(BUILD)/libferal.a: $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libferal.so: $(LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -o $@ $^ $(LIBS)

$(BUILD)/feral: $(CLI_OBJ) $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libferal.a $(LIBS)

$(BUILD)/bench: $(BENCH_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(BENCH_OBJ) $(CLI_HELPER_OBJ) $(BUILD)/libferal.a $(LIBS)

bench: $(BUILD)/bench

# Each tests/test_<module>.c is its own Criterion binary.
$(BUILD)/tests/%: tests/%.c $(BUILD)/libferal.a $(CLI_HELPER_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -DFERAL_BUILD_DIR='"$(BUILD)"' -o $@ $< $(CLI_HELPER_OBJ) \
		$(BUILD)/libferal.a $(LIBS) $(shell $(PKG_CONFIG) --libs criterion)

test: all $(TEST_BIN)
ifneq ($(HAVE_CRITERION),yes)
	$(error Criterion not found: run scripts/deps.sh)
endif
	$(Q)FERAL_BUILD_DIR=$(BUILD) sh scripts/run-tests.sh $(TEST_BIN)

# ---- fuzzing (clang + libFuzzer) -------------------------------------------------
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_SRC := $(filter-out kernels/%_avx2.c kernels/%_avx512.c,$(LIB_SRC))
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc -Ikernels \
		$(filter-out -fopenmp,$(DEFS)) -DFERAL_NO_SIMD -o $@ $< $(FUZZ_LIB_SRC) \
		$(filter-out -fopenmp,$(LIBS))
fuzz: $(FUZZ_BIN)

# ---- install -------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/feral $(BUILD)/bench $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libferal.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libferal.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/feral.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define FERAL_VERSION "\(.*\)"/\1/p' include/feral.h)|' \
		-e 's|@REQUIRES@|$(filter-out openblas lapacke,$(PKGS))|' \
		feral.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/feral.pc

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
