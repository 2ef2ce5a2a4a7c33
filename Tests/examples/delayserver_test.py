#!/usr/bin/env python3
"""End-to-end tests for eddy-delayserver (Python 3 standard library only).

usage: delayserver_test.py PATH/TO/eddy-delayserver

Starts the server on 127.0.0.1 with `--port 0`, reads the bound port from its first
stdout line (`listening on 127.0.0.1:PORT`), and checks it with http.client and raw
sockets. Every socket operation has a timeout and the whole run is bounded by an
alarm. Prints `N passed, M failed` last; exits non-zero on any failure.
"""

import http.client
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
HEADER_TIMEOUT_MS = 1500  # passed to the server, so the stalled-client test is quick
OVERALL_LIMIT_S = 180

server = None  # subprocess.Popen
port = None
results = []  # (name, ok, detail)


# ---------------------------------------------------------------- helpers

def connect(timeout=5.0):
    return socket.create_connection((HOST, port), timeout=timeout)


def parse_response(data):
    """Parses one response at the start of `data`. Returns (response, rest) or None
    if incomplete. response = (status, headers{lowercase: value}, body)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3}) ", head[0] + " ")
    if not m:
        raise AssertionError(f"bad status line {head[0]!r}")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body_start = end + 4
    if len(data) - body_start < length:
        return None
    return (int(m.group(1)), headers, data[body_start:body_start + length]), data[body_start + length:]


def read_responses(sock, count, timeout=5.0, head_only=False):
    """Reads `count` responses from `sock`. Returns (responses, eof_seen)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    responses = []
    eof = False
    while len(responses) < count:
        parsed = parse_response(data)
        if parsed:
            resp, data = parsed
            responses.append(resp)
            continue
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {len(responses)}/{count} responses, have {data[:200]!r}")
        chunk = sock.recv(65536)
        if not chunk:
            eof = True
            break
        data += chunk
    return responses, eof


