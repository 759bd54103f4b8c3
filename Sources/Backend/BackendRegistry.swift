import Foundation

/// Knows the backends by name and creates them on demand, each behind its front door
/// (``CheckedBackend``).
///
/// Each backend describes itself with a ``BackendDescriptor`` (name, priority for `auto`,
/// options, whether it delegates to a host fallback). Backends compiled into the program are
/// registered in one place for the CLI, the benchmarks, the examples and the tests; backends
/// built as shared libraries are loaded from the plugin path with ``loadPlugins(from:)``, and
/// the registry remembers where each came from. A backend is then picked by name, by the
/// `AXON_BACKEND` environment variable, or with `auto`, which chooses the highest-priority
/// backend that starts.
///
/// ```swift
/// let registry = BackendRegistry.shared
/// let backend = try registry.backend(named: "auto")
/// print(backend.name)
/// ```
public final class BackendRegistry: @unchecked Sendable {
    /// The process-wide registry.
    public static let shared = BackendRegistry()

    /// The environment variable that names the backend to use.
    public static let environmentVariable = "AXON_BACKEND"

    private let lock = NSLock()
    private var descriptors: [String: BackendDescriptor] = [:]
    private var origins: [String: BackendOrigin] = [:]
    private var reports: [PluginReport] = []
    private var settings: [String: [String: String]] = [:]
    private var instances: [String: CheckedBackend] = [:]

    /// The bound on one allocation given to every backend's front door.
    public var maximumAllocationBytes: Int {
        get { lock.withLock { allocationBound } }
        set { lock.withLock { allocationBound = newValue; instances = [:] } }
    }
    private var allocationBound = CheckedBackend.defaultMaximumAllocationBytes

    /// An empty registry (programs use ``shared``).
    public init() {}

    /// Registers (or replaces) a backend linked into the program.
    public func register(_ descriptor: BackendDescriptor) {
        register(descriptor, origin: .linked)
    }

    private func register(_ descriptor: BackendDescriptor, origin: BackendOrigin) {
        lock.withLock {
            descriptors[descriptor.name] = descriptor
            origins[descriptor.name] = origin
            instances[descriptor.name] = nil
        }
    }

    /// Where the backend called `name` comes from, if it is registered.
    public func origin(of name: String) -> BackendOrigin? {
        lock.withLock { origins[name] }
    }

    /// Loads every backend plugin on `searchPath` and registers the backends they provide. A
    /// plugin that cannot be used is skipped and reported, never fatal; a plugin does not replace
    /// a backend already registered. Returns this call's reports, which ``pluginReports`` keeps.
    @discardableResult
    public func loadPlugins(from searchPath: PluginSearchPath = .standard) -> [PluginReport] {
        let (files, missing) = searchPath.candidates()
        var loaded = missing
        for path in files {
            switch PluginLoader.open(path, isTaken: origin(of:)) {
            case let .success((descriptor, version)):
                register(descriptor, origin: .plugin(path: path, version: version))
                loaded.append(PluginReport(path: path, outcome: .loaded(backend: descriptor.name, version: version)))
            case let .failure(problem):
                loaded.append(PluginReport(path: path, outcome: .skipped(problem)))
            }
        }
        lock.withLock { reports += loaded }
        return loaded
    }

    /// What every ``loadPlugins(from:)`` call found, in order.
    public var pluginReports: [PluginReport] { lock.withLock { reports } }

    /// The `Backend` shared library this program uses, or `nil` when `Backend` is compiled into
    /// the executable (a single-binary build, which cannot load plugins).
    public static var sharedBackendLibrary: String? { PluginLoader.hostBackendImage?.path }

    /// Registers (or replaces) a backend without options or dependencies.
    public func register(name: String, priority: Int, factory: @escaping @Sendable () throws -> any Backend) {
        register(BackendDescriptor(name: name, priority: priority, summary: name) { _ in try factory() })
    }

    /// Registered names, highest priority first.
    public var availableNames: [String] { descriptorsByPriority.map(\.name) }

