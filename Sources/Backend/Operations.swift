/// Elementwise functions of one operand.
///
/// Float-only unless noted: `negate`, `abs` and `sign` also accept `int32`; `logicalNot`
/// takes `bool` only.
public enum UnaryOperation: String, Sendable, CaseIterable {
    case negate, abs, sign
    case exp, expm1, log, log1p
    case sqrt, rsqrt, square, reciprocal
    case sin, cos, tan, tanh, sigmoid, erf
    case relu
    case floor, ceil, round
    case logicalNot

    /// Whether the operation accepts operands of `dtype`.
    public func accepts(_ dtype: DType) -> Bool {
        switch self {
        case .logicalNot: return dtype == .bool
        case .negate, .abs, .sign: return dtype == .float32 || dtype == .int32
        default: return dtype == .float32
        }
    }
}

/// Elementwise functions of two operands with NumPy-style broadcasting. Both operands must
/// share a dtype, which is also the result's.
public enum BinaryOperation: String, Sendable, CaseIterable {
    case add, subtract, multiply, divide, power, maximum, minimum, remainder
    case logicalAnd, logicalOr

    /// Whether the operation accepts operands of `dtype`.
    public func accepts(_ dtype: DType) -> Bool {
        switch self {
        case .logicalAnd, .logicalOr: return dtype == .bool
        case .power: return dtype == .float32
        default: return dtype.isNumeric
        }
    }
}

/// Elementwise comparisons; the result is `bool`. NaN compares unequal to everything.
public enum ComparisonOperation: String, Sendable, CaseIterable {
    case equal, notEqual, less, lessEqual, greater, greaterEqual
}

/// Reductions over a set of axes.
public enum ReductionOperation: String, Sendable, CaseIterable {
    /// Sum; 0 over an empty set.
    case sum
    /// Arithmetic mean.
    case mean
    /// Maximum; NaN if any element is NaN.
    case max
    /// Minimum; NaN if any element is NaN.
    case min
    /// Product; 1 over an empty set.
    case product
}

/// Reductions to an index along one axis; the result is `int32`. Ties go to the first index.
public enum IndexReductionOperation: String, Sendable, CaseIterable {
    case argmax, argmin
}

/// Window reductions (pooling).
public enum WindowOperation: String, Sendable, CaseIterable {
    /// Maximum over the window; its gradient goes to the first maximal element.
    case max
    /// Sum over the window.
    case sum
    /// Mean over the window's elements that lie inside the input; padding is not counted.
    case average
}

/// Activations that fused ops apply after their linear part.
public enum FusedActivation: String, Sendable, CaseIterable {
    case identity, relu, sigmoid, tanh
}
