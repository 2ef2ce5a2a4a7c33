#!/usr/bin/env bash
# User-space instructions per echo round trip of a server, under callgrind:
# (Ir at N2 round trips - Ir at N1) / (N2 - N1), so start-up and shutdown cancel.
#   bench/callgrind_ir.sh PORT N1 N2 -- server command (must listen on PORT, exit on SIGTERM)
# Environment: LOADGEN, CONNS (50), SIZE (64), CHURN (non-empty: a new connection per round
# trip, so the result is instructions per connection); CG_ARGS: extra callgrind options, e.g.
# "--cache-sim=yes --LL=524288,8,64" (then CG_EVENTS=all prints every event per round trip,
# e.g. `Ir=484.9 Dr=139.6 ... D1mr=0.4 ...`, instead of the bare Ir number).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # C=5 000: the server and loadgen need the fds
port=$1 n1=$2 n2=$3; shift 4
loadgen=${LOADGEN:-bench/.work/loadgen}
conns=${CONNS:-50} size=${SIZE:-64}
out=$(mktemp -d)
server=("$@")
ir_for() {
    local n=$1
    valgrind --tool=callgrind ${CG_ARGS:-} --callgrind-out-file="$out/cg.$n" "${server[@]}" >/dev/null 2>"$out/vg.$n" &
    local pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.2
    done
    "$loadgen" -p "$port" -c "$conns" -s "$size" -n "$n" -w 0 ${CHURN:+--churn} >/dev/null
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
    grep -E "^summary:|^totals:" "$out/cg.$n" | head -1 | cut -d' ' -f2-
}
a=$(ir_for "$n1")
b=$(ir_for "$n2")
events=$(grep -m1 -E "^events:" "$out/cg.$n2" | cut -d' ' -f2-)
rm -rf "$out"
if [ "${CG_EVENTS:-}" = all ]; then
    python3 -c 'import sys
ev, a, b, n = sys.argv[1].split(), sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4])
print(" ".join(f"{e}={(int(y) - int(x)) / n:.1f}" for e, x, y in zip(ev, a, b)))' "$events" "$a" "$b" "$((n2 - n1))"
else
    echo "$(( (${b%% *} - ${a%% *}) / (n2 - n1) ))"
fi
