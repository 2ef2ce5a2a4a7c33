// DatagramSteps: the receive/send steps UdpSocket and UnixDatagramSocket share, generic
// over the address type. @inlinable @inline(__always): each socket's step specialises
// them for its own address (no witness call, closure or allocation per datagram).

import CEddySys
import Glibc

/// An address recvfrom(2) can fill and sendto(2) can read, held by value.
@usableFromInline
protocol DatagramAddress {
    /// Calls `body` with the sockaddr pointer and length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R
    /// Lets recvfrom fill the address.
    mutating func fill<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R
}

extension Endpoint: DatagramAddress {}
extension UnixDatagramAddress: DatagramAddress {}

extension IoSource {
    /// One receive attempt: the datagram's full length (>= 0; more than `len` means
    /// truncated), `TcpStream.pendingCode` (waker stored), or -errno. `len >= 0`.
    @inlinable @inline(__always)
    func pollReceiveDatagram<A: DatagramAddress>(_ cx: inout Context, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                                                 _ from: UnsafeMutablePointer<A>?) -> Int {
        guard let p = slot, cx.isPolledBy(core) else { return Int(unusable().code) }
        let n = tryReceiveDatagram(p, buf, len, from)
        if n >= 0 { return n }
        return parkDatagram(&cx, p, n, read: true)
    }

    /// One send attempt: bytes sent (the whole datagram), pending, or -errno. A nil
    /// `to` sends to the connected peer.
    @inlinable @inline(__always)
    func pollSendDatagram<A: DatagramAddress>(_ cx: inout Context, _ buf: UnsafeRawPointer?, _ len: Int,
                                              _ to: UnsafePointer<A>?) -> Int {
        guard let p = slot, cx.isPolledBy(core) else { return Int(unusable().code) }
        let n = trySendDatagram(p, buf, len, to)
        if n >= 0 { return n }
        return parkDatagram(&cx, p, n, read: false)
    }

    /// EAGAIN stores the waker, a spent budget requeues the task; else the error.
    @inlinable @inline(__always)
    func parkDatagram(_ cx: inout Context, _ p: UnsafeMutablePointer<IoSlot>, _ n: Int, read: Bool) -> Int {
        if n == -Int(EAGAIN) {
            if read { cx.register(&p.pointee.readWaker) } else { cx.register(&p.pointee.writeWaker) }
            return TcpStream.pendingCode
        }
        if n == IoSource.yieldCode {
            cx.wakeSelf()
            return TcpStream.pendingCode
        }
        return n
    }

    /// recvfrom(MSG_TRUNC) if readable. Unlike a TCP read, a short datagram says
    /// nothing about the queue: only EAGAIN clears the readiness.
    @inlinable @inline(__always)
    func tryReceiveDatagram<A: DatagramAddress>(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeMutableRawPointer?,
                                                _ len: Int, _ from: UnsafeMutablePointer<A>?) -> Int {
        if p.pointee.readiness & Readiness.readInterest == 0 { return -Int(EAGAIN) }
        if !spendBudget() { return IoSource.yieldCode }
        let fd = p.pointee.fd
        let recv = core.sys.calls.recvFrom  // the SysCalls seam (fault injection)
        while true {
            let n: Int
            if let from {
                n = from.pointee.fill { sa, alen in recv(fd, buf, len, Int32(MSG_TRUNC), sa, alen) }
            } else {
                n = recv(fd, buf, len, Int32(MSG_TRUNC), nil, nil)
            }
            if n >= 0 { return n }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EAGAIN { IoRegistry.clear(p, Readiness.readInterest) }
            return -Int(e)
        }
    }

    /// sendto(MSG_NOSIGNAL) if writable.
    @inlinable @inline(__always)
    func trySendDatagram<A: DatagramAddress>(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeRawPointer?, _ len: Int,
                                             _ to: UnsafePointer<A>?) -> Int {
        if p.pointee.readiness & Readiness.writeInterest == 0 { return -Int(EAGAIN) }
        if !spendBudget() { return IoSource.yieldCode }
        let fd = p.pointee.fd
        let send = core.sys.calls.sendTo  // the SysCalls seam (fault injection)
        while true {
            let n: Int
            if let to {
                n = to.pointee.withSockAddr { sa, alen in send(fd, buf, len, Int32(MSG_NOSIGNAL), sa, alen) }
            } else {
                n = send(fd, buf, len, Int32(MSG_NOSIGNAL), nil, 0)
            }
            if n >= 0 { return n }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EAGAIN { IoRegistry.clear(p, Readiness.writeInterest) }
            return -Int(e)
        }
    }

    /// Retries `attempt` (a datagram step) until it does not report EAGAIN, parking
    /// the Swift task on readiness in between.
    @inlinable @inline(__always)
    nonisolated(nonsending) func retryDatagram(read: Bool, _ attempt: (UnsafeMutablePointer<IoSlot>) -> Int) async throws -> Int {
        while true {
            let p = try checkAsync()
            let n = attempt(p)
            if n >= 0 { return n }
            if n == IoSource.yieldCode {
                await Task.yield()
                continue
            }
            if n != -Int(EAGAIN) { throw EddyError.errno(Int32(-n)) }
            if read { try await waitReadable(p) } else { try await waitWritable(p) }
        }
    }
}
