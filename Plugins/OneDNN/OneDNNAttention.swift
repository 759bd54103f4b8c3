#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// Attention as oneDNN primitives: the scores `q·kᵀ` in one matmul with the scale and the
    /// mask fused as post-ops (an eltwise linear, then a binary add), oneDNN's softmax, and the
    /// matmul with the values. A `bool` or causal mask becomes one additive mask of the scores'
    /// shape first. The backward pass is the composition, whose matmuls run here too.
    public func attention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult {
        guard Self.supports([query, key, value]), query.shape.rank <= 12 else {
            return try composedAttention(query: query, key: key, value: value, mask: mask, descriptor: descriptor)
        }
        let rank = query.shape.rank
        let scoresShape = Shape(query.shape.dimensions.dropLast() + [key.shape[rank - 2]])
        let additive = try additiveMask(mask, causal: descriptor.causal, scores: scoresShape)
        let scores = try scaledScores(query, key, scale: descriptor.scale, mask: additive, shape: scoresShape)
        let weights = try softmax(scores, axis: rank - 1)
        let output = try matmul(droppedOut(weights, descriptor), value, transposeA: false, transposeB: false)
        return AttentionResult(output: output, weights: weights)
    }

    /// One float32 mask of the scores' shape combining the given mask and the causal triangle,
    /// or nil when there is neither.
    func additiveMask(_ mask: Buffer?, causal: Bool, scores: Shape) throws -> Buffer? {
        guard mask != nil || causal else { return nil }
        let zeros = try full(0, shape: scores, dtype: .float32)
        let combined = try masked(zeros, mask: mask, causal: causal)
        return combined.shape == scores ? combined : try broadcast(combined, to: scores)
    }

    /// `scale · q·kᵀ (+ mask)` as one matmul primitive with post-ops.
    func scaledScores(_ query: Buffer, _ key: Buffer, scale: Float, mask: Buffer?, shape: Shape) throws -> Buffer {
        let rank = shape.rank
        let viewQ = Self.matrixView(query.shape, rank: rank, transposed: false)
        let viewK = Self.matrixView(key.shape, rank: rank, transposed: true)
        let dense = DNNL.denseStrides(shape.dimensions)
        let (mdQ, mdK, mdScores) = (
            try DNNL.memoryDescriptor(viewQ.dims, strides: viewQ.strides), try DNNL.memoryDescriptor(viewK.dims, strides: viewK.strides),
            try DNNL.memoryDescriptor(shape.dimensions, strides: dense))
        let primitive = try cache.primitive("attention scores", viewQ.dims, viewQ.strides, viewK.dims, viewK.strides, mask != nil, scale) {
            var descriptor = dnnl_matmul_desc_t()
            var (q, k, scores) = (mdQ, mdK, mdScores)
            try DNNL.check(dnnl_matmul_desc_init(&descriptor, &q, &k, nil, &scores), "attention scores descriptor")
            var attributes: dnnl_primitive_attr_t?
            try DNNL.check(dnnl_primitive_attr_create(&attributes), "attribute creation")
            var postOps: dnnl_post_ops_t?
            try DNNL.check(dnnl_post_ops_create(&postOps), "post-op creation")
            defer { dnnl_post_ops_destroy(postOps) }
            try DNNL.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_linear, scale, 0), "scale post-op")
            if mask != nil { try DNNL.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add, &scores), "mask post-op") }
            try DNNL.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "post-op attribute")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: attributes) }
        }
        let (output, pointer) = try allocate(shape)
        var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL_ARG_SRC, try address(query, "attention"), mdQ), (DNNL_ARG_WEIGHTS, try address(key, "attention"), mdK),
            (DNNL_ARG_DST, pointer, mdScores),
        ]
        if let mask { arguments.append((axon_dnnl_arg_attr_multiple_post_op(1) | DNNL_ARG_SRC_1, try address(mask, "attention"), mdScores)) }
        try execute(primitive, arguments)
        return output
    }
}
#endif
