# mk/c.mk — the C side of Eddy: C test suite, C examples, install.
# Included by the top-level Makefile, which provides SCRATCH, LIBDIR and `build`.
#
#   make test-c        build, then: every cmocka suite (one process each, `timeout 60`),
#                      the pedantic header check (C11, C99, C++), the exports check, one
#                      suite under `env -i` (nothing from the Swift toolchain), the suites
#                      again under ASan+UBSan, and test-install.
#   make examples-c    $(SCRATCH)/c/delay_client, $(SCRATCH)/c/echo_server
#   make demo-c        delay_client against the delay server the top-level demo started
#   make install       PREFIX=/usr/local (DESTDIR honoured): lib/libeddy.so.X.Y.Z + symlinks,
#                      include/eddy.h, lib/pkgconfig/eddy.pc
#   make uninstall     PREFIX=... (DESTDIR honoured): removes exactly what install put there
#   make test-install  install into a temporary PREFIX, build apps with pkg-config, check the
#                      versions agree, uninstall
#
# Debian packages: libcmocka-dev (tests), pkg-config (test-install), libffi-dev (library
# build; libffi8 at run time) come from `make deps` (mk/deps.mk); gcc/g++ (the header is
# also compiled as C++) and binutils are assumed.

PREFIX ?= /usr/local
C_OUT := $(SCRATCH)/c
# The C binaries link and run against this folder: symlinks to $(LIBDIR)/libeddy.so
# under its file name and under its soname (libeddy.so.0 once the library carries one),
# so the binaries find it whether or not SwiftPM set a soname.
C_LIB := $(C_OUT)/lib
C_LIB_ABS = $(abspath $(C_LIB))

C_WARN := -Wall -Wextra -Werror
C_TEST_CFLAGS := -std=c11 $(C_WARN) -g -O1 -pthread -Iinclude -ITests/c
C_CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
C_TEST_LIBS := -L$(C_LIB) -leddy $(C_CMOCKA_LIBS) -lm
C_TIMEOUT := timeout 60

C_SUITES := tcp timers tasks blocking misuse host fd ownership_race handle_limits stale_handles
# ---- graceful shutdown, metrics (issue 14, branch pool-14) ----
C_SUITES += shutdown metrics
# ---- issue 15 (networking) suites ----
C_SUITES += udp tcp_socket unix
# ---- names (issue 15 item 1) ----
C_SUITES += names unix_dgram
# ---- driver (io_uring) ----
C_SUITES += driver
# ---- asyncio event loop: EDDY_HOST_OP_FD (issue 17, branch loop-17) ----
C_SUITES += host_fd
# ---- channels (issue 16) ----
C_SUITES += channels sync
# ---- lines and files (issue 15 item 5, issue 16 item 5; branch lines-15) ----
C_SUITES += lines
# ---- multi-thread runtime (issue 14, branch mt-14) ----
C_SUITES += workers
# ---- time and combinators (issue 16, item 6) ----
C_SUITES += time
# ---- signals and child processes (issue 16, branch sigproc-16) ----
C_SUITES += process
# ---- broadcast and watch channels (issue 16 item 1, branch bcast-16) ----
C_SUITES += broadcast
# ---- channel and sync futures (issue 16 item 1, branch chan2-16) ----
C_SUITES += chan_futures
C_COMMON_SRC := Tests/c/harness.c Tests/c/echo_parts.c
C_COMMON_HDR := Tests/c/harness.h Tests/c/echo_parts.h include/eddy.h
# ---- dedup-dgram: the malloc counter test_udp and test_names include ----
C_COMMON_HDR += Tests/c/malloc_count.h
C_TEST_BINS := $(C_SUITES:%=$(C_OUT)/test_%)

