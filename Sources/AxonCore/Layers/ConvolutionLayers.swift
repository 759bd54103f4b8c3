import Backend

/// Expands a per-dimension option given once or per spatial dimension.
func spatialValues(_ values: [Int], count: Int, _ option: String) throws -> [Int] {
    guard values.count == 1 || values.count == count else {
        throw LayerError("\(option) needs 1 or \(count) values for \(count) spatial dimensions, got \(values.count)")
    }
    guard values.allSatisfy({ $0 >= 1 }) else { throw LayerError("\(option) must be ≥ 1, got \(values)") }
    return values.count == 1 ? Array(repeating: values[0], count: count) : values
}

/// The spatial sizes and channel count of a convolution or pooling input, checked.
func spatialGeometry(_ input: SymbolicShape, _ channels: ChannelLayout) throws -> (spatial: [Int], channels: Int) {
    guard input.count >= 3 else {
        throw LayerError("needs an input [batch, spatial..., channels] of rank ≥ 3, got \(input.shapeDescription)")
    }
    let inner = Array(input.dropFirst())
    let spatialPart = channels == .last ? Array(inner.dropLast()) : Array(inner.dropFirst())
    let channelPart = (channels == .last ? inner.last : inner.first) ?? nil
    let spatial = spatialPart.compactMap { $0 }
    guard let channelCount = channelPart, spatial.count == spatialPart.count else {
        throw LayerError("needs known spatial and channel sizes, got \(input.shapeDescription)")
    }
    return (spatial, channelCount)
}

/// How many window positions fit along each spatial dimension; `tooSmall` explains a
/// dimension the window does not fit in.
func windowPositions(
    _ spatial: [Int], extent: [Int], strides: [Int], padding: PaddingMode, tooSmall: () -> String
) throws -> [Int] {
    let pads = try padding.resolve(input: spatial, extent: extent, strides: strides)
    return try spatial.indices.map { axis in
        let padded = try layerArithmetic("dimension \(axis) of size \(spatial[axis]) padded by \(pads[axis])") {
            $0.add($0.add(spatial[axis], pads[axis].low), pads[axis].high)
        }
        guard padded >= extent[axis] else { throw LayerError(tooSmall()) }
        return (padded - extent[axis]) / strides[axis] + 1
    }
}

/// Assembles `[batch, spatial..., channels]` (or channels first) from its parts.
func assemble(batch: Int?, spatial: [Int], channels: Int, _ layout: ChannelLayout) -> SymbolicShape {
    layout == .last ? [batch] + spatial.map { $0 } + [channels] : [batch, channels] + spatial.map { $0 }
}

