// Optional primitives: operations a backend may leave to a default decomposition into the
// required core, so that a new backend can start small. A backend declares what it runs
// natively in `nativeOperations`; the front door (and the fused compositions) decompose the rest.

/// The optional primitives a backend runs natively.
public struct NativeOperations: Sendable, Hashable {
    /// The unary operations run natively; every other one of ``optionalUnary`` is decomposed.
    public var unary: Set<UnaryOperation>
    /// Whether `window(.average, ...)` and its backward run natively, rather than as a sum
    /// pooling divided by the count of in-bounds elements.
    public var averagePooling: Bool
    /// Whether the convolution backward ops run natively, rather than as forward convolutions
    /// (see ConvolutionDecompositions.swift).
    public var convolutionBackward: Bool
    /// The families computed natively on `bfloat16` operands. The front door runs every other
    /// family's `bfloat16` operations in `float32` and rounds the results (see
    /// ``OperationFamily``), so a backend needs only `upload`, `download`, `full` and `cast`
    /// for `bfloat16`, and declares a family once it computes it faster itself.
    public var bfloat16: Set<OperationFamily>

    /// The core operations plus the optional ones given.
    public init(unary: Set<UnaryOperation>, averagePooling: Bool, convolutionBackward: Bool, bfloat16: Set<OperationFamily> = []) {
        self.unary = unary.union(Set(UnaryOperation.allCases).subtracting(Self.optionalUnary))
        self.averagePooling = averagePooling
        self.convolutionBackward = convolutionBackward
        self.bfloat16 = bfloat16
    }

    /// The unary operations a backend may decompose: `expm1`, `log1p`, `rsqrt`, `reciprocal`,
    /// `sigmoid`, `square` and `tan`. The others are required.
    public static let optionalUnary: Set<UnaryOperation> = [.expm1, .log1p, .rsqrt, .reciprocal, .sigmoid, .square, .tan]

    /// Every optional primitive native, `bfloat16` computed through `float32`: the default.
    public static let all = NativeOperations(unary: Set(UnaryOperation.allCases), averagePooling: true, convolutionBackward: true)
    /// Only the required core: every optional primitive decomposed.
    public static let coreOnly = NativeOperations(unary: [], averagePooling: false, convolutionBackward: false)
}

extension Backend {
    /// Every optional primitive is native unless a backend says otherwise.
    public var nativeOperations: NativeOperations { .all }

    /// `operation` on `x`, natively when the backend declares it, else decomposed: what a
    /// composition calls for an optional unary operation.
    public func unaryOrDecomposition(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        nativeOperations.unary.contains(operation) ? try unary(operation, x) : try decomposedUnary(operation, x)
    }

    /// An optional unary operation written with required primitives only.
    public func decomposedUnary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        let one = try full(1, shape: [], dtype: x.dtype)
        switch operation {
        case .reciprocal:
            return try binary(.divide, one, x)
        case .rsqrt:
            return try binary(.divide, one, unary(.sqrt, x))
        case .square:
            return try binary(.multiply, x, x)
        case .tan:
            return try binary(.divide, unary(.sin, x), unary(.cos, x))
        case .sigmoid:
            return try binary(.divide, one, binary(.add, one, unary(.exp, unary(.negate, x))))
        case .expm1:
            // Near 0, exp(x) − 1 cancels; 2t / (1 − t) with t = tanh(x / 2) does not.
            let t = try unary(.tanh, binary(.multiply, x, full(0.5, shape: [], dtype: x.dtype)))
            let small = try binary(.divide, binary(.add, t, t), binary(.subtract, one, t))
            let large = try binary(.subtract, unary(.exp, x), one)
            let isSmall = try compare(.less, unary(.abs, x), full(0.5, shape: [], dtype: x.dtype))
            return try select(isSmall, small, large)
        case .log1p:
            // log(u) · x / (u − 1) with u = 1 + x recovers the bits 1 + x rounds away; x where u is 1.
            let u = try binary(.add, one, x)
            let denominator = try binary(.subtract, u, one)
            let corrected = try binary(.multiply, unary(.log, u), binary(.divide, x, denominator))
            let exact = try compare(.equal, denominator, full(0, shape: [], dtype: x.dtype))
            let infinite = try compare(.equal, u, full(.infinity, shape: [], dtype: x.dtype))
            return try select(exact, x, select(infinite, u, corrected))
        default:
            return try unary(operation, x)
        }
    }

    /// Average pooling as sum pooling divided by the number of in-bounds elements per window.
    public func decomposedAveragePooling(_ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        try binary(.divide, window(.sum, x, descriptor: descriptor), windowCounts(x.shape, descriptor))
    }

    /// The gradient of ``decomposedAveragePooling(_:descriptor:)``: the sum pooling's gradient
    /// of the output gradient divided by the counts.
    public func decomposedAveragePoolingBackward(input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let scaled = try binary(.divide, gradOutput, windowCounts(input.shape, descriptor))
        return try windowBackward(.sum, input: input, gradOutput: scaled, descriptor: descriptor)
    }

    /// How many elements of an input of `shape` each window covers (padding is not counted).
    private func windowCounts(_ shape: Shape, _ descriptor: WindowDescriptor) throws -> Buffer {
        try window(.sum, full(1, shape: shape, dtype: .float32), descriptor: descriptor)
    }
}
