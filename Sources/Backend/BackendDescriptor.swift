/// How a backend plugin describes itself to the ``BackendRegistry``: its name, rank, options,
/// dependency on a host fallback, and how to create it.
///
/// ```swift
/// let descriptor = BackendDescriptor(
///     name: "mine", priority: 1, summary: "my backend",
///     options: [BackendOption(name: "threads", help: "worker threads", kind: .integer(1...64))]
/// ) { configuration in
///     MyBackend(threads: try configuration.integer("threads"))
/// }
/// BackendRegistry.shared.register(descriptor)
/// ```
public struct BackendDescriptor: Sendable {
    /// The registry name: `reference`, `onednn`, `vulkan`, ...
    public var name: String
    /// The rank for `auto`: higher wins.
    public var priority: Int
    /// One line for `axon backends` and help texts.
    public var summary: String
    /// The options the backend accepts.
    public var options: [BackendOption]
    /// Whether this backend runs every primitive on host memory, so that a delegating backend
    /// can fall back to it.
    public var isHostFallback: Bool
    /// Creates the backend; ``BackendConfiguration/hostFallback()`` gives the fallback.
    public var make: @Sendable (BackendConfiguration) throws -> any Backend

    /// A descriptor; `make` creates the backend when the registry is asked for it.
    public init(
        name: String, priority: Int, summary: String, options: [BackendOption] = [], isHostFallback: Bool = false,
        make: @escaping @Sendable (BackendConfiguration) throws -> any Backend
    ) {
        self.name = name
        self.priority = priority
        self.summary = summary
        self.options = options
        self.isHostFallback = isHostFallback
        self.make = make
    }

    /// The backend's line in a help text, with its options.
    public var helpText: String {
        var lines = ["\(name): \(summary)"]
        for option in options { lines.append("  \(name).\(option.name)=\(option.kind.placeholder): \(option.help)") }
        return lines.joined(separator: "\n")
    }
}

/// An option a backend declares, set as `backend.option=value`.
public struct BackendOption: Sendable {
    /// The values an option accepts.
    public enum Kind: Sendable {
        /// An integer in the range.
        case integer(ClosedRange<Int>)
        /// One of the listed words.
        case choice([String])
        /// Any text.
        case text

        var placeholder: String {
            switch self {
            case let .integer(range): return "\(range.lowerBound)…\(range.upperBound)"
            case let .choice(values): return values.joined(separator: "|")
            case .text: return "TEXT"
            }
        }
    }

    /// The option's name, after the backend's (`vulkan.device`).
    public var name: String
    /// One line of help.
    public var help: String
    /// The values it accepts.
    public var kind: Kind

    /// An option `name` accepting values of `kind`.
    public init(name: String, help: String, kind: Kind) {
        self.name = name
        self.help = help
        self.kind = kind
    }

    /// Throws unless `value` is one the option accepts.
    func validate(_ value: String, backend: String) throws {
        let accepted: Bool
        switch kind {
        case let .integer(range): accepted = Int(value).map(range.contains) ?? false
        case let .choice(values): accepted = values.contains(value)
        case .text: accepted = true
        }
        guard accepted else {
            throw BackendError.invalidArgument(
                operation: "backend option", reason: "\(backend).\(name) must be \(kind.placeholder), got '\(value)'")
        }
    }
}

/// What a backend's factory receives: its option values and access to a host fallback.
public struct BackendConfiguration: Sendable {
    /// The backend's name.
    public let backend: String
    /// The options set for this backend, by name (validated against their declarations).
    public let values: [String: String]
    let hostFallbackProvider: @Sendable () throws -> any Backend

    /// A configuration of option `values`; `hostFallback` makes the host backend a delegating backend runs on.
    public init(backend: String, values: [String: String] = [:], hostFallback: @escaping @Sendable () throws -> any Backend) {
        self.backend = backend
        self.values = values
        self.hostFallbackProvider = hostFallback
    }

    /// The registered host fallback, for a backend that delegates to one.
    public func hostFallback() throws -> any Backend { try hostFallbackProvider() }

    /// An integer option's value, or nil when it was not set.
    public func integer(_ option: String) -> Int? { values[option].flatMap { Int($0) } }
}
