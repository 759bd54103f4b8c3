/// Elementwise functions of one operand.
///
/// Float-only unless noted: `negate`, `abs` and `sign` also accept `int32`; `logicalNot`
/// takes `bool` only.
public enum UnaryOperation: String, Sendable, CaseIterable {
    /// `−x`.
    case negate
    /// `|x|`.
    case abs
    /// −1, 0 or 1 by the sign of `x`.
    case sign
    /// `eˣ`.
    case exp
    /// `eˣ − 1`, accurate near zero.
    case expm1
    /// The natural logarithm.
    case log
    /// `log(1 + x)`, accurate near zero.
    case log1p
    /// `√x`.
    case sqrt
    /// `1 / √x`.
    case rsqrt
    /// `x²`.
    case square
    /// `1 / x`.
    case reciprocal
    /// The sine.
    case sin
    /// The cosine.
    case cos
    /// The tangent.
    case tan
    /// The hyperbolic tangent.
    case tanh
    /// `1 / (1 + e⁻ˣ)`.
    case sigmoid
    /// The error function.
    case erf
    /// `max(x, 0)`.
    case relu
    /// Rounds down.
    case floor
    /// Rounds up.
    case ceil
    /// Rounds to the nearest integer, halves to even.
    case round
    /// Logical negation of a `bool`.
    case logicalNot

    /// Whether the operation accepts operands of `dtype`.
    public func accepts(_ dtype: DType) -> Bool {
        switch self {
        case .logicalNot: return dtype == .bool
        case .negate, .abs, .sign: return dtype.isFloatingPoint || dtype == .int32
        default: return dtype.isFloatingPoint
        }
    }
}

/// Elementwise functions of two operands with NumPy-style broadcasting. Both operands must
/// share a dtype, which is also the result's.
public enum BinaryOperation: String, Sendable, CaseIterable {
    /// `a + b`.
    case add
    /// `a − b`.
    case subtract
    /// `a · b`.
    case multiply
    /// `a / b`.
    case divide
    /// `aᵇ`.
    case power
    /// The larger of `a` and `b` (NaN if either is NaN).
    case maximum
    /// The smaller of `a` and `b` (NaN if either is NaN).
    case minimum
    /// The remainder of `a / b` with the sign of `a` (C's `fmod`).
    case remainder
    /// `a` and `b`, for `bool`.
    case logicalAnd
    /// `a` or `b`, for `bool`.
    case logicalOr

    /// Whether the operation accepts operands of `dtype`.
    public func accepts(_ dtype: DType) -> Bool {
        switch self {
        case .logicalAnd, .logicalOr: return dtype == .bool
        case .power: return dtype.isFloatingPoint
        default: return dtype.isNumeric
        }
    }
}

/// Elementwise comparisons; the result is `bool`. NaN compares unequal to everything.
public enum ComparisonOperation: String, Sendable, CaseIterable {
    /// `a == b`.
    case equal
    /// `a != b`.
    case notEqual
    /// `a < b`.
    case less
    /// `a <= b`.
    case lessEqual
    /// `a > b`.
    case greater
    /// `a >= b`.
    case greaterEqual
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
    /// The index of the largest element (the first among equals).
    case argmax
    /// The index of the smallest element (the first among equals).
    case argmin
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
    /// No activation.
    case identity
    /// `max(x, 0)`.
    case relu
    /// `1 / (1 + e⁻ˣ)`.
    case sigmoid
    /// The hyperbolic tangent.
    case tanh
}
