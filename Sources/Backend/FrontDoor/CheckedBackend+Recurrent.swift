extension CheckedBackend {
    public func recurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult {
        let (batch, time, units) = try requireRecurrentOperands(operands, descriptor, "recurrentSequence")
        try requireAllocatable([batch, time, units], .float32, "recurrentSequence")
        if let wide = widening(.recurrent, [operands.input]) { return try wide.narrow(recurrentSequence(wide(operands), descriptor: descriptor)) }
        return try implementation.recurrentSequence(operands, descriptor: descriptor)
    }

    public func recurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients {
        let name = "recurrentSequenceBackward"
        let (batch, time, units) = try requireRecurrentOperands(operands, descriptor, name)
        try requireOwned([gradOutput] + gradStates + workspace, name)
        try requireFloat([gradOutput] + gradStates, name)
        try requireGradientShape(gradOutput.shape, [batch, time, units], name)
        guard gradStates.count == descriptor.stateCount else {
            throw BackendError.invalidArgument(operation: name, reason: "needs a gradient for each of the \(descriptor.stateCount) final states, got \(gradStates.count)")
        }
        for state in gradStates { try requireGradientShape(state.shape, [batch, units], name) }
        if let wide = widening(.recurrent, [operands.input]) {
            return try wide.narrow(recurrentSequenceBackward(
                gradOutput: wide(gradOutput), gradStates: gradStates.map { try wide($0) }, operands: wide(operands),
                workspace: workspace.map { try wide($0) }, descriptor: descriptor))
        }
        return try implementation.recurrentSequenceBackward(
            gradOutput: gradOutput, gradStates: gradStates, operands: operands, workspace: workspace, descriptor: descriptor)
    }

    /// Checks a recurrent sequence's operands against each other and the descriptor; returns
    /// the output's batch, time and units.
    func requireRecurrentOperands(_ operands: RecurrentOperands, _ descriptor: RecurrentDescriptor, _ operation: String) throws -> (Int, Int, Int) {
        let weights = [operands.kernel, operands.recurrentKernel] + [operands.bias, operands.recurrentBias].compactMap { $0 }
        let floats = [operands.input] + weights + operands.initialStates + (operands.recurrentMask.map { [$0] } ?? [])
        try requireOwned(floats + (operands.lengths.map { [$0] } ?? []), operation)
        try requireFloat(floats, operation)
        let (input, kernel, recurrent) = (operands.input.shape, operands.kernel.shape, operands.recurrentKernel.shape)
        guard input.rank == 3, input[1] >= 1 else {
            throw BackendError.shapeMismatch(operation: operation, reason: "needs an input [batch, time ≥ 1, features], got \(input)")
        }
        let (batch, time, features) = (input[0], input[1], input[2])
        guard recurrent.rank == 2, recurrent[0] >= 1 else {
            throw BackendError.shapeMismatch(operation: operation, reason: "needs a recurrent kernel [units ≥ 1, gates·units], got \(recurrent)")
        }
        let units = recurrent[0]
        let (width, overflow) = units.multipliedReportingOverflow(by: descriptor.gates)
        guard !overflow, recurrent[1] == width, kernel == [features, width] else {
            throw BackendError.shapeMismatch(
                operation: operation,
                reason: "a \(descriptor.cell) cell of \(units) units over \(features) features needs a kernel [\(features), \(descriptor.gates)·\(units)] and a recurrent kernel [\(units), \(descriptor.gates)·\(units)], got \(kernel) and \(recurrent)")
        }
        for (label, bias) in [("bias", operands.bias), ("recurrent bias", operands.recurrentBias)] {
            guard let bias else { continue }
            guard bias.shape == [width] else {
                throw BackendError.shapeMismatch(operation: operation, reason: "needs a \(label) [\(width)], got \(bias.shape)")
            }
        }
        if operands.recurrentBias != nil, descriptor.cell != .gru(resetAfter: true) {
            throw BackendError.invalidArgument(operation: operation, reason: "only a GRU with resetAfter takes a recurrent bias; this cell is \(descriptor.cell)")
        }
        guard operands.initialStates.count == descriptor.stateCount, operands.initialStates.allSatisfy({ $0.shape == [batch, units] }) else {
            throw BackendError.shapeMismatch(
                operation: operation,
                reason: "needs \(descriptor.stateCount) initial state(s) of shape [\(batch), \(units)], got \(operands.initialStates.map { "\($0.shape)" })")
        }
        if let lengths = operands.lengths, lengths.dtype != .int32 || lengths.shape != [batch] {
            throw BackendError.shapeMismatch(operation: operation, reason: "needs lengths of dtype int32 and shape [\(batch)], got \(lengths.dtype) \(lengths.shape)")
        }
        if let mask = operands.recurrentMask, mask.shape != [batch, units] {
            throw BackendError.shapeMismatch(operation: operation, reason: "needs a recurrent mask [\(batch), \(units)], got \(mask.shape)")
        }
        try requireAllocatable([batch, time, width], .float32, operation)
        return (batch, time, units)
    }
}