# Sanitizers apply to the C test code only: the Swift library inside libeddy.so stays
# uninstrumented (it is a prebuilt dependency from ASan's point of view; its mallocs
# still go through ASan's allocator, so heap misuse across the boundary is caught).
C_SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
C_ASAN_BINS := $(C_SUITES:%=$(C_OUT)/asan/test_%)
# LeakSanitizer stays ON. The statically linked Swift runtime inside libeddy.so gave no
# false positives here (its caches stay reachable from globals), so any report is a real
# leak in Eddy (it found one: a buffer allocated by JobRing.release() at runtime free).
# Should a future toolchain make the Swift runtime itself report, add a suppressions file
# naming only swift_* runtime frames (LSAN_OPTIONS=suppressions=...) — not detect_leaks=0.
# The fork test's child leaves with _exit(), which skips the leak check, as it should.
C_ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

C_EXAMPLES := $(C_OUT)/delay_client $(C_OUT)/echo_server

EDDY_VERSION_MAJOR_NUM := $(shell sed -n 's/^.define EDDY_VERSION_MAJOR \([0-9]*\).*/\1/p' include/eddy.h)
EDDY_VERSION_MINOR_NUM := $(shell sed -n 's/^.define EDDY_VERSION_MINOR \([0-9]*\).*/\1/p' include/eddy.h)
EDDY_VERSION_PATCH_NUM := $(shell sed -n 's/^.define EDDY_VERSION_PATCH \([0-9]*\).*/\1/p' include/eddy.h)
EDDY_VERSION_STR := $(EDDY_VERSION_MAJOR_NUM).$(EDDY_VERSION_MINOR_NUM).$(EDDY_VERSION_PATCH_NUM)
EDDY_SONAME := libeddy.so.$(EDDY_VERSION_MAJOR_NUM)

TEST_TARGETS += test-c
DEMO_TARGETS += demo-c

.PHONY: c-examples-check c-example-check-one test-c c-tests-run c-suites c-header-check c-exports-check c-env-check c-asan \
        examples-c c-examples demo-c install uninstall test-install c-test-install c-lib

# `build` first, then a sub-make: the sub-make sees the freshly built library's timestamp.
test-c: build ## C suites, header/exports/env checks, ASan+UBSan, test-install, examples
	@$(MAKE) --no-print-directory c-tests-run

examples-c: build ## build the C examples (delay_client, echo_server)
	@$(MAKE) --no-print-directory c-examples

c-tests-run:
	@fail=""; \
	for t in c-suites c-header-check c-exports-check c-env-check c-asan c-test-install c-examples-check; do \
	    $(MAKE) --no-print-directory $$t || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "test-c: FAILED:$$fail"; exit 1; fi; \
	echo "test-c: all C checks passed"

# ---- the library as the C binaries see it ----

c-lib: $(C_LIB)/.stamp

$(C_LIB)/.stamp: $(LIBDIR)/libeddy.so
	@mkdir -p $(C_LIB)
	@ln -sf $(abspath $(LIBDIR))/libeddy.so $(C_LIB)/libeddy.so
	@soname=$$(readelf -d $(LIBDIR)/libeddy.so | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'); \
	if [ -n "$$soname" ]; then \
	    ln -sf $(abspath $(LIBDIR))/libeddy.so $(C_LIB)/$$soname; \
	    [ "$$soname" = "$(EDDY_SONAME)" ] || echo "c.mk: WARNING: libeddy.so soname is $$soname, expected $(EDDY_SONAME)"; \
	else \
	    echo "c.mk: NOTE: libeddy.so has no soname (expected $(EDDY_SONAME)); binaries record NEEDED libeddy.so"; \
	fi
	@touch $@

# ---- suites ----

$(C_OUT)/test_%: Tests/c/test_%.c $(C_COMMON_SRC) $(C_COMMON_HDR) $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) -o $@ $< $(C_COMMON_SRC) $(C_TEST_LIBS)

$(C_OUT)/asan/test_%: Tests/c/test_%.c $(C_COMMON_SRC) $(C_COMMON_HDR) $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) $(C_SAN_FLAGS) -o $@ $< $(C_COMMON_SRC) $(C_TEST_LIBS)

