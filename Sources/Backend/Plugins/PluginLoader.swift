import Foundation

/// Opens one plugin file and checks it step by step, running none of its Swift code until the
/// interface version and the `Backend` copy are known to match. A plugin, once opened, stays
/// mapped: the Swift runtime keeps pointers into every image it has seen.
enum PluginLoader {
    /// The `Backend` library this program runs with, or `nil` when `Backend` is compiled into
    /// the executable (its symbols are then not visible to `dlsym`).
    static let hostBackendImage: (anchor: UInt, path: String)? = {
        guard let anchor = dlsym(defaultScope, anchorSymbol) else { return nil }
        return (UInt(bitPattern: anchor), imagePath(of: anchor))
    }()

    private static let anchorSymbol = "axon_backend_image_anchor"

    /// `RTLD_DEFAULT`: the program and every library loaded globally.
    private static var defaultScope: UnsafeMutableRawPointer? {
        #if os(macOS)
        return UnsafeMutableRawPointer(bitPattern: -2)
        #else
        return nil
        #endif
    }

    /// The plugin's backend descriptor and version, or the reason it cannot be used.
    /// `isTaken` says whether a backend name is already registered, and by whom.
    static func open(_ path: String, isTaken: (String) -> BackendOrigin?) -> Result<(BackendDescriptor, version: String), PluginProblem> {
        guard let host = hostBackendImage else { return .failure(.hostLinksBackendStatically) }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(.notLoadable(reason: explainLoadError(lastError())))
        }
        guard let anchor = dlsym(handle, anchorSymbol) else { return .failure(.notLinkedAgainstBackend) }
        guard UInt(bitPattern: anchor) == host.anchor else {
            return .failure(.separateBackendCopy(plugin: imagePath(of: anchor), host: host.path))
        }
        guard let entry = dlsym(handle, BackendPlugin.entryPoint) else {
            return .failure(.missingEntryPoint(symbol: BackendPlugin.entryPoint))
        }
        typealias Entry = @convention(c) () -> UnsafeRawPointer?
        guard let descriptor = unsafeBitCast(entry, to: Entry.self)() else {
            return .failure(.malformedDescriptor(reason: "the entry point returned a null pointer"))
        }
        let abiVersion = descriptor.load(as: UInt32.self)
        guard abiVersion == BackendPlugin.abiVersion else {
            return .failure(.abiVersionMismatch(plugin: abiVersion, host: BackendPlugin.abiVersion))
        }
        let size = Int(descriptor.load(fromByteOffset: 4, as: UInt32.self))
        guard size >= BackendPlugin.descriptorSize else {
            return .failure(.malformedDescriptor(reason: "\(size) bytes, expected at least \(BackendPlugin.descriptorSize)"))
        }
        guard let name = string(at: descriptor, offset: 8), !name.isEmpty, let version = string(at: descriptor, offset: 16) else {
            return .failure(.malformedDescriptor(reason: "the name or version is missing or not UTF-8"))
        }
        if let owner = isTaken(name) { return .failure(.nameTaken(backend: name, by: owner)) }
        guard let create = descriptor.load(fromByteOffset: 24, as: UnsafeRawPointer?.self) else {
            return .failure(.malformedDescriptor(reason: "the create function is missing"))
        }
        typealias Create = @convention(c) () -> UnsafeMutableRawPointer?
        guard let object = unsafeBitCast(create, to: Create.self)() else {
            return .failure(.malformedDescriptor(reason: "create returned a null pointer"))
        }
        let plugin = Unmanaged<BackendPlugin>.fromOpaque(object).takeRetainedValue()
        let backend: BackendDescriptor
        do {
            backend = try plugin.describe()
        } catch {
            return .failure(.registrationFailed(backend: name, reason: "\(error)"))
        }
        guard backend.name == name else {
            return .failure(.malformedDescriptor(reason: "the entry point names '\(name)' but the plugin describes '\(backend.name)'"))
        }
        return .success((backend, version))
    }

    private static func string(at descriptor: UnsafeRawPointer, offset: Int) -> String? {
        guard let pointer = descriptor.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self) else { return nil }
        return String(validatingCString: pointer)
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
    }

    /// Adds the likely cause to an unresolved `Backend` symbol, which means the plugin was built
    /// against a `Backend` with other declarations.
    private static func explainLoadError(_ message: String) -> String {
        guard message.contains("undefined symbol: $s7Backend") else { return message }
        return message + " (the plugin was built against a different version of Backend; rebuild it)"
    }

    /// The file mapped at `address`.
    private static func imagePath(of address: UnsafeMutableRawPointer) -> String {
        #if canImport(Darwin)
        var info = Dl_info()
        guard dladdr(address, &info) != 0, let name = info.dli_fname else { return "an unknown image" }
        return String(cString: name)
        #else
        // glibc declares dladdr only under _GNU_SOURCE, which Swift's Glibc module does not set.
        let target = UInt(bitPattern: address)
        // Read to the end: procfs files report a size of 0, so a read sized by the file falls short.
        let handle = FileHandle(forReadingAtPath: "/proc/self/maps")
        let maps = (try? handle?.readToEnd()).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        try? handle?.close()
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let bounds = fields.first?.split(separator: "-").compactMap { UInt($0, radix: 16) } ?? []
            if fields.count >= 6, bounds.count == 2, bounds[0] <= target, target < bounds[1] {
                return fields[5...].joined(separator: " ")
            }
        }
        return "an unknown image"
        #endif
    }
}
