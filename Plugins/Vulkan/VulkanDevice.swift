#if Vulkan
import Backend
import CVulkan
import Foundation

/// The Vulkan instance, the chosen physical device, its logical device and one compute queue.
///
/// Devices are ranked discrete GPU, integrated GPU, virtual GPU, then CPU (lavapipe);
/// `AXON_VULKAN_DEVICE` picks one by index (in `vkEnumeratePhysicalDevices` order) or by a
/// case-insensitive substring of its name. `AXON_VULKAN_VALIDATION=1` enables the Khronos
/// validation layer and records every warning or error it reports in ``validationLog``.
final class VulkanDevice: @unchecked Sendable {
    let instance: VkInstance
    let physicalDevice: VkPhysicalDevice
    let device: VkDevice
    let queue: VkQueue
    let queueFamily: UInt32
    let properties: VkPhysicalDeviceProperties
    let memoryProperties: VkPhysicalDeviceMemoryProperties
    /// Validation messages, when the validation layer is on.
    let validationLog: ValidationLog?
    /// Whether `VK_EXT_pipeline_creation_feedback` is enabled, so pipeline-cache hits can be counted.
    let hasCreationFeedback: Bool
    private var messenger: VkDebugUtilsMessengerEXT?

    static let validationLayer = "VK_LAYER_KHRONOS_validation"

    var name: String { cString(properties.deviceName) }

