// ErrorTable: the one name and message of every code.
//
// EddyError.name / .message (Swift) and eddy_err_name / eddy_strerror (C ABI) both
// read these functions, so they cannot disagree. The other copies of the table
// (include/eddy.h's EDDY_ERROR_MAP, the source; the Python binding's _lib.ERRORS)
// are checked against it by ErrorTableTests, Tests/c/test_misuse.c and
// bindings/python/tests/test_error_table.py.
// Every string is static (StaticString literals and glibc's static strerror text
// for the errno values it names), so the C functions may return them from any
// thread, also in a forked child, and the caller never frees them.

#if canImport(Glibc)
import Glibc
#endif

/// The name and message of every code include/eddy.h defines: its EDDY_ERROR_MAP,
/// entry by entry (the core cannot import the header: it is the C ABI's, a layer up).
/// ErrorTableTests compares the two both ways (every header entry is here with the same
/// code, name and message; nothing else is), test_error_table.py the Python copy.
/// errno codes are spelled with <errno.h>'s names, as in the header.
package func headerError(_ code: Int32) -> (name: StaticString, message: StaticString)? {
    switch code {
    case 0: return ("EDDY_READY", "success")
    case 1: return ("EDDY_PENDING", "operation pending")
    case -EINTR: return ("EINTR", "Interrupted system call")
    case -EAGAIN: return ("EAGAIN", "Resource temporarily unavailable")
    case -ENOMEM: return ("ENOMEM", "Cannot allocate memory")
    case -EBUSY: return ("EBUSY", "Device or resource busy")
    case -EINVAL: return ("EINVAL", "Invalid argument")
    case -EMFILE: return ("EMFILE", "Too many open files")
    case -EPIPE: return ("EPIPE", "Broken pipe")
    case -EADDRINUSE: return ("EADDRINUSE", "Address already in use")
    case -EADDRNOTAVAIL: return ("EADDRNOTAVAIL", "Cannot assign requested address")
    case -ECONNRESET: return ("ECONNRESET", "Connection reset by peer")
    case -ENOTCONN: return ("ENOTCONN", "Transport endpoint is not connected")
    case -ETIMEDOUT: return ("ETIMEDOUT", "Connection timed out")
    case -ECONNREFUSED: return ("ECONNREFUSED", "Connection refused")
    case -ECANCELED: return ("ECANCELED", "Operation canceled")
    case OwnCode.badHandle: return ("EDDY_EBADHANDLE", "stale, forged, wrong-kind or freed handle")
    case OwnCode.forked: return ("EDDY_EFORKED", "called in a child process after fork()")
    case OwnCode.shutdown: return ("EDDY_ESHUTDOWN", "the runtime is shut down or being freed")
    case OwnCode.wrongThread:
        return ("EDDY_EWRONGTHREAD", "called from a thread that may not use this runtime or object now")
    case OwnCode.notReady: return ("EDDY_ENOTREADY", "result not available: not complete yet or already taken")
    case OwnCode.badPoll:
        return ("EDDY_EBADPOLL", "poll function returned a value that is not READY, PENDING or negative")
    // ---- names (issue 15 item 1): getaddrinfo's failures, gai_strerror's messages ----
    case OwnCode.eaiBadFlags: return ("EDDY_EAI_BADFLAGS", "Bad value for ai_flags")
    case OwnCode.eaiNoName: return ("EDDY_EAI_NONAME", "Name or service not known")
    case OwnCode.eaiAgain: return ("EDDY_EAI_AGAIN", "Temporary failure in name resolution")
    case OwnCode.eaiFail: return ("EDDY_EAI_FAIL", "Non-recoverable failure in name resolution")
    case OwnCode.eaiNoData: return ("EDDY_EAI_NODATA", "No address associated with hostname")
    case OwnCode.eaiFamily: return ("EDDY_EAI_FAMILY", "ai_family not supported")
    case OwnCode.eaiSockType: return ("EDDY_EAI_SOCKTYPE", "ai_socktype not supported")
    case OwnCode.eaiService: return ("EDDY_EAI_SERVICE", "Servname not supported for ai_socktype")
    case OwnCode.eaiAddrFamily: return ("EDDY_EAI_ADDRFAMILY", "Address family for hostname not supported")
    case OwnCode.eaiMemory: return ("EDDY_EAI_MEMORY", "Memory allocation failure")
    case OwnCode.eaiOverflow: return ("EDDY_EAI_OVERFLOW", "Argument buffer overflow")
    default: return nil
    }
}

/// Eddy's own codes (below -5000; include/eddy.h's EDDY_EBADHANDLE ...).
package enum OwnCode {
    package static let badHandle: Int32 = -5001
    package static let forked: Int32 = -5002
    package static let shutdown: Int32 = -5003
    package static let wrongThread: Int32 = -5004
    package static let notReady: Int32 = -5005
    package static let badPoll: Int32 = -5006
    // ---- names (issue 15 item 1): -5100 + glibc's EAI_* value (see include/eddy.h) ----
    package static let eaiBase: Int32 = -5100
    package static let eaiBadFlags: Int32 = -5101
    package static let eaiNoName: Int32 = -5102
    package static let eaiAgain: Int32 = -5103
    package static let eaiFail: Int32 = -5104
    package static let eaiNoData: Int32 = -5105
    package static let eaiFamily: Int32 = -5106
    package static let eaiSockType: Int32 = -5107
    package static let eaiService: Int32 = -5108
    package static let eaiAddrFamily: Int32 = -5109
    package static let eaiMemory: Int32 = -5110
    package static let eaiOverflow: Int32 = -5112
}

/// The name of an unknown code.
package let unknownErrorName: StaticString = "EDDY_EUNKNOWN"
/// The message of an unknown code.
package let unknownErrorMessage: StaticString = "unknown error"

/// errno for a negative code, when it may be one (1 ... 4095, as the kernel's -errno).
@inline(__always)
private func errnoValue(_ code: Int32) -> Int32? {
    guard code < 0, code > -4096 else { return nil }
    return -code
}

@inline(__always)
private func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    // StaticString literals are emitted NUL-terminated.
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The symbolic name of any code: "EDDY_EBADHANDLE", "ECONNREFUSED", "EDDY_EUNKNOWN".
/// Static storage, never freed.
package func errorName(_ code: Int32) -> UnsafePointer<CChar> {
    if let known = headerError(code) { return cString(known.name) }
    if let e = errnoValue(code), let name = errnoName(e) { return cString(name) }
    return cString(unknownErrorName)
}

/// The message of any code: the header's for its codes, the C library's for another
/// named errno, else "unknown error". Static storage, never freed.
package func errorMessage(_ code: Int32) -> UnsafePointer<CChar> {
    if let known = headerError(code) { return cString(known.message) }
    // glibc's strerror returns static text for the errno values it knows; for
    // others it formats into a per-thread buffer, so only named ones use it.
    if let e = errnoValue(code), errnoName(e) != nil, let msg = strerror(e) {
        return UnsafePointer(msg)
    }
    return cString(unknownErrorMessage)
}
