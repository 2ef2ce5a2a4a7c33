// Routing for the delay server: `GET /{ms}/{message}`, plus the response encoder.

#if canImport(Glibc)
import Glibc
#endif

struct Status: Equatable, Sendable {
    var code: Int
    var reason: StaticString

    static func == (a: Status, b: Status) -> Bool { a.code == b.code }

    static let ok = Status(code: 200, reason: "OK")
    static let badRequest = Status(code: 400, reason: "Bad Request")
    static let notFound = Status(code: 404, reason: "Not Found")
    static let methodNotAllowed = Status(code: 405, reason: "Method Not Allowed")
    static let requestTimeout = Status(code: 408, reason: "Request Timeout")
    static let contentTooLarge = Status(code: 413, reason: "Content Too Large")
    static let notImplemented = Status(code: 501, reason: "Not Implemented")
    static let versionNotSupported = Status(code: 505, reason: "HTTP Version Not Supported")
}

/// The largest delay a request may ask for, in milliseconds.
let maxDelayMilliseconds = 60_000

enum Route: Equatable, Sendable {
    /// Wait `milliseconds`, then answer 200 with `message` (already percent-decoded).
    case delay(milliseconds: Int, message: [UInt8])
    /// Answer at once with an error status and a one-line reason.
    case failure(Status, String)
}

/// Decodes `%XY` escapes. Returns nil on a malformed escape. `+` stays `+` (this is a
/// path, not a form).
func percentDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
    @inline(__always) func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let c = bytes[i]
        if c == UInt8(ascii: "%") {
            guard i + 2 < bytes.endIndex, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { return nil }
            out.append(hi << 4 | lo)
            i += 3
        } else {
            out.append(c)
            i += 1
        }
    }
    return out
}

/// Parses the `{ms}` segment: decimal digits only, 0...maxDelayMilliseconds.
func parseDelay(_ segment: [UInt8]) -> Result<Int, Route> {
    if segment.isEmpty { return .failure(.failure(.badRequest, "missing delay")) }
    var digits = segment[...]
    var negative = false
    if digits.first == UInt8(ascii: "-") {
        negative = true
        digits = digits.dropFirst()
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        return .failure(.failure(.badRequest, "delay is not a number"))
    }
    if negative { return .failure(.failure(.badRequest, "delay is negative")) }
    var value = 0
    for c in digits {
        value = value * 10 + Int(c - UInt8(ascii: "0"))
        if value > maxDelayMilliseconds {
            return .failure(.failure(.badRequest, "delay is over \(maxDelayMilliseconds) ms"))
        }
    }
    return .success(value)
}

extension Route: Error {}

/// Maps a parsed request to what the server should do.
func route(_ head: RequestHead) -> Route {
    var target = head.target[...]
    // absolute-form (RFC 9112 §3.2.2): keep only the path.
    if target.first != UInt8(ascii: "/") {
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")),
            target[colon...].starts(with: "://".utf8), target[..<colon].allSatisfy(isTokenChar)
        else {
            return .failure(.badRequest, "invalid request target")
        }
        let authorityStart = colon + 3
        if let slash = target[authorityStart...].firstIndex(of: UInt8(ascii: "/")) {
            target = target[slash...]
        } else {
            target = "/".utf8.map { $0 }[...]
        }
    }
    // Drop query and fragment.
    if let q = target.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
        target = target[..<q]
    }
    // "/" {ms} "/" {message}
    let afterSlash = target.index(after: target.startIndex)
    guard let second = target[afterSlash...].firstIndex(of: UInt8(ascii: "/")) else {
        return .failure(.notFound, "no such path; try GET /{ms}/{message}")
    }
    guard head.method == .get || head.method == .head else {
        return .failure(.methodNotAllowed, "only GET and HEAD are allowed")
    }
    guard let delaySegment = percentDecode(target[afterSlash..<second]),
        let message = percentDecode(target[(second + 1)...])
    else {
        return .failure(.badRequest, "malformed percent-encoding")
    }
    switch parseDelay(delaySegment) {
    case .success(let ms): return .delay(milliseconds: ms, message: message)
    case .failure(let failure): return failure
    }
}

// MARK: - Response encoding

private let weekdayNames: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
private let monthNames: [StaticString] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
]

/// Appends responses to a reusable byte array (its capacity is kept between
/// responses, so steady-state keep-alive traffic does not allocate here).
struct ResponseWriter {
    var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) mutating func append(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0)
        if value >= 10 { appendDecimal(value / 10) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// `Date: Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7 IMF-fixdate).
    mutating func appendDate() {
        var now = time(nil)
        var parts = tm()
        guard gmtime_r(&now, &parts) != nil else { return }
        append("Date: ")
        append(weekdayNames[Int(parts.tm_wday) % 7])
        append(", ")
        appendTwoDigits(Int(parts.tm_mday))
        append(" ")
        append(monthNames[Int(parts.tm_mon) % 12])
        append(" ")
        appendDecimal(Int(parts.tm_year) + 1900)
        append(" ")
        appendTwoDigits(Int(parts.tm_hour))
        append(":")
        appendTwoDigits(Int(parts.tm_min))
        append(":")
        appendTwoDigits(Int(parts.tm_sec))
        append(" GMT\r\n")
    }

    private mutating func appendTwoDigits(_ v: Int) {
        bytes.append(UInt8(ascii: "0") + UInt8(v / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(v % 10))
    }

    /// A complete response. `headOnly` (HEAD) keeps the headers, Content-Length
    /// included, and drops the body.
    mutating func appendResponse(
        _ status: Status, body: UnsafeRawBufferPointer, keepAlive: Bool, headOnly: Bool = false,
        allow: Bool = false
    ) {
        append("HTTP/1.1 ")
        appendDecimal(status.code)
        append(" ")
        append(status.reason)
        append("\r\nServer: eddy-delayserver\r\n")
        appendDate()
        append("Content-Type: text/plain\r\nContent-Length: ")
        appendDecimal(body.count)
        append("\r\n")
        if allow { append("Allow: GET, HEAD\r\n") }
        if !keepAlive { append("Connection: close\r\n") }
        append("\r\n")
        if !headOnly { bytes.append(contentsOf: body) }
    }

    mutating func appendResponse(
        _ status: Status, text: String, keepAlive: Bool, headOnly: Bool = false, allow: Bool = false
    ) {
        var text = text
        text.append("\n")
        text.withUTF8 { utf8 in
            appendResponse(
                status, body: UnsafeRawBufferPointer(utf8), keepAlive: keepAlive, headOnly: headOnly, allow: allow)
        }
    }
}
