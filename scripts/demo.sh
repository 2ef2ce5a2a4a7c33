#!/bin/sh
# scripts/demo.sh — the runner behind `make demo`.
#
#   usage: demo.sh SERVER PORT TARGET...
#
# Starts SERVER (eddy-delayserver) with --port PORT and waits for its ready line
# ("listening on HOST:PORT"). If it exits instead because PORT is taken, its own
# message is shown and it is started again on a free port (--port 0; the port is read
# from the ready line). Then each TARGET runs as `$MAKE -s TARGET DEMO_PORT=<port>`
# under `timeout`, and the server is always stopped. Exit status: 0 when every client
# succeeded; 1 when the server did not come up or a client failed or timed out.
#
# Environment: MAKE (default make), DEMO_CLIENT_TIMEOUT (seconds per target,
# default 120: it includes the target's own no-op build), DEMO_READY_TIMEOUT
# (seconds to wait for the ready line, default 20).
set -u
server=$1
port=$2
shift 2
make_cmd=${MAKE:-make}
client_timeout=${DEMO_CLIENT_TIMEOUT:-120}
ready_timeout=${DEMO_READY_TIMEOUT:-20}
log=$(mktemp)
pid=""
bound=""

stop_server() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=""
    fi
}
trap 'stop_server; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# start_server PORT: 0 once the ready line is there (sets pid, bound); 1 if the server
# exited first; 2 if it printed nothing within ready_timeout (it is stopped).
start_server() {
    : > "$log"
    "$server" --port "$1" > "$log" 2>&1 &
    pid=$!
    i=0
    while [ "$i" -lt $((ready_timeout * 10)) ]; do
        bound=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
        [ -n "$bound" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            pid=""
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    stop_server
    return 2
}

start_server "$port"
rc=$?
if [ "$rc" -eq 1 ] && [ "$port" != 0 ] && grep -q EADDRINUSE "$log"; then
    cat "$log" >&2
    echo "demo: port $port is busy; starting eddy-delayserver on a free port instead (DEMO_PORT=N picks one)" >&2
    start_server 0
    rc=$?
fi
if [ "$rc" -ne 0 ]; then
    cat "$log" >&2
    if [ "$rc" -eq 1 ]; then
        echo "demo: eddy-delayserver exited before listening" >&2
    else
        echo "demo: eddy-delayserver printed no ready line within $ready_timeout s" >&2
    fi
    exit 1
fi
echo "== eddy-delayserver on 127.0.0.1:$bound (pid $pid)"
for t in "$@"; do
    echo
    echo "== $t"
    timeout "$client_timeout" $make_cmd -s --no-print-directory "$t" DEMO_PORT="$bound"
    rc=$?
    if [ "$rc" -eq 124 ]; then
        echo "demo: $t did not finish within $client_timeout s (DEMO_CLIENT_TIMEOUT)" >&2
        exit 1
    fi
    [ "$rc" -eq 0 ] || { echo "demo: $t failed (exit $rc)" >&2; exit 1; }
done
