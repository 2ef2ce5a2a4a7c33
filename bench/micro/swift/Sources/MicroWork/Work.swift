// The Swift workloads of bench/micro (same shapes as micro.c and the tokio program).
import Eddy
import Glibc
import Synchronization

public let batch = 1000

// MARK: helpers

public func nowSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Resident set size now (statm, pages × 4096).
public func rssBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, res = 0
    guard fscanf_statm(f, &size, &res) else { return 0 }
    return res * 4096
}

private func fscanf_statm(_ f: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int) -> Bool {
    var buf = [CChar](repeating: 0, count: 256)
    guard fgets(&buf, 256, f) != nil else { return false }
    let parts = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    guard parts.count >= 2, let x = Int(parts[0]), let y = Int(parts[1]) else { return false }
    a = x; b = y
    return true
}

/// A `kB` field of /proc/self/status (VmHWM: peak RSS).
public func statusKB(_ field: String) -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 256)
    while fgets(&buf, 256, f) != nil {
        let line = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if line.hasPrefix(field) {
            return Int(line.dropFirst(field.count).filter { $0.isNumber }) ?? 0
        }
    }
    return 0
}

public func raiseNoFile() {
    var rl = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl)
    rl.rlim_cur = rl.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl)
}

// MARK: (a) spawn-and-complete, poll style

public let doneCount = Atomic<Int>(0)

/// An empty task: counts itself and completes on its first poll.
public struct EmptyTask: Future {
    public init() {}
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        doneCount.add(1, ordering: .relaxed)
        return .ready(())
    }
}

/// Spawns `n` empty tasks in batches of 1000 (handles dropped = detached); after each
/// batch it wakes itself (back of the FIFO queue) until the batch has completed.
public struct SpawnDriver: Future {
    let n: Int
    var spawned = 0
    public init(n: Int) { self.n = n }
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if doneCount.load(ordering: .relaxed) < spawned {
            cx.waker.wake()
            return .pending
        }
        if spawned == n { return .ready(()) }
        let b = min(batch, n - spawned)
        let rt = cx.runtime
        for _ in 0..<b { rt.spawn(EmptyTask()) }
        spawned += b
        cx.waker.wake()
        return .pending
    }
}

public func runSpawn(_ rt: Runtime, n: Int) throws {
    doneCount.store(0, ordering: .relaxed)
    try rt.blockOn(SpawnDriver(n: n))
    precondition(doneCount.load(ordering: .relaxed) == n)
}

// MARK: (a) spawn-and-complete, async API (Eddy.spawn inside runtime.blockOn)

public func runSpawnAsync(_ rt: Runtime, n: Int) throws {
    doneCount.store(0, ordering: .relaxed)
    try rt.blockOn { () async throws -> Void in
        var spawned = 0
        while spawned < n {
            let b = min(batch, n - spawned)
            for _ in 0..<b {
                Eddy.spawn { doneCount.add(1, ordering: .relaxed) }
            }
            spawned += b
            while doneCount.load(ordering: .relaxed) < spawned { await Task.yield() }
        }
    }
    precondition(doneCount.load(ordering: .relaxed) == n)
}

// MARK: (b) ping-pong, poll style

/// Shared by the two tasks; touched only on the loop thread.
/// Fields are `@exclusivity(unchecked)` (as Eddy's own loop state is) so the numbers
/// measure the runtime, not Swift's dynamic exclusivity checks in this test code.
public final class PingPong: @unchecked Sendable {
    @exclusivity(unchecked) var turnA = true
    @exclusivity(unchecked) var done = false
    @exclusivity(unchecked) public var count = 0
    let n: Int
    @exclusivity(unchecked) var wa: Waker?
    @exclusivity(unchecked) var wb: Waker?
    public init(n: Int) { self.n = n }
}

@inline(__always)
func store(_ slot: inout Waker?, _ cx: inout Context) {
    let w = cx.waker
    if let s = slot, s.willWake(w) { return }
    slot = w
}

public struct PingA: Future {
    let s: PingPong
    public init(_ s: PingPong) { self.s = s }
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        store(&s.wa, &cx)
        if s.turnA {
            s.count += 1
            s.turnA = false
            if s.count == s.n { s.done = true }
            s.wb?.wake()
            if s.done { return .ready(()) }
        }
        return .pending
    }
}