    /// Registered backends, highest priority first: what `axon backends` and help texts list.
    public var descriptorsByPriority: [BackendDescriptor] {
        lock.withLock { descriptors.values.sorted { ($0.priority, $1.name) > ($1.priority, $0.name) } }
    }

    /// Sets a backend's option (for example `threads` of `onednn`) for when it is next
    /// created, checking the value against the option's declaration.
    public func setOption(_ option: String, to value: String, forBackend backend: String) throws {
        try lock.withLock {
            try checkOption(option, value: value, backend: backend)
            settings[backend, default: [:]][option] = value
            instances[backend] = nil
        }
    }

    /// Sets options written `backend.option=value`, as the CLI's `--backend-option` takes them.
    public func setOptions(_ assignments: [String]) throws {
        for (backend, option, value) in try Self.parse(assignments) {
            try setOption(option, to: value, forBackend: backend)
        }
    }

    /// Checks options written `backend.option=value` against the registered backends'
    /// declarations without setting them or starting any backend.
    public func validateOptions(_ assignments: [String]) throws {
        for (backend, option, value) in try Self.parse(assignments) {
            try lock.withLock { try checkOption(option, value: value, backend: backend) }
        }
    }

    private static func parse(_ assignments: [String]) throws -> [(backend: String, option: String, value: String)] {
        try assignments.map { assignment in
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts.first?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
            guard parts.count == 2, key.count == 2 else {
                throw BackendError.invalidArgument(
                    operation: "backend option", reason: "'\(assignment)' is not of the form backend.option=value (for example onednn.threads=2)")
            }
            return (key[0], key[1], parts[1])
        }
    }

    /// Throws unless `backend` is registered and declares `option` with `value` in its range.
    /// Called with the lock held.
    private func checkOption(_ option: String, value: String, backend: String) throws {
        guard let descriptor = descriptors[backend] else {
            throw BackendError.unknownBackend(name: backend, available: descriptors.keys.sorted())
        }
        guard let declaration = descriptor.options.first(where: { $0.name == option }) else {
            let known = descriptor.options.map(\.name)
            throw BackendError.invalidArgument(
                operation: "backend option",
                reason: "backend '\(backend)' has no option '\(option)' (it has \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        try declaration.validate(value, backend: backend)
    }

    /// The backend called `name`, behind its front door, created once and then shared.
    /// `auto` picks the highest-priority backend that starts.
    public func backend(named name: String) throws -> any Backend {
        if name == "auto" { return try automatic() }
        return try instance(named: name, dependents: [])
    }

    /// The backend chosen by `selection` if given, else by `AXON_BACKEND`, else `auto`.
    public func resolve(_ selection: String? = nil) throws -> any Backend {
        let environment = ProcessInfo.processInfo.environment[Self.environmentVariable]
        let name = selection ?? environment.flatMap { $0.isEmpty ? nil : $0 } ?? "auto"
        return try backend(named: name)
    }

    private func instance(named name: String, dependents: [String]) throws -> CheckedBackend {
        let (descriptor, options, bound, existing) = lock.withLock {
            (descriptors[name], settings[name] ?? [:], allocationBound, instances[name])
        }
        if let existing { return existing }
        guard let descriptor else {
            throw BackendError.unknownBackend(name: name, available: availableNames)
        }
        let configuration = BackendConfiguration(
            backend: name, values: options, hostFallback: { [self] in try hostFallback(for: name, dependents: dependents + [name]) })
        let created = CheckedBackend(try descriptor.make(configuration), maximumAllocationBytes: bound)
        return lock.withLock {
            if let existing = instances[name] { return existing }
            instances[name] = created
            return created
        }
    }

    /// The registered host fallback (a backend that runs every primitive on host memory)
    /// that a delegating backend declares it needs.
    private func hostFallback(for backend: String, dependents: [String]) throws -> any Backend {
        let candidates = descriptorsByPriority.filter { $0.isHostFallback && !dependents.contains($0.name) }
        guard let fallback = candidates.last else {
            throw BackendError.unavailable(
                backend: backend, reason: "it delegates to a host fallback backend (such as reference), and none is registered")
        }
        return try instance(named: fallback.name, dependents: dependents).implementation
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
