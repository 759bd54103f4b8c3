import Backend

/// The spatial geometry of a transposed convolution: its output sizes and the convolution
/// (from the output back to the input) it is the adjoint of.
///
/// Output sizes follow Keras's `Conv{1,2,3}DTranspose` and PyTorch's `ConvTranspose{1,2,3}d`:
/// `valid` gives `in·s + max(extent − s, 0)`, `same` gives `in·s`, and explicit `(low, high)`
/// padding gives `(in − 1)·s + extent − low − high + outputPadding`, where `extent` is the
/// dilated kernel size.
struct TransposedConvolutionGeometry {
    let outputSpatial: [Int]
    let descriptor: ConvolutionDescriptor

    init(input spatial: [Int], kernel: [Int], strides: [Int], dilation: [Int], padding: PaddingMode, outputPadding: [Int]) throws {
        for (option, values, least) in [("kernel size", kernel, 1), ("strides", strides, 1), ("dilation", dilation, 1), ("output padding", outputPadding, 0)] {
            guard values.count == spatial.count, values.allSatisfy({ $0 >= least }) else {
                throw LayerError("\(option) needs \(spatial.count) values of at least \(least) for \(spatial.count) spatial dimensions, got \(values)")
            }
        }
        let extent = try zip(kernel, dilation).map { size, rate in
            try layerArithmetic("a kernel of size \(size) dilated by \(rate)") { $0.add($0.multiply(size - 1, rate), 1) }
        }
        let scaled = try spatial.indices.map { axis in
            try layerArithmetic("input size \(spatial[axis]) times stride \(strides[axis])") { $0.multiply(spatial[axis], strides[axis]) }
        }
        for axis in spatial.indices where outputPadding[axis] >= strides[axis] {
            throw LayerError("output padding \(outputPadding) must be smaller than the strides \(strides) in every dimension")
        }
        let forwardPadding: [Padding]
        switch padding {
        case .valid, .same:
            guard outputPadding.allSatisfy({ $0 == 0 }) else {
                throw LayerError("output padding \(outputPadding) needs explicit padding; with \(padding) the output size is fixed")
            }
            outputSpatial = try spatial.indices.map { axis in
                guard padding == .valid else { return scaled[axis] }
                return try layerArithmetic("the transposed convolution's output size in dimension \(axis)") {
                    $0.add(scaled[axis], Swift.max(extent[axis] - strides[axis], 0))
                }
            }
            forwardPadding = try padding.resolve(input: outputSpatial, extent: extent, strides: strides)
        case .explicit:
            forwardPadding = try padding.resolve(input: spatial, extent: extent, strides: strides)
            outputSpatial = try spatial.indices.map { axis in
                let size = try layerArithmetic("the transposed convolution's output size in dimension \(axis)") {
                    $0.add($0.add($0.add(scaled[axis], -strides[axis]), extent[axis]),
                           outputPadding[axis] - forwardPadding[axis].low - forwardPadding[axis].high)
                }
                guard size > 0 else {
                    throw LayerError("padding (\(forwardPadding[axis].low), \(forwardPadding[axis].high)) leaves no output in dimension \(axis) of size \(spatial[axis]) (kernel extent \(extent[axis]), stride \(strides[axis]))")
                }
                return size
            }
        }
        descriptor = ConvolutionDescriptor(strides: strides, padding: forwardPadding, kernelDilation: dilation)
    }
}

struct ConvTransposeLayer: SerializableLayer {
    let filters: Int
    let kernelSize: [Int]
    let strides: [Int]
    let padding: PaddingMode
    let outputPadding: [Int]
    let dilation: [Int]
    let groups: Int
    let channels: ChannelLayout
    let activation: Activation
    let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    var kind: String { "conv_transpose" }

    func geometry(_ spatial: [Int]) throws -> TransposedConvolutionGeometry {
        let n = spatial.count
        return try TransposedConvolutionGeometry(
            input: spatial, kernel: spatialValues(kernelSize, count: n, "kernel size"), strides: spatialValues(strides, count: n, "strides"),
            dilation: spatialValues(dilation, count: n, "dilation"),
            padding: padding, outputPadding: outputPaddingValues(n))
    }

