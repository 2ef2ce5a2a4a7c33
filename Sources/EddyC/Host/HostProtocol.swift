// HostProtocol: what a host and Eddy exchange through eddy_host_turn (include/eddy.h,
// "Host-driven tasks").
//
// A host-driven task is an Eddy task whose body runs in the host's own loop (e.g. the
// Python binding's driver) instead of a poll_fn callback. The host calls
// eddy_host_turn once per loop turn: it hands Eddy one *operation* per task it just
// ran (wait for a wake, read into a buffer, write a buffer, or finish), Eddy performs
// them (at once when possible, else when the socket is ready), turns the reactor, and
// returns one *event* per completed operation. No C-to-host callback per task poll,
// one host-to-C call per loop turn. Exactly one event answers each operation; a wake
// that cannot complete a read/write ends it as EDDY_HOST_WOKEN, so a wake from a
// timer, a waker handle or eddy_host_wake always reaches the host.
//
// The pieces: HostDriver (a runtime's tasks, their ids, the event queue, one turn),
// HostTask (one task: its operation, its saved cx), HostExports (the C functions).

import CEddyABI

/// Operation codes of eddy_host_op_t and the WOKEN result (include/eddy.h's macros).
enum HostOp {
    /// No operation outstanding (not an ABI code).
    static let none: UInt64 = 0
    static var wait: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_WAIT) } }
    static var read: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_READ) } }
    static var write: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_WRITE) } }
    static var finish: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_FINISH) } }
    /// EDDY_HOST_OP_FD (issue 17): wait for an fd watch's readiness inside the turn.
    static var fd: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_FD) } }
    /// EDDY_HOST_OP_REPEAT: or'ed into READ/WRITE; repeated at turns that do not name the task.
    static var repeatFlag: UInt64 { @inline(__always) get { UInt64(EDDY_HOST_OP_REPEAT) } }
    /// Event result of an operation ended by a wake (EDDY_HOST_WOKEN).
    static var woken: Int64 { @inline(__always) get { Int64(EDDY_HOST_WOKEN) } }

    /// `code` is an operation a batch may carry: a known op, REPEAT only on READ/WRITE.
    @inline(__always)
    static func isValid(_ code: UInt64) -> Bool {
        let base = code & ~repeatFlag
        guard base >= wait, base <= fd else { return false }
        return code & repeatFlag == 0 || base == read || base == write
    }
}

/// A completed operation not yet handed out.
struct HostEvent: BitwiseCopyable {
    let id: UInt64
    let result: Int64
    /// Its operation repeats (EDDY_HOST_OP_REPEAT): once handed out, the next
    /// turn repeats it unless the host names the task.
    let repeats: Bool
}
