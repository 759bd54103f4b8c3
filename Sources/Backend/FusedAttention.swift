// Scaled dot-product attention: its descriptor, results and default compositions from matmul,
// softmax and dropout. A backend overrides ``Backend/attention(query:key:value:mask:descriptor:)``
// to run it in fewer passes; the conformance suite compares every override with these.

/// Attributes of scaled dot-product attention.
public struct AttentionDescriptor: Sendable, Hashable {
    /// Multiplies the scores `q · kᵀ`; usually `1 / √(key dimension)`.
    public var scale: Float
    /// Whether query `i` attends only to keys `j ≤ i` (the lower triangle from the top left, as
    /// PyTorch's `is_causal` and JAX's `is_causal` align it).
    public var causal: Bool
    /// Dropout on the attention weights: the fraction dropped, and the Philox key and offset of
    /// its mask, which has the weights' shape.
    public var dropout: Dropout?

    /// Dropout on attention weights.
    public struct Dropout: Sendable, Hashable {
        /// The fraction dropped, in `[0, 1)`.
        public var rate: Float
        /// The Philox key of the mask.
        public var key: Philox.Key
        /// The Philox counter offset of the mask.
        public var offset: UInt64
        /// Dropout of `rate` with the mask of `key` at `offset`.
        public init(rate: Float, key: Philox.Key, offset: UInt64 = 0) {
            self.rate = rate
            self.key = key
            self.offset = offset
        }
    }

    /// Attention with scores scaled by `scale`.
    public init(scale: Float, causal: Bool = false, dropout: Dropout? = nil) {
        self.scale = scale
        self.causal = causal
        self.dropout = dropout
    }
}

/// What ``Backend/attention(query:key:value:mask:descriptor:)`` returns.
public struct AttentionResult: Sendable {
    /// `[batch..., queries, valueDimension]`.
    public let output: Buffer
    /// The attention weights `[batch..., queries, keys]`, before dropout: each row sums to one.
    public let weights: Buffer
    /// A result of the output and the weights.
    public init(output: Buffer, weights: Buffer) {
        self.output = output
        self.weights = weights
    }
}

/// What ``Backend/attentionBackward(gradOutput:query:key:value:weights:descriptor:)`` returns.
public struct AttentionGradients: Sendable {
    /// The gradient with respect to the query.
    public let query: Buffer
    /// The gradient with respect to the key.
    public let key: Buffer
    /// The gradient with respect to the value.
    public let value: Buffer
    /// Gradients of the three operands.
    public init(query: Buffer, key: Buffer, value: Buffer) {
        self.query = query
        self.key = key
        self.value = value
    }
}

extension Backend {
    public func attention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult {
        try composedAttention(query: query, key: key, value: value, mask: mask, descriptor: descriptor)
    }

    /// ``Backend/attention(query:key:value:mask:descriptor:)`` as two matmuls, the mask, a softmax
    /// and dropout.
    public func composedAttention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult {
        let scores = try binary(.multiply, matmul(query, key, transposeA: false, transposeB: true), scalar(descriptor.scale))
        let weights = try softmax(masked(scores, mask: mask, causal: descriptor.causal), axis: scores.shape.rank - 1)
        let output = try matmul(droppedOut(weights, descriptor), value, transposeA: false, transposeB: false)
        return AttentionResult(output: output, weights: weights)
    }

    public func attentionBackward(
        gradOutput: Buffer, query: Buffer, key: Buffer, value: Buffer, weights: Buffer, descriptor: AttentionDescriptor
    ) throws -> AttentionGradients {
        try composedAttentionBackward(gradOutput: gradOutput, query: query, key: key, value: value, weights: weights, descriptor: descriptor)
    }

    /// ``Backend/attentionBackward(gradOutput:query:key:value:weights:descriptor:)`` from the
    /// weights: `dV = Pᵈᵀ·dO`, `dP = drop(dO·Vᵀ)`, `dS = P ⊙ (dP − Σⱼ dP ⊙ P)`, `dQ = s·dS·K`,
    /// `dK = s·dSᵀ·Q`, where `Pᵈ` is the weights after dropout (whose mask is drawn again).
    public func composedAttentionBackward(
        gradOutput: Buffer, query: Buffer, key: Buffer, value: Buffer, weights: Buffer, descriptor: AttentionDescriptor
    ) throws -> AttentionGradients {
        let last = weights.shape.rank - 1
        let gradValue = try matmul(droppedOut(weights, descriptor), gradOutput, transposeA: true, transposeB: false)
        let gradWeights = try droppedOut(matmul(gradOutput, value, transposeA: false, transposeB: true), descriptor)
        let centred = try binary(.subtract, gradWeights, reduce(.sum, binary(.multiply, gradWeights, weights), axes: [last], keepDimensions: true))
        let gradScores = try binary(.multiply, binary(.multiply, weights, centred), scalar(descriptor.scale))
        return AttentionGradients(
            query: try matmul(gradScores, key, transposeA: false, transposeB: false),
            key: try matmul(gradScores, query, transposeA: true, transposeB: false), value: gradValue)
    }

    /// `scores` with the mask applied: an additive float mask added, a `bool` mask's false
    /// entries and (if `causal`) the keys after each query set to −∞.
    public func masked(_ scores: Buffer, mask: Buffer?, causal: Bool) throws -> Buffer {
        var result = scores
        let negativeInfinity = try full(-.infinity, shape: [], dtype: .float32)
        if let mask {
            result = mask.dtype == .bool ? try select(mask, result, negativeInfinity) : try binary(.add, result, mask)
        }
        if causal {
            let (queries, keys) = (scores.shape[scores.shape.rank - 2], scores.shape[scores.shape.rank - 1])
            let allowed = try compare(
                .greaterEqual, iota(shape: [queries, keys], axis: 0, dtype: .int32), iota(shape: [queries, keys], axis: 1, dtype: .int32))
            result = try select(allowed, result, negativeInfinity)
        }
        return result
    }

    /// The weights (or their gradient) through the descriptor's dropout, if any.
    public func droppedOut(_ x: Buffer, _ descriptor: AttentionDescriptor) throws -> Buffer {
        guard let dropout = descriptor.dropout, dropout.rate > 0 else { return x }
        return try self.dropout(x, rate: dropout.rate, key: dropout.key, offset: dropout.offset, noiseShape: x.shape).output
    }
}
