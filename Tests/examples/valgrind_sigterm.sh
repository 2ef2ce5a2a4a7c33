#!/usr/bin/env bash
# The three echo examples stop after ONE SIGTERM under valgrind (callgrind, as bench/ measures
# them), on each driver: valgrind keeps signals blocked during io_uring_enter, so the io_uring
# driver must see the signal through its signalfd and let valgrind deliver it (issue 18).
#   Tests/examples/valgrind_sigterm.sh SCRATCH "DRIVERS"
# Each server gets 2 000 echo round trips, then 2 s idle (the loop parked in its wait), then
# one SIGTERM; it must exit with status 0 within 60 s (Python unwinds slowly under valgrind).
set -uo pipefail
cd "$(dirname "$0")/../.."
scratch=${1:-.build}
drivers=${2:-epoll io_uring}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib"
# Stripped copies: valgrind 3.19 cannot read Swift 6.3's debug info.
strip -o "$tmp/echo_server" "$scratch/c/echo_server"
strip -o "$tmp/eddy-echo" "$scratch/release/eddy-echo"
strip -o "$tmp/lib/libeddy.so" "$scratch/release/libeddy.so"
ln -sf libeddy.so "$tmp/lib/libeddy.so.0"
loadgen=$tmp/loadgen
cc -O2 -o "$loadgen" bench/loadgen.c
py=$(python3 -c 'import sys; print(sys.executable)')
port=$((20000 + RANDOM % 20000))
fail=0
for d in $drivers; do
    for name in C Swift Python; do
        case $name in
            C) cmd=("$tmp/echo_server") ;;
            Swift) cmd=("$tmp/eddy-echo") ;;
            Python) cmd=("$py" examples/python/echo_server.py) ;;
        esac
        port=$((port + 1))
        EDDY_DRIVER=$d EDDY_LIBRARY=$tmp/lib/libeddy.so LD_LIBRARY_PATH=$tmp/lib \
            valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "${cmd[@]}" --port $port >"$tmp/out" 2>&1 &
        pid=$!
        for _ in $(seq 150); do
            python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
            sleep 0.2
        done
        "$loadgen" -p $port -c 50 -s 64 -n 2000 -w 0 >/dev/null || { echo "$name/$d: load failed"; fail=1; }
        sleep 2
        kill -TERM $pid
        start=$(date +%s)
        for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        if kill -0 $pid 2>/dev/null; then
            echo "FAIL $name ($d): still running 60 s after one SIGTERM under valgrind"
            kill -9 $pid
            fail=1
        fi
        wait $pid; rc=$?
        if [ $rc -ne 0 ]; then echo "FAIL $name ($d): exit status $rc"; tail -5 "$tmp/out"; fail=1; fi
        echo "ok   $name ($d): stopped $(( $(date +%s) - start )) s after one SIGTERM (exit $rc)"
    done
done
exit $fail
