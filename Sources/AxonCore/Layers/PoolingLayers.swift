import Backend

// Lp pooling, adaptive pooling and average pooling that counts padding: compositions of window
// reductions, slices and reductions, so they run (and differentiate) on every backend.

extension Layers {
    /// Power-average pooling: `(Σ xᵖ)^(1/p)` over each window, as PyTorch's `LPPool` and Axon's
    /// `lp_pool` (no absolute value: odd `p` keeps signs, fractional `p` needs `x ≥ 0`).
    public static func lpPool(
        _ x: Tensor, norm: Float, kernelSize: [Int], strides: [Int], padding: PaddingMode, channels: ChannelLayout = .last
    ) throws -> Tensor {
        try pool(.sum, x.pow(norm), kernelSize: kernelSize, strides: strides, padding: padding, channels: channels).pow(1 / norm)
    }

    /// `(Σ xᵖ)^(1/p)` over every spatial axis.
    public static func globalLpPool(_ x: Tensor, norm: Float, channels: ChannelLayout = .last, keepDimensions: Bool = false) throws -> Tensor {
        try globalPool(.sum, x.pow(norm), channels: channels, keepDimensions: keepDimensions).pow(1 / norm)
    }

    /// Average pooling that divides every window by its full size, padding included (PyTorch's
    /// `count_include_pad`); ``pool(_:_:kernelSize:strides:padding:channels:)`` with `.average`
    /// divides by the in-bounds elements only.
    public static func avgPoolCountingPadding(
        _ x: Tensor, kernelSize: [Int], strides: [Int], padding: PaddingMode, channels: ChannelLayout = .last
    ) throws -> Tensor {
        let windowSize = kernelSize.reduce(Float(1)) { $0 * Float($1) }
        return try pool(.sum, x, kernelSize: kernelSize, strides: strides, padding: padding, channels: channels) / windowSize
    }

    /// Adaptive pooling to `outputSize` positions per spatial axis with PyTorch's bins: output
    /// `i` of an axis of length `n` reduces inputs `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉`. `operation` is
    /// `.mean`, `.max` or `.sum`; Lp pooling passes `xᵖ` with `.sum` and takes the root.
    public static func adaptivePool(
        _ operation: ReductionOperation, _ x: Tensor, outputSize: [Int], channels: ChannelLayout = .last
    ) throws -> Tensor {
        var y = try toChannelsLast(x, channels)
        for (index, size) in outputSize.enumerated() {
            let axis = index + 1
            let length = y.shape[axis]
            let bins = try (0..<size).map { i in
                try y.sliced(axis: axis, AdaptiveBins.range(i, input: length, output: size))
                    .reduce(operation, axes: [axis], keepDimensions: true)
            }
            y = try Tensor.concatenate(bins, axis: axis)
        }
        return try fromChannelsLast(y, channels)
    }

    /// Adaptive Lp pooling: `(Σ xᵖ)^(1/p)` over each adaptive bin.
    public static func adaptiveLpPool(_ x: Tensor, norm: Float, outputSize: [Int], channels: ChannelLayout = .last) throws -> Tensor {
        try adaptivePool(.sum, x.pow(norm), outputSize: outputSize, channels: channels).pow(1 / norm)
    }
}

/// PyTorch's adaptive pooling bins.
enum AdaptiveBins {
    /// Inputs `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉` for output `i` of `m` over `n` inputs.
    static func range(_ i: Int, input n: Int, output m: Int) -> Range<Int> {
        let start = i * n / m
        let end = ((i + 1) * n + m - 1) / m
        return start..<Swift.max(end, start + 1)
    }
}

/// Adaptive mean, max or Lp pooling to a fixed output size.
struct AdaptivePoolLayer: SerializableLayer {
    let pooling: Pooling
    let outputSize: [Int]
    let channels: ChannelLayout
    var kind: String { pooling.kind("adaptive_") }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        try pooling.check()
        let (spatial, channelCount) = try spatialGeometry(inputs[0], channels)
        let size = try spatialValues(outputSize, count: spatial.count, "output size")
        guard size.allSatisfy({ $0 >= 1 && $0 <= ShapeRules.maximumDimension }) else {
            throw LayerError("output size must be between 1 and 2³¹ − 1 in every spatial dimension, got \(outputSize)")
        }
        guard spatial.allSatisfy({ $0 >= 1 }) else {
            throw LayerError("needs every spatial dimension of the input to be at least 1, got \(inputs[0].shapeDescription)")
        }
        return assemble(batch: inputs[0][0], spatial: size, channels: channelCount, channels)
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let size = try spatialValues(outputSize, count: inputs[0].rank - 2, "output size")
        switch pooling {
        case .average: return try Layers.adaptivePool(.mean, inputs[0], outputSize: size, channels: channels)
        case .max: return try Layers.adaptivePool(.max, inputs[0], outputSize: size, channels: channels)
        case let .lp(norm): return try Layers.adaptiveLpPool(inputs[0], norm: norm, outputSize: size, channels: channels)
        }
    }
}

extension Axon {
    /// Power-average pooling `(Σ xᵖ)^(1/p)` over each window (PyTorch's `LPPool`, Axon's
    /// `lp_pool`); `strides` default to the window size.
    public func lpPool(
        norm: Float = 2, kernelSize: [Int] = [2], strides: [Int]? = nil, padding: PaddingMode = .valid,
        channels: ChannelLayout = .last, name: String? = nil
    ) -> Axon {
        apply(PoolLayer(pooling: .lp(norm), kernelSize: kernelSize, strides: strides, padding: padding, channels: channels), name: name)
    }

    /// Adaptive average pooling to `outputSize` positions per spatial axis, with PyTorch's bins
    /// (output `i` of `m` averages inputs `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉`).
    public func adaptiveAvgPool(outputSize: [Int], channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(AdaptivePoolLayer(pooling: .average(countPadding: false), outputSize: outputSize, channels: channels), name: name)
    }

    /// Adaptive max pooling to `outputSize` positions per spatial axis, with PyTorch's bins.
    public func adaptiveMaxPool(outputSize: [Int], channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(AdaptivePoolLayer(pooling: .max, outputSize: outputSize, channels: channels), name: name)
    }

    /// Adaptive Lp pooling `(Σ xᵖ)^(1/p)` over PyTorch's adaptive bins.
    public func adaptiveLpPool(norm: Float = 2, outputSize: [Int], channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(AdaptivePoolLayer(pooling: .lp(norm), outputSize: outputSize, channels: channels), name: name)
    }

    /// `(Σ xᵖ)^(1/p)` over every spatial axis.
    public func globalLpPool(norm: Float = 2, channels: ChannelLayout = .last, keepDimensions: Bool = false, name: String? = nil) -> Axon {
        apply(GlobalPoolLayer(pooling: .lp(norm), channels: channels, keepDimensions: keepDimensions), name: name)
    }
}
