#if Vulkan
import Backend
import CVulkan
import Foundation

/// Collects the warnings and errors of the Khronos validation layer. The backend throws the
/// first one at its next synchronisation point, so a validation message fails the run.
final class ValidationLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func record(_ message: String) { lock.withLock { messages.append(message) } }

    /// Throws the recorded messages, if any, and clears them.
    func check() throws {
        let recorded = lock.withLock { () -> [String] in
            defer { messages.removeAll() }
            return messages
        }
        guard !recorded.isEmpty else { return }
        throw BackendError.deviceFailure(
            backend: "vulkan",
            reason: "\(recorded.count) validation message(s): " + recorded.prefix(3).joined(separator: " | "))
    }

    /// Installs a debug-utils messenger that records into this log.
    func attach(to instance: VkInstance) throws -> VkDebugUtilsMessengerEXT? {
        guard let pointer = vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT") else {
            throw BackendError.unavailable(backend: "vulkan", reason: "VK_EXT_debug_utils is missing, so validation messages cannot be caught")
        }
        let create = unsafeBitCast(pointer, to: PFN_vkCreateDebugUtilsMessengerEXT.self)
        var info = VkDebugUtilsMessengerCreateInfoEXT()
        info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT
        info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT.rawValue
        info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT.rawValue
            | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT.rawValue
        info.pfnUserCallback = { _, _, data, user in
            guard let user, let text = data?.pointee.pMessage else { return VkBool32(VK_FALSE) }
            Unmanaged<ValidationLog>.fromOpaque(user).takeUnretainedValue().record(String(cString: text))
            return VkBool32(VK_FALSE)
        }
        info.pUserData = Unmanaged.passUnretained(self).toOpaque()
        var messenger: VkDebugUtilsMessengerEXT?
        try VulkanCheck.result(create(instance, &info, nil, &messenger), "vkCreateDebugUtilsMessengerEXT")
        return messenger
    }
}
#endif
