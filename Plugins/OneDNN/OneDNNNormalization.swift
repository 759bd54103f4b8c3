#if OneDNN
import Backend
import CDNNL

/// Per-feature vectors (scale, shift, mean, variance, ...) in scratch memory padded to whole
/// SIMD blocks: oneDNN's normalisation kernels may touch the count rounded up.
final class ChannelVectors {
    let channels: Int
    let stride: Int
    let memory: UnsafeMutablePointer<Float>

    init(channels: Int, count: Int) {
        self.channels = channels
        stride = (channels + 63) / 64 * 64
        memory = .allocate(capacity: stride * count)
        memory.initialize(repeating: 0, count: stride * count)
    }

    deinit { memory.deallocate() }

    subscript(index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(memory + index * stride) }
    func floats(_ index: Int) -> UnsafeMutablePointer<Float> { memory + index * stride }
    func load(_ index: Int, from source: UnsafeMutableRawPointer) {
        floats(index).update(from: source.assumingMemoryBound(to: Float.self), count: channels)
    }
    func store(_ index: Int, to destination: UnsafeMutableRawPointer) {
        destination.assumingMemoryBound(to: Float.self).update(from: floats(index), count: channels)
    }
}

extension OneDNNBackend {
    public func normalize(_ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor) throws -> NormalizationResult {
        if let channels = batchNormChannels(x, scale, offset, descriptor) {
            return try batchNorm(
                x, scale: scale, offset: offset, channels: channels, epsilon: descriptor.epsilon, outputDType: descriptor.outputDType ?? .float32)
        }
        if descriptor.outputDType != nil {
            return try normalizing(descriptor) { try normalize(x, scale: scale, offset: offset, descriptor: $0) }
        }
        if scale.dtype == .bfloat16 {
            return try computingInFloat32([x, scale, offset]) { try normalize($0[0], scale: $0[1], offset: $0[2], descriptor: descriptor) }
        }
        if x.dtype == .bfloat16 { return try normalize(cast(x, to: .float32), scale: scale, offset: offset, descriptor: descriptor) }
        if let features = layerNormFeatures(x, scale, offset, descriptor) {
            return try layerNorm(x, scale: scale, offset: offset, features: features, epsilon: descriptor.epsilon)
        }
        return try composedNormalize(x, scale: scale, offset: offset, descriptor: descriptor)
    }

    public func normalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients {
        if let channels = batchNormChannels(input, scale, scale, descriptor), gradOutput.dtype.isFloatingPoint, gradOutput.shape == input.shape,
            [mean, inverseStd].allSatisfy({ $0.dtype == .float32 && $0.shape == scale.shape })
        {
            return try batchNormBackward(gradOutput, input, scale: scale, mean: mean, inverseStd: inverseStd, channels: channels)
        }
        if scale.dtype == .bfloat16 {
            return try computingInFloat32([gradOutput, input, scale, mean, inverseStd]) {
                try normalizeBackward(gradOutput: $0[0], input: $0[1], scale: $0[2], mean: $0[3], inverseStd: $0[4], descriptor: descriptor)
            }
        }
        if input.dtype == .bfloat16 || gradOutput.dtype == .bfloat16 {
            let gradients = try normalizeBackward(
                gradOutput: cast(gradOutput, to: .float32), input: cast(input, to: .float32), scale: scale, mean: mean, inverseStd: inverseStd,
                descriptor: descriptor)
            return NormalizationGradients(input: try cast(gradients.input, to: input.dtype), scale: gradients.scale, offset: gradients.offset)
        }
        if let features = layerNormFeatures(input, scale, scale, descriptor), gradOutput.shape == input.shape,
            Self.supports([gradOutput, mean, inverseStd]), mean.shape.elementCount == input.shape.elementCount / features,
            inverseStd.shape == mean.shape
        {
            return try layerNormBackward(gradOutput, input, scale, mean, inverseStd, features: features, epsilon: descriptor.epsilon)
        }
        return try composedNormalizeBackward(
            gradOutput: gradOutput, input: input, scale: scale, mean: mean, inverseStd: inverseStd, descriptor: descriptor)
    }
}

// Layer normalisation: over the last axis, with per-feature scale and offset.
extension OneDNNBackend {
    /// The feature count when `normalize` is a layer norm over the last axis with scale and
    /// offset of shape `[1, ..., 1, features]`.
    func layerNormFeatures(_ x: Buffer, _ scale: Buffer, _ offset: Buffer, _ d: NormalizationDescriptor) -> Int? {
        let rank = x.shape.rank
        guard rank >= 2, Self.supports([x, scale, offset]), d.axes.map({ $0 < 0 ? $0 + rank : $0 }) == [rank - 1] else { return nil }
        let features = x.shape[rank - 1]
        let expected = Shape([Int](repeating: 1, count: rank - 1) + [features])
        return scale.shape == expected && offset.shape == expected ? features : nil
    }

