import Foundation

// The float32 definition of every elementwise operation on one element, shared by the CPU
// backends: the reference backend's primitives and any fused pass that computes the same
// operations (see `ElementwiseProgram`) give the same bits because they run this code.

extension UnaryOperation {
    /// The operation on one float32 element.
    @inlinable
    public func callAsFunction(_ v: Float) -> Float {
        switch self {
        case .negate: return -v
        case .abs: return Swift.abs(v)
        case .sign: return v.isNaN ? v : (v > 0 ? 1 : (v < 0 ? -1 : 0))
        case .exp: return Foundation.exp(v)
        case .expm1: return Foundation.expm1(v)
        case .log: return Foundation.log(v)
        case .log1p: return Foundation.log1p(v)
        case .sqrt: return v.squareRoot()
        case .rsqrt: return 1 / v.squareRoot()
        case .square: return v * v
        case .reciprocal: return 1 / v
        case .sin: return Foundation.sin(v)
        case .cos: return Foundation.cos(v)
        case .tan: return Foundation.tan(v)
        case .tanh: return Foundation.tanh(v)
        // Two branches keep exp's argument non-positive, so neither overflows.
        case .sigmoid: return v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v))
        case .erf: return Foundation.erf(v)
        case .relu: return v < 0 ? 0 : v
        case .floor: return v.rounded(.down)
        case .ceil: return v.rounded(.up)
        case .round: return v.rounded(.toNearestOrEven)
        // Defined on bool only; as a float function, not(v ≠ 0).
        case .logicalNot: return v == 0 ? 1 : 0
        }
    }
}

extension BinaryOperation {
    /// The operation on one pair of float32 elements.
    @inlinable
    public func callAsFunction(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        case .power: return Foundation.pow(x, y)
        case .maximum: return x.isNaN || y.isNaN ? .nan : Swift.max(x, y)
        case .minimum: return x.isNaN || y.isNaN ? .nan : Swift.min(x, y)
        case .remainder: return Foundation.fmod(x, y)
        // Defined on bool only; as float functions, on v ≠ 0.
        case .logicalAnd: return x != 0 && y != 0 ? 1 : 0
        case .logicalOr: return x != 0 || y != 0 ? 1 : 0
        }
    }
}
