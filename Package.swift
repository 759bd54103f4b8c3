// swift-tools-version: 6.1
import PackageDescription

/// Axon for Swift: a deep-learning library with interchangeable backends.
///
/// The traits `OneDNN` and `Vulkan` (both on by default) decide which accelerated backend
/// plugins are compiled in; the pure-Swift reference backend is always present. Plugin
/// sources are wrapped in `#if OneDNN` / `#if Vulkan`, so the package builds as empty plugin
/// modules when a trait is off. The trait `MPI` (on by default) builds the `Distributed`
/// module over Open MPI; without it, asking for a communicator throws.
///
/// The executables here link everything statically (a single binary). `Backend` is also a
/// dynamic library product: a package that depends on it (Plugins/Dynamic, an out-of-tree
/// backend) links one shared `libBackend.so`, which is what lets backends load at run time
/// (docs/plugins.md).
let package = Package(
    name: "Axon",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AxonCore", targets: ["AxonCore"]),
        .library(name: "AxonData", targets: ["AxonData"]),
        .library(name: "AxonInterop", targets: ["AxonInterop"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "Backend", type: .dynamic, targets: ["Backend"]),
        .library(name: "CPUReference", targets: ["CPUReference"]),
        .library(name: "OneDNN", targets: ["OneDNN"]),
        .library(name: "Vulkan", targets: ["Vulkan"]),
        .library(name: "AxonBackends", targets: ["AxonBackends"]),
        .library(name: "AxonConformance", targets: ["AxonConformance"]),
        .library(name: "AxonCommands", targets: ["AxonCommands"]),
        .executable(name: "axon", targets: ["AxonCLI"]),
    ],
    traits: [
        .trait(name: "OneDNN", description: "Build the oneDNN CPU backend (needs libdnnl-dev)."),
        .trait(name: "Vulkan", description: "Build the Vulkan compute backend (needs libvulkan-dev)."),
        .trait(name: "MPI", description: "Build data-parallel training over Open MPI (needs libopenmpi-dev)."),
        .default(enabledTraits: ["OneDNN", "Vulkan", "MPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation` (scripts/docs.sh) and the snippets in Snippets/.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .target(name: "Backend", path: "Sources/Backend", exclude: ["Plugins/abi.txt"]),  // read by scripts/backend-abi.sh
        .target(name: "CPUReference", dependencies: ["Backend"], path: "Plugins/CPUReference"),
        .systemLibrary(name: "CDNNL", path: "Plugins/CDNNL"),
        // The onednn backend's own loops that Swift does not vectorise well: a square root per
        // lane, bfloat16 rounding.
        .target(name: "COneDNNKernels", path: "Plugins/COneDNNKernels", linkerSettings: [.linkedLibrary("mvec")]),
        .target(
            name: "OneDNN",
            dependencies: [
                "Backend", .target(name: "CDNNL", condition: .when(traits: ["OneDNN"])),
                .target(name: "COneDNNKernels", condition: .when(traits: ["OneDNN"])),
            ],
            path: "Plugins/OneDNN"
        ),
        .systemLibrary(name: "CVulkan", path: "Plugins/CVulkan"),
        .target(
            name: "Vulkan",
            dependencies: ["Backend", .target(name: "CVulkan", condition: .when(traits: ["Vulkan"]))],
            path: "Plugins/Vulkan",
            exclude: ["Shaders"]
        ),
        // The one registration point of the linked backends (CLI, benchmarks, examples, tests).
        .target(
            name: "AxonBackends",
            dependencies: [
                "Backend", "CPUReference",
                .target(name: "OneDNN", condition: .when(traits: ["OneDNN"])),
                .target(name: "Vulkan", condition: .when(traits: ["Vulkan"])),
            ],
            path: "Sources/AxonBackends"
        ),
        .systemLibrary(name: "SystemZlib", path: "Sources/SystemZlib"),
        .target(
            name: "AxonCore",
            dependencies: ["Backend", .product(name: "Logging", package: "swift-log")],
            path: "Sources/AxonCore"
        ),
        // Data sets and their file formats (IDX, MNIST, the generated digits, gzip), beside the core.
        .target(name: "AxonData", dependencies: ["AxonCore", "SystemZlib", "ZIPFoundation"], path: "Sources/AxonData"),
        // The ecosystem's formats: safetensors, ONNX and TensorBoard event files.
        .target(
            name: "AxonInterop",
            dependencies: ["AxonCore", "AxonData", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/AxonInterop",
            exclude: ["Protos"]
        ),
        // Data-parallel training across processes and machines over MPI (trait MPI).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI"),
        .target(
            name: "Distributed",
            dependencies: ["AxonCore", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
            path: "Sources/Distributed"
        ),
        // The commands of `axon`; each executable registers its backends and runs them.
        .target(
            name: "AxonCommands",
            dependencies: [
                "AxonCore", "AxonBenchmarks", "AxonConformance", "AxonData", "AxonInterop", "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/AxonCommands"
        ),
        .executableTarget(name: "AxonCLI", dependencies: ["AxonBackends", "AxonCommands"], path: "Sources/AxonCLI"),
        .target(
            name: "AxonBenchmarks",
            dependencies: ["AxonCore", "CPeak", .target(name: "CDNNL", condition: .when(traits: ["OneDNN"]))],
            path: "Benchmarks/Library"
        ),
        .target(name: "CPeak", path: "Benchmarks/CPeak"),
        .executableTarget(name: "Benchmarks", dependencies: ["AxonBackends", "AxonBenchmarks"], path: "Benchmarks/Main"),
        .target(
            name: "AxonExamples",
            dependencies: [
                "AxonCore", "AxonBackends", "AxonData",
            ],
            path: "Examples/Library"
        ),
        // The file-format fuzzer: libFuzzer when built by scripts/fuzz.sh, a corpus replayer otherwise.
        .target(name: "AxonFuzzTargets", dependencies: ["AxonCore", "AxonConformance", "AxonData", "AxonInterop", "CPUReference"], path: "Fuzz/Targets"),
        .executableTarget(name: "axon-fuzz", dependencies: ["AxonFuzzTargets"], path: "Fuzz/AxonFuzz"),
        .executableTarget(name: "mnist-mlp", dependencies: ["AxonExamples"], path: "Examples/MNISTMLP"),
        .executableTarget(name: "mnist-cnn", dependencies: ["AxonExamples"], path: "Examples/MNISTCNN"),
        .executableTarget(name: "residual-cnn", dependencies: ["AxonExamples"], path: "Examples/ResidualCNN"),
        .executableTarget(name: "ctc-sequences", dependencies: ["AxonExamples"], path: "Examples/CTCSequences"),
        .executableTarget(name: "mnist-lstm", dependencies: ["AxonExamples"], path: "Examples/MNISTLSTM"),
        .executableTarget(name: "transformer-encoder", dependencies: ["AxonExamples"], path: "Examples/TransformerEncoder"),
        .executableTarget(name: "gan", dependencies: ["AxonExamples"], path: "Examples/GAN"),
        .testTarget(
            name: "AxonTests",
            dependencies: [
                "AxonCore", "AxonConformance", "AxonData", "AxonExamples", "AxonInterop", "AxonFuzzTargets", "CPUReference",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/AxonTests",
            exclude: ["Fixtures"]  // binary inputs read by path; scripts/make-test-fixtures.py writes them
        ),
        .target(
            name: "AxonConformance",
            dependencies: ["AxonCore", "AxonData", "CPUReference"],
            path: "Tests/Conformance/Suite"
        ),
        .testTarget(
            name: "Conformance",
            dependencies: [
                "AxonCore", "AxonBackends", "AxonConformance", "AxonData", "AxonInterop", "CPUReference",
                .target(name: "OneDNN", condition: .when(traits: ["OneDNN"])),
                .target(name: "Vulkan", condition: .when(traits: ["Vulkan"])),
            ],
            path: "Tests/Conformance/Tests"
        ),
    ]
)
