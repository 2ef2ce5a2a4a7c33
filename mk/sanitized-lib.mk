# mk/sanitized-lib.mk — the C suites against a sanitizer-instrumented libeddy.so itself
# (test-c's c-asan instruments only the test code; here the Swift library is instrumented too).
#
#   make test-sanitized-lib   both of:
#   make sanlib-asan          libeddy.so built with Swift's AddressSanitizer (+ UBSan for the C shim);
#                             every C suite of mk/c.mk and mk/reliability.mk (faults, storms)
#                             compiled with -fsanitize=address,undefined, run against it.
#   make sanlib-tsan          libeddy.so built with ThreadSanitizer; the cross-thread suites
#                             (storms, ownership_race, blocking, tasks, misuse: HandleTable, the
#                             spawn gate, the inbox, the pool's workers, any-thread calls)
#                             compiled with -fsanitize=thread, run against it.
# Part of `make check-sanitizers` (the CI tier), not of `make test`: each library is a full
# release build of the Swift sources in its own scratch folder (SANLIB_*_SCRATCH). Wall time
# on the 2-core machine: ~2 min from scratch (two library builds, ~25-60 s each), ~40 s when the
# libraries are up to date; fast enough to join `make test` if wanted.
#
# Recipe (what works with the dynamic product and -static-stdlib, Swift 6.3):
#   swift build -c release --sanitize=address -Xswiftc -static-stdlib --product eddy
#       --scratch-path .build-asan-lib
#   (swiftc has no -sanitize=undefined: `-Xcc -fsanitize=undefined` instruments the C shim.)
#   The instrumented libeddy.so does NOT link a sanitizer runtime: it leaves __asan_* /
#   __tsan_* undefined (no NEEDED entry, nothing to LD_PRELOAD). The executable provides it:
#   link the C test with -fsanitize=... using the Swift toolchain's own clang
#   (SANLIB_CC), so the runtime is the same compiler-rt version the Swift code was
#   instrumented for (gcc's libasan/libtsan have their own ABI version checks). Run with
#   LD_LIBRARY_PATH at a folder holding the library under libeddy.so and its soname.
#   -fuse-ld=lld: gold warns about every local asan symbol it cannot export.
#   TSan: the toolchain's TSan runtime intercepts libdispatch, so the test also links the
#   toolchain's libdispatch and BlocksRuntime (rpath into the toolchain: a test-only binary).
#   The statically linked Swift runtime inside the library is not instrumented (a prebuilt
#   archive): TSan cannot see its internal synchronisation, e.g. Synchronization.Mutex's
#   contended path (so the inbox and the runtime registry lock pthread mutexes, PosixMutex,
#   which TSan intercepts, and the handle table marks its critical sections with an
#   acquire/release atomic, see HandleTable.order). sanlib-tsan keeps to the suites that exercise Eddy's own cross-thread code,
#   and any report there fails the run.

SANLIB_ASAN_SCRATCH ?= .build-asan-lib
SANLIB_TSAN_SCRATCH ?= .build-tsan-lib
SANLIB_CC ?= $(abspath $(dir $(shell command -v swift 2>/dev/null)))/clang
SANLIB_SWIFT_FLAGS := -c release -Xswiftc -static-stdlib -Xlinker -soname=libeddy.so.0 --product eddy
SANLIB_CFLAGS := -std=c11 $(C_WARN) -g -O1 -pthread -Iinclude -ITests/c -fno-omit-frame-pointer -fuse-ld=lld
# The toolchain's TSan runtime carries libdispatch interceptors: it links only with
# libdispatch and BlocksRuntime, taken from the toolchain (found through an rpath).
SANLIB_SWIFT_LINUX := $(abspath $(dir $(shell command -v swift 2>/dev/null))../lib/swift/linux)
SANLIB_TSAN_LIBS := -L$(SANLIB_SWIFT_LINUX) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SANLIB_SWIFT_LINUX)
SANLIB_ASAN_OUT := $(C_OUT)/asan-lib
SANLIB_TSAN_OUT := $(C_OUT)/tsan-lib
SANLIB_ASAN_SUITES = $(C_SUITES) $(REL_C_SUITES)
# The suites where several threads meet in the library (shutdown from another thread, channels
# and sync primitives sent to from pthreads included). Not the single-threaded ones: nothing
# for TSan to see, and the timer suites' deadline-order checks (test_timers.c's 2 ms window
# between a test's own clock stamp and eddy_sleep's) fail when TSan's slowdown meets a loaded
# machine (seen once in five runs); they run in the ASan tier.
SANLIB_TSAN_SUITES := storms ownership_race blocking tasks misuse shutdown channels sync
# ---- multi-thread runtime (issue 14, branch mt-14): handles used by several workers' threads ----
SANLIB_TSAN_SUITES += workers
SANLIB_TIMEOUT := timeout 300
# halt_on_error: the first report fails the suite. Leak checking as in c-asan.
SANLIB_ASAN_ENV := $(C_ASAN_ENV)
SANLIB_TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: test-sanitized-lib sanlib-asan sanlib-tsan sanlib-asan-build sanlib-tsan-build

