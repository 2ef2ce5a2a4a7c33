#!/usr/bin/env bash
# Mallocs per echo round trip of a server: (count at N2 - count at N1) / (N2 - N1).
#   bench/malloc_per_rt.sh PORT N1 N2 -- server command (listens on PORT, exits on SIGTERM)
set -euo pipefail
port=$1 n1=$2 n2=$3; shift 4
loadgen=${LOADGEN:-bench/.work/loadgen}
preload=${MALLOC_COUNT_SO:-bench/.work/malloc_count.so}
out=$(mktemp -d)
server=("$@")
count_for() {
    local n=$1
    MALLOC_COUNT_OUT="$out/m.$n" LD_PRELOAD="$(realpath "$preload")" "${server[@]}" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    "$loadgen" -p "$port" -c "${CONNS:-50}" -s "${SIZE:-64}" -n "$n" -w 0 >/dev/null
    kill -TERM $pid; wait $pid || true
    sed -E 's/mallocs=([0-9]+).*/\1/' "$out/m.$n"
}
a=$(count_for "$n1")
b=$(count_for "$n2")
rm -rf "$out"
awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.3f\n", (b - a) / (n2 - n1) }'
