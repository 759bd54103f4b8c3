#if Vulkan
import Backend
import CVulkan
import Foundation

/// The Vulkan compute backend: every primitive runs as a GLSL compute shader (compiled to
/// SPIR-V ahead of time, see docs/vulkan.md) on a GPU, or on Mesa's lavapipe where there is
/// none. Work is recorded into command buffers and submitted at sync points (``download(_:)``,
/// ``synchronize()``, or every few hundred commands), so a training step is a handful of
/// submissions. Every fused op runs as one or two shaders (optimizer steps, dense and
/// convolution epilogues, the softmax family, normalisation, dropout); operands those shaders
/// do not cover use the protocol's compositions of the primitives.
///
/// Environment: `AXON_VULKAN_DEVICE` (index or name substring) picks the device,
/// `AXON_VULKAN_VALIDATION=1` enables the Khronos validation layer and turns any message it
/// reports into a thrown error, `AXON_VULKAN_CACHE_DIR` moves the pipeline cache (default
/// `$XDG_CACHE_HOME/axon/vulkan` or `~/.cache/axon/vulkan`).
///
/// ```swift
/// VulkanBackend.register()
/// let backend = try BackendRegistry.shared.backend(named: "vulkan")
/// ```
public final class VulkanBackend: Backend, @unchecked Sendable {
    public let name = "vulkan"
    let device: VulkanDevice
    let memory: AllocationPool
    let staging: AllocationPool
    let pipelines: PipelineLibrary
    let stream: CommandStream
    /// The most memory a convolution's column matrix may take: larger batches are lowered a
    /// chunk of images at a time.
    public let convolutionWorkspaceBytes: Int

    public var deviceDescription: String {
        let version = device.properties.apiVersion
        return "\(device.name) (\(device.typeDescription), Vulkan \(axon_vk_version_major(version)).\(axon_vk_version_minor(version)).\(axon_vk_version_patch(version)))"
    }

    /// Command batches submitted to the queue so far.
    public var submissions: Int { stream.submissions }
    /// Dispatches and copies recorded so far.
    public var recordedCommands: Int { stream.commands }
    /// Memory barriers recorded so far, one of them at the start of each batch.
    public var barriers: Int { stream.barriers }
    /// Pipelines this backend created, and how many of those the driver found in the
    /// on-disk pipeline cache (0 when the driver does not report cache hits).
    public var pipelineStatistics: (created: Int, fromCache: Int) { (pipelines.created, pipelines.cacheHits) }
    /// Allocations made from the driver rather than reused from the pool.
    public var driverAllocations: Int { memory.driverAllocations }

    /// Starts the backend on the device `deviceSelection` names (an index or a name
    /// substring; default: `AXON_VULKAN_DEVICE`, else the best device).
    public init(
        deviceSelection: String? = ProcessInfo.processInfo.environment["AXON_VULKAN_DEVICE"],
        validation: Bool = ProcessInfo.processInfo.environment["AXON_VULKAN_VALIDATION"] == "1",
        cacheDirectory: URL? = VulkanBackend.defaultCacheDirectory,
        convolutionWorkspaceBytes: Int = 256 << 20
    ) throws {
        self.convolutionWorkspaceBytes = convolutionWorkspaceBytes
        device = try VulkanDevice(selection: deviceSelection, validation: validation)
        memory = AllocationPool(device: device, kind: .device)
        staging = AllocationPool(device: device, kind: .staging, cacheLimit: 256 << 20)
        pipelines = try PipelineLibrary(device: device, cacheDirectory: cacheDirectory)
        stream = try CommandStream(device: device)
    }

    deinit {
        try? stream.finish()
        pipelines.save()
    }

    /// Where pipeline caches live unless `AXON_VULKAN_CACHE_DIR` says otherwise.
    public static var defaultCacheDirectory: URL? {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["AXON_VULKAN_CACHE_DIR"], !directory.isEmpty { return URL(fileURLWithPath: directory) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("axon/vulkan") }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/axon/vulkan")
    }

