import Backend
import Vulkan

/// The Vulkan backend's plugin entry point. The library needs the Vulkan loader
/// (`libvulkan.so.1`) when it is loaded, not the program that loads it.
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "vulkan", version: "1.0.0") {
        BackendPlugin.retained { VulkanBackend.descriptor }
    }
}
