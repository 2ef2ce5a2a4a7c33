// tokio's runtime benchmarks and the issue-16 channel benchmarks as poll-style Eddy
// futures: the same shapes as bench/rt/c/rtbench.c and bench/rt/tokio (bench/rt/README.md).
// State shared between tasks is atomic or locked, so the bodies stay correct on a
// multi-thread runtime.
import Eddy
import Glibc
import Synchronization

// MARK: measuring

func nowSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// One warm-up run of `body`, then `iters` timed ones; prints the median per op.
func measure(_ name: String, iters: Int, ops: Int, _ body: () throws -> Void) rethrows {
    try body()
    var v: [Double] = []
    for _ in 0..<iters {
        let t0 = nowSeconds()
        try body()
        v.append(nowSeconds() - t0)
    }
    v.sort()
    let ns = (v[iters / 2] * 1e10 / Double(ops)).rounded() / 10
    print("RESULT \(name) \(ns) \(ops) \(iters)")
}

/// Writes a line to standard error (fd 2: the C `stderr` global is not concurrency-safe).
func printError(_ line: String) {
    var s = line + "\n"
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
    if !ok {
        printError("eddy-rtbench: \(what())")
        exit(1)
    }
}

// MARK: countdown: the task that brings it to zero wakes the root

/// The root publishes its waker, then re-reads the count; the last tick decrements,
/// then reads the waker: one of the two sees the other.
final class Countdown: Sendable {
    let rem = Atomic<Int>(0)
    let waker = Mutex<Waker?>(nil)

    func arm(_ n: Int) {
        rem.store(n, ordering: .sequentiallyConsistent)
        waker.withLock { $0 = nil }
    }

    func tick() {
        if rem.subtract(1, ordering: .sequentiallyConsistent).oldValue == 1 {
            waker.withLock { $0 }?.wake()
        }
    }

    func poll(_ cx: inout Context) -> Poll<Void> {
        let w = cx.waker
        waker.withLock { slot in
            if let old = slot, old.willWake(w) {} else { slot = w }
        }
        return rem.load(ordering: .sequentiallyConsistent) == 0 ? .ready(()) : .pending
    }

    var left: Int { rem.load(ordering: .sequentiallyConsistent) }
}

struct Tick: Future {
    let cd: Countdown
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        cd.tick()
        return .ready(())
    }
}

struct WaitCountdown: Future {
    let cd: Countdown
    mutating func poll(_ cx: inout Context) -> Poll<Void> { cd.poll(&cx) }
}

/// A root that spawns once (publishing its waker first), then waits for the countdown.
struct SpawnThenWait: Future {
    let cd: Countdown
    let spawn: (Runtime) -> Void
    var spawned = false
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if !spawned {
            spawned = true
            _ = cd.poll(&cx)
            spawn(cx.runtime)
        }
        return cd.poll(&cx)
    }
}

// MARK: spawn_many_local

func spawnManyLocal(_ rt: Runtime, n: Int, iters: Int) throws {
    let cd = Countdown()
    try measure("spawn_many_local", iters: iters, ops: n) {
        cd.arm(n)
        try rt.blockOn(SpawnThenWait(cd: cd) { rt in
            for _ in 0..<n { rt.spawn(Tick(cd: cd)) }
        })
        expect(cd.left == 0, "spawn_many_local: \(cd.left) left")
    }
}

// MARK: spawn_many_remote_idle / _busy

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

struct CountTask: Future {
    let ran: Counter
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        ran.value.add(1, ordering: .relaxed)
        return .ready(())
    }
}

/// Joins every handle in order (tokio's `for h in handles { h.await }`).
struct JoinAll: Future {
    var handles: [JoinHandle<Void>]
    var next = 0
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        while next < handles.count {
            switch handles[next].poll(&cx) {
            case .pending: return .pending
            case .ready(let r):
                if case .failure = r { expect(false, "join failed") }
                next += 1
            }
        }
        return .ready(())
    }
}

final class StopFlag: Sendable {
    let stop = Atomic<Bool>(false)
}

