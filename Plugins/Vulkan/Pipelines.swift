#if Vulkan
import Backend
import CVulkan
import Foundation

/// A compute pipeline with its layout: `bindings` storage buffers in set 0 and up to 128
/// bytes of push constants (the minimum every device supports).
final class ComputePipeline: @unchecked Sendable {
    let pipeline: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout

    init(pipeline: VkPipeline, layout: VkPipelineLayout, setLayout: VkDescriptorSetLayout) {
        self.pipeline = pipeline
        self.layout = layout
        self.setLayout = setLayout
    }
}

/// Namespace of the committed SPIR-V (see `ShaderLibrary+SPIRV.swift`).
enum ShaderLibrary {
    static func spirv(_ name: String) throws -> [UInt32] {
        guard let encoded = encodedSPIRV[name], let data = Data(base64Encoded: encoded), data.count % 4 == 0 else {
            throw BackendError.unavailable(backend: "vulkan", reason: "the SPIR-V of shader '\(name)' is missing or corrupt")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
    }
}

/// Creates each pipeline once per shader and specialisation, through a `VkPipelineCache` that
/// is loaded from and saved to disk, keyed by device and driver, so a later process start
/// creates its pipelines from the cache instead of compiling them.
final class PipelineLibrary: @unchecked Sendable {
    static let pushConstantBytes = 128

    private struct Key: Hashable {
        let shader: String
        let constants: [UInt32]
    }

    private let owner: VulkanDevice
    private let lock = NSLock()
    private let cache: VkPipelineCache
    private let cacheFile: URL?
    private var modules: [String: VkShaderModule] = [:]
    private var layouts: [Int: (VkDescriptorSetLayout, VkPipelineLayout)] = [:]
    private var pipelines: [Key: ComputePipeline] = [:]
    private var unsavedPipelines = false
    /// Pipelines created in this process, and how many of them the driver reported as found in
    /// the pipeline cache (when it supports creation feedback).
    private(set) var created = 0
    private(set) var cacheHits = 0

    init(device: VulkanDevice, cacheDirectory: URL?) throws {
        owner = device
        cacheFile = cacheDirectory.map { $0.appendingPathComponent(Self.cacheFileName(device.properties)) }
        let initial = cacheFile.flatMap { try? Data(contentsOf: $0) } ?? Data()
        var info = VkPipelineCacheCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO
        var cache: VkPipelineCache?
        try initial.withUnsafeBytes { bytes in
            info.initialDataSize = bytes.count
            info.pInitialData = bytes.baseAddress
            try VulkanCheck.result(vkCreatePipelineCache(device.device, &info, nil, &cache), "vkCreatePipelineCache")
        }
        self.cache = cache!
    }

    deinit {
        save()
        let device = owner.device
        for pipeline in pipelines.values { vkDestroyPipeline(device, pipeline.pipeline, nil) }
        for (setLayout, layout) in layouts.values {
            vkDestroyPipelineLayout(device, layout, nil)
            vkDestroyDescriptorSetLayout(device, setLayout, nil)
        }
        for module in modules.values { vkDestroyShaderModule(device, module, nil) }
        vkDestroyPipelineCache(device, cache, nil)
    }

    /// The cache file's name: vendor, device, driver version and the driver's cache UUID, so a
    /// driver update never loads a stale cache.
    static func cacheFileName(_ properties: VkPhysicalDeviceProperties) -> String {
        let uuid = withUnsafeBytes(of: properties.pipelineCacheUUID) { $0.map { String(format: "%02x", $0) }.joined() }
        return String(format: "%04x-%04x-%08x-", properties.vendorID, properties.deviceID, properties.driverVersion) + uuid + ".bin"
    }

    /// The pipeline of `shader` (a file name in Shaders/ without `.comp`) whose specialisation
    /// constants 0, 1, ... take `constants`, with `bindings` storage buffers.
    func pipeline(_ shader: String, bindings: Int, constants: [UInt32] = []) throws -> ComputePipeline {
        try lock.withLock {
            let key = Key(shader: shader, constants: constants)
            if let existing = pipelines[key] { return existing }
            let module = try shaderModule(shader)
            let (setLayout, layout) = try pipelineLayout(bindings)
            let pipeline = try makePipeline(module, layout, constants, shader)
            let result = ComputePipeline(pipeline: pipeline, layout: layout, setLayout: setLayout)
            pipelines[key] = result
            unsavedPipelines = true
            return result
        }
    }

