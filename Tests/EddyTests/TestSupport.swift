import Glibc
@testable import Eddy

/// Open descriptors of this process (counts /proc/self/fd entries).
/// Descriptors a runtime itself holds: epoll's instance and eventfd; io_uring's ring,
/// eventfd and signalfd.
func ownDescriptors(_ rt: Runtime) -> Int { (rt.driver == .ioUring ? 3 : 2) * rt.workers }

func openDescriptorCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var n = 0
    while readdir(dir) != nil { n += 1 }
    return n - 3  // ".", ".." and the directory stream itself
}

/// A connected pair on 127.0.0.1 (client side, server side), made on an Eddy loop
/// (inside `rt.blockOn`).
func connectedPair() async throws -> (TcpStream, TcpStream) {
    let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
    defer { listener.close() }
    let accept = Eddy.spawn { try await listener.accept() }
    let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
    return (c, try await accept.value)
}

/// The EddyError `body` throws (code -9999 for an error of another type),
/// or nil when it returns.
func thrownError<T>(_ body: () async throws -> T) async -> EddyError? {
    do { _ = try await body() } catch { return error as? EddyError ?? EddyError(code: -9999) }
    return nil
}

/// Whether a plain AF_INET6 socket can bind [::1]:0 (IPv6 enabled, loopback has ::1).
func ipv6LoopbackUsable() -> Bool {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    if fd < 0 { return false }
    defer { close(fd) }
    var a = sockaddr_in6()
    a.sin6_family = sa_family_t(AF_INET6)
    a.sin6_addr = in6addr_loopback
    return withUnsafePointer(to: &a) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    } == 0
}

/// Milliseconds elapsed since `start`.
func millis(since start: Instant) -> Double {
    Double(Instant.now().nanoseconds - start.nanoseconds) / 1e6
}

/// A poll-style echo server task: accepts `connections` clients and echoes each until EOF.
struct EchoConnection: Future {
    let stream: TcpStream
    var buffer = [UInt8](repeating: 0, count: 4096)
    var pending = 0
    var offset = 0

    init(_ stream: TcpStream) { self.stream = stream }

    mutating func poll(_ cx: inout Context) -> Poll<Result<Int, EddyError>> {
        while true {
            if offset < pending {
                let r = buffer.withUnsafeBytes { raw in
                    stream.pollWrite(&cx, UnsafeRawBufferPointer(rebasing: raw[offset..<pending]))
                }
                switch r {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success(let n)): offset += n
                }
                continue
            }
            let r = buffer.withUnsafeMutableBytes { stream.pollRead(&cx, into: $0) }
            switch r {
            case .pending: return .pending
            case .ready(.failure(let e)): return .ready(.failure(e))
            case .ready(.success(0)):
                stream.close()
                return .ready(.success(0))
            case .ready(.success(let n)):
                pending = n
                offset = 0
            }
        }
    }
}
