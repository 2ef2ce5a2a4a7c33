// eddy-delay-client: N concurrent GET /{delay}/{text}-{i} requests on one Eddy thread.

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: eddy-delay-client [--host HOST] [--port PORT] [-n N] [--text TEXT]

    Spawns N tasks (default 10); task i asks the delay server for
    GET /{100 + i*900/(N-1)}/{TEXT}-{i}, so delays spread over 100...1000 ms.
    Replies are printed as they arrive; the total time is close to the longest
    delay, not to the sum of the delays. Exit status 1 if any request failed.

    """

struct ClientConfig: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 8080
    var count = 10
    var text = "hello"
}

func parseOptions(_ arguments: [String]) throws(UsageError) -> ClientConfig {
    var config = ClientConfig()
    try readOptions(arguments) { (name, value) throws(UsageError) in
        switch name {
        case "--host": config.host = try hostOption(value())
        case "--port", "-p": config.port = try portOption(value(), allowZero: false)
        case "-n", "--count":
            guard let v = value(), let n = Int(v), n >= 1, n <= 10_000 else {
                throw UsageError(message: "-n needs a number 1...10000")
            }
            config.count = n
        case "--text":
            guard let v = value() else { throw UsageError(message: "--text needs a value") }
            config.text = v
        default: return false
        }
        return true
    }
    return config
}

/// Delay for task `i` of `n`: spread evenly over 100...1000 ms.
func delay(for i: Int, of n: Int) -> Int {
    n == 1 ? 100 : 100 + i * 900 / (n - 1)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
func percentEncode(_ text: String) -> String {
    let hexDigits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for c in text.utf8 {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(c)
        default:
            out.append(UInt8(ascii: "%"))
            out.append(hexDigits[Int(c >> 4)])
            out.append(hexDigits[Int(c & 15)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

struct Reply: Sendable {
    var status: Int
    var body: [UInt8]
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// Parses `HTTP/1.x SSS ...` and the Content-Length of a response head.
/// Returns nil while the head is incomplete.
func parseResponseHead(_ bytes: [UInt8]) throws -> (status: Int, contentLength: Int?, headLength: Int)? {
    // Find the end of the head.
    var end = -1
    var i = 0
    while i + 1 < bytes.count {
        if bytes[i] == 10 && bytes[i + 1] == 10 { end = i + 2; break }
        if i + 2 < bytes.count && bytes[i] == 10 && bytes[i + 1] == 13 && bytes[i + 2] == 10 { end = i + 3; break }
        i += 1
    }
    if end < 0 { return nil }
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = 0
    for k in 0..<end where bytes[k] == 10 {
        var line = bytes[lineStart..<k]
        if line.last == 13 { line = line.dropLast() }
        lines.append(line)
        lineStart = k + 1
    }
    guard let statusLine = lines.first, statusLine.starts(with: "HTTP/1.".utf8), statusLine.count >= 12 else {
        throw ClientError(description: "malformed status line")
    }
    let codeBytes = statusLine[(statusLine.startIndex + 9)..<(statusLine.startIndex + 12)]
    guard let status = Int(String(decoding: codeBytes, as: UTF8.self)) else {
        throw ClientError(description: "malformed status code")
    }
    var contentLength: Int? = nil
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        if name == "content-length" {
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).filter { $0 != " " && $0 != "\t" }
            guard let n = Int(value), n >= 0 else { throw ClientError(description: "bad Content-Length") }
            contentLength = n
        }
    }
    return (status, contentLength, end)
}

/// One request on its own connection (`Connection: close`).
func fetch(host: String, port: UInt16, path: String) async throws -> Reply {
    let stream = try await TcpStream.connect(host: host, port: port)
    defer { stream.close() }
    let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"  // IPv6 literals in brackets
    try await stream.writeAll("GET \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n")
    var received: [UInt8] = []
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { chunk.deallocate() }
    while true {
        let n = try await stream.read(into: chunk)
        if n > 0 { received.append(contentsOf: chunk[0..<n]) }
        if let head = try parseResponseHead(received) {
            if let length = head.contentLength, received.count - head.headLength >= length {
                return Reply(status: head.status, body: Array(received[head.headLength..<(head.headLength + length)]))
            }
            if n == 0 {
                guard head.contentLength == nil else { throw ClientError(description: "connection closed mid-body") }
                return Reply(status: head.status, body: Array(received[head.headLength...]))
            }
        } else if n == 0 {
            throw ClientError(description: "connection closed before a response")
        }
        if received.count > 1 << 20 { throw ClientError(description: "response too large") }
    }
}

func milliseconds(since start: Instant) -> Int {
    Int((Instant.now().nanoseconds &- start.nanoseconds) / 1_000_000)
}

func padded(_ value: Int, width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

func describe(_ error: any Error) -> String {
    if let e = error as? EddyError { return "\(e.name): \(e.message)" }
    return "\(error)"
}

/// Runs the whole client. Returns the process exit status.
func runClient(_ arguments: [String]) -> Int32 {
    let config: ClientConfig
    do { config = try parseOptions(arguments) } catch {
        return exitStatus(for: error, program: "eddy-delay-client", usage: usage)
    }
    signal(SIGPIPE, SIG_IGN)
    let runtime: Runtime
    do {
        runtime = try Runtime()
    } catch {
        emit("eddy-delay-client: cannot create runtime: \(error)\n", to: 2)
        return 1
    }
    defer { _ = try? runtime.shutdown() }

    let n = config.count
    let encodedText = percentEncode(config.text)
    do {
        let failures = try runtime.blockOn { () async throws -> Int in
            let start = Instant.now()
            var tasks: [Task<Bool, any Error>] = []
            tasks.reserveCapacity(n)
            for i in 0..<n {
                let ms = delay(for: i, of: n)
                let path = "/\(ms)/\(encodedText)-\(i)"
                tasks.append(
                    Eddy.spawn { () async throws -> Bool in
                        do {
                            // The server waits at most 60 s; allow for a slow network on top.
                            let reply = try await Eddy.timeout(.milliseconds(ms) + .seconds(30)) {
                                try await fetch(host: config.host, port: config.port, path: path)
                            }
                            let elapsed = padded(milliseconds(since: start), width: 5)
                            let body = String(decoding: reply.body, as: UTF8.self)
                            if reply.status == 200 {
                                emit("[\(elapsed) ms] reply \(i): \(body)" + "\n")
                                return true
                            }
                            emit("[\(elapsed) ms] reply \(i): HTTP \(reply.status): \(body)" + "\n")
                            return false
                        } catch {
                            let elapsed = padded(milliseconds(since: start), width: 5)
                            emit("[\(elapsed) ms] reply \(i): \(config.host) port \(config.port) FAILED: \(describe(error))" + "\n")
                            return false
                        }
                    })
            }
            var failures = 0
            for task in tasks where !((try? await task.value) ?? false) {
                failures += 1
            }
            let total = milliseconds(since: start)
            let sum = (0..<n).reduce(0) { $0 + delay(for: $1, of: n) }
            let longest = (0..<n).map { delay(for: $0, of: n) }.max() ?? 0
            emit(
                "total \(total) ms for \(n) request\(n == 1 ? "" : "s") (\(failures) failed); "
                    + "longest delay \(longest) ms, sum of delays \(sum) ms\n")
            return failures
        }
        return failures == 0 ? 0 : 1
    } catch {
        emit("eddy-delay-client: runtime failed: \(describe(error))\n", to: 2)
        return 1
    }
}
