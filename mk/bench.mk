# mk/bench.mk — `make bench`: Eddy's echo servers (C, Swift, Python front doors) against
# the anchors (hand-written epoll in two variants, libuv, tokio, SwiftNIO, and uvloop and
# asyncio each in the three modes of uvloop's echo benchmark). Not part of `make test`.
#
#   make bench                reference run (~17 min on 2 cores, estimated: ~12 before the
#                             C=5 000 / churn C=10 000 cells of issue 18): 3 interleaved rounds, 7
#                             workloads, callgrind instructions per round trip, syscalls
#                             (perf tracepoints) and mallocs per round trip; writes
#                             bench/results/latest.{md,json}, bench/results/readme-table.md and
#                             docs/bench-echo.png. Refuses a tree with uncommitted changes
#                             (BENCH_ARGS=--allow-dirty to override; the results say so) and
#                             records the commit.
#   make bench-docs           README.md and docs/PERFORMANCE.md tables regenerated from
#                             bench/results/latest.json (+ micro.json of `make bench-micro`)
#   make bench BENCH_QUICK=1  smoke run, ~4-7 min (1 round, shorter cells, small callgrind
#                             counts) -> bench/results/partial.* (not in git), as is any run
#                             restricted with BENCH_ARGS, e.g.
#   make bench BENCH_ARGS="--servers eddy-c,libuv --no-callgrind"   any bench/run.py option
#
# Installs what it needs when missing: Debian libuv1-dev librust-tokio-dev cargo valgrind linux-perf
# (apt-get, skipped when already installed), a venv at bench/.venv with uvloop and
# matplotlib. The anchors build offline: tokio from Debian's crate registry
# (bench/servers/tokio_echo/.cargo/config.toml), swift-nio through SwiftPM's usual
# resolution (bench/servers/nio_echo is its own package). Syscall counts need `perf`
# (linux-perf) with access to tracepoints (root or perf_event_paranoid -1); without it the
# column says — and the run says why.

BENCH_VENV := bench/.venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_APT := libuv1-dev librust-tokio-dev cargo valgrind linux-perf
BENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCH_ARGS ?=
ifeq ($(BENCH_QUICK),1)
BENCH_RUN_ARGS := --quick $(BENCH_ARGS)
else
BENCH_RUN_ARGS := $(BENCH_ARGS)
endif

.PHONY: bench bench-deps bench-servers bench-docs

bench: build examples-c ## full echo benchmark against the anchors (~17 min; BENCH_QUICK=1: ~6-9 min)
	@$(MAKE) --no-print-directory bench-servers
	$(BENCH_PY) bench/run.py --scratch $(SCRATCH) $(BENCH_RUN_ARGS)

bench-deps: ## install the benchmark's Debian packages and bench/.venv
	@missing=""; for p in $(BENCH_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "bench: installing$$missing"; \
	    $(BENCH_SUDO) apt-get update && \
	    $(BENCH_SUDO) apt-get install -y -o DPkg::Lock::Timeout=600 $$missing; \
	fi
	@[ -x $(BENCH_PY) ] || python3 -m venv $(BENCH_VENV)
	@$(BENCH_PY) -c "import uvloop, matplotlib" 2>/dev/null || $(BENCH_PY) -m pip install -q uvloop matplotlib

bench-docs: ## README and docs/PERFORMANCE.md tables from bench/results/latest.json (+ micro.json)
	python3 bench/doc_tables.py --update $(BENCH_DOCS_ARGS)

# loadgen, epoll_echo, libuv_echo, tokio_echo, nio-echo, malloc_count.so, stripped copies
# for callgrind.
bench-servers: bench-deps ## build the anchor servers and the load generator only
	$(BENCH_PY) bench/run.py --scratch $(SCRATCH) --build-only

# ---- coordination (issue 16) ----
.PHONY: bench-py-queue
bench-py-queue: build ## eddy.Queue vs asyncio.Queue put/get throughput (and vs the C channel through ctypes)
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so python3 bench/py_queue.py

# ---- signals and child processes (issue 16, branch sigproc-16) ----
.PHONY: bench-proc
bench-proc: build ## process spawn+wait per second: eddy.create_subprocess_exec vs asyncio's, C vs posix_spawn (~2 min)
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so python3 bench/proc_spawn.py --rounds 5
	@$(MAKE) --no-print-directory c-lib
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -o $(C_OUT)/proc_spawn_c bench/proc_spawn_c.c -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)
	$(C_OUT)/proc_spawn_c 400 5
