#!/usr/bin/env bash
# User-space instructions per op of bench/rt's workloads under callgrind, for tokio
# current-thread, Eddy C and Eddy Swift (workers=1): (Ir at --iters 2 - Ir at --iters 1) / ops,
# so start-up, the warm-up iteration and shutdown cancel. Exact and independent of the
# machine's load, unlike run.py's times (spawn_many_remote_busy's yielding busy tasks make
# that row vary a little).
#   bench/rt/ir.sh C_BIN SWIFT_BIN TOKIO_BIN LIBEDDY [BENCH...]
# valgrind 3.19 cannot read Swift 6.3's debug info: libeddy.so and the Swift binary run as
# `strip --strip-debug` copies (symbols kept for callgrind_annotate) in a temporary folder.
set -euo pipefail
c_bin=$1 swift_bin=$2 tokio_bin=$3 lib=$4; shift 4
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(spawn_many_local spawn_many_remote_idle spawn_many_remote_busy
    yield_many ping_pong chained_spawn mpsc_1p mpsc_4p oneshot notify_rtt)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
strip --strip-debug -o "$tmp/libeddy.so.0" "$lib"
ln -s libeddy.so.0 "$tmp/libeddy.so"
strip --strip-debug -o "$tmp/eddy-rtbench" "$swift_bin"

ir() { # PROG ARGS...: total Ir of one run
    LD_LIBRARY_PATH="$tmp" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_op() { # BENCH PROG [FLAGS...]
    local b=$1 prog=$2; shift 2
    local out one two ops
    out=$("$prog" "$b" "$@" --iters 1)   # the op count per iteration, from RESULT
    ops=$(echo "$out" | awk '/^RESULT/ { print $4 }')
    one=$(ir "$prog" "$b" "$@" --iters 1)
    two=$(ir "$prog" "$b" "$@" --iters 2)
    echo $(( (two - one) / ops ))
}

echo "| benchmark | tokio current-thread | Eddy C | Eddy Swift | C ÷ tokio | Swift ÷ tokio |"
echo "|---|---:|---:|---:|---:|---:|"
for b in "${benches[@]}"; do
    t=$(per_op "$b" "$tokio_bin" --flavor ct)
    c=$(per_op "$b" "$c_bin")
    s=$(per_op "$b" "$tmp/eddy-rtbench")
    awk -v b="$b" -v t="$t" -v c="$c" -v s="$s" \
        'BEGIN { printf "| %s | %d | %d | %d | %.1f | %.1f |\n", b, t, c, s, c / t, s / t }'
done
