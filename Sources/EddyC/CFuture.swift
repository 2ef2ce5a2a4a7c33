// CFuture: what a future handle points to — one of the C ABI's future objects
// (connect, timeout, blocking call, or a sleep that needed an owner object) with
// its result kept until taken; a child process's exit (eddy_process_wait). A plain eddy_sleep handle has no object at all
// (CTimer.swift); it becomes a `.timer` CFuture only when a timeout or a
// then-task takes it over.
//
// One class with a `kind` and one optional field per kind (instead of an enum
// with payloads) so polling mutates the leaf future in place. A CFuture is
// used only on its runtime's owning thread, except `BlockingJob`, which has
// its own synchronisation.

import Eddy

final class CFuture: @unchecked Sendable {
    enum Kind { case connect, timer, timeout, blocking, resolve, connectName, wait, processWait }

    let kind: Kind
    private var connect: ConnectFuture?
    /// timer: the sleep; timeout: the deadline. A keyed timer of `runtime` (no Sleep object).
    private var timer: TimerKey?
    /// timer, timeout: the runtime whose heap holds `timer`.
    private let runtime: Runtime?
    /// timeout: the owned inner future.
    private(set) var inner: CFuture?
    private var job: BlockingJob?
    // ---- names (issue 15 item 1) ----
    /// resolve: the lookup, then its addresses until taken.
    private var lookup: ResolveFuture?
    private var addresses: [Endpoint]?
    /// connectName: the Happy Eyeballs race.
    private var race: HappyEyeballsConnect?
    // ---- channel and sync futures (issue 16; chan2-16) ----
    /// wait: the channel or sync operation (CWaitOp.swift), kept after completion for
    /// its received value.
    private var op: (any CWaitOp)?

    // ---- process wait (issue 16) ----
    /// processWait: the child, until it is reaped (then `value` is its returncode).
    private var child: Subprocess?

    /// nil while pending, then 0 or the error code.
    private(set) var status: Int32?
    /// connect: the stream until taken.
    private var stream: TcpStream?
    /// blocking: the eddy_value_t bits of the result; processWait: the returncode's.
    private(set) var value: UInt64 = 0

    /// A then-callback is driving this future (eddy_future_then).
    var hasThen = false
    /// Set by eddy_future_free while a then-task still holds the future.
    private(set) var isClosed = false
    /// The then-task's waker, woken by `close()` so the callback sees ECANCELED.
    var thenWaker: Waker?

    init(connect: ConnectFuture) { kind = .connect; self.connect = connect; runtime = nil }
    /// Takes over the keyed timer `key` of `runtime` (a sleep handle being wrapped).
    init(timer key: TimerKey, runtime: Runtime) { kind = .timer; timer = key; self.runtime = runtime }
    /// Owns `inner` and the keyed deadline timer `key` of `runtime`.
    init(inner: CFuture, deadline key: TimerKey, runtime: Runtime) {
        kind = .timeout
        self.inner = inner
        timer = key
        self.runtime = runtime
    }
    init(job: BlockingJob) { kind = .blocking; self.job = job; runtime = nil }
    init(resolve: ResolveFuture) { kind = .resolve; lookup = resolve; runtime = nil }
    init(race: HappyEyeballsConnect) { kind = .connectName; self.race = race; runtime = nil }
    init(op: any CWaitOp) { kind = .wait; self.op = op; runtime = nil }
    init(wait child: Subprocess) { kind = .processWait; self.child = child; runtime = nil }

    // Normally released by close(); a CFuture dropped without one must not leave its
    // timer in the heap.
    deinit { releaseTimer() }

    /// The future that produces the value (a timeout forwards to its inner one).
    var leaf: CFuture {
        var f = self
        while f.kind == .timeout, let i = f.inner { f = i }
        return f
    }

