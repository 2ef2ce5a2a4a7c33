// DatagramPoll: the body the datagram poll exports share (eddy_udp_poll_* and
// eddy_unixdgram_poll_*): fork flag, cx, handle (owning thread), the n / buffer checks,
// then one Int-coded step on the unretained socket. Generic and @inline(__always): each
// export specialises it for its socket and address (no closure, allocation or extra
// call per datagram).

import CEddyABI
import Eddy

/// Runs `step` on the `kind` socket behind `id` once the call's arguments check out;
/// stores the step's count in *n (EDDY_READY), or returns pending / the error.
@inline(__always)
func pollDatagram<Socket: AnyObject>(_ id: UInt64, _ kind: HandleKind, _ cx: OpaquePointer?, hasBuffer: Bool, _ len: Int,
                                     _ n: UnsafeMutablePointer<Int>?, _ step: (Socket, inout Context) -> Int) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let r = HandleTable.lookupLocal(id, kind, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let n else { return EddyCode.einval }
    if hasBuffer {
        if len < 0 { return EddyCode.einval }  // a size_t above SSIZE_MAX
    } else if len != 0 {
        return EddyCode.einval
    }
    let got = Unmanaged<Socket>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        step($0, &cxp.pointee)
    }
    if got >= 0 {
        n.pointee = got
        return EddyCode.ready
    }
    return got == TcpStream.pendingCode ? EddyCode.pending : Int32(truncatingIfNeeded: got)
}

/// A receive through `pollDatagram`: `step` reports the datagram's full length; this
/// stores min(len, full) in *n and the truncation flag. The sender lands in `sender`
/// when `wantsSender` (the caller converts it to its C form).
@inline(__always)
func receiveDatagram<Socket: AnyObject, Address>(
    _ id: UInt64, _ kind: HandleKind, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
    _ n: UnsafeMutablePointer<Int>?, _ truncated: UnsafeMutablePointer<Int32>?,
    sender: inout Address, wantsSender: Bool,
    _ step: (Socket, inout Context, UnsafeMutablePointer<Address>?) -> Int
) -> Int32 {
    var full = 0
    let rc = withUnsafeMutablePointer(to: &full) { fp in
        withUnsafeMutablePointer(to: &sender) { sp in
            let fromPtr = wantsSender ? sp : nil
            return pollDatagram(id, kind, cx, hasBuffer: buf != nil, len, n == nil ? nil : fp) { (s: Socket, c: inout Context) in
                step(s, &c, fromPtr)
            }
        }
    }
    if rc != EddyCode.ready { return rc }
    n!.pointee = full > len ? len : full
    truncated?.pointee = full > len ? 1 : 0
    return rc
}
