import Backend

/// The plugin entry point that `axon` looks for in `libAxonCounting.so`.
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "counting", version: "0.1.0") {
        BackendPlugin.retained { CountingBackend.descriptor }
    }
}
