import Backend

/// Scaled dot-product attention over inputs `[query, key, value]` and an optional mask.
struct DotProductAttentionLayer: SerializableLayer {
    let scale: Float?
    let causal: Bool
    let dropout: Float
    let output: AttentionOutput
    var kind: String { "dot_product_attention" }

    enum AttentionOutput: Sendable, Codable { case values, weights }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (query, key, value) = (inputs[0], inputs[1], inputs[2])
        guard query.count >= 3, key.count == query.count, value.count == query.count else {
            throw LayerError("needs query, key and value of one rank ≥ 3 ([batch, ..., positions, features]), got \(query.shapeDescription), \(key.shapeDescription), \(value.shapeDescription)")
        }
        guard let d = query.last, let keyFeatures = key.last, d == keyFeatures else {
            throw LayerError("needs query \(query.shapeDescription) and key \(key.shapeDescription) with the same known feature dimension")
        }
        let keyPositions = key[key.count - 2]
        guard keyPositions == value[value.count - 2] || keyPositions == nil || value[value.count - 2] == nil else {
            throw LayerError("needs key \(key.shapeDescription) and value \(value.shapeDescription) with the same number of positions")
        }
        try Layers.checkAttentionDropout(dropout)
        let queries = Array(query.dropLast())
        let shape = output == .values ? queries + [value.last ?? nil] : queries + [keyPositions]
        if inputs.count > 3 { try Layers.checkAttentionMask(inputs[3], weights: queries + [keyPositions]) }
        return shape
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let result = try Layers.dotProductAttention(
            query: inputs[0], key: inputs[1], value: inputs[2], mask: inputs.count > 3 ? inputs[3] : nil, scale: scale, causal: causal,
            dropout: dropout, randomKey: context.randomKey, mode: context.mode, firstExample: context.firstExample)
        return output == .values ? result.output : result.weights
    }
}

/// Multi-head attention after the query, key and value projections: splits the features into
/// heads, attends within each, and joins the heads again.
struct HeadsAttentionLayer: SerializableLayer {
    let heads: Int
    let causal: Bool
    let dropout: Float
    let output: DotProductAttentionLayer.AttentionOutput
    var kind: String { output == .values ? "multi_head_attention" : "multi_head_attention_weights" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard inputs[0].count == 3, inputs[1].count == 3, inputs[2].count == 3 else {
            throw LayerError("needs query, key and value of rank 3 ([batch, positions, features]), got \(inputs.map(\.shapeDescription))")
        }
        try Layers.checkAttentionDropout(dropout)
        let (batch, queries, keys) = (inputs[0][0], inputs[0][1], inputs[1][1])
        if inputs.count > 3 { try Layers.checkAttentionMask(inputs[3], weights: [batch, heads, queries, keys]) }
        return output == .values ? [batch, queries, inputs[2][2]] : [batch, heads, queries, keys]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        func split(_ x: Tensor) throws -> Tensor {
            try x.reshaped(to: [x.shape[0], x.shape[1], heads, x.shape[2] / heads]).permuted([0, 2, 1, 3])
        }
        let result = try Layers.dotProductAttention(
            query: split(inputs[0]), key: split(inputs[1]), value: split(inputs[2]), mask: inputs.count > 3 ? inputs[3] : nil,
            scale: nil, causal: causal, dropout: dropout, randomKey: context.randomKey, mode: context.mode, firstExample: context.firstExample)
        guard output == .values else { return result.weights }
        let joined = try result.output.permuted([0, 2, 1, 3])
        return try joined.reshaped(to: [joined.shape[0], joined.shape[1], joined.shape[2] * joined.shape[3]])
    }
}

/// Bahdanau-style additive attention (Keras's `AdditiveAttention`) over `[query, value, key]`.
struct AdditiveAttentionLayer: SerializableLayer {
    let useScale: Bool
    let causal: Bool
    var kind: String { "additive_attention" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard useScale else { return [] }
        guard let features = inputs[0].last ?? nil else { throw LayerError("needs a known query feature dimension, got \(inputs[0].shapeDescription)") }
        return [ParameterSpec("scale", shape: [features], initializer: .glorotUniform)]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (query, value, key) = (inputs[0], inputs[1], inputs[2])
        guard query.count >= 3, value.count == query.count, key.count == query.count, query.last == key.last,
            key[key.count - 2] == value[value.count - 2] || key[key.count - 2] == nil || value[value.count - 2] == nil
        else {
            throw LayerError("needs query, value and key of one rank ≥ 3, query and key with the same features and key and value with the same positions, got \(query.shapeDescription), \(value.shapeDescription), \(key.shapeDescription)")
        }
        if inputs.count > 3 { try Layers.checkAttentionMask(inputs[3], weights: Array(query.dropLast()) + [key[key.count - 2]]) }
        return Array(query.dropLast()) + [value.last ?? nil]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.additiveAttention(
            query: inputs[0], value: inputs[1], key: inputs[2], mask: inputs.count > 3 ? inputs[3] : nil,
            scale: useScale ? context.parameter("scale") : nil, causal: causal)
    }
}

