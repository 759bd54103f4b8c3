#if Vulkan
import Backend

extension VulkanBackend {
    /// Attention as one shader dispatch over every query row (attention.comp), with the dropout
    /// mask from the Philox shader. Up to four batch axes; anything else, and the backward pass,
    /// take the composition.
    public func attention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult {
        let rank = query.shape.rank
        let batchShape = Array(query.shape.dimensions.dropLast(2))
        let (queries, keys, features, valueFeatures) = (query.shape[rank - 2], key.shape[rank - 2], query.shape[rank - 1], value.shape[rank - 1])
        let batches = batchShape.reduce(1, *)
        guard batchShape.count <= 4, [query, key, value].allSatisfy({ $0.dtype == .float32 }), batches * queries > 0, keys > 0 else {
            return try composedAttention(query: query, key: key, value: value, mask: mask, descriptor: descriptor)
        }
        let weightsShape = Shape(batchShape + [queries, keys])
        let output = try makeBuffer(Shape(batchShape + [queries, valueFeatures]), .float32)
        let weights = try makeBuffer(weightsShape, .float32)
        let dropout = descriptor.dropout.flatMap { $0.rate > 0 ? $0 : nil }
        let keep = try dropout.map {
            try philox(key: $0.key, offset: $0.offset, shape: weightsShape, keepBelow: DropoutThreshold.threshold(rate: $0.rate))
        }
        let maskStrides = mask.map { $0.shape.broadcastStrides(to: weightsShape) } ?? Array(repeating: 0, count: rank)
        func four(_ values: [Int]) -> [UInt32] { (values + Array(repeating: 1, count: 4 - values.count)).map { UInt32($0) } }
        var flags: UInt32 = 0
        if let mask { flags |= mask.dtype == .bool ? 3 : 1 }
        if descriptor.causal { flags |= 4 }
        if keep != nil { flags |= 8 }
        let keepScale = 1 / (1 - (dropout?.rate ?? 0))
        let push: [UInt32] = [
            UInt32(batches), UInt32(queries), UInt32(keys), UInt32(features), UInt32(valueFeatures),
            descriptor.scale.bitPattern, keepScale.bitPattern, flags, UInt32(batchShape.count),
        ] + four(batchShape) + four(Array(maskStrides.prefix(batchShape.count))) + [UInt32(maskStrides[rank - 2]), UInt32(maskStrides[rank - 1])]
        try run(
            "attention", inputs: [query, key, value, mask ?? query, keep ?? query], outputs: [output, weights], push: push,
            groups: elementGroups(batches * queries))
        return AttentionResult(output: output, weights: weights)
    }
}
#endif
