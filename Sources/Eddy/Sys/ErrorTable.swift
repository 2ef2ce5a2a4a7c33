// ErrorTable: the one name and message of every code.
//
// EddyError.name / .message (Swift) and eddy_err_name / eddy_strerror (C ABI) both
// read these functions, so they cannot disagree. Copies that cannot call them
// (include/eddy.h's comments, the Python binding's _lib.ERRORS, docs/C-ABI.md)
// are checked against them by Tests/c/test_misuse.c and the Python tests.
// Every string is static (StaticString literals and glibc's static strerror text
// for the errno values it names), so the C functions may return them from any
// thread, also in a forked child, and the caller never frees them.

#if canImport(Glibc)
import Glibc
#endif

/// Name and message of the codes that are not plain errno values
/// (include/eddy.h: EDDY_READY, EDDY_PENDING and Eddy's own codes below -5000).
package func eddyOwnError(_ code: Int32) -> (name: StaticString, message: StaticString)? {
    switch code {
    case 0: return ("EDDY_READY", "success")
    case 1: return ("EDDY_PENDING", "operation pending")
    case -5001: return ("EDDY_EBADHANDLE", "stale, forged, wrong-kind or freed handle")
    case -5002: return ("EDDY_EFORKED", "called in a child process after fork()")
    case -5003: return ("EDDY_ESHUTDOWN", "the runtime is shut down or being freed")
    case -5004: return ("EDDY_EWRONGTHREAD", "called from a thread that may not use this runtime or object now")
    case -5005: return ("EDDY_ENOTREADY", "result not available: not complete yet or already taken")
    case -5006: return ("EDDY_EBADPOLL", "poll function returned a value that is not READY, PENDING or negative")
    default: return nil
    }
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
    if let own = eddyOwnError(code) { return cString(own.name) }
    if let e = errnoValue(code), let name = errnoName(e) { return cString(name) }
    return cString(unknownErrorName)
}

/// The message of any code: Eddy's own text, glibc's for a named errno, else
/// "unknown error". Static storage, never freed.
package func errorMessage(_ code: Int32) -> UnsafePointer<CChar> {
    if let own = eddyOwnError(code) { return cString(own.message) }
    // glibc's strerror returns static text for the errno values it knows; for
    // others it formats into a per-thread buffer, so only named ones use it.
    if let e = errnoValue(code), errnoName(e) != nil, let msg = strerror(e) {
        return UnsafePointer(msg)
    }
    return cString(unknownErrorMessage)
}
