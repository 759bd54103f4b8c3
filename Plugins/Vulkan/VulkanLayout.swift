#if Vulkan
import Backend

extension VulkanBackend {
    public func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer {
        let shape = try ShapeRules.permute(x.shape, permutation)
        let strides = x.shape.strides
        let output = try makeBuffer(shape, x.dtype)
        try copy(x, into: output, shape: shape, source: (0, permutation.map { strides[$0] }), target: (0, shape.strides), "permute")
        return output
    }

    public func slice(_ x: Buffer, starts: [Int], limits: [Int], strides steps: [Int]) throws -> Buffer {
        let shape = try ShapeRules.slice(x.shape, starts: starts, limits: limits, strides: steps)
        let strides = x.shape.strides
        let offset = zip(starts, strides).reduce(0) { $0 + $1.0 * $1.1 }
        let output = try makeBuffer(shape, x.dtype)
        try copy(x, into: output, shape: shape, source: (offset, zip(steps, strides).map { $0 * $1 }), target: (0, shape.strides), "slice")
        return output
    }

    public func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer {
        let shape = try ShapeRules.pad(x.shape, padding: padding)
        let output = try full(value, shape: shape, dtype: x.dtype)
        let strides = shape.strides
        let offset = zip(padding, strides).reduce(0) { $0 + $1.0.low * $1.1 }
        try copy(x, into: output, shape: x.shape, source: (0, x.shape.strides), target: (offset, strides), "pad")
        return output
    }

    public func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer {
        let (shape, resolved) = try ShapeRules.concatenate(xs.map(\.shape), axis: axis)
        let output = try makeBuffer(shape, xs[0].dtype)
        let strides = shape.strides
        var start = 0
        for x in xs {
            try copy(x, into: output, shape: x.shape, source: (0, x.shape.strides), target: (start * strides[resolved], strides), "concatenate")
            start += x.shape[resolved]
        }
        return output
    }

    public func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer {
        try ShapeRules.broadcast(x.shape, to: shape)
        if x.shape == shape { return x }
        let output = try makeBuffer(shape, x.dtype)
        try copy(x, into: output, shape: shape, source: (0, x.shape.broadcastStrides(to: shape)), target: (0, shape.strides), "broadcast")
        return output
    }

    public func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer {
        let (shape, resolved) = try ShapeRules.gather(x.shape, indices: indices.shape, axis: axis)
        _ = try checkIndices(indices, size: x.shape[resolved], "gather")
        let output = try makeBuffer(shape, x.dtype)
        let count = shape.elementCount
        guard count > 0 else { return output }
        let inner = x.shape.dimensions[(resolved + 1)...].reduce(1, *)
        try run(
            "gather", inputs: [x, indices], outputs: [output],
            push: [UInt32(count), UInt32(inner), UInt32(indices.shape.elementCount), UInt32(x.shape[resolved])],
            groups: elementGroups(count))
        return output
    }

    public func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        let (shape, resolved) = try ShapeRules.scatterAdd(
            updates: updates.shape, indices: indices.shape, axis: axis, dimensionSize: dimensionSize)
        let positions = try checkIndices(indices, size: dimensionSize, "scatterAdd")
        let output = try makeBuffer(shape, .float32)
        let count = shape.elementCount
        guard count > 0 else { return output }
        // The update slices grouped by the position they add into, in index order (a counting
        // sort), so each output element visits only its own updates.
        var starts = [UInt32](repeating: 0, count: dimensionSize + 1)
        for position in positions { starts[Int(position) + 1] += 1 }
        for position in 0..<dimensionSize { starts[position + 1] += starts[position] }
        var next = Array(starts.dropLast())
        var order = [UInt32](repeating: 0, count: Swift.max(positions.count, 1))
        for (slice, position) in positions.enumerated() {
            order[Int(next[Int(position)])] = UInt32(slice)
            next[Int(position)] += 1
        }
        let inner = shape.dimensions[(resolved + 1)...].reduce(1, *)
        try run(
            "scatter_add",
            inputs: [
                updates, try upload(HostArray(shape: [starts.count], elements: .uint32(starts))),
                try upload(HostArray(shape: [order.count], elements: .uint32(order))),
            ],
            outputs: [output],
            push: [UInt32(count), UInt32(inner), UInt32(positions.count), UInt32(dimensionSize)],
            groups: elementGroups(count))
        return output
    }

    public func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer {
        let resolved = try shape.normalizedAxis(axis, operation: "iota")
        guard dtype != .bool else {
            throw BackendError.unsupportedDType(operation: "iota", dtype: .bool, reason: "expected a numeric dtype")
        }
        let output = try makeBuffer(shape, dtype)
        let count = shape.elementCount
        guard count > 0 else { return output }
        try run(
            "iota", constants: [dtype.shaderKind], outputs: [output],
            push: [UInt32(count), UInt32(shape.strides[resolved]), UInt32(shape[resolved])], groups: elementGroups(count))
        return output
    }

    /// Copies the elements of `x` at `source` (offset and strides over `shape`) into `output` at
    /// `target`. `output` must be a buffer this backend just created.
    func copy(
        _ x: Buffer, into output: Buffer, shape: Shape, source: (Int, [Int]), target: (Int, [Int]), _ name: String
    ) throws {
        let count = shape.elementCount
        guard count > 0 else { return }
        let words = try StridedLayout(shape, strides: [source.1, target.1]).pushWords(operation: name)
        try run(
            "copy", inputs: [x], outputs: [output],
            push: [UInt32(count), words[0], UInt32(source.0), UInt32(target.0)] + words.dropFirst(), groups: elementGroups(count))
    }

    /// Gather and scatter indices are checked on the host, so a bad index is a thrown error
    /// rather than an out-of-bounds read; this waits for the work that produces them.
    private func checkIndices(_ indices: Buffer, size: Int, _ operation: String) throws -> [Int32] {
        guard case let .int32(values) = try download(indices).elements else { return [] }
        if let bad = values.first(where: { $0 < 0 || Int($0) >= size }) {
            throw BackendError.indexOutOfRange(operation: operation, index: Int(bad), size: size)
        }
        return values
    }
}
#endif
