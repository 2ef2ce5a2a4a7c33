// ReaderExports: eddy_reader_* (issue 15 item 5), the C face of Eddy's LineReader.
// A reader handle holds the LineReader (which holds its stream object: a closed stream
// makes its reads fail with EDDY_EBADHANDLE, nothing dangles).

import CEddyABI
import Eddy

@c @implementation
public func eddy_reader_new(_ stream: eddy_tcp_t, _ limit: Int, _ out: UnsafeMutablePointer<eddy_reader_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(stream.id, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let out, r.bits & listenerFlag == 0 else { return EddyCode.einval }
    let s = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue()
    let reader: LineReader
    do { reader = try LineReader(s, limit: limit == 0 ? 65536 : limit) } catch { return error.code }
    guard let id = insertHandle(reader, kind: .reader, owner: HandleTable.ownerLocal(stream.id), thread: currentThread()) else {
        return EddyCode.enomem
    }
    out.pointee = eddy_reader_t(id: id)
    return 0
}

/// The shared checks of the two polls, then `body` on the reader.
@inline(__always)
private func pollReader(_ rd: eddy_reader_t, _ cx: OpaquePointer?,
                        _ body: (LineReader, inout Context) -> Poll<Result<UnsafeRawBufferPointer, EddyError>>,
                        _ done: (UnsafeRawBufferPointer) -> Void) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (u, err) = local(rd.id, .reader, as: LineReader.self)
    guard let u else { return err }
    switch u._withUnsafeGuaranteedRef({ body($0, &cxp.pointee) }) {
    case .pending: return EddyCode.pending
    case .ready(.failure(let e)): return e.code
    case .ready(.success(let b)):
        done(b)
        return EddyCode.ready
    }
}

@c @implementation
public func eddy_reader_poll_line(_ rd: eddy_reader_t, _ cx: OpaquePointer?, _ sep: UnsafeRawPointer?, _ seplen: Int,
                                  _ line: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                                  _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let sep, seplen >= 1, seplen <= LineReader.maxSeparator, let line, let len else { return EddyCode.einval }
    let s = UnsafeRawBufferPointer(start: sep, count: seplen)
    return pollReader(rd, cx, { $0.pollLine(&$1, separator: s) }) { b in
        line.pointee = b.baseAddress?.assumingMemoryBound(to: UInt8.self)
        len.pointee = b.count
    }
}

@c @implementation
public func eddy_reader_poll_exact(_ rd: eddy_reader_t, _ cx: OpaquePointer?, _ n: Int,
                                   _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) -> Int32 {
    guard let data, n >= 0 else { return EddyCode.einval }
    return pollReader(rd, cx, { $0.pollExactly(&$1, count: n) }) { b in
        data.pointee = b.baseAddress?.assumingMemoryBound(to: UInt8.self)
    }
}

@c @implementation
public func eddy_reader_free(_ rd: eddy_reader_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(rd.id, .reader, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(rd.id, .reader) else { return EddyCode.badHandle }
    Unmanaged<LineReader>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