c-suites: $(C_TEST_BINS) ## the cmocka suites alone (after build)
	@fail=""; \
	for r in $(TEST_RUNS); do d=$${r%:*}; w=$${r#*:}; for t in $(C_TEST_BINS); do \
	    echo "== $$t (EDDY_DRIVER=$$d EDDY_WORKERS=$$w)"; \
	    EDDY_DRIVER=$$d EDDY_WORKERS=$$w LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_TIMEOUT) $$t; rc=$$?; \
	    [ $$rc -eq 0 ] || { echo "!! $$t: exit $$rc$$( [ $$rc -eq 124 ] && echo ' (timeout)')"; fail="$$fail $$d:$$w/$$(basename $$t)"; }; \
	done; done; \
	if [ -n "$$fail" ]; then echo "C suites FAILED:$$fail"; exit 1; fi

# ---- header: pedantic C11 and C99, C++, every declared function named and linked ----

$(C_OUT)/header_check: Tests/c/header_check.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -pedantic -Iinclude -o $@ $< -L$(C_LIB) -leddy
	$(CC) -std=c99 $(C_WARN) -pedantic -Iinclude -fsyntax-only $<
	$(CXX) -std=c++11 $(C_WARN) -pedantic -Iinclude -fsyntax-only Tests/c/header_check_cxx.cpp

c-header-check: $(C_OUT)/header_check ## eddy.h compiles as pedantic C11, C99 and C++ (after build)
	@missing=""; \
	for f in $$(sed -n 's/^[a-z].*[ *]\(eddy_[a-z_0-9]*\)(.*/\1/p' include/eddy.h); do \
	    grep -q "ENTRY($$f)" Tests/c/header_check.c || missing="$$missing $$f"; \
	done; \
	if [ -n "$$missing" ]; then echo "header_check.c does not cover:$$missing"; exit 1; fi
	LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_TIMEOUT) $(C_OUT)/header_check

c-exports-check: $(C_LIB)/.stamp ## libeddy.so exports exactly what eddy.h declares (after build)
	sh Tests/c/check_exports.sh $(LIBDIR)/libeddy.so include/eddy.h

# ---- self-contained: nothing from the Swift toolchain ----
# env -i: no PATH, no toolchain LD_LIBRARY_PATH; ldd must resolve nothing from the
# toolchain. Then, where mount namespaces are allowed (root, not in a restricted
# container), the toolchain's lib folder is hidden under an empty tmpfs and the suite
# runs again (a RUNPATH into the toolchain would otherwise make it only *look* fine).
SWIFT_TOOLCHAIN_LIB := $(abspath $(dir $(shell command -v swift 2>/dev/null))../lib)

c-env-check: $(C_OUT)/test_timers ## libeddy.so needs nothing from the Swift toolchain (env -i, hidden toolchain)
	@deps=$$(env -i LD_LIBRARY_PATH=$(C_LIB_ABS) /usr/bin/ldd $(C_LIB)/libeddy.so); echo "$$deps"; \
	if echo "$$deps" | grep -q -e 'not found' -e '$(SWIFT_TOOLCHAIN_LIB)' -e 'libswift'; then \
	    echo "libeddy.so depends on the Swift toolchain or on a missing library"; exit 1; fi
	$(C_TIMEOUT) env -i LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_OUT)/test_timers
	@if [ -d "$(SWIFT_TOOLCHAIN_LIB)" ] && unshare -m true 2>/dev/null; then \
	    echo "== toolchain hidden: $(SWIFT_TOOLCHAIN_LIB) under an empty tmpfs"; \
	    $(C_TIMEOUT) unshare -m sh -c 'mount -t tmpfs none "$(SWIFT_TOOLCHAIN_LIB)" && \
	        exec env -i LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_OUT)/test_timers'; \
	else echo "c-env-check: mount namespace not available, toolchain-hiding run skipped"; fi

