// One HTTP/1.1 connection: read heads, answer in order, keep alive when allowed.

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

struct ServerConfig: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 8080
    /// `--unix PATH`: serve on a Unix-domain socket instead (issue 15).
    var unixPath: String?
    /// A request head must be complete within this time of the server starting to
    /// wait for it (this is also the keep-alive idle timeout).
    var headerTimeout: Duration = .seconds(10)
    /// Writing one response (or discarding a small request body) must not take longer.
    var ioTimeout: Duration = .seconds(10)
    /// Print one line per request on stderr.
    var verbose = false
}

/// Largest request head accepted, in bytes (request line + header fields).
let maxHeadBytes = 8 * 1024
/// Request bodies (which this server ignores) up to this size are read and
/// discarded so the connection can stay open; larger ones get 413 and a close.
let maxDiscardedBody = 64 * 1024

/// The connection's input buffer: fixed size, allocated once per connection.
///
/// It is handed to the child tasks that `Eddy.timeout` runs the reads in.
/// `@unchecked Sendable` is sound because exactly one task uses it at a time: the
/// connection task is suspended inside `Eddy.timeout` while a child reads, and
/// `Eddy.timeout` returns only once its children have ended (it is a task group).
/// Every task involved runs on the same Eddy loop thread anyway.
private final class InputBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    /// Valid bytes at the start of `bytes`.
    var filled = 0

    init(capacity: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { bytes.deallocate() }

    var content: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<filled]) }
    var free: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]) }

    /// Drops the first `count` bytes, keeping what follows (the next pipelined request).
    func consume(_ count: Int) {
        precondition(count <= filled)
        if count < filled {
            memmove(bytes.baseAddress!, bytes.baseAddress! + count, filled - count)
        }
        filled -= count
    }
}

/// What the head-reading phase produced.
private enum Incoming: Sendable {
    case head(HeadParseResult)
    /// The peer closed the connection.
    case eof
}

/// Reads until the buffer holds a complete head, or something that can never become one.
private func readHead(_ stream: TcpStream, _ input: InputBuffer) async throws -> Incoming {
    var scan = 0
    while true {
        let result = parseRequestHead(input.content, scanFrom: scan, limit: maxHeadBytes)
        guard case .incomplete(let resume) = result else { return .head(result) }
        scan = resume
        let n = try await stream.read(into: input.free)
        if n == 0 { return .eof }
        input.filled += n
    }
}