    var typeDescription: String {
        switch properties.deviceType {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software)"
        default: return "other device"
        }
    }

    init(selection: String?, validation: Bool) throws {
        let log = validation ? ValidationLog() : nil
        instance = try Self.createInstance(validation: validation)
        validationLog = log
        do {
            let candidates = try Self.physicalDevices(instance)
            guard !candidates.isEmpty else {
                throw BackendError.unavailable(backend: "vulkan", reason: "no Vulkan device found (is a driver such as mesa-vulkan-drivers installed?)")
            }
            let chosen = try Self.choose(candidates, selection: selection)
            try Self.requireLimits(chosen)
            physicalDevice = chosen.device
            properties = chosen.properties
            queueFamily = chosen.computeFamily
            var memory = VkPhysicalDeviceMemoryProperties()
            vkGetPhysicalDeviceMemoryProperties(chosen.device, &memory)
            memoryProperties = memory
            let feedback = Self.deviceExtensions(chosen.device).contains("VK_EXT_pipeline_creation_feedback")
            hasCreationFeedback = feedback
            device = try Self.createDevice(chosen.device, family: chosen.computeFamily, extensions: feedback ? ["VK_EXT_pipeline_creation_feedback"] : [])
            var queue: VkQueue?
            vkGetDeviceQueue(device, chosen.computeFamily, 0, &queue)
            self.queue = queue!
        } catch {
            vkDestroyInstance(instance, nil)
            throw error
        }
        if let log { messenger = try log.attach(to: instance) }
    }

    deinit {
        vkDeviceWaitIdle(device)
        vkDestroyDevice(device, nil)
        if let messenger, let destroy = instanceFunction("vkDestroyDebugUtilsMessengerEXT", as: PFN_vkDestroyDebugUtilsMessengerEXT.self) {
            destroy(instance, messenger, nil)
        }
        vkDestroyInstance(instance, nil)
    }

    /// Whether the device `selection` picks (or the best one) is a hardware GPU, without creating
    /// a logical device; false when no device starts.
    static func selectsHardware(_ selection: String?) -> Bool {
        guard let instance = try? createInstance(validation: false) else { return false }
        defer { vkDestroyInstance(instance, nil) }
        guard let candidates = try? physicalDevices(instance), !candidates.isEmpty,
            let chosen = try? choose(candidates, selection: selection)
        else { return false }
        return chosen.rank < 3
    }

    func instanceFunction<F>(_ name: String, as type: F.Type) -> F? {
        guard let pointer = vkGetInstanceProcAddr(instance, name) else { return nil }
        return unsafeBitCast(pointer, to: type)
    }

    /// The index of a memory type allowed by `typeBits` that has `required` properties,
    /// preferring one that also has `preferred`.
    func memoryType(_ typeBits: UInt32, required: VkMemoryPropertyFlagBits, preferred: VkMemoryPropertyFlagBits) -> UInt32? {
        let types = withUnsafeBytes(of: memoryProperties.memoryTypes) { Array($0.bindMemory(to: VkMemoryType.self)) }
        let allowed = (0..<Int(memoryProperties.memoryTypeCount)).filter { typeBits & (1 << $0) != 0 }
        let wanted = required.rawValue | preferred.rawValue
        if let best = allowed.first(where: { types[$0].propertyFlags & wanted == wanted }) { return UInt32(best) }
        return allowed.first(where: { types[$0].propertyFlags & required.rawValue == required.rawValue }).map(UInt32.init)
    }

    // MARK: Creation

    private static func createInstance(validation: Bool) throws -> VkInstance {
        var layers: [String] = []
        var extensions: [String] = []
        if validation {
            guard availableLayers().contains(validationLayer) else {
                throw BackendError.unavailable(
                    backend: "vulkan",
                    reason: "AXON_VULKAN_VALIDATION=1 needs \(validationLayer) (Debian package vulkan-validationlayers)")
            }
            layers.append(validationLayer)
            extensions.append("VK_EXT_debug_utils")
        }
        return try withCStrings(layers) { layerNames in
            try withCStrings(extensions) { extensionNames in
                try "axon".withCString { applicationName in
                    var application = VkApplicationInfo()
                    application.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
                    application.pApplicationName = applicationName
                    application.pEngineName = applicationName
                    application.apiVersion = axon_vk_api_version_1_1()
                    return try withUnsafePointer(to: &application) { applicationPointer in
                        var info = VkInstanceCreateInfo()
                        info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                        info.pApplicationInfo = applicationPointer
                        info.enabledLayerCount = UInt32(layers.count)
                        info.ppEnabledLayerNames = layerNames
                        info.enabledExtensionCount = UInt32(extensions.count)
                        info.ppEnabledExtensionNames = extensionNames
                        var instance: VkInstance?
                        let result = vkCreateInstance(&info, nil, &instance)
                        if result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_INITIALIZATION_FAILED {
                            throw BackendError.unavailable(
                                backend: "vulkan", reason: "no Vulkan driver is installed (vkCreateInstance: \(result.rawValue))")
                        }
                        try VulkanCheck.result(result, "vkCreateInstance")
                        return instance!
                    }
                }
            }
        }
    }

    private static func availableLayers() -> Set<String> {
        var count: UInt32 = 0
        vkEnumerateInstanceLayerProperties(&count, nil)
        var layers = [VkLayerProperties](repeating: VkLayerProperties(), count: Int(count))
        vkEnumerateInstanceLayerProperties(&count, &layers)
        return Set(layers.map { cString($0.layerName) })
    }

    private static func deviceExtensions(_ device: VkPhysicalDevice) -> Set<String> {
        var count: UInt32 = 0
        vkEnumerateDeviceExtensionProperties(device, nil, &count, nil)
        var extensions = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(count))
        vkEnumerateDeviceExtensionProperties(device, nil, &count, &extensions)
        return Set(extensions.map { cString($0.extensionName) })
    }

    private struct Candidate {
        let device: VkPhysicalDevice
        let properties: VkPhysicalDeviceProperties
        let computeFamily: UInt32
        var name: String { cString(properties.deviceName) }
        var rank: Int {
            switch properties.deviceType {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2
            case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3
            default: return 4
            }
        }
    }

    /// Every physical device with a compute queue, in enumeration order.
    private static func physicalDevices(_ instance: VkInstance) throws -> [Candidate] {
        var count: UInt32 = 0
        try VulkanCheck.result(vkEnumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
        var devices = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try VulkanCheck.result(vkEnumeratePhysicalDevices(instance, &count, &devices), "vkEnumeratePhysicalDevices")
        return devices.compactMap { device in
            guard let device else { return nil }
            var properties = VkPhysicalDeviceProperties()
            vkGetPhysicalDeviceProperties(device, &properties)
            var familyCount: UInt32 = 0
            vkGetPhysicalDeviceQueueFamilyProperties(device, &familyCount, nil)
            var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
            vkGetPhysicalDeviceQueueFamilyProperties(device, &familyCount, &families)
            guard let family = families.firstIndex(where: { $0.queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0 }) else { return nil }
            return Candidate(device: device, properties: properties, computeFamily: UInt32(family))
        }
    }

    private static func choose(_ candidates: [Candidate], selection: String?) throws -> Candidate {
        guard let selection, !selection.isEmpty else {
            return candidates.enumerated().min { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }!.element
        }
        if let index = Int(selection) {
            guard candidates.indices.contains(index) else {
                throw BackendError.invalidArgument(
                    operation: "AXON_VULKAN_DEVICE",
                    reason: "device index \(index) does not exist; devices: \(describe(candidates))")
            }
            return candidates[index]
        }
        guard let match = candidates.first(where: { $0.name.localizedCaseInsensitiveContains(selection) }) else {
            throw BackendError.invalidArgument(
                operation: "AXON_VULKAN_DEVICE",
                reason: "no device name contains '\(selection)'; devices: \(describe(candidates))")
        }
        return match
    }

    /// The shaders use 256 invocations per workgroup and up to 8 storage buffers; the Vulkan
    /// minimums are lower (128 and 4), so a device below those is refused with the reason.
    private static func requireLimits(_ candidate: Candidate) throws {
        let limits = candidate.properties.limits
        var shortfalls: [String] = []
        if limits.maxComputeWorkGroupInvocations < 256 || limits.maxComputeWorkGroupSize.0 < 256 {
            shortfalls.append("workgroups of 256 invocations (the device allows \(limits.maxComputeWorkGroupInvocations))")
        }
        if limits.maxPerStageDescriptorStorageBuffers < UInt32(CommandStream.maximumBindings) {
            shortfalls.append("\(CommandStream.maximumBindings) storage buffers per shader (the device allows \(limits.maxPerStageDescriptorStorageBuffers))")
        }
        if limits.maxPushConstantsSize < UInt32(PipelineLibrary.pushConstantBytes) {
            shortfalls.append("\(PipelineLibrary.pushConstantBytes) bytes of push constants (the device allows \(limits.maxPushConstantsSize))")
        }
        guard shortfalls.isEmpty else {
            throw BackendError.unavailable(
                backend: "vulkan", reason: "device '\(candidate.name)' is too small for the shaders, which need " + shortfalls.joined(separator: " and "))
        }
    }

    private static func describe(_ candidates: [Candidate]) -> String {
        candidates.enumerated().map { "\($0.offset): \($0.element.name)" }.joined(separator: ", ")
    }

    private static func createDevice(_ physical: VkPhysicalDevice, family: UInt32, extensions: [String]) throws -> VkDevice {
        var priority: Float = 1
        return try withUnsafePointer(to: &priority) { priorityPointer in
            var queueInfo = VkDeviceQueueCreateInfo()
            queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
            queueInfo.queueFamilyIndex = family
            queueInfo.queueCount = 1
            queueInfo.pQueuePriorities = priorityPointer
            return try withUnsafePointer(to: &queueInfo) { queuePointer in
                try withCStrings(extensions) { extensionNames in
                    var info = VkDeviceCreateInfo()
                    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                    info.queueCreateInfoCount = 1
                    info.pQueueCreateInfos = queuePointer
                    info.enabledExtensionCount = UInt32(extensions.count)
                    info.ppEnabledExtensionNames = extensionNames
                    var device: VkDevice?
                    try VulkanCheck.result(vkCreateDevice(physical, &info, nil, &device), "vkCreateDevice")
                    return device!
                }
            }
        }
    }
}

