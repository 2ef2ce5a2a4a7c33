#!/usr/bin/env bash
# Instructions per echo round trip (bench/callgrind_ir.sh: 50 connections x 64 B) of the
# three front doors on each driver, without the rest of `make bench`:
#   bench/ir_drivers.sh [STRIPPED ROOT] [DRIVERS]
# STRIPPED: folder with echo_server, eddy-echo and lib/libeddy.so (stripped: valgrind 3.19
# cannot read Swift 6.3's debug info), default: stripped copies of .build made here.
# ROOT: the source tree whose examples/python and bindings/python run (default: this one).
# DRIVERS: space-separated values of EDDY_DRIVER (default "epoll io_uring").
# Prints one line per (front door, driver): name driver Ir/rt (median of REPS, default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
strip_dir=${1:-}
root=${2:-$here}
drivers=${3:-epoll io_uring}
reps=${REPS:-3}
port=${PORT:-19450}
export LOADGEN=${LOADGEN:-$here/bench/.work/loadgen}
[ -x "$LOADGEN" ] || cc -O2 -o "$LOADGEN" bench/loadgen.c
if [ -z "$strip_dir" ]; then
    strip_dir=$(mktemp -d)
    trap 'rm -rf "$strip_dir"' EXIT
    mkdir -p "$strip_dir/lib"
    strip -o "$strip_dir/echo_server" .build/c/echo_server
    strip -o "$strip_dir/eddy-echo" .build/release/eddy-echo
    strip -o "$strip_dir/lib/libeddy.so" .build/release/libeddy.so
    ln -sf libeddy.so "$strip_dir/lib/libeddy.so.0"
fi
# The interpreter itself, not a wrapper script (pyenv's shim would be what valgrind runs).
py=$(python3 -c 'import sys; print(sys.executable)')
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # name n1 n2 env... -- cmd...
    local name=$1 n1=$2 n2=$3; shift 3
    local runs=()
    for _ in $(seq "$reps"); do
        runs+=("$(env "$@" bash bench/callgrind_ir.sh "$port" "$n1" "$n2" -- "${cmd[@]}" --port "$port")")
    done
    printf '%-8s %-9s %s  (runs: %s)\n' "$name" "$EDDY_DRIVER" "$(printf '%s\n' "${runs[@]}" | median)" "${runs[*]}"
}
for d in $drivers; do
    export EDDY_DRIVER=$d
    cmd=("$strip_dir/echo_server"); measure C 5000 15000 LD_LIBRARY_PATH="$strip_dir/lib"
    cmd=("$strip_dir/eddy-echo"); measure Swift 5000 15000 X=1
    cmd=("$py" "$root/examples/python/echo_server.py"); measure Python 2000 8000 EDDY_LIBRARY="$strip_dir/lib/libeddy.so"
done