    /// Registers `vulkan`, with its options `device` and `validation`. For `auto` it ranks
    /// above `onednn` when the device it would use (`AXON_VULKAN_DEVICE`, else the best) is a
    /// hardware GPU, and below it when that is a software rasteriser such as lavapipe.
    public static func register(in registry: BackendRegistry = .shared) {
        registry.register(descriptor)
    }

    /// How `vulkan` describes itself, linked or as a run-time plugin.
    public static var descriptor: BackendDescriptor {
        let environment = ProcessInfo.processInfo.environment
        let selection = environment["AXON_VULKAN_DEVICE"]
        return BackendDescriptor(
            name: "vulkan", priority: VulkanDevice.selectsHardware(selection) ? 20 : 5,
            summary: "GLSL compute shaders on a Vulkan device (Mesa's lavapipe where there is no GPU)",
            options: [
                BackendOption(
                    name: "device", help: "device index or part of its name (default: $AXON_VULKAN_DEVICE, else the best)",
                    kind: .text),
                BackendOption(
                    name: "validation", help: "run under the Khronos validation layer (default: $AXON_VULKAN_VALIDATION)",
                    kind: .choice(["on", "off"])),
            ]
        ) { configuration in
            let validation = configuration.values["validation"].map { $0 == "on" } ?? (environment["AXON_VULKAN_VALIDATION"] == "1")
            return try VulkanBackend(deviceSelection: configuration.values["device"] ?? selection, validation: validation)
        }
    }

    // MARK: Buffers

    public func upload(_ array: HostArray) throws -> Buffer {
        let output = try makeBuffer(array.shape, array.dtype)
        let count = array.shape.elementCount
        guard count > 0 else { return output }
        let wordCount = array.dtype.words(count)
        let buffer = try StagingBuffer(bytes: wordCount * 4, pool: staging)
        let words = UnsafeMutableBufferPointer(start: buffer.contents.bindMemory(to: UInt32.self, capacity: wordCount), count: wordCount)
        switch array.elements {
        case let .float32(values): for index in 0..<count { words[index] = values[index].bitPattern }
        case let .bfloat16(values):
            words.initialize(repeating: 0)
            for index in 0..<count { words[index / 2] |= UInt32(values[index].bitPattern) << (16 * UInt32(index % 2)) }
        case let .int32(values): for index in 0..<count { words[index] = UInt32(bitPattern: values[index]) }
        case let .uint32(values): _ = words.initialize(from: values)
        case let .bool(values): for index in 0..<count { words[index] = values[index] ? 1 : 0 }
        }
        try stream.upload(buffer, to: storage(output, "upload"), bytes: wordCount * 4)
        return output
    }

    public func download(_ buffer: Buffer) throws -> HostArray {
        let count = buffer.shape.elementCount
        var words: [UInt32] = []
        if count > 0 {
            let wordCount = buffer.dtype.words(count)
            let target = try StagingBuffer(bytes: wordCount * 4, pool: staging)
            try stream.download(storage(buffer, "download"), into: target, bytes: wordCount * 4)
            words = Array(UnsafeBufferPointer(start: target.contents.bindMemory(to: UInt32.self, capacity: wordCount), count: wordCount))
        }
        try checkValidation()
        pipelines.save()
        let elements: HostElements
        switch buffer.dtype {
        case .float32: elements = .float32(words.map { Float(bitPattern: $0) })
        case .bfloat16:
            elements = .bfloat16((0..<count).map { BFloat16(bitPattern: UInt16(truncatingIfNeeded: words[$0 / 2] >> (16 * UInt32($0 % 2)))) })
        case .int32: elements = .int32(words.map { Int32(bitPattern: $0) })
        case .uint32: elements = .uint32(words)
        case .bool: elements = .bool(words.map { $0 != 0 })
        }
        return try HostArray(shape: buffer.shape, elements: elements)
    }

    public func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer {
        let output = try makeBuffer(shape, dtype)
        let count = shape.elementCount
        guard count > 0 else { return output }
        let words = dtype.words(count)
        try run("fill", outputs: [output], push: [UInt32(words), Self.bits(of: value, as: dtype)], groups: elementGroups(words))
        return output
    }

