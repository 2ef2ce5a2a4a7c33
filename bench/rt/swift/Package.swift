// swift-tools-version:6.1
// tokio's runtime and channel benchmarks ported to Eddy's Swift front door (poll-style
// futures on `Runtime`). Its own package so `make build` stays as it is; it depends on the
// main package by path and on nothing else (builds offline).
//   swift build -c release --product eddy-rtbench
import PackageDescription

let package = Package(
    name: "EddyRtBench",
    dependencies: [.package(name: "Eddy", path: "../../..")],
    targets: [
        .executableTarget(name: "eddy-rtbench", dependencies: [.product(name: "Eddy", package: "Eddy")],
                          path: "Sources/EddyRtBench"),
    ],
    swiftLanguageModes: [.v6]
)