/// The string in a fixed-size C character array, which Swift imports as a tuple.
func cString<Tuple>(_ characters: Tuple) -> String {
    withUnsafeBytes(of: characters) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

/// Calls `body` with a C array of C strings that lives for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R) rethrows -> R {
    let duplicates = strings.map { UnsafePointer(strdup($0)) }
    defer { for pointer in duplicates { free(UnsafeMutablePointer(mutating: pointer)) } }
    return try duplicates.withUnsafeBufferPointer { try body($0.isEmpty ? nil : $0.baseAddress) }
}

/// Maps `VkResult` failures to thrown ``BackendError``s.
enum VulkanCheck {
    static func result(_ result: VkResult, _ what: String, bytes: Int = 0) throws {
        switch result {
        case VK_SUCCESS:
            return
        case VK_ERROR_OUT_OF_DEVICE_MEMORY, VK_ERROR_OUT_OF_HOST_MEMORY:
            throw BackendError.outOfMemory(backend: "vulkan", bytes: bytes)
        case VK_ERROR_DEVICE_LOST:
            throw BackendError.deviceFailure(backend: "vulkan", reason: "the device was lost (\(what))")
        default:
            throw BackendError.deviceFailure(backend: "vulkan", reason: "\(what) failed with VkResult \(result.rawValue)")
        }
    }
}
#endif
