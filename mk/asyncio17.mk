# ---- asyncio event loop (issue 17, branch loop-17) ----
.PHONY: test-asyncio test-asyncio-ci test-asyncio-libs

# CPython's own asyncio tests (test_events, test_sock_lowlevel, test_streams, test_server,
# test_sendfile, test_subprocess (threaded child watcher), test_locks, test_queues,
# test_timeouts, test_taskgroups, test_tasks) with eddy.EventLoop injected: fails on any
# failure not listed with its reason in bindings/python/conformance/expected_failures.txt,
# and on a listed test that passes. Needs CPython's test package (Debian's python3:
# libpython3.11-testsuite). ~40-50 s (more on a loaded machine).
test-asyncio: build $(VENV_STAMP) ## CPython's asyncio event-loop tests on eddy.EventLoop (expected failures listed)
	@$(PYTHON) -c "import test.test_asyncio" 2>/dev/null || { echo "test-asyncio: CPython's test package is missing (Debian: apt-get install libpython3.11-testsuite)" >&2; exit 1; }
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) bindings/python/conformance/run_asyncio.py

TEST_TARGETS += test-asyncio

# CI tier (.ci/run): the same plus test_subprocess with asyncio's other child watchers
# (safe, fast, pidfd: the same 29 tests each). ~15 s more than test-asyncio.
test-asyncio-ci: build $(VENV_STAMP) ## test-asyncio plus test_subprocess with every child watcher (CI tier)
	@$(PYTHON) -c "import test.test_asyncio" 2>/dev/null || { echo "test-asyncio-ci: CPython's test package is missing (Debian: apt-get install libpython3.11-testsuite)" >&2; exit 1; }
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) bindings/python/conformance/run_asyncio.py --ci

# aiohttp, websockets, anyio and httpx (pinned in requirements-test.txt, installed by
# make deps) on eddy.EventLoop: servers and clients on 127.0.0.1, data both ways, 50-100
# connections at once. ~5 s (each test bounded to 120 s).
test-asyncio-libs: build $(VENV_STAMP) ## aiohttp, websockets, anyio, httpx servers and clients on eddy.EventLoop
	cd bindings/python && EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so $(PYTHON) -m pytest $(PYTEST_ARGS) -p no:cacheprovider libtests

TEST_TARGETS += test-asyncio-libs
# ---- end asyncio event loop ----
