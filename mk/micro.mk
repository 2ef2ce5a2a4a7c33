# mk/micro.mk — runtime micro-benchmarks (not part of `make test`):
#
#   make bench-micro   builds libeddy.so (`build`), the C benchmark against it, the Swift
#                      benchmark package (bench/micro/swift, its own .build), the tokio
#                      reference (bench/micro/tokio, offline from Debian's crates), runs
#                      all three and writes bench/results/micro.md and micro.json (read by `make bench-docs`).
#
# Needs: Debian packages cargo + librust-tokio-dev (tokio from /usr/share/cargo/registry),
# gcc, python3. Knobs: MICRO_ARGS (passed to bench/micro/run.py,
# e.g. MICRO_ARGS="--reps 3 --no-mallocs").

MICRO_OUT := $(SCRATCH)/micro
MICRO_ARGS ?=

.PHONY: bench-micro micro-c micro-swift micro-tokio

bench-micro: build ## spawn/wake/timer micro-benchmarks against tokio (bench/results/micro.md)
	@$(MAKE) --no-print-directory micro-c micro-swift micro-tokio
	python3 bench/micro/run.py \
	    --swift bench/micro/swift/.build/release/eddy-micro \
	    --c $(MICRO_OUT)/micro \
	    --tokio bench/micro/tokio/target/release/tokio-micro \
	    --holder $(MICRO_OUT)/holder $(MICRO_ARGS)

micro-c: $(MICRO_OUT)/micro $(MICRO_OUT)/holder

$(MICRO_OUT)/micro: bench/micro/c/micro.c include/eddy.h $(LIBDIR)/libeddy.so
	@mkdir -p $(MICRO_OUT)/lib
	@ln -sf $(abspath $(LIBDIR))/libeddy.so $(MICRO_OUT)/lib/libeddy.so
	@ln -sf $(abspath $(LIBDIR))/libeddy.so $(MICRO_OUT)/lib/libeddy.so.0
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -o $@ $< \
	    -L$(MICRO_OUT)/lib -leddy -Wl,-rpath,$(abspath $(MICRO_OUT))/lib

$(MICRO_OUT)/holder: bench/micro/c/holder.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

# The Swift package builds its own copy of Eddy (by path) in bench/micro/swift/.build.
micro-swift:
	cd bench/micro/swift && swift build -c release --product eddy-micro

micro-tokio:
	cd bench/micro/tokio && cargo build --release --offline
