import Backend

extension Layers {
    /// A recurrent layer over `x` `[batch, time, features]` in one call of the backend's
    /// recurrent sequence op, differentiated by its backward op: the output sequence and the
    /// final states packed along time, `[batch, time + states, units]`, as one recorded node.
    static func fusedRecurrent(
        _ descriptor: RecurrentDescriptor, _ x: Tensor, weights: RecurrentWeights, states: [Tensor], lengths: Tensor?, dropMask: Tensor?
    ) throws -> Tensor {
        let inputs = [x, weights.kernel, weights.recurrentKernel] + [weights.bias, weights.recurrentBias].compactMap { $0 } + states
        let operandTensors = inputs + [lengths, dropMask].compactMap { $0 }
        let (hasBias, hasRecurrentBias) = (weights.bias != nil, weights.recurrentBias != nil)
        let (stateCount, hasLengths, hasMask) = (states.count, lengths != nil, dropMask != nil)
        // The operands from the buffers of `operandTensors`, in that order.
        func operands(_ b: ArraySlice<Buffer>) -> RecurrentOperands {
            var next = b.startIndex
            func take() -> Buffer {
                defer { next += 1 }
                return b[next]
            }
            let (input, kernel, recurrentKernel) = (take(), take(), take())
            let bias = hasBias ? take() : nil, recurrentBias = hasRecurrentBias ? take() : nil
            let initialStates = (0..<stateCount).map { _ in take() }
            let lengths = hasLengths ? take() : nil, recurrentMask = hasMask ? take() : nil
            return RecurrentOperands(
                input: input, kernel: kernel, recurrentKernel: recurrentKernel, bias: bias, recurrentBias: recurrentBias,
                initialStates: initialStates, lengths: lengths, recurrentMask: recurrentMask)
        }
        // One recorded call: the sequence packed with its final states, then the workspace.
        let (backend, forward) = try Tensor.computeBuffers("recurrent", operandTensors) { backend, b, _ in
            let result = try backend.recurrentSequence(operands(b[...]), descriptor: descriptor)
            let (batch, units) = (result.output.shape[0], result.output.shape[2])
            let packed = try backend.concatenate(
                [result.output] + result.states.map { try backend.reshape($0, to: [batch, 1, units]) }, axis: 1)
            return [packed] + result.workspace
        }
        let workspace = forward.dropFirst().map { Tensor(buffer: $0, backend: backend) }
        let workspaceStart = 1 + operandTensors.count
        return Tensor.record(forward[0], on: backend, inputs: inputs) { g, _, _ in
            let (_, gradients) = try Tensor.computeBuffers("recurrentBackward", [g] + operandTensors + workspace) { backend, b, _ in
                let (batch, packedTime, units) = (b[0].shape[0], b[0].shape[1], b[0].shape[2])
                let time = packedTime - stateCount
                func part(_ start: Int, _ count: Int) throws -> Buffer {
                    try backend.slice(b[0], starts: [0, start, 0], limits: [batch, start + count, units], strides: [1, 1, 1])
                }
                let gradStates = try (0..<stateCount).map { try backend.reshape(part(time + $0, 1), to: [batch, units]) }
                let gradients = try backend.recurrentSequenceBackward(
                    gradOutput: part(0, time), gradStates: gradStates, operands: operands(b[1...]),
                    workspace: Array(b[workspaceStart...]), descriptor: descriptor)
                return [gradients.input, gradients.kernel, gradients.recurrentKernel]
                    + [gradients.bias, gradients.recurrentBias].compactMap { $0 } + gradients.initialStates
            }
            return gradients.map { Tensor(buffer: $0, backend: backend) }
        }
    }
}
