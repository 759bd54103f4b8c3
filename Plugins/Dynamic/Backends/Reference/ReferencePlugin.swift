import Backend
import CPUReference

/// The reference backend's plugin entry point.
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "reference", version: "1.0.0") {
        BackendPlugin.retained { ReferenceBackend.descriptor }
    }
}
