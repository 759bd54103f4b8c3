import Backend

/// Batch normalisation (Ioffe & Szegedy, 2015): parameters `gamma` and `beta`, state `mean`
/// and `var` (running statistics, Keras's convention: `running = momentum·running +
/// (1 − momentum)·batch`, batch variance biased).
struct BatchNormLayer: Layer {
    let axis: Int
    let epsilon: Float
    let momentum: Float
    var kind: String { "batch_norm" }

    func channelCount(_ input: SymbolicShape) throws -> Int {
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
        let result = try Layers.batchNorm(
            inputs[0], gamma: context.parameter("gamma"), beta: context.parameter("beta"), mean: context.parameter("mean"),
            variance: context.parameter("var"), epsilon: epsilon, momentum: momentum, channelAxis: axis,
            training: context.mode == .train)
        context.updateState("mean", result.mean)
        context.updateState("var", result.variance)
        return result.output
    }
}

/// Layer normalisation (Ba et al., 2016) over the last axis: parameters `gamma` and `beta`.
struct LayerNormLayer: Layer {
    let epsilon: Float
    var kind: String { "layer_norm" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard let last = inputs[0].last, let features = last else {
            throw LayerError("needs an input with a known last dimension, got \(inputs[0].shapeDescription)")
        }
        guard epsilon > 0 else { throw LayerError("epsilon must be positive, got \(epsilon)") }
        return [
            ParameterSpec("gamma", shape: [features], initializer: .ones),
            ParameterSpec("beta", shape: [features], initializer: .zeros),
        ]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.layerNorm(inputs[0], gamma: context.parameter("gamma"), beta: context.parameter("beta"), epsilon: epsilon)
    }
}

extension Axon {
    /// Batch normalisation over every axis but `axis` (the channels; last by default). The
    /// running statistics keep `momentum` of their old value each training step; the default
    /// 0.9 (PyTorch's 0.1 in its convention) settles within a few hundred steps.
    public func batchNorm(axis: Int = -1, epsilon: Float = 1e-5, momentum: Float = 0.9, name: String? = nil) -> Axon {
        apply(BatchNormLayer(axis: axis, epsilon: epsilon, momentum: momentum), name: name)
    }

    /// Layer normalisation over the last axis.
    public func layerNorm(epsilon: Float = 1e-5, name: String? = nil) -> Axon {
        apply(LayerNormLayer(epsilon: epsilon), name: name)
    }
}
