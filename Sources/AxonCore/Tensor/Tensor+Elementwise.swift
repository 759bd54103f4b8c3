import Backend
import Foundation

// Elementwise arithmetic and math, each with its vector-Jacobian product.

extension Tensor {
    /// Applies a unary backend op, recording `derivative(cotangent, x, y)` as its VJP.
    func unary(
        _ operation: UnaryOperation, derivative: @escaping (Tensor, Tensor, Tensor) throws -> Tensor?
    ) throws -> Tensor {
        // Untracked operands (the common case outside a gradient) skip the recording machinery.
        let forward: (any Backend, [Buffer]) throws -> Buffer = { backend, b in try backend.unary(operation, b[0]) }
        if node == nil { return try Tensor.computed(operation.rawValue, [self], elementwise: .unary(operation), forward) }
        return try Tensor.make(operation.rawValue, [self], elementwise: .unary(operation), forward) { g, x, y in
            [try derivative(g, x[0], y)]
        }
    }

    /// Applies a binary backend op with broadcasting; `derivative` returns the cotangents for
    /// both operands at the broadcast shape, which are then summed back to each operand's shape.
    func binary(
        _ operation: BinaryOperation, _ other: Tensor,
        derivative: @escaping (Tensor, Tensor, Tensor, Tensor) throws -> (Tensor?, Tensor?)
    ) throws -> Tensor {
        let forward: (any Backend, [Buffer]) throws -> Buffer = { backend, b in try backend.binary(operation, b[0], b[1]) }
        if node == nil, other.node == nil, other.backend.isSameBackend(as: backend) {
            return try Tensor.computed(operation.rawValue, [self, other], elementwise: .binary(operation), forward)
        }
        return try Tensor.make(operation.rawValue, [self, other], elementwise: .binary(operation), forward) {
            g, x, y in
            let (da, db) = try derivative(g, x[0], x[1], y)
            return [try da?.summed(toShape: x[0].shape), try db?.summed(toShape: x[1].shape)]
        }
    }

    /// A rank-0 tensor of this tensor's dtype and backend.
    func constant(_ value: Float) throws -> Tensor {
        try Tensor.full(value, shape: [], dtype: dtype, on: backend)
    }

    // MARK: Operators

