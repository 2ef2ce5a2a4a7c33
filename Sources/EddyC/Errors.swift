// Errors: the C ABI's error codes and their names/messages.
//
// eddy_strerror / eddy_err_name must never return NULL and must return memory
// the caller never frees, from any thread, even in a forked child. So every
// string returned is static: Swift string literals (StaticString, stored
// NUL-terminated in the binary) for Eddy's own codes and errno names
// (ErrnoNames.swift), and glibc's static strerror text for known errno values.

import Glibc

/// The numeric codes of include/eddy.h (kept in one place; Int32 like the ABI).
enum EddyCode {
    static let ready: Int32 = 0
    static let pending: Int32 = 1
    static let eintr: Int32 = -4
    static let enomem: Int32 = -12
    static let ebusy: Int32 = -16
    static let einval: Int32 = -22
    static let emfile: Int32 = -24
    static let epipe: Int32 = -32
    static let ecanceled: Int32 = -125
    static let etimedout: Int32 = -110
    static let badHandle: Int32 = -5001
    static let forked: Int32 = -5002
    static let shutdown: Int32 = -5003
    static let wrongThread: Int32 = -5004
    static let notReady: Int32 = -5005
    static let badPoll: Int32 = -5006
}

/// Name and message of the codes that are not plain errno values.
private func eddyOwn(_ code: Int32) -> (name: StaticString, message: StaticString)? {
    switch code {
    case 0: return ("EDDY_READY", "success")
    case 1: return ("EDDY_PENDING", "operation pending")
    case -5001: return ("EDDY_EBADHANDLE", "stale, forged, wrong-kind or freed handle")
    case -5002: return ("EDDY_EFORKED", "called in a child process after fork()")
    case -5003: return ("EDDY_ESHUTDOWN", "the runtime owning this object was freed")
    case -5004: return ("EDDY_EWRONGTHREAD", "called from a thread that may not use this object now")
    case -5005: return ("EDDY_ENOTREADY", "result not available: future not complete or result already taken")
    case -5006: return ("EDDY_EBADPOLL", "poll function returned a value that is not READY, PENDING or negative")
    default: return nil
    }
}

@inline(__always)
private func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    // StaticString literals are emitted NUL-terminated.
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

private let unknownMessage: StaticString = "unknown error"
private let unknownName: StaticString = "EDDY_EUNKNOWN"

/// errno for a negative code, when it may be one (1 ... 4095).
@inline(__always)
private func errnoValue(_ code: Int32) -> Int32? {
    guard code < 0, code > -4096 else { return nil }
    return -code
}

@_cdecl("eddy_strerror")
public func eddy_strerror(_ code: Int32) -> UnsafePointer<CChar> {
    if let own = eddyOwn(code) { return cString(own.message) }
    // glibc's strerror returns static text for the errno values it knows;
    // for others it formats into a per-thread buffer, so check the name first.
    if let e = errnoValue(code), errnoName(e) != nil, let msg = strerror(e) {
        return UnsafePointer(msg)
    }
    return cString(unknownMessage)
}

@_cdecl("eddy_err_name")
public func eddy_err_name(_ code: Int32) -> UnsafePointer<CChar> {
    if let own = eddyOwn(code) { return cString(own.name) }
    if let e = errnoValue(code), let name = errnoName(e) { return cString(name) }
    return cString(unknownName)
}
