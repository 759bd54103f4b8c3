import Backend

extension Tensor {
    /// The same elements in `shape`; one dimension may be -1 and is then inferred.
    public func reshaped(to shape: Shape) throws -> Tensor {
        let target = try resolvedShape(shape)
        if target == self.shape { return self }
        return try Tensor.make("reshape", [self], { backend, b in try backend.reshape(b[0], to: target) }) { g, x, _ in
            [try g.reshaped(to: x[0].shape)]
        }
    }

    private func resolvedShape(_ shape: Shape) throws -> Shape {
        let unknown = shape.dimensions.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1 else {
            throw BackendError.invalidArgument(operation: "reshape", reason: "at most one dimension may be -1, got \(shape)")
        }
        guard let axis = unknown.first else { return shape }
        let known = Shape(shape.dimensions.enumerated().filter { $0.offset != axis }.map(\.element)).checkedElementCount ?? 0
        guard known > 0, count % known == 0 else {
            throw BackendError.shapeMismatch(operation: "reshape", reason: "cannot reshape \(self.shape) to \(shape)")
        }
        var resolved = shape
        resolved[axis] = count / known
        return resolved
    }

    /// Reorders axes: output axis `i` is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) throws -> Tensor {
        try Tensor.make("permute", [self], { backend, b in try backend.permute(b[0], permutation) }) { g, _, _ in
            var inverse = [Int](repeating: 0, count: permutation.count)
            for (index, axis) in permutation.enumerated() { inverse[axis] = index }
            return [try g.permuted(inverse)]
        }
    }

    /// Swaps the last two axes (a matrix transpose for rank 2).
    public func transposed() throws -> Tensor {
        guard rank >= 2 else {
            throw BackendError.shapeMismatch(operation: "transposed", reason: "needs rank ≥ 2, got \(shape)")
        }
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return try permuted(permutation)
    }

    /// Elements `starts[i] ..< limits[i]` at step `strides[i]` (default 1) along every axis.
    public func sliced(starts: [Int], limits: [Int], strides: [Int]? = nil) throws -> Tensor {
        let strides = strides ?? [Int](repeating: 1, count: rank)
        return try Tensor.make("slice", [self], { backend, b in
            try backend.slice(b[0], starts: starts, limits: limits, strides: strides)
        }) { g, x, _ in
            let inputShape = x[0].shape
            if strides.allSatisfy({ $0 == 1 }) {
                let padding = (0..<inputShape.rank).map { Padding(starts[$0], inputShape[$0] - limits[$0]) }
                return [try g.padded(padding)]
            }
            // Strided slices scatter the gradient back one axis at a time.
            var result = g
            for axis in 0..<inputShape.rank where result.shape[axis] != inputShape[axis] {
                let positions = (0..<result.shape[axis]).map { Int32(starts[axis] + $0 * strides[axis]) }
                let indices = try Tensor(integers: positions, shape: [positions.count], on: g.backend)
                result = try result.scatterAdd(indices: indices, axis: axis, dimensionSize: inputShape[axis])
            }
            return [result]
        }
    }

    /// Elements `range` along `axis`, everything along the other axes.
    public func sliced(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let resolved = try shape.normalizedAxis(axis, operation: "slice")
        var starts = [Int](repeating: 0, count: rank), limits = shape.dimensions
        starts[resolved] = range.lowerBound
        limits[resolved] = range.upperBound
        return try sliced(starts: starts, limits: limits)
    }

    /// Pads every axis with `value`.
    public func padded(_ padding: [Padding], value: Float = 0) throws -> Tensor {
        try Tensor.make("pad", [self], { backend, b in try backend.pad(b[0], padding: padding, value: Double(value)) }) {
            g, x, _ in
            let shape = x[0].shape
            return [try g.sliced(
                starts: padding.map(\.low), limits: (0..<shape.rank).map { padding[$0].low + shape[$0] })]
        }
    }

    /// Joins tensors along `axis`.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        try Tensor.make("concatenate", tensors, { backend, b in try backend.concatenate(b, axis: axis) }) { g, x, _ in
            let resolved = try g.shape.normalizedAxis(axis, operation: "concatenate")
            var start = 0
            return try x.map { input in
                defer { start += input.shape[resolved] }
                return try g.sliced(axis: resolved, start..<(start + input.shape[resolved]))
            }
        }
    }

    /// Broadcasts to `shape` by NumPy's rules.
    public func broadcast(to target: Shape) throws -> Tensor {
        if target == shape { return self }
        return try Tensor.make("broadcast", [self], { backend, b in try backend.broadcast(b[0], to: target) }) { g, x, _ in
            [try g.summed(toShape: x[0].shape)]
        }
    }

    /// Slices along `axis` at `int32` `indices`.
    public func gather(indices: Tensor, axis: Int) throws -> Tensor {
        let indexValues = indices.detached()
        return try Tensor.make("gather", [self, indexValues], { backend, b in
            try backend.gather(b[0], indices: b[1], axis: axis)
        }) { g, x, _ in
            let resolved = try x[0].shape.normalizedAxis(axis, operation: "gather")
            return [try g.scatterAdd(indices: indexValues, axis: resolved, dimensionSize: x[0].shape[resolved]), nil]
        }
    }

    /// The adjoint of ``gather(indices:axis:)``: adds slices into a zero tensor at `indices`.
    public func scatterAdd(indices: Tensor, axis: Int, dimensionSize: Int) throws -> Tensor {
        let indexValues = indices.detached()
        return try Tensor.make("scatterAdd", [self, indexValues], { backend, b in
            try backend.scatterAdd(b[0], indices: b[1], axis: axis, dimensionSize: dimensionSize)
        }) { g, _, _ in
            [try g.gather(indices: indexValues, axis: axis), nil]
        }
    }
}
