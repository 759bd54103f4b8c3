import Backend

/// A recurrent layer over inputs `[x, lengths?, initial states...]`. Its output packs the
/// sequence and the final states along time, `[batch, time + states, units]`, so one node
/// computes everything and ``RecurrentOutput``'s parts are slices of it.
struct RecurrentLayer: SerializableLayer {
    let cell: RecurrentCell
    let units: Int
    let activation: Activation
    let recurrentActivation: Activation
    let useBias: Bool
    let kernelInitializer: Initializer
    let recurrentInitializer: Initializer
    let biasInitializer: Initializer
    let hasLengths: Bool
    let reverse: Bool
    let recurrentDropout: Float
    /// For a convolutional layer: the kernel size and the input convolution's geometry.
    let convolution: Convolution?
    var kind: String { convolution == nil ? cell.kind : "conv_\(cell.kind)" }

    struct Convolution: Sendable, Codable {
        let kernelSize: [Int]
        let geometry: RecurrentConvolution
    }

    /// The input's frame: `[features]`, or `[spatial..., channels]` for a convolutional layer.
    func frame(_ input: SymbolicShape) throws -> (spatial: [Int], features: Int) {
        guard convolution == nil ? input.count == 3 : input.count >= 4 else {
            throw LayerError(convolution == nil
                ? "needs an input [batch, time, features], got \(input.shapeDescription)"
                : "needs an input [batch, time, spatial..., channels], got \(input.shapeDescription)")
        }
        let inner = Array(input.dropFirst(2))
        guard inner.allSatisfy({ $0 != nil }) else { throw LayerError("needs known feature and spatial sizes, got \(input.shapeDescription)") }
        let known = inner.compactMap { $0 }
        return (Array(known.dropLast()), known[known.count - 1])
    }

    /// The kernels' spatial sizes (empty for a dense layer).
    func kernelSpatial(_ spatialRank: Int) throws -> [Int] {
        try convolution.map { try spatialValues($0.kernelSize, count: spatialRank, "kernel size") } ?? []
    }

    /// The state's spatial sizes after the input convolution.
    func stateSpatial(_ spatial: [Int]) throws -> [Int] {
        guard let convolution else { return [] }
        let n = spatial.count
        let (size, step, rate) = (try kernelSpatial(n), try spatialValues(convolution.geometry.strides, count: n, "strides"), try spatialValues(convolution.geometry.dilation, count: n, "dilation"))
        let extent = zip(size, rate).map { ($0 - 1) * $1 + 1 }
        return try windowPositions(spatial, extent: extent, strides: step, padding: convolution.geometry.padding) {
            "the frame \(spatial) is smaller than the kernel's extent \(extent)"
        }
    }

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        guard units > 0 else { throw LayerError("units must be positive, got \(units)") }
        let (spatial, features) = try frame(inputs[0])
        let width = try layerArithmetic("\(cell.gates) gates of \(units) units") { $0.multiply(cell.gates, units) }
        let size = try kernelSpatial(spatial.count)
        let recurrentBias = useBias && cell == .gru(resetAfter: true)
        return [
            ParameterSpec("kernel", shape: Shape(size + [features, width]), initializer: kernelInitializer),
            ParameterSpec("recurrent_kernel", shape: Shape(size + [units, width]), initializer: recurrentInitializer),
        ] + (useBias ? [ParameterSpec("bias", shape: [width], initializer: biasInitializer)] : [])
            + (recurrentBias ? [ParameterSpec("recurrent_bias", shape: [width], initializer: .zeros)] : [])
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let state = try stateSpatial(try frame(inputs[0]).spatial).map { Optional($0) } + [units]
        guard recurrentDropout >= 0, recurrentDropout < 1 else { throw LayerError("recurrent dropout must be in [0, 1), got \(recurrentDropout)") }
        if inputs[0][1] == 0 { throw LayerError("needs at least one time step, got \(inputs[0].shapeDescription)") }
        var next = 1
        if hasLengths {
            guard inputs[next].count == 1, inputs[next][0] == inputs[0][0] || inputs[next][0] == nil || inputs[0][0] == nil else {
                throw LayerError("needs lengths [batch] for input \(inputs[0].shapeDescription), got \(inputs[next].shapeDescription)")
            }
            next += 1
        }
        for initial in inputs[next...] where initial.count != state.count + 1 || zip(initial.dropFirst(), state).contains(where: { $0 != nil && $0 != $1 }) {
            throw LayerError("needs initial states \(([nil] + state).shapeDescription), got \(initial.shapeDescription)")
        }
        let time = inputs[0][1].map { $0 + cell.stateCount }
        return [inputs[0][0], time] + state
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let dropout = context.mode == .train && recurrentDropout > 0 ? (recurrentDropout, context.randomKey) : nil
        var weights = RecurrentWeights(
            kernel: try context.parameter("kernel"), recurrentKernel: try context.parameter("recurrent_kernel"),
            bias: useBias ? try context.parameter("bias") : nil,
            recurrentBias: useBias && cell == .gru(resetAfter: true) ? try context.parameter("recurrent_bias") : nil,
            activation: activation, recurrentActivation: recurrentActivation, recurrentDropout: dropout)
        weights.firstExample = context.firstExample
        let states = Array(inputs.dropFirst(hasLengths ? 2 : 1))
        return try Layers.packedRecurrent(
            cell, inputs[0], weights: weights, initialStates: states.isEmpty ? nil : states, lengths: hasLengths ? inputs[1] : nil,
            reverse: reverse, convolution: convolution?.geometry, unroll: false)
    }
}

