/// How a child process ended.
public enum TerminationStatus: Sendable, Hashable, CustomStringConvertible {
    /// It exited with this code (0...255).
    case exited(Int32)
    /// A signal ended it.
    case signalled(Int32)

    /// From `ceddy_decode_status`: a code (>= 0) or -(signal).
    init(decoded d: Int32) { self = d >= 0 ? .exited(d) : .signalled(-d) }

    /// Exited with code 0.
    public var isSuccess: Bool { self == .exited(0) }

    /// asyncio's `returncode`: the exit code, or -(signal number).
    public var returnCode: Int32 {
        switch self {
        case .exited(let c): return c
        case .signalled(let s): return -s
        }
    }

    /// "exited(N)" or "signalled(N)".
    public var description: String {
        switch self {
        case .exited(let c): return "exited(\(c))"
        case .signalled(let s): return "signalled(\(s))"
        }
    }
}