    public func synchronize() throws {
        try stream.finish()
        try checkValidation()
        pipelines.save()
    }

    /// Throws any validation message recorded since the last check.
    private func checkValidation() throws {
        try device.validationLog?.check()
    }

    /// The 32-bit pattern of `value` converted to `dtype` (see ``ScalarConversion``); for
    /// `bfloat16`, the word of two such elements.
    static func bits(of value: Double, as dtype: DType) -> UInt32 {
        switch dtype {
        case .float32: return Float(value).bitPattern
        case .bfloat16:
            let half = UInt32(BFloat16(value).bitPattern)
            return half | half << 16
        case .int32: return UInt32(bitPattern: ScalarConversion.int32(value))
        case .uint32: return ScalarConversion.uint32(value)
        case .bool: return value != 0 ? 1 : 0
        }
    }

    // MARK: Helpers for the operation files

    /// A new buffer; every dtype takes one 32-bit word per element on the device.
    func makeBuffer(_ shape: Shape, _ dtype: DType) throws -> Buffer {
        let bytes = Swift.max(dtype.words(shape.elementCount), 1) * 4
        // Shaders index with 32-bit words and bind whole buffers, so this is the largest buffer.
        guard bytes <= Int(device.properties.limits.maxStorageBufferRange) else {
            throw BackendError.outOfMemory(backend: name, bytes: bytes)
        }
        let allocation = try memory.take(bytes)
        return Buffer(storage: VulkanStorage(allocation: allocation, pool: memory), shape: shape, dtype: dtype)
    }

    /// Buffers allocated from this backend's memory pool, so on its device.
    public func owns(_ buffer: Buffer) -> Bool {
        (buffer.storage as? VulkanStorage)?.pool === memory
    }

    func storage(_ buffer: Buffer, _ operation: String) throws -> VulkanStorage {
        guard let storage = buffer.storage as? VulkanStorage else {
            throw BackendError.foreignBuffer(operation: operation, expected: "vulkan")
        }
        return storage
    }

    /// Records one dispatch of `shader`, binding `inputs` then `outputs`.
    func run(
        _ shader: String, constants: [UInt32] = [], inputs: [Buffer] = [], outputs: [Buffer], push: [UInt32],
        groups: (UInt32, UInt32, UInt32)
    ) throws {
        guard push.count * 4 <= PipelineLibrary.pushConstantBytes else {
            throw BackendError.invalidArgument(
                operation: shader,
                reason: "needs \(push.count * 4) bytes of push constants, more than the \(PipelineLibrary.pushConstantBytes) every shader may use")
        }
        let pipeline = try pipelines.pipeline(shader, bindings: inputs.count + outputs.count, constants: constants)
        try stream.dispatch(
            pipeline, inputs: inputs.map { try storage($0, shader) }, outputs: outputs.map { try storage($0, shader) },
            push: push, groups: groups)
    }

    /// Workgroups for a grid-stride loop over `count` elements.
    func elementGroups(_ count: Int) -> (UInt32, UInt32, UInt32) {
        (UInt32(Swift.min(Swift.max((count + 255) / 256, 1), 65_535)), 1, 1)
    }

    /// A 2-D grid of at least `count` workgroups, one per row.
    func rowGroups(_ count: Int) -> (UInt32, UInt32, UInt32) {
        let width = Swift.min(Swift.max(count, 1), 65_535)
        return (UInt32(width), UInt32((count + width - 1) / width), 1)
    }
}

extension DType {
    /// The `kind` specialisation constant of the shaders (see Shaders/common.glsl).
    var shaderKind: UInt32 {
        switch self {
        case .float32: return 0
        case .int32: return 1
        case .uint32: return 2
        case .bool: return 3
        case .bfloat16: return 4
        }
    }

    /// The 32-bit words holding `count` elements: `bfloat16` packs two to a word (element
    /// `2j` in the low half of word `j`), every other dtype takes one.
    func words(_ count: Int) -> Int {
        self == .bfloat16 ? (count + 1) / 2 : count
    }
}
#endif
