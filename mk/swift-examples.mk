# Swift examples (examples/swift): end-to-end test of eddy-delayserver.
# The executables are built by `make build` next to libeddy.so in $(LIBDIR).

.PHONY: test-examples
test-examples: build $(VENV_STAMP) ## end-to-end test of eddy-delayserver
	$(VENV_PY) Tests/examples/delayserver_test.py $(LIBDIR)/eddy-delayserver

TEST_TARGETS += test-examples
