import Glibc
import Testing
@testable import Eddy

/// A non-blocking, close-on-exec pipe: (read end, write end).
private func makePipe() throws -> (Int32, Int32) {
    var p: [Int32] = [-1, -1]
    try #require(pipe(&p) == 0)  // pipe2 is not imported (GNU)
    for fd in p {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    return (p[0], p[1])
}

private func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

/// FdWatch: readiness of descriptors the caller owns (the C ABI's eddy_fd_*).
@Suite(.serialized) struct FdWatchTests {
    @Test func pollStyleWaitsForAnEdgeAndClearMakesItPendingAgain() throws {
        let rt = try Runtime()
        let (r, w) = try makePipe()
        defer { close(r); close(w) }
        let watch = try FdWatch.watch(fd: r, runtime: rt)
        let pendings = Box(0), pendingAfterClear = Box(false)
        let writer = try #require(startThread {
            usleep(30_000)
            var b: UInt8 = 7
            _ = write(w, &b, 1)
        }, "thread")
        let got = try rt.blockOn(PollFn<Int> { cx in
            switch watch.pollReady(&cx, .readable) {
            case .pending:
                pendings.value += 1
                return .pending
            case .ready(.failure):
                return .ready(-1)
            case .ready(.success(let bits)):
                #expect(bits == .readable)
                var buf = [UInt8](repeating: 0, count: 16)
                let n = read(r, &buf, 16)
                #expect(read(r, &buf, 16) == -1 && errno == EAGAIN)
                try? watch.clearReady(.readable)
                if case .pending = watch.pollReady(&cx, .readable) { pendingAfterClear.value = true }
                return .ready(n)
            }
        })
        pthread_join(writer, nil)
        #expect(got == 1)
        #expect(pendings.value >= 1)
        #expect(pendingAfterClear.value)
        try watch.deregister()
        try watch.deregister()  // idempotent
        #expect(isOpen(r))
    }

    @Test func asyncReadableAndWritable() throws {
        let rt = try Runtime()
        let (r, w) = try makePipe()
        defer { close(r); close(w) }
        let writer = try #require(startThread {
            usleep(30_000)
            var b: UInt8 = 1
            _ = write(w, &b, 1)
        }, "thread")
        try rt.blockOn {
            let rw = try FdWatch.watch(fd: r)
            let ww = try FdWatch.watch(fd: w)
            try await rw.readable()
            try await ww.writable()  // an empty pipe: the registration's first event says so
            try rw.deregister()
            await #expect(throws: EddyError.errno(EBADF)) { try await rw.readable() }
            try ww.deregister()
        }
        pthread_join(writer, nil)
    }

    @Test func misuseIsAnErrorNeverAClose() throws {
        let rt = try Runtime()
        let (r, w) = try makePipe()
        defer { close(w) }
        #expect(throws: EddyError.errno(EBADF)) { _ = try FdWatch.watch(fd: -1, runtime: rt) }
        let file = tmpfile()
        defer { fclose(file) }
        #expect(throws: EddyError.errno(EPERM)) { _ = try FdWatch.watch(fd: fileno(file), runtime: rt) }
        let watch = try FdWatch.watch(fd: r, runtime: rt)
        #expect(throws: EddyError.errno(EEXIST)) { _ = try FdWatch.watch(fd: r, runtime: rt) }
        _ = try rt.blockOn(PollFn<Void> { cx in
            if case .ready(.failure(let e)) = watch.pollReady(&cx, []) { #expect(e == .errno(EINVAL)) }
            return .ready(())
        })
        // Closed by its owner before deregistering: reported, the watch is gone anyway.
        close(r)
        #expect(throws: EddyError.errno(EBADF)) { try watch.deregister() }
        try watch.deregister()
        #expect(throws: EddyError.errno(EBADF)) { try watch.clearReady(.readable) }
    }

    @Test func shutdownLeavesTheDescriptorOpen() throws {
        let rt = try Runtime()
        let (r, w) = try makePipe()
        defer { close(r); close(w) }
        let before = openDescriptorCount()
        let watch = try FdWatch.watch(fd: r, runtime: rt)
        let report = try rt.shutdown()
        #expect(report.descriptorsClosed == 0)
        #expect(isOpen(r))
        #expect(throws: EddyError.shutdown) { try watch.clearReady(.readable) }
        try watch.deregister()  // after shutdown: nothing left to do
        #expect(openDescriptorCount() == before - ownDescriptors(rt))  // the runtime's own (epoll fd and eventfd)
    }
}
