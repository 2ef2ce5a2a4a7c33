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
    public static let badHandle = EddyError(code: OwnCode.badHandle)
    /// Used in a child process after `fork()`.
    public static let forked = EddyError(code: OwnCode.forked)
    /// The runtime is shut down (or, in the C ABI, being freed).
    public static let shutdown = EddyError(code: OwnCode.shutdown)
    /// Called from a thread that may not use this runtime or object now: not the
    /// loop thread of the object's runtime, or a thread no Eddy runtime drives
    /// (a `Task.detached`, a plain thread).
    public static let wrongThread = EddyError(code: OwnCode.wrongThread)
    /// A result asked for before it exists, or taken twice.
    public static let notReady = EddyError(code: OwnCode.notReady)
    /// A C poll function returned something other than READY, PENDING or an error.
    public static let badPoll = EddyError(code: OwnCode.badPoll)
    // ---- names (issue 15 item 1) ----
    /// A name that does not resolve (`EDDY_EAI_NONAME`, getaddrinfo's `EAI_NONAME`).
    public static let nameNotFound = EddyError(code: OwnCode.eaiNoName)
    /// The resolver could not answer now (`EDDY_EAI_AGAIN`); also a lookup that ran
    /// past its time bound.
    public static let nameTemporaryFailure = EddyError(code: OwnCode.eaiAgain)
    /// `true` for the resolver's codes (`EDDY_EAI_*`).
    public var isResolverError: Bool { code < OwnCode.eaiBase && code > OwnCode.eaiBase - 100 }
    /// The operation was cancelled (`-ECANCELED`).
    public static let cancelled = EddyError.errno(ECANCELED)
    /// A deadline passed (`-ETIMEDOUT`).
    public static let timedOut = EddyError.errno(ETIMEDOUT)
    /// A caller passed something unusable (`-EINVAL`).
    public static let invalidArgument = EddyError.errno(EINVAL)

    /// A symbolic name: `ECONNREFUSED`, `EDDY_EBADHANDLE`, ... (`EDDY_EUNKNOWN` for a
    /// code without one): the same string `eddy_err_name` returns.
    public var name: String { EddyError.name(of: code) }

    /// A readable message: the same string `eddy_strerror` returns.
    public var message: String { EddyError.message(of: code) }

    /// "NAME: message", e.g. "ECONNREFUSED: Connection refused".
    public var description: String { "\(name): \(message)" }

    /// Both read ErrorTable.swift, the table the C ABI uses.
    static func name(of code: Int32) -> String { String(cString: errorName(code)) }

    static func message(of code: Int32) -> String { String(cString: errorMessage(code)) }
}
