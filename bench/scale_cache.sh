#!/usr/bin/env bash
# Does a server's cost per echo round trip grow with the number of connections? Counts, not
# times (they hold on a loaded machine): callgrind's instructions and cache-model misses per
# round trip at each C, by bench/callgrind_ir.sh's window difference (N1 = 20 x C, at least
# 5 000; N2 = 3 x N1).
#   bench/scale_cache.sh PORT "50 500 5000" -- server command (listens on PORT, exits on SIGTERM)
# Prints per C: Ir, D1mr/D1mw (L1d misses, valgrind's model of this host's 32 KiB L1d) and
# DLmr/DLmw: misses of a 512 KiB 8-way cache standing in for one core's private L2 (LL is
# set with --LL; valgrind's default here models a 256 MiB L3 that never misses).
# Under valgrind the server is ~50x slower than loadgen: every epoll_wait returns all C
# connections, the worst case for reuse between an event's dispatch and its task's poll.
# Method and results: docs/PERFORMANCE-LOG.md, "Cost per round trip as connections grow".
set -euo pipefail
port=$1 conns=$2; shift 3
for c in $conns; do
    n1=$((c * 20)); [ "$n1" -lt 5000 ] && n1=5000
    n2=$((n1 * 3))
    r=$(CONNS=$c CG_ARGS="--cache-sim=yes --LL=524288,8,64" CG_EVENTS=all \
        bash "$(dirname "$0")/callgrind_ir.sh" "$port" "$n1" "$n2" -- "$@")
    echo "C=$c $n1->$n2: $r"
done
