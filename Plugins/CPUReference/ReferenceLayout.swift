import Backend

extension ReferenceBackend {
    public func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer {
        let outShape = try ShapeRules.permute(x.shape, permutation)
        let inStrides = x.shape.strides
        return try copyElements(x, outShape, "permute") { visit in
            forEachElement(outShape, permutation.map { inStrides[$0] }) { o, i, _, _ in visit(o, i) }
        }
    }

    public func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer {
        let outShape = try ShapeRules.slice(x.shape, starts: starts, limits: limits, strides: strides)
        let inStrides = x.shape.strides
        let base = zip(starts, inStrides).reduce(0) { $0 + $1.0 * $1.1 }
        let steps = zip(strides, inStrides).map { $0 * $1 }
        return try copyElements(x, outShape, "slice") { visit in
            forEachElement(outShape, steps) { o, i, _, _ in visit(o, base + i) }
        }
    }

    public func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer {
        let outShape = try ShapeRules.pad(x.shape, padding: padding)
        let filled = try full(value, shape: outShape, dtype: x.dtype)
        let outStrides = outShape.strides
        let base = zip(padding, outStrides).reduce(0) { $0 + $1.0.low * $1.1 }
        try scatterElements(x, into: filled, "pad") { visit in
            forEachElement(x.shape, outStrides) { i, o, _, _ in visit(base + o, i) }
        }
        return filled
    }

    public func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer {
        let (outShape, resolved) = try ShapeRules.concatenate(xs.map(\.shape), axis: axis)
        let dtype = xs[0].dtype
        let out = try full(0, shape: outShape, dtype: dtype)
        let inner = outShape.dimensions[(resolved + 1)...].reduce(1, *)
        let outer = outShape.dimensions[..<resolved].reduce(1, *)
        let outRow = outShape[resolved] * inner
        var start = 0
        for x in xs {
            let row = x.shape[resolved] * inner
            let offset = start
            try scatterElements(x, into: out, "concatenate") { visit in
                for o in 0..<outer {
                    for j in 0..<row { visit(o * outRow + offset + j, o * row + j) }
                }
            }
            start += row
        }
        return out
    }

    public func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer {
        try ShapeRules.broadcast(x.shape, to: shape)
        if x.shape == shape { return x }
        return try copyElements(x, shape, "broadcast") { visit in
            forEachElement(shape, x.shape.broadcastStrides(to: shape)) { o, i, _, _ in visit(o, i) }
        }
    }

    public func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer {
        let (outShape, resolved) = try ShapeRules.gather(x.shape, indices: indices.shape, axis: axis)
        let positions = try checkedIndices(indices, size: x.shape[resolved], "gather")
        let inner = x.shape.dimensions[(resolved + 1)...].reduce(1, *)
        let outer = x.shape.dimensions[..<resolved].reduce(1, *)
        let length = x.shape[resolved]
        return try copyElements(x, outShape, "gather") { visit in
            for o in 0..<outer {
                for (j, position) in positions.enumerated() {
                    for i in 0..<inner {
                        visit((o * positions.count + j) * inner + i, (o * length + position) * inner + i)
                    }
                }
            }
        }
    }

    public func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        let (outShape, resolved) = try ShapeRules.scatterAdd(
            updates: updates.shape, indices: indices.shape, axis: axis, dimensionSize: dimensionSize)
        let positions = try checkedIndices(indices, size: dimensionSize, "scatterAdd")
        let source = try updates.floats("scatterAdd")
        let inner = outShape.dimensions[(resolved + 1)...].reduce(1, *)
        let outer = outShape.dimensions[..<resolved].reduce(1, *)
        return makeBuffer(outShape, .float32, as: Float.self) { out in
            out.initialize(repeating: 0)
            for o in 0..<outer {
                for (j, position) in positions.enumerated() {
                    for i in 0..<inner {
                        out[(o * dimensionSize + position) * inner + i] += source[(o * positions.count + j) * inner + i]
                    }
                }
            }
        }
    }

    public func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer {
        let resolved = try shape.normalizedAxis(axis, operation: "iota")
        let strides = shape.strides
        let values = (0..<shape.elementCount).map { Double(($0 / strides[resolved]) % shape[resolved]) }
        switch dtype {
        case .float32: return try upload(HostArray(shape: shape, elements: .float32(values.map { Float($0) })))
        case .bfloat16: return try upload(HostArray(shape: shape, elements: .bfloat16(values.map { BFloat16($0) })))
        case .int32: return try upload(HostArray(shape: shape, elements: .int32(values.map { Int32($0) })))
        case .uint32: return try upload(HostArray(shape: shape, elements: .uint32(values.map { UInt32($0) })))
        case .bool:
            throw BackendError.unsupportedDType(operation: "iota", dtype: .bool, reason: "expected a numeric dtype")
        }
    }

    private func checkedIndices(_ indices: Buffer, size: Int, _ operation: String) throws -> [Int] {
        try indices.hostView(operation).elements(Int32.self).map { index in
            guard index >= 0, Int(index) < size else {
                throw BackendError.indexOutOfRange(operation: operation, index: Int(index), size: size)
            }
            return Int(index)
        }
    }

    /// A new buffer of `shape` whose element `o` is `x`'s element `i` for each `visit(o, i)`.
    private func copyElements(
        _ x: Buffer, _ shape: Shape, _ operation: String, _ plan: ((Int, Int) -> Void) -> Void
    ) throws -> Buffer {
        let storage = try x.hostView(operation)
        return withRawElements(x.dtype) { type in
            let source = storage.elements(type)
            return makeBuffer(shape, x.dtype, as: type) { out in plan { out[$0] = source[$1] } }
        } bytes: { type in
            let source = storage.elements(type)
            return makeBuffer(shape, x.dtype, as: type) { out in plan { out[$0] = source[$1] } }
        }
    }

    /// Writes `x`'s element `i` into `target`'s element `o` for each `visit(o, i)`; `target`
    /// must be a buffer this backend just created and nobody else holds.
    private func scatterElements(
        _ x: Buffer, into target: Buffer, _ operation: String, _ plan: ((Int, Int) -> Void) -> Void
    ) throws {
        let source = try x.hostView(operation), destination = try target.hostView(operation)
        withRawElements(x.dtype) { type in
            let (from, to) = (source.elements(type), destination.elements(type))
            plan { to[$0] = from[$1] }
        } bytes: { type in
            let (from, to) = (source.elements(type), destination.elements(type))
            plan { to[$0] = from[$1] }
        }
    }
}