/// The busy load: a task that yields until stopped.
struct BusyYielder: Future {
    let flag: StopFlag
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if flag.stop.load(ordering: .relaxed) { return .ready(()) }
        cx.waker.wake()
        return .pending
    }
}

func spawnManyRemote(_ rt: Runtime, name: String, n: Int, iters: Int, busyTasks: Int) throws {
    let flag = StopFlag()
    for _ in 0..<busyTasks { rt.spawn(BusyYielder(flag: flag)) }
    let ran = Counter()
    try measure(name, iters: iters, ops: n) {
        ran.value.store(0, ordering: .relaxed)
        var handles: [JoinHandle<Void>] = []
        handles.reserveCapacity(n)
        for _ in 0..<n { handles.append(rt.spawn(CountTask(ran: ran))) }
        try rt.blockOn(JoinAll(handles: handles))
        expect(ran.value.load(ordering: .relaxed) == n, "\(name): \(ran.value.load(ordering: .relaxed)) of \(n) ran")
    }
    flag.stop.store(true, ordering: .relaxed)
}

// MARK: yield_many

struct Yielder: Future {
    var left: Int
    let cd: Countdown
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if left == 0 {
            cd.tick()
            return .ready(())
        }
        left -= 1
        cx.waker.wake() // yield: back of the run queue
        return .pending
    }
}

func yieldMany(_ rt: Runtime, yields: Int, iters: Int) throws {
    let tasks = 200
    let cd = Countdown()
    try measure("yield_many", iters: iters, ops: tasks * yields) {
        cd.arm(tasks)
        for _ in 0..<tasks { rt.spawn(Yielder(left: yields, cd: cd)) }
        try rt.blockOn(WaitCountdown(cd: cd))
        expect(cd.left == 0, "yield_many: \(cd.left) left")
    }
}

// MARK: ping_pong

struct Pong: Future {
    let rx1: OneshotReceiver<Int>
    let tx2: OneshotSender<Int>
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        switch rx1.pollReceive(&cx) {
        case .pending: return .pending
        case .ready(.success(let v)):
            do { try tx2.send(v + 1) } catch { expect(false, "pong: send failed") }
            return .ready(())
        case .ready(.failure(let e)):
            expect(false, "pong: \(e)")
            return .ready(())
        }
    }
}

struct Ping: Future {
    let cd: Countdown
    var rx2: OneshotReceiver<Int>? = nil
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if rx2 == nil {
            let (tx1, rx1) = oneshot(of: Int.self)
            let (tx2, rx2) = oneshot(of: Int.self)
            cx.runtime.spawn(Pong(rx1: rx1, tx2: tx2))
            do { try tx1.send(1) } catch { expect(false, "ping: send failed") }
            self.rx2 = rx2
        }
        switch rx2!.pollReceive(&cx) {
        case .pending: return .pending
        case .ready(let r):
            expect((try? r.get()) == 2, "ping: got \(r)")
            cd.tick()
            return .ready(())
        }
    }
}

struct PingSpawner: Future {
    let n: Int
    let cd: Countdown
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        let rt = cx.runtime
        for _ in 0..<n { rt.spawn(Ping(cd: cd)) }
        return .ready(())
    }
}

func pingPong(_ rt: Runtime, pings: Int, iters: Int) throws {
    let cd = Countdown()
    try measure("ping_pong", iters: iters, ops: pings) {
        cd.arm(pings)
        try rt.blockOn(SpawnThenWait(cd: cd) { rt in rt.spawn(PingSpawner(n: pings, cd: cd)) })
        expect(cd.left == 0, "ping_pong: \(cd.left) left")
    }
}

// MARK: chained_spawn

struct Chain: Future {
    let left: Int
    let cd: Countdown
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        if left == 0 { cd.tick() } else { cx.runtime.spawn(Chain(left: left - 1, cd: cd)) }
        return .ready(())
    }
}