/// The length of each padded token sequence: one past its last token that is not `padding`.
struct SequenceLengthsLayer: SerializableLayer {
    let padding: Int32
    var kind: String { "sequence_lengths" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard inputs[0].count == 2 else { throw LayerError("needs token ids [batch, time], got \(inputs[0].shapeDescription)") }
        return [inputs[0][0]]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.sequenceLengths(inputs[0], padding: padding)
    }
}

extension Layers {
    /// The length of each row of token ids `[batch, time]`: one past the last entry that is not
    /// `padding` (0 for a row of padding only), as `int32` `[batch]`, for a recurrent layer's
    /// `lengths` (Keras's `mask_zero`, Elixir Axon's embedding mask).
    public static func sequenceLengths(_ tokens: Tensor, padding: Int32 = 0) throws -> Tensor {
        guard tokens.rank == 2, tokens.dtype == .int32 else {
            throw LayerError("needs int32 token ids [batch, time], got \(tokens.dtype) \(tokens.shape)")
        }
        let time = tokens.shape[1]
        guard time < 1 << 24 else { throw LayerError("needs fewer than 2²⁴ time steps, got \(time)") }
        let positions = try Tensor((1...Swift.max(time, 1)).prefix(time).map(Float.init), shape: [1, time], on: tokens.backend)
        let present = try tokens.cast(to: .float32).compare(.notEqual, Float(padding)).cast(to: .float32)
        return try (present * positions).max(axes: [1]).cast(to: .int32)
    }
}

extension Axon {
    /// The lengths `[batch]` of padded token ids `[batch, time]` (one past each row's last
    /// non-`padding` token), to pass as a recurrent layer's `lengths`:
    ///
    /// ```swift
    /// let tokens = Axon.input("tokens", shape: [nil, 20], dtype: .int32)
    /// let encoded = tokens.embedding(vocabularySize: 1000, features: 32)
    ///     .lstm(64, lengths: tokens.sequenceLengths()).last
    /// ```
    public func sequenceLengths(padding: Int32 = 0, name: String? = nil) -> Axon {
        apply(SequenceLengthsLayer(padding: padding), name: name)
    }
}

/// One part of a packed recurrent output: the steps `start ..< start + count` along time, the
/// time axis dropped when `single`.
struct RecurrentPartLayer: SerializableLayer, AxisNamingLayer {
    let fromEnd: Int
    let count: Int?
    let single: Bool
    var kind: String { "recurrent_part" }

    func range(_ packed: Int) -> Range<Int> {
        count.map { 0..<(packed - $0) } ?? (packed - fromEnd)..<(packed - fromEnd + 1)
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (batch, packed, rest) = (inputs[0][0], inputs[0][1], Array(inputs[0].dropFirst(2)))
        if single { return [batch] + rest }
        return [batch, packed.map { range($0).count }] + rest
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        let part = try x.sliced(axis: 1, range(x.shape[1]))
        var dimensions = x.shape.dimensions
        dimensions.remove(at: 1)
        return single ? try part.reshaped(to: Shape(dimensions)) : part
    }

    /// A single step drops the time axis and its name.
    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        var names = inputs[0].names
        if single, names.count > 1 { names.remove(at: 1) }
        return names
    }
}

/// The outputs of a recurrent layer: the sequence, the last output and the final states.
public struct RecurrentOutput: Sendable {
    /// Every step's output `[batch, time, units]` (zeros at masked steps).
    public let sequence: Axon
    /// The final states, each `[batch, units]`: `[h]`, or `[h, c]` for an LSTM.
    public let states: [Axon]
    /// The last output `[batch, units]`: the final `h`, which for a variable-length sequence is
    /// its output at its own last step.
    public var last: Axon { states[0] }

