/// The specification of ``ElementwiseOperations/cast(_:to:)``, which every backend follows
/// bit for bit (the reference backend runs it as written):
///
/// - to `float32`: integers round to nearest, ties to even; `bfloat16` widens exactly; `true` is 1;
/// - to `bfloat16`: `float32` and integers round once to nearest, ties to even (see ``BFloat16``);
///   NaN and infinities are kept;
/// - to `int32`/`uint32` from a float: ``ScalarConversion`` (NaN is 0, saturating, truncating);
///   between `int32` and `uint32`: the same 32 bits;
/// - to `bool`: any nonzero value (NaN included) is `true`; from `bool`: 1 and 0.
extension HostElements {
    /// The elements converted to `dtype` by the cast rules above.
    public func converted(to dtype: DType) -> HostElements {
        if self.dtype == dtype { return self }
        switch dtype {
        case .float32:
            return .float32(floats)
        case .bfloat16:
            switch self {
            case let .float32(v): return .bfloat16(v.map { BFloat16($0) })
            case let .int32(v): return .bfloat16(v.map { BFloat16($0) })
            case let .uint32(v): return .bfloat16(v.map { BFloat16($0) })
            case let .bool(v): return .bfloat16(v.map { BFloat16($0 ? 1 : 0 as Float) })
            case .bfloat16: return self
            }
        case .int32:
            switch self {
            case let .uint32(v): return .int32(v.map { Int32(bitPattern: $0) })
            case let .bool(v): return .int32(v.map { $0 ? 1 : 0 })
            default: return .int32(floats.map { ScalarConversion.int32(Double($0)) })
            }
        case .uint32:
            switch self {
            case let .int32(v): return .uint32(v.map { UInt32(bitPattern: $0) })
            case let .bool(v): return .uint32(v.map { $0 ? 1 : 0 })
            default: return .uint32(floats.map { ScalarConversion.uint32(Double($0)) })
            }
        case .bool:
            switch self {
            case let .int32(v): return .bool(v.map { $0 != 0 })
            case let .uint32(v): return .bool(v.map { $0 != 0 })
            default: return .bool(floats.map { $0 != 0 })
            }
        }
    }
}