public struct PingB: Future {
    let s: PingPong
    public init(_ s: PingPong) { self.s = s }
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if s.done { return .ready(()) }
        store(&s.wb, &cx)
        if !s.turnA {
            s.turnA = true
            s.wa?.wake()
        }
        return .pending
    }
}

public func runPingPong(_ rt: Runtime, n: Int) throws {
    let s = PingPong(n: n)
    rt.spawn(PingA(s))
    rt.spawn(PingB(s))
    try rt.run()
    precondition(s.count == n)
    s.wa = nil
    s.wb = nil
}

// MARK: (b) ping-pong, async API: two Swift tasks handing a continuation back and forth

public final class AsyncPingPong: @unchecked Sendable {
    @exclusivity(unchecked) var waiting: UnsafeContinuation<Void, Never>?
    @exclusivity(unchecked) var done = false
    @exclusivity(unchecked) public var count = 0
    public init() {}
}

/// Resumes the partner (if it waits) and suspends until the partner resumes us.
nonisolated(nonsending) func pass(_ s: AsyncPingPong) async {
    let other = s.waiting
    s.waiting = nil
    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
        s.waiting = c
        other?.resume()
    }
}

public func runPingPongAsync(_ rt: Runtime, n: Int) throws {
    let s = AsyncPingPong()
    try rt.blockOn { () async throws -> Void in
        let a = Eddy.spawn {
            for _ in 0..<n {
                s.count += 1
                await pass(s)
            }
            s.done = true
            let c = s.waiting
            s.waiting = nil
            c?.resume()
        }
        let b = Eddy.spawn {
            while true {
                await pass(s)
                if s.done { break }
            }
        }
        _ = try await a.value
        _ = try await b.value
    }
    precondition(s.count == n)
}

// MARK: (c) timers: n Sleeps armed (first poll) then cancelled (dropped)

public struct TimerTimes { public var create = 0.0, arm = 0.0, cancel = 0.0 }

public final class TimerWork: @unchecked Sendable {
    let n: Int
    public var times = TimerTimes()
    public init(n: Int) { self.n = n }

    public func run(_ rt: Runtime) throws {
        let t0 = nowSeconds()
        try rt.blockOn(PollFn<Void> { cx in
            let base = Instant.now()
            var sleeps: [Sleep] = []
            sleeps.reserveCapacity(self.n)
            var x: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<self.n {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                let ns = 10_000_000_000 + (x % 60_000_000) * 1000
                sleeps.append(Sleep(until: Instant(nanoseconds: base.nanoseconds + ns)))
            }
            let t1 = nowSeconds()
            for s in sleeps {
                if case .ready = s.poll(&cx) { fatalError("timer ready?") }
            }
            let t2 = nowSeconds()
            sleeps.removeAll()
            let t3 = nowSeconds()
            self.times = TimerTimes(create: t1 - t0, arm: t2 - t0, cancel: t3 - t2)
            return .ready(())
        })
    }
}

// MARK: (d) idle connections, poll style

public let polledCount = Atomic<Int>(0)

/// One connection: pending in a 64-byte read.
public struct IdleConn: Future {
    let s: TcpStream
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        switch s.pollRead(&cx, into: buf) {
        case .pending:
            polledCount.add(1, ordering: .relaxed)
            return .pending
        case .ready:
            return .ready(())
        }
    }
}

public struct Acceptor: Future {
    let l: TcpListener
    let n: Int
    var accepted = 0
    public var rssMid = 0
    let mid: Int
    let rssMidBox: RssBox
    public init(_ l: TcpListener, n: Int, box: RssBox) { self.l = l; self.n = n; mid = n / 10; rssMidBox = box }
    public mutating func poll(_ cx: inout Context) -> Poll<Void> {
        while accepted < n {
            if accepted == mid && rssMidBox.mid == 0 {
                if polledCount.load(ordering: .relaxed) < mid { cx.waker.wake(); return .pending }
                rssMidBox.mid = rssBytes()
            }
            switch l.pollAccept(&cx) {
            case .pending: return .pending
            case .ready(.failure(let e)): fatalError("accept: \(e)")
            case .ready(.success(let s)):
                cx.runtime.spawn(IdleConn(s: s))
                accepted += 1
            }
        }
        if polledCount.load(ordering: .relaxed) < n { cx.waker.wake(); return .pending }
        return .ready(())
    }
}

public final class RssBox: @unchecked Sendable { public var mid = 0; public init() {} }
