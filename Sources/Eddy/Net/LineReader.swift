import Glibc

/// A buffered reader over a `TcpStream` for line and frame protocols (issue 15):
/// lines up to a separator, and frames of an exact size.
///
/// Memory is bounded: one buffer of `limit + maxSeparator` bytes, allocated at init and
/// reused. A line longer than `limit` is `EddyError.errno(EMSGSIZE)` (and is dropped, up
/// to its separator when that was seen, else what was buffered: the next line read
/// continues after it, as asyncio's `readline`); a frame larger than the buffer is
/// `EMSGSIZE` before anything is read, so a peer-supplied size never makes the reader
/// allocate. End of stream before a frame is complete is `EddyError.errno(ENODATA)`.
///
/// Poll style (`pollLine`, `pollExactly`: the result points into the reader's buffer,
/// valid until the next call) and async (`readLine`, `read(exactly:)`, `lines`). Use it
/// on the stream's loop thread; it does not own the stream (reads after the stream was
/// closed fail with `.badHandle`, even when bytes are still buffered).
public final class LineReader: @unchecked Sendable {
    // @unchecked Sendable: as its stream, confined to the loop thread (checked by the
    // stream on every read).
    /// The stream read from.
    public let stream: TcpStream
    /// The most bytes a line may hold before its separator.
    public let limit: Int
    /// Separators are 1...maxSeparator bytes (EINVAL otherwise).
    public static let maxSeparator = 64
    /// The largest `limit` (and so the largest frame): 64 MiB.
    public static let maxLimit = 64 << 20

    private let buf: UnsafeMutableRawBufferPointer
    /// The async forms' copy of their separator (maxSeparator bytes).
    private let sepBuf: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    /// Bytes handed out by the last poll call, consumed at the next call.
    private var lent = 0
    /// Where the separator search resumes (relative to `start`).
    private var scanned = 0
    private var eof = false

    /// A reader over `stream` whose lines hold at most `limit` bytes (64 KiB, asyncio's
    /// default). A `limit` outside `1...maxLimit` throws `.invalidArgument`.
    public init(_ stream: TcpStream, limit: Int = 64 * 1024) throws(EddyError) {
        guard limit >= 1, limit <= LineReader.maxLimit else { throw .invalidArgument }
        self.stream = stream
        self.limit = limit
        buf = .allocate(byteCount: limit + LineReader.maxSeparator, alignment: 16)
        sepBuf = .allocate(byteCount: LineReader.maxSeparator, alignment: 1)
    }

    deinit {
        buf.deallocate()
        sepBuf.deallocate()
    }

    /// What one examination of the buffer (no I/O) decided.
    enum Scan {
        /// This many bytes from `start` are the result.
        case found(Int)
        /// Read from the stream, then scan again.
        case needMore
        /// The operation's error.
        case failed(EddyError)
    }

    private var buffered: Int { end - start }

    private func consumeLent() {
        start += lent
        lent = 0
        if start == end { start = 0; end = 0 }
    }

    /// Looks for `sep` in what is buffered.
    func scanLine(_ sep: UnsafeRawBufferPointer) -> Scan {
        let base = buf.baseAddress! + start
        let n = buffered, m = sep.count
        var i = scanned
        if n >= m {
            let s0 = sep[0]
            while i <= n - m {
                guard let hit = memchr(base + i, Int32(s0), n - m + 1 - i) else { break }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if memcmp(base + at, sep.baseAddress!, m) == 0 {
                    scanned = 0
                    if at > limit {  // seen, beyond the limit: drop through it
                        start += at + m
                        if start == end { start = 0; end = 0 }
                        return .failed(.errno(EMSGSIZE))
                    }
                    return .found(at + m)
                }
                i = at + 1
            }
            scanned = n - m + 1
        }
        if n - (m - 1) > limit {  // no separator within the limit: drop what is here
            start = 0; end = 0; scanned = 0
            return .failed(.errno(EMSGSIZE))
        }
        if eof { scanned = 0; return .found(n) }  // the last line, unterminated (0: end)
        return .needMore
    }

    /// `n` bytes when buffered.
    func scanExactly(_ n: Int) -> Scan {
        if buffered >= n { return .found(n) }
        if eof { return .failed(.errno(ENODATA)) }
        return .needMore
    }

    /// Room to read into (moves buffered bytes to the front first when needed).
    func space() -> UnsafeMutableRawBufferPointer {
        if end == buf.count, start > 0 {
            let n = buffered
            memmove(buf.baseAddress!, buf.baseAddress! + start, n)
            start = 0; end = n
        }
        return UnsafeMutableRawBufferPointer(rebasing: buf[end...])
    }

