// The primitive families of the Backend protocol, one protocol each. Every backend implements
// all of them (the optional ones of OptionalPrimitives.swift may be left to a decomposition).
// Operands reach a backend through CheckedBackend, which has validated them by the rules of
// ShapeRules, so every backend accepts the same inputs and throws the same errors.

/// Moving data between host and backend, and creating filled buffers.
public protocol BufferOperations {
    /// Copies a host array into a new buffer.
    func upload(_ array: HostArray) throws -> Buffer
    /// Copies a buffer back to the host, waiting for pending work that produces it.
    func download(_ buffer: Buffer) throws -> HostArray
    /// A buffer with every element equal to `value` (converted to `dtype`).
    func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer
    /// Waits until all submitted work has completed.
    func synchronize() throws
    /// Whether `buffer` is one this backend can read: the front door refuses any other with
    /// ``BackendError/foreignBuffer(operation:expected:)``.
    func owns(_ buffer: Buffer) -> Bool
}

/// Elementwise ops, with NumPy-style broadcasting for those of several operands.
public protocol ElementwiseOperations {
    /// `operation` applied to every element of `x`.
    func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer
    /// `operation` applied to `a` and `b` elementwise, after NumPy broadcasting.
    func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer
    /// Compares elementwise; the result is `bool`.
    func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer
    /// `condition ? onTrue : onFalse` elementwise; `condition` is `bool`, the branches share a
    /// dtype, and all three broadcast together.
    func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer
    /// Converts elements: float to integer truncates toward zero (saturating), any nonzero
    /// value becomes `true`, `true` becomes 1.
    func cast(_ x: Buffer, to dtype: DType) throws -> Buffer
}

/// Reductions over axes.
public protocol ReductionOperations {
    /// Reduces over `axes` (negative axes count from the end; empty means none).
    func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer
    /// The `int32` index of the maximum or minimum along `axis`; ties go to the first.
    func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer
}

/// Batched matrix products.
public protocol MatrixOperations {
    /// `op(a) · op(b)` over the last two axes, where `op` transposes when asked. Leading
    /// (batch) axes broadcast; both operands have rank ≥ 2.
    func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer
}

/// Dimension-generic convolution, channels-last (see ``ConvolutionDescriptor``).
public protocol ConvolutionOperations {
    /// An N-dimensional convolution, channels last (``ConvolutionDescriptor``).
    func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer
    /// The gradient with respect to the input, of shape `inputShape`.
    func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer
    /// The gradient with respect to the kernel, of shape `kernelShape`.
    func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer
}

/// Window reductions (pooling) over every dimension (see ``WindowDescriptor``).
public protocol WindowOperations {
    /// Max, average or sum over windows of `x` (``WindowDescriptor``).
    func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer
    /// The gradient with respect to `input`, given the gradient of the window op's output.
    func windowBackward(
        _ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor
    ) throws -> Buffer
}

/// Layout and indexing.
public protocol LayoutOperations {
    /// The same elements in another shape of equal element count.
    func reshape(_ x: Buffer, to shape: Shape) throws -> Buffer
    /// Reorders axes: output axis `i` is input axis `permutation[i]`.
    func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer
    /// Elements `starts[i] ..< limits[i]` at step `strides[i]` along every axis.
    func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer
    /// Pads every axis with `value`.
    func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer
    /// Joins buffers of one dtype along `axis`; the other axes must agree.
    func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer
    /// Broadcasts `x` to `shape` by NumPy's rules.
    func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer
    /// Takes slices of `x` along `axis` at `int32` `indices`: the result's shape is
    /// `x.shape[..<axis] + indices.shape + x.shape[(axis+1)...]`.
    func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer
    /// The adjoint of gather: a zero buffer whose `axis` has `dimensionSize` entries, into which
    /// each slice of `updates` is added at its index (repeated indices accumulate).
    func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer
    /// A buffer whose elements equal their index along `axis`.
    func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer
}

/// Counter-based random bits.
public protocol RandomOperations {
    /// `uint32` bits of ``Philox/bits(key:offset:count:)``, laid out row-major in `shape`.
    func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer
}

extension LayoutOperations {
    /// Buffers are dense and row-major, so a reshape only changes the metadata.
    public func reshape(_ x: Buffer, to shape: Shape) throws -> Buffer {
        try ShapeRules.checkReshape(x.shape, to: shape)
        return x.reinterpreted(as: shape)
    }
}
