extension RecurrentUnroll {
    /// Backpropagation through time: steps in reverse processing order, each turning the
    /// gradient reaching its new state into gradients of its gate pre-activations (`dP`, the
    /// input projection's), of the recurrent kernel and of the state going in.
    func backward(gradOutput: Buffer, gradStates: [Buffer], workspace: [Buffer]) throws -> RecurrentSequenceGradients {
        let expected = descriptor.cell == .lstm ? 4 : descriptor.cell == .gru(resetAfter: true) ? 3 : 2
        guard workspace.count == expected, workspace.allSatisfy({ $0.shape.rank == 3 && $0.shape[0] == time && $0.shape[1] == batch }) else {
            throw BackendError.invalidArgument(
                operation: "recurrentSequenceBackward", reason: "the workspace is not the one this backend's recurrentSequence returned for these operands")
        }
        let (act, gate) = (descriptor.activation, descriptor.recurrentActivation)
        let recurrentKernel = operands.recurrentKernel
        let dy = try reordered(gradOutput)
        let keep = try self.keep.map { try backend.reshape($0, to: [batch, time, 1]) }
        var dh = gradStates[0]
        var dc = gradStates.count > 1 ? gradStates[1] : nil
        var dRecurrent = try backend.full(0, shape: recurrentKernel.shape, dtype: .float32)
        var dRecurrentBias = try operands.recurrentBias.map { try backend.full(0, shape: $0.shape, dtype: .float32) }
        var dProjections: [Buffer] = []
        for t in (0..<time).reversed() {
            let hPrevious = try saved(workspace[0], t), gates = try saved(workspace[1], t)
            let hd = try masked(hPrevious)
            // The mask: a step past a sequence's length passes the state's gradient through.
            var dhNew = try add(dh, step(dy, t))
            var passed: Buffer? = nil, cPassed: Buffer? = nil
            if let keep {
                let m = try step(keep, t)
                let skip = try oneMinus(m)
                passed = try multiply(dh, skip)
                dhNew = try multiply(dhNew, m)
                if let current = dc {
                    cPassed = try multiply(current, skip)
                    dc = try multiply(current, m)
                }
            }
            let dP: Buffer, dhd: Buffer
            var dhDirect: Buffer? = nil
            switch descriptor.cell {
            case .simple:
                dP = try multiply(dhNew, derivative(act, output: gates))
                dhd = try product(dP, recurrentKernel, transposeB: true)
                dRecurrent = try add(dRecurrent, product(hd, dP, transposeA: true))
            case .lstm:
                let (i, f, g, o) = (try block(gates, 0), try block(gates, 1), try block(gates, 2), try block(gates, 3))
                let (cPrevious, cell) = (try saved(workspace[2], t), try saved(workspace[3], t))
                let activated = try backend.activate(cell, act)
                let dCell = try add(dc ?? backend.full(0, shape: cell.shape, dtype: .float32), multiply(multiply(dhNew, o), derivative(act, output: activated)))
                dP = try backend.concatenate([
                    multiply(multiply(dCell, g), derivative(gate, output: i)),
                    multiply(multiply(dCell, cPrevious), derivative(gate, output: f)),
                    multiply(multiply(dCell, i), derivative(act, output: g)),
                    multiply(multiply(dhNew, activated), derivative(gate, output: o)),
                ], axis: 1)
                dhd = try product(dP, recurrentKernel, transposeB: true)
                dRecurrent = try add(dRecurrent, product(hd, dP, transposeA: true))
                dc = try multiply(dCell, f)
                if let cPassed, let current = dc { dc = try add(current, cPassed) }
            case let .gru(resetAfter):
                let (r, z, n) = (try block(gates, 0), try block(gates, 1), try block(gates, 2))
                let dnPre = try multiply(multiply(dhNew, oneMinus(z)), derivative(act, output: n))
                let dzPre = try multiply(multiply(dhNew, subtract(hPrevious, n)), derivative(gate, output: z))
                dhDirect = try multiply(dhNew, z)
                if resetAfter {
                    let un = try saved(workspace[2], t)
                    let drPre = try multiply(multiply(dnPre, un), derivative(gate, output: r))
                    dP = try backend.concatenate([drPre, dzPre, dnPre], axis: 1)
                    let dU = try backend.concatenate([drPre, dzPre, multiply(dnPre, r)], axis: 1)
                    dhd = try product(dU, recurrentKernel, transposeB: true)
                    dRecurrent = try add(dRecurrent, product(hd, dU, transposeA: true))
                    if let sum = dRecurrentBias { dRecurrentBias = try add(sum, backend.reduce(.sum, dU, axes: [0], keepDimensions: false)) }
                } else {
                    let (gateKernel, candidateKernel) = (try block(recurrentKernel, 0, count: 2), try block(recurrentKernel, 2))
                    let dReset = try product(dnPre, candidateKernel, transposeB: true)  // the gradient of r·h
                    let drPre = try multiply(multiply(dReset, hd), derivative(gate, output: r))
                    let dGates = try backend.concatenate([drPre, dzPre], axis: 1)
                    dP = try backend.concatenate([drPre, dzPre, dnPre], axis: 1)
                    dhd = try add(product(dGates, gateKernel, transposeB: true), multiply(dReset, r))
                    dRecurrent = try add(dRecurrent, backend.concatenate([
                        product(hd, dGates, transposeA: true), product(multiply(r, hd), dnPre, transposeA: true),
                    ], axis: 1))
                }
            }
            dProjections.append(dP)
            dh = try masked(dhd)
            if let dhDirect { dh = try add(dh, dhDirect) }
            if let passed { dh = try add(dh, passed) }
        }
        let dProjected = try backend.reshape(stacked(dProjections.reversed(), timeFirst: false), to: [batch * time, width])
        let x = try backend.reshape(reordered(operands.input), to: [batch * time, features])
        let dx = try backend.reshape(product(dProjected, operands.kernel, transposeB: true), to: [batch, time, features])
        return RecurrentSequenceGradients(
            input: try reordered(dx), kernel: try product(x, dProjected, transposeA: true), recurrentKernel: dRecurrent,
            bias: try operands.bias.map { _ in try backend.reduce(.sum, dProjected, axes: [0], keepDimensions: false) },
            recurrentBias: dRecurrentBias, initialStates: [dh] + (dc.map { [$0] } ?? []))
    }
}
