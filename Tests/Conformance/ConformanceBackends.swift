import Backend
import CPUReference

/// The backends the conformance suite runs on: every plugin linked into this test target.
/// A plugin that is built but cannot start is a failure, not a skip.
enum ConformanceBackends {
    static let registry: BackendRegistry = {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        return registry
    }()

    /// The names of all linked backends.
    static var names: [String] { registry.availableNames }

    static func backend(_ name: String) throws -> any Backend { try registry.backend(named: name) }

    static var reference: any Backend { ReferenceBackend() }
}
