#!/usr/bin/env bash
# User-space instructions per echo round trip of a server, under callgrind:
# (Ir at N2 round trips - Ir at N1) / (N2 - N1), so start-up and shutdown cancel.
#   bench/callgrind_ir.sh PORT N1 N2 -- server command (must listen on PORT, exit on SIGTERM)
set -euo pipefail
port=$1 n1=$2 n2=$3; shift 4
loadgen=${LOADGEN:-bench/.work/loadgen}
conns=${CONNS:-50} size=${SIZE:-64}
out=$(mktemp -d)
server=("$@")
ir_for() {
    local n=$1
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$n" "${server[@]}" >/dev/null 2>"$out/vg.$n" &
    local pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.2
    done
    "$loadgen" -p "$port" -c "$conns" -s "$size" -n "$n" -w 0 >/dev/null
    kill -TERM $pid
    # Valgrind is slow to exit. A server still running after 5 s may have lost the signal
    # (the Python binding did before eddy.run watched a signal wake-up fd, see
    # docs/PERFORMANCE.md): it is asked again every 5 s so the measurement can finish, and
    # reported on stderr — it should not happen any more.
    local resent=0
    for i in $(seq 60); do
        sleep 1
        kill -0 $pid 2>/dev/null || break
        if [ $((i % 5)) = 0 ]; then kill -TERM $pid; resent=$((resent + 1)); fi
    done
    wait $pid || true
    if [ $resent -gt 0 ]; then
        echo "callgrind_ir.sh: WARNING: server still running ${resent}x5 s after SIGTERM; SIGTERM re-sent $resent time(s)" >&2
    fi
    grep -E "^summary:|^totals:" "$out/cg.$n" | head -1 | awk '{print $2}'
}
a=$(ir_for "$n1")
b=$(ir_for "$n2")
rm -rf "$out"
echo "$(( (b - a) / (n2 - n1) ))"
