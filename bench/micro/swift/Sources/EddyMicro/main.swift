// eddy-micro BENCH N [REPS]: prints `RESULT <key> <value> <unit>` lines (medians over REPS).
import Eddy
import Glibc
import MicroWork

func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

func rate(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
    let t0 = nowSeconds()
    try body()
    return Double(n) / (nowSeconds() - t0)
}

func emit(_ key: String, _ value: Double, _ unit: String, _ fmt: String = "%.0f") {
    print("RESULT \(key) \(String(format: fmt, value)) \(unit)")
}

extension String {
    init(format: String, _ v: Double) {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([v]) { vsnprintf(&buf, 64, format, $0) }
        self = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

func idle(n: Int, async: Bool) throws {
    raiseNoFile()
    let rt = try Runtime()
    if !async {
        let l = try TcpListener.bind(host: "127.0.0.1", port: 0, backlog: 4096, runtime: rt)
        let rss0 = rssBytes()
        print("PORT \(l.port)")
        fflush(nil)
        let box = RssBox()
        try rt.blockOn(Acceptor(l, n: n, box: box))
        let rss1 = rssBytes()
        report(rss0: rss0, mid: box.mid, rss1: rss1, n: n)
    } else {
        let box = RssBox()
        let r = try rt.blockOn { () async throws -> [Int] in
            let l = try TcpListener.bind(host: "127.0.0.1", port: 0, backlog: 4096)
            let rss0 = rssBytes()
            print("PORT \(l.port)")
            fflush(nil)
            for i in 0..<n {
                let s = try await l.accept()
                Eddy.spawn {
                    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
                    polledCount.add(1, ordering: .relaxed)
                    _ = try await s.read(into: buf)
                }
                if i + 1 == n / 10 {
                    while polledCount.load(ordering: .relaxed) < n / 10 { await Task.yield() }
                    box.mid = rssBytes()
                }
            }
            while polledCount.load(ordering: .relaxed) < n { await Task.yield() }
            await Task.yield()
            return [rss0, rssBytes()]
        }
        report(rss0: r[0], mid: box.mid, rss1: r[1], n: n)
    }
    fflush(nil)
    _exit(0)  // leave the idle connections to the kernel
}

func report(rss0: Int, mid: Int, rss1: Int, n: Int) {
    emit("idle_bytes_per_conn", Double(rss1 - rss0) / Double(n), "B")
    emit("idle_marginal_bytes_per_conn", Double(rss1 - mid) / Double(n - n / 10), "B")
    emit("idle_rss_delta_mb", Double(rss1 - rss0) / 1048576, "MB", "%.2f")
}

let args = CommandLine.arguments
guard args.count >= 2 else {
    print("usage: eddy-micro spawn|spawn-async|pingpong|pingpong-async|timers|idle|idle-async N [REPS]")
    exit(2)
}
let n = args.count > 2 ? Int(args[2])! : 1_000_000
let reps = args.count > 3 ? Int(args[3])! : 5

do {
    switch args[1] {
    case "spawn", "spawn-async", "pingpong", "pingpong-async":
        let body: (Runtime, Int) throws -> Void
        switch args[1] {
        case "spawn": body = runSpawn
        case "spawn-async": body = runSpawnAsync
        case "pingpong": body = runPingPong
        default: body = runPingPongAsync
        }
        let warm = try Runtime()
        try body(warm, n / 10)
        _ = try warm.shutdown()
        var v: [Double] = []
        for _ in 0..<reps {
            let rt = try Runtime()
            v.append(try rate(n) { try body(rt, n) })
            _ = try rt.shutdown()
        }
        let key = args[1].hasPrefix("spawn") ? "spawn" : "pingpong"
        let suffix = args[1].hasSuffix("async") ? "_async" : ""
        emit("\(key)\(suffix)_per_s", median(v), key == "spawn" ? "tasks/s" : "rt/s")
    case "timers":
        let rt = try Runtime()
        let rss0 = rssBytes()
        let w = TimerWork(n: n)
        let t0 = nowSeconds()
        try w.run(rt)
        let total = nowSeconds() - t0
        emit("timers_create_s", w.times.create, "s", "%.3f")
        emit("timers_arm_s", w.times.arm, "s", "%.3f")
        emit("timers_cancel_s", w.times.cancel, "s", "%.3f")
        emit("timers_total_s", total, "s", "%.3f")
        emit("timers_peak_rss_mb", Double(statusKB("VmHWM:")) / 1024, "MB", "%.1f")
        emit("timers_base_rss_mb", Double(rss0) / 1048576, "MB", "%.1f")
    case "idle": try idle(n: n, async: false)
    case "idle-async": try idle(n: n, async: true)
    default:
        print("unknown benchmark \(args[1])")
        exit(2)
    }
} catch {
    print("eddy-micro: \(error)")
    exit(1)
}
