# mk/reliability.mk — the reliability suites (docs/RELIABILITY.md).
#
#   make test-reliability   (part of `make test`) C fault + storm suites (own process each,
#                           timeout), the same under ASan+UBSan, the C ABI fuzzer (seed corpus
#                           replay + one random run of FUZZ_CALLS calls, strict host mode).
#   make fuzz               the fuzzer alone: FUZZ_SEED=n FUZZ_CALLS=n (default: time-based seed)
#   make check-sanitizers   Swift tests under TSan and ASan (.build-tsan, .build-asan), every C
#                           suite and the fuzzer under valgrind memcheck against a stripped libeddy.so,
#                           C suites against an ASan/TSan-built libeddy.so (mk/sanitized-lib.mk).
#   make soak               10 000 concurrent echo connections, then SOAK_MINUTES (default 10)
#                           of full echo load; RSS and fd count must stay flat.
#   make soak-ci            the same with SOAK_MINUTES=1.
# The Python parts (test_faults_py.py, test_properties.py) run inside test-python.

REL_C_SUITES := faults storms
REL_C_BINS := $(REL_C_SUITES:%=$(C_OUT)/test_%)
REL_C_ASAN_BINS := $(REL_C_SUITES:%=$(C_OUT)/asan/test_%)
FUZZ_BIN := $(C_OUT)/abi_fuzz
FUZZ_CORPUS := Tests/fuzz/corpus.txt
FUZZ_CALLS ?= 1000000
FUZZ_SEED ?=
FUZZ_TIMEOUT := timeout 900  # the fuzzer's own alarm bounds each seed to 170 s

TEST_TARGETS += test-reliability

.PHONY: test-reliability rel-c-run rel-c-suites rel-c-asan fuzz rel-fuzz-run check-sanitizers \
        san-swift-tsan san-swift-asan san-valgrind soak soak-ci soak-run

test-reliability: build ## C fault and storm suites (also under ASan), fuzzer corpus + one run
	@$(MAKE) --no-print-directory rel-c-run

rel-c-run:
	@fail=""; \
	for t in rel-c-suites rel-c-asan rel-fuzz-run; do \
	    $(MAKE) --no-print-directory $$t || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "test-reliability: FAILED:$$fail"; exit 1; fi; \
	echo "test-reliability: all reliability checks passed"

rel-c-suites: $(REL_C_BINS)
	@fail=""; \
	for d in $(TEST_DRIVERS); do for t in $(REL_C_BINS); do \
	    echo "== $$t (EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_TIMEOUT) $$t; rc=$$?; \
	    [ $$rc -eq 0 ] || { echo "!! $$t: exit $$rc$$( [ $$rc -eq 124 ] && echo ' (timeout)')"; fail="$$fail $$d/$$(basename $$t)"; }; \
	done; done; \
	if [ -n "$$fail" ]; then echo "reliability C suites FAILED:$$fail"; exit 1; fi

rel-c-asan: $(REL_C_ASAN_BINS)
	@fail=""; \
	for d in $(TEST_DRIVERS); do for t in $(REL_C_ASAN_BINS); do \
	    echo "== $$t (ASan+UBSan, EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d $(C_ASAN_ENV) LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_TIMEOUT) $$t; rc=$$?; \
	    [ $$rc -eq 0 ] || { echo "!! $$t: exit $$rc"; fail="$$fail asan/$$d/$$(basename $$t)"; }; \
	done; done; \
	if [ -n "$$fail" ]; then echo "reliability sanitizer runs FAILED:$$fail"; exit 1; fi

# ---- C ABI fuzzer ----

$(FUZZ_BIN): Tests/fuzz/abi_fuzz.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -g -O1 -pthread -Iinclude -o $@ $< -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)

fuzz: build ## the C ABI fuzzer alone (FUZZ_SEED, FUZZ_CALLS)
	@$(MAKE) --no-print-directory rel-fuzz-run

# The corpus (regression seeds) first, then one fresh seed; the seed is printed so a
# failure can be replayed with FUZZ_SEED=<seed> and added to the corpus. Strict host
# mode: a host task the model holds live must be live in the library (no leniency).
FUZZ_ENV := FUZZ_STRICT_HOST=1
# Once per driver (mk/drivers.mk), each with its own fresh seed.
rel-fuzz-run: $(FUZZ_BIN)
	@set -e; for d in $(TEST_DRIVERS); do export EDDY_DRIVER=$$d; \
	echo "== fuzz: corpus $(FUZZ_CORPUS) (strict host mode, EDDY_DRIVER=$$d)"; \
	$(FUZZ_ENV) LD_LIBRARY_PATH=$(C_LIB_ABS) $(FUZZ_TIMEOUT) $(FUZZ_BIN) --corpus $(FUZZ_CORPUS); \
	seed=$${FUZZ_SEED:-$(FUZZ_SEED)}; [ -n "$$seed" ] || seed=$$(date +%s%N | cut -c8-17); \
	echo "== fuzz: seed $$seed, $(FUZZ_CALLS) calls, strict host mode (replay: EDDY_DRIVER=$$d make fuzz FUZZ_SEED=$$seed)"; \
	$(FUZZ_ENV) LD_LIBRARY_PATH=$(C_LIB_ABS) $(FUZZ_TIMEOUT) $(FUZZ_BIN) --seed $$seed --calls $(FUZZ_CALLS); done

# ---- sanitizers ----

