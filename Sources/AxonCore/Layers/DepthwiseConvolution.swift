import Backend

/// A convolution of each input channel on its own, by `channelMultiplier` kernels: the grouped
/// convolution with one group per input channel. Output channel `c·multiplier + m` is input
/// channel `c` convolved with kernel `m` (PyTorch's `groups = in_channels`; Keras's
/// `DepthwiseConv2D` kernel `[kH, kW, C, multiplier]` reshaped to `[kH, kW, 1, C·multiplier]`).
struct DepthwiseConvLayer: SerializableLayer {
    let channelMultiplier: Int
    let kernelSize: [Int]
    let strides: [Int]
    let padding: PaddingMode
    let dilation: [Int]
    let channels: ChannelLayout
    let activation: Activation
    let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    var kind: String { "depthwise_conv" }

    /// The grouped convolution this layer is for an input with `inChannels` channels.
    func convolution(_ inputs: [SymbolicShape]) throws -> ConvLayer {
        let (_, inChannels) = try spatialGeometry(inputs[0], channels)
        guard channelMultiplier > 0 else { throw LayerError("channel multiplier must be positive, got \(channelMultiplier)") }
        let filters = try layerArithmetic("\(inChannels) channels times multiplier \(channelMultiplier)") { $0.multiply(inChannels, channelMultiplier) }
        return ConvLayer(
            filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, dilation: dilation, groups: inChannels,
            channels: channels, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            biasInitializer: biasInitializer, kernelRegularizer: nil)
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] { try convolution(inputs).parameters(for: inputs) }
    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { try convolution(inputs).outputShape(for: inputs) }
    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try convolution(inputs.map { $0.shape.dimensions.map { $0 } }).apply(inputs, context)
    }
}

/// Elixir Axon's separable convolution: one depthwise convolution per spatial axis, each with a
/// kernel that extends along that axis only (`kernel_1` `[k₀, 1, 1, C·m]`, `kernel_2`
/// `[1, k₁, 1, C·m]`, ...), the first multiplying the channels by `channelMultiplier`, each
/// with its own bias. Each stage strides, dilates and pads only its own axis, so the output has
/// the size of one convolution with the whole kernel (Axon applies the strides in every stage).
struct SeparableConvLayer: SerializableLayer {
    /// The options as one depthwise convolution with the whole kernel; the stages split it.
    let whole: DepthwiseConvLayer
    var kind: String { "separable_conv" }

    /// The depthwise convolution of each spatial axis, in order.
    func stages(_ input: SymbolicShape) throws -> [DepthwiseConvLayer] {
        let (spatial, _) = try spatialGeometry(input, whole.channels)
        let n = spatial.count
        let size = try spatialValues(whole.kernelSize, count: n, "kernel size")
        let (step, rate) = (try spatialValues(whole.strides, count: n, "strides"), try spatialValues(whole.dilation, count: n, "dilation"))
        let explicit: [Padding]?
        if case .explicit = whole.padding { explicit = try whole.padding.resolve(input: spatial, extent: size, strides: step) } else { explicit = nil }
        return (0..<n).map { axis in
            func along(_ values: [Int]) -> [Int] { (0..<n).map { $0 == axis ? values[axis] : 1 } }
            return DepthwiseConvLayer(
                channelMultiplier: axis == 0 ? whole.channelMultiplier : 1, kernelSize: along(size), strides: along(step),
                padding: explicit.map { pads in .explicit((0..<n).map { $0 == axis ? pads[axis] : Padding(0, 0) }) } ?? whole.padding,
                dilation: along(rate), channels: whole.channels, activation: axis == n - 1 ? whole.activation : .linear, useBias: whole.useBias,
                kernelInitializer: whole.kernelInitializer, biasInitializer: whole.biasInitializer)
        }
    }

