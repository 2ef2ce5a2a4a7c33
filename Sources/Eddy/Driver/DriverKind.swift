import Glibc

/// The kernel interface a runtime waits for readiness with.
public enum DriverKind: Sendable, Equatable, CustomStringConvertible {
    /// epoll (edge-triggered) and an eventfd: every Linux.
    case epoll
    /// io_uring: multishot poll requests, one `io_uring_enter` per loop turn and none when
    /// completions are already there. Linux 5.13 or later, and allowed (seccomp, the
    /// `kernel.io_uring_disabled` sysctl and container policies may refuse it); a runtime
    /// asked for it falls back to epoll and says why (`Runtime.driverFallback`).
    case ioUring

    /// "epoll" or "io_uring", as `EDDY_DRIVER` spells them.
    public var description: String {
        switch self {
        case .epoll: return "epoll"
        case .ioUring: return "io_uring"
        }
    }

    /// `EDDY_DRIVER` (`io_uring` or `epoll`); epoll when unset or empty, EINVAL for any
    /// other value (a typo must not silently measure the other driver).
    static func fromEnvironment() throws(EddyError) -> DriverKind {
        guard let p = getenv("EDDY_DRIVER"), p.pointee != 0 else { return .epoll }
        switch String(cString: p) {
        case "epoll": return .epoll
        case "io_uring", "io-uring", "iouring": return .ioUring
        default: throw .invalidArgument
        }
    }

    /// Test hook: `EDDY_TEST_IO_URING_SETUP_ERRNO=N` makes io_uring's setup fail with errno
    /// N (as an old kernel, seccomp or io_uring_disabled would), so every front door's
    /// fallback can be tested on a kernel that has io_uring. 0 when unset.
    static func setupFailureHook() -> Int32 {
        guard let p = getenv("EDDY_TEST_IO_URING_SETUP_ERRNO") else { return 0 }
        return Int32(String(cString: p)) ?? 0
    }
}