# ---- sanitizers ----

c-asan: $(C_ASAN_BINS) ## the cmocka suites under ASan+UBSan (after build)
	@fail=""; \
	for r in $(TEST_RUNS); do d=$${r%:*}; w=$${r#*:}; for t in $(C_ASAN_BINS); do \
	    echo "== $$t (ASan+UBSan, EDDY_DRIVER=$$d EDDY_WORKERS=$$w)"; \
	    EDDY_DRIVER=$$d EDDY_WORKERS=$$w $(C_ASAN_ENV) LD_LIBRARY_PATH=$(C_LIB_ABS) $(C_TIMEOUT) $$t; rc=$$?; \
	    [ $$rc -eq 0 ] || { echo "!! $$t: exit $$rc"; fail="$$fail asan/$$d:$$w/$$(basename $$t)"; }; \
	done; done; \
	if [ -n "$$fail" ]; then echo "sanitizer runs FAILED:$$fail"; exit 1; fi

# ---- examples ----

$(C_OUT)/delay_client: examples/c/delay_client.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -O2 -Iinclude -o $@ $< -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)

$(C_OUT)/echo_server: examples/c/echo_server.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -O2 -pthread -Iinclude -o $@ $< -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)

c-examples: $(C_EXAMPLES)

$(C_OUT)/echo_smoke: Tests/c/echo_smoke.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -O2 -o $@ $<

# Examples, end to end: echo_server echoes (echo_smoke verifies every byte) and exits 0 on
# SIGTERM with connections still open; delay_client runs against eddy-delayserver (from
# `make build`) and finishes in about the longest delay.
c-examples-check: $(C_EXAMPLES) $(C_OUT)/echo_smoke
	@for d in $(TEST_DRIVERS); do echo "== echo_server SIGTERM check (EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d $(MAKE) --no-print-directory c-example-check-one || exit 1; done
	@# ---- multi-thread runtime (issue 14, branch mt-14): the same with one listener per worker ----
	@echo "== echo_server --workers 2 SIGTERM check"; \
	$(MAKE) --no-print-directory c-example-check-one ECHO_SERVER_ARGS="--workers 2" || exit 1

c-example-check-one:
	@out=$$(mktemp); \
	$(C_OUT)/echo_server --port 0 $(ECHO_SERVER_ARGS) > $$out 2>&1 & pid=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do grep -q '^listening' $$out && break; sleep 0.25; done; \
	port=$$(sed -n 's/^listening on .*:\([0-9]*\)$$/\1/p' $$out); \
	$(C_TIMEOUT) $(C_OUT)/echo_smoke $$port; rc=$$?; \
	kill -TERM $$pid; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 $$pid 2>/dev/null || break; sleep 0.25; done; \
	if kill -0 $$pid 2>/dev/null; then echo "echo_server ignored SIGTERM"; kill -9 $$pid; rc=1; fi; \
	wait $$pid; src=$$?; cat $$out; rm -f $$out; \
	[ $$src -eq 0 ] || { echo "echo_server exit status $$src after SIGTERM"; rc=1; }; \
	[ $$rc -eq 0 ] || exit 1
	@out=$$(mktemp); \
	$(LIBDIR)/eddy-delayserver --port 0 > $$out 2>&1 & pid=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do grep -q '^listening' $$out && break; sleep 0.25; done; \
	port=$$(sed -n 's/^listening on .*:\([0-9]*\)$$/\1/p' $$out); \
	$(C_TIMEOUT) $(C_OUT)/delay_client --port $$port -n 10; rc=$$?; \
	kill -TERM $$pid; wait $$pid; rm -f $$out; [ $$rc -eq 0 ]

