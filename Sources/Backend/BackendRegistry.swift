import Foundation

/// Knows the backends by name and creates them on demand.
///
/// Each plugin module registers itself through one public entry point (for example
/// `ReferenceBackend.register()`); the CLI, the tests and applications call those entry
/// points, then pick a backend by name, by the `AXON_BACKEND` environment variable, or with
/// `auto`, which chooses the highest-priority backend that starts. A registration is a factory
/// closure, so a backend loaded later from a C function table can be registered the same way.
///
/// ```swift
/// let registry = BackendRegistry.shared
/// let backend = try registry.backend(named: "auto")
/// print(backend.name)
/// ```
public final class BackendRegistry: @unchecked Sendable {
    /// A registered backend: its name, its rank for `auto` (higher wins) and how to create it.
    public struct Entry: Sendable {
        public let name: String
        public let priority: Int
        public let factory: @Sendable () throws -> any Backend
    }

    /// The process-wide registry.
    public static let shared = BackendRegistry()

    /// The environment variable that names the backend to use.
    public static let environmentVariable = "AXON_BACKEND"

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var instances: [String: any Backend] = [:]

    public init() {}

    /// Registers (or replaces) a backend factory under `name`.
    public func register(name: String, priority: Int, factory: @escaping @Sendable () throws -> any Backend) {
        lock.withLock {
            entries[name] = Entry(name: name, priority: priority, factory: factory)
            instances[name] = nil
        }
    }

    /// Registered names, highest priority first.
    public var availableNames: [String] {
        lock.withLock { entries.values.sorted { ($0.priority, $1.name) > ($1.priority, $0.name) }.map(\.name) }
    }

    /// The backend called `name`, created once and then shared. `auto` picks the
    /// highest-priority backend that starts.
    public func backend(named name: String) throws -> any Backend {
        if name == "auto" { return try automatic() }
        let entry: Entry? = lock.withLock {
            entries[name]
        }
        guard let entry else {
            throw BackendError.unknownBackend(name: name, available: availableNames)
        }
        if let existing = lock.withLock({ instances[name] }) { return existing }
        let created = try entry.factory()
        return lock.withLock {
            if let existing = instances[name] { return existing }
            instances[name] = created
            return created
        }
    }

    /// The backend chosen by `selection` if given, else by `AXON_BACKEND`, else `auto`.
    public func resolve(_ selection: String? = nil) throws -> any Backend {
        let environment = ProcessInfo.processInfo.environment[Self.environmentVariable]
        let name = selection ?? environment.flatMap { $0.isEmpty ? nil : $0 } ?? "auto"
        return try backend(named: name)
    }

    private func automatic() throws -> any Backend {
        var failures: [String] = []
        for name in availableNames {
            do {
                return try backend(named: name)
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        throw BackendError.unknownBackend(
            name: "auto", available: failures.isEmpty ? [] : ["none started (" + failures.joined(separator: "; ") + ")"])
    }
}