    func didRead(_ n: Int) {
        if n == 0 { eof = true } else { end += n }
    }

    private func validSeparator(_ sep: UnsafeRawBufferPointer) -> Bool {
        sep.count >= 1 && sep.count <= LineReader.maxSeparator && sep.baseAddress != nil
    }

    private func lend(_ n: Int) -> UnsafeRawBufferPointer {
        lent = n
        return UnsafeRawBufferPointer(start: buf.baseAddress! + start, count: n)
    }

    // MARK: poll style

    /// The next line through `separator` (included). At end of stream: the last line
    /// without its separator, then an empty buffer. The buffer is the reader's own,
    /// valid until the next call on this reader.
    public func pollLine(_ cx: inout Context, separator: UnsafeRawBufferPointer) -> Poll<Result<UnsafeRawBufferPointer, EddyError>> {
        guard validSeparator(separator) else { return .ready(.failure(.invalidArgument)) }
        return pollScan(&cx) { $0.scanLine(separator) }
    }

    /// Exactly `count` bytes (a frame). `count` above `limit + maxSeparator` is
    /// `EMSGSIZE`; end of stream first is `ENODATA`. Valid until the next call.
    public func pollExactly(_ cx: inout Context, count: Int) -> Poll<Result<UnsafeRawBufferPointer, EddyError>> {
        guard count >= 0 else { return .ready(.failure(.invalidArgument)) }
        guard count <= buf.count else { return .ready(.failure(.errno(EMSGSIZE))) }
        return pollScan(&cx) { $0.scanExactly(count) }
    }

    private func pollScan(_ cx: inout Context, _ scan: (LineReader) -> Scan) -> Poll<Result<UnsafeRawBufferPointer, EddyError>> {
        consumeLent()
        if !stream.isOpen { return .ready(.failure(.badHandle)) }
        while true {
            switch scan(self) {
            case .found(let n): return .ready(.success(lend(n)))
            case .failed(let e): return .ready(.failure(e))
            case .needMore:
                let room = space()
                switch stream.pollRead(&cx, into: room) {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success(let n)): didRead(n)
                }
            }
        }
    }

    // MARK: async

    nonisolated(nonsending) private func readScan(_ scan: (LineReader) -> Scan) async throws -> [UInt8] {
        consumeLent()
        if !stream.isOpen { throw EddyError.badHandle }
        while true {
            switch scan(self) {
            case .found(let n):
                let out = [UInt8](UnsafeRawBufferPointer(start: buf.baseAddress! + start, count: n))
                start += n
                if start == end { start = 0; end = 0 }
                return out
            case .failed(let e): throw e
            case .needMore: didRead(try await stream.read(into: space()))
            }
        }
    }

    /// The next line through `separator` (default `"\n"`, included); the last line
    /// may lack it; nil at end of stream. Over `limit`: throws `.errno(EMSGSIZE)`.
    nonisolated(nonsending) public func readLine(separator: [UInt8] = [10]) async throws -> [UInt8]? {
        guard separator.count >= 1, separator.count <= LineReader.maxSeparator else { throw EddyError.invalidArgument }
        sepBuf.copyBytes(from: separator)
        let sep = UnsafeRawBufferPointer(rebasing: sepBuf[..<separator.count])
        let line = try await readScan { $0.scanLine(sep) }
        return line.isEmpty ? nil : line
    }

    /// Exactly `count` bytes; see `pollExactly` for the errors.
    nonisolated(nonsending) public func read(exactly count: Int) async throws -> [UInt8] {
        guard count >= 0 else { throw EddyError.invalidArgument }
        guard count <= buf.count else { throw EddyError.errno(EMSGSIZE) }
        return try await readScan { $0.scanExactly(count) }
    }

    /// `for try await line in reader.lines`: `readLine()` until end of stream.
    public var lines: Lines { Lines(reader: self) }

    /// The lines of a `LineReader` as an `AsyncSequence`.
    public struct Lines: AsyncSequence, Sendable {
        /// Each element is one line, separator included (the last may lack it).
        public typealias Element = [UInt8]
        let reader: LineReader

        /// An iterator reading lines from the reader.
        public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

        /// Reads one line per `next()`.
        public struct Iterator: AsyncIteratorProtocol {
            let reader: LineReader
            /// The next line; nil at end of stream.
            public mutating func next() async throws -> [UInt8]? { try await reader.readLine() }
        }
    }
}
