// swift-tools-version: 6.1
import PackageDescription

/// The `axon` executable that loads its backends at run time: the commands of the main package
/// built with no backend traits (so no load-time dependency on oneDNN or Vulkan) and linked
/// against the shared `libBackend.so`, which the plugins in ../Backends link too.
/// `scripts/build-plugins.sh` builds it; see docs/plugins.md.
let package = Package(
    name: "AxonPluginHost",
    platforms: [.macOS(.v14)],
    products: [.executable(name: "axon-plugin-host", targets: ["AxonPluginHost"])],  // installed as `axon`
    dependencies: [.package(name: "axon", path: "../../..", traits: [])],
    targets: [
        .executableTarget(
            name: "AxonPluginHost",
            // Naming the Backend product is what links libBackend.so rather than compiling Backend in.
            dependencies: [.product(name: "Backend", package: "axon"), .product(name: "AxonCommands", package: "axon")],
            path: "Sources"
        ),
    ]
)
