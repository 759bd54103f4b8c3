import Backend
import Foundation

extension ReferenceBackend {
    /// Applies `operation` to every element, in `Float` for float32 buffers.
    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        let name = "unary(\(operation.rawValue))"
        switch x.dtype {
        case .int32:
            switch operation {
            case .negate: return try map1(x, .int32) { (v: Int32) in 0 &- v }
            case .abs: return try map1(x, .int32) { (v: Int32) in v < 0 ? 0 &- v : v }
            default: return try map1(x, .int32) { (v: Int32) in v.signum() }
            }
        case .bool:
            return try map1(x, .bool) { (v: UInt8) -> UInt8 in v == 0 ? 1 : 0 }
        default:
            break
        }
        guard operation != .logicalNot else {
            throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "expected bool")
        }
        return try map1(x, .float32) { (v: Float) in operation(v) }
    }

    /// Applies `operation` to each pair of elements after NumPy broadcasting.
    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "binary(\(operation.rawValue))"
        switch a.dtype {
        case .float32: return try floatBinary(operation, a, b, name)
        case .bfloat16: throw BackendError.computedInFloat32(name)
        case .int32: return try integerBinary(operation, a, b, name, Int32.self)
        case .uint32: return try integerBinary(operation, a, b, name, UInt32.self)
        case .bool:
            switch operation {
            case .logicalAnd: return try map2(a, b, .bool, name) { (x: UInt8, y: UInt8) in x & y }
            default: return try map2(a, b, .bool, name) { (x: UInt8, y: UInt8) in x | y }
            }
        }
    }

    private func floatBinary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer, _ name: String) throws -> Buffer {
        guard operation != .logicalAnd, operation != .logicalOr else {
            throw BackendError.unsupportedDType(operation: name, dtype: .float32, reason: "expected bool")
        }
        return try map2(a, b, .float32, name) { (x: Float, y: Float) in operation(x, y) }
    }

    /// Integer arithmetic wraps on overflow; division and remainder by zero give 0.
    private func integerBinary<T: FixedWidthInteger>(
        _ operation: BinaryOperation, _ a: Buffer, _ b: Buffer, _ name: String, _ type: T.Type
    ) throws -> Buffer {
        let dtype = a.dtype
        switch operation {
        case .add: return try map2(a, b, dtype, name) { (x: T, y: T) in x &+ y }
        case .subtract: return try map2(a, b, dtype, name) { (x: T, y: T) in x &- y }
        case .multiply: return try map2(a, b, dtype, name) { (x: T, y: T) in x &* y }
        case .divide:
            return try map2(a, b, dtype, name) { (x: T, y: T) in
                y == 0 ? 0 : x.dividedReportingOverflow(by: y).partialValue
            }
        case .remainder:
            return try map2(a, b, dtype, name) { (x: T, y: T) in
                y == 0 ? 0 : x.remainderReportingOverflow(dividingBy: y).partialValue
            }
        case .maximum: return try map2(a, b, dtype, name) { (x: T, y: T) in Swift.max(x, y) }
        case .minimum: return try map2(a, b, dtype, name) { (x: T, y: T) in Swift.min(x, y) }
        case .power, .logicalAnd, .logicalOr:
            throw BackendError.unsupportedDType(operation: name, dtype: dtype, reason: "not defined for this dtype")
        }
    }

    public func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "compare(\(operation.rawValue))"
        switch a.dtype {
        case .float32: return try compareTyped(operation, a, b, name, Float.self)
        case .bfloat16: throw BackendError.computedInFloat32(name)
        case .int32: return try compareTyped(operation, a, b, name, Int32.self)
        case .uint32: return try compareTyped(operation, a, b, name, UInt32.self)
        case .bool: return try compareTyped(operation, a, b, name, UInt8.self)
        }
    }

    private func compareTyped<T: Comparable>(
        _ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer, _ name: String, _ type: T.Type
    ) throws -> Buffer {
        switch operation {
        case .equal: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x == y ? 1 : 0 }
        case .notEqual: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x != y ? 1 : 0 }
        case .less: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x < y ? 1 : 0 }
        case .lessEqual: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x <= y ? 1 : 0 }
        case .greater: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x > y ? 1 : 0 }
        case .greaterEqual: return try map2(a, b, .bool, name) { (x: T, y: T) -> UInt8 in x >= y ? 1 : 0 }
        }
    }

    public func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        let shape = try Shape.broadcast(
            Shape.broadcast(condition.shape, onTrue.shape, operation: "select"), onFalse.shape, operation: "select")
        let mask = try condition.hostView("select").elements(UInt8.self)
        return try withRawElements(onTrue.dtype) { (type: UInt32.Type) in
            try selectTyped(mask, condition.shape, onTrue, onFalse, shape, type)
        } bytes: { type in
            try selectTyped(mask, condition.shape, onTrue, onFalse, shape, type)
        }
    }

    private func selectTyped<T>(
        _ mask: UnsafeMutableBufferPointer<UInt8>, _ maskShape: Shape, _ onTrue: Buffer, _ onFalse: Buffer,
        _ shape: Shape, _ type: T.Type
    ) throws -> Buffer {
        let t = try onTrue.hostView("select").elements(T.self)
        let f = try onFalse.hostView("select").elements(T.self)
        // The common case (a full mask choosing between full tensors or scalars) is a flat loop.
        let (trueFull, falseFull) = (onTrue.shape == shape, onFalse.shape == shape)
        let flat = maskShape == shape && (trueFull || t.count == 1) && (falseFull || f.count == 1)
        return makeBuffer(shape, onTrue.dtype, as: T.self) { out in
            if flat {
                for index in 0..<out.count { out[index] = mask[index] != 0 ? t[trueFull ? index : 0] : f[falseFull ? index : 0] }
                return
            }
            forEachElement(
                shape, maskShape.broadcastStrides(to: shape), onTrue.shape.broadcastStrides(to: shape),
                onFalse.shape.broadcastStrides(to: shape)
            ) { index, m, a, b in
                out[index] = mask[m] != 0 ? t[a] : f[b]
            }
        }
    }

    /// Casts by the specification, `HostElements.converted(to:)`; between float32 and bfloat16
    /// (every step of a mixed-precision model) in one pass over the elements.
    public func cast(_ x: Buffer, to dtype: DType) throws -> Buffer {
        if x.dtype == dtype { return x }
        switch (x.dtype, dtype) {
        case (.float32, .bfloat16):
            let input = try x.hostView("cast").elements(Float.self)
            return makeBuffer(x.shape, dtype, as: BFloat16.self) { out in
                for index in 0..<out.count { out[index] = BFloat16(input[index]) }
            }
        case (.bfloat16, .float32):
            let input = try x.hostView("cast").elements(BFloat16.self)
            return makeBuffer(x.shape, dtype, as: Float.self) { out in
                for index in 0..<out.count { out[index] = input[index].float }
            }
        default:
            return try upload(HostArray(shape: x.shape, elements: download(x).elements.converted(to: dtype)))
        }
    }

    /// Applies `body` to every element of `x`.
    func map1<T, R>(_ x: Buffer, _ dtype: DType, _ body: (T) -> R) throws -> Buffer {
        let input = try x.hostView("unary").elements(T.self)
        return makeBuffer(x.shape, dtype, as: R.self) { out in
            for index in 0..<input.count { out[index] = body(input[index]) }
        }
    }

    /// Applies `body` to every pair of broadcast elements of `a` and `b`.
    func map2<T, R>(_ a: Buffer, _ b: Buffer, _ dtype: DType, _ name: String, _ body: (T, T) -> R) throws -> Buffer {
        let shape = try Shape.broadcast(a.shape, b.shape, operation: name)
        let left = try a.hostView(name).elements(T.self)
        let right = try b.hostView(name).elements(T.self)
        return makeBuffer(shape, dtype, as: R.self) { out in
            if a.shape == shape && b.shape == shape {
                for index in 0..<out.count { out[index] = body(left[index], right[index]) }
            } else if b.shape.elementCount == 1 && a.shape.elementCount == shape.elementCount {
                let y = right[0]
                for index in 0..<out.count { out[index] = body(left[index], y) }
            } else {
                forEachElement(shape, a.shape.broadcastStrides(to: shape), b.shape.broadcastStrides(to: shape)) {
                    index, i, j, _ in out[index] = body(left[i], right[j])
                }
            }
        }
    }
}

/// Calls `words` for 4-byte dtypes and `bytes` for 1-byte ones, so layout code moves raw
/// elements without caring what they mean.
func withRawElements<R>(
    _ dtype: DType, words: (UInt32.Type) throws -> R, bytes: (UInt8.Type) throws -> R
) rethrows -> R {
    dtype.byteSize == 4 ? try words(UInt32.self) : try bytes(UInt8.self)
}
