import Backend

/// The recurrent cells, with their gate layouts. Kernels are `[features, gates·units]` and
/// `[units, gates·units]`, the gates in blocks of `units` along the last axis:
///
/// - `simple`: one block, `h' = activation(x·W + h·U + b)`.
/// - `lstm`: blocks `i, f, g, o` (PyTorch's and Keras's order): `c' = σ(f)·c + σ(i)·act(g)`,
///   `h' = σ(o)·act(c')`.
/// - `gru`: blocks `r, z, n` (PyTorch's order; Keras's `z, r, h` swaps the first two blocks):
///   `h' = (1 − σ(z))·n + σ(z)·h`. With `resetAfter` (PyTorch, cuDNN, Keras's default)
///   `n = act(x·W_n + b_n + σ(r)·(h·U_n + b̂_n))` with a separate recurrent bias `b̂`; without it
///   (Cho et al., 2014) `n = act(x·W_n + b_n + (σ(r)·h)·U_n)`.
///
/// `σ` is the recurrent activation (sigmoid by default) and `act` the activation (tanh).
public enum RecurrentCell: Sendable, Equatable, Codable {
    /// A fully connected recurrent cell, `h' = act(x·W + h·U + b)`.
    case simple
    /// A long short-term memory cell with states `h` and `c`.
    case lstm
    /// A gated recurrent unit; `resetAfter` applies the reset gate after the recurrent product.
    case gru(resetAfter: Bool)

