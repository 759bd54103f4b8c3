// swift-tools-version: 6.1
import PackageDescription

/// The three backends as run-time plugins: each a shared library that exports
/// `axon_backend_plugin` and links the one shared `libBackend.so` of the program that loads it.
/// `scripts/build-plugins.sh` builds them beside the plugin-loading `axon` (../Host); see
/// docs/plugins.md.
let package = Package(
    name: "AxonBackendPlugins",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AxonReference", type: .dynamic, targets: ["ReferencePlugin"]),
        .library(name: "AxonOneDNN", type: .dynamic, targets: ["OneDNNPlugin"]),
        .library(name: "AxonVulkan", type: .dynamic, targets: ["VulkanPlugin"]),
    ],
    dependencies: [.package(name: "axon", path: "../../..")],
    targets: [
        .target(
            name: "ReferencePlugin",
            dependencies: [.product(name: "Backend", package: "axon"), .product(name: "CPUReference", package: "axon")],
            path: "Reference"
        ),
        .target(
            name: "OneDNNPlugin",
            dependencies: [.product(name: "Backend", package: "axon"), .product(name: "OneDNN", package: "axon")],
            path: "OneDNN"
        ),
        .target(
            name: "VulkanPlugin",
            dependencies: [.product(name: "Backend", package: "axon"), .product(name: "Vulkan", package: "axon")],
            path: "Vulkan"
        ),
    ]
)
