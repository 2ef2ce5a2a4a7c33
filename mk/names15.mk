# mk/names15.mk — issue 15 item 1 (names): the example clients report an unknown host.
#
#   make test-names-examples  the C, Python and Swift delay clients against
#                             nonexistent.invalid: non-zero exit, host and message printed

.PHONY: test-names-examples
test-names-examples: build $(VENV_STAMP) ## example clients name the host an unknown name fails for
	@$(MAKE) --no-print-directory $(C_OUT)/delay_client
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so timeout 120 $(VENV_PY) Tests/examples/names_clients_test.py \
	    $(C_OUT)/delay_client $(LIBDIR)/eddy-delay-client

TEST_TARGETS += test-names-examples