func chainedSpawn(_ rt: Runtime, depth: Int, iters: Int) throws {
    let cd = Countdown()
    try measure("chained_spawn", iters: iters, ops: depth) {
        cd.arm(1)
        try rt.blockOn(SpawnThenWait(cd: cd) { rt in rt.spawn(Chain(left: depth, cd: cd)) })
    }
}

// MARK: mpsc_Np

struct Producer: Future {
    let tx: Sender<Int>
    let per: Int
    var sent = 0
    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        while sent < per {
            switch tx.pollReserve(&cx) {
            case .pending: return .pending
            case .ready(false):
                expect(false, "producer: channel closed")
            case .ready(true):
                do { try tx.sendReserved(sent + 1) } catch { expect(false, "producer: \(error.reason)") }
                sent += 1
            }
        }
        return .ready(())
    }
}

struct MpscRoot: Future {
    let producers: Int
    let per: Int
    var rx: Receiver<Int>? = nil
    var got = 0
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        if rx == nil {
            let (tx, rx) = channel(of: Int.self, capacity: 1024)
            self.rx = rx
            let rt = cx.runtime
            for _ in 0..<producers - 1 { rt.spawn(Producer(tx: tx.clone(), per: per)) }
            rt.spawn(Producer(tx: tx, per: per))
        }
        while true {
            switch rx!.pollReceive(&cx) {
            case .pending: return .pending
            case .ready(nil): return .ready(got) // every sender gone, nothing left
            case .ready(.some): got += 1
            }
        }
    }
}

func mpsc(_ rt: Runtime, producers: Int, total: Int, iters: Int) throws {
    let per = total / producers
    try measure("mpsc_\(producers)p", iters: iters, ops: per * producers) {
        let got = try rt.blockOn(MpscRoot(producers: producers, per: per))
        expect(got == per * producers, "mpsc: received \(got) of \(per * producers)")
    }
}

// MARK: oneshot

struct OneshotLoop: Future {
    let n: Int
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        var sum = 0
        for i in 0..<n {
            let (tx, rx) = oneshot(of: Int.self)
            do { try tx.send(i) } catch { expect(false, "oneshot: send failed") }
            guard case .ready(.success(let v)) = rx.pollReceive(&cx) else {
                expect(false, "oneshot: not ready")
                return .ready(-1)
            }
            sum += v
        }
        return .ready(sum)
    }
}

func oneshotCost(_ rt: Runtime, n: Int, iters: Int) throws {
    try measure("oneshot", iters: iters, ops: n) {
        let sum = try rt.blockOn(OneshotLoop(n: n))
        expect(sum == n * (n - 1) / 2, "oneshot: sum \(sum)")
    }
}

// MARK: notify_rtt

struct NotifyPeer: Future {
    let ping: Notify
    let pong: Notify
    let k: Int
    let node = WaitNode()
    var seen = 0
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        while seen < k {
            guard case .ready = ping.pollNotified(node, cx.waker) else { return .pending }
            seen += 1
            pong.notifyOne()
        }
        return .ready(seen)
    }
}

struct NotifyRoot: Future {
    let k: Int
    let ping = Notify()
    let pong = Notify()
    let node = WaitNode()
    var peer: JoinHandle<Int>? = nil
    var done = 0
    var waiting = false
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        if peer == nil { peer = cx.runtime.spawn(NotifyPeer(ping: ping, pong: pong, k: k)) }
        while done < k {
            if !waiting {
                ping.notifyOne()
                waiting = true
            }
            guard case .ready = pong.pollNotified(node, cx.waker) else { return .pending }
            waiting = false
            done += 1
        }
        switch peer!.poll(&cx) {
        case .pending: return .pending
        case .ready(let r): return .ready((try? r.get()) ?? -1)
        }
    }
}

func notifyRtt(_ rt: Runtime, k: Int, iters: Int) throws {
    try measure("notify_rtt", iters: iters, ops: k) {
        let seen = try rt.blockOn(NotifyRoot(k: k))
        expect(seen == k, "notify_rtt: peer saw \(seen) of \(k)")
    }
}
