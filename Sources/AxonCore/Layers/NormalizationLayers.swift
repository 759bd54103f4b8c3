import Backend

/// Batch normalisation (Ioffe & Szegedy, 2015): parameters `gamma` and `beta`, state `mean`
/// and `var` (running statistics, Keras's convention: `running = momentum·running +
/// (1 − momentum)·batch`, batch variance biased).
struct BatchNormLayer: SerializableLayer, NamedAxisLayer {
    let axis: Axis
    let epsilon: Float
    let momentum: Float
    var kind: String { "batch_norm" }

    func resolvingAxes(in inputs: [NamedShape]) throws -> BatchNormLayer {
        BatchNormLayer(axis: .index(try inputs[0].position(of: axis)), epsilon: epsilon, momentum: momentum)
    }

    func channelCount(_ input: SymbolicShape) throws -> Int {
        let axis = try self.axis.position()
        let resolved = axis < 0 ? axis + input.count : axis
        guard resolved >= 0, resolved < input.count, let size = input[resolved] else {
            throw LayerError("channel axis \(axis) must be a known dimension of input \(input.shapeDescription)")
        }
        guard epsilon > 0, momentum >= 0, momentum < 1 else {
            throw LayerError("epsilon must be positive and momentum in [0, 1), got \(epsilon) and \(momentum)")
        }
        return size
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let channels = try channelCount(inputs[0])
        return [
            ParameterSpec("gamma", shape: [channels], initializer: .ones),
            ParameterSpec("beta", shape: [channels], initializer: .zeros),
            ParameterSpec("mean", shape: [channels], initializer: .zeros, role: .state),
            ParameterSpec("var", shape: [channels], initializer: .ones, role: .state),
        ]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        if context.mode == .train, let share = context.share, share.synchronizesBatchStatistics {
            let result = try Layers.synchronizedBatchNorm(
                inputs[0], gamma: context.parameter("gamma"), beta: context.parameter("beta"), mean: context.parameter("mean"),
                variance: context.parameter("var"), epsilon: epsilon, momentum: momentum, channelAxis: axis.position(), share: share)
            context.updateState("mean", result.mean)
            context.updateState("var", result.variance)
            return result.output
        }
        let result = try Layers.batchNorm(
            inputs[0], gamma: context.parameter("gamma"), beta: context.parameter("beta"), mean: context.parameter("mean"),
            variance: context.parameter("var"), epsilon: epsilon, momentum: momentum, channelAxis: axis.position(),
            training: context.mode == .train)
        context.updateState("mean", result.mean)
        context.updateState("var", result.variance)
        return result.output
    }
}

extension Layers {
    /// Batch normalisation in training over the global batch of several ranks, each holding
    /// its part along axis 0: the mean and the (biased) variance are sums over every rank
    /// (``Tensor/summedOverRanks(_:)``, so the backward pass combines the ranks too) divided
    /// by the global count; the result on each rank is its rows of what one process computes
    /// on the whole batch.
    static func synchronizedBatchNorm(
        _ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float, momentum: Float,
        channelAxis: Int, share: RankShare
    ) throws -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let axis = try x.shape.normalizedAxis(channelAxis, operation: "batchNorm")
        guard axis != 0, x.rank > 1, x.shape[0] == share.examples else {
            throw AxonError.invalidValue(
                operation: "batchNorm",
                reason: "synchronised batch statistics need the examples along axis 0 (\(share.examples) on this rank) and the channels on another axis, got input \(x.shape) with channels on axis \(axis)")
        }
        var broadcastShape = [Int](repeating: 1, count: x.rank)
        broadcastShape[axis] = x.shape[axis]
        let shape = Shape(broadcastShape)
        let axes = (0..<x.rank).filter { $0 != axis }
        let perExample = axes.dropFirst().reduce(1) { $0 * x.shape[$1] }
        let count = Float(perExample * share.total)
        let batchMean = try x.sum(axes: axes, keepDimensions: true).summedOverRanks(share) / count
        let centered = try x - batchMean
        let batchVariance = try centered.square().sum(axes: axes, keepDimensions: true).summedOverRanks(share) / count
        let output = try centered * (batchVariance + epsilon).rsqrt() * gamma.reshaped(to: shape) + beta.reshaped(to: shape)
        let newMean = try exponentialMovingAverage(mean, batchMean.detached().reshaped(to: mean.shape), momentum: momentum)
        let newVariance = try exponentialMovingAverage(variance, batchVariance.detached().reshaped(to: variance.shape), momentum: momentum)
        return (output, newMean, newVariance)
    }
}

/// Layer normalisation (Ba et al., 2016) over the trailing `axisCount` axes: parameters
/// `gamma` (when `scale`) and `beta` (when `center`) of those axes' shape.
struct LayerNormLayer: SerializableLayer {
    let epsilon: Float
    let axisCount: Int
    let center: Bool
    let scale: Bool
    var kind: String { "layer_norm" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let input = inputs[0]
        guard axisCount >= 1, axisCount < input.count else {
            throw LayerError("normalises 1 to \(input.count - 1) trailing axes of \(input.shapeDescription), got \(axisCount)")
        }
        let trailing = input.suffix(axisCount)
        guard trailing.allSatisfy({ $0 != nil }) else {
            throw LayerError("needs known trailing dimensions, got \(input.shapeDescription)")
        }
        guard epsilon > 0 else { throw LayerError("epsilon must be positive, got \(epsilon)") }
        let shape = Shape(trailing.compactMap { $0 })
        return (scale ? [ParameterSpec("gamma", shape: shape, initializer: .ones)] : [])
            + (center ? [ParameterSpec("beta", shape: shape, initializer: .zeros)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.layerNorm(
            inputs[0], axisCount: axisCount, gamma: scale ? context.parameter("gamma") : nil,
            beta: center ? context.parameter("beta") : nil, epsilon: epsilon)
    }
}

extension Axon {
    /// Batch normalisation over every axis but `axis` (the channels, by position or name; last
    /// by default). The running statistics keep `momentum` of their old value each training
    /// step; the default 0.9 (PyTorch's 0.1 in its convention) settles within a few hundred steps.
    public func batchNorm(axis: Axis = -1, epsilon: Float = 1e-5, momentum: Float = 0.9, name: String? = nil) -> Axon {
        apply(BatchNormLayer(axis: axis, epsilon: epsilon, momentum: momentum), name: name)
    }

    /// Layer normalisation over the trailing `axisCount` axes (the last by default), with a
    /// learned scale `gamma` and offset `beta` of their shape unless `scale`/`center` is false.
    public func layerNorm(epsilon: Float = 1e-5, axisCount: Int = 1, center: Bool = true, scale: Bool = true, name: String? = nil) -> Axon {
        apply(LayerNormLayer(epsilon: epsilon, axisCount: axisCount, center: center, scale: scale), name: name)
    }
}
