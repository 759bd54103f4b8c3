import Backend
import OneDNN

/// The oneDNN backend's plugin entry point. The library needs `libdnnl.so` when it is loaded,
/// not the program that loads it.
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "onednn", version: "1.0.0") {
        BackendPlugin.retained { OneDNNBackend.descriptor }
    }
}
