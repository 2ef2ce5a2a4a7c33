#if canImport(Glibc)
import Glibc
#endif

/// A Unix-domain socket address (`sockaddr_un`): a filesystem path, or a Linux abstract
/// name written `@name` (no file; gone with the last socket).
struct UnixAddress {
    var raw = sockaddr_un()
    var length: socklen_t = 0
    /// The path is abstract (`@name`): nothing to unlink, no stale file possible.
    var isAbstract = false

    /// The longest path `sun_path` holds with its terminating NUL (107 on Linux).
    static var maxPathBytes: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    /// Empty paths and paths with NUL bytes are EINVAL; a path (or abstract name) longer
    /// than `sun_path` holds is ENAMETOOLONG: refused, never truncated (a truncated path
    /// would bind or reach a different socket).
    init(path: String) throws(EddyError) {
        var p = path
        let rc = p.withUTF8 { UnixAddress.fill(&self, UnsafeRawBufferPointer($0)) }
        if rc != 0 { throw rc < 0 ? .invalidArgument : .errno(rc) }
    }

    /// `init(path:)` from a NUL-terminated C string, without a heap allocation (the
    /// per-datagram send path of the C ABI parses its destination this way).
    init(cString: UnsafePointer<CChar>) throws(EddyError) {
        let rc = UnixAddress.fill(&self, UnsafeRawBufferPointer(start: cString, count: strlen(cString)))
        if rc != 0 { throw rc < 0 ? .invalidArgument : .errno(rc) }
    }

    /// Fills `a` from the path's bytes: 0, -1 (EINVAL: empty, a NUL byte, "@" alone)
    /// or ENAMETOOLONG. Reads the bytes in place: no allocation.
    private static func fill(_ a: inout UnixAddress, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        if bytes.isEmpty || bytes.contains(0) { return -1 }
        a.raw.sun_family = sa_family_t(AF_UNIX)
        a.isAbstract = bytes[0] == UInt8(ascii: "@")
        // Abstract: sun_path[0] = 0, then the name without the '@'; the length counts
        // exactly the name's bytes (no NUL).
        let name = a.isAbstract ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
        if name.isEmpty { return -1 }
        if name.count > UnixAddress.maxPathBytes { return ENAMETOOLONG }
        let start = a.isAbstract ? 1 : 0
        withUnsafeMutableBytes(of: &a.raw.sun_path) { p in
            UnsafeMutableRawBufferPointer(rebasing: p[start..<(start + name.count)]).copyMemory(from: name)
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        a.length = socklen_t(offset + (a.isAbstract ? 1 + name.count : name.count + 1))
        return 0
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let len = length
        return withUnsafePointer(to: raw) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, len) } }
    }
}
