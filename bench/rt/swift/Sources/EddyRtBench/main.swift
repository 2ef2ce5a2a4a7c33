// eddy-rtbench (Swift front door): tokio's runtime benchmarks and the issue-16 channel
// benchmarks on poll-style Eddy futures.
//
//   eddy-rtbench BENCH [--workers N] [--iters R] [--quick]
//
// Prints `RESULT <bench> <ns per op> <ops per iteration> <iterations>` (median of R
// iterations after one warm-up); every iteration checks its completion count (exit 1
// when wrong). --quick: counts / 100, one iteration (the smoke run of `make test`).
// Exit 3: the asked worker count is not available in this Eddy.
import Eddy
import Glibc

func usage() -> Never {
    printError("""
        usage: eddy-rtbench BENCH [--workers N] [--iters R] [--quick]
          BENCH: spawn_many_local spawn_many_remote_idle spawn_many_remote_busy yield_many
                 ping_pong chained_spawn mpsc_1p mpsc_4p oneshot notify_rtt
        """)
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 2 else { usage() }
let bench = args[1]
var workers = 1
var itersOpt: Int? = nil
var quick = false
var i = 2
while i < args.count {
    switch args[i] {
    case "--workers" where i + 1 < args.count:
        guard let w = Int(args[i + 1]), (1...1024).contains(w) else { usage() }
        workers = w; i += 1
    case "--iters" where i + 1 < args.count:
        itersOpt = Int(args[i + 1]); i += 1
    case "--quick": quick = true
    default: usage()
    }
    i += 1
}

/// A count, divided by 100 for the smoke run.
let count = { [quick] (full: Int) -> Int in quick ? max(full / 100, 2) : full }
let iters = { [quick, itersOpt] (dflt: Int) -> Int in quick ? 1 : itersOpt ?? dflt }

var config = Runtime.Configuration()
config.workers = workers  // > 1: the multi-worker runtime (no stealing: spawns from outside go to worker 0)
let rt = try Runtime(config)

switch bench {
case "spawn_many_local": try spawnManyLocal(rt, n: count(10_000), iters: iters(30))
case "spawn_many_remote_idle":
    try spawnManyRemote(rt, name: bench, n: count(10_000), iters: iters(30), busyTasks: 0)
case "spawn_many_remote_busy":
    try spawnManyRemote(rt, name: bench, n: count(10_000), iters: iters(30), busyTasks: 2 * workers)
case "yield_many": try yieldMany(rt, yields: count(1_000), iters: iters(10))
case "ping_pong": try pingPong(rt, pings: count(1_000), iters: iters(30))
case "chained_spawn": try chainedSpawn(rt, depth: count(1_000), iters: iters(50))
case "mpsc_1p": try mpsc(rt, producers: 1, total: count(100_000), iters: iters(10))
case "mpsc_4p": try mpsc(rt, producers: 4, total: count(100_000), iters: iters(10))
case "oneshot": try oneshotCost(rt, n: count(100_000), iters: iters(10))
case "notify_rtt": try notifyRtt(rt, k: count(20_000), iters: iters(5))
default: usage()
}
// The busy tasks of spawn_many_remote_busy are still queued: exit without draining them.
exit(0)
