import Backend

struct DenseLayer: SerializableLayer {
    let units: Int
    let activation: Activation
    let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    var kind: String { "dense" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard units > 0 else { throw LayerError("units must be positive, got \(units)") }
        guard let features = inputs[0].last, let features else {
            throw LayerError("needs an input of rank ≥ 1 with a known last dimension, got \(inputs[0].shapeDescription)")
        }
        return [ParameterSpec("kernel", shape: [features, units], initializer: kernelInitializer, regularizer: kernelRegularizer)]
            + (useBias ? [ParameterSpec("bias", shape: [units], initializer: biasInitializer)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0].dropLast() + [units] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.dense(
            inputs[0], kernel: context.parameter("kernel"), bias: useBias ? context.parameter("bias") : nil, activation: activation)
    }
}

struct ActivationLayer: SerializableLayer, NamedAxisLayer {
    let activation: Activation
    /// The axis of a softmax-like activation given by name, replaced by its position in
    /// `activation` when the model is built; absent from saved graphs otherwise.
    var axisName: String?
    var kind: String { activation.name }

    /// `axis`, when given, replaces the axis of a softmax-like `activation`.
    init(activation: Activation, axis: Axis? = nil) {
        switch axis {
        case nil: self.activation = activation
        case let .index(position): self.activation = activation.along(position)
        case let .named(name): (self.activation, axisName) = (activation, name)
        }
    }

    func resolvingAxes(in inputs: [NamedShape]) throws -> ActivationLayer {
        guard let axisName else { return self }
        return ActivationLayer(activation: activation, axis: .index(try inputs[0].position(of: .named(axisName))))
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        if case let .logSumExp(axis) = activation {
            var shape = inputs[0]
            let resolved = axis < 0 ? axis + shape.count : axis
            guard resolved >= 0, resolved < shape.count else {
                throw LayerError("axis \(axis) is out of range for input \(inputs[0].shapeDescription)")
            }
            shape[resolved] = 1
            return shape
        }
        return inputs[0]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { try activation.apply(inputs[0]) }
}

struct DropoutLayer: SerializableLayer {
    let rate: Float
    let noiseShape: SymbolicShape?
    var kind: String { "dropout" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard rate >= 0, rate < 1 else { throw LayerError("rate must be in [0, 1), got \(rate)") }
        if let noiseShape, noiseShape.count != inputs[0].count {
            throw LayerError("noise shape \(noiseShape.shapeDescription) must have the rank of input \(inputs[0].shapeDescription)")
        }
        return inputs[0]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        guard context.mode == .train, rate > 0 else { return x }
        // Unknown noise dimensions follow the input, so a noise shape of [nil, 1, 1, nil] drops
        // whole channels per example.
        let noise = noiseShape.map { template in Shape(zip(template, x.shape.dimensions).map { $0.0 ?? $0.1 }) } ?? x.shape
        // A mask that follows the batch (an unknown first noise dimension) is this rank's rows of the global batch's.
        let followsBatch = noiseShape.map { $0.first.flatMap { $0 } == nil } ?? true
        let perExample = followsBatch ? Layers.elementsPerExample(noise) : 0
        return try x.dropout(rate: rate, key: context.randomKey, offset: context.maskOffset(elementsPerExample: perExample), noiseShape: noise)
    }
}

struct EmbeddingLayer: SerializableLayer {
    let vocabularySize: Int
    let features: Int
    let initializer: Initializer
    var kind: String { "embedding" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard vocabularySize > 0, features > 0 else {
            throw LayerError("vocabulary size and features must be positive, got \(vocabularySize) and \(features)")
        }
        return [ParameterSpec("kernel", shape: [vocabularySize, features], initializer: initializer)]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] + [features] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        guard inputs[0].dtype == .int32 else {
            throw LayerError("expects int32 indices, got \(inputs[0].dtype)")
        }
        return try Layers.embedding(inputs[0], kernel: context.parameter("kernel"))
    }
}

extension Axon {
    /// A fully connected layer: `activation(x · kernel + bias)` over the last axis, with
    /// parameters `kernel` `[in, units]` and `bias` `[units]`. A `kernelRegularizer` adds its
    /// penalty to the training loss.
    public func dense(
        _ units: Int, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, name: String? = nil
    ) -> Axon {
        apply(
            DenseLayer(
                units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                biasInitializer: biasInitializer, kernelRegularizer: kernelRegularizer),
            name: name)
    }

    /// An activation function as a layer.
    public func activation(_ activation: Activation, name: String? = nil) -> Axon {
        apply(ActivationLayer(activation: activation), name: name)
    }

    /// A ReLU layer, `max(x, 0)`.
    public func relu(name: String? = nil) -> Axon { activation(.relu, name: name) }
    /// A sigmoid layer.
    public func sigmoid(name: String? = nil) -> Axon { activation(.sigmoid, name: name) }
    /// A tanh layer.
    public func tanh(name: String? = nil) -> Axon { activation(.tanh, name: name) }
    /// Softmax along `axis` (a position or a name).
    public func softmax(axis: Axis = -1, name: String? = nil) -> Axon {
        apply(ActivationLayer(activation: .softmax(), axis: axis), name: name)
    }
    /// Log-softmax along `axis` (a position or a name).
    public func logSoftmax(axis: Axis = -1, name: String? = nil) -> Axon {
        apply(ActivationLayer(activation: .logSoftmax(), axis: axis), name: name)
    }

    /// Inverted dropout in training mode, the identity in inference. `noiseShape` (same rank as
    /// the input, `nil` entries following the input) drops whole slices, e.g. channels.
    public func dropout(rate: Float = 0.5, noiseShape: SymbolicShape? = nil, name: String? = nil) -> Axon {
        apply(DropoutLayer(rate: rate, noiseShape: noiseShape), name: name)
    }

    /// Looks up `int32` indices in a `[vocabularySize, features]` table (`kernel`).
    public func embedding(
        vocabularySize: Int, features: Int, initializer: Initializer = .uniform(), name: String? = nil
    ) -> Axon {
        apply(EmbeddingLayer(vocabularySize: vocabularySize, features: features, initializer: initializer), name: name)
    }
}

extension Activation {
    /// The activation computed along `axis` when it works along one; itself otherwise.
    fileprivate func along(_ axis: Int) -> Activation {
        switch self {
        case .softmax: .softmax(axis: axis)
        case .logSoftmax: .logSoftmax(axis: axis)
        case .logSumExp: .logSumExp(axis: axis)
        default: self
        }
    }
}
