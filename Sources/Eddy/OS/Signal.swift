import CEddySys
import Glibc

/// A signal number Eddy can watch (`Signals`), with names for the usual ones.
///
/// Any catchable signal is accepted: 1...31 except SIGKILL and SIGSTOP, and the realtime
/// signals SIGRTMIN...SIGRTMAX. SIGKILL, SIGSTOP, 0, glibc's two internal signals (32, 33)
/// and numbers out of range are refused with EINVAL when watched.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The signal number (`SIGTERM` ...).
    public let rawValue: Int32
    /// The signal `rawValue` (checked when watched, not here).
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// SIGTERM.
    public static let terminate = Signal(rawValue: SIGTERM)
    /// SIGINT.
    public static let interrupt = Signal(rawValue: SIGINT)
    /// SIGHUP.
    public static let hangup = Signal(rawValue: SIGHUP)
    /// SIGQUIT.
    public static let quit = Signal(rawValue: SIGQUIT)
    /// SIGUSR1.
    public static let user1 = Signal(rawValue: SIGUSR1)
    /// SIGUSR2.
    public static let user2 = Signal(rawValue: SIGUSR2)
    /// SIGCHLD.
    public static let child = Signal(rawValue: SIGCHLD)
    /// SIGALRM.
    public static let alarm = Signal(rawValue: SIGALRM)
    /// SIGWINCH.
    public static let windowChange = Signal(rawValue: SIGWINCH)
    /// SIGPIPE.
    public static let pipe = Signal(rawValue: SIGPIPE)

    /// Whether Eddy can watch this signal (see the type's comment).
    public var isWatchable: Bool {
        let s = rawValue
        if s >= 1 && s <= 31 { return s != SIGKILL && s != SIGSTOP }
        return s >= ceddy_sigrtmin() && s <= ceddy_sigrtmax()
    }

    /// "SIGTERM" ..., "signal N" for the others.
    public var description: String {
        switch rawValue {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGQUIT: return "SIGQUIT"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        case SIGCHLD: return "SIGCHLD"
        case SIGALRM: return "SIGALRM"
        case SIGWINCH: return "SIGWINCH"
        case SIGPIPE: return "SIGPIPE"
        default: return "signal \(rawValue)"
        }
    }
}