    /// Each stage with its input shape.
    func chain(_ input: SymbolicShape) throws -> [(stage: DepthwiseConvLayer, input: SymbolicShape)] {
        var shape = input
        var links: [(stage: DepthwiseConvLayer, input: SymbolicShape)] = []
        for stage in try stages(input) {
            links.append((stage, shape))
            shape = try stage.outputShape(for: [shape]) ?? shape
        }
        return links
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        try chain(inputs[0]).enumerated().flatMap { index, link in
            try link.stage.parameters(for: [link.input]).map {
                ParameterSpec("\($0.name)_\(index + 1)", shape: $0.shape, initializer: $0.initializer, role: $0.role)
            }
        }
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        try stages(inputs[0]).reduce(inputs[0]) { shape, stage in try stage.outputShape(for: [shape]) ?? shape }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try stages(inputs[0].shape.dimensions.map { $0 }).enumerated().reduce(inputs[0]) { x, indexed in
            let (index, stage) = indexed
            return try Layers.depthwiseConv(
                x, kernel: context.parameter("kernel_\(index + 1)"), bias: stage.useBias ? context.parameter("bias_\(index + 1)") : nil,
                strides: stage.strides, padding: stage.padding, dilation: stage.dilation, channels: stage.channels, activation: stage.activation)
        }
    }
}

extension Layers {
    /// A depthwise convolution: ``conv(_:kernel:bias:strides:padding:dilation:groups:channels:activation:)``
    /// with one group per input channel. `kernel` is `[kernelSize..., 1, channels · multiplier]`.
    public static func depthwiseConv(
        _ x: Tensor, kernel: Tensor, bias: Tensor?, strides: [Int], padding: PaddingMode, dilation: [Int],
        channels: ChannelLayout = .last, activation: Activation = .linear
    ) throws -> Tensor {
        guard x.rank >= 3 else { throw LayerError("depthwiseConv needs an input of rank ≥ 3, got \(x.shape)") }
        return try conv(
            x, kernel: kernel, bias: bias, strides: strides, padding: padding, dilation: dilation,
            groups: x.shape[channels == .last ? x.rank - 1 : 1], channels: channels, activation: activation)
    }
}

extension Axon {
    /// A depthwise convolution: each input channel convolved on its own with
    /// `channelMultiplier` kernels, giving `channels · channelMultiplier` output channels
    /// (output channel `c · channelMultiplier + m` comes from input channel `c`). Parameters:
    /// `kernel` `[kernelSize..., 1, channels · channelMultiplier]` and `bias`. PyTorch's
    /// `Conv2d(groups=C)` weight `[C·m, 1, kH, kW]` maps to it by permuting axes `(2, 3, 1, 0)`.
    /// Keras's `SeparableConv2D` is this followed by ``conv(_:kernelSize:strides:padding:dilation:groups:channels:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:name:)``
    /// with `kernelSize: [1]`.
    public func depthwiseConv(
        channelMultiplier: Int = 1, kernelSize: [Int] = [3], strides: [Int] = [1], padding: PaddingMode = .valid,
        dilation: [Int] = [1], channels: ChannelLayout = .last, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String? = nil
    ) -> Axon {
        apply(
            DepthwiseConvLayer(
                channelMultiplier: channelMultiplier, kernelSize: kernelSize, strides: strides, padding: padding, dilation: dilation,
                channels: channels, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                biasInitializer: biasInitializer),
            name: name)
    }

    /// Elixir Axon's separable convolution (`separable_conv2d`, `separable_conv3d`, and the
    /// same for any spatial rank): a depthwise convolution along each spatial axis in turn, with
    /// parameters `kernel_1`, `bias_1`, `kernel_2`, ... (`kernel_i` spans axis `i` only; the first
    /// multiplies the channels by `channelMultiplier`). Strides, dilation and explicit padding of
    /// an axis apply in that axis's stage, and the activation after the last.
    public func separableConv(
        channelMultiplier: Int = 1, kernelSize: [Int] = [3], strides: [Int] = [1], padding: PaddingMode = .valid,
        dilation: [Int] = [1], channels: ChannelLayout = .last, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String? = nil
    ) -> Axon {
        apply(
            SeparableConvLayer(
                whole: DepthwiseConvLayer(
                    channelMultiplier: channelMultiplier, kernelSize: kernelSize, strides: strides, padding: padding, dilation: dilation,
                    channels: channels, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                    biasInitializer: biasInitializer)),
            name: name)
    }
}