test-sanitized-lib: ## C suites against ASan- and TSan-built libeddy.so (CI tier, ~1-2 min)
	@fail=""; \
	for t in sanlib-asan sanlib-tsan; do \
	    s=$$(date +%s); \
	    $(MAKE) --no-print-directory $$t || fail="$$fail $$t"; \
	    echo "test-sanitized-lib: $$t took $$(( $$(date +%s) - s )) s"; \
	done; \
	if [ -n "$$fail" ]; then echo "test-sanitized-lib: FAILED:$$fail"; exit 1; fi

# Always run swift build (it is incremental); the lib folder links to its output.
sanlib-asan-build:
	swift build $(SANLIB_SWIFT_FLAGS) --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=all --scratch-path $(SANLIB_ASAN_SCRATCH)
	@mkdir -p $(SANLIB_ASAN_OUT)/lib
	@ln -sf $(abspath $(SANLIB_ASAN_SCRATCH))/release/libeddy.so $(SANLIB_ASAN_OUT)/lib/libeddy.so
	@ln -sf $(abspath $(SANLIB_ASAN_SCRATCH))/release/libeddy.so $(SANLIB_ASAN_OUT)/lib/libeddy.so.0

sanlib-tsan-build: ## the TSan-built libeddy.so alone (what sanlib-tsan runs against)
	swift build $(SANLIB_SWIFT_FLAGS) --sanitize=thread --scratch-path $(SANLIB_TSAN_SCRATCH)
	@mkdir -p $(SANLIB_TSAN_OUT)/lib
	@ln -sf $(abspath $(SANLIB_TSAN_SCRATCH))/release/libeddy.so $(SANLIB_TSAN_OUT)/lib/libeddy.so
	@ln -sf $(abspath $(SANLIB_TSAN_SCRATCH))/release/libeddy.so $(SANLIB_TSAN_OUT)/lib/libeddy.so.0

$(SANLIB_ASAN_OUT)/test_%: Tests/c/test_%.c $(C_COMMON_SRC) $(C_COMMON_HDR)
	@mkdir -p $(@D)
	$(SANLIB_CC) $(SANLIB_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all -o $@ $< $(C_COMMON_SRC) \
	    -L$(SANLIB_ASAN_OUT)/lib -leddy $(C_CMOCKA_LIBS) -lm

$(SANLIB_TSAN_OUT)/test_%: Tests/c/test_%.c $(C_COMMON_SRC) $(C_COMMON_HDR)
	@mkdir -p $(@D)
	$(SANLIB_CC) $(SANLIB_CFLAGS) -fsanitize=thread -o $@ $< $(C_COMMON_SRC) \
	    -L$(SANLIB_TSAN_OUT)/lib -leddy $(C_CMOCKA_LIBS) -lm $(SANLIB_TSAN_LIBS)

sanlib-asan: sanlib-asan-build ## every C suite against an ASan(+UBSan)-built libeddy.so
	@$(MAKE) --no-print-directory $(SANLIB_ASAN_SUITES:%=$(SANLIB_ASAN_OUT)/test_%)
	@fail=""; \
	for s in $(SANLIB_ASAN_SUITES); do \
	    echo "== test_$$s (ASan+UBSan libeddy)"; \
	    $(SANLIB_ASAN_ENV) LD_LIBRARY_PATH=$(abspath $(SANLIB_ASAN_OUT))/lib $(SANLIB_TIMEOUT) $(SANLIB_ASAN_OUT)/test_$$s \
	        || fail="$$fail test_$$s"; \
	done; \
	if [ -n "$$fail" ]; then echo "sanlib-asan FAILED:$$fail"; exit 1; fi

sanlib-tsan: sanlib-tsan-build ## cross-thread C suites against a TSan-built libeddy.so
	@$(MAKE) --no-print-directory $(SANLIB_TSAN_SUITES:%=$(SANLIB_TSAN_OUT)/test_%)
	@fail=""; \
	for s in $(SANLIB_TSAN_SUITES); do \
	    echo "== test_$$s (TSan libeddy)"; \
	    $(SANLIB_TSAN_ENV) LD_LIBRARY_PATH=$(abspath $(SANLIB_TSAN_OUT))/lib $(SANLIB_TIMEOUT) $(SANLIB_TSAN_OUT)/test_$$s \
	        || fail="$$fail test_$$s"; \
	done; \
	if [ -n "$$fail" ]; then echo "sanlib-tsan FAILED:$$fail"; exit 1; fi