/// Serves one connection until it is closed. Never throws: every failure of this
/// connection ends this connection only.
func serveConnection(_ stream: TcpStream, _ config: ServerConfig, _ drain: Drain) async {
    defer { stream.close() }
    let input = InputBuffer(capacity: maxHeadBytes)
    var out = ResponseWriter(capacity: maxHeadBytes + 1024)

    while true {
        // 1. Get a complete head. With pipelining it may already be in the buffer;
        //    otherwise it must arrive within the header timeout.
        var incoming = Incoming.head(parseRequestHead(input.content, limit: maxHeadBytes))
        if case .head(.incomplete) = incoming {
            do {
                incoming = try await Eddy.timeout(config.headerTimeout) {
                    try await readHead(stream, input)
                }
            } catch let error as EddyError where error == .timedOut {
                if input.filled > 0 {
                    // Part of a request and then nothing: tell the client why it is dropped.
                    // (An idle keep-alive connection is closed silently.)
                    out.reset()
                    out.appendResponse(.requestTimeout, text: "request head not received in time", keepAlive: false)
                    await send(stream, out.bytes, config)
                }
                return
            } catch {
                return  // reset by peer, cancelled by shutdown, ...
            }
        }

        let head: RequestHead
        let headLength: Int
        switch incoming {
        case .eof:
            return  // a partial request without its end is dropped silently
        case .head(.complete(let h, let length)):
            head = h
            headLength = length
        case .head(.tooLarge):
            return await refuse(
                stream, input, &out, .badRequest, "request head larger than \(maxHeadBytes) bytes", config)
        case .head(.unsupportedVersion):
            return await refuse(stream, input, &out, .versionNotSupported, "only HTTP/1.0 and HTTP/1.1", config)
        case .head(.invalid(let reason)):
            return await refuse(stream, input, &out, .badRequest, reason, config)
        case .head(.incomplete):
            return  // not produced by readHead
        }

        // 2. Body framing. This server has no use for bodies, but must skip them to
        //    find the next pipelined request.
        if head.hasTransferEncoding {
            return await refuse(stream, input, &out, .notImplemented, "Transfer-Encoding is not supported", config)
        }
        if head.contentLength > maxDiscardedBody {
            return await refuse(stream, input, &out, .contentTooLarge, "request body too large", config)
        }

        // 3. Route, wait if asked, answer. In flight until the response is written (or
        //    the connection fails): a drain (SIGTERM) waits for it.
        drain.inFlight.add(1, ordering: .relaxed)
        let decision = route(head)
        let keepAlive: Bool
        out.reset()
        switch decision {
        case .delay(let ms, let message):
            do {
                try await Eddy.sleep(for: .milliseconds(ms))
            } catch {
                drain.inFlight.subtract(1, ordering: .relaxed)
                return  // the task was cancelled (runtime shutting down)
            }
            keepAlive = head.keepAlive && !drain.isDraining  // draining: close after this one
            message.withUnsafeBytes { body in
                out.appendResponse(.ok, body: body, keepAlive: keepAlive, headOnly: head.method == .head)
            }
        case .failure(let status, let reason):
            // A 400 closes the connection: the client is confused about something.
            keepAlive = head.keepAlive && status != .badRequest && !drain.isDraining
            out.appendResponse(
                status, text: reason, keepAlive: keepAlive, headOnly: head.method == .head,
                allow: status == .methodNotAllowed)
        }
        if config.verbose {
            let code: Int
            if case .failure(let status, _) = decision { code = status.code } else { code = 200 }
            emit("\(peerName(stream)) \(String(decoding: head.target, as: UTF8.self)) -> \(code)\n", to: 2)
        }
        let sent = await send(stream, out.bytes, config)
        drain.inFlight.subtract(1, ordering: .relaxed)
        guard sent else { return }

        // 4. Drop the head and the body from the buffer, keep what follows.
        let bodyHere = min(head.contentLength, input.filled - headLength)
        input.consume(headLength + bodyHere)
        let bodyLeft = head.contentLength - bodyHere
        if bodyLeft > 0 {
            guard await discardBody(stream, input, bodyLeft, config) else { return }
        }

        if !keepAlive {
            await lingeringClose(stream, input)
            return
        }
    }
}

/// Reads and drops `count` body bytes; bytes after the body stay in `input`.
private func discardBody(
    _ stream: TcpStream, _ input: InputBuffer, _ count: Int, _ config: ServerConfig
) async -> Bool {
    precondition(input.filled == 0)
    do {
        try await Eddy.timeout(config.ioTimeout) {
            var left = count
            while left > 0 {
                let n = try await stream.read(into: input.free)
                if n == 0 { throw EddyError.errno(ECONNRESET) }
                input.filled = n
                let dropped = min(n, left)
                input.consume(dropped)
                left -= dropped
            }
        }
        return true
    } catch {
        return false
    }
}

/// Answers with an error and closes the connection.
private func refuse(
    _ stream: TcpStream, _ input: InputBuffer, _ out: inout ResponseWriter, _ status: Status, _ reason: String,
    _ config: ServerConfig
) async {
    out.reset()
    out.appendResponse(status, text: reason, keepAlive: false)
    if await send(stream, out.bytes, config) {
        await lingeringClose(stream, input)
    }
}

/// Writes a whole response within the I/O timeout. False when the connection is unusable.
@discardableResult
private func send(_ stream: TcpStream, _ bytes: [UInt8], _ config: ServerConfig) async -> Bool {
    do {
        try await Eddy.timeout(config.ioTimeout) {
            try await stream.writeAll(bytes)
        }
        return true
    } catch {
        return false
    }
}

/// Half-closes, then reads and drops what the client still sends for a short while
/// before closing. Closing a socket with unread input makes the kernel send a RST,
/// which can destroy the response still in flight to the client (e.g. the 400 for
/// an oversized head the client is still sending).
private func lingeringClose(_ stream: TcpStream, _ input: InputBuffer) async {
    do {
        try stream.shutdown(.write)
    } catch {
        return
    }
    input.filled = 0
    _ = try? await Eddy.timeout(.seconds(2)) {
        var total = 0
        while total < 256 * 1024 {
            let n = try await stream.read(into: input.bytes)
            if n == 0 { return }
            total += n
        }
    }
}

private func peerName(_ stream: TcpStream) -> String {
    (try? stream.peerAddress.description) ?? "?"
}
