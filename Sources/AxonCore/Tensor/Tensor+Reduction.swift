import Backend

extension Tensor {
    /// Reduces over `axes` (all axes when `nil`).
    public func reduce(_ operation: ReductionOperation, axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        let axes = axes ?? Array(0..<rank)
        let (keptShape, resolved) = try ShapeRules.reduction(
            shape, axes: axes, keepDimensions: true, operation: "reduce(\(operation.rawValue))")
        let count = Float(resolved.reduce(1) { $0 * shape[$1] })
        return try Tensor.make(operation.rawValue, [self], { backend, b in
            try backend.reduce(operation, b[0], axes: resolved, keepDimensions: keepDimensions)
        }) { g, x, y in
            let gradient = try g.reshaped(to: keptShape)
            switch operation {
            case .sum:
                return [try gradient.broadcast(to: x[0].shape)]
            case .mean:
                return [try (gradient / count).broadcast(to: x[0].shape)]
            case .product:
                // d(∏x)/dxᵢ = ∏x / xᵢ; undefined where an element is 0.
                return [try gradient * y.reshaped(to: keptShape) / x[0]]
            case .max, .min:
                // Ties share the gradient equally.
                let hits = try x[0].compare(.equal, y.reshaped(to: keptShape)).cast(to: .float32)
                let ties = try hits.reduce(.sum, axes: resolved, keepDimensions: true)
                return [try gradient * hits / ties]
            }
        }
    }

    /// The sum over `axes` (all when `nil`), keeping them as size-1 dimensions when `keepDimensions`.
    public func sum(axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        try reduce(.sum, axes: axes, keepDimensions: keepDimensions)
    }

    /// The mean over `axes` (all when `nil`), keeping them as size-1 dimensions when `keepDimensions`.
    public func mean(axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        try reduce(.mean, axes: axes, keepDimensions: keepDimensions)
    }

    /// The maximum over `axes` (all when `nil`); the gradient goes to every maximal element equally.
    public func max(axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        try reduce(.max, axes: axes, keepDimensions: keepDimensions)
    }

    /// The minimum over `axes` (all when `nil`); the gradient goes to every minimal element equally.
    public func min(axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        try reduce(.min, axes: axes, keepDimensions: keepDimensions)
    }

    /// The product over `axes` (all when `nil`).
    public func product(axes: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        try reduce(.product, axes: axes, keepDimensions: keepDimensions)
    }

    /// The `int32` index of the largest element along `axis` (the first on ties).
    public func argmax(axis: Int = -1, keepDimensions: Bool = false) throws -> Tensor {
        try Tensor.computed("argmax", [self]) { backend, b in try backend.indexReduce(.argmax, b[0], axis: axis, keepDimensions: keepDimensions) }
    }

    /// The `int32` index of the smallest element along `axis` (the first on ties).
    public func argmin(axis: Int = -1, keepDimensions: Bool = false) throws -> Tensor {
        try Tensor.computed("argmin", [self]) { backend, b in try backend.indexReduce(.argmin, b[0], axis: axis, keepDimensions: keepDimensions) }
    }

    /// Sums over the axes along which `shape` was broadcast to this tensor's shape.
    public func summed(toShape target: Shape) throws -> Tensor {
        if shape == target { return self }
        return try Tensor.make("sum(toShape:)", [self], { backend, b in try backend.sum(b[0], toShape: target) }) {
            g, x, _ in [try g.broadcast(to: x[0].shape)]
        }
    }
}
