// Whole-sequence recurrent layers (simple RNN, LSTM, GRU): descriptor, operands, results and
// the default composition, which unrolls the sequence into primitives. A backend that runs a
// sequence in one call overrides `recurrentSequence` and `recurrentSequenceBackward` together:
// the workspace the forward pass returns is what its own backward pass reads.

/// What a recurrent sequence computes: the cell, its activations and the direction.
///
/// Kernels hold the gates in blocks of `units` along their last axis: `simple` one block,
/// `lstm` blocks `i, f, g, o`, `gru` blocks `r, z, n` (PyTorch's orders). Per step, with
/// `σ` the recurrent activation and `act` the activation, and `h` the carried state (times the
/// recurrent mask where one is given):
///
/// - `simple`: `h' = act(x·W + b + h·U)`.
/// - `lstm`: `z = x·W + b + h·U`, `c' = σ(z_f)·c + σ(z_i)·act(z_g)`, `h' = σ(z_o)·act(c')`.
/// - `gru`: `r = σ(p_r + u_r)`, `z = σ(p_z + u_z)`, `h' = (1 − z)·n + z·h` with `p = x·W + b`;
///   with `resetAfter` `u = h·U + b̂` and `n = act(p_n + r·u_n)`, otherwise `u = h·U` and
///   `n = act(p_n + (r·h)·U_n)`.
public struct RecurrentDescriptor: Sendable, Hashable {
    /// The recurrent cell.
    public enum Cell: Sendable, Hashable {
        /// `h' = act(x·W + h·U + b)`, one gate block.
        case simple
        /// Long short-term memory, gate blocks `i, f, g, o`, states `h` and `c`.
        case lstm
        /// Gated recurrent unit, gate blocks `r, z, n`; `resetAfter` applies the reset gate to `h·U + b̂`.
        case gru(resetAfter: Bool)
    }

    /// Which cell.
    public var cell: Cell
    /// The activation of the candidate and the output.
    public var activation: FusedActivation
    /// The activation of the gates.
    public var recurrentActivation: FusedActivation
    /// Whether each sequence is read from its last step (within its own length) to its first;
    /// outputs stay in input order.
    public var reverse: Bool

    /// A recurrence of `cell` with the given activations and direction.
    public init(cell: Cell, activation: FusedActivation = .tanh, recurrentActivation: FusedActivation = .sigmoid, reverse: Bool = false) {
        self.cell = cell
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.reverse = reverse
    }

    /// Blocks of `units` in the kernels' last axis.
    public var gates: Int {
        switch cell {
        case .simple: 1
        case .lstm: 4
        case .gru: 3
        }
    }

    /// The states the cell carries: `h`, and `c` for an LSTM.
    public var stateCount: Int { cell == .lstm ? 2 : 1 }
}

/// The operands of a recurrent sequence.
public struct RecurrentOperands: Sendable {
    /// `[batch, time, features]`, `time ≥ 1`.
    public var input: Buffer
    /// `[features, gates·units]`.
    public var kernel: Buffer
    /// `[units, gates·units]`.
    public var recurrentKernel: Buffer
    /// `[gates·units]`, added to `x·W`.
    public var bias: Buffer?
    /// `[gates·units]`, added to `h·U`; a GRU with `resetAfter` only.
    public var recurrentBias: Buffer?
    /// One `[batch, units]` buffer per state.
    public var initialStates: [Buffer]
    /// `int32 [batch]`, each in `1...time`: steps at or after a sequence's length carry its
    /// states through unchanged and output zeros. Other values give unspecified results.
    public var lengths: Buffer?
    /// `float32 [batch, units]`: multiplies `h` before `h·U` at every step (recurrent dropout,
    /// already scaled).
    public var recurrentMask: Buffer?

    /// The operands of one sequence.
    public init(
        input: Buffer, kernel: Buffer, recurrentKernel: Buffer, bias: Buffer? = nil, recurrentBias: Buffer? = nil, initialStates: [Buffer],
        lengths: Buffer? = nil, recurrentMask: Buffer? = nil
    ) {
        self.input = input
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        self.bias = bias
        self.recurrentBias = recurrentBias
        self.initialStates = initialStates
        self.lengths = lengths
        self.recurrentMask = recurrentMask
    }
}

/// What ``Backend/recurrentSequence(_:descriptor:)`` returns.
public struct RecurrentSequenceResult: Sendable {
    /// Every step's `h` `[batch, time, units]`, zeros at masked steps, in input order.
    public let output: Buffer
    /// The final states, each `[batch, units]`.
    public let states: [Buffer]
    /// What the same backend's backward pass needs; its contents are the backend's own.
    public let workspace: [Buffer]

