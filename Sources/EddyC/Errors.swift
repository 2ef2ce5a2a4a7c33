// Errors: the C ABI's error codes and their names/messages.
//
// eddy_strerror / eddy_err_name must never return NULL and must return memory
// the caller never frees, from any thread, even in a forked child. The names and
// messages come from Eddy's ErrorTable.swift, the table EddyError reads too (tested
// against the header's EDDY_ERROR_MAP by ErrorTableTests).

import CEddyABI
import Eddy

/// The codes of include/eddy.h, read from the header itself (CEddyABI expands its
/// EDDY_ERROR_MAP into constants Swift imports): Int32 like the ABI.
enum EddyCode {
    static var ready: Int32 { @inline(__always) get { Int32(CEDDY_READY) } }
    static var pending: Int32 { @inline(__always) get { Int32(CEDDY_PENDING) } }
    static var eintr: Int32 { @inline(__always) get { Int32(CEDDY_EINTR) } }
    static var eagain: Int32 { @inline(__always) get { Int32(CEDDY_EAGAIN) } }
    static var enomem: Int32 { @inline(__always) get { Int32(CEDDY_ENOMEM) } }
    static var ebusy: Int32 { @inline(__always) get { Int32(CEDDY_EBUSY) } }
    static var einval: Int32 { @inline(__always) get { Int32(CEDDY_EINVAL) } }
    static var emfile: Int32 { @inline(__always) get { Int32(CEDDY_EMFILE) } }
    static var epipe: Int32 { @inline(__always) get { Int32(CEDDY_EPIPE) } }
    static var ecanceled: Int32 { @inline(__always) get { Int32(CEDDY_ECANCELED) } }
    static var etimedout: Int32 { @inline(__always) get { Int32(CEDDY_ETIMEDOUT) } }
    static var badHandle: Int32 { @inline(__always) get { Int32(CEDDY_EBADHANDLE) } }
    static var forked: Int32 { @inline(__always) get { Int32(CEDDY_EFORKED) } }
    static var shutdown: Int32 { @inline(__always) get { Int32(CEDDY_ESHUTDOWN) } }
    static var wrongThread: Int32 { @inline(__always) get { Int32(CEDDY_EWRONGTHREAD) } }
    static var notReady: Int32 { @inline(__always) get { Int32(CEDDY_ENOTREADY) } }
    static var badPoll: Int32 { @inline(__always) get { Int32(CEDDY_EBADPOLL) } }
}

/// A message for any code (static storage, never NULL).
@c @implementation
public func eddy_strerror(_ code: Int32) -> UnsafePointer<CChar>? { errorMessage(code) }

/// The symbolic name of any code (static storage, never NULL).
@c @implementation
public func eddy_err_name(_ code: Int32) -> UnsafePointer<CChar>? { errorName(code) }
