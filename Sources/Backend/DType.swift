/// The element type of a buffer.
///
/// `float32` carries all real-valued data; `int32` and `uint32` carry indices, labels and
/// random bits; `bool` carries masks and comparison results. The set is open for
/// `float16`/`bfloat16` later.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float32
    case int32
    case uint32
    case bool

    /// Bytes one element occupies in a dense buffer.
    public var byteSize: Int {
        switch self {
        case .float32, .int32, .uint32: return 4
        case .bool: return 1
        }
    }

    /// Whether the type holds real numbers (and so has gradients).
    public var isFloatingPoint: Bool { self == .float32 }

    /// Whether arithmetic (`add`, `multiply`, ...) is defined on the type.
    public var isNumeric: Bool { self != .bool }

    public var description: String { rawValue }
}
