// Errors: the C ABI's error codes and their names/messages.
//
// eddy_strerror / eddy_err_name must never return NULL and must return memory
// the caller never frees, from any thread, even in a forked child. The names and
// messages come from Eddy's ErrorTable.swift, the table EddyError reads too.

import CEddyABI
import Eddy

/// The numeric codes of include/eddy.h (kept in one place; Int32 like the ABI).
enum EddyCode {
    static let ready: Int32 = 0
    static let pending: Int32 = 1
    static let eintr: Int32 = -4
    static let eagain: Int32 = -11
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

/// A message for any code (static storage, never NULL).
@c @implementation
public func eddy_strerror(_ code: Int32) -> UnsafePointer<CChar>? { errorMessage(code) }

/// The symbolic name of any code (static storage, never NULL).
@c @implementation
public func eddy_err_name(_ code: Int32) -> UnsafePointer<CChar>? { errorName(code) }
