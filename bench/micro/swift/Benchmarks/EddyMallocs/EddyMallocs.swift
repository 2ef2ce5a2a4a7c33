// Malloc counts (and throughput) of the Swift workloads, with ordo-one/benchmark's
// malloc interposer. One iteration = 1000 tasks / 1000 round trips; the scaled
// output (`--scale`) reports per task / per round trip.
import Benchmark
import Eddy
import MicroWork

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .milliseconds(800),
        maxIterations: 2000
    )
    let rt = try! Runtime()

    Benchmark("spawn_poll") { benchmark in
        try runSpawn(rt, n: benchmark.scaledIterations.count)
    }
    Benchmark("spawn_async") { benchmark in
        try runSpawnAsync(rt, n: benchmark.scaledIterations.count)
    }
    Benchmark("pingpong_poll") { benchmark in
        try runPingPong(rt, n: benchmark.scaledIterations.count)
    }
    Benchmark("pingpong_async") { benchmark in
        try runPingPongAsync(rt, n: benchmark.scaledIterations.count)
    }
}
