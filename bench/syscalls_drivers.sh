#!/usr/bin/env bash
# System calls per echo round trip (50 connections x 64 B, N round trips) of the three
# front doors on each driver, counted by perf on the raw_syscalls:sys_enter tracepoint
# (root or perf_event_paranoid -1), split into the loop's waits and the rest:
#   bench/syscalls_drivers.sh [N] [DRIVERS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
drivers=${2:-epoll io_uring}
port=${PORT:-19520}
loadgen=${LOADGEN:-bench/.work/loadgen}
py=$(python3 -c 'import sys; print(sys.executable)')
count() {  # name, then the server command
    local name=$1; shift
    "$@" --port "$port" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    "$loadgen" -p "$port" -c 50 -s 64 -n 2000 -w 0 >/dev/null  # warm-up
    local out; out=$(mktemp)
    perf stat -x, -e raw_syscalls:sys_enter -e syscalls:sys_enter_epoll_pwait -e syscalls:sys_enter_io_uring_enter \
        -p "$pid" -o "$out" -- "$loadgen" -p "$port" -c 50 -s 64 -n "$n" -w 0 >/dev/null
    kill -TERM "$pid"; wait "$pid" || true
    awk -F, -v n="$n" -v name="$name" -v d="$EDDY_DRIVER" '
        /raw_syscalls/ {all=$1} /epoll_pwait/ {w+=$1} /io_uring_enter/ {w+=$1}
        END {printf "%-8s %-9s syscalls/rt %.3f  waits/rt %.3f\n", name, d, all/n, w/n}' "$out"
    rm -f "$out"
}
for d in $drivers; do
    export EDDY_DRIVER=$d
    count C .build/c/echo_server
    count Swift .build/release/eddy-echo
    EDDY_LIBRARY=.build/release/libeddy.so count Python "$py" examples/python/echo_server.py
done