    /// EDDY_READY, EDDY_PENDING (waker stored) or the error code.
    func poll(_ cx: inout Context) -> Int32 {
        if let s = status { return s == 0 ? EddyCode.ready : s }
        if isClosed { return finish(EddyCode.ecanceled) }
        switch kind {
        case .connect:
            guard let c = connect else { return finish(EddyCode.ecanceled) }
            switch c.poll(&cx) {
            case .pending: return EddyCode.pending
            case .ready(.success(let s)):
                stream = s
                connect = nil
                return finish(0)
            case .ready(.failure(let e)):
                // Polled from another runtime's task (misuse): report it, but leave the
                // connect untouched instead of completing the future with EWRONGTHREAD
                // (found by Tests/fuzz/abi_fuzz.c: the misuse poisoned the future for good
                // and dropped its connection).
                if e.code == EddyCode.wrongThread { return e.code }
                connect = nil
                return finish(e.code)
            }
        case .timer:
            guard let t = timer, let rt = runtime else { return finish(EddyCode.ecanceled) }
            // The key is only meaningful in its own runtime's heap (misuse: see .connect).
            guard cx.isPolled(by: rt) else { return EddyCode.wrongThread }
            if !rt.pollTimer(t, &cx) { return EddyCode.pending }
            releaseTimer()
            return finish(0)
        case .timeout:
            guard let i = inner, let t = timer, let rt = runtime else { return finish(EddyCode.ecanceled) }
            guard cx.isPolled(by: rt) else { return EddyCode.wrongThread }
            let r = i.poll(&cx)
            if r == EddyCode.wrongThread { return r }  // misuse, not completion (see .connect)
            if r != EddyCode.pending {
                releaseTimer()  // disarm the deadline
                return finish(r == EddyCode.ready ? 0 : r)
            }
            if !rt.pollTimer(t, &cx) { return EddyCode.pending }
            // Deadline passed: drop the inner operation (closes a half-open connect).
            releaseTimer()
            i.close()
            return finish(EddyCode.etimedout)
        case .blocking:
            guard let j = job else { return finish(EddyCode.ecanceled) }
            if !j.poll(&cx) { return EddyCode.pending }
            value = j.value
            return finish(j.status)
        case .resolve:
            guard let l = lookup else { return finish(EddyCode.ecanceled) }
            switch l.poll(&cx) {
            case .pending: return EddyCode.pending
            case .ready(.success(let list)):
                addresses = list
                lookup = nil
                return finish(0)
            case .ready(.failure(let e)):
                lookup = nil
                return finish(e.code)
            }
        case .connectName:
            guard let r = race else { return finish(EddyCode.ecanceled) }
            switch r.poll(&cx) {
            case .pending: return EddyCode.pending
            case .ready(.success(let s)):
                stream = s
                race = nil
                return finish(0)
            case .ready(.failure(let e)):
                if e.code == EddyCode.wrongThread { return e.code }  // misuse: see .connect
                race = nil
                return finish(e.code)
            }
        case .wait:
            guard let o = op else { return finish(EddyCode.ecanceled) }
            let r = o.poll(&cx)
            if r == EddyCode.pending { return r }
            return finish(r == EddyCode.ready ? 0 : r)
        case .processWait:
            guard let c = child else { return finish(EddyCode.ecanceled) }
            switch c.pollWait(&cx) {
            case .pending: return EddyCode.pending
            case .ready(.success(let s)):
                let code: Int64
                switch s {
                case .exited(let c): code = Int64(c)
                case .signalled(let n): code = -Int64(n)
                }
                value = UInt64(bitPattern: code)
                child = nil
                return finish(0)
            case .ready(.failure(let e)):
                if e.code == EddyCode.wrongThread { return e.code }  // misuse: see .connect
                child = nil
                return finish(e.code)
            }
        }
    }

    /// Disarms and frees the timer, if one is held.
    private func releaseTimer() {
        if let t = timer, let rt = runtime { rt.releaseTimer(t) }
        timer = nil
    }

    @inline(__always)
    private func finish(_ s: Int32) -> Int32 {
        status = s
        return s == 0 ? EddyCode.ready : s
    }

    /// eddy_future_take_tcp: the stream, once (on the leaf, after completion).
    func takeStream() -> Result<TcpStream, EddyError> {
        guard let s = status else { return .failure(.notReady) }
        if s != 0 { return .failure(EddyError(code: s)) }
        let l = leaf
        guard l.kind == .connect || l.kind == .connectName else { return .failure(.invalidArgument) }
        guard let stream = l.stream else { return .failure(.notReady) }
        l.stream = nil
        return .success(stream)
    }

    /// eddy_file_*: the file job behind a completed future (lines-15).
    var completedFileJob: Result<FileJob, EddyError> {
        guard let s = status else { return .failure(.notReady) }
        if s != 0 { return .failure(EddyError(code: s)) }
        guard leaf.kind == .blocking, case .file(let f)? = leaf.job?.work else { return .failure(.invalidArgument) }
        return .success(f)
    }

    /// eddy_future_take_value: the value (on the leaf, after completion).
    func takeValue() -> Result<UInt64, EddyError> {
        guard let s = status else { return .failure(.notReady) }
        if s != 0 { return .failure(EddyError(code: s)) }
        let l = leaf
        // Only blocking calls and process waits produce a value; a sleep or connect has none.
        guard l.kind == .blocking || l.kind == .processWait else { return .failure(.invalidArgument) }
        return .success(l.value)
    }

    /// eddy_future_take_addrs: the addresses, once (on the leaf, after completion).
    func takeAddresses() -> Result<[Endpoint], EddyError> {
        guard let s = status else { return .failure(.notReady) }
        if s != 0 { return .failure(EddyError(code: s)) }
        let l = leaf
        guard l.kind == .resolve else { return .failure(.invalidArgument) }
        guard let a = l.addresses else { return .failure(.notReady) }
        return .success(a)
    }

    /// eddy_future_take_received: the received value and missed count, once.
    func takeReceived() -> Result<(UnsafeMutableRawPointer?, UInt64), EddyError> {
        guard let s = status else { return .failure(.notReady) }
        if s != 0 { return .failure(EddyError(code: s)) }
        let l = leaf
        guard l.kind == .wait, let o = l.op else { return .failure(.invalidArgument) }
        return o.takeReceived()
    }

    /// Forgets the addresses once the caller has them all.
    func dropAddresses() { leaf.addresses = nil }

    /// Drops everything the future owns (eddy_future_free / runtime free):
    /// disarms timers, closes sockets, cancels a queued blocking job, and wakes
    /// a then-task so its callback runs with ECANCELED.
    func close() {
        if isClosed { return }
        isClosed = true
        connect = nil           // ConnectFuture closes a half-connected socket on deinit
        race = nil              // closes every attempt in flight
        lookup?.cancel()        // a lookup still queued never runs; a running one's result is dropped
        lookup = nil
        addresses = nil
        stream?.close()
        stream = nil
        releaseTimer()
        inner?.close()
        inner = nil
        job?.cancelled.store(true, ordering: .relaxed)
        job = nil
        op?.cancel()            // gives back a waiting place, drops a value still held
        op = nil
        child = nil             // the reaper adopts it once no handle holds it
        let w = thenWaker
        thenWaker = nil
        w?.wake()
    }
}
