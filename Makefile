# Eddy — the README's two commands: `make demo` and `make test`.
SCRATCH ?= .build
BUILD_FLAGS ?= -c release -Xswiftc -static-stdlib
LIBDIR := $(SCRATCH)/release
TEST_TARGETS := test-swift
DEMO_TARGETS :=

.PHONY: all build test demo test-swift clean
all: build

build:
	swift build $(BUILD_FLAGS) --scratch-path $(SCRATCH)

test-swift:
	swift test --scratch-path $(SCRATCH)

include $(wildcard mk/*.mk)

test: $(TEST_TARGETS)
	@echo "make test: all suites passed"

demo: build $(DEMO_TARGETS)

clean:
	rm -rf $(SCRATCH)
