import Backend

extension Tensor {
    /// Scaled dot-product attention with this tensor as the query `[batch..., queries, d]`:
    /// `softmax(scale · q·kᵀ + mask) · value`, with the descriptor's causal mask and dropout.
    /// Returns the output and the attention weights (before dropout, not differentiated).
    public func attention(
        key: Tensor, value: Tensor, mask: Tensor? = nil, descriptor: AttentionDescriptor
    ) throws -> (output: Tensor, weights: Tensor) {
        let backend = try Tensor.commonBackend("attention", [self, key, value] + (mask.map { [$0] } ?? []))
        let result = try backend.attention(query: buffer, key: key.buffer, value: value.buffer, mask: mask?.buffer, descriptor: descriptor)
        let weights = result.weights
        let output = Tensor.record(result.output, on: backend, inputs: [self, key, value]) { g, x, _ in
            let gradients = try backend.attentionBackward(
                gradOutput: g.buffer, query: x[0].buffer, key: x[1].buffer, value: x[2].buffer, weights: weights, descriptor: descriptor)
            return [gradients.query, gradients.key, gradients.value].map { Tensor(buffer: $0, backend: backend) }
        }
        return (output, Tensor(buffer: weights, backend: backend))
    }
}
