import Backend
import CPUReference
#if OneDNN
import OneDNN
#endif
#if Vulkan
import Vulkan
#endif

/// The one place that registers the backends linked into a program: the `axon` CLI, the
/// benchmarks, the examples and the tests all call ``register(in:)``. Which plugins are
/// linked is decided by the package traits (`OneDNN`, `Vulkan`); the reference backend is
/// always there. Backends built as shared libraries are loaded at run time instead, with
/// `BackendRegistry.loadPlugins(from:)` (docs/plugins.md).
///
/// ```swift
/// import AxonBackends
///
/// LinkedBackends.register()
/// let backend = try BackendRegistry.shared.resolve()  // AXON_BACKEND, else auto
/// print(backend.name)
/// ```
public enum LinkedBackends {
    /// Registers every linked backend with `registry`. Registering again replaces the entries
    /// (and keeps options already set).
    public static func register(in registry: BackendRegistry = .shared) {
        ReferenceBackend.register(in: registry)
        #if OneDNN
        OneDNNBackend.register(in: registry)
        #endif
        #if Vulkan
        VulkanBackend.register(in: registry)
        #endif
    }
}