    init(packed: Axon, stateCount: Int, name: String?) {
        func part(_ suffix: String) -> String? { name.map { "\($0)_\(suffix)" } }
        sequence = packed.apply(RecurrentPartLayer(fromEnd: 0, count: stateCount, single: false), name: part("sequence"))
        states = (0..<stateCount).map { index in
            packed.apply(RecurrentPartLayer(fromEnd: stateCount - index, count: nil, single: true), name: part(index == 0 ? "hidden" : "cell"))
        }
    }
}

extension Axon {
    /// Runs `cell` over this `[batch, time, features]` input; see ``RecurrentCell`` for the gate
    /// layouts and ``lstm(_:activation:recurrentActivation:useBias:kernelInitializer:recurrentInitializer:biasInitializer:unitForgetBias:lengths:initialStates:reverse:recurrentDropout:name:)``
    /// for the options.
    public func recurrent(
        _ cell: RecurrentCell, units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        biasInitializer: Initializer = .zeros, lengths: Axon? = nil, initialStates: [Axon] = [], reverse: Bool = false,
        recurrentDropout: Float = 0, convolution: (kernelSize: [Int], geometry: RecurrentConvolution)? = nil, name: String? = nil
    ) -> RecurrentOutput {
        let layer = RecurrentLayer(
            cell: cell, units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
            kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
            hasLengths: lengths != nil, reverse: reverse, recurrentDropout: recurrentDropout,
            convolution: convolution.map { RecurrentLayer.Convolution(kernelSize: $0.kernelSize, geometry: $0.geometry) })
        let packed = Axon.apply(layer, to: [self] + (lengths.map { [$0] } ?? []) + initialStates, name: name)
        return RecurrentOutput(packed: packed, stateCount: cell.stateCount, name: name)
    }

    /// A long short-term memory layer (Hochreiter & Schmidhuber, 1997) over `[batch, time,
    /// features]`. Parameters: `kernel` `[features, 4·units]`, `recurrent_kernel`
    /// `[units, 4·units]` (orthogonal by default) and `bias` `[4·units]`, gates in the order
    /// `i, f, g, o`; `unitForgetBias` starts the forget gate's bias at one (Keras's default).
    ///
    /// `lengths` (`int32` `[batch]`) makes the batch variable-length; `initialStates` are `[h, c]`
    /// inputs (zeros when empty); `reverse` reads each sequence backwards within its length;
    /// `recurrentDropout` drops `h` before the recurrent product in training, one mask per
    /// sequence.
    ///
    /// PyTorch's `nn.LSTM` loads as `kernel = weight_ih_l0ᵀ`, `recurrent_kernel = weight_hh_l0ᵀ`,
    /// `bias = bias_ih_l0 + bias_hh_l0` (same gate order). Keras's `LSTM` weights load as they are.
    public func lstm(
        _ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        biasInitializer: Initializer = .zeros, unitForgetBias: Bool = true, lengths: Axon? = nil, initialStates: [Axon] = [],
        reverse: Bool = false, recurrentDropout: Float = 0, name: String? = nil
    ) -> RecurrentOutput {
        recurrent(
            .lstm, units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
            kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
            biasInitializer: unitForgetBias ? .blocks([biasInitializer, .ones, biasInitializer, biasInitializer]) : biasInitializer,
            lengths: lengths, initialStates: initialStates, reverse: reverse, recurrentDropout: recurrentDropout, name: name)
    }

    /// A gated recurrent unit layer (Cho et al., 2014). Parameters: `kernel` `[features,
    /// 3·units]`, `recurrent_kernel` `[units, 3·units]`, `bias` `[3·units]` and, with
    /// `resetAfter` (the default, as PyTorch and cuDNN compute it), `recurrent_bias` `[3·units]`;
    /// gates in PyTorch's order `r, z, n`. Options as for ``lstm(_:activation:recurrentActivation:useBias:kernelInitializer:recurrentInitializer:biasInitializer:unitForgetBias:lengths:initialStates:reverse:recurrentDropout:name:)``;
    /// `initialStates` is `[h]`.
    ///
    /// PyTorch's `nn.GRU` loads as `kernel = weight_ih_l0ᵀ`, `recurrent_kernel = weight_hh_l0ᵀ`,
    /// `bias = bias_ih_l0`, `recurrent_bias = bias_hh_l0`. Keras's `GRU` (`z, r, h` order) loads
    /// with the first two blocks of each weight exchanged.
    public func gru(
        _ units: Int, resetAfter: Bool = true, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        biasInitializer: Initializer = .zeros, lengths: Axon? = nil, initialStates: [Axon] = [], reverse: Bool = false,
        recurrentDropout: Float = 0, name: String? = nil
    ) -> RecurrentOutput {
        recurrent(
            .gru(resetAfter: resetAfter), units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
            kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
            lengths: lengths, initialStates: initialStates, reverse: reverse, recurrentDropout: recurrentDropout, name: name)
    }