    /// Writes the pipeline cache to disk if pipelines were created since the last save
    /// (atomically, so concurrent processes never read a torn file).
    func save() {
        guard let cacheFile, lock.withLock({ unsavedPipelines }) else { return }
        var size = 0
        guard vkGetPipelineCacheData(owner.device, cache, &size, nil) == VK_SUCCESS, size > 0 else { return }
        var data = Data(count: size)
        let result = data.withUnsafeMutableBytes { vkGetPipelineCacheData(owner.device, cache, &size, $0.baseAddress) }
        guard result == VK_SUCCESS else { return }
        try? FileManager.default.createDirectory(at: cacheFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        if (try? data.prefix(size).write(to: cacheFile, options: .atomic)) != nil {
            lock.withLock { unsavedPipelines = false }
        }
    }

    private func shaderModule(_ name: String) throws -> VkShaderModule {
        if let module = modules[name] { return module }
        let code = try ShaderLibrary.spirv(name)
        var module: VkShaderModule?
        try code.withUnsafeBufferPointer { words in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = words.count * 4
            info.pCode = words.baseAddress
            try VulkanCheck.result(vkCreateShaderModule(owner.device, &info, nil, &module), "creating shader module '\(name)'")
        }
        modules[name] = module!
        return module!
    }

    private func pipelineLayout(_ bindings: Int) throws -> (VkDescriptorSetLayout, VkPipelineLayout) {
        if let existing = layouts[bindings] { return existing }
        var entries = (0..<bindings).map { index -> VkDescriptorSetLayoutBinding in
            var binding = VkDescriptorSetLayoutBinding()
            binding.binding = UInt32(index)
            binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            binding.descriptorCount = 1
            binding.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return binding
        }
        var setInfo = VkDescriptorSetLayoutCreateInfo()
        setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
        setInfo.bindingCount = UInt32(bindings)
        var setLayout: VkDescriptorSetLayout?
        try entries.withUnsafeMutableBufferPointer { pointer in
            setInfo.pBindings = UnsafePointer(pointer.baseAddress)
            try VulkanCheck.result(vkCreateDescriptorSetLayout(owner.device, &setInfo, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        var range = VkPushConstantRange(stageFlags: VK_SHADER_STAGE_COMPUTE_BIT.rawValue, offset: 0, size: UInt32(Self.pushConstantBytes))
        var info = VkPipelineLayoutCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
        info.setLayoutCount = 1
        info.pushConstantRangeCount = 1
        var layout: VkPipelineLayout?
        try withUnsafePointer(to: Optional(setLayout!)) { setPointer in
            try withUnsafePointer(to: &range) { rangePointer in
                info.pSetLayouts = setPointer
                info.pPushConstantRanges = rangePointer
                try VulkanCheck.result(vkCreatePipelineLayout(owner.device, &info, nil, &layout), "vkCreatePipelineLayout")
            }
        }
        layouts[bindings] = (setLayout!, layout!)
        return (setLayout!, layout!)
    }

    private func makePipeline(_ module: VkShaderModule, _ layout: VkPipelineLayout, _ constants: [UInt32], _ name: String) throws -> VkPipeline {
        var entries = constants.indices.map {
            VkSpecializationMapEntry(constantID: UInt32($0), offset: UInt32($0 * 4), size: 4)
        }
        var values = constants
        var feedback = VkPipelineCreationFeedback()
        var feedbackInfo = VkPipelineCreationFeedbackCreateInfo()
        feedbackInfo.sType = VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO
        var pipeline: VkPipeline?
        try "main".withCString { entryPoint in
            try entries.withUnsafeMutableBufferPointer { entryPointer in
                try values.withUnsafeMutableBytes { valueBytes in
                    var specialization = VkSpecializationInfo(
                        mapEntryCount: UInt32(constants.count), pMapEntries: UnsafePointer(entryPointer.baseAddress),
                        dataSize: valueBytes.count, pData: UnsafeRawPointer(valueBytes.baseAddress))
                    try withUnsafePointer(to: &specialization) { specializationPointer in
                        try withUnsafeMutablePointer(to: &feedback) { feedbackPointer in
                            feedbackInfo.pPipelineCreationFeedback = feedbackPointer
                            try withUnsafeMutablePointer(to: &feedbackInfo) { feedbackInfoPointer in
                                var stage = VkPipelineShaderStageCreateInfo()
                                stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
                                stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
                                stage.module = module
                                stage.pName = entryPoint
                                stage.pSpecializationInfo = constants.isEmpty ? nil : specializationPointer
                                var info = VkComputePipelineCreateInfo()
                                info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
                                info.pNext = owner.hasCreationFeedback ? UnsafeRawPointer(feedbackInfoPointer) : nil
                                info.stage = stage
                                info.layout = layout
                                let result = vkCreateComputePipelines(owner.device, cache, 1, &info, nil, &pipeline)
                                if result != VK_SUCCESS && result != VK_ERROR_OUT_OF_HOST_MEMORY && result != VK_ERROR_OUT_OF_DEVICE_MEMORY {
                                    throw BackendError.deviceFailure(
                                        backend: "vulkan",
                                        reason: "the driver could not compile shader '\(name)' with constants \(constants) (VkResult \(result.rawValue))")
                                }
                                try VulkanCheck.result(result, "vkCreateComputePipelines")
                            }
                        }
                    }
                }
            }
        }
        created += 1
        let hit = VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT.rawValue
        if owner.hasCreationFeedback, feedback.flags & hit != 0 { cacheHits += 1 }
        return pipeline!
    }
}
#endif
