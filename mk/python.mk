# Python binding (bindings/python): pytest suite, demo client. The wheel: mk/wheel.mk.
# The project venv's interpreter (mk/deps.mk): it has pytest and hypothesis.
PYTHON ?= $(VENV_PY)
PYTEST_ARGS ?= -q

.PHONY: test-python demo-python

# pytest exit code 5 ("no tests collected") fails the target like any other non-zero code.
test-python: build $(VENV_STAMP) ## pytest suite of the Python binding
	@for r in $(TEST_RUNS); do d=$${r%:*}; w=$${r#*:}; echo "== pytest (EDDY_DRIVER=$$d EDDY_WORKERS=$$w)"; \
	    (cd bindings/python && EDDY_DRIVER=$$d EDDY_WORKERS=$$w EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) -m pytest $(PYTEST_ARGS) tests); \
	    rc=$$?; if [ $$rc -eq 5 ]; then echo "test-python: pytest collected no tests" >&2; fi; [ $$rc -eq 0 ] || exit $$rc; done

TEST_TARGETS += test-python

# The top-level demo starts the delay server and exports DEMO_PORT.
demo-python: build $(VENV_STAMP) ## Python delay client against a running delay server
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) examples/python/delay_client.py --port $(or $(DEMO_PORT),8080) -n 10

DEMO_TARGETS += demo-python
