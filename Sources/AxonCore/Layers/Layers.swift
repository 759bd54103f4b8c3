import Backend

/// How a convolution or pooling window treats the borders.
public enum PaddingMode: Sendable, Equatable, Codable {
    /// No padding: windows stay inside the input.
    case valid
    /// Pads so the output has `ceil(input / stride)` positions, the extra going to the high side.
    case same
    /// Explicit `(low, high)` padding per spatial dimension.
    case explicit([Padding])

    /// The padding of each spatial dimension for windows of `extent` (dilated size) at `strides`.
    func resolve(input: [Int], extent: [Int], strides: [Int]) throws -> [Padding] {
        switch self {
        case .valid:
            return input.map { _ in Padding(0, 0) }
        case .same:
            return try input.indices.map { axis in
                let output = input[axis] / strides[axis] + (input[axis] % strides[axis] == 0 ? 0 : 1)
                let total = Swift.max(try layerArithmetic("'same' padding for a window of extent \(extent[axis])") {
                    $0.add($0.add($0.multiply(output - 1, strides[axis]), extent[axis]), -input[axis])
                }, 0)
                return Padding(total / 2, total - total / 2)
            }
        case let .explicit(padding):
            guard padding.count == input.count else {
                throw LayerError("explicit padding needs \(input.count) (low, high) pairs, got \(padding.count)")
            }
            return padding
        }
    }
}

/// `compute` with overflow recorded instead of trapping: a layer's size arithmetic on options
/// a user chose, refused as a ``LayerError`` naming `what`.
func layerArithmetic(_ what: @autoclosure () -> String, _ compute: (inout ShapeRules.Arithmetic) -> Int) throws -> Int {
    var arithmetic = ShapeRules.Arithmetic()
    let value = compute(&arithmetic)
    guard !arithmetic.overflowed else { throw LayerError("\(what()) overflows the integer range") }
    return value
}

/// Where the channel axis is in a convolution or pooling layer's input.
public enum ChannelLayout: String, Sendable, Codable {
    /// `[N, spatial..., C]`, the default.
    case last
    /// `[N, C, spatial...]`.
    case first
}

/// The functional implementations behind the layers: plain functions of tensors that a custom
/// layer or training step can call directly.
public enum Layers {
    /// `activation(x · kernel + bias)` over the last axis.
    public static func dense(_ x: Tensor, kernel: Tensor, bias: Tensor?, activation: Activation = .linear) throws -> Tensor {
        if let fused = activation.fused { return try x.dense(weight: kernel, bias: bias, activation: fused) }
        return try activation.apply(x.dense(weight: kernel, bias: bias))
    }

    /// Dimension-generic convolution; the spatial rank is the input's rank minus two.
    public static func conv(
        _ x: Tensor, kernel: Tensor, bias: Tensor?, strides: [Int], padding: PaddingMode, dilation: [Int],
        groups: Int = 1, channels: ChannelLayout = .last, activation: Activation = .linear
    ) throws -> Tensor {
        let input = try toChannelsLast(x, channels)
        let spatial = Array(input.shape.dimensions.dropFirst().dropLast())
        let kernelSpatial = Array(kernel.shape.dimensions.prefix(spatial.count))
        let extent = zip(kernelSpatial, dilation).map { ($0 - 1) * $1 + 1 }
        let descriptor = ConvolutionDescriptor(
            strides: strides, padding: try padding.resolve(input: spatial, extent: extent, strides: strides),
            kernelDilation: dilation, groups: groups)
        let output: Tensor
        if let fused = activation.fused {
            output = try input.convolution(kernel: kernel, bias: bias, descriptor: descriptor, activation: fused)
        } else {
            output = try activation.apply(input.convolution(kernel: kernel, bias: bias, descriptor: descriptor, activation: .identity))
        }
        return try fromChannelsLast(output, channels)
    }

    /// Max or average pooling over the spatial axes.
    public static func pool(
        _ operation: WindowOperation, _ x: Tensor, kernelSize: [Int], strides: [Int], padding: PaddingMode,
        channels: ChannelLayout = .last
    ) throws -> Tensor {
        let input = try toChannelsLast(x, channels)
        let spatial = Array(input.shape.dimensions.dropFirst().dropLast())
        let pads = try padding.resolve(input: spatial, extent: kernelSize, strides: strides)
        let descriptor = WindowDescriptor(
            windowDimensions: [1] + kernelSize + [1], strides: [1] + strides + [1],
            padding: [Padding(0, 0)] + pads + [Padding(0, 0)])
        return try fromChannelsLast(input.window(operation, descriptor: descriptor), channels)
    }

    /// Mean or maximum over every spatial axis.
    public static func globalPool(
        _ operation: ReductionOperation, _ x: Tensor, channels: ChannelLayout = .last, keepDimensions: Bool = false
    ) throws -> Tensor {
        let axes = channels == .last ? Array(1..<(x.rank - 1)) : Array(2..<x.rank)
        return try x.reduce(operation, axes: axes, keepDimensions: keepDimensions)
    }

    /// Batch normalisation over every axis but `channelAxis`. In training it normalises with
    /// the batch statistics and returns running statistics moved toward them by
    /// `1 − momentum`; in inference it uses the running statistics.
    public static func batchNorm(
        _ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float, momentum: Float,
        channelAxis: Int, training: Bool
    ) throws -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let axis = try x.shape.normalizedAxis(channelAxis, operation: "batchNorm")
        var broadcastShape = [Int](repeating: 1, count: x.rank)
        broadcastShape[axis] = x.shape[axis]
        let shape = Shape(broadcastShape)
        let (scale, offset) = (try gamma.reshaped(to: shape), try beta.reshaped(to: shape))
        if training {
            let axes = (0..<x.rank).filter { $0 != axis }
            let result = try x.normalized(scale: scale, offset: offset, axes: axes, epsilon: epsilon)
            let newMean = try exponentialMovingAverage(mean, result.mean.reshaped(to: mean.shape), momentum: momentum)
            let newVariance = try exponentialMovingAverage(variance, result.variance.reshaped(to: variance.shape), momentum: momentum)
            return (result.output, newMean, newVariance)
        }
        let normalized = try (x - mean.reshaped(to: shape)) * (variance.reshaped(to: shape) + epsilon).rsqrt()
        return (try normalized * scale + offset, mean, variance)
    }

    /// Layer normalisation over the last axis.
    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float) throws -> Tensor {
        try layerNorm(x, axisCount: 1, gamma: gamma, beta: beta, epsilon: epsilon)
    }

    /// Rows of `kernel` at the `int32` `indices`.
    public static func embedding(_ indices: Tensor, kernel: Tensor) throws -> Tensor {
        try kernel.gather(indices: indices, axis: 0)
    }

    static func toChannelsLast(_ x: Tensor, _ channels: ChannelLayout) throws -> Tensor {
        channels == .last ? x : try x.permuted([0] + Array(2..<x.rank) + [1])
    }

    static func fromChannelsLast(_ x: Tensor, _ channels: ChannelLayout) throws -> Tensor {
        channels == .last ? x : try x.permuted([0, x.rank - 1] + Array(1..<(x.rank - 1)))
    }
}
