// The Vulkan C API from Debian's libvulkan-dev, plus the function-like macros Swift cannot
// import, wrapped as inline functions.
#include <vulkan/vulkan.h>

static inline uint32_t axon_vk_api_version_1_1(void) { return VK_API_VERSION_1_1; }
static inline uint32_t axon_vk_version_major(uint32_t version) { return VK_API_VERSION_MAJOR(version); }
static inline uint32_t axon_vk_version_minor(uint32_t version) { return VK_API_VERSION_MINOR(version); }
static inline uint32_t axon_vk_version_patch(uint32_t version) { return VK_API_VERSION_PATCH(version); }
