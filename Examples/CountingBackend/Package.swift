// swift-tools-version: 6.1
import PackageDescription

/// An out-of-tree backend: a package of its own that depends only on Axon's `Backend` product
/// (the protocol, shared with the program that loads it) and `AxonConformance` (the suite it
/// must pass). It builds as a plugin, `libAxonCounting.so`, that the unmodified `axon` loads from
/// the plugin path:
///
///     swift build -c release
///     AXON_PLUGIN_PATH=.build/release/libAxonCounting.so axon conformance --backend counting
///
/// (with `axon` built the plugin way, scripts/build-plugins.sh; see docs/plugins.md).
let package = Package(
    name: "CountingBackend",
    platforms: [.macOS(.v14)],
    products: [.library(name: "AxonCounting", type: .dynamic, targets: ["CountingBackend"])],
    dependencies: [.package(name: "axon", path: "../..")],
    targets: [
        .target(name: "CountingBackend", dependencies: [.product(name: "Backend", package: "axon")]),
        .testTarget(
            name: "CountingBackendTests",
            dependencies: ["CountingBackend", .product(name: "AxonConformance", package: "axon")]
        ),
    ]
)
