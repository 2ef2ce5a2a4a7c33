// swift-tools-version:6.1
import PackageDescription

let nonsendingByDefault: [SwiftSetting] = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "Eddy",
    products: [
        // Swift API: `import Eddy`.
        .library(name: "Eddy", targets: ["Eddy"]),
        // C ABI: libeddy.so, declared by include/eddy.h.
        .library(name: "eddy", type: .dynamic, targets: ["EddyC"]),
        .executable(name: "eddy-delayserver", targets: ["EddyDelayServer"]),
        .executable(name: "eddy-delay-client", targets: ["EddyDelayClient"]),
        .executable(name: "eddy-echo", targets: ["EddyEcho"]),
    ],
    targets: [
        // Only what Glibc does not import cleanly (packed epoll_event, eventfd, accept4, TLS).
        .target(name: "CEddySys"),
        // The C ABI's C side (host TLS, handle directory) and include/eddy.h as a module:
        // EddyC's exports implement the header's declarations.
        .target(name: "CEddyABI", dependencies: ["CEddySys"]),
        .systemLibrary(name: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        .target(name: "Eddy", dependencies: ["CEddySys"]),
        .target(name: "EddyC", dependencies: ["Eddy", "CEddySys", "CEddyABI", "CFFI"]),
        // Examples opt into nonisolated(nonsending) by default (Swift 6.2+): plain async
        // functions then stay on Eddy's loop instead of hopping executors at every await.
        .target(name: "EddyExampleSupport", dependencies: ["Eddy"], path: "examples/swift/support",
                swiftSettings: nonsendingByDefault),
        .executableTarget(name: "EddyDelayServer", dependencies: ["Eddy", "EddyExampleSupport"], path: "examples/swift/delayserver",
                          swiftSettings: nonsendingByDefault),
        .executableTarget(name: "EddyDelayClient", dependencies: ["Eddy", "EddyExampleSupport"], path: "examples/swift/delay-client",
                          swiftSettings: nonsendingByDefault),
        .executableTarget(name: "EddyEcho", dependencies: ["Eddy", "EddyExampleSupport"], path: "examples/swift/echo",
                          swiftSettings: nonsendingByDefault),
        .testTarget(name: "EddyTests", dependencies: ["Eddy", "EddyC", "CEddySys", "CEddyABI"]),
    ],
    swiftLanguageModes: [.v6]
)

// `make docs` (EDDY_DOCC=1): swift-docc-plugin for `swift package generate-documentation`.
// Only then: Eddy has no dependencies, so a plain build or `pip install` never resolves one.
if Context.environment["EDDY_DOCC"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
