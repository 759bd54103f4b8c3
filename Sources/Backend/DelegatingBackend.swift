/// A backend that accelerates some operations and delegates every other primitive to a
/// fallback backend whose buffers it shares (for a CPU library, the host-memory reference
/// backend).
///
/// A conforming type declares only what it runs itself; each primitive it does not implement
/// forwards to ``fallback``. Fused ops it does not override are *not* forwarded: they run as
/// the default composition on this backend, so its own accelerated primitives take part and a
/// partial override can fall back to the composition on the same backend.
///
/// ```swift
/// /// Counts matrix products and leaves everything to the fallback.
/// final class MatmulCounter: DelegatingBackend, @unchecked Sendable {
///     let fallback: any Backend
///     private(set) var matmuls = 0
///     var name: String { "matmul-counter" }
///     var deviceDescription: String { fallback.deviceDescription }
///     init(fallback: any Backend) { self.fallback = fallback }
///
///     func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
///         matmuls += 1
///         return try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
///     }
/// }
/// ```
public protocol DelegatingBackend: Backend {
    /// The backend that runs every primitive this one does not.
    var fallback: any Backend { get }
}

extension DelegatingBackend {
    /// The fallback's native operations.
    public var nativeOperations: NativeOperations { fallback.nativeOperations }
    public func owns(_ buffer: Buffer) -> Bool { fallback.owns(buffer) }

    public func upload(_ array: HostArray) throws -> Buffer { try fallback.upload(array) }
    public func download(_ buffer: Buffer) throws -> HostArray { try fallback.download(buffer) }
    public func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer { try fallback.full(value, shape: shape, dtype: dtype) }
    public func synchronize() throws { try fallback.synchronize() }

    /// Runs on the fallback.
    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer { try fallback.unary(operation, x) }
    /// Runs on the fallback.
    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer { try fallback.binary(operation, a, b) }
    public func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer { try fallback.compare(operation, a, b) }
    public func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        try fallback.select(condition, onTrue, onFalse)
    }
    public func cast(_ x: Buffer, to dtype: DType) throws -> Buffer { try fallback.cast(x, to: dtype) }

    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        try fallback.reduce(operation, x, axes: axes, keepDimensions: keepDimensions)
    }
    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        try fallback.indexReduce(operation, x, axis: axis, keepDimensions: keepDimensions)
    }

    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }

    /// Runs on the fallback.
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try fallback.convolution(input, kernel: kernel, descriptor: descriptor)
    }
    public func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        try fallback.convolutionBackwardInput(gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
    }
    public func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        try fallback.convolutionBackwardKernel(input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
    }

    /// Runs on the fallback.
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        try fallback.window(operation, x, descriptor: descriptor)
    }
    public func windowBackward(
        _ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor
    ) throws -> Buffer {
        try fallback.windowBackward(operation, input: input, gradOutput: gradOutput, descriptor: descriptor)
    }

    /// Runs on the fallback.
    public func reshape(_ x: Buffer, to shape: Shape) throws -> Buffer { try fallback.reshape(x, to: shape) }
    public func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer { try fallback.permute(x, permutation) }
    public func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer {
        try fallback.slice(x, starts: starts, limits: limits, strides: strides)
    }
    public func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer { try fallback.pad(x, padding: padding, value: value) }
    public func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer { try fallback.concatenate(xs, axis: axis) }
    public func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer { try fallback.broadcast(x, to: shape) }
    public func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer { try fallback.gather(x, indices: indices, axis: axis) }
    public func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        try fallback.scatterAdd(updates, indices: indices, axis: axis, dimensionSize: dimensionSize)
    }
    public func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer { try fallback.iota(shape: shape, axis: axis, dtype: dtype) }
    public func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        try fallback.randomBits(key: key, offset: offset, shape: shape)
    }
}
