import Backend

/// Reshapes every example, keeping the batch dimension.
struct ReshapeLayer: SerializableLayer, AxisNamingLayer {
    let shape: [Int]
    var kind: String { "reshape" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let input = inputs[0]
        guard let batch = input.first else { throw LayerError("needs an input with a batch dimension, got []") }
        let given = Array(input.dropFirst()).knownElementCount
        let inferred = shape.filter { $0 == -1 }.count
        // Dimensions are checked before their product, which must not overflow.
        let known = shape.allSatisfy({ $0 > 0 || $0 == -1 }) ? Shape(shape.filter { $0 != -1 }).checkedElementCount : nil
        guard inferred <= 1, let known, let given,
            inferred == 1 ? given % known == 0 : given == known
        else {
            throw LayerError("cannot reshape examples of shape \(Array(input.dropFirst()).shapeDescription) to \(shape)")
        }
        return [batch] + shape.map { $0 == -1 ? given / known : $0 }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try inputs[0].reshaped(to: Shape([inputs[0].shape[0]] + shape))
    }

    /// Axes keep their names only up to the first one the reshape changes, even when the rank
    /// stays: `[b, 6, 4]` to `[b, 4, 6]` is not a transpose.
    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        AxisNaming.leadingNames(inputs[0], output: output)
    }
}

/// Flattens every example to one dimension.
struct FlattenLayer: SerializableLayer {
    var kind: String { "flatten" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard let batch = inputs[0].first, let count = Array(inputs[0].dropFirst()).knownElementCount else {
            throw LayerError("needs a batch dimension and known example dimensions, got \(inputs[0].shapeDescription)")
        }
        return [batch, count]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try inputs[0].reshaped(to: [inputs[0].shape[0], -1])
    }
}

/// Permutes the axes of every example (the batch axis stays first).
struct TransposeLayer: SerializableLayer, NamedAxisLayer, AxisNamingLayer {
    let permutation: [Axis]
    var kind: String { "transpose" }

    func resolvingAxes(in inputs: [NamedShape]) throws -> TransposeLayer {
        TransposeLayer(permutation: try permutation.map { .index(try inputs[0].exampleAxis(of: $0)) })
    }

    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        guard !inputs[0].names.isEmpty else { return [] }
        return [inputs[0].name(0)] + (try permutation.map { inputs[0].name(try $0.position() + 1) })
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let permutation = try self.permutation.map { try $0.position() }
        let input = inputs[0]
        guard input.count == permutation.count + 1, Set(permutation) == Set(0..<permutation.count) else {
            throw LayerError("\(permutation) is not a permutation of the \(Swift.max(input.count - 1, 0)) example axes of \(input.shapeDescription)")
        }
        return [input[0]] + permutation.map { input[$0 + 1] }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try inputs[0].permuted([0] + permutation.map { try $0.position() + 1 })
    }
}

/// Pads the example axes with a constant.
struct PadLayer: SerializableLayer {
    let padding: [Padding]
    let value: Float
    var kind: String { "pad" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let input = inputs[0]
        guard input.count == padding.count + 1, padding.allSatisfy({ $0.low >= 0 && $0.high >= 0 }) else {
            throw LayerError("needs \(Swift.max(input.count - 1, 0)) non-negative (low, high) pairs for input \(input.shapeDescription), got \(padding.count)")
        }
        return [input[0]] + zip(input.dropFirst(), padding).map { size, pad in size.map { $0 + pad.low + pad.high } }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try inputs[0].padded([Padding(0, 0)] + padding, value: value)
    }
}

/// One position along an example axis, the axis dropped (NumPy's `take` with one index).
struct TakeLayer: SerializableLayer, NamedAxisLayer, AxisNamingLayer {
    let index: Int
    let axis: Axis
    var kind: String { "take" }

    func resolvingAxes(in inputs: [NamedShape]) throws -> TakeLayer {
        TakeLayer(index: index, axis: .index(try inputs[0].exampleAxis(of: axis)))
    }

    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        guard !inputs[0].names.isEmpty else { return [] }
        var names = inputs[0].names
        names.remove(at: try resolve(inputs[0].shape).axis)
        return names
    }

    /// The axis of an input of `rank` (from 1, after the batch axis) and the index within
    /// `size` (negative indices count from the end).
    func resolve(_ input: SymbolicShape) throws -> (axis: Int, index: Int) {
        let axis = try self.axis.position()
        let exampleAxes = input.count - 1
        let resolved = axis < 0 ? axis + exampleAxes : axis
        guard resolved >= 0, resolved < exampleAxes else {
            throw LayerError("axis \(axis) is not one of the \(exampleAxes) example axes of \(input.shapeDescription)")
        }
        guard let size = input[resolved + 1] else { throw LayerError("needs a known size along axis \(axis), got \(input.shapeDescription)") }
        let position = index < 0 ? index + size : index
        guard position >= 0, position < size else { throw LayerError("index \(index) is outside 0..<\(size) along axis \(axis)") }
        return (resolved + 1, position)
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        var shape = inputs[0]
        shape.remove(at: try resolve(inputs[0]).axis)
        return shape
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        let (axis, position) = try resolve(x.shape.dimensions.map { $0 })
        var dimensions = x.shape.dimensions
        dimensions.remove(at: axis)
        return try x.sliced(axis: axis, position..<(position + 1)).reshaped(to: Shape(dimensions))
    }
}

extension Axon {
    /// Position `index` (negative counts from the end) along example axis `axis` (numbered
    /// from 0 after the batch axis, negative from the last), that axis dropped: `[b, t, f]`
    /// with `take(-1, axis: 0)` gives the last step, `[b, f]`; a named axis (`axis: "time"`)
    /// is looked up among the input's axis names.
    public func take(_ index: Int, axis: Axis, name: String? = nil) -> Axon { apply(TakeLayer(index: index, axis: axis), name: name) }
    /// Reshapes each example to `shape` (one entry may be -1); the batch dimension is kept.
    public func reshape(_ shape: [Int], name: String? = nil) -> Axon { apply(ReshapeLayer(shape: shape), name: name) }
    /// Flattens each example to one dimension.
    public func flatten(name: String? = nil) -> Axon { apply(FlattenLayer(), name: name) }
    /// Permutes the example axes (numbered from 0 after the batch axis), or reorders them by
    /// name: `transpose(["features", "time"])` on `[batch, time, features]`.
    public func transpose(_ permutation: [Axis], name: String? = nil) -> Axon { apply(TransposeLayer(permutation: permutation), name: name) }
    /// Pads the example axes with `value`.
    public func pad(_ padding: [Padding], value: Float = 0, name: String? = nil) -> Axon {
        apply(PadLayer(padding: padding, value: value), name: name)
    }
}