extension Layers {
    static func checkAttentionDropout(_ rate: Float) throws {
        guard rate >= 0, rate < 1 else { throw LayerError("attention dropout must be in [0, 1), got \(rate)") }
    }

    /// Checks that a mask broadcasts to the attention weights' shape.
    static func checkAttentionMask(_ mask: SymbolicShape, weights: SymbolicShape) throws {
        let broadcasts = zip(mask.reversed(), weights.reversed()).allSatisfy { (m: Int?, w: Int?) -> Bool in
            guard let m, let w else { return true }
            return m == 1 || m == w
        }
        guard mask.count <= weights.count, broadcasts else {
            throw LayerError("the mask \(mask.shapeDescription) does not broadcast to the attention weights \(weights.shapeDescription)")
        }
    }

    /// Scaled dot-product attention: `softmax(scale · q·kᵀ + mask) · v` over the last two axes
    /// (`scale` defaults to `1/√d`), query `i` seeing only keys `j ≤ i` when `causal`, with
    /// dropout on the weights in training mode. A `float32` mask is added to the scores, a
    /// `bool` mask keeps the scores where true. Returns the output and the weights.
    /// `firstExample` is where the examples (axis 0) start in the batch the dropout mask is
    /// drawn for (a data-parallel rank's ``LayerContext/firstExample``).
    public static func dotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, scale: Float? = nil, causal: Bool = false,
        dropout: Float = 0, randomKey: Philox.Key = Philox.Key(seed: 0), mode: Mode = .inference, firstExample: Int = 0
    ) throws -> (output: Tensor, weights: Tensor) {
        let features = query.shape.dimensions.last ?? 1
        // The weights' elements per example: every query axis but the batch, times the keys.
        let perExample = query.shape.dimensions.dropFirst().dropLast().reduce(1, *) * (key.rank >= 2 ? key.shape[key.rank - 2] : 1)
        let descriptor = AttentionDescriptor(
            scale: scale ?? 1 / Float(features).squareRoot(), causal: causal,
            dropout: mode == .train && dropout > 0
                ? AttentionDescriptor.Dropout(rate: dropout, key: randomKey, offset: UInt64(firstExample) &* UInt64(perExample)) : nil)
        return try query.attention(key: key, value: value, mask: mask, descriptor: descriptor)
    }

    /// Additive attention: scores `Σ_f scale_f · tanh(q_if + k_jf)` (no `scale`: a plain sum),
    /// masked and softmaxed over the keys, then applied to `value`, as Keras's
    /// `AdditiveAttention`.
    public static func additiveAttention(
        query: Tensor, value: Tensor, key: Tensor, mask: Tensor? = nil, scale: Tensor? = nil, causal: Bool = false
    ) throws -> Tensor {
        let rank = query.rank
        func inserting(_ x: Tensor, axis: Int) throws -> Tensor {
            var dimensions = x.shape.dimensions
            dimensions.insert(1, at: axis)
            return try x.reshaped(to: Shape(dimensions))
        }
        // [..., queries, 1, d] + [..., 1, keys, d] → [..., queries, keys, d].
        let pairs = try (inserting(query, axis: rank - 1) + inserting(key, axis: rank - 2)).tanh()
        var scores = try (scale.map { try pairs * $0 } ?? pairs).sum(axes: [rank])
        let backend = scores.backend
        let negativeInfinity = try Tensor(-.infinity, on: backend)
        if let mask {
            scores = mask.dtype == .bool ? try mask.select(scores, negativeInfinity) : try scores + mask
        }
        if causal {
            let (queries, keys) = (scores.shape[rank - 2], scores.shape[rank - 1])
            let rows = try Tensor(integers: (0..<(queries * keys)).map { (index: Int) in Int32(index / keys) }, shape: [queries, keys], on: backend)
            let columns = try Tensor(integers: (0..<(queries * keys)).map { (index: Int) in Int32(index % keys) }, shape: [queries, keys], on: backend)
            scores = try rows.compare(.greaterEqual, columns).select(scores, negativeInfinity)
        }
        return try scores.softmax(axis: -1).matmul(value)
    }
}