    func outputPaddingValues(_ n: Int) throws -> [Int] {
        guard outputPadding.count == 1 || outputPadding.count == n, outputPadding.allSatisfy({ $0 >= 0 }) else {
            throw LayerError("output padding needs 1 or \(n) non-negative values, got \(outputPadding)")
        }
        return outputPadding.count == 1 ? Array(repeating: outputPadding[0], count: n) : outputPadding
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let (spatial, inChannels) = try spatialGeometry(inputs[0], channels)
        guard filters > 0, groups > 0, inChannels % groups == 0, filters % groups == 0 else {
            throw LayerError("filters (\(filters)) and input channels (\(inChannels)) must be positive multiples of groups (\(groups))")
        }
        let size = try spatialValues(kernelSize, count: spatial.count, "kernel size")
        return [ParameterSpec("kernel", shape: Shape(size + [filters / groups, inChannels]), initializer: kernelInitializer)]
            + (useBias ? [ParameterSpec("bias", shape: [filters], initializer: biasInitializer)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (spatial, _) = try spatialGeometry(inputs[0], channels)
        return assemble(batch: inputs[0][0], spatial: try geometry(spatial).outputSpatial, channels: filters, channels)
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let n = inputs[0].rank - 2
        return try Layers.convTranspose(
            inputs[0], kernel: context.parameter("kernel"), bias: useBias ? context.parameter("bias") : nil,
            strides: spatialValues(strides, count: n, "strides"), padding: padding, outputPadding: outputPaddingValues(n),
            dilation: spatialValues(dilation, count: n, "dilation"), groups: groups, channels: channels, activation: activation)
    }
}

extension Layers {
    /// A transposed convolution (sometimes called a deconvolution): the adjoint of
    /// ``conv(_:kernel:bias:strides:padding:dilation:groups:channels:activation:)`` with respect to
    /// its input, so each input position scatters the kernel, scaled, into the output. `kernel` is
    /// `[kernelSize..., filters / groups, inChannels]`; see ``Axon/convTranspose(_:kernelSize:strides:padding:outputPadding:dilation:groups:channels:activation:useBias:kernelInitializer:biasInitializer:name:)``
    /// for output sizes and the mapping from PyTorch's weights.
    public static func convTranspose(
        _ x: Tensor, kernel: Tensor, bias: Tensor?, strides: [Int], padding: PaddingMode, outputPadding: [Int],
        dilation: [Int], groups: Int = 1, channels: ChannelLayout = .last, activation: Activation = .linear
    ) throws -> Tensor {
        let input = try toChannelsLast(x, channels)
        let spatial = Array(input.shape.dimensions.dropFirst().dropLast())
        guard kernel.rank == spatial.count + 2 else {
            throw LayerError("convTranspose needs a kernel of rank \(spatial.count + 2) for input \(x.shape), got \(kernel.shape)")
        }
        let geometry = try TransposedConvolutionGeometry(
            input: spatial, kernel: Array(kernel.shape.dimensions.prefix(spatial.count)), strides: strides, dilation: dilation,
            padding: padding, outputPadding: outputPadding)
        var descriptor = geometry.descriptor
        descriptor.groups = groups
        let filters = kernel.shape[spatial.count] * groups
        let outputShape = Shape([input.shape[0]] + geometry.outputSpatial + [filters])
        let output: Tensor
        if let fused = activation.fused {
            output = try input.transposedConvolution(kernel: kernel, bias: bias, outputShape: outputShape, descriptor: descriptor, activation: fused)
        } else {
            output = try activation.apply(
                input.transposedConvolution(kernel: kernel, bias: bias, outputShape: outputShape, descriptor: descriptor, activation: .identity))
        }
        return try fromChannelsLast(output, channels)
    }
}

extension Axon {
    /// A transposed convolution (Keras's `Conv2DTranspose`, PyTorch's `ConvTranspose2d`) whose
    /// spatial rank comes from the input's rank: the adjoint of a convolution with the same
    /// options, which upsamples by `strides`.
    ///
    /// Output sizes: `valid` padding gives `in·stride + max(extent − stride, 0)` and `same` gives
    /// `in·stride` (Keras), where `extent = (kernelSize − 1)·dilation + 1`; explicit `(low, high)`
    /// padding gives `(in − 1)·stride + extent − low − high + outputPadding` (PyTorch's `padding`
    /// is `(p, p)`, its `output_padding` is `outputPadding`, which must be smaller than the stride).
    ///
    /// Parameters: `kernel` `[kernelSize..., filters / groups, inChannels]` and `bias` `[filters]`.
    /// PyTorch's `ConvTranspose2d.weight` `[inChannels, filters / groups, kH, kW]` maps to it by
    /// permuting axes `(2, 3, 1, 0)`, with no flip; Keras's kernel `[kH, kW, filters, inChannels]` is
    /// already in this layout. Elixir Axon's `conv_transpose` correlates without the adjoint's
    /// flip: its kernel is this one reversed along every spatial axis.
    public func convTranspose(
        _ filters: Int, kernelSize: [Int] = [3], strides: [Int] = [1], padding: PaddingMode = .valid, outputPadding: [Int] = [0],
        dilation: [Int] = [1], groups: Int = 1, channels: ChannelLayout = .last, activation: Activation = .linear,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        name: String? = nil
    ) -> Axon {
        apply(
            ConvTransposeLayer(
                filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, outputPadding: outputPadding,
                dilation: dilation, groups: groups, channels: channels, activation: activation, useBias: useBias,
                kernelInitializer: kernelInitializer, biasInitializer: biasInitializer),
            name: name)
    }
}
