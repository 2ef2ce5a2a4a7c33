# mk/bench.mk — `make bench`: Eddy's echo servers (C, Swift, Python front doors) against
# the anchors (hand-written epoll, libuv, tokio, SwiftNIO, uvloop, asyncio). Not part of
# `make test`.
#
#   make bench                full run (~10 min on 2 cores): 3 interleaved rounds, 5 workloads,
#                             callgrind instructions per round trip; writes
#                             bench/results/latest.{md,json} and docs/bench-echo.png
#   make bench BENCH_QUICK=1  ~2-minute smoke run (1 round, shorter cells, small callgrind counts)
#   make bench BENCH_ARGS="--servers eddy-c,libuv --no-callgrind"   any bench/run.py option
#
# Installs what it needs when missing: Debian libuv1-dev librust-tokio-dev cargo valgrind
# (apt-get, skipped when already installed), a venv at bench/.venv with uvloop and
# matplotlib. The anchors build offline: tokio from Debian's crate registry
# (bench/servers/tokio_echo/.cargo/config.toml), swift-nio through SwiftPM's usual
# resolution (bench/servers/nio_echo is its own package).

BENCH_VENV := bench/.venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_APT := libuv1-dev librust-tokio-dev cargo valgrind
BENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCH_ARGS ?=
ifeq ($(BENCH_QUICK),1)
BENCH_RUN_ARGS := --quick $(BENCH_ARGS)
else
BENCH_RUN_ARGS := $(BENCH_ARGS)
endif

.PHONY: bench bench-deps bench-servers

bench: build examples-c ## full echo benchmark against the anchors (~10 min; BENCH_QUICK=1: ~2 min)
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

# loadgen, epoll_echo, libuv_echo, tokio_echo, nio-echo, stripped copies for callgrind.
bench-servers: bench-deps ## build the anchor servers and the load generator only
	$(BENCH_PY) bench/run.py --scratch $(SCRATCH) --build-only
