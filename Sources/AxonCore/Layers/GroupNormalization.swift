import Backend

// Group, instance and generalised layer normalisation, and the statistics helpers the
// normalisation layers share: all through the fused `normalize` op, so every backend runs them
// and its fused override (or the default composition) differentiates them.

extension Layers {
    /// The mean and (biased) variance of `x` over `axes`, as batch and layer norm take them.
    public static func moments(_ x: Tensor, axes: [Int], keepDimensions: Bool = false) throws -> (mean: Tensor, variance: Tensor) {
        let mean = try x.mean(axes: axes, keepDimensions: true)
        let variance = try (x - mean).square().mean(axes: axes, keepDimensions: keepDimensions)
        return (keepDimensions ? mean : try mean.reshaped(to: variance.shape), variance)
    }

    /// `momentum · average + (1 − momentum) · value`: the running statistics of batch norm.
    public static func exponentialMovingAverage(_ average: Tensor, _ value: Tensor, momentum: Float) throws -> Tensor {
        try average * momentum + value * (1 - momentum)
    }

    /// Group normalisation (Wu & He, 2018): the channels are split into `groups` of equal size
    /// and each example's group is normalised over its spatial positions and channels, then
    /// scaled and offset per channel (`gamma`, `beta` of shape `[channels]`, or nil for none).
    public static func groupNorm(
        _ x: Tensor, groups: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float, channels: ChannelLayout = .last
    ) throws -> Tensor {
        let input = try toChannelsLast(x, channels)
        let channelCount = input.shape[input.rank - 1]
        guard groups >= 1, channelCount % groups == 0 else {
            throw AxonError.invalidValue(
                operation: "groupNorm", reason: "\(channelCount) channels cannot be split into \(groups) equal groups")
        }
        // [N, spatial..., C] → [N, spatial..., G, C/G], normalised over all but N and G.
        let grouped = try input.reshaped(to: Shape(Array(input.shape.dimensions.dropLast()) + [groups, channelCount / groups]))
        let affineShape = Shape([Int](repeating: 1, count: grouped.rank - 2) + [groups, channelCount / groups])
        let scale = try gamma.map { try $0.reshaped(to: affineShape) } ?? grouped.constant(1)
        let offset = try beta.map { try $0.reshaped(to: affineShape) } ?? grouped.constant(0)
        let axes = Array(1..<(grouped.rank - 2)) + [grouped.rank - 1]
        let normalized = try grouped.normalized(scale: scale, offset: offset, axes: axes, epsilon: epsilon).output
        return try fromChannelsLast(normalized.reshaped(to: input.shape), channels)
    }

    /// Layer normalisation over the trailing `axisCount` axes, with optional `gamma` and `beta`
    /// of those axes' shape.
    public static func layerNorm(_ x: Tensor, axisCount: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float) throws -> Tensor {
        guard axisCount >= 1, axisCount < x.rank else {
            throw AxonError.invalidValue(
                operation: "layerNorm", reason: "normalises 1 to \(x.rank - 1) trailing axes of \(x.shape), got \(axisCount)")
        }
        let affineShape = Shape([Int](repeating: 1, count: x.rank - axisCount) + x.shape.dimensions.suffix(axisCount))
        let scale = try gamma.map { try $0.reshaped(to: affineShape) } ?? x.constant(1)
        let offset = try beta.map { try $0.reshaped(to: affineShape) } ?? x.constant(0)
        return try x.normalized(scale: scale, offset: offset, axes: Array((x.rank - axisCount)..<x.rank), epsilon: epsilon).output
    }
}

/// Group normalisation; instance normalisation is the case of one channel per group.
struct GroupNormLayer: SerializableLayer {
    /// The number of groups, or nil for one group per channel (instance norm).
    let groups: Int?
    let epsilon: Float
    let affine: Bool
    let channels: ChannelLayout
    var kind: String { groups == nil ? "instance_norm" : "group_norm" }

    func geometry(_ input: SymbolicShape) throws -> (channels: Int, groups: Int) {
        let (_, channelCount) = try spatialGeometry(input, channels)
        let groupCount = groups ?? channelCount
        guard groupCount >= 1, channelCount % groupCount == 0 else {
            throw LayerError("\(channelCount) channels cannot be split into \(groupCount) equal groups")
        }
        guard epsilon.isFinite, epsilon > 0 else { throw LayerError("epsilon must be positive, got \(epsilon)") }
        return (channelCount, groupCount)
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let (channelCount, _) = try geometry(inputs[0])
        guard affine else { return [] }
        return [
            ParameterSpec("gamma", shape: [channelCount], initializer: .ones),
            ParameterSpec("beta", shape: [channelCount], initializer: .zeros),
        ]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        _ = try geometry(inputs[0])
        return inputs[0]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let groupCount = groups ?? inputs[0].shape[channels == .last ? inputs[0].rank - 1 : 1]
        return try Layers.groupNorm(
            inputs[0], groups: groupCount, gamma: affine ? context.parameter("gamma") : nil,
            beta: affine ? context.parameter("beta") : nil, epsilon: epsilon, channels: channels)
    }
}

extension Axon {
    /// Group normalisation (Wu & He, 2018) with `groups` groups of channels; parameters
    /// `gamma` and `beta` `[channels]` unless `affine` is false.
    public func groupNorm(
        groups: Int, epsilon: Float = 1e-5, affine: Bool = true, channels: ChannelLayout = .last, name: String? = nil
    ) -> Axon {
        apply(GroupNormLayer(groups: groups, epsilon: epsilon, affine: affine, channels: channels), name: name)
    }

    /// Instance normalisation (Ulyanov et al., 2016): each example's channel over its spatial
    /// positions; parameters `gamma` and `beta` `[channels]` when `affine` (PyTorch's default is
    /// none; Axon's and Keras's is both).
    public func instanceNorm(epsilon: Float = 1e-5, affine: Bool = true, channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(GroupNormLayer(groups: nil, epsilon: epsilon, affine: affine, channels: channels), name: name)
    }
}
