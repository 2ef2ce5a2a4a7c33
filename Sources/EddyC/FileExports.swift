// FileExports: eddy_file_* and the two result accessors (issue 16 item 5). Each call
// checks its arguments on the caller's thread, copies what the job needs (path, data,
// a duplicate of fd) and queues a FileJob on the runtime's blocking pool.

import CEddyABI
import Eddy
import Glibc

/// Queues `file` and publishes its future (the one shape of every eddy_file_* call).
/// `file` returns the job, or the call's error code (EINVAL, ENOMEM).
private func submitFile(_ rt: eddy_runtime_t, _ file: () -> Result<FileJob, EddyError>,
                        _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    let f: FileJob
    switch file() {
    case .success(let j): f = j
    case .failure(let e): return e.code
    }
    let job = BlockingJob(.file(f))
    let fut = CFuture(job: job)
    guard let id = insertHandle(fut, kind: .future, owner: cr.id, thread: cr.handleThread()) else { return EddyCode.enomem }
    do { try cr.runtime.blockingPool.submit(job) } catch {
        if let bits = handleTable.remove(id, .future) {
            Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).release()
        }
        return error.code
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

/// `job`, or ENOMEM when it could not be made (its copy of the data).
private func made(_ job: FileJob?) -> Result<FileJob, EddyError> {
    job.map { .success($0) } ?? .failure(.errno(ENOMEM))
}

/// A C path as a String; nil for NULL.
private func pathArg(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

/// The largest buffer a caller can have: x86-64 and arm64 user address spaces are 2^47
/// (2^48 with 5-level paging is opt-in per mapping). Larger lengths are EINVAL, as a
/// size_t above SSIZE_MAX is: no copy of them is attempted (the allocation would fail,
/// or under ASan abort the process).
private let maxBuffer = 1 << 47

/// The caller's bytes, or nil when they are not a valid buffer.
private func bytesArg(_ data: UnsafeRawPointer?, _ len: Int) -> UnsafeRawBufferPointer? {
    if len < 0 || len > maxBuffer || (data == nil && len > 0) { return nil }  // len < 0: a size_t above SSIZE_MAX
    return UnsafeRawBufferPointer(start: data, count: len)
}

/// A duplicate of the caller's fd for a job (so the caller may close its own meanwhile).
private func dupArg(_ fd: Int32) -> Int32? {
    if fd < 0 { return nil }
    let d = fcntl(fd, F_DUPFD_CLOEXEC, 0)
    return d >= 0 ? d : nil
}

@c @implementation
public func eddy_file_read(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    submitFile(rt, {
        guard let p = pathArg(path) else { return .failure(.invalidArgument) }
        return made(FileJob(.readWhole(p)))
    }, out)
}

@c @implementation
public func eddy_file_write(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?, _ len: Int,
                            _ flags: UInt32, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    submitFile(rt, {
        guard let p = pathArg(path), let b = bytesArg(data, len), flags & ~UInt32(EDDY_FILE_APPEND) == 0 else {
            return .failure(.invalidArgument)
        }
        return made(FileJob(.writeWhole(p, append: flags & UInt32(EDDY_FILE_APPEND) != 0), copying: b))
    }, out)
}

@c @implementation
public func eddy_file_open(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ flags: Int32,
                           _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    submitFile(rt, {
        guard let p = pathArg(path) else { return .failure(.invalidArgument) }
        return made(FileJob(.open(p, flags)))
    }, out)
}

@c @implementation
public func eddy_file_read_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ max: Int, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    submitFile(rt, {
        guard max >= 0, let d = dupArg(fd) else { return .failure(.invalidArgument) }
        return made(FileJob(.readFd(d, max: max)))
    }, out)
}

@c @implementation
public func eddy_file_write_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ data: UnsafeRawPointer?, _ len: Int,
                               _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    submitFile(rt, {
        guard let b = bytesArg(data, len), let d = dupArg(fd) else { return .failure(.invalidArgument) }
        return made(FileJob(.writeFd(d), copying: b))
    }, out)
}

/// The file job of a completed future, after the usual handle checks.
private func fileJob(_ fut: eddy_future_t) -> (FileJob?, Int32) {
    if isForked() { return (nil, EddyCode.forked) }
    let (lf, err) = localFuture(fut.id)
    guard let lf else { return (nil, err) }
    guard case .object(let u) = lf else { return (nil, EddyCode.einval) }  // a sleep
    switch u.takeUnretainedValue().completedFileJob {
    case .success(let f): return (f, 0)
    case .failure(let e): return (nil, e.code)
    }
}

@c @implementation
public func eddy_future_file_data(_ fut: eddy_future_t, _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                                  _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let data, let len else { return EddyCode.einval }
    let (f, err) = fileJob(fut)
    guard let f else { return err }
    guard f.isRead else { return EddyCode.einval }
    // The array lives in the job, which the future keeps until eddy_future_free.
    let (p, n) = f.data.withUnsafeBufferPointer { ($0.baseAddress, $0.count) }
    data.pointee = n == 0 ? nil : p
    len.pointee = n
    return 0
}

@c @implementation
public func eddy_future_take_fd(_ fut: eddy_future_t, _ fd: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let fd else { return EddyCode.einval }
    let (f, err) = fileJob(fut)
    guard let f else { return err }
    guard f.isOpen, let d = f.takeFd() else { return EddyCode.einval }
    fd.pointee = d
    return 0
}
