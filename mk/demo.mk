# mk/demo.mk — tests of `make demo` (its runner is scripts/demo.sh).
#
#   make test-demo   (part of `make test`) Tests/examples/demo_test.py: with the demo port
#                    taken, the demo moves to a free port (showing the server's EADDRINUSE),
#                    a hung client is stopped by its timeout, a dead server fails at once;
#                    then `make demo` itself with a busy DEMO_PORT.

.PHONY: test-demo
test-demo: build $(VENV_STAMP) ## make demo's runner: busy port, hung client, dead server (scripts/demo.sh)
	SCRATCH=$(SCRATCH) $(VENV_PY) Tests/examples/demo_test.py $(LIBDIR)/eddy-delayserver --make

TEST_TARGETS += test-demo
