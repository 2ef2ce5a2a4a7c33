# mk/workers.mk — the runtime flavours every runtime test runs on (issue 14).
#
# The suites that loop over mk/drivers.mk's TEST_DRIVERS (Swift unit tests, the C suites
# and their ASan+UBSan runs, pytest) loop over TEST_RUNS instead: each entry is
# DRIVER:WORKERS, exported as EDDY_DRIVER and EDDY_WORKERS (a runtime whose configuration
# leaves `workers` at 0 reads the latter). `make test` runs the current-thread runtime
# on every driver and the multi-thread one (TEST_WORKERS beyond 1) on WORKER_DRIVERS only;
# the CI tier (.ci/run) runs the whole product: WORKER_DRIVERS="epoll io_uring".
TEST_WORKERS ?= 1 2
WORKER_DRIVERS ?= epoll
TEST_RUNS = $(foreach d,$(TEST_DRIVERS),$(d):1) \
    $(foreach w,$(filter-out 1,$(TEST_WORKERS)),$(foreach d,$(filter $(WORKER_DRIVERS),$(TEST_DRIVERS)),$(d):$(w)))

.PHONY: test-runs
test-runs: ## print the DRIVER:WORKERS pairs the runtime suites run on
	@echo $(TEST_RUNS)