    /// A result of the sequence, the final states and the workspace.
    public init(output: Buffer, states: [Buffer], workspace: [Buffer]) {
        self.output = output
        self.states = states
        self.workspace = workspace
    }
}

/// What ``Backend/recurrentSequenceBackward(gradOutput:gradStates:operands:workspace:descriptor:)``
/// returns: a gradient for each operand given (none for lengths and the mask, which are constants).
public struct RecurrentSequenceGradients: Sendable {
    /// The gradient with respect to the input.
    public let input: Buffer
    /// The gradient with respect to the kernel.
    public let kernel: Buffer
    /// The gradient with respect to the recurrent kernel.
    public let recurrentKernel: Buffer
    /// The gradient with respect to the bias, if one was given.
    public let bias: Buffer?
    /// The gradient with respect to the recurrent bias, if one was given.
    public let recurrentBias: Buffer?
    /// The gradients with respect to the initial states.
    public let initialStates: [Buffer]

    /// Gradients of every operand.
    public init(input: Buffer, kernel: Buffer, recurrentKernel: Buffer, bias: Buffer?, recurrentBias: Buffer?, initialStates: [Buffer]) {
        self.input = input
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        self.bias = bias
        self.recurrentBias = recurrentBias
        self.initialStates = initialStates
    }
}

extension Backend {
    public func recurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult {
        try composedRecurrentSequence(operands, descriptor: descriptor)
    }

    /// ``Backend/recurrentSequence(_:descriptor:)`` unrolled: the input projection of every step
    /// in one product, then a product and the gate arithmetic per step. Its workspace holds, per
    /// step, the state going in, the activated gates and what the backward pass cannot recompute
    /// cheaply.
    public func composedRecurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult {
        let unroll = try RecurrentUnroll(operands, descriptor, on: self)
        return try unroll.forward()
    }

    public func recurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients {
        try composedRecurrentSequenceBackward(gradOutput: gradOutput, gradStates: gradStates, operands: operands, workspace: workspace, descriptor: descriptor)
    }

    /// Backpropagation through time over the workspace of ``composedRecurrentSequence(_:descriptor:)``.
    public func composedRecurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients {
        let unroll = try RecurrentUnroll(operands, descriptor, on: self)
        return try unroll.backward(gradOutput: gradOutput, gradStates: gradStates, workspace: workspace)
    }
}

/// The order in which a recurrent sequence's steps run and which steps count, for a backend
/// that runs the recurrence its own way (the composition uses it too): a reversed sequence is
/// reordered so that the loop always runs forwards, each sequence within its own length.
public struct RecurrentSchedule: Sendable {
    /// The rows of the flattened `[batch · time, ...]` input in processing order, when
    /// reversed; the reordering is its own inverse.
    public let order: Buffer?
    /// `float32 [batch, time]`: 1 before each sequence's length and 0 after, when lengths are given.
    public let keep: Buffer?

    /// `x` `[batch, time, ...]` with its steps in processing order, or back in input order.
    public func reordered(_ x: Buffer, on backend: any Backend) throws -> Buffer {
        guard let order else { return x }
        let (batch, time) = (x.shape[0], x.shape[1])
        let rows = try backend.reshape(x, to: Shape([batch * time] + x.shape.dimensions.dropFirst(2)))
        return try backend.reshape(backend.gather(rows, indices: order, axis: 0), to: x.shape)
    }
}

extension Backend {
    /// The schedule of a sequence of `batch` × `time` steps with optional `lengths` (`int32 [batch]`).
    public func recurrentSchedule(batch: Int, time: Int, lengths: Buffer?, reverse: Bool) throws -> RecurrentSchedule {
        let steps = try iota(shape: [batch, time], axis: 1, dtype: .int32)
        let limits = try lengths.map { try reshape($0, to: [batch, 1]) }
        let keep = try limits.map { try cast(compare(.less, steps, $0), to: .float32) }
        guard reverse else { return RecurrentSchedule(order: nil, keep: keep) }
        // Step t of a sequence of length n is read at n − 1 − t while t < n; padding stays put.
        let last = try limits ?? full(Double(time), shape: [batch, 1], dtype: .int32)
        let mirrored = try binary(.subtract, binary(.subtract, last, full(1, shape: [], dtype: .int32)), steps)
        let position = try select(compare(.less, steps, last), mirrored, steps)
        let rows = try binary(.multiply, iota(shape: [batch, time], axis: 0, dtype: .int32), full(Double(time), shape: [], dtype: .int32))
        return RecurrentSchedule(order: try reshape(binary(.add, rows, position), to: [batch * time]), keep: keep)
    }
}