def wait_eof(sock, timeout=3.0):
    """True if the server closes the connection within `timeout` (data is drained)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def raw_exchange(request, count=1, timeout=5.0):
    """Sends raw bytes on a new connection, reads `count` responses.
    Returns (responses, closed_by_server)."""
    with connect(timeout) as s:
        s.sendall(request)
        responses, eof = read_responses(s, count, timeout)
        if len(responses) < count:
            raise AssertionError(f"connection closed after {len(responses)}/{count} responses")
        closed = eof or wait_eof(s, 2.0)
        return responses, closed


def get(path, method="GET", headers=None, timeout=5.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def test(fn):
    name = fn.__name__
    start = time.monotonic()
    try:
        fn()
        results.append((name, True, ""))
        print(f"PASS {name} ({time.monotonic() - start:.2f} s)", flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        results.append((name, False, f"{type(e).__name__}: {e}"))
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    return fn


# ---------------------------------------------------------------- tests

def t_ok_body_and_headers():
    status, headers, body = get("/50/hello")
    check(status == 200, f"status {status}")
    check(body == b"hello", f"body {body!r}")
    check(headers.get("content-type") == "text/plain", f"content-type {headers.get('content-type')!r}")
    check(headers.get("content-length") == "5", f"content-length {headers.get('content-length')!r}")


def t_percent_decoding():
    status, _, body = get("/0/hello%20world%21%2Fx%C3%A9+plus")
    check(status == 200, f"status {status}")
    check(body == "hello world!/xé+plus".encode(), f"body {body!r}")
    status, _, body = get("/0/")
    check(status == 200 and body == b"", f"empty message: {status} {body!r}")
    status, _, body = get("/0/with%zzbad")
    check(status == 400, f"bad escape: status {status}")


def t_delay_is_waited():
    start = time.monotonic()
    status, _, body = get("/300/slow")
    elapsed = time.monotonic() - start
    check(status == 200 and body == b"slow", f"{status} {body!r}")
    check(0.29 <= elapsed < 1.5, f"took {elapsed:.3f} s for a 300 ms delay")


def t_keep_alive_http_client():
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", "/10/one")
        r1 = conn.getresponse()
        b1 = r1.read()
        sock1 = conn.sock
        local1 = sock1.getsockname() if sock1 else None
        check(r1.status == 200 and b1 == b"one", f"first: {r1.status} {b1!r}")
        check(r1.getheader("Connection") is None, "server asked to close a keep-alive connection")
        check(sock1 is not None, "http.client closed the connection after the first response")
        conn.request("GET", "/10/two")
        r2 = conn.getresponse()
        b2 = r2.read()
        check(r2.status == 200 and b2 == b"two", f"second: {r2.status} {b2!r}")
        check(conn.sock is sock1 and conn.sock.getsockname() == local1, "second request used a new connection")
    finally:
        conn.close()


def t_head_method():
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("HEAD", "/0/abcdef")
        r = conn.getresponse()
        body = r.read()
        check(r.status == 200, f"status {r.status}")
        check(r.getheader("Content-Length") == "6", f"content-length {r.getheader('Content-Length')!r}")
        check(body == b"", f"HEAD got a body {body!r}")
        conn.request("GET", "/0/after-head")  # same connection still in sync
        r = conn.getresponse()
        check(r.read() == b"after-head", "GET after HEAD on the same connection")
    finally:
        conn.close()


def t_concurrent_requests():
    delays = [100 + i * 100 for i in range(10)]  # 100 .. 1000 ms, sum 5.5 s
    out = [None] * len(delays)

    took = [0.0] * len(delays)

    def worker(i):
        t0 = time.monotonic()
        try:
            out[i] = get(f"/{delays[i]}/msg-{i}", timeout=10)
        except Exception as e:  # noqa: BLE001
            out[i] = e
        took[i] = time.monotonic() - t0

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(delays))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    elapsed = time.monotonic() - start
    for i, r in enumerate(out):
        check(isinstance(r, tuple), f"request {i}: {r!r}")
        check(r[0] == 200 and r[2] == f"msg-{i}".encode(), f"request {i}: {r[0]} {r[2]!r}")
    # Concurrent at any speed: the whole took well under the sum of the requests' own times
    # (one after the other it would take that sum).
    check(1.0 <= elapsed < 0.75 * sum(took),
          f"10 requests with delays up to 1 s took {elapsed:.3f} s, {sum(took):.3f} s summed")


def t_bad_delays():
    for path, why in [
        ("/abc/x", "not a number"),
        ("/-5/x", "negative"),
        ("/60001/x", "over 60000"),
        ("/99999999999999999999999999/x", "huge"),
        ("/1.5/x", "not an integer"),
        ("/+5/x", "sign"),
        ("//x", "empty"),
    ]:
        responses, closed = raw_exchange(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        status, headers, _ = responses[0]
        check(status == 400, f"{path} ({why}): status {status}")
        check(closed and headers.get("connection") == "close", f"{path}: connection not closed after 400")


def t_malformed_requests():
    cases = [
        (b"GARBAGE\r\n\r\n", 400, "no target/version"),
        (b"GET /1/x\r\n\r\n", 400, "HTTP/0.9 style"),
        (b"GET  /1/x HTTP/1.1\r\nHost: t\r\n\r\n", 400, "double space"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400, "header without colon"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nName : v\r\n\r\n", 400, "space before colon"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n", 400, "obs-fold"),
        (b"GET /1/x HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host"),
        (b"GET /1/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "two Hosts"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n", 400, "bad Content-Length"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "CL + TE"),
        (b"GET /1/x HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400, "bare CR"),
        (b"\x00\x01\x02\xff\xfe\r\n\r\n", 400, "binary junk"),
        (b"GET /1/x HTTP/9.9\r\nHost: t\r\n\r\n", 505, "unknown version"),
        (b"GET /1/x http/1.1\r\nHost: t\r\n\r\n", 400, "lowercase version"),
    ]
    for request, expected, why in cases:
        responses, closed = raw_exchange(request)
        status = responses[0][0]
        check(status == expected, f"{why}: status {status}, expected {expected}")
        check(closed, f"{why}: connection not closed")


def t_oversized_head():
    big = b"GET /1/x HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    responses, closed = raw_exchange(big)
    check(responses[0][0] == 400, f"9 KB head: status {responses[0][0]}")
    check(closed, "9 KB head: connection not closed")
    # A head that never ends, sent in pieces, is cut at 8 KiB too.
    with connect() as s:
        s.sendall(b"GET /1/x HTTP/1.1\r\nHost: t\r\n")
        for _ in range(20):
            try:
                s.sendall(b"X-Filler: " + b"b" * 500 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        responses, _ = read_responses(s, 1)
        check(responses[0][0] == 400, f"endless head: status {responses[0][0]}")
    # Just under the limit is fine.
    ok = b"GET /0/fits HTTP/1.1\r\nHost: t\r\nX-Big: " + b"c" * 7000 + b"\r\n\r\n"
    responses, _ = raw_exchange(ok + b"GET /0/bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", count=2)
    check(responses[0][0] == 200 and responses[0][2] == b"fits", f"7 KB head: {responses[0][:1]}")


def t_not_found():
    for path in ["/", "/favicon.ico", "/100", "/?x=/1/2"]:
        status, headers, _ = get(path)
        check(status == 404, f"{path}: status {status}")


def t_method_not_allowed():
    status, headers, _ = get("/10/x", method="POST")
    check(status == 405, f"POST: status {status}")
    check("GET" in headers.get("allow", ""), f"405 without Allow: {headers}")
    status, _, _ = get("/10/x", method="DELETE")
    check(status == 405, f"DELETE: status {status}")
    # A 405 with a small body keeps the connection usable: the body is skipped.
    responses, closed = raw_exchange(
        b"POST /0/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
        b"GET /0/next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", count=2)
    check(responses[0][0] == 405, f"pipelined POST: {responses[0][0]}")
    check(responses[1][0] == 200 and responses[1][2] == b"next", f"request after POST body: {responses[1]}")


def t_pipelining():
    request = (b"GET /300/first HTTP/1.1\r\nHost: t\r\n\r\n"
               b"GET /10/second HTTP/1.1\r\nHost: t\r\n\r\n"
               b"GET /0/third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    responses, closed = raw_exchange(request, count=3)
    bodies = [r[2] for r in responses]
    check(bodies == [b"first", b"second", b"third"], f"order {bodies}")
    check(closed, "Connection: close on the last pipelined request did not close")
    # Same thing one byte at a time.
    with connect() as s:
        for b in b"GET /0/a HTTP/1.1\r\nHost: t\r\n\r\nGET /0/b HTTP/1.1\r\nHost: t\r\n\r\n":
            s.send(bytes([b]))
        responses, _ = read_responses(s, 2)
        check([r[2] for r in responses] == [b"a", b"b"], f"byte-by-byte: {responses}")


def t_http10_and_connection_close():
    responses, closed = raw_exchange(b"GET /0/old HTTP/1.0\r\n\r\n")
    check(responses[0][0] == 200 and responses[0][2] == b"old", f"HTTP/1.0: {responses[0]}")
    check(closed, "HTTP/1.0 without keep-alive: connection not closed")
    responses, closed = raw_exchange(b"GET /0/bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    check(responses[0][1].get("connection") == "close", "no Connection: close in the response")
    check(closed, "Connection: close: connection not closed")
    # HTTP/1.0 with keep-alive stays open for a second request.
    with connect() as s:
        s.sendall(b"GET /0/k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        responses, eof = read_responses(s, 1)
        check(not eof and responses[0][2] == b"k1", "HTTP/1.0 keep-alive: first")
        s.sendall(b"GET /0/k2 HTTP/1.0\r\n\r\n")
        responses, _ = read_responses(s, 1)
        check(responses[0][2] == b"k2", "HTTP/1.0 keep-alive: second")
        check(wait_eof(s), "HTTP/1.0 keep-alive: not closed after a request without keep-alive")


def t_stalled_client_does_not_block_others():
    stalled = connect(timeout=10)
    try:
        stalled.sendall(b"GET /0/never HTTP/1.1\r\nHost: t\r\nX-Half: ")
        time.sleep(0.1)
        start = time.monotonic()
        status, _, body = get("/0/unblocked", timeout=3)
        elapsed = time.monotonic() - start
        check(status == 200 and body == b"unblocked", f"other client: {status} {body!r}")
        # Served while the stalled client is still pending (a server blocked by it would
        # answer only after dropping it with its 408): an order, not a time bound.
        pending = not select.select([stalled], [], [], 0)[0]
        check(pending, f"other client served only after the stalled one was dropped ({elapsed:.3f} s)")
        # The stalled client is dropped after the header timeout, with a 408.
        start = time.monotonic()
        responses, eof = read_responses(stalled, 1, timeout=HEADER_TIMEOUT_MS / 1000 + 3)
        waited = time.monotonic() - start
        check(responses and responses[0][0] == 408, f"stalled client got {responses}")
        check(eof or wait_eof(stalled), "stalled client not disconnected")
        check(waited < HEADER_TIMEOUT_MS / 1000 + 1.5, f"dropped after {waited:.2f} s")
    finally:
        stalled.close()
    # An idle keep-alive connection is closed silently after the same timeout.
    with connect(timeout=10) as idle:
        check(wait_eof(idle, HEADER_TIMEOUT_MS / 1000 + 3), "idle connection not closed")


def t_abusive_clients():
    # Connect-and-close, reset mid-request, random junk, a client that never reads.
    for i in range(30):
        s = connect()
        if i % 3 == 0:
            s.close()
            continue
        if i % 3 == 1:
            s.sendall(b"GET /0/x HTTP/1.1\r\nHo")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
            continue
        s.sendall(os.urandom(300))
        s.close()
    # Many pipelined requests and never read the answers; then reset.
    s = connect()
    try:
        s.sendall(b"GET /0/flood HTTP/1.1\r\nHost: t\r\n\r\n" * 2000)
    except OSError:
        pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    status, _, body = get("/0/still-here")
    check(status == 200 and body == b"still-here", f"after abuse: {status} {body!r}")


def t_curl_keep_alive():
    curl = shutil.which("curl")
    # A real client's keep-alive is part of the suite: no curl is a failure (make deps installs it).
    check(curl is not None, "curl not installed (make deps installs it): the keep-alive test cannot run")
    out = subprocess.run(
        [curl, "-sS", "--max-time", "5", "-v", f"http://{HOST}:{port}/10/a", f"http://{HOST}:{port}/10/b"],
        capture_output=True, timeout=10)
    check(out.returncode == 0, f"curl exit {out.returncode}: {out.stderr[-300:]!r}")
    check(out.stdout == b"ab", f"curl output {out.stdout!r}")
    check(b"Re-using existing connection" in out.stderr or b"Reusing existing connection" in out.stderr,
          "curl did not reuse the connection")


def t_alive_at_end():
    check(server.poll() is None, f"server exited with {server.returncode}")
    status, _, body = get("/0/alive")
    check(status == 200 and body == b"alive", f"{status} {body!r}")


def t_drains_on_sigterm():
    """Issue 16: SIGTERM while requests are in flight: the server stops accepting,
    every request it has received is answered (Connection: close), then it exits 0."""
    n = 12
    socks = []
    for i in range(n):
        s = connect(timeout=10)
        s.sendall(f"GET /700/drained-{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        socks.append(s)
    idle = connect(timeout=10)  # keep-alive connection with no request: closed by the drain
    time.sleep(0.3)  # the heads have arrived; the 700 ms delays are running
    t0 = time.monotonic()
    server.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    refused = False
    try:
        late = connect(timeout=2)
        late.sendall(b"GET /0/late HTTP/1.1\r\nHost: t\r\n\r\n")
        refused = late.recv(100) == b""
        late.close()
    except OSError:
        refused = True
    check(refused, "a connection made after SIGTERM was served")
    for i, s in enumerate(socks):
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        r = parse_response(data)
        check(r is not None, f"request {i}: no complete reply ({data[:80]!r})")
        (status, headers, body), _ = r
        check(status == 200 and body == f"drained-{i}".encode(), f"request {i}: {status} {body!r}")
        check(headers.get("connection", "").lower() == "close", f"request {i}: connection {headers.get('connection')!r}")
    try:
        code = server.wait(5)
    except subprocess.TimeoutExpired:
        raise AssertionError("server did not exit within 5 s of draining")
    check(code == 0, f"exit status {code} after SIGTERM")
    check(time.monotonic() - t0 >= 0.25, "exited before the in-flight delays could have ended")
    idle.settimeout(5)
    check(idle.recv(10) == b"", "the idle keep-alive connection was not closed")
    idle.close()


# ---------------------------------------------------------------- main

def start_server(binary, stderr_file):
    global server, port
    server = subprocess.Popen(
        [binary, "--host", HOST, "--port", "0", "--header-timeout-ms", str(HEADER_TIMEOUT_MS)],
        stdout=subprocess.PIPE, stderr=stderr_file, stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([server.stdout], [], [], 10)
    if not ready:
        raise RuntimeError("server printed nothing within 10 s")
    line = server.stdout.readline().decode(errors="replace").strip()
    m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        raise RuntimeError(f"unexpected first line {line!r}")
    port = int(m.group(1))
    check(port != 0, "bound port 0")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary = sys.argv[1]

    def on_alarm(*_):
        print(f"FAIL: the whole run exceeded {OVERALL_LIMIT_S} s", flush=True)
        if server and server.poll() is None:
            server.kill()
        os._exit(1)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(OVERALL_LIMIT_S)

    with tempfile.TemporaryFile() as stderr_file:
        try:
            start_server(binary, stderr_file)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start: {e}")
            if server and server.poll() is None:
                server.kill()
            print("0 passed, 1 failed")
            return 1
        print(f"server pid {server.pid} on port {port}", flush=True)
        try:
            for t in [
                t_ok_body_and_headers, t_percent_decoding, t_delay_is_waited, t_keep_alive_http_client,
                t_head_method, t_concurrent_requests, t_bad_delays, t_malformed_requests, t_oversized_head,
                t_not_found, t_method_not_allowed, t_pipelining, t_http10_and_connection_close,
                t_stalled_client_does_not_block_others, t_abusive_clients, t_curl_keep_alive, t_alive_at_end,
                t_drains_on_sigterm,
            ]:
                test(t)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        stderr_file.seek(0)
        err = stderr_file.read().decode(errors="replace").strip()
        if err:
            print("--- server stderr ---\n" + err[-3000:])

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    for name, ok, detail in results:
        if not ok:
            print(f"  failed: {name}: {detail}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
