// swift-tools-version:5.9
// SwiftNIO TCP echo server (anchor for Eddy's benchmarks). A separate package so the
// main Package.swift never depends on swift-nio.
import PackageDescription

let package = Package(
    name: "nio_echo",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "nio-echo",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
