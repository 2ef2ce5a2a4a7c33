#if canImport(Glibc)
import Glibc
#endif

/// Every failure in Eddy is a value: a negative code shared with the C ABI.
///
/// System errors carry `-errno` (`-ECONNREFUSED` …); Eddy's own conditions use codes
/// below -5000, the same numbers `include/eddy.h` defines.
public struct EddyError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Negative: `-errno`, or an Eddy code below -5000.
    public let code: Int32

    /// Wraps a raw code (negative). Positive values are treated as errno.
    public init(code: Int32) { self.code = code > 0 ? -code : code }

    /// An error from the kernel's `errno`.
    public static func errno(_ value: Int32) -> EddyError { EddyError(code: -abs(value)) }

    /// The errno behind this error, when it came from the kernel.
    public var errno: Int32? { code > -5000 && code < 0 ? -code : nil }

    /// A stale, forged, wrong-kind or freed handle.
    public static let badHandle = EddyError(code: -5001)
    /// Used in a child process after `fork()`.
    public static let forked = EddyError(code: -5002)
    /// The runtime is gone, or no Eddy runtime drives this thread.
    public static let shutdown = EddyError(code: -5003)
    /// Called from a thread that may not touch this object now.
    public static let wrongThread = EddyError(code: -5004)
    /// A result asked for before it exists, or taken twice.
    public static let notReady = EddyError(code: -5005)
    /// A C poll function returned something other than READY, PENDING or an error.
    public static let badPoll = EddyError(code: -5006)
    /// The operation was cancelled (`-ECANCELED`).
    public static let cancelled = EddyError.errno(ECANCELED)
    /// A deadline passed (`-ETIMEDOUT`).
    public static let timedOut = EddyError.errno(ETIMEDOUT)
    /// A caller passed something unusable (`-EINVAL`).
    public static let invalidArgument = EddyError.errno(EINVAL)

    /// A symbolic name: `ECONNREFUSED`, `EDDY_EBADHANDLE`, ...
    public var name: String { EddyError.name(of: code) }

    /// A readable message.
    public var message: String { EddyError.message(of: code) }

    /// "NAME: message", e.g. "ECONNREFUSED: Connection refused".
    public var description: String { "\(name): \(message)" }

    static func name(of code: Int32) -> String {
        switch code {
        case -5001: return "EDDY_EBADHANDLE"
        case -5002: return "EDDY_EFORKED"
        case -5003: return "EDDY_ESHUTDOWN"
        case -5004: return "EDDY_EWRONGTHREAD"
        case -5005: return "EDDY_ENOTREADY"
        case -5006: return "EDDY_EBADPOLL"
        default:
            if let n = errnoNames[-code] { return n }
            return "EDDY_EUNKNOWN(\(code))"
        }
    }

    static func message(of code: Int32) -> String {
        switch code {
        case -5001: return "invalid, stale or wrong-kind handle"
        case -5002: return "Eddy cannot be used in a child process after fork()"
        case -5003: return "the runtime is shut down or not running on this thread"
        case -5004: return "called from a thread that may not use this object now"
        case -5005: return "result not ready or already taken"
        case -5006: return "poll function returned an invalid value"
        default:
            if code < 0, code > -5000, let s = strerror(-code) { return String(cString: s) }
            return "unknown error"
        }
    }

    static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOSPC: "ENOSPC", EPIPE: "EPIPE",
        ENOTSOCK: "ENOTSOCK", EMSGSIZE: "EMSGSIZE", EPROTONOSUPPORT: "EPROTONOSUPPORT",
        EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE",
        EADDRNOTAVAIL: "EADDRNOTAVAIL", ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH",
        ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS", EISCONN: "EISCONN",
        ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED",
        EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY", EINPROGRESS: "EINPROGRESS",
        ECANCELED: "ECANCELED", ENOSYS: "ENOSYS", ERANGE: "ERANGE",
    ]
}
