// The front door's checks for layout, indexing and random bits.

extension CheckedBackend {
    public func reshape(_ x: Buffer, to shape: Shape) throws -> Buffer {
        try requireOwned([x], "reshape")
        try requireValidShape(shape, "reshape")
        try ShapeRules.checkReshape(x.shape, to: shape)
        return try implementation.reshape(x, to: shape)
    }

    public func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer {
        try requireOwned([x], "permute")
        _ = try ShapeRules.permute(x.shape, permutation)
        if let wide = widening(.layout, [x]) { return try wide.narrow(permute(wide(x), permutation)) }
        return try implementation.permute(x, permutation)
    }

    public func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer {
        try requireOwned([x], "slice")
        _ = try ShapeRules.slice(x.shape, starts: starts, limits: limits, strides: strides)
        if let wide = widening(.layout, [x]) { return try wide.narrow(slice(wide(x), starts: starts, limits: limits, strides: strides)) }
        return try implementation.slice(x, starts: starts, limits: limits, strides: strides)
    }

    public func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer {
        try requireOwned([x], "pad")
        try requireAllocatable(ShapeRules.pad(x.shape, padding: padding), x.dtype, "pad")
        if let wide = widening(.layout, [x]) { return try wide.narrow(pad(wide(x), padding: padding, value: value)) }
        return try implementation.pad(x, padding: padding, value: value)
    }

    public func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer {
        try requireOwned(xs, "concatenate")
        let shape = try ShapeRules.concatenate(xs.map(\.shape), axis: axis).shape
        for x in xs { try ShapeRules.requireSameDType(xs[0], x, operation: "concatenate") }
        try requireAllocatable(shape, xs[0].dtype, "concatenate")
        if let wide = widening(.layout, xs) { return try wide.narrow(concatenate(xs.map { try wide($0) }, axis: axis)) }
        return try implementation.concatenate(xs, axis: axis)
    }

    public func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer {
        try requireOwned([x], "broadcast")
        try requireValidShape(shape, "broadcast")
        try ShapeRules.broadcast(x.shape, to: shape)
        try requireAllocatable(shape, x.dtype, "broadcast")
        if let wide = widening(.layout, [x]) { return try wide.narrow(broadcast(wide(x), to: shape)) }
        return try implementation.broadcast(x, to: shape)
    }

    public func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer {
        try requireOwned([x, indices], "gather")
        try ShapeRules.requireDType(indices, [.int32], operation: "gather")
        let shape = try ShapeRules.gather(x.shape, indices: indices.shape, axis: axis).shape
        try requireAllocatable(shape, x.dtype, "gather")
        if let wide = widening(.layout, [x]) { return try wide.narrow(gather(wide(x), indices: indices, axis: axis)) }
        return try implementation.gather(x, indices: indices, axis: axis)
    }

    public func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        try requireOwned([updates, indices], "scatterAdd")
        try ShapeRules.requireDType(indices, [.int32], operation: "scatterAdd")
        try requireFloat([updates], "scatterAdd")
        let shape = try ShapeRules.scatterAdd(
            updates: updates.shape, indices: indices.shape, axis: axis, dimensionSize: dimensionSize).shape
        try requireAllocatable(shape, .float32, "scatterAdd")
        if let wide = widening(.layout, [updates]) {
            return try wide.narrow(scatterAdd(wide(updates), indices: indices, axis: axis, dimensionSize: dimensionSize))
        }
        return try implementation.scatterAdd(updates, indices: indices, axis: axis, dimensionSize: dimensionSize)
    }

    public func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer {
        guard dtype.isNumeric else {
            throw BackendError.unsupportedDType(operation: "iota", dtype: dtype, reason: "expected a numeric dtype")
        }
        try requireAllocatable(shape, dtype, "iota")
        _ = try shape.normalizedAxis(axis, operation: "iota")
        if dtype == .bfloat16, !nativeOperations.bfloat16.contains(.layout) {
            return try cast(iota(shape: shape, axis: axis, dtype: .float32), to: .bfloat16)
        }
        return try implementation.iota(shape: shape, axis: axis, dtype: dtype)
    }

    public func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        try requireAllocatable(shape, .uint32, "randomBits")
        return try implementation.randomBits(key: key, offset: offset, shape: shape)
    }
}
