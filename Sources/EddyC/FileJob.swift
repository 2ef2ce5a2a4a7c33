// FileJob: one eddy_file_* call (issue 16 item 5), run by a BlockingJob on the
// runtime's blocking pool. It owns everything the call makes: the copy of the data
// to write, the bytes read, a duplicate of the caller's descriptor, the descriptor it
// opened. What the caller does not take goes with the last reference (the future, or
// the pool thread still running it after eddy_future_free): nothing leaks.

import Eddy
import Glibc

final class FileJob: @unchecked Sendable {
    // @unchecked Sendable: `op` and the inputs are written before the job is queued;
    // the results by the pool thread before BlockingJob publishes completion (release),
    // read by the owning thread after it saw it (acquire).
    enum Op {
        case readWhole(String)
        case writeWhole(String, append: Bool)
        case open(String, Int32)
        case readFd(Int32, max: Int)  // the fd is this job's duplicate
        case writeFd(Int32)           // ditto
    }
    let op: Op
    /// eddy_file_write*: the caller's bytes, copied at the call.
    private var input: UnsafeMutableRawBufferPointer?
    /// eddy_file_read*: the bytes read.
    private(set) var data: [UInt8] = []
    /// eddy_file_open: the opened descriptor until taken (-1 then).
    private var opened: Int32 = -1

    /// nil when the copy of `bytes` cannot be allocated (malloc, not Swift's allocator,
    /// which traps: a caller's absurd length must be ENOMEM, never a crash).
    init?(_ op: Op, copying bytes: UnsafeRawBufferPointer? = nil) {
        self.op = op
        if let bytes, bytes.count > 0 {
            guard let p = malloc(bytes.count) else {
                FileJob.closeOwned(op)
                return nil
            }
            p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            input = UnsafeMutableRawBufferPointer(start: p, count: bytes.count)
        }
    }

    /// The duplicate descriptor an op owns.
    private static func closeOwned(_ op: Op) {
        switch op {
        case .readFd(let fd, _), .writeFd(let fd): close(fd)
        default: break
        }
    }

    deinit {
        free(input?.baseAddress)
        if opened >= 0 { close(opened) }
        FileJob.closeOwned(op)
    }

    var isRead: Bool {
        switch op {
        case .readWhole, .readFd: return true
        default: return false
        }
    }

    var isOpen: Bool { if case .open = op { return true } else { return false } }

    /// Runs on a pool thread: (status, value) for the future.
    func run() -> (Int32, UInt64) {
        let bytes = UnsafeRawBufferPointer(input ?? UnsafeMutableRawBufferPointer(start: nil, count: 0))
        switch op {
        case .readWhole(let path): return store(FileCalls.readWhole(path))
        case .readFd(let fd, let max): return store(FileCalls.read(fd, max: max))
        case .writeWhole(let path, let append): return count(FileCalls.writeWhole(path, bytes, append: append))
        case .writeFd(let fd): return count(FileCalls.write(fd, bytes))
        case .open(let path, let flags):
            switch FileCalls.open(path, flags) {
            case .success(let fd):
                opened = fd
                return (0, UInt64(fd))
            case .failure(let e): return (e.code, 0)
            }
        }
    }

    private func store(_ r: Result<[UInt8], EddyError>) -> (Int32, UInt64) {
        switch r {
        case .success(let b):
            data = b
            return (0, UInt64(b.count))
        case .failure(let e): return (e.code, 0)
        }
    }

    private func count(_ r: Result<Int, EddyError>) -> (Int32, UInt64) {
        switch r {
        case .success(let n): return (0, UInt64(n))
        case .failure(let e): return (e.code, 0)
        }
    }

    /// eddy_future_take_fd: the opened descriptor, once.
    func takeFd() -> Int32? {
        guard opened >= 0 else { return nil }
        defer { opened = -1 }
        return opened
    }
}
