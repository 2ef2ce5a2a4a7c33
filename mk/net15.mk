# mk/net15.mk — issue 15 (networking breadth): UDP and Unix-socket examples end to end.
#
#   make bench-udp           UDP echo instructions per datagram (callgrind), not in make test
#   make test-unix-examples  eddy-delayserver --unix PATH answers curl --unix-socket PATH
#   make test-udp-examples   eddy-echo --udp (Swift), examples/c/udp_echo.c and
#                            examples/python/udp_echo.py answer datagrams of 0..65507
#                            bytes and a burst, and exit 0 on SIGTERM (127.0.0.1 only)

$(C_OUT)/udp_echo: examples/c/udp_echo.c include/eddy.h $(C_LIB)/.stamp
	@mkdir -p $(@D)
	$(CC) -std=c11 $(C_WARN) -O2 -Iinclude -o $@ $< -L$(C_LIB) -leddy -Wl,-rpath,$(C_LIB_ABS)

.PHONY: test-udp-examples udp-examples-run
test-udp-examples: build $(VENV_STAMP) ## the three UDP echo examples, end to end
	@$(MAKE) --no-print-directory udp-examples-run

udp-examples-run: $(C_OUT)/udp_echo
	EDDY_LIBRARY=$(abspath $(LIBDIR))/libeddy.so timeout 300 $(VENV_PY) Tests/examples/udp_echo_test.py \
	    $(LIBDIR)/eddy-echo $(C_OUT)/udp_echo

TEST_TARGETS += test-udp-examples

# UDP echo under callgrind: instructions per datagram for Eddy C/Swift/Python against a
# hand-written epoll UDP echo and libuv's (bench/udp_echo_ir.py). Not part of `make test`.
.PHONY: bench-udp
bench-udp: build $(VENV_STAMP) ## UDP echo: instructions per datagram (callgrind), Eddy vs epoll vs libuv
	@$(MAKE) --no-print-directory $(C_OUT)/udp_echo
	$(VENV_PY) bench/udp_echo_ir.py --scratch $(SCRATCH)

# eddy-delayserver --unix PATH, end to end with curl --unix-socket (issue 15).
.PHONY: test-unix-examples
test-unix-examples: build $(VENV_STAMP) ## eddy-delayserver --unix: curl --unix-socket, concurrency, clean exit
	timeout 120 $(VENV_PY) Tests/examples/delayserver_unix_test.py $(LIBDIR)/eddy-delayserver

TEST_TARGETS += test-unix-examples
