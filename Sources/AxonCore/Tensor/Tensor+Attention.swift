import Backend

extension Tensor {
    /// Scaled dot-product attention with this tensor as the query `[batch..., queries, d]`:
    /// `softmax(scale · q·kᵀ + mask) · value`, with the descriptor's causal mask and dropout.
    /// Returns the output and the attention weights (before dropout, not differentiated).
    public func attention(
        key: Tensor, value: Tensor, mask: Tensor? = nil, descriptor: AttentionDescriptor
    ) throws -> (output: Tensor, weights: Tensor) {
        let operands = [self, key, value] + (mask.map { [$0] } ?? [])
        // A replayed plan draws the dropout mask from the key derived for its run.
        func described(_ key: Philox.Key?) -> AttentionDescriptor {
            guard let dropout = descriptor.dropout, let key else { return descriptor }
            var replayed = descriptor
            replayed.dropout = AttentionDescriptor.Dropout(rate: dropout.rate, key: key, offset: dropout.offset)
            return replayed
        }
        let (backend, result) = try Tensor.computeBuffers("attention", operands, key: descriptor.dropout?.key) { backend, b, key in
            let result = try backend.attention(query: b[0], key: b[1], value: b[2], mask: b.count > 3 ? b[3] : nil, descriptor: described(key))
            return [result.output, result.weights]
        }
        let weights = Tensor(buffer: result[1], backend: backend)
        let output = Tensor.record(result[0], on: backend, inputs: [self, key, value]) { g, x, _ in
            let (_, gradients) = try Tensor.computeBuffers(
                "attentionBackward", [g, x[0], x[1], x[2], weights], key: descriptor.dropout?.key
            ) { backend, b, key in
                let gradients = try backend.attentionBackward(
                    gradOutput: b[0], query: b[1], key: b[2], value: b[3], weights: b[4], descriptor: described(key))
                return [gradients.query, gradients.key, gradients.value]
            }
            return gradients.map { Tensor(buffer: $0, backend: backend) }
        }
        return (output, weights)
    }
}
