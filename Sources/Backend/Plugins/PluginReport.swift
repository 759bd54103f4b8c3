/// Where a registered backend comes from.
public enum BackendOrigin: Sendable, Equatable, CustomStringConvertible {
    /// Compiled into the program (the package traits `OneDNN`, `Vulkan`; the reference backend).
    case linked
    /// Loaded at run time from the shared library at `path`.
    case plugin(path: String, version: String)

    public var description: String {
        switch self {
        case .linked: return "linked into the program"
        case let .plugin(path, version): return "plugin \(path) (version \(version))"
        }
    }
}

/// What became of one plugin file (or one entry of the plugin path): loaded, or skipped and why.
public struct PluginReport: Sendable, CustomStringConvertible {
    /// The file or directory the report is about.
    public let path: String
    /// Loaded as the backend `name`, or skipped for `problem`.
    public let outcome: Outcome

    /// What happened to a plugin.
    public enum Outcome: Sendable {
        /// Loaded, registering `backend` at the plugin's `version`.
        case loaded(backend: String, version: String)
        /// Skipped, for the problem given.
        case skipped(PluginProblem)
    }

    /// Whether the plugin was loaded and registered.
    public var loaded: Bool {
        if case .loaded = outcome { return true }
        return false
    }

    public var description: String {
        switch outcome {
        case let .loaded(backend, version): return "\(path): loaded backend '\(backend)' (version \(version))"
        case let .skipped(problem): return "\(path): skipped: \(problem)"
        }
    }
}

/// Why a plugin was not loaded. Each is reported with the file and the program goes on with the
/// backends it has.
public enum PluginProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// An entry of `AXON_PLUGIN_PATH` that does not exist.
    case pathDoesNotExist
    /// `dlopen` refused the file: not a shared library, or a library it needs is missing.
    case notLoadable(reason: String)
    /// The library does not link the `Backend` shared library.
    case notLinkedAgainstBackend
    /// The library has no `axon_backend_plugin` function.
    case missingEntryPoint(symbol: String)
    /// The plugin was compiled against another plugin interface version.
    case abiVersionMismatch(plugin: UInt32, host: UInt32)
    /// The plugin's descriptor is not one this interface version can read.
    case malformedDescriptor(reason: String)
    /// This program has `Backend` compiled into it (a single-binary build), so a plugin would
    /// bring its own copy of every `Backend` type.
    case hostLinksBackendStatically
    /// The plugin resolved `Backend` to a different copy than the program's.
    case separateBackendCopy(plugin: String, host: String)
    /// Another backend of the same name is registered already.
    case nameTaken(backend: String, by: BackendOrigin)
    /// The plugin's registration threw.
    case registrationFailed(backend: String, reason: String)

    public var description: String {
        switch self {
        case .pathDoesNotExist:
            return "no such file or directory (named in AXON_PLUGIN_PATH)"
        case let .notLoadable(reason):
            return "cannot be loaded: \(reason)"
        case .notLinkedAgainstBackend:
            return "not a backend plugin: it does not link the Backend library"
        case let .missingEntryPoint(symbol):
            return "not a backend plugin: it has no '\(symbol)' function"
        case let .abiVersionMismatch(plugin, host):
            return "built for plugin interface version \(plugin), this program uses version \(host); rebuild the plugin against this Backend"
        case let .malformedDescriptor(reason):
            return "malformed plugin descriptor: \(reason)"
        case .hostLinksBackendStatically:
            return "this program has Backend compiled in (a single-binary build); run-time plugins need the plugin build (scripts/build-plugins.sh)"
        case let .separateBackendCopy(plugin, host):
            return "the plugin uses the Backend library at \(plugin), this program the one at \(host); both must use one copy"
        case let .nameTaken(backend, origin):
            return "backend name '\(backend)' is already taken by the backend \(origin)"
        case let .registrationFailed(backend, reason):
            return "registering backend '\(backend)' failed: \(reason)"
        }
    }
}
