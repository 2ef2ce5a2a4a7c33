// HTTP/1.x request-head parser over raw bytes (RFC 9112), no Foundation.
//
// The parser is pure: it looks at the bytes received so far and says whether a
// complete head is there, and if so what it means. It never allocates except for
// the request target it returns. Being strict here is what keeps the server safe:
// anything ambiguous (bare CR, whitespace before a colon, obsolete line folding,
// conflicting Content-Length, Transfer-Encoding together with Content-Length)
// is rejected with a 400 and the connection is closed, which is what RFC 9112
// recommends against request smuggling.

enum HTTPVersion: Equatable, Sendable {
    case http10, http11
}

struct RequestHead: Equatable, Sendable {
    enum Method: Equatable, Sendable {
        case get, head, other
    }
    var method: Method
    /// The request target exactly as received (origin-form or absolute-form).
    var target: [UInt8]
    var version: HTTPVersion
    /// Whether the connection may stay open after this request, from the version
    /// default (1.1 persistent, 1.0 not) and the Connection header.
    var keepAlive: Bool
    /// Declared body length; 0 when there is no Content-Length.
    var contentLength: Int
    /// Transfer-Encoding was present: the body length is unknown to this server.
    var hasTransferEncoding: Bool
}

enum HeadParseResult: Equatable, Sendable {
    /// No complete head yet. Resume scanning at `scanFrom` when more bytes arrive.
    case incomplete(scanFrom: Int)
    /// A complete head; `length` bytes of the buffer belong to it (leading empty
    /// lines and the terminating empty line included).
    case complete(RequestHead, length: Int)
    /// The head does not fit in the limit.
    case tooLarge
    /// A well-formed request line with a version this server does not speak.
    case unsupportedVersion
    /// Malformed; the reason ends up in the 400 body.
    case invalid(String)
}

private let CR: UInt8 = 13
private let LF: UInt8 = 10
private let SP: UInt8 = 32
private let HT: UInt8 = 9
private let COLON: UInt8 = 58

/// tchar per RFC 9110 §5.6.2.
@inline(__always)
func isTokenChar(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
        UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
        UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

@inline(__always)
private func lower(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
}

/// Case-insensitive comparison of `bytes[range]` with a lowercase ASCII literal.
private func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let lit = literal.utf8Start
    var i = 0
    for j in range {
        if lower(bytes[j]) != lit[i] { return false }
        i += 1
    }
    return true
}

/// Parses the request head at the start of `buffer`.
///
/// - Parameters:
///   - buffer: the bytes received so far on the connection (after the previous request).
///   - scanFrom: from a previous `.incomplete`, to avoid rescanning; 0 otherwise.
///   - limit: the maximum size of a head in bytes (leading empty lines included).
func parseRequestHead(_ buffer: UnsafeRawBufferPointer, scanFrom: Int = 0, limit: Int = 8192) -> HeadParseResult {
    let n = buffer.count
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
    var start = 0
    while start < n {
        if buffer[start] == LF {
            start += 1
        } else if buffer[start] == CR {
            if start + 1 == n { break }
            guard buffer[start + 1] == LF else { return .invalid("bare CR") }
            start += 2
        } else {
            break
        }
    }
    // Find the empty line that ends the head: LF followed by LF or CR LF.
    var end = -1
    var j = max(scanFrom, start)
    var resume = n
    while j < n {
        if buffer[j] == LF {
            if j + 1 == n { resume = j; break }
            if buffer[j + 1] == LF { end = j + 2; break }
            if buffer[j + 1] == CR {
                if j + 2 == n { resume = j; break }
                if buffer[j + 2] == LF { end = j + 3; break }
            }
        }
        j += 1
    }
    if end < 0 {
        return n >= limit ? .tooLarge : .incomplete(scanFrom: resume)
    }
    if end > limit { return .tooLarge }
    return parseLines(buffer, start, end)
}

