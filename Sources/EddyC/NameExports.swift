// NameExports: eddy_resolve, eddy_future_get_addrs, eddy_tcp_connect_addrs,
// eddy_tcp_listen_addr, and the name path of eddy_tcp_connect (issue 15 item 1).

import CEddyABI
import Eddy
import Glibc

/// The most addresses eddy_tcp_connect_addrs takes (a bound, not a hot-path limit).
private let maxConnectAddresses = 1024

@c @implementation
public func eddy_resolve(_ rt: eddy_runtime_t, _ host: UnsafePointer<CChar>?, _ port: UInt16,
                         _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let host, let out else { return EddyCode.einval }
    let f: ResolveFuture
    do { f = try ResolveFuture(host: String(cString: host), port: port, runtime: cr.runtime) } catch { return error.code }
    return publish(CFuture(resolve: f), cr, out)
}

@c @implementation
public func eddy_future_get_addrs(_ fut: eddy_future_t, _ addrs: UnsafeMutablePointer<eddy_addr_t>?, _ cap: Int,
                                  _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (lf, err) = localFuture(fut.id)
    guard let lf else { return err }
    // size_t: a huge cap reads as negative here; with a buffer it means "room enough".
    guard let count, addrs != nil || cap == 0 else { return EddyCode.einval }
    guard case .object(let u) = lf else { return EddyCode.einval }  // a sleep has no addresses
    switch u.takeUnretainedValue().takeAddresses() {
    case .failure(let e): return e.code
    case .success(let list):
        let room = cap < 0 ? list.count : min(cap, list.count)
        if let addrs { for i in 0..<room { addrs[i] = list[i].cAddr } }
        count.pointee = list.count
        return 0
    }
}

@c @implementation
public func eddy_tcp_connect_addrs(_ rt: eddy_runtime_t, _ addrs: UnsafePointer<eddy_addr_t>?, _ n: Int,
                                   _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let addrs, let out, n > 0, n <= maxConnectAddresses else { return EddyCode.einval }
    var list: [Endpoint] = []
    list.reserveCapacity(n)
    for i in 0..<n {
        guard let e = Endpoint(addrs[i]) else { return EddyCode.einval }
        list.append(e)
    }
    let race: HappyEyeballsConnect
    do { race = try HappyEyeballsConnect(endpoints: list, runtime: cr.runtime) } catch { return error.code }
    return publish(CFuture(race: race), cr, out)
}

@c @implementation
public func eddy_tcp_listen_addr(_ rt: eddy_runtime_t, _ addr: UnsafePointer<eddy_addr_t>?, _ backlog: Int32,
                                 _ flags: UInt32, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let addr, let out, flags & ~UInt32(EDDY_TCP_REUSEPORT) == 0, backlog >= 0,
          let e = Endpoint(addr.pointee) else { return EddyCode.einval }
    let l: TcpListener
    do {
        l = try TcpListener.bind(endpoint: e, backlog: backlog > 0 ? backlog : 1024,
                                 reusePort: flags & UInt32(EDDY_TCP_REUSEPORT) != 0, runtime: cr.runtime)
    } catch { return error.code }
    return publishTcp(l, listener: true, cr, out)
}

/// eddy_tcp_connect's cold path: `host` is not numeric, so it is a name to resolve
/// and race (kept out of the numeric path, which stays as it was).
@inline(never)
func connectByName(_ host: String, _ port: UInt16, _ cr: CRuntime, _ out: UnsafeMutablePointer<eddy_future_t>) -> Int32 {
    let race: HappyEyeballsConnect
    do { race = try HappyEyeballsConnect(host: host, port: port, runtime: cr.runtime) } catch { return error.code }
    return publish(CFuture(race: race), cr, out)
}