    func layerNormDescriptors(_ shape: Shape) throws -> (data: dnnl_memory_desc_t, statistics: dnnl_memory_desc_t, rows: Int) {
        let statistics = Array(shape.dimensions.dropLast())
        return (try Self.plain(shape), try DNNL.memoryDescriptor(statistics, strides: DNNL.denseStrides(statistics)), statistics.reduce(1, *))
    }

    func layerNormForward(_ shape: Shape, epsilon: Float) throws -> Primitive {
        try cache.primitive("layer norm forward", shape, epsilon) {
            var (data, statistics, _) = try layerNormDescriptors(shape)
            var descriptor = dnnl_layer_normalization_desc_t()
            try DNNL.check(dnnl_layer_normalization_forward_desc_init(
                &descriptor, dnnl_forward_training, &data, &statistics, epsilon, dnnl_use_scale.rawValue | dnnl_use_shift.rawValue),
                "layer-norm descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
        }
    }

    func layerNorm(_ x: Buffer, scale: Buffer, offset: Buffer, features: Int, epsilon: Float) throws -> NormalizationResult {
        let (data, statistics, rows) = try layerNormDescriptors(x.shape)
        let vector = try DNNL.memoryDescriptor([features], strides: [1])
        let primitive = try layerNormForward(x.shape, epsilon: epsilon)
        let parameters = ChannelVectors(channels: features, count: 2)
        parameters.load(0, from: try address(scale, "normalize"))
        parameters.load(1, from: try address(offset, "normalize"))
        let stats = ChannelVectors(channels: rows, count: 2)
        let (output, pointer) = try allocate(x.shape)
        try execute(primitive, [
            (DNNL_ARG_SRC, try address(x, "normalize"), data), (DNNL_ARG_DST, pointer, data),
            (DNNL_ARG_SCALE, parameters[0], vector), (DNNL_ARG_SHIFT, parameters[1], vector),
            (DNNL_ARG_MEAN, stats[0], statistics), (DNNL_ARG_VARIANCE, stats[1], statistics),
        ])
        let keptShape = Shape(Array(x.shape.dimensions.dropLast()) + [1])
        let (mean, meanPointer) = try allocate(keptShape)
        stats.store(0, to: meanPointer)
        let (inverseStd, inversePointer) = try allocate(keptShape)
        let (v, s) = (stats.floats(1), inversePointer.assumingMemoryBound(to: Float.self))
        for row in 0..<rows { s[row] = 1 / (v[row] + epsilon).squareRoot() }
        return NormalizationResult(output: output, mean: mean, inverseStd: inverseStd)
    }

    func layerNormBackward(
        _ gradOutput: Buffer, _ input: Buffer, _ scale: Buffer, _ mean: Buffer, _ inverseStd: Buffer, features: Int, epsilon: Float
    ) throws -> NormalizationGradients {
        let (data, statistics, rows) = try layerNormDescriptors(input.shape)
        let vector = try DNNL.memoryDescriptor([features], strides: [1])
        let hint = try layerNormForward(input.shape, epsilon: epsilon)
        let primitive = try cache.primitive("layer norm backward", input.shape, epsilon) {
            var (diff, md, stats) = (data, data, statistics)
            var descriptor = dnnl_layer_normalization_desc_t()
            try DNNL.check(dnnl_layer_normalization_backward_desc_init(
                &descriptor, dnnl_backward, &diff, &md, &stats, epsilon, dnnl_use_scale.rawValue | dnnl_use_shift.rawValue),
                "layer-norm backward descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: hint.descriptor) }
        }
        let parameters = ChannelVectors(channels: features, count: 4)
        parameters.load(0, from: try address(scale, "normalizeBackward"))
        let stats = ChannelVectors(channels: rows, count: 2)
        stats.load(0, from: try address(mean, "normalizeBackward"))
        let inverse = try address(inverseStd, "normalizeBackward").assumingMemoryBound(to: Float.self)
        let variance = stats.floats(1)
        for row in 0..<rows { variance[row] = 1 / (inverse[row] * inverse[row]) - epsilon }
        let (gradInput, pointer) = try allocate(input.shape)
        try execute(primitive, [
            (DNNL_ARG_SRC, try address(input, "normalizeBackward"), data), (DNNL_ARG_DIFF_DST, try address(gradOutput, "normalizeBackward"), data),
            (DNNL_ARG_MEAN, stats[0], statistics), (DNNL_ARG_VARIANCE, stats[1], statistics),
            (DNNL_ARG_SCALE, parameters[0], vector), (DNNL_ARG_SHIFT, parameters[1], vector),
            (DNNL_ARG_DIFF_SRC, pointer, data), (DNNL_ARG_DIFF_SCALE, parameters[2], vector), (DNNL_ARG_DIFF_SHIFT, parameters[3], vector),
        ])
        let (gradScale, scalePointer) = try allocate(scale.shape)
        let (gradOffset, offsetPointer) = try allocate(scale.shape)
        parameters.store(2, to: scalePointer)
        parameters.store(3, to: offsetPointer)
        return NormalizationGradients(input: gradInput, scale: gradScale, offset: gradOffset)
    }
}
#endif
