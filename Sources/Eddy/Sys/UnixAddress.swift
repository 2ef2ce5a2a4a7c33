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
        let bytes = Array(path.utf8)
        if bytes.isEmpty || bytes.contains(0) { throw .invalidArgument }
        raw.sun_family = sa_family_t(AF_UNIX)
        isAbstract = bytes[0] == UInt8(ascii: "@")
        // Abstract: sun_path[0] = 0, then the name without the '@'; the length counts
        // exactly the name's bytes (no NUL).
        let name = isAbstract ? Array(bytes.dropFirst()) : bytes
        if name.count > UnixAddress.maxPathBytes || (isAbstract && name.isEmpty) {
            throw name.isEmpty ? .invalidArgument : .errno(ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &raw.sun_path) { p in
            let start = isAbstract ? 1 : 0
            for (i, b) in name.enumerated() { p[start + i] = b }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        length = socklen_t(offset + (isAbstract ? 1 + name.count : name.count + 1))
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let len = length
        return withUnsafePointer(to: raw) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, len) } }
    }
}
