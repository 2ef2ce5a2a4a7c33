# Python binding (bindings/python): pytest suite, demo client, package with the library beside it.
PYTHON ?= python3
PYTEST_ARGS ?= -q

.PHONY: test-python demo-python python-package

# pytest exit code 5 ("no tests collected") fails the target like any other non-zero code.
test-python: build ## pytest suite of the Python binding
	cd bindings/python && EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) -m pytest $(PYTEST_ARGS) tests; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "test-python: pytest collected no tests" >&2; fi; exit $$rc

TEST_TARGETS += test-python

# The top-level demo starts the delay server and exports DEMO_PORT.
demo-python: build ## Python delay client against a running delay server
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) examples/python/delay_client.py --port $(or $(DEMO_PORT),8080) -n 10

DEMO_TARGETS += demo-python

python-package: build ## copy libeddy.so into bindings/python/eddy/
	cp $(LIBDIR)/libeddy.so bindings/python/eddy/libeddy.so