# The top-level demo exports DEMO_PORT and starts eddy-delayserver before DEMO_TARGETS run.
demo-c: examples-c ## C delay client against a running delay server
	@echo "== C delay client: 10 concurrent requests, delays 100..1000 ms"
	$(SCRATCH)/c/delay_client --port $(DEMO_PORT) -n 10

# ---- install ----
# Installed files: lib/libeddy.so.MAJOR.MINOR.PATCH, lib/libeddy.so.MAJOR -> it (the soname,
# what programs record), lib/libeddy.so -> libeddy.so.MAJOR (what -leddy finds),
# include/eddy.h, lib/pkgconfig/eddy.pc. uninstall removes exactly those, and each only when
# it is this version's (another version installed over it stays); folders stay (automake
# does the same: they may be shared).

EDDY_INSTALL_LIB = $(DESTDIR)$(PREFIX)/lib
EDDY_INSTALL_INC = $(DESTDIR)$(PREFIX)/include

install: ## install lib, header, eddy.pc under PREFIX (default /usr/local; DESTDIR honoured)
	@test -f $(LIBDIR)/libeddy.so || { echo "install: $(LIBDIR)/libeddy.so missing: run 'make build' first" >&2; exit 1; }
	install -d "$(EDDY_INSTALL_LIB)/pkgconfig" "$(EDDY_INSTALL_INC)"
	install -m 0755 $(LIBDIR)/libeddy.so "$(EDDY_INSTALL_LIB)/libeddy.so.$(EDDY_VERSION_STR)"
	ln -sf libeddy.so.$(EDDY_VERSION_STR) "$(EDDY_INSTALL_LIB)/$(EDDY_SONAME)"
	ln -sf $(EDDY_SONAME) "$(EDDY_INSTALL_LIB)/libeddy.so"
	install -m 0644 include/eddy.h "$(EDDY_INSTALL_INC)/eddy.h"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(EDDY_VERSION_STR)|g' eddy.pc.in \
	    > "$(EDDY_INSTALL_LIB)/pkgconfig/eddy.pc"
	@soname=$$(readelf -d $(LIBDIR)/libeddy.so | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'); \
	[ "$$soname" = "$(EDDY_SONAME)" ] || echo "install: NOTE: libeddy.so soname is '$$soname', expected $(EDDY_SONAME) (programs will record NEEDED libeddy.so)"

uninstall: ## remove exactly what install put under PREFIX
	@lib="$(EDDY_INSTALL_LIB)"; inc="$(EDDY_INSTALL_INC)"; \
	rm -fv "$$lib/libeddy.so.$(EDDY_VERSION_STR)"; \
	[ "$$(readlink "$$lib/$(EDDY_SONAME)")" = libeddy.so.$(EDDY_VERSION_STR) ] && rm -fv "$$lib/$(EDDY_SONAME)"; \
	[ "$$(readlink "$$lib/libeddy.so")" = $(EDDY_SONAME) ] && [ ! -e "$$lib/$(EDDY_SONAME)" ] && rm -fv "$$lib/libeddy.so"; \
	grep -qx 'Version: $(EDDY_VERSION_STR)' "$$lib/pkgconfig/eddy.pc" 2>/dev/null && rm -fv "$$lib/pkgconfig/eddy.pc"; \
	[ "$$(sed -n 's/^.define EDDY_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$$inc/eddy.h" 2>/dev/null | paste -sd.)" \
	    = $(EDDY_VERSION_STR) ] && rm -fv "$$inc/eddy.h"; \
	true

test-install: build ## install into a temporary PREFIX, build and run an app with pkg-config, uninstall
	@$(MAKE) --no-print-directory c-test-install

# Tests/c/test_install.sh: install, the README's two ways to build and run a program
# (pkg-config + LD_LIBRARY_PATH, and an rpath), every version number in agreement,
# uninstall leaves the prefix as it found it.
c-test-install:
	@MAKE="$(MAKE)" CC="$(CC)" sh Tests/c/test_install.sh $(EDDY_VERSION_STR) $(EDDY_SONAME)
