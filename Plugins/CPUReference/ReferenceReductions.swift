import Backend

extension ReferenceBackend {
    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        let name = "reduce(\(operation.rawValue))"
        let (outShape, resolved) = try ShapeRules.reduction(x.shape, axes: axes, keepDimensions: keepDimensions, operation: name)
        let keptShape = try ShapeRules.reduction(x.shape, axes: resolved, keepDimensions: true, operation: name).shape
        // Reading the kept-dimension output with broadcast strides maps each input element to
        // the output element it reduces into.
        let outStrides = keptShape.broadcastStrides(to: x.shape)
        let groupSize = resolved.reduce(1) { $0 * x.shape[$1] }
        switch x.dtype {
        case .float32:
            let input = try x.floats(name)
            let accumulated = accumulate(operation, x.shape, outStrides, keptShape.elementCount) { Double(input[$0]) }
            return makeBuffer(outShape, .float32, as: Float.self) { out in
                for index in 0..<out.count {
                    out[index] = Float(operation == .mean ? accumulated[index] / Double(groupSize) : accumulated[index])
                }
            }
        case .int32, .uint32:
            guard operation != .mean else {
                throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "mean needs float32")
            }
            let isSigned = x.dtype == .int32
            let storage = try x.hostView(name)
            let signed = storage.elements(Int32.self)
            let unsigned = storage.elements(UInt32.self)
            let accumulated = accumulate(operation, x.shape, outStrides, keptShape.elementCount) {
                isSigned ? Double(signed[$0]) : Double(unsigned[$0])
            }
            return try upload(HostArray(
                shape: outShape,
                elements: isSigned
                    ? .int32(accumulated.map { Int32(truncatingIfNeeded: Self.wrappingInteger($0)) })
                    : .uint32(accumulated.map { UInt32(truncatingIfNeeded: Self.wrappingInteger($0)) })))
        case .bfloat16:
            throw BackendError.computedInFloat32(name)
        case .bool:
            throw BackendError.unsupportedDType(operation: name, dtype: .bool, reason: "expected a numeric dtype")
        }
    }

    /// Folds every element into its output slot in double precision.
    private func accumulate(
        _ operation: ReductionOperation, _ shape: Shape, _ outStrides: [Int], _ outCount: Int,
        _ value: (Int) -> Double
    ) -> [Double] {
        let initial: Double
        switch operation {
        case .sum, .mean: initial = 0
        case .product: initial = 1
        case .max: initial = -.infinity
        case .min: initial = .infinity
        }
        var result = [Double](repeating: initial, count: outCount)
        // Sums over leading axes (bias and batch-statistics gradients) are a flat loop: input
        // element i lands in output i mod outCount.
        let leading = outStrides.prefix { $0 == 0 }.count
        if operation == .sum || operation == .mean, outCount > 0,
            Shape(Array(shape.dimensions[leading...])).elementCount == outCount, outStrides[leading...].allSatisfy({ $0 != 0 }) || leading == shape.rank
        {
            result.withUnsafeMutableBufferPointer { out in
                var base = 0
                while base < shape.elementCount {
                    for j in 0..<outCount { out[j] += value(base + j) }
                    base += outCount
                }
            }
            return result
        }
        result.withUnsafeMutableBufferPointer { out in
            forEachElement(shape, shape.strides, outStrides) { _, i, o, _ in
                let v = value(i)
                switch operation {
                case .sum, .mean: out[o] += v
                case .product: out[o] *= v
                case .max: out[o] = v.isNaN || out[o].isNaN ? .nan : Swift.max(out[o], v)
                case .min: out[o] = v.isNaN || out[o].isNaN ? .nan : Swift.min(out[o], v)
                }
            }
        }
        return result
    }

    /// An integer accumulated in `Double` as the two's-complement integer it wraps to, so a
    /// sum or product beyond 64 bits does not trap (it keeps only the bits `Double` holds).
    static func wrappingInteger(_ value: Double) -> Int64 {
        guard value.isFinite else { return 0 }
        if let exact = Int64(exactly: value.rounded(.towardZero)) { return exact }
        let modulus = 18_446_744_073_709_551_616.0  // 2⁶⁴
        let reduced = value.truncatingRemainder(dividingBy: modulus)
        return Int64(exactly: reduced) ?? Int64(bitPattern: UInt64(reduced < 0 ? reduced + modulus : reduced))
    }

    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        let name = operation.rawValue
        let input = try x.floats(name)
        let resolved = try x.shape.normalizedAxis(axis, operation: name)
        let outShape = try ShapeRules.reduction(x.shape, axes: [resolved], keepDimensions: keepDimensions, operation: name).shape
        let length = x.shape[resolved]
        let inner = x.shape.dimensions[(resolved + 1)...].reduce(1, *)
        let outer = x.shape.dimensions[..<resolved].reduce(1, *)
        return makeBuffer(outShape, .int32, as: Int32.self) { out in
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var best = 0
                    var bestValue = input[base]
                    // NaN wins (and the first NaN is kept), as in NumPy.
                    for j in 1..<max(length, 1) where !bestValue.isNaN {
                        let v = input[base + j * inner]
                        let better = operation == .argmax ? v > bestValue : v < bestValue
                        if better || v.isNaN {
                            best = j
                            bestValue = v
                        }
                    }
                    out[o * inner + i] = Int32(best)
                }
            }
        }
    }
}
