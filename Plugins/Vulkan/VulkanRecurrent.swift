#if Vulkan
import Backend

/// Whole recurrent sequences with the recurrence recorded into the command stream, no sync
/// point between steps: per step one matrix product and one cell shader forward
/// (recurrent_step.comp), and backward one cell shader, one product and one small carry shader
/// (recurrent_step_backward.comp, recurrent_carry.comp); the input projection and the weights'
/// gradients are one product each over every step. The simple RNN, the LSTM and the reset-after
/// GRU run so; the reset-before GRU, whose candidate needs a second product mid-step, takes the
/// default composition.
extension VulkanBackend {
    /// What the step shaders need to know of a sequence.
    struct RecurrentShape {
        let cell: UInt32, activation: UInt32, gate: UInt32
        let batch: Int, time: Int, features: Int, units: Int, gates: Int

        init?(_ operands: RecurrentOperands, _ descriptor: RecurrentDescriptor) {
            switch descriptor.cell {
            case .simple: cell = 0
            case .lstm: cell = 1
            case .gru(resetAfter: true): cell = 2
            case .gru(resetAfter: false): return nil
            }
            let floats = [operands.input, operands.kernel, operands.recurrentKernel] + operands.initialStates
                + [operands.bias, operands.recurrentBias, operands.recurrentMask].compactMap { $0 }
            guard floats.allSatisfy({ $0.dtype == .float32 }), operands.input.shape.rank == 3 else { return nil }
            func code(_ activation: FusedActivation) -> UInt32 { UInt32(FusedActivation.allCases.firstIndex(of: activation) ?? 0) }
            (activation, gate) = (code(descriptor.activation), code(descriptor.recurrentActivation))
            (batch, time, features) = (operands.input.shape[0], operands.input.shape[1], operands.input.shape[2])
            units = operands.recurrentKernel.shape[0]
            gates = descriptor.gates
        }

        var width: Int { gates * units }
        /// Workspace words per step and batch row (see Shaders/recurrent.glsl).
        var slots: Int { 5 * units + width }
        var constants: [UInt32] { [cell, activation, gate] }
        func push(_ step: Int, _ flags: UInt32) -> [UInt32] { [batch, time, units, step].map { UInt32($0) } + [flags] }
    }

    /// `[2, batch, units]`: `h` and `c` (zeros for cells without one).
    func stackedStates(_ states: [Buffer], _ s: RecurrentShape) throws -> Buffer {
        let c = states.count > 1 ? states[1] : try full(0, shape: [s.batch, s.units], dtype: .float32)
        return try concatenate([reshape(states[0], to: [1, s.batch, s.units]), reshape(c, to: [1, s.batch, s.units])], axis: 0)
    }

    /// Row `index` of a `[2, batch, units]` pair as `[batch, units]`.
    func stateRow(_ pair: Buffer, _ index: Int, _ s: RecurrentShape) throws -> Buffer {
        try reshape(slice(pair, starts: [index, 0, 0], limits: [index + 1, s.batch, s.units], strides: [1, 1, 1]), to: [s.batch, s.units])
    }

    public func recurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult {
        guard let s = RecurrentShape(operands, descriptor) else { return try composedRecurrentSequence(operands, descriptor: descriptor) }
        let schedule = try recurrentSchedule(batch: s.batch, time: s.time, lengths: operands.lengths, reverse: descriptor.reverse)
        let x = try reshape(schedule.reordered(operands.input, on: self), to: [s.batch * s.time, s.features])
        let projected = try reshape(dense(x, weight: operands.kernel, bias: operands.bias, activation: .identity), to: [s.batch, s.time, s.width])
        let flags: UInt32 = (schedule.keep == nil ? 0 : 1) | (operands.recurrentMask == nil ? 0 : 2)
        var state = try stackedStates(operands.initialStates, s)
        var input = try operands.recurrentMask.map { try binary(.multiply, operands.initialStates[0], $0) } ?? operands.initialStates[0]
        let workspace = try makeBuffer([s.time, s.batch, s.slots], .float32)
        let matrix = { (columns: Int) in MatrixView(rowStride: columns, columnStride: 1) }
        for t in 0..<s.time {
            let product = try makeBuffer([s.batch, s.width], .float32)
            try gemm(
                m: s.batch, n: s.width, k: s.units, batch: 1, input, matrix(s.units), operands.recurrentKernel, matrix(s.width), product, matrix(s.width),
                bias: operands.recurrentBias)
            let (next, nextInput) = (try makeBuffer([2, s.batch, s.units], .float32), try makeBuffer([s.batch, s.units], .float32))
            try run(
                "recurrent_step", constants: s.constants,
                inputs: [projected, product, state, schedule.keep ?? projected, operands.recurrentMask ?? projected],
                outputs: [next, workspace, nextInput], push: s.push(t, flags), groups: elementGroups(s.batch * s.units))
            (state, input) = (next, nextInput)
        }
        let start = 4 * s.units + s.width
        let steps = try slice(workspace, starts: [0, 0, start], limits: [s.time, s.batch, start + s.units], strides: [1, 1, 1])
        let output = try schedule.reordered(permute(steps, [1, 0, 2]), on: self)
        let states = try (0..<descriptor.stateCount).map { try stateRow(state, $0, s) }
        return RecurrentSequenceResult(output: output, states: states, workspace: [workspace])
    }

