/// Storage owned by a backend: device memory, a host allocation, ... Each backend defines its
/// own conforming class and frees the memory in `deinit`, once no pending work uses it.
public protocol BufferStorage: AnyObject, Sendable {}

/// A dense, row-major array living in a backend's memory: an opaque storage handle plus its
/// shape and dtype. Buffers are immutable; every operation returns a new one, except that an
/// operation may write its result over an operand its caller donated (``isDonated``).
public struct Buffer: Sendable {
    /// Where the elements are, owned by one backend.
    public let storage: any BufferStorage
    /// The dimensions.
    public let shape: Shape
    /// The element type.
    public let dtype: DType
    /// Whether the caller gave this operand up: nothing else references its storage and
    /// nothing reads it after the operation it is passed to, so the backend may write a result
    /// of the same element count and dtype over it and return that storage instead of
    /// allocating (as an optimizer's update does with a parameter and its moments). A compiled
    /// function's replay donates the operands it holds the last reference to; everything else
    /// passes `false`, and a backend may ignore it.
    public let isDonated: Bool

    /// A buffer over `storage` holding `shape.elementCount` elements of `dtype`.
    public init(storage: any BufferStorage, shape: Shape, dtype: DType, isDonated: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.dtype = dtype
        self.isDonated = isDonated
    }

    /// The same storage seen with another shape of the same element count (not donated).
    public func reinterpreted(as shape: Shape) -> Buffer {
        Buffer(storage: storage, shape: shape, dtype: dtype)
    }

    /// The storage of this donated operand as a result of `shape` and `dtype`, or `nil` when it
    /// is not donated or holds another element count or dtype. A backend checks that the
    /// storage is its own kind before writing to it.
    public func reusable(as shape: Shape, _ dtype: DType) -> Buffer? {
        guard isDonated, self.dtype == dtype, self.shape.elementCount == shape.elementCount else { return nil }
        return Buffer(storage: storage, shape: shape, dtype: dtype)
    }
}

/// Host-side elements of one of the supported dtypes.
public enum HostElements: Sendable, Equatable {
    /// 32-bit floats.
    case float32([Float])
    /// Brain floats.
    case bfloat16([BFloat16])
    /// 32-bit signed integers.
    case int32([Int32])
    /// 32-bit unsigned integers (random bits).
    case uint32([UInt32])
    /// Booleans.
    case bool([Bool])

    /// The element type of the case.
    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .bfloat16: return .bfloat16
        case .int32: return .int32
        case .uint32: return .uint32
        case .bool: return .bool
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case let .float32(values): return values.count
        case let .bfloat16(values): return values.count
        case let .int32(values): return values.count
        case let .uint32(values): return values.count
        case let .bool(values): return values.count
        }
    }

    /// The elements converted to `Float` (`true` is 1).
    public var floats: [Float] {
        switch self {
        case let .float32(values): return values
        case let .bfloat16(values): return values.map(\.float)
        case let .int32(values): return values.map { Float($0) }
        case let .uint32(values): return values.map { Float($0) }
        case let .bool(values): return values.map { $0 ? 1 : 0 }
        }
    }
}

/// An array in host memory: what `upload` takes and `download` returns.
public struct HostArray: Sendable, Equatable {
    /// The dimensions.
    public let shape: Shape
    /// The elements in row-major order.
    public let elements: HostElements

    /// Creates a host array, checking that the element count matches the shape.
    public init(shape: Shape, elements: HostElements) throws {
        guard let count = shape.checkedElementCount else {
            throw BackendError.shapeMismatch(
                operation: "HostArray", reason: "shape \(shape) has a negative dimension or more elements than can be addressed")
        }
        guard count == elements.count else {
            throw BackendError.shapeMismatch(
                operation: "HostArray", reason: "shape \(shape) needs \(count) elements but \(elements.count) were given")
        }
        self.shape = shape
        self.elements = elements
    }

    /// The element type.
    public var dtype: DType { elements.dtype }
}

/// Storage in host memory whose elements a host backend may read and write directly, so that
/// CPU backends can share buffers (and delegate operations to one another through the
/// registry) without importing each other. A class rather than a protocol: checking a buffer
/// is then a cheap class cast on every operation. Subclasses own the memory and free it.
open class HostStorage: BufferStorage, @unchecked Sendable {
    /// The first byte of the dense, row-major elements.
    public let address: UnsafeMutableRawPointer

    /// Storage at `address`, which the subclass allocated and frees.
    public init(address: UnsafeMutableRawPointer) { self.address = address }
}
