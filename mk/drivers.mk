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
