import Backend

/// Forwards every primitive to `base` but overrides no fused op, so its fused ops are the
/// protocol's default compositions of `base`'s primitives: what a fused override is compared
/// with. Subclasses can change one primitive (to check that the suite catches a broken op) or
/// observe every call through ``observe(_:)`` (to count them).
open class ForwardingBackend: Backend, @unchecked Sendable {
    /// The backend every primitive goes to.
    public let base: any Backend
    /// A backend forwarding to `base`.
    public init(_ base: any Backend) { self.base = base }

    open var name: String { base.name + "+composition" }
    open var deviceDescription: String { base.deviceDescription }
    open var nativeOperations: NativeOperations { base.nativeOperations }
    open func owns(_ buffer: Buffer) -> Bool { base.owns(buffer) }

    /// Called with the operation's name before each primitive runs.
    open func observe(_ operation: String) {}

    open func upload(_ array: HostArray) throws -> Buffer {
        observe("upload")
        return try base.upload(array)
    }
    open func download(_ buffer: Buffer) throws -> HostArray {
        observe("download")
        return try base.download(buffer)
    }
    open func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer {
        observe("full")
        return try base.full(value, shape: shape, dtype: dtype)
    }
    open func synchronize() throws {
        observe("synchronize")
        try base.synchronize()
    }
    /// Forwards to `base`.
    open func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        observe("unary")
        return try base.unary(operation, x)
    }
    /// Forwards to `base`.
    open func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        observe("binary")
        return try base.binary(operation, a, b)
    }
    open func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        observe("compare")
        return try base.compare(operation, a, b)
    }
    open func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        observe("select")
        return try base.select(condition, onTrue, onFalse)
    }
    open func cast(_ x: Buffer, to dtype: DType) throws -> Buffer {
        observe("cast")
        return try base.cast(x, to: dtype)
    }
    open func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        observe("reduce")
        return try base.reduce(operation, x, axes: axes, keepDimensions: keepDimensions)
    }
    open func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        observe("indexReduce")
        return try base.indexReduce(operation, x, axis: axis, keepDimensions: keepDimensions)
    }
    open func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        observe("matmul")
        return try base.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }
    /// Forwards to `base`.
    open func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        observe("convolution")
        return try base.convolution(input, kernel: kernel, descriptor: descriptor)
    }
    open func convolutionBackwardInput(gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        observe("convolutionBackwardInput")
        return try base.convolutionBackwardInput(gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
    }
    open func convolutionBackwardKernel(input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        observe("convolutionBackwardKernel")
        return try base.convolutionBackwardKernel(input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
    }
    /// Forwards to `base`.
    open func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        observe("window")
        return try base.window(operation, x, descriptor: descriptor)
    }
    open func windowBackward(_ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        observe("windowBackward")
        return try base.windowBackward(operation, input: input, gradOutput: gradOutput, descriptor: descriptor)
    }
    open func reshape(_ x: Buffer, to shape: Shape) throws -> Buffer {
        observe("reshape")
        return try base.reshape(x, to: shape)
    }
    open func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer {
        observe("permute")
        return try base.permute(x, permutation)
    }
    open func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer {
        observe("slice")
        return try base.slice(x, starts: starts, limits: limits, strides: strides)
    }
    open func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer {
        observe("pad")
        return try base.pad(x, padding: padding, value: value)
    }
    open func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer {
        observe("concatenate")
        return try base.concatenate(xs, axis: axis)
    }
    open func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer {
        observe("broadcast")
        return try base.broadcast(x, to: shape)
    }
    open func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer {
        observe("gather")
        return try base.gather(x, indices: indices, axis: axis)
    }
    open func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        observe("scatterAdd")
        return try base.scatterAdd(updates, indices: indices, axis: axis, dimensionSize: dimensionSize)
    }
    open func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer {
        observe("iota")
        return try base.iota(shape: shape, axis: axis, dtype: dtype)
    }
    open func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        observe("randomBits")
        return try base.randomBits(key: key, offset: offset, shape: shape)
    }
}

/// The same backend declaring only the required core of primitives, so the front door and
/// the compositions decompose every optional one: what a native optional primitive is
/// compared with.
public final class CoreOnlyBackend: ForwardingBackend, @unchecked Sendable {
    public override var name: String { base.name + "+core" }
    /// Only the required core, so every optional primitive is decomposed.
    public override var nativeOperations: NativeOperations { .coreOnly }
}
