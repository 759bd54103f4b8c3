import Backend

/// Reshapes every example, keeping the batch dimension.
struct ReshapeLayer: SerializableLayer {
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
struct TransposeLayer: SerializableLayer {
    let permutation: [Int]
    var kind: String { "transpose" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let input = inputs[0]
        guard input.count == permutation.count + 1, Set(permutation) == Set(0..<permutation.count) else {
            throw LayerError("\(permutation) is not a permutation of the \(Swift.max(input.count - 1, 0)) example axes of \(input.shapeDescription)")
        }
        return [input[0]] + permutation.map { input[$0 + 1] }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try inputs[0].permuted([0] + permutation.map { $0 + 1 })
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

extension Axon {
    /// Reshapes each example to `shape` (one entry may be -1); the batch dimension is kept.
    public func reshape(_ shape: [Int], name: String? = nil) -> Axon { apply(ReshapeLayer(shape: shape), name: name) }
    /// Flattens each example to one dimension.
    public func flatten(name: String? = nil) -> Axon { apply(FlattenLayer(), name: name) }
    /// Permutes the example axes (numbered from 0 after the batch axis).
    public func transpose(_ permutation: [Int], name: String? = nil) -> Axon { apply(TransposeLayer(permutation: permutation), name: name) }
    /// Pads the example axes with `value`.
    public func pad(_ padding: [Padding], value: Float = 0, name: String? = nil) -> Axon {
        apply(PadLayer(padding: padding, value: value), name: name)
    }
}
