import Foundation

/// The one front door to a backend: every primitive and fused op passes through here, is
/// validated once, and only then reaches the backend that computes it.
///
/// The checks are the contract's, shared by every backend, so an invalid call throws the same
/// ``BackendError`` on all of them: buffer ownership, dtypes, axes, descriptors, shapes given
/// as arguments (no negative dimension, element counts without overflow) and the size of the
/// result, which may not exceed ``maximumAllocationBytes`` (an ``BackendError/outOfMemory(backend:bytes:)``
/// naming the size asked, instead of an allocator abort). Behind the door a backend computes;
/// it need not re-check what the door has checked. What only the data can tell (a gather
/// index out of range) stays with the backend.
///
/// The registry hands out backends behind their door, and a ``Backend`` used by the library
/// is put behind one on first use (see ``Backend/checked``), so there is no unchecked path.
///
/// ```swift
/// let backend = CheckedBackend(someBackend, maximumAllocationBytes: 1 << 30)
/// do {
///     _ = try backend.full(0, shape: [1 << 20, 1 << 20], dtype: .float32)
/// } catch BackendError.outOfMemory(_, let bytes) {
///     print("refused \(bytes) bytes")  // refused 4398046511104 bytes
/// }
/// ```
public final class CheckedBackend: Backend, @unchecked Sendable {
    /// The backend that computes, reached only through this door.
    public let implementation: any Backend
    /// The largest single result, in bytes, an operation may allocate.
    public let maximumAllocationBytes: Int
    /// The implementation's optional primitives, read once: the door consults them per call.
    public let nativeOperations: NativeOperations

