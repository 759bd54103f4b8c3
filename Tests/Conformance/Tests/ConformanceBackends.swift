import AxonBackends
import Backend
import CPUReference
import Foundation

/// The backends the conformance suite runs on: every plugin linked into this test target.
/// A plugin that is built but cannot start is a failure, not a skip.
enum ConformanceBackends {
    static let registry: BackendRegistry = {
        let registry = BackendRegistry()
        LinkedBackends.register(in: registry)
        return registry
    }()

    /// The names of all linked backends.
    static var names: [String] { registry.availableNames }

    static func backend(_ name: String) throws -> any Backend { try registry.backend(named: name) }

    static var reference: any Backend { ReferenceBackend() }

    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The MNIST files beside the repository (../shared/datasets/mnist).
    static let mnist = root.deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist")
}

/// Deterministic inputs without depending on the suite's generators.
enum InputSpecValues {
    static func uniform(count: Int) -> [Float] {
        Philox.bits(key: Philox.Key(seed: 9), offset: 0, count: count).map { Philox.unitFloat($0) }
    }
}
