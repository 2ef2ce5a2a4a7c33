# Eddy — the README's two commands: `make demo` and `make test`.
#
#   make demo   build in release, start eddy-delayserver, run the Swift, C and Python
#               delay clients against it (10 concurrent requests of 100..1000 ms each),
#               stop the server.
#   make test   build and run every suite: Swift, C, Python, examples, docs.
#   make help   every target, one line each.
#
# Convention: a target meant to be run by hand carries its one-line description after `## `
# on its rule line, in this Makefile and in mk/*.mk (`name: prerequisites ## what it does`);
# `make help` prints those lines, grouped by file. Internal steps carry no `## `.
SCRATCH ?= .build
# Release build of everything; -static-stdlib makes libeddy.so self-contained.
BUILD_FLAGS ?= -c release -Xswiftc -static-stdlib -Xlinker -soname=libeddy.so.0
LIBDIR := $(SCRATCH)/release
DEMO_PORT ?= 18080
export DEMO_PORT
TEST_TARGETS := test-swift
DEMO_TARGETS :=

.PHONY: all build test demo demo-swift test-swift test-swift-unit check-warnings clean help
all: build ## default goal: same as build

help: ## list the targets, one line each
	@awk 'FNR == 1 { file = FILENAME } \
	     /^[a-zA-Z0-9_.-]+:.*## / { if (file) { printf "%s\n", file; file = "" } \
	         name = $$0; sub(/:.*/, "", name); text = $$0; sub(/.*## /, "", text); \
	         printf "  %-18s %s\n", name, text }' $(MAKEFILE_LIST)

build: ## release build: libeddy.so, the Swift module, the example executables
	swift build $(BUILD_FLAGS) --scratch-path $(SCRATCH)

# Swift Testing suites (serial: some tests count this process's descriptors).
# Once per driver and flavour (mk/workers.mk: TEST_RUNS); the later runs reuse the build.
test-swift-unit: ## Swift Testing suites (swift test, serial), once per driver and flavour
	@set -e; for r in $(TEST_RUNS); do d=$${r%:*}; w=$${r#*:}; echo "== swift test (EDDY_DRIVER=$$d EDDY_WORKERS=$$w)"; \
	    EDDY_DRIVER=$$d EDDY_WORKERS=$$w swift test --no-parallel --scratch-path $(SCRATCH); done

# The release build must be free of warnings in Swift 6 language mode. A clean build in
# its own scratch path (an incremental one recompiles, and so shows, nothing); a build
# that fails fails the check (no pipe hides its status).
WARN_SCRATCH ?= $(SCRATCH)-warnings
check-warnings: ## a clean release build has no warnings (own scratch path)
	@rm -rf $(WARN_SCRATCH); mkdir -p $(SCRATCH); \
	swift build $(BUILD_FLAGS) --scratch-path $(WARN_SCRATCH) > $(SCRATCH)/check-warnings.log 2>&1; rc=$$?; \
	cat $(SCRATCH)/check-warnings.log; \
	if [ $$rc -ne 0 ]; then echo "check-warnings: the clean release build failed (exit $$rc)" >&2; exit 1; fi; \
	if grep -E "warning:" $(SCRATCH)/check-warnings.log | grep -v "Package.resolved"; then \
		echo "check-warnings: the release build has warnings (above)" >&2; exit 1; fi; \
	rm -rf $(WARN_SCRATCH); echo "check-warnings: clean release build, no warnings"

test-swift: test-swift-unit check-warnings ## test-swift-unit + check-warnings

include $(wildcard mk/*.mk)

test: deps $(TEST_TARGETS) ## every suite (the README's second command): TEST_TARGETS
	@echo "make test: all suites passed ($(TEST_TARGETS))"

demo-swift: build ## Swift delay client against a running delay server
	$(LIBDIR)/eddy-delay-client --port $(DEMO_PORT) -n 10

# Start the server, run every front door's client, always stop the server
# (scripts/demo.sh: waits for the server's ready line, moves to a free port when
# DEMO_PORT is busy, bounds each client with `timeout`).
demo: deps build ## the README's first command: delay server + Swift, C, Python clients
	@MAKE="$(MAKE)" sh scripts/demo.sh $(LIBDIR)/eddy-delayserver $(DEMO_PORT) demo-swift $(DEMO_TARGETS)

clean: ## remove the build folder (SCRATCH)
	rm -rf $(SCRATCH)