extension Axon {
    /// Scaled dot-product attention of `query` `[batch, ..., queries, d]` over `key`
    /// `[batch, ..., keys, d]` and `value` `[batch, ..., keys, dv]`: `softmax(scale · q·kᵀ + mask) · v`
    /// (`scale` defaults to `1/√d`). A `float32` `mask` is added to the scores, a `bool` mask keeps
    /// where true; either broadcasts to `[batch, ..., queries, keys]`. `causal` lets query `i` see
    /// keys `j ≤ i`; `dropout` drops weights in training. `returnWeights` gives the weights
    /// `[batch, ..., queries, keys]` instead of the output.
    public static func dotProductAttention(
        query: Axon, key: Axon, value: Axon, mask: Axon? = nil, scale: Float? = nil, causal: Bool = false, dropout: Float = 0,
        returnWeights: Bool = false, name: String? = nil
    ) -> Axon {
        apply(
            DotProductAttentionLayer(scale: scale, causal: causal, dropout: dropout, output: returnWeights ? .weights : .values),
            to: [query, key, value] + (mask.map { [$0] } ?? []), name: name)
    }

    /// Multi-head attention (Keras's `MultiHeadAttention`, PyTorch's `nn.MultiheadAttention`):
    /// `query` `[batch, queries, features]`, `key` and `value` `[batch, keys, features]` (the key
    /// defaults to the value) are projected by dense layers to `heads × keyDimension` and
    /// `heads × valueDimension` features (`valueDimension` defaults to `keyDimension`), each head
    /// attends with scale `1/√keyDimension`, and the joined heads are projected to
    /// `outputDimension` (default: the query's features; pass it when they are not known).
    /// `mask` broadcasts to `[batch, heads, queries, keys]`. The dense layers are named
    /// `<name>_query`, `<name>_key`, `<name>_value` and `<name>_output` when `name` is given.
    ///
    /// Returns the output and, as a second model node, the attention weights
    /// `[batch, heads, queries, keys]` (computed only if that node is used).
    public static func multiHeadAttention(
        query: Axon, key: Axon? = nil, value: Axon, mask: Axon? = nil, heads: Int, keyDimension: Int, valueDimension: Int? = nil,
        outputDimension: Int, causal: Bool = false, dropout: Float = 0, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, name: String? = nil
    ) -> (output: Axon, weights: Axon) {
        func part(_ suffix: String) -> String? { name.map { "\($0)_\(suffix)" } }
        guard heads >= 1, keyDimension >= 1, (valueDimension ?? 1) >= 1 else {
            let invalid = query.apply(
                InvalidLayer(message: "multi-head attention needs at least one head and positive dimensions, got \(heads) heads, key dimension \(keyDimension), value dimension \(valueDimension ?? keyDimension)"),
                name: name)
            return (invalid, invalid)
        }
        let valueFeatures = heads * (valueDimension ?? keyDimension)
        let projected = [
            query.dense(heads * keyDimension, useBias: useBias, kernelInitializer: kernelInitializer, name: part("query")),
            (key ?? value).dense(heads * keyDimension, useBias: useBias, kernelInitializer: kernelInitializer, name: part("key")),
            value.dense(valueFeatures, useBias: useBias, kernelInitializer: kernelInitializer, name: part("value")),
        ] + (mask.map { [$0] } ?? [])
        let attended = apply(HeadsAttentionLayer(heads: heads, causal: causal, dropout: dropout, output: .values), to: projected, name: name)
        let weights = apply(HeadsAttentionLayer(heads: heads, causal: causal, dropout: 0, output: .weights), to: projected, name: part("weights"))
        return (attended.dense(outputDimension, useBias: useBias, kernelInitializer: kernelInitializer, name: part("output")), weights)
    }

    /// Additive (Bahdanau) attention, Keras's `AdditiveAttention`: scores
    /// `Σ_f scale_f · tanh(q_if + k_jf)` over `query` `[batch, ..., queries, d]` and `key`
    /// `[batch, ..., keys, d]` (default: `value`), softmaxed over the keys and applied to
    /// `value`. With `useScale` the layer learns `scale` `[d]`.
    public static func additiveAttention(
        query: Axon, value: Axon, key: Axon? = nil, mask: Axon? = nil, useScale: Bool = true, causal: Bool = false, name: String? = nil
    ) -> Axon {
        apply(AdditiveAttentionLayer(useScale: useScale, causal: causal), to: [query, value, key ?? value] + (mask.map { [$0] } ?? []), name: name)
    }
}
