# mk/drivers.mk — the drivers every runtime test runs on (issue 18).
#
# Each suite that drives a runtime (Swift unit tests, the C suites and their ASan+UBSan
# runs, the C example's SIGTERM check, the Python tests, the Swift example's end-to-end
# test) runs once per value of EDDY_DRIVER listed here: `make test TEST_DRIVERS=epoll`
# for one. On a kernel without io_uring the io_uring runs still pass: the runtime falls
# back to epoll (docs/ARCHITECTURE.md), which the fallback tests check explicitly.
TEST_DRIVERS ?= epoll io_uring

# Not in `make test` (valgrind: ~2-4 min on a loaded 2-core machine); the CI tier runs it.
.PHONY: check-valgrind-stop
check-valgrind-stop: build examples-c ## the echo examples stop on one SIGTERM under valgrind, each driver
	sh -c 'bash Tests/examples/valgrind_sigterm.sh $(SCRATCH) "$(TEST_DRIVERS)"'

# ---- io_uring completion reads (issue 18, phase 2) ----
# The C suites and the Python tests once more on io_uring with completion reads on
# (EDDY_URING_RECV=1; off by default, see docs/ARCHITECTURE.md "Phase 2"). The Swift
# suite's CompletionReadTests turn them on themselves. Not in `make test` (~2 min): CI tier.
.PHONY: test-uring-recv
test-uring-recv: build $(C_TEST_BINS) $(VENV_STAMP) ## C suites + pytest on io_uring with completion reads
	EDDY_URING_RECV=1 $(MAKE) --no-print-directory c-suites TEST_DRIVERS=io_uring
	EDDY_URING_RECV=1 $(MAKE) --no-print-directory test-python TEST_DRIVERS=io_uring