    /// The default bound on one allocation: the machine's physical memory.
    public static var defaultMaximumAllocationBytes: Int {
        Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// Puts `implementation` behind a door; a backend already behind one keeps its own
    /// implementation (doors do not nest).
    public init(_ implementation: any Backend, maximumAllocationBytes: Int = CheckedBackend.defaultMaximumAllocationBytes) {
        let implementation = (implementation as? CheckedBackend)?.implementation ?? implementation
        self.implementation = implementation
        self.maximumAllocationBytes = Swift.max(maximumAllocationBytes, 0)
        self.nativeOperations = implementation.nativeOperations
    }

    public var name: String { implementation.name }
    public var deviceDescription: String { implementation.deviceDescription }
    public func owns(_ buffer: Buffer) -> Bool { implementation.owns(buffer) }

    // MARK: Shared checks

    /// Throws unless every buffer belongs to the implementation.
    func requireOwned(_ buffers: [Buffer], _ operation: String) throws {
        for buffer in buffers where !implementation.owns(buffer) {
            throw BackendError.foreignBuffer(operation: operation, expected: name)
        }
    }

    /// Throws unless `shape`, given as an argument, has no negative dimension, no dimension
    /// above ``ShapeRules/maximumDimension``, and an element count that fits in `Int`, which
    /// it returns.
    @discardableResult
    func requireValidShape(_ shape: Shape, _ operation: String) throws -> Int {
        guard let count = shape.checkedElementCount else {
            throw BackendError.invalidArgument(
                operation: operation,
                reason: "shape \(shape) has a negative dimension or more elements than can be addressed")
        }
        guard shape.allSatisfy({ $0 <= ShapeRules.maximumDimension }) else {
            throw BackendError.invalidArgument(
                operation: operation,
                reason: "shape \(shape) has a dimension above 2³¹ − 1, the largest every backend supports")
        }
        return count
    }

    /// Throws `outOfMemory` when a result of `shape` and `dtype` would exceed the bound.
    func requireAllocatable(_ shape: Shape, _ dtype: DType, _ operation: String) throws {
        let (bytes, overflow) = try requireValidShape(shape, operation).multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes <= maximumAllocationBytes else {
            throw BackendError.outOfMemory(backend: name, bytes: overflow ? Int.max : bytes)
        }
    }

    // MARK: Buffers

    public func upload(_ array: HostArray) throws -> Buffer {
        try requireAllocatable(array.shape, array.dtype, "upload")
        return try implementation.upload(array)
    }

    public func download(_ buffer: Buffer) throws -> HostArray {
        try requireOwned([buffer], "download")
        return try implementation.download(buffer)
    }

    public func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer {
        try requireAllocatable(shape, dtype, "full")
        return try implementation.full(value, shape: shape, dtype: dtype)
    }

    public func synchronize() throws { try implementation.synchronize() }

    /// Checks that the inputs are the implementation's, then lets it record.
    public func recordWork(inputs: [Buffer], _ body: ([Buffer]) throws -> [Buffer]) throws -> (any RecordedWork)? {
        try requireOwned(inputs, "recordWork")
        return try implementation.recordWork(inputs: inputs, body)
    }

    // MARK: Elementwise

    /// Checks the dtype, then runs the backend's operation (decomposed where it is not native).
    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        let name = "unary(\(operation.rawValue))"
        try requireOwned([x], name)
        guard operation.accepts(x.dtype) else {
            throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "not defined for this dtype")
        }
        try requireAllocatable(x.shape, x.dtype, name)
        if let wide = widening(.elementwise, [x]) { return try wide.narrow(unary(operation, wide(x))) }
        if nativeOperations.unary.contains(operation) { return try implementation.unary(operation, x) }
        return try implementation.decomposedUnary(operation, x)
    }

    /// Checks dtypes and broadcasting, then runs the backend's operation.
    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "binary(\(operation.rawValue))"
        try requireOwned([a, b], name)
        try ShapeRules.requireSameDType(a, b, operation: name)
        guard operation.accepts(a.dtype) else {
            throw BackendError.unsupportedDType(operation: name, dtype: a.dtype, reason: "not defined for this dtype")
        }
        try requireAllocatable(Shape.broadcast(a.shape, b.shape, operation: name), a.dtype, name)
        if let wide = widening(.elementwise, [a, b]) { return try wide.narrow(binary(operation, wide(a), wide(b))) }
        return try implementation.binary(operation, a, b)
    }

    public func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "compare(\(operation.rawValue))"
        try requireOwned([a, b], name)
        try ShapeRules.requireSameDType(a, b, operation: name)
        try requireAllocatable(Shape.broadcast(a.shape, b.shape, operation: name), .bool, name)
        if let wide = widening(.elementwise, [a, b]) { return try compare(operation, wide(a), wide(b)) }
        return try implementation.compare(operation, a, b)
    }

    public func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        try requireOwned([condition, onTrue, onFalse], "select")
        try ShapeRules.requireDType(condition, [.bool], operation: "select")
        try ShapeRules.requireSameDType(onTrue, onFalse, operation: "select")
        let shape = try Shape.broadcast(
            Shape.broadcast(condition.shape, onTrue.shape, operation: "select"), onFalse.shape, operation: "select")
        try requireAllocatable(shape, onTrue.dtype, "select")
        if let wide = widening(.elementwise, [onTrue, onFalse]) { return try wide.narrow(select(condition, wide(onTrue), wide(onFalse))) }
        return try implementation.select(condition, onTrue, onFalse)
    }

    public func cast(_ x: Buffer, to dtype: DType) throws -> Buffer {
        try requireOwned([x], "cast")
        try requireAllocatable(x.shape, dtype, "cast")
        return try implementation.cast(x, to: dtype)
    }
}

extension Backend {
    /// This backend behind its front door: itself when it already is a ``CheckedBackend``.
    public var checked: CheckedBackend {
        (self as? CheckedBackend) ?? CheckedBackend(self)
    }

    /// Whether two backends are the same one, behind a door or not.
    public func isSameBackend(as other: any Backend) -> Bool {
        func identity(_ backend: any Backend) -> ObjectIdentifier {
            ObjectIdentifier((backend as? CheckedBackend)?.implementation ?? backend)
        }
        return identity(self) == identity(other)
    }
}
