# neoscreen — plain GNU make.  `make`, `make test`, `make check` (sanitizers), `make fuzz`
# (libFuzzer targets, clang), `make valgrind` (the example night under memcheck), `make bench`,
# `make bench-parse` (cell parsing micro-benchmark).
#
# kernels/  -> libnskernels.a   (pure compute; unit tests link it without the CLI)
# pipeline/ -> libnspipe.a      (everything but main.c)
# neoscreen =  pipeline/main.o + libnspipe.a + libnskernels.a

PKGS     := hdf5-serial gsl yaml-0.1 zlib libdeflate libisal sqlite3   # never plain "hdf5": BUILD-NOTES G1
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -pedantic
CFLAGS   += -DNS_SRCDIR=\"$(CURDIR)\" -fopenmp $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LDFLAGS  += -fopenmp
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lm
TEST_LIBS = $(shell pkg-config --libs cmocka)

ifeq ($(asan),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
endif

KERNEL_SRCS := $(wildcard kernels/*.c)
PIPE_SRCS   := $(filter-out pipeline/main.c,$(wildcard pipeline/*.c))
KERNEL_OBJS := $(KERNEL_SRCS:.c=.o)
PIPE_OBJS   := $(PIPE_SRCS:.c=.o)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:.c=)
# libFuzzer targets (tests/fuzz/fuzz_<name>.c); `make test` replays their regression files
# and seed corpora through tests/fuzz/replay_<name> (built with $(CC), no libFuzzer)
FUZZ_NAMES  := plate manifest hearing panel_yaml qc_yaml hearing_yaml genes_yaml xlsx
REPLAY_BINS := $(FUZZ_NAMES:%=tests/fuzz/replay_%)
FUZZ_BINS   := $(FUZZ_NAMES:%=tests/fuzz/fuzz_%)

all: neoscreen

pipeline/version.h: FORCE
	@scripts/gen-version.sh "$(CC)" "$(CFLAGS)" > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

# every pipeline object waits for version.h (a clean `make -j` must not race it)
$(PIPE_OBJS) pipeline/main.o: | pipeline/version.h
pipeline/main.o pipeline/cmd_version.o pipeline/cmd_run.o pipeline/write_hdf5.o pipeline/rescore_plan.o: pipeline/version.h

# the kernels never enable FP traps, and without -ftrapping-math GCC can turn their
# comparisons into vector selects (same results)
$(KERNEL_OBJS): CFLAGS += -fno-trapping-math

libnskernels.a: $(KERNEL_OBJS)
	$(AR) rcs $@ $^

libnspipe.a: $(PIPE_OBJS)
	$(AR) rcs $@ $^

neoscreen: pipeline/main.o libnspipe.a libnskernels.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.c libnspipe.a libnskernels.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< libnspipe.a libnskernels.a $(LDLIBS) $(TEST_LIBS)

# libxlsxwriter, which wrote the XLSX lists before table_xlsx.c, stays as that writer's
# oracle in this one test (not linked into neoscreen)
tests/unit/test_xlsx_oracle: CFLAGS += $(shell pkg-config --cflags xlsxwriter)
tests/unit/test_xlsx_oracle: LDLIBS += $(shell pkg-config --libs xlsxwriter)

# micro-benchmarks: built from tests/unit/bench_*.c, never run by `make test`
tests/unit/bench_%: tests/unit/bench_%.c libnspipe.a libnskernels.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< libnspipe.a libnskernels.a $(LDLIBS)

tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz_common.h libnspipe.a libnskernels.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c libnspipe.a libnskernels.a $(LDLIBS)

# `make fuzz`: the libFuzzer targets, built with clang (Debian's clang 14 with
# libclang-rt-14-dev for the fuzzer runtime, libomp-dev for OpenMP) into tests/fuzz/build/,
# apart from the gcc objects.  Run them with scripts/fuzz.sh [SECONDS].
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DNS_SRCDIR=\"$(CURDIR)\" \
               -fopenmp -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined -Wno-pass-failed -MMD -MP $(shell pkg-config --cflags $(PKGS))
FUZZ_OBJS   := $(patsubst %.c,tests/fuzz/build/%.o,$(KERNEL_SRCS) $(PIPE_SRCS))

tests/fuzz/build/%.o: %.c | pipeline/version.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
tests/fuzz/build/kernels/%.o: FUZZ_CFLAGS += -fno-trapping-math

tests/fuzz/build/libfuzzpipe.a: $(FUZZ_OBJS)
	$(AR) rcs $@ $^

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h tests/fuzz/build/libfuzzpipe.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/build/libfuzzpipe.a $(LDLIBS)

fuzz: $(FUZZ_BINS)

test: neoscreen $(UNIT_BINS) $(REPLAY_BINS)
	@tests/run.sh

# sanitizer build in a separate tree-less pass: clean objects, rebuild with asan=1, test
check:
	$(MAKE) clean-gcc && $(MAKE) asan=1 test; r=$$?; $(MAKE) clean-gcc >/dev/null; exit $$r

# the example night end to end under valgrind memcheck (about 10 s): any memory error or a
# definite/indirect/possible leak fails it; tests/valgrind.supp holds libgomp's thread pool
VALGRIND ?= valgrind
valgrind: neoscreen
	@rm -rf tests/tmp/valgrind && mkdir -p tests/tmp
	$(VALGRIND) -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
	    --suppressions=tests/valgrind.supp --error-exitcode=99 \
	    ./neoscreen run reference-data/example-night -o tests/tmp/valgrind; \
	r=$$?; rm -rf tests/tmp/valgrind; \
	if [ $$r -eq 99 ]; then echo "make valgrind: memcheck found errors (above)"; exit 1; fi; \
	if [ $$r -ne 0 ]; then echo "make valgrind: neoscreen run exited $$r"; exit 1; fi; \
	echo "make valgrind: clean"

tests/bench/bench_kernels: tests/bench/bench_kernels.c libnspipe.a libnskernels.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< libnspipe.a libnskernels.a $(LDLIBS)

# the naive CSV parser of BUILD-NOTES §6 (memchr + strtod), this machine's yardstick
tests/bench/bench_naive: tests/bench/bench_naive.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: neoscreen tests/bench/bench_kernels tests/bench/bench_naive
	@scripts/bench.sh
	@scripts/bench_scores.sh

bench-scores: neoscreen
	@scripts/bench_scores.sh

# strtod against ns_parse_decimal on ~50 million plate-like cells: ns/cell and MiB/s
bench-parse: tests/unit/bench_numparse
	tests/unit/bench_numparse

# clean-gcc: what $(CC) built (make check swaps it for a sanitizer build); clean: also the
# clang fuzz build, which make check leaves alone (a fuzzer may be running from it)
clean-gcc:
	rm -f neoscreen *.a kernels/*.o pipeline/*.o kernels/*.d pipeline/*.d tests/unit/*.d \
	      $(UNIT_BINS) tests/unit/bench_numparse pipeline/version.h tests/bench/bench_kernels tests/bench/bench_naive \
	      $(REPLAY_BINS) tests/fuzz/*.d
	rm -rf tests/tmp

clean: clean-gcc
	rm -f $(FUZZ_BINS)
	rm -rf tests/fuzz/build

PREFIX ?= /usr/local
install: neoscreen
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/neoscreen/configs
	install -m 755 neoscreen $(DESTDIR)$(PREFIX)/bin/
	install -m 644 configs/*.yaml $(DESTDIR)$(PREFIX)/share/neoscreen/configs/

.PHONY: all test check fuzz valgrind clean-gcc bench bench-scores bench-parse clean install FORCE
-include $(wildcard kernels/*.d pipeline/*.d tests/unit/*.d tests/fuzz/*.d tests/fuzz/build/*/*.d)
