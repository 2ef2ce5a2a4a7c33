# mk/rtbench.mk — tokio's runtime benchmarks (issue 14) and the channel benchmarks (issue
# 16) ported to Eddy's C and Swift front doors, side by side with tokio (bench/rt/README.md).
# Not part of `make test` except the C smoke run (test-rtbench, a few seconds).
#
#   make bench-rt        spawn_many_local, spawn_many_remote_idle, spawn_many_remote_busy,
#                        yield_many, ping_pong, chained_spawn: ns/op and tokio ÷ Eddy for
#                        the current-thread flavour (tokio current_thread, Eddy workers=1)
#                        and the multi-thread one (tokio multi_thread, Eddy workers=2:
#                        "n/a" until Eddy has it); also writes bench/results/rt.md
#   make bench-channels  mpsc (1 and 4 producers, bounded 1 024), oneshot create+send+recv,
#                        Notify round trip vs tokio::sync; bench/results/channels.md
#   make bench-rt-ir     user-space instructions per op (callgrind) of every workload for
#                        tokio current-thread, Eddy C and Eddy Swift (~5 min; load-independent)
#   make test-rtbench    the Eddy C program, every benchmark with tiny counts: completion
#                        counts checked, not speed (part of `make test`)
#   make test-rtbench-swift  the same for the Swift program (builds its package: not in
#                        `make test`, the first build compiles Eddy again, ~2 min)
#
# Knobs: RTBENCH_ARGS (bench/rt/run.py options, e.g. "--rounds 1 --workers-mt 4").
# Needs Debian's cargo + librust-tokio-dev (tokio 1.24 built offline from
# /usr/share/cargo/registry, bench/rt/tokio/.cargo/config.toml), installed when missing.

RTBENCH_OUT := $(SCRATCH)/rtbench
RTBENCH_C := $(RTBENCH_OUT)/eddy-rtbench-c
RTBENCH_SWIFT := bench/rt/swift/.build/release/eddy-rtbench
RTBENCH_TOKIO := bench/rt/tokio/target/release/tokio-rtbench
RTBENCH_APT := cargo librust-tokio-dev
RTBENCH_ARGS ?=
RTBENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RTBENCH_RUN = python3 bench/rt/run.py --c $(RTBENCH_C) --swift $(RTBENCH_SWIFT) --tokio $(RTBENCH_TOKIO) $(RTBENCH_ARGS)
RTBENCH_BENCHES := spawn_many_local spawn_many_remote_idle spawn_many_remote_busy yield_many \
                   ping_pong chained_spawn mpsc_1p mpsc_4p oneshot notify_rtt

.PHONY: bench-rt bench-channels bench-rt-ir rtbench-progs rtbench-deps rtbench-swift rtbench-tokio \
        test-rtbench test-rtbench-run test-rtbench-swift

bench-rt: build ## tokio's runtime benchmarks: Eddy C/Swift vs tokio, both flavours (~1-2 min)
	@$(MAKE) --no-print-directory rtbench-progs
	$(RTBENCH_RUN) --suite rt --out bench/results/rt.md

bench-channels: build ## mpsc / oneshot / Notify: Eddy C/Swift vs tokio::sync, both flavours (~1 min)
	@$(MAKE) --no-print-directory rtbench-progs
	$(RTBENCH_RUN) --suite channels --out bench/results/channels.md

bench-rt-ir: build ## instructions per op (callgrind) of every rt/channel workload: Eddy C/Swift vs tokio (~5 min)
	@$(MAKE) --no-print-directory rtbench-progs
	bench/rt/ir.sh $(RTBENCH_C) $(RTBENCH_SWIFT) $(RTBENCH_TOKIO) $(LIBDIR)/libeddy.so

rtbench-progs: rtbench-deps $(RTBENCH_C) rtbench-swift rtbench-tokio

rtbench-deps:
	@missing=""; for p in $(RTBENCH_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "bench-rt: installing$$missing"; \
	    $(RTBENCH_SUDO) apt-get update && \
	    $(RTBENCH_SUDO) apt-get install -y -o DPkg::Lock::Timeout=600 $$missing; \
	fi

$(RTBENCH_C): bench/rt/c/rtbench.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -O2 -Iinclude -o $@ $< -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)

# Its own package (bench/rt/swift/.build): depends on the main package by path, nothing else.
rtbench-swift:
	cd bench/rt/swift && swift build -c release --product eddy-rtbench

rtbench-tokio:
	cd bench/rt/tokio && cargo build --release --offline

# Smoke run: each benchmark once with counts / 100 (exit 1 on a wrong completion count).
test-rtbench: build ## the C benchmark program with tiny counts: completion, not speed
	@$(MAKE) --no-print-directory test-rtbench-run RTBENCH_SMOKE=$(RTBENCH_C)

test-rtbench-swift: build ## the Swift benchmark program with tiny counts (builds its package)
	@$(MAKE) --no-print-directory rtbench-swift
	@$(MAKE) --no-print-directory test-rtbench-run RTBENCH_SMOKE=$(RTBENCH_SWIFT)

test-rtbench-run: $(RTBENCH_SMOKE)
	@set -e; for b in $(RTBENCH_BENCHES); do \
	    timeout 60 $(RTBENCH_SMOKE) $$b --quick --workers 1 >/dev/null || { echo "rtbench smoke: $$b failed" >&2; exit 1; }; \
	done; \
	rc=0; $(RTBENCH_SMOKE) yield_many --quick --workers 0 2>/dev/null || rc=$$?; \
	[ $$rc -ne 0 ] || { echo "rtbench smoke: --workers 0 accepted" >&2; exit 1; }; \
	echo "rtbench smoke: $(notdir $(RTBENCH_SMOKE)): $(words $(RTBENCH_BENCHES)) benchmarks completed"

TEST_TARGETS += test-rtbench
