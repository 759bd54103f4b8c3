/// The element type of a buffer.
///
/// `float32` carries real-valued data; `bfloat16` carries it in half the memory for
/// mixed-precision computation (see ``BFloat16``); `int32` and `uint32` carry indices, labels
/// and random bits; `bool` carries masks and comparison results.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE 754 floating point.
    case float32
    /// Brain floating point: `float32`'s range with an 8-bit significand (see ``BFloat16``).
    case bfloat16
    /// 32-bit two's-complement integers.
    case int32
    /// 32-bit unsigned integers.
    case uint32
    /// Booleans, stored one per element.
    case bool

    /// Bytes one element occupies in a dense buffer.
    public var byteSize: Int {
        switch self {
        case .float32, .int32, .uint32: return 4
        case .bfloat16: return 2
        case .bool: return 1
        }
    }

    /// Whether the type holds real numbers (and so has gradients).
    public var isFloatingPoint: Bool { self == .float32 || self == .bfloat16 }

    /// Whether arithmetic (`add`, `multiply`, ...) is defined on the type.
    public var isNumeric: Bool { self != .bool }

    public var description: String { rawValue }
}

/// The conversions from floating point to integers that every backend's `full` and `cast`
/// follow: NaN becomes 0, out-of-range values saturate, fractions truncate toward zero.
public enum ScalarConversion {
    /// `value` as an `Int32`: NaN is 0, out-of-range values saturate, fractions truncate toward zero.
    public static func int32(_ value: Double) -> Int32 {
        if value.isNaN { return 0 }
        return Int32(max(min(value, Double(Int32.max)), Double(Int32.min)).rounded(.towardZero))
    }

    /// `value` as a `UInt32`: NaN is 0, out-of-range values saturate, fractions truncate toward zero.
    public static func uint32(_ value: Double) -> UInt32 {
        if value.isNaN { return 0 }
        return UInt32(max(min(value, Double(UInt32.max)), 0).rounded(.towardZero))
    }
}