/// Parses the lines in `buffer[start..<end]`; `end` is just past the empty line.
private func parseLines(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HeadParseResult {
    // Iterates lines: returns the content range without the line terminator.
    var pos = start
    func nextLine() -> Range<Int>? {
        guard pos < end else { return nil }
        var k = pos
        while b[k] != LF { k += 1 }  // the head is known to end with LF
        var contentEnd = k
        if contentEnd > pos && b[contentEnd - 1] == CR { contentEnd -= 1 }
        let line = pos..<contentEnd
        pos = k + 1
        return line
    }

    // --- request-line = method SP request-target SP HTTP-version
    guard let requestLine = nextLine() else { return .invalid("empty request") }
    var i = requestLine.lowerBound
    let methodStart = i
    while i < requestLine.upperBound && isTokenChar(b[i]) { i += 1 }
    let methodRange = methodStart..<i
    guard !methodRange.isEmpty, i < requestLine.upperBound, b[i] == SP else {
        return .invalid("malformed request line")
    }
    i += 1
    let targetStart = i
    while i < requestLine.upperBound && b[i] > SP && b[i] < 0x7F { i += 1 }
    let targetRange = targetStart..<i
    guard !targetRange.isEmpty, i < requestLine.upperBound, b[i] == SP else {
        return .invalid("malformed request line")
    }
    i += 1
    let versionRange = i..<requestLine.upperBound
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive)
    guard versionRange.count == 8,
        b[i] == UInt8(ascii: "H"), b[i + 1] == UInt8(ascii: "T"), b[i + 2] == UInt8(ascii: "T"),
        b[i + 3] == UInt8(ascii: "P"), b[i + 4] == UInt8(ascii: "/"),
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 5]), b[i + 6] == UInt8(ascii: "."),
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 7])
    else {
        return .invalid("malformed HTTP version")
    }
    let version: HTTPVersion
    switch (b[i + 5], b[i + 7]) {
    case (UInt8(ascii: "1"), UInt8(ascii: "1")): version = .http11
    case (UInt8(ascii: "1"), UInt8(ascii: "0")): version = .http10
    default: return .unsupportedVersion
    }
    // Methods are case-sensitive.
    let method: RequestHead.Method
    if methodRange.count == 3 && b[methodStart] == UInt8(ascii: "G") && b[methodStart + 1] == UInt8(ascii: "E")
        && b[methodStart + 2] == UInt8(ascii: "T")
    {
        method = .get
    } else if methodRange.count == 4 && b[methodStart] == UInt8(ascii: "H")
        && b[methodStart + 1] == UInt8(ascii: "E") && b[methodStart + 2] == UInt8(ascii: "A")
        && b[methodStart + 3] == UInt8(ascii: "D")
    {
        method = .head
    } else {
        method = .other
    }

    // --- header fields
    var connectionClose = false
    var connectionKeepAlive = false
    var contentLength: Int? = nil
    var transferEncoding = false
    var hostCount = 0
    while let line = nextLine() {
        if line.isEmpty { break }  // the terminating empty line
        let first = b[line.lowerBound]
        if first == SP || first == HT { return .invalid("obsolete line folding") }
        var k = line.lowerBound
        while k < line.upperBound && isTokenChar(b[k]) { k += 1 }
        let name = line.lowerBound..<k
        guard !name.isEmpty, k < line.upperBound, b[k] == COLON else {
            return .invalid("malformed header field")
        }
        k += 1
        // field-value, with optional whitespace trimmed on both sides
        var vs = k
        var ve = line.upperBound
        while vs < ve && (b[vs] == SP || b[vs] == HT) { vs += 1 }
        while ve > vs && (b[ve - 1] == SP || b[ve - 1] == HT) { ve -= 1 }
        for v in vs..<ve {
            let c = b[v]
            if (c < SP && c != HT) || c == 0x7F { return .invalid("control character in header field") }
        }
        let value = vs..<ve

        if equalsLowercase(b, name, "host") {
            hostCount += 1
        } else if equalsLowercase(b, name, "connection") {
            // Connection = #connection-option: a comma-separated token list.
            var t = value.lowerBound
            while t < value.upperBound {
                while t < value.upperBound && (b[t] == SP || b[t] == HT || b[t] == UInt8(ascii: ",")) { t += 1 }
                let ts = t
                while t < value.upperBound && b[t] != UInt8(ascii: ",") { t += 1 }
                var te = t
                while te > ts && (b[te - 1] == SP || b[te - 1] == HT) { te -= 1 }
                if equalsLowercase(b, ts..<te, "close") { connectionClose = true }
                if equalsLowercase(b, ts..<te, "keep-alive") { connectionKeepAlive = true }
            }
        } else if equalsLowercase(b, name, "content-length") {
            guard !value.isEmpty, value.count <= 15 else { return .invalid("bad Content-Length") }
            var length = 0
            for v in value {
                let c = b[v]
                guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return .invalid("bad Content-Length") }
                length = length * 10 + Int(c - UInt8(ascii: "0"))
            }
            if let previous = contentLength, previous != length { return .invalid("conflicting Content-Length") }
            contentLength = length
        } else if equalsLowercase(b, name, "transfer-encoding") {
            transferEncoding = true
        }
    }
    if transferEncoding && contentLength != nil {
        return .invalid("both Transfer-Encoding and Content-Length")
    }
    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without exactly one Host.
    if version == .http11 && hostCount != 1 { return .invalid("missing or duplicate Host header") }
    if hostCount > 1 { return .invalid("duplicate Host header") }

    let keepAlive: Bool
    switch version {
    case .http11: keepAlive = !connectionClose
    case .http10: keepAlive = connectionKeepAlive && !connectionClose
    }
    let target = [UInt8](UnsafeRawBufferPointer(rebasing: b[targetRange]))
    let head = RequestHead(
        method: method, target: target, version: version, keepAlive: keepAlive,
        contentLength: contentLength ?? 0, hasTransferEncoding: transferEncoding)
    return .complete(head, length: end)
}