SAN_TSAN_SCRATCH ?= .build-tsan
SAN_ASAN_SCRATCH ?= .build-asan
VALGRIND_LIB := $(C_OUT)/vg-lib
VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --suppressions=Tests/fuzz/valgrind.supp --quiet

check-sanitizers: build ## Swift tests under TSan and ASan, C under valgrind (CI tier, slow)
	@fail=""; \
	for t in san-swift-tsan san-swift-asan san-valgrind test-sanitized-lib; do \
	    s=$$(date +%s); \
	    $(MAKE) --no-print-directory $$t || fail="$$fail $$t"; \
	    echo "check-sanitizers: $$t took $$(( $$(date +%s) - s )) s"; \
	done; \
	if [ -n "$$fail" ]; then echo "check-sanitizers: FAILED:$$fail"; exit 1; fi; \
	echo "check-sanitizers: all passed"

san-swift-tsan:
	@set -e; for d in $(TEST_DRIVERS); do echo "== swift test, TSan (EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d swift test --no-parallel --sanitize=thread --scratch-path $(SAN_TSAN_SCRATCH); done

# Tests/sanitizers/lsan.supp: XCTest's runner objects only (see the file).
san-swift-asan:
	@set -e; for d in $(TEST_DRIVERS); do echo "== swift test, ASan (EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d LSAN_OPTIONS=suppressions=$(abspath Tests/sanitizers/lsan.supp) \
	    swift test --no-parallel --sanitize=address --scratch-path $(SAN_ASAN_SCRATCH); done

# valgrind 3.19 cannot read Swift 6.3's DWARF 5 debug info: run against a stripped copy.
$(VALGRIND_LIB)/.stamp: $(LIBDIR)/libeddy.so
	@mkdir -p $(@D)
	strip --strip-debug -o $(@D)/libeddy.so $(LIBDIR)/libeddy.so
	ln -sf libeddy.so $(@D)/libeddy.so.0
	@touch $@

# Every C suite (docs/RELIABILITY.md): those of `make test-c` and the reliability ones.
# Every C suite but stale_handles: its 2^24 create/free cycles are minutes under memcheck and
# test generation arithmetic, not memory (the ASan-built library runs it: sanitized-lib.mk).
# ---- issue 16: test_process runs too (about 6 s per driver). valgrind has no pidfd_open
# (ENOSYS, and a warning per call): EDDY_TEST_NO_PIDFD=1 takes the SIGCHLD fallback
# directly. It emulates posix_spawn's CLONE_VFORK child with a fork, so an exec failure
# cannot reach the parent: under EDDY_UNDER_VALGRIND test_process checks that such a
# child ends with exit 127 instead of the spawn's -ENOENT (said on stderr). ----
VG_C_SUITES := $(filter-out stale_handles,$(C_SUITES)) $(REL_C_SUITES)
# Under memcheck a child-process case forks the whole valgrind process (posix_spawn is
# emulated, ~10 ms of fork each): FUZZ_NO_PROCESS leaves it out there (the corpus then
# takes ~1 min instead of passing its 15-minute timeout); make fuzz and the ASan runs
# keep it. FUZZ_NO_SIGNALS: no signal is sent there (valgrind queues signals itself, out of
# reach of the kernel discard the last unwatch relies on); watches are still made and freed.
VG_FUZZ_CALLS ?= 100000
san-valgrind: $(VG_C_SUITES:%=$(C_OUT)/test_%) $(FUZZ_BIN) $(VALGRIND_LIB)/.stamp
	@fail=""; \
	for d in $(TEST_DRIVERS); do export EDDY_DRIVER=$$d; \
	for s in $(VG_C_SUITES); do \
	    echo "== valgrind test_$$s (EDDY_DRIVER=$$d)"; \
	    EDDY_UNDER_VALGRIND=1 EDDY_TEST_NO_PIDFD=1 LD_LIBRARY_PATH=$(abspath $(VALGRIND_LIB)) timeout 900 $(VALGRIND) $(C_OUT)/test_$$s || fail="$$fail $$d/test_$$s"; \
	done; \
	echo "== valgrind abi_fuzz (corpus, at most $(VG_FUZZ_CALLS) calls per seed, EDDY_DRIVER=$$d)"; \
	$(FUZZ_ENV) FUZZ_NO_PROCESS=1 FUZZ_NO_SIGNALS=1 LD_LIBRARY_PATH=$(abspath $(VALGRIND_LIB)) timeout 900 $(VALGRIND) $(FUZZ_BIN) --corpus $(FUZZ_CORPUS) --calls $(VG_FUZZ_CALLS) || fail="$$fail $$d/abi_fuzz"; \
	done; \
	if [ -n "$$fail" ]; then echo "valgrind FAILED:$$fail"; exit 1; fi

# ---- load and soak ----

SOAK_MINUTES ?= 10
SOAK_CONNS ?= 10000

soak: build ## 10 000 connections, then SOAK_MINUTES (10) of echo load: flat RSS and fds
	@$(MAKE) --no-print-directory soak-run

soak-ci: build ## soak with SOAK_MINUTES=1
	@$(MAKE) --no-print-directory soak-run SOAK_MINUTES=1

soak-run: $(C_OUT)/echo_server $(C_OUT)/loadgen
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_CONNS=$(SOAK_CONNS) sh Tests/soak/soak.sh $(C_OUT)/echo_server $(C_OUT)/loadgen

$(C_OUT)/loadgen: bench/loadgen.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -o $@ $<
