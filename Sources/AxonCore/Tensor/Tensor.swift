import Backend

/// An immutable n-dimensional array on a backend, with reverse-mode autodiff.
///
/// A tensor is a value: a backend `Buffer` (shape, dtype, storage), the backend that owns it
/// and, while a gradient is being taken, the node that records how it was computed. Every
/// operation throws on bad input rather than trapping.
///
/// ```swift
/// import AxonCore
/// import CPUReference
///
/// let backend = ReferenceBackend()
/// let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: backend)
/// let y = try (x * x + 1).sum()
/// print(try y.item())  // 34.0
/// ```
public struct Tensor: Sendable {
    /// The backend buffer holding the elements.
    public let buffer: Buffer
    /// The backend that owns ``buffer`` and runs every operation on this tensor, behind its
    /// front door (`CheckedBackend`), so every operation is validated before it runs.
    public let backend: any Backend
    /// How this tensor was computed, when it depends on a value being differentiated.
    let node: GradientNode?
    /// The narrower tensor this one is an exact widening of (see ``cast(to:)``).
    let widened: WidenedSource?

    /// Wraps a backend buffer.
    public init(buffer: Buffer, backend: any Backend) {
        self.init(buffer: buffer, backend: backend, node: nil)
    }

    init(buffer: Buffer, backend: any Backend, node: GradientNode?, widened: WidenedSource? = nil) {
        self.buffer = buffer
        self.backend = backend.checked
        self.node = node
        self.widened = widened
    }

    /// The dimensions.
    public var shape: Shape { buffer.shape }
    /// The element type.
    public var dtype: DType { buffer.dtype }
    /// The number of dimensions.
    public var rank: Int { buffer.shape.rank }
    /// The number of elements.
    public var count: Int { buffer.shape.elementCount }

    /// The same value without gradient tracking.
    public func detached() -> Tensor { Tensor(buffer: buffer, backend: backend, node: nil) }

    // MARK: Creation

    /// A tensor of any dtype from host elements.
    public init(_ array: HostArray, on backend: any Backend) throws {
        self = try Tensor.created(on: backend) { try $0.upload(array) }
    }

    /// A `float32` tensor of `shape` holding `scalars` in row-major order.
    public init(_ scalars: [Float], shape: Shape, on backend: any Backend) throws {
        try self.init(HostArray(shape: shape, elements: .float32(scalars)), on: backend)
    }

    /// A rank-1 `float32` tensor.
    public init(_ scalars: [Float], on backend: any Backend) throws {
        try self.init(scalars, shape: [scalars.count], on: backend)
    }

    /// A rank-0 `float32` tensor.
    public init(_ scalar: Float, on backend: any Backend) throws {
        try self.init([scalar], shape: [], on: backend)
    }

    /// An `int32` tensor (labels, indices).
    public init(integers values: [Int32], shape: Shape, on backend: any Backend) throws {
        try self.init(HostArray(shape: shape, elements: .int32(values)), on: backend)
    }

    /// A `bool` tensor (masks).
    public init(_ values: [Bool], shape: Shape, on backend: any Backend) throws {
        try self.init(HostArray(shape: shape, elements: .bool(values)), on: backend)
    }

    /// A tensor with every element equal to `value`.
    public static func full(_ value: Float, shape: Shape, dtype: DType = .float32, on backend: any Backend) throws -> Tensor {
        try created(on: backend) { try $0.full(Double(value), shape: shape, dtype: dtype) }
    }

    /// A tensor of zeros.
    public static func zeros(shape: Shape, dtype: DType = .float32, on backend: any Backend) throws -> Tensor {
        try full(0, shape: shape, dtype: dtype, on: backend)
    }

    /// A tensor of ones.
    public static func ones(shape: Shape, dtype: DType = .float32, on backend: any Backend) throws -> Tensor {
        try full(1, shape: shape, dtype: dtype, on: backend)
    }

    /// Elements equal to their index along `axis`.
    public static func iota(shape: Shape, axis: Int, dtype: DType = .int32, on backend: any Backend) throws -> Tensor {
        try created(on: backend) { try $0.iota(shape: shape, axis: axis, dtype: dtype) }
    }

    /// Philox-4x32-10 bits (`uint32`) from `key`, starting at stream position `offset`.
    public static func randomBits(key: Philox.Key, offset: UInt64 = 0, shape: Shape, on backend: any Backend) throws -> Tensor {
        let (backend, bits) = try computeBuffers("randomBits", [], on: backend, key: key) { backend, _, key in
            [try backend.randomBits(key: key, offset: offset, shape: shape)]
        }
        return Tensor(buffer: bits[0], backend: backend)
    }

    /// A tensor like `self` filled with `value`.
    public func filled(with value: Float) throws -> Tensor {
        try Tensor.full(value, shape: shape, dtype: dtype, on: backend)
    }

    // MARK: Readback

    /// The elements in row-major order, converted to `Float` (`true` is 1).
    public var scalars: [Float] {
        get throws { try array.elements.floats }
    }

    /// The elements with their shape and dtype.
    public var array: HostArray {
        get throws {
            // A value read back can steer the host, which a replayed plan would not follow.
            Tracing.current?.fail("reads a \(dtype) \(shape) value back to the host")
            return try backend.download(buffer)
        }
    }

    /// The single element of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw AxonError.invalidValue(operation: "item", reason: "expected one element, the tensor has shape \(shape)")
        }
        return try scalars[0]
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = (try? scalars).map { values in
            values.count <= 16 ? values.map { "\($0)" }.joined(separator: ", ") : "\(values.count) elements"
        } ?? "unreadable"
        return "Tensor(\(dtype) \(shape) on \(backend.name): [\(values)])"
    }
}
