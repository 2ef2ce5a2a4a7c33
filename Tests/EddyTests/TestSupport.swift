import Glibc
@testable import Eddy

/// Open descriptors of this process (counts /proc/self/fd entries).
func openDescriptorCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var n = 0
    while readdir(dir) != nil { n += 1 }
    return n - 3  // ".", ".." and the directory stream itself
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