    public func recurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients {
        guard let s = RecurrentShape(operands, descriptor) else {
            return try composedRecurrentSequenceBackward(
                gradOutput: gradOutput, gradStates: gradStates, operands: operands, workspace: workspace, descriptor: descriptor)
        }
        guard workspace.count == 1, workspace[0].shape == [s.time, s.batch, s.slots] else {
            throw BackendError.invalidArgument(
                operation: "recurrentSequenceBackward", reason: "the workspace is not the one vulkan's recurrentSequence returned for these operands")
        }
        let schedule = try recurrentSchedule(batch: s.batch, time: s.time, lengths: operands.lengths, reverse: descriptor.reverse)
        let dy = try schedule.reordered(gradOutput, on: self)
        let flags: UInt32 = (schedule.keep == nil ? 0 : 1) | (operands.recurrentMask == nil ? 0 : 2)
        var carry = try stackedStates(gradStates, s)
        let gradProjected = try makeBuffer([s.batch, s.time, s.width], .float32)
        let gradProducts = try makeBuffer([s.time, s.batch, s.width], .float32)
        for t in (0..<s.time).reversed() {
            let partial = try makeBuffer([2, s.batch, s.units], .float32)
            try run(
                "recurrent_step_backward", constants: s.constants, inputs: [dy, schedule.keep ?? dy, workspace[0], carry],
                outputs: [gradProjected, gradProducts, partial], push: s.push(t, flags), groups: elementGroups(s.batch * s.units))
            // dU · Uᵀ, reading step t's rows of dU and U transposed in place.
            let product = try makeBuffer([s.batch, s.units], .float32)
            try gemm(
                m: s.batch, n: s.units, k: s.width, batch: 1, gradProducts, MatrixView(offset: t * s.batch * s.width, rowStride: s.width, columnStride: 1),
                operands.recurrentKernel, MatrixView(rowStride: 1, columnStride: s.width), product, MatrixView(rowStride: s.units, columnStride: 1))
            let next = try makeBuffer([2, s.batch, s.units], .float32)
            try run(
                "recurrent_carry", inputs: [product, partial, operands.recurrentMask ?? product], outputs: [next],
                push: [UInt32(s.batch * s.units), operands.recurrentMask == nil ? 0 : 1], groups: elementGroups(s.batch * s.units))
            carry = next
        }
        // Σ over steps of (h·mask)ᵀ · dU as one product: the masked states sit at word `units`
        // of each step's workspace row.
        let steps = s.time * s.batch
        let gradRecurrent = try makeBuffer([s.units, s.width], .float32)
        try gemm(
            m: s.units, n: s.width, k: steps, batch: 1, workspace[0], MatrixView(offset: s.units, rowStride: 1, columnStride: s.slots),
            gradProducts, MatrixView(rowStride: s.width, columnStride: 1), gradRecurrent, MatrixView(rowStride: s.width, columnStride: 1))
        let projectedRows = try reshape(gradProjected, to: [steps, s.width])
        let x = try reshape(schedule.reordered(operands.input, on: self), to: [steps, s.features])
        let gradInput = try reshape(matmul(projectedRows, operands.kernel, transposeA: false, transposeB: true), to: [s.batch, s.time, s.features])
        return RecurrentSequenceGradients(
            input: try schedule.reordered(gradInput, on: self), kernel: try matmul(x, projectedRows, transposeA: true, transposeB: false),
            recurrentKernel: gradRecurrent,
            bias: try operands.bias.map { _ in try reduce(.sum, projectedRows, axes: [0], keepDimensions: false) },
            recurrentBias: try operands.recurrentBias.map { _ in
                try reduce(.sum, reshape(gradProducts, to: [steps, s.width]), axes: [0], keepDimensions: false)
            },
            initialStates: try (0..<descriptor.stateCount).map { try stateRow(carry, $0, s) })
    }
}
#endif
