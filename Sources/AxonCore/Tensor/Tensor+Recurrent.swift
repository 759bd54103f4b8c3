import Backend

extension Layers {
    /// A recurrent layer over `x` `[batch, time, features]` in one call of the backend's
    /// recurrent sequence op, differentiated by its backward op: the output sequence and the
    /// final states packed along time, `[batch, time + states, units]`, as one recorded node.
    static func fusedRecurrent(
        _ descriptor: RecurrentDescriptor, _ x: Tensor, weights: RecurrentWeights, states: [Tensor], lengths: Tensor?, dropMask: Tensor?
    ) throws -> Tensor {
        let inputs = [x, weights.kernel, weights.recurrentKernel] + [weights.bias, weights.recurrentBias].compactMap { $0 } + states
        let backend = try Tensor.commonBackend("recurrent", inputs + [lengths, dropMask].compactMap { $0 })
        let operands = RecurrentOperands(
            input: x.buffer, kernel: weights.kernel.buffer, recurrentKernel: weights.recurrentKernel.buffer, bias: weights.bias?.buffer,
            recurrentBias: weights.recurrentBias?.buffer, initialStates: states.map(\.buffer), lengths: lengths?.buffer,
            recurrentMask: dropMask?.buffer)
        let result = try backend.recurrentSequence(operands, descriptor: descriptor)
        let (batch, time, units) = (result.output.shape[0], result.output.shape[1], result.output.shape[2])
        let packed = try backend.concatenate([result.output] + result.states.map { try backend.reshape($0, to: [batch, 1, units]) }, axis: 1)
        func part(_ g: Buffer, _ start: Int, _ count: Int) throws -> Buffer {
            try backend.slice(g, starts: [0, start, 0], limits: [batch, start + count, units], strides: [1, 1, 1])
        }
        return Tensor.record(packed, on: backend, inputs: inputs) { g, _, _ in
            let gradStates = try result.states.indices.map { try backend.reshape(part(g.buffer, time + $0, 1), to: [batch, units]) }
            let gradients = try backend.recurrentSequenceBackward(
                gradOutput: part(g.buffer, 0, time), gradStates: gradStates, operands: operands, workspace: result.workspace, descriptor: descriptor)
            let buffers = [gradients.input, gradients.kernel, gradients.recurrentKernel]
                + [gradients.bias, gradients.recurrentBias].compactMap { $0 } + gradients.initialStates
            return buffers.map { Tensor(buffer: $0, backend: backend) }
        }
    }
}