    /// A fully connected recurrent layer, `h' = activation(x·W + h·U + b)` (PyTorch's `nn.RNN`:
    /// `bias = bias_ih_l0 + bias_hh_l0`). Options as for ``lstm(_:activation:recurrentActivation:useBias:kernelInitializer:recurrentInitializer:biasInitializer:unitForgetBias:lengths:initialStates:reverse:recurrentDropout:name:)``.
    public func simpleRNN(
        _ units: Int, activation: Activation = .tanh, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros, lengths: Axon? = nil,
        initialStates: [Axon] = [], reverse: Bool = false, recurrentDropout: Float = 0, name: String? = nil
    ) -> RecurrentOutput {
        recurrent(
            .simple, units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer, lengths: lengths, initialStates: initialStates,
            reverse: reverse, recurrentDropout: recurrentDropout, name: name)
    }

    /// A convolutional LSTM (Shi et al., 2015; Keras's `ConvLSTM{1,2,3}D`) over `[batch, time,
    /// spatial..., channels]`: the LSTM of ``lstm(_:activation:recurrentActivation:useBias:kernelInitializer:recurrentInitializer:biasInitializer:unitForgetBias:lengths:initialStates:reverse:recurrentDropout:name:)``
    /// with every product a convolution. Parameters: `kernel` `[kernelSize..., channels,
    /// 4·filters]`, `recurrent_kernel` `[kernelSize..., filters, 4·filters]`, `bias`
    /// `[4·filters]` (gates `i, f, g, o`, Keras's layout). The input convolution takes
    /// `strides`, `padding` and `dilation`; the recurrent one keeps the state's size. States and
    /// outputs are `[batch, spatial'..., filters]`.
    public func convLSTM(
        _ filters: Int, kernelSize: [Int] = [3], strides: [Int] = [1], padding: PaddingMode = .same, dilation: [Int] = [1],
        activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        biasInitializer: Initializer = .zeros, unitForgetBias: Bool = true, lengths: Axon? = nil, initialStates: [Axon] = [],
        reverse: Bool = false, recurrentDropout: Float = 0, name: String? = nil
    ) -> RecurrentOutput {
        recurrent(
            .lstm, units: filters, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
            kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
            biasInitializer: unitForgetBias ? .blocks([biasInitializer, .ones, biasInitializer, biasInitializer]) : biasInitializer,
            lengths: lengths, initialStates: initialStates, reverse: reverse, recurrentDropout: recurrentDropout,
            convolution: (kernelSize, RecurrentConvolution(strides: strides, padding: padding, dilation: dilation)), name: name)
    }

    /// How ``bidirectional(merge:_:)`` joins the two directions.
    public enum BidirectionalMerge: Sendable {
        /// Features side by side, forward first.
        case concatenate
        /// Elementwise sum.
        case sum
    }

    /// Runs `layer` forwards and backwards over this input (`layer` receives the input and
    /// whether to read it in reverse, which it passes as `reverse:`), and merges the two
    /// sequences and last outputs. The two directions stay available as `forward` and
    /// `backward` for the pair of outputs.
    ///
    /// ```swift
    /// let both = tokens.embedding(vocabularySize: 100, features: 16)
    ///     .bidirectional { input, reverse in input.lstm(32, reverse: reverse) }
    /// let logits = both.last.dense(2)
    /// ```
    public func bidirectional(merge: BidirectionalMerge = .concatenate, _ layer: (_ input: Axon, _ reverse: Bool) -> RecurrentOutput) -> BidirectionalOutput {
        let (forward, backward) = (layer(self, false), layer(self, true))
        func joined(_ a: Axon, _ b: Axon) -> Axon { merge == .concatenate ? Axon.concatenate([a, b]) : a.add(b) }
        return BidirectionalOutput(
            sequence: joined(forward.sequence, backward.sequence), last: joined(forward.last, backward.last), forward: forward, backward: backward)
    }
}

/// What ``Axon/bidirectional(merge:_:)`` returns.
public struct BidirectionalOutput: Sendable {
    /// The merged sequences `[batch, time, ...]`.
    public let sequence: Axon
    /// The merged last outputs `[batch, ...]` (the backward direction's last output is its state
    /// after reading each sequence back to its first step).
    public let last: Axon
    /// The forward direction's outputs.
    public let forward: RecurrentOutput
    /// The backward direction's outputs (its sequence in input order).
    public let backward: RecurrentOutput
}