    /// Blocks of `units` in the kernels' last axis.
    public var gates: Int {
        switch self {
        case .simple: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// How many state tensors the cell carries: `h`, and `c` for an LSTM.
    public var stateCount: Int { self == .lstm ? 2 : 1 }

    var kind: String {
        switch self {
        case .simple: return "simple_rnn"
        case .lstm: return "lstm"
        case .gru: return "gru"
        }
    }

    /// The cell as the backend's recurrent sequence op names it.
    var descriptorCell: RecurrentDescriptor.Cell {
        switch self {
        case .simple: return .simple
        case .lstm: return .lstm
        case let .gru(resetAfter): return .gru(resetAfter: resetAfter)
        }
    }
}

/// The weights and options of one recurrent pass, as ``Layers/recurrent(_:_:weights:initialStates:lengths:reverse:convolution:unroll:)`` takes them.
public struct RecurrentWeights {
    /// `[features, gates·units]`, multiplying the input.
    public var kernel: Tensor
    /// `[units, gates·units]`, multiplying the previous `h`.
    public var recurrentKernel: Tensor
    /// `[gates·units]`, added to `x·W`, if any.
    public var bias: Tensor?
    /// GRU with `resetAfter` only: the bias added to `h·U` before the reset gate scales it.
    public var recurrentBias: Tensor?
    /// The activation of the candidate state and the output (tanh by default).
    public var activation: Activation
    /// The activation of the gates (sigmoid by default).
    public var recurrentActivation: Activation
    /// Inverted dropout on `h` before `h·U`, one Philox mask for the whole sequence (Keras's
    /// `recurrent_dropout`): the rate and the key, or nil for none.
    public var recurrentDropout: (rate: Float, key: Philox.Key)?
    /// Where these examples start in the batch the recurrent dropout mask is drawn for (a
    /// data-parallel rank's ``LayerContext/firstExample``; 0 by default).
    public var firstExample: Int = 0

    /// Weights and options for ``Layers/recurrent(_:_:weights:initialStates:lengths:reverse:convolution:unroll:)``.
    public init(
        kernel: Tensor, recurrentKernel: Tensor, bias: Tensor? = nil, recurrentBias: Tensor? = nil, activation: Activation = .tanh,
        recurrentActivation: Activation = .sigmoid, recurrentDropout: (rate: Float, key: Philox.Key)? = nil
    ) {
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        self.bias = bias
        self.recurrentBias = recurrentBias
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.recurrentDropout = recurrentDropout
    }
}

/// The convolutions of a convolutional recurrent layer (Shi et al., 2015): the input
/// convolution's strides, padding and dilation; the recurrent convolution keeps the state's
/// spatial size (stride 1, `same` padding).
public struct RecurrentConvolution: Sendable, Codable {
    /// The input convolution's steps per spatial dimension.
    public var strides: [Int]
    /// The input convolution's padding.
    public var padding: PaddingMode
    /// The input convolution's kernel dilation per spatial dimension.
    public var dilation: [Int]

    /// The input convolution's geometry.
    public init(strides: [Int], padding: PaddingMode = .same, dilation: [Int]) {
        self.strides = strides
        self.padding = padding
        self.dilation = dilation
    }
}

extension Layers {
    /// Runs `cell` over `x` `[batch, time, features]` and returns the output sequence
    /// `[batch, time, units]` and the final states (`[h]`, or `[h, c]` for an LSTM), each
    /// `[batch, units]`.
    ///
    /// With `convolution`, `x` is `[batch, time, spatial..., channels]`, the kernels are
    /// `[k..., channels, gates·units]` and `[k'..., units, gates·units]`, every product is a
    /// convolution, and the states and outputs keep spatial axes: `[batch, spatial'..., units]`.
    ///
    /// `lengths` (`int32` `[batch]`, each in `1...time`) makes the batch variable-length: steps at
    /// or after a sequence's length carry its state through unchanged and output zeros. With
    /// `reverse` each sequence is read backwards within its own length and the outputs are put
    /// back in input order. `initialStates` default to zeros.
    ///
    /// Without a convolution, and with activations a backend can fuse (tanh, sigmoid, relu,
    /// linear), the sequence runs as one call of the backend's recurrent sequence op (a dynamic
    /// loop) and differentiates through its backward op. `unroll` (Keras's option) builds a graph of
    /// tensor ops per step instead, as other activations and convolutional cells always do; both
    /// give the same results.
    public static func recurrent(
        _ cell: RecurrentCell, _ x: Tensor, weights: RecurrentWeights, initialStates: [Tensor]? = nil, lengths: Tensor? = nil,
        reverse: Bool = false, convolution: RecurrentConvolution? = nil, unroll: Bool = false
    ) throws -> (sequence: Tensor, states: [Tensor]) {
        let packed = try packedRecurrent(
            cell, x, weights: weights, initialStates: initialStates, lengths: lengths, reverse: reverse, convolution: convolution, unroll: unroll)
        let time = x.shape[1]
        let stateShape = Shape(packed.shape.dimensions.enumerated().filter { $0.offset != 1 }.map(\.element))
        let states = try (0..<cell.stateCount).map { try packed.sliced(axis: 1, (time + $0)..<(time + $0 + 1)).reshaped(to: stateShape) }
        return (try packed.sliced(axis: 1, 0..<time), states)
    }

    /// ``recurrent(_:_:weights:initialStates:lengths:reverse:convolution:unroll:)`` with the
    /// sequence and the final states packed along time, `[batch, time + states, ...]`: the form
    /// the backend's op returns and ``RecurrentLayer`` outputs, so neither unpacks and repacks.
    static func packedRecurrent(
        _ cell: RecurrentCell, _ x: Tensor, weights: RecurrentWeights, initialStates: [Tensor]?, lengths: Tensor?, reverse: Bool,
        convolution: RecurrentConvolution?, unroll: Bool
    ) throws -> Tensor {
        let spatialRank = x.rank - 3
        guard convolution == nil ? x.rank == 3 : x.rank >= 4 else {
            throw LayerError(convolution == nil
                ? "needs an input [batch, time, features], got \(x.shape)"
                : "needs an input [batch, time, spatial..., channels], got \(x.shape)")
        }
        let (batch, time) = (x.shape[0], x.shape[1])
        let frame = Array(x.shape.dimensions.dropFirst(2))
        guard time >= 1 else { throw LayerError("needs at least one time step, got input \(x.shape)") }
        guard batch * time <= Int(Int32.max) else { throw LayerError("needs fewer than 2³¹ batch × time steps, got \(x.shape)") }
        let (kernel, recurrentKernel) = (weights.kernel, weights.recurrentKernel)
        guard recurrentKernel.rank == spatialRank + 2, kernel.rank == spatialRank + 2,
            let width = recurrentKernel.shape.dimensions.last, width % cell.gates == 0, width > 0
        else {
            throw LayerError("needs kernels of rank \(spatialRank + 2) whose last axis holds \(cell.gates) gate blocks, got \(kernel.shape) and \(recurrentKernel.shape)")
        }
        let units = width / cell.gates
        guard kernel.shape.dimensions.suffix(2) == [frame[spatialRank], width], recurrentKernel.shape[spatialRank] == units else {
            throw LayerError("needs a kernel [..., \(frame[spatialRank]), \(width)] and a recurrent kernel [..., \(units), \(width)], got \(kernel.shape) and \(recurrentKernel.shape)")
        }
        let limits = try lengths.map { try checkedLengths($0, batch: batch, time: time) }
        if !unroll, convolution == nil, let act = weights.activation.fused, let gate = weights.recurrentActivation.fused {
            // The whole sequence in one backend call.
            let descriptor = RecurrentDescriptor(cell: cell.descriptorCell, activation: act, recurrentActivation: gate, reverse: reverse)
            let states = try checkedStates(initialStates, cell, shape: [batch, units], on: x.backend)
            return try fusedRecurrent(
                descriptor, x, weights: weights, states: states, lengths: lengths, dropMask: recurrentDropMask(weights, shape: [batch, units], on: x.backend))
        }
        // Reading backwards is reading a reordered input forwards.
        let order = reverse ? try reversal(limits ?? Array(repeating: time, count: batch), time: time, on: x.backend) : nil
        var input = try x.reshaped(to: Shape([batch * time] + frame))
        if let order { input = try input.gather(indices: order, axis: 0) }
        // Every step's input projection in one product (or one convolution over batch × time frames).
        var projected: Tensor
        if let convolution {
            projected = try conv(
                input, kernel: kernel, bias: weights.bias, strides: spatialValues(convolution.strides, count: spatialRank, "strides"),
                padding: convolution.padding, dilation: spatialValues(convolution.dilation, count: spatialRank, "dilation"))
        } else {
            projected = try input.matmul(kernel)
            if let bias = weights.bias { projected = try projected + bias }
        }
        let stateShape = Shape([batch] + projected.shape.dimensions.dropFirst().dropLast() + [units])
        projected = try projected.reshaped(to: Shape([batch, time] + projected.shape.dimensions.dropFirst()))
        let states = try checkedStates(initialStates, cell, shape: stateShape, on: x.backend)
        /// `h` times the recurrent kernel's gate columns `columns`.
        func recur(_ h: Tensor, _ columns: Range<Int>) throws -> Tensor {
            let part = columns == 0..<width ? recurrentKernel : try recurrentKernel.sliced(axis: spatialRank + 1, columns)
            guard convolution != nil else { return try h.matmul(part) }
            let ones = Array(repeating: 1, count: spatialRank)
            return try conv(h, kernel: part, bias: nil, strides: ones, padding: .same, dilation: ones)
        }
        let keep = try limits.map { try stepMask($0, time: time, on: x.backend) }
        let dropMask = try recurrentDropMask(weights, shape: stateShape, on: x.backend)
        let maskShape = Shape([batch] + Array(repeating: 1, count: stateShape.rank - 1))
        var carried = states
        var outputs: [Tensor] = []
        for t in 0..<time {
            let projection = try projected.sliced(axis: 1, t..<(t + 1)).reshaped(to: Shape(stateShape.dimensions.dropLast() + [width]))
            let next = try step(cell, projection, carried, weights: weights, dropMask: dropMask, units: units, recur: recur)
            if let keep {
                let m = try keep.sliced(axis: 1, t..<(t + 1)).reshaped(to: maskShape)
                carried = try zip(next, carried).map { new, old in try new * m + old * (1 - m) }
                outputs.append(try next[0] * m)
            } else {
                carried = next
                outputs.append(next[0])
            }
        }
        let stepShape = Shape([batch, 1] + stateShape.dimensions.dropFirst())
        var sequence = try Tensor.concatenate(outputs.map { try $0.reshaped(to: stepShape) }, axis: 1)
        if let order {
            let flat = Shape([batch * time] + stateShape.dimensions.dropFirst())
            sequence = try sequence.reshaped(to: flat).gather(indices: order, axis: 0).reshaped(to: Shape([batch, time] + stateShape.dimensions.dropFirst()))
        }
        return try Tensor.concatenate([sequence] + carried.map { try $0.reshaped(to: stepShape) }, axis: 1)
    }

    /// One step of `cell` from the input projection `x·W + b` and the carried states; `recur`
    /// multiplies (or convolves) a state by the recurrent kernel's given gate columns.
    static func step(
        _ cell: RecurrentCell, _ projection: Tensor, _ states: [Tensor], weights: RecurrentWeights, dropMask: Tensor?, units: Int,
        recur: (Tensor, Range<Int>) throws -> Tensor
    ) throws -> [Tensor] {
        let h = try dropMask.map { try states[0] * $0 } ?? states[0]
        let last = projection.rank - 1
        func block(_ x: Tensor, _ index: Int) throws -> Tensor { try x.sliced(axis: last, (index * units)..<((index + 1) * units)) }
        let (act, gate) = (weights.activation, weights.recurrentActivation)
        let all = 0..<(cell.gates * units)
        switch cell {
        case .simple:
            return [try act.apply(projection + recur(h, all))]
        case .lstm:
            let z = try projection + recur(h, all)
            let c = try gate.apply(block(z, 1)) * states[1] + gate.apply(block(z, 0)) * act.apply(block(z, 2))
            return [try gate.apply(block(z, 3)) * act.apply(c), c]
        case let .gru(resetAfter):
            if resetAfter {
                var hu = try recur(h, all)
                if let recurrentBias = weights.recurrentBias { hu = try hu + recurrentBias }
                let r = try gate.apply(block(projection, 0) + block(hu, 0))
                let z = try gate.apply(block(projection, 1) + block(hu, 1))
                let n = try act.apply(block(projection, 2) + r * block(hu, 2))
                return [try (1 - z) * n + z * states[0]]
            }
            let gates = try recur(h, 0..<(2 * units))
            let r = try gate.apply(block(projection, 0) + block(gates, 0))
            let z = try gate.apply(block(projection, 1) + block(gates, 1))
            let n = try act.apply(block(projection, 2) + recur(r * h, (2 * units)..<(3 * units)))
            return [try (1 - z) * n + z * states[0]]
        }
    }

    /// The initial states given, checked, or zeros.
    static func checkedStates(_ given: [Tensor]?, _ cell: RecurrentCell, shape: Shape, on backend: any Backend) throws -> [Tensor] {
        let states = try given ?? (0..<cell.stateCount).map { _ in try Tensor.zeros(shape: shape, on: backend) }
        guard states.count == cell.stateCount, states.allSatisfy({ $0.shape == shape }) else {
            throw LayerError("needs \(cell.stateCount) initial state(s) of shape \(shape), got \(states.map { "\($0.shape)" })")
        }
        return states
    }

    /// The recurrent dropout mask: one Philox mask for the whole sequence, already scaled.
    static func recurrentDropMask(_ weights: RecurrentWeights, shape: Shape, on backend: any Backend) throws -> Tensor? {
        try weights.recurrentDropout.flatMap { rate, key -> Tensor? in
            guard rate > 0 else { return nil }
            let offset = UInt64(weights.firstExample) &* UInt64(Layers.elementsPerExample(shape))
            return try Tensor(Array(repeating: 1, count: shape.elementCount), shape: shape, on: backend).dropout(rate: rate, key: key, offset: offset)
        }
    }

    /// The lengths on the host, each checked to be in `1...time`.
    static func checkedLengths(_ lengths: Tensor, batch: Int, time: Int) throws -> [Int] {
        guard lengths.shape == [batch], lengths.dtype == .int32 else {
            throw LayerError("needs lengths of dtype int32 and shape [\(batch)], got \(lengths.dtype) \(lengths.shape)")
        }
        guard case let .int32(values) = try lengths.array.elements else { throw LayerError("needs int32 lengths") }
        if let bad = values.first(where: { $0 < 1 || Int($0) > time }) {
            throw LayerError("needs every length in 1...\(time) (the sequence length), got \(bad)")
        }
        return values.map(Int.init)
    }

    /// `[batch, time]` with 1 at steps before each sequence's length and 0 after.
    static func stepMask(_ lengths: [Int], time: Int, on backend: any Backend) throws -> Tensor {
        try Tensor(lengths.flatMap { length in (0..<time).map { $0 < length ? Float(1) : 0 } }, shape: [lengths.count, time], on: backend)
    }

    /// Rows of a flattened `[batch · time, ...]` tensor that reverse each sequence within its
    /// own length and leave the padding in place (an involution).
    static func reversal(_ lengths: [Int], time: Int, on backend: any Backend) throws -> Tensor {
        let rows = lengths.enumerated().flatMap { n, length in (0..<time).map { t in Int32(n * time + (t < length ? length - 1 - t : t)) } }
        return try Tensor(integers: rows, shape: [rows.count], on: backend)
    }
}
