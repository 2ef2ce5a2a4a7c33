// swift-tools-version:6.1
// Eddy runtime micro-benchmarks (Swift front door). A separate package: it depends on
// the main package by path and on ordo-one/benchmark for malloc counts.
//   swift run -c release eddy-micro spawn|spawn-async|pingpong|pingpong-async|timers|idle|idle-async N [REPS]
//   swift package --disable-sandbox benchmark --target EddyMallocs
import PackageDescription

let package = Package(
    name: "EddyMicroBench",
    dependencies: [
        .package(name: "Eddy", path: "../../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The workloads, shared by the timing executable and the malloc benchmarks.
        .target(name: "MicroWork", dependencies: [.product(name: "Eddy", package: "Eddy")]),
        .executableTarget(name: "eddy-micro", dependencies: ["MicroWork", .product(name: "Eddy", package: "Eddy")],
                          path: "Sources/EddyMicro"),
        .executableTarget(
            name: "EddyMallocs",
            dependencies: ["MicroWork", .product(name: "Eddy", package: "Eddy"), .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/EddyMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