struct ConvLayer: SerializableLayer {
    let filters: Int
    let kernelSize: [Int]
    let strides: [Int]
    let padding: PaddingMode
    let dilation: [Int]
    let groups: Int
    let channels: ChannelLayout
    let activation: Activation
    let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    var kind: String { "conv" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let (spatial, inChannels) = try spatialGeometry(inputs[0], channels)
        guard filters > 0, groups > 0, inChannels % groups == 0, filters % groups == 0 else {
            throw LayerError("filters (\(filters)) and input channels (\(inChannels)) must be positive multiples of groups (\(groups))")
        }
        let size = try spatialValues(kernelSize, count: spatial.count, "kernel size")
        return [ParameterSpec("kernel", shape: Shape(size + [inChannels / groups, filters]), initializer: kernelInitializer, regularizer: kernelRegularizer)]
            + (useBias ? [ParameterSpec("bias", shape: [filters], initializer: biasInitializer)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (spatial, _) = try spatialGeometry(inputs[0], channels)
        let n = spatial.count
        let (size, step, rate) = (try spatialValues(kernelSize, count: n, "kernel size"), try spatialValues(strides, count: n, "strides"), try spatialValues(dilation, count: n, "dilation"))
        let extent = try zip(size, rate).map { kernel, dilation in
            try layerArithmetic("a kernel of size \(kernel) dilated by \(dilation)") { $0.add($0.multiply(kernel - 1, dilation), 1) }
        }
        let output = try windowPositions(spatial, extent: extent, strides: step, padding: padding) {
            "input \(inputs[0].shapeDescription) is too small for a kernel of extent \(extent) with padding \(padding)"
        }
        return assemble(batch: inputs[0][0], spatial: output, channels: filters, channels)
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let n = inputs[0].rank - 2
        return try Layers.conv(
            inputs[0], kernel: context.parameter("kernel"), bias: useBias ? context.parameter("bias") : nil,
            strides: spatialValues(strides, count: n, "strides"), padding: padding,
            dilation: spatialValues(dilation, count: n, "dilation"), groups: groups, channels: channels, activation: activation)
    }
}

/// What a pooling layer reduces each window (or the whole spatial extent, or an adaptive bin) to.
enum Pooling: Sendable, Codable {
    case max
    /// The mean; over a padded window either of the in-bounds elements or of the whole window.
    case average(countPadding: Bool)
    /// `(Σ xᵖ)^(1/p)`.
    case lp(Float)

    /// The layer kind, with `prefix` (`global_`, `adaptive_`).
    func kind(_ prefix: String = "") -> String {
        switch self {
        case .max: return prefix + "max_pool"
        case .average: return prefix + "avg_pool"
        case .lp: return prefix + "lp_pool"
        }
    }

    func check() throws {
        guard case let .lp(norm) = self else { return }
        guard norm.isFinite, norm > 0 else { throw LayerError("norm must be finite and positive, got \(norm)") }
    }
}

struct PoolLayer: SerializableLayer {
    let pooling: Pooling
    let kernelSize: [Int]
    let strides: [Int]?
    let padding: PaddingMode
    let channels: ChannelLayout
    var kind: String { pooling.kind() }

    func geometry(_ n: Int) throws -> (size: [Int], strides: [Int]) {
        let size = try spatialValues(kernelSize, count: n, "kernel size")
        return (size, try strides.map { try spatialValues($0, count: n, "strides") } ?? size)
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        try pooling.check()
        let (spatial, channelCount) = try spatialGeometry(inputs[0], channels)
        let (size, step) = try geometry(spatial.count)
        let output = try windowPositions(spatial, extent: size, strides: step, padding: padding) {
            "input \(inputs[0].shapeDescription) is smaller than the window \(size)"
        }
        return assemble(batch: inputs[0][0], spatial: output, channels: channelCount, channels)
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        let (size, step) = try geometry(x.rank - 2)
        switch pooling {
        case .max: return try Layers.pool(.max, x, kernelSize: size, strides: step, padding: padding, channels: channels)
        case .average(false): return try Layers.pool(.average, x, kernelSize: size, strides: step, padding: padding, channels: channels)
        case .average(true): return try Layers.avgPoolCountingPadding(x, kernelSize: size, strides: step, padding: padding, channels: channels)
        case let .lp(norm): return try Layers.lpPool(x, norm: norm, kernelSize: size, strides: step, padding: padding, channels: channels)
        }
    }
}

struct GlobalPoolLayer: SerializableLayer, AxisNamingLayer {
    let pooling: Pooling
    let channels: ChannelLayout
    let keepDimensions: Bool
    var kind: String { pooling.kind("global_") }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        try pooling.check()
        let (spatial, channelCount) = try spatialGeometry(inputs[0], channels)
        let kept = keepDimensions ? spatial.map { _ in 1 } : []
        return keepDimensions
            ? assemble(batch: inputs[0][0], spatial: kept, channels: channelCount, channels)
            : [inputs[0][0], channelCount]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        switch pooling {
        case .max: return try Layers.globalPool(.max, inputs[0], channels: channels, keepDimensions: keepDimensions)
        case .average: return try Layers.globalPool(.mean, inputs[0], channels: channels, keepDimensions: keepDimensions)
        case let .lp(norm): return try Layers.globalLpPool(inputs[0], norm: norm, channels: channels, keepDimensions: keepDimensions)
        }
    }

    /// Dropping the spatial axes keeps the batch's and the channels' names.
    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        let input = inputs[0]
        guard !keepDimensions, !input.names.isEmpty else { return input.names }
        return [input.name(0), input.name(channels == .last ? input.shape.count - 1 : 1)]
    }
}

extension Axon {
    /// A convolution whose spatial rank (1-, 2- or 3-d) comes from the input's rank. Options
    /// given as one value apply to every spatial dimension. Parameters: `kernel`
    /// `[kernelSize..., inChannels / groups, filters]` and `bias` `[filters]`.
    public func conv(
        _ filters: Int, kernelSize: [Int] = [3], strides: [Int] = [1], padding: PaddingMode = .valid,
        dilation: [Int] = [1], groups: Int = 1, channels: ChannelLayout = .last, activation: Activation = .linear,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, name: String? = nil
    ) -> Axon {
        apply(
            ConvLayer(
                filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, dilation: dilation, groups: groups,
                channels: channels, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                biasInitializer: biasInitializer, kernelRegularizer: kernelRegularizer),
            name: name)
    }

    /// Max pooling; `strides` default to the window size.
    public func maxPool(
        kernelSize: [Int] = [2], strides: [Int]? = nil, padding: PaddingMode = .valid, channels: ChannelLayout = .last,
        name: String? = nil
    ) -> Axon {
        apply(PoolLayer(pooling: .max, kernelSize: kernelSize, strides: strides, padding: padding, channels: channels), name: name)
    }

    /// Average pooling; `strides` default to the window size. Padding is not counted unless
    /// `countPadding` (PyTorch's `count_include_pad`), which divides every window by its size.
    public func avgPool(
        kernelSize: [Int] = [2], strides: [Int]? = nil, padding: PaddingMode = .valid, channels: ChannelLayout = .last,
        countPadding: Bool = false, name: String? = nil
    ) -> Axon {
        apply(PoolLayer(pooling: .average(countPadding: countPadding), kernelSize: kernelSize, strides: strides, padding: padding, channels: channels), name: name)
    }

    /// The mean over every spatial axis.
    public func globalAvgPool(channels: ChannelLayout = .last, keepDimensions: Bool = false, name: String? = nil) -> Axon {
        apply(GlobalPoolLayer(pooling: .average(countPadding: false), channels: channels, keepDimensions: keepDimensions), name: name)
    }

    /// The maximum over every spatial axis.
    public func globalMaxPool(channels: ChannelLayout = .last, keepDimensions: Bool = false, name: String? = nil) -> Axon {
        apply(GlobalPoolLayer(pooling: .max, channels: channels, keepDimensions: keepDimensions), name: name)
    }
}
