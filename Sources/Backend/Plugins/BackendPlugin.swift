/// A backend built as a shared library and loaded by a program at run time.
///
/// A plugin exports one C function, `axon_backend_plugin`, that returns a fixed-layout
/// descriptor: the plugin interface version, the backend's name, the plugin's own version and a
/// C function that creates the plugin object. The host reads the version and the name before it
/// runs any of the plugin's Swift code, so a plugin built against another interface is refused
/// instead of crashing; only then does it create the ``BackendPlugin`` and ask it for its
/// ``BackendDescriptor``.
///
/// ```swift
/// import Backend
///
/// @_cdecl("axon_backend_plugin")
/// public func axonBackendPlugin() -> UnsafeRawPointer {
///     BackendPlugin.export(name: "mine", version: "1.0") {
///         BackendPlugin.retained { BackendDescriptor(name: "mine", priority: 1, summary: "my backend") { _ in MyBackend() } }
///     }
/// }
/// ```
///
/// The descriptor, as C sees it (all fields are read only when `abi_version` matches):
///
/// ```c
/// struct axon_backend_plugin {
///     uint32_t abi_version;       // BackendPlugin.abiVersion the plugin was compiled against
///     uint32_t size;              // sizeof(struct axon_backend_plugin), 32
///     const char *name;           // the backend's registry name, UTF-8
///     const char *version;        // the plugin's own version, free text
///     void *(*create)(void);      // returns a retained BackendPlugin
/// };
/// ```
///
/// `Backend` is compiled without library evolution, so any change to its public declarations
/// (a protocol requirement, a stored property, an enum case) changes the binary interface and
/// must bump ``abiVersion``; `scripts/backend-abi.sh --check`, run by CI, fails until it does.
/// So does a change to the operands the front door hands an implementation (version 7:
/// normalisation's `bfloat16` data with `float32` parameters). Version 8 added `dropoutBackward` and
/// `NormalizationDescriptor.outputDType`; version 9 `Buffer.isDonated`.
public final class BackendPlugin: Sendable {
    /// The version of the plugin interface: `Backend`'s binary interface and the descriptor's layout.
    ///
    /// Emitted into each client, so a plugin carries the version it was compiled against, and the
    /// host the version it runs with.
    @_alwaysEmitIntoClient public static var abiVersion: UInt32 { 9 }

    /// The C symbol every plugin exports.
    public static let entryPoint = "axon_backend_plugin"

    /// The descriptor's size in bytes in this interface version.
    @_alwaysEmitIntoClient public static var descriptorSize: Int { 32 }

    /// Describes the backend; called once, after the interface checks, and may throw to refuse
    /// (a missing device driver, an unsupported library version).
    public let describe: @Sendable () throws -> BackendDescriptor

    /// A plugin whose backend `describe` describes.
    public init(describe: @escaping @Sendable () throws -> BackendDescriptor) {
        self.describe = describe
    }

    /// A retained plugin object as the opaque pointer the descriptor's `create` returns.
    public static func retained(_ describe: @escaping @Sendable () throws -> BackendDescriptor) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(BackendPlugin(describe: describe)).toOpaque()
    }

    /// Builds the descriptor an entry point returns. It is emitted into the plugin and touches
    /// nothing in `Backend`, so the host can read it whatever interface the plugin was built for.
    /// The memory lives as long as the process (plugins are never unloaded).
    @_alwaysEmitIntoClient
    public static func export(
        name: StaticString, version: StaticString, create: @convention(c) () -> UnsafeMutableRawPointer
    ) -> UnsafeRawPointer {
        let descriptor = UnsafeMutableRawPointer.allocate(byteCount: descriptorSize, alignment: 8)
        descriptor.storeBytes(of: abiVersion, as: UInt32.self)
        descriptor.storeBytes(of: UInt32(descriptorSize), toByteOffset: 4, as: UInt32.self)
        descriptor.storeBytes(of: UnsafeRawPointer(name.utf8Start), toByteOffset: 8, as: UnsafeRawPointer.self)
        descriptor.storeBytes(of: UnsafeRawPointer(version.utf8Start), toByteOffset: 16, as: UnsafeRawPointer.self)
        descriptor.storeBytes(of: unsafeBitCast(create, to: UnsafeRawPointer.self), toByteOffset: 24, as: UnsafeRawPointer.self)
        return UnsafeRawPointer(descriptor)
    }
}

/// A symbol of this module with a C name, so that the plugin loader can tell which copy of
/// `Backend` a program and a plugin use (one shared library, or a copy linked into each).
@_cdecl("axon_backend_image_anchor")
public func backendImageAnchor() {}
