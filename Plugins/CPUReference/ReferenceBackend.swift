import Backend
import Foundation

/// The pure-Swift backend: plain, readable loops that every other backend is checked against.
/// Matmul and convolution are cache-blocked and use both cores through Dispatch.
///
/// ```swift
/// ReferenceBackend.register()
/// let backend = try BackendRegistry.shared.backend(named: "reference")
/// ```
public final class ReferenceBackend: Backend {
    public let name = "reference"
    public var deviceDescription: String {
        "host CPU, pure Swift (\(ProcessInfo.processInfo.activeProcessorCount) threads)"
    }

    /// A reference backend; it keeps its buffers in host memory.
    public init() {}

    /// Registers the reference backend with `registry` under the name `reference`, at the
    /// lowest priority so that `auto` prefers any accelerated backend that starts, and as the
    /// host fallback that delegating CPU backends run their other primitives on.
    public static func register(in registry: BackendRegistry = .shared) {
        registry.register(descriptor)
    }

    /// How the reference backend describes itself, linked or as a run-time plugin.
    public static var descriptor: BackendDescriptor {
        BackendDescriptor(
            name: "reference", priority: 0, summary: "pure Swift on the host CPU, the oracle every backend is checked against",
            isHostFallback: true
        ) { _ in ReferenceBackend() }
    }

    /// Buffers in host memory: its own, and those of CPU backends that share them.
    public func owns(_ buffer: Buffer) -> Bool { buffer.storage is HostStorage }

    public func upload(_ array: HostArray) throws -> Buffer {
        switch array.elements {
        case let .float32(values):
            return makeBuffer(array.shape, .float32, as: Float.self) { _ = $0.initialize(from: values) }
        case let .bfloat16(values):
            return makeBuffer(array.shape, .bfloat16, as: BFloat16.self) { _ = $0.initialize(from: values) }
        case let .int32(values):
            return makeBuffer(array.shape, .int32, as: Int32.self) { _ = $0.initialize(from: values) }
        case let .uint32(values):
            return makeBuffer(array.shape, .uint32, as: UInt32.self) { _ = $0.initialize(from: values) }
        case let .bool(values):
            return makeBuffer(array.shape, .bool, as: UInt8.self) { out in
                for (index, value) in values.enumerated() { out[index] = value ? 1 : 0 }
            }
        }
    }

    public func download(_ buffer: Buffer) throws -> HostArray {
        let storage = try buffer.hostView("download")
        let elements: HostElements
        switch buffer.dtype {
        case .float32: elements = .float32(Array(storage.elements(Float.self)))
        case .bfloat16: elements = .bfloat16(Array(storage.elements(BFloat16.self)))
        case .int32: elements = .int32(Array(storage.elements(Int32.self)))
        case .uint32: elements = .uint32(Array(storage.elements(UInt32.self)))
        case .bool: elements = .bool(storage.elements(UInt8.self).map { $0 != 0 })
        }
        return try HostArray(shape: buffer.shape, elements: elements)
    }

    public func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer {
        switch dtype {
        case .float32: return makeBuffer(shape, dtype, as: Float.self) { $0.initialize(repeating: Float(value)) }
        case .bfloat16: return makeBuffer(shape, dtype, as: BFloat16.self) { $0.initialize(repeating: BFloat16(value)) }
        case .int32: return makeBuffer(shape, dtype, as: Int32.self) { $0.initialize(repeating: ScalarConversion.int32(value)) }
        case .uint32: return makeBuffer(shape, dtype, as: UInt32.self) { $0.initialize(repeating: ScalarConversion.uint32(value)) }
        case .bool: return makeBuffer(shape, dtype, as: UInt8.self) { $0.initialize(repeating: value != 0 ? 1 : 0) }
        }
    }

    /// The reference backend computes eagerly, so there is never pending work.
    public func synchronize() throws {}

    public func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        makeBuffer(shape, .uint32, as: UInt32.self) { Philox.fill($0, key: key, offset: offset) }
    }
}
