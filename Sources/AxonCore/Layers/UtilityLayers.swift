import Backend

/// A fixed tensor as a graph node (Elixir Axon's `constant`).
struct ConstantLayer: SerializableLayer {
    let value: HostArray
    var kind: String { "constant" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { value.shape.dimensions.map { $0 } }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { try Tensor(value, on: context.backend) }
}

/// A trainable offset added along the last axis (Elixir Axon's `bias`).
struct BiasLayer: SerializableLayer {
    let initializer: Initializer
    var kind: String { "bias" }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard let features = inputs[0].last ?? nil else { throw LayerError("needs a known last dimension, got \(inputs[0].shapeDescription)") }
        return [ParameterSpec("bias", shape: [features], initializer: initializer)]
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { try inputs[0] + context.parameter("bias") }
}

/// `y_o = Σ_ij a_i · W_oij · b_j + bias_o` over the last axes of two inputs.
struct BilinearLayer: SerializableLayer {
    let units: Int
    let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    var kind: String { "bilinear" }

    func features(_ inputs: [SymbolicShape]) throws -> (Int, Int) {
        guard units > 0 else { throw LayerError("units must be positive, got \(units)") }
        guard inputs[0].count >= 2, Array(inputs[0].dropLast()) == Array(inputs[1].dropLast()),
            let left = inputs[0].last ?? nil, let right = inputs[1].last ?? nil
        else {
            throw LayerError("needs two inputs with the same leading axes and known last dimensions, got \(inputs[0].shapeDescription) and \(inputs[1].shapeDescription)")
        }
        return (left, right)
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let (left, right) = try features(inputs)
        return [ParameterSpec("kernel", shape: [units, left, right], initializer: kernelInitializer)]
            + (useBias ? [ParameterSpec("bias", shape: [units], initializer: biasInitializer)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        _ = try features(inputs)
        return Array(inputs[0].dropLast()) + [units]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.bilinear(inputs[0], inputs[1], kernel: context.parameter("kernel"), bias: useBias ? context.parameter("bias") : nil)
    }
}

/// The output of one of two branches, chosen by a predicate on a third input (Elixir Axon's
/// `cond`).
struct ConditionLayer: Layer {
    let predicate: @Sendable (Tensor) throws -> Bool
    var kind: String { "cond" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard inputs[1].count == inputs[2].count, zip(inputs[1], inputs[2]).allSatisfy({ $0 == nil || $1 == nil || $0 == $1 }) else {
            throw LayerError("needs branches of one shape, got \(inputs[1].shapeDescription) and \(inputs[2].shapeDescription)")
        }
        return zip(inputs[1], inputs[2]).map { $0 ?? $1 }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try predicate(inputs[0]) ? inputs[1] : inputs[2]
    }
}

extension Layers {
    /// `y_o = Σ_ij a_i · kernel[o, i, j] · b_j + bias_o` over the last axes of `a` and `b` (PyTorch's
    /// `nn.Bilinear`, whose weight has this layout), leading axes shared.
    public static func bilinear(_ a: Tensor, _ b: Tensor, kernel: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard a.rank >= 1, b.rank == a.rank, kernel.rank == 3, kernel.shape[1] == a.shape[a.rank - 1], kernel.shape[2] == b.shape[b.rank - 1] else {
            throw LayerError("bilinear needs inputs [..., i] and [..., j] with a kernel [units, i, j], got \(a.shape), \(b.shape) and \(kernel.shape)")
        }
        let (units, left, right) = (kernel.shape[0], kernel.shape[1], kernel.shape[2])
        let leading = Array(a.shape.dimensions.dropLast())
        let rows = leading.reduce(1, *)
        // a·W as [rows, units·j], then the dot product with b over j.
        let mixed = try a.reshaped(to: [rows, left]).matmul(kernel.permuted([1, 0, 2]).reshaped(to: [left, units * right]))
        var y = try (mixed.reshaped(to: [rows, units, right]) * b.reshaped(to: [rows, 1, right])).sum(axes: [2])
        if let bias { y = try y + bias }
        return try y.reshaped(to: Shape(leading + [units]))
    }
}

extension Axon {
    /// A node holding a fixed tensor (Elixir Axon's `constant`), for example a mask or a table
    /// of positions that other layers combine with their inputs.
    public static func constant(_ value: HostArray, name: String? = nil) -> Axon {
        apply(ConstantLayer(value: value), to: [], name: name)
    }

    /// `onTrue` where `predicate` holds for `condition`'s value, else `onFalse` (Elixir Axon's
    /// `cond`); the branches must have one shape. Both branches are computed; the gradient flows
    /// through the chosen one only.
    ///
    /// ```swift
    /// let x = Axon.input("x", shape: [nil, 3])
    /// let clipped = Axon.cond(x, { try $0.abs().max().item() > 10 }, then: x.tanh(), else: x)
    /// ```
    public static func cond(
        _ condition: Axon, _ predicate: @escaping @Sendable (Tensor) throws -> Bool, then onTrue: Axon, else onFalse: Axon, name: String? = nil
    ) -> Axon {
        apply(ConditionLayer(predicate: predicate), to: [condition, onTrue, onFalse], name: name)
    }

    /// Adds a trainable `bias` `[features]` along the last axis (Elixir Axon's `bias`).
    public func bias(initializer: Initializer = .zeros, name: String? = nil) -> Axon {
        apply(BiasLayer(initializer: initializer), name: name)
    }

    /// A bilinear layer (Elixir Axon's `bilinear`, PyTorch's `nn.Bilinear`): for inputs
    /// `[..., i]` and `[..., j]`, `y_o = Σ_ij a_i · kernel[o, i, j] · b_j + bias_o` with parameters
    /// `kernel` `[units, i, j]` (PyTorch's weight as it is) and `bias` `[units]`.
    public static func bilinear(
        _ a: Axon, _ b: Axon, units: Int, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, name: String? = nil
    ) -> Axon {
        apply(BilinearLayer(units: units, useBias: useBias, kernelInitializer: kernelInitializer, biasInitializer: biasInitializer), to: [a, b], name: name)
    }
}
