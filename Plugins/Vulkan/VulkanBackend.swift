// The Vulkan compute backend plugin. Its implementation arrives with the Vulkan issue; until
// then the module is an empty shell, compiled only so the `Vulkan` trait and product exist.
#if Vulkan
import Backend
#endif
