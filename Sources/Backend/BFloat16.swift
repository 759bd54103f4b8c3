/// A brain floating-point number: the upper 16 bits of a `Float` (sign, 8-bit exponent, 7-bit
/// mantissa), so it has `Float`'s range with about three significant decimal digits.
///
/// Every conversion into `BFloat16` rounds to nearest, ties to even, from the exact value,
/// never through an intermediate rounding: integers above 2²⁴ and `Double`s round once. NaN
/// stays NaN (quiet, with its sign) and infinities stay infinite; values beyond the largest
/// finite `BFloat16` (≈ 3.39 × 10³⁸) round to infinity. Widening to `Float` is exact.
///
/// ```swift
/// let x = BFloat16(1.00390625 as Float)  // halfway between 1 and 1.0078125: ties to even
/// print(Float(x))                         // 1.0
/// print(BFloat16(257 as Int32).float)    // 256.0
/// ```
public struct BFloat16: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bits: sign, exponent, mantissa (the upper half of the `Float` bit pattern).
    public let bitPattern: UInt16

    /// The number with these bits.
    @inlinable
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// `value` rounded to nearest, ties to even; NaN becomes a quiet NaN with the same sign.
    /// (Inlinable and branch-free, so that casting loops vectorise.)
    @inlinable
    public init(_ value: Float) {
        let bits = value.bitPattern
        // Adding 0x7FFF plus the kept part's lowest bit carries into the kept half exactly
        // when the dropped half is above one half, or equal to it with an odd kept part.
        let rounded = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        let quietNaN = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        bitPattern = bits & 0x7FFF_FFFF > 0x7F80_0000 ? quietNaN : rounded
    }

    /// `value` rounded once to nearest, ties to even.
    ///
    /// `Double` to `Float` and then to `BFloat16` would round twice (a value just above a
    /// `BFloat16` midpoint can land on it); rounding to `Float` *to odd* first keeps the
    /// information the second rounding needs, since `Float` has more than two extra bits.
    public init(_ value: Double) {
        self.init(Self.roundedToOdd(value))
    }

    /// `value` rounded once to nearest, ties to even (exact up to 256 in magnitude).
    public init(_ value: Int32) { self.init(Double(value)) }

    /// `value` rounded once to nearest, ties to even (exact up to 256).
    public init(_ value: UInt32) { self.init(Double(value)) }

    /// The value as a `Float` (exact).
    @inlinable
    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// Whether the value is NaN.
    public var isNaN: Bool { float.isNaN }

    public var description: String { float.description }

    /// `value` as the `Float` nearest toward zero, with its lowest mantissa bit set when that
    /// is inexact (round to odd), which a second rounding to fewer bits cannot get wrong.
    static func roundedToOdd(_ value: Double) -> Float {
        let nearest = Float(value)
        guard !value.isNaN, Double(nearest) != value else { return nearest }
        var towardZero = nearest
        if abs(Double(nearest)) > abs(value) {
            towardZero = nearest.isInfinite
                ? Float.greatestFiniteMagnitude * (value < 0 ? -1 : 1)
                : Float(bitPattern: nearest.bitPattern - 1)
        }
        return Float(bitPattern: towardZero.bitPattern | 1)
    }
}

/// Widening a ``BFloat16`` to `Float`, as `Float(someBFloat16)`.
extension Float {
    /// The exact value of `value`.
    public init(_ value: BFloat16) { self = value.float }
}