    /// Elementwise sum with NumPy broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try lhs.binary(.add, rhs) { g, _, _, _ in (g, g) }
    }

    /// Elementwise difference with NumPy broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try lhs.binary(.subtract, rhs) { g, _, _, _ in (g, try -g) }
    }

    /// Elementwise product with NumPy broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try lhs.binary(.multiply, rhs) { g, a, b, _ in (try g * b, try g * a) }
    }

    /// Elementwise quotient with NumPy broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try lhs.binary(.divide, rhs) { g, _, b, y in (try g / b, try -(g * y / b)) }
    }

    /// Elementwise negation.
    public static prefix func - (x: Tensor) throws -> Tensor {
        try x.unary(.negate) { g, _, _ in try -g }
    }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Float) throws -> Tensor { try lhs + lhs.constant(rhs) }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Float) throws -> Tensor { try lhs - lhs.constant(rhs) }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Float) throws -> Tensor { try lhs * lhs.constant(rhs) }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Float) throws -> Tensor { try lhs / lhs.constant(rhs) }
    /// A scalar plus every element.
    public static func + (lhs: Float, rhs: Tensor) throws -> Tensor { try rhs.constant(lhs) + rhs }
    /// A scalar minus every element.
    public static func - (lhs: Float, rhs: Tensor) throws -> Tensor { try rhs.constant(lhs) - rhs }
    /// A scalar times every element.
    public static func * (lhs: Float, rhs: Tensor) throws -> Tensor { try rhs.constant(lhs) * rhs }
    /// A scalar divided by every element.
    public static func / (lhs: Float, rhs: Tensor) throws -> Tensor { try rhs.constant(lhs) / rhs }

    /// `self` raised to `exponent` elementwise.
    public func pow(_ exponent: Tensor) throws -> Tensor {
        try binary(.power, exponent) { g, a, b, y in
            (try g * b * a.pow(b - 1), try g * y * a.log())
        }
    }

    /// Every element raised to `exponent`.
    public func pow(_ exponent: Float) throws -> Tensor { try pow(constant(exponent)) }

    /// The elementwise maximum; where both are equal the gradient goes to `self`.
    public func maximum(_ other: Tensor) throws -> Tensor {
        try binary(.maximum, other) { g, a, b, _ in
            let first = try a.compare(.greaterEqual, b)
            return (try first.select(g, g.constant(0)), try first.select(g.constant(0), g))
        }
    }

    /// The elementwise minimum; where both are equal the gradient goes to `self`.
    public func minimum(_ other: Tensor) throws -> Tensor {
        try binary(.minimum, other) { g, a, b, _ in
            let first = try a.compare(.lessEqual, b)
            return (try first.select(g, g.constant(0)), try first.select(g.constant(0), g))
        }
    }

    /// The remainder of truncating division (C's `fmod`): `a − trunc(a / b) · b`.
    public func remainder(_ other: Tensor) throws -> Tensor {
        try binary(.remainder, other) { g, a, b, _ in
            let quotient = try (a / b)
            let truncated = try quotient.compare(.less, 0)
                .select(quotient.ceil(), quotient.floor())
            return (g, try -(g * truncated))
        }
    }

    // MARK: Math

    /// `eˣ`.
    public func exp() throws -> Tensor { try unary(.exp) { g, _, y in try g * y } }
    /// `eˣ − 1`, accurate near zero.
    public func expm1() throws -> Tensor { try unary(.expm1) { g, _, y in try g * (y + 1) } }
    /// The natural logarithm.
    public func log() throws -> Tensor { try unary(.log) { g, x, _ in try g / x } }
    /// `log(1 + x)`, accurate near zero.
    public func log1p() throws -> Tensor { try unary(.log1p) { g, x, _ in try g / (x + 1) } }
    /// The square root.
    public func sqrt() throws -> Tensor { try unary(.sqrt) { g, _, y in try g * 0.5 / y } }
    /// `1 / √x`.
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) { g, x, y in try g * -0.5 * y / x } }
    /// `x²`.
    public func square() throws -> Tensor { try unary(.square) { g, x, _ in try g * x * 2 } }
    /// `1 / x`.
    public func reciprocal() throws -> Tensor { try unary(.reciprocal) { g, _, y in try -(g * y * y) } }
    /// `|x|` (its gradient at 0 is 0).
    public func abs() throws -> Tensor { try unary(.abs) { g, x, _ in try g * x.sign() } }
    /// The sine.
    public func sin() throws -> Tensor { try unary(.sin) { g, x, _ in try g * x.cos() } }
    /// The cosine.
    public func cos() throws -> Tensor { try unary(.cos) { g, x, _ in try -(g * x.sin()) } }
    /// The tangent.
    public func tan() throws -> Tensor { try unary(.tan) { g, _, y in try g * (y * y + 1) } }
    /// The hyperbolic tangent.
    public func tanh() throws -> Tensor { try unary(.tanh) { g, _, y in try Tensor.throughActivation(.tanh, output: y, cotangent: g) } }
    /// `1 / (1 + e⁻ˣ)`.
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) { g, _, y in try Tensor.throughActivation(.sigmoid, output: y, cotangent: g) } }
    /// `max(x, 0)` (its gradient at 0 is 0: the output is positive exactly where the input is).
    public func relu() throws -> Tensor {
        try unary(.relu) { g, _, y in try Tensor.throughActivation(.relu, output: y, cotangent: g) }
    }
    /// The Gauss error function; its derivative is `2/√π · exp(−x²)`.
    public func erf() throws -> Tensor {
        try unary(.erf) { g, x, _ in try g * (x * x * -1).exp() * Float(2 / Double.pi.squareRoot()) }
    }

    // Piecewise-constant functions: their gradient is zero almost everywhere.
    /// −1, 0 or 1 by the sign of each element; not differentiable (no gradient flows).
    public func sign() throws -> Tensor { try unary(.sign) { _, _, _ in nil } }
    /// Rounds down; not differentiable (no gradient flows).
    public func floor() throws -> Tensor { try unary(.floor) { _, _, _ in nil } }
    /// Rounds up; not differentiable (no gradient flows).
    public func ceil() throws -> Tensor { try unary(.ceil) { _, _, _ in nil } }
    /// Rounds half to even.
    public func round() throws -> Tensor { try unary(.round) { _, _, _ in nil } }

    /// Logical negation of a `bool` tensor.
    public func logicalNot() throws -> Tensor { try unary(.logicalNot) { _, _, _ in nil } }
    /// Elementwise AND of two `bool` tensors, with broadcasting.
    public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(.logicalAnd, other) { _, _, _, _ in (nil, nil) } }
    /// Elementwise OR of two `bool` tensors, with broadcasting.
    public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(.logicalOr, other) { _, _, _, _ in (nil, nil) } }

    // MARK: Comparison and selection

    /// Compares elementwise with broadcasting; the result is `bool` and carries no gradient.
    public func compare(_ operation: ComparisonOperation, _ other: Tensor) throws -> Tensor {
        try Tensor.computed("compare", [self, other]) { backend, b in try backend.compare(operation, b[0], b[1]) }
    }

    /// Compares with a scalar of this tensor's dtype.
    public func compare(_ operation: ComparisonOperation, _ scalar: Float) throws -> Tensor {
        try compare(operation, constant(scalar))
    }

    /// `self ? onTrue : onFalse` for a `bool` tensor `self`, with broadcasting.
    public func select(_ onTrue: Tensor, _ onFalse: Tensor) throws -> Tensor {
        let condition = detached()
        return try Tensor.make("select", [onTrue, onFalse, condition], { backend, b in
            try backend.select(b[2], b[0], b[1])
        }) { g, x, _ in
            let zero = try g.constant(0)
            return [
                try condition.select(g, zero).summed(toShape: x[0].shape),
                try condition.select(zero, g).summed(toShape: x[1].shape),
                nil,
            ]
        }
    }

    /// Converts elements to `dtype`. Gradients flow only between float types.
    ///
    /// Widening `bfloat16` to `float32` is exact, so casting such a widened tensor back to
    /// `bfloat16` returns the original tensor rather than rounding it again. Under a
    /// mixed-precision policy, a layer's `float32` output that the next layer reads in `bfloat16`
    /// then costs no cast at all, in either direction of the gradient, and a compiled plan drops
    /// the widening when nothing else reads it. Forward values and gradients are the same bits as
    /// the two casts give.
    public func cast(to dtype: DType) throws -> Tensor {
        if dtype == self.dtype { return self }
        if let source = widened?.tensor, source.dtype == dtype { return source }
        let result = try Tensor.make("cast", [self], elementwise: .cast(dtype), { backend, b in try backend.cast(b[0], to: dtype) }) { g, x, _ in
            [x[0].dtype.isFloatingPoint ? try g.cast(to: x[0].dtype) : nil]
        }
        guard self.dtype == .bfloat16, dtype == .float32 else { return result }
        return Tensor(buffer: result.buffer, backend: result.backend, node: result.node, widened: WidenedSource(self))
    }
}

/// The tensor a `float32` tensor was widened from (exactly, from `bfloat16`); a class because a
/// struct cannot hold a value of its own type.
final class WidenedSource: Sendable {
    let tensor: Tensor
    init(_ tensor: Tensor) { self.tensor = tensor }
}
