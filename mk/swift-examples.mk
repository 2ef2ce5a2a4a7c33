# Swift examples (examples/swift): end-to-end test of eddy-delayserver.
# The executables are built by `make build` next to libeddy.so in $(LIBDIR).

.PHONY: test-examples
test-examples: build $(VENV_STAMP) ## end-to-end test of eddy-delayserver
	@for d in $(TEST_DRIVERS); do echo "== delayserver_test (EDDY_DRIVER=$$d)"; \
	    EDDY_DRIVER=$$d $(VENV_PY) Tests/examples/delayserver_test.py $(LIBDIR)/eddy-delayserver || exit 1; done

TEST_TARGETS += test-examples
