import Backend

extension Plan {
    /// `calls` with each chain of float32 elementwise primitives whose intermediate values
    /// nothing else reads replaced by one ``Backend/elementwise(_:_:)`` call, which a backend
    /// may run in one pass over memory. A chain grows by a call that reads its last value, when
    /// that call is the value's only reader, computes on the same backend and at the same shape
    /// (its other operands having that shape or a single element), and the value is not a result.
    static func fused(_ calls: [Trace.Call], results: Set<Int>) -> [Trace.Call] {
        var readers: [Int: Int] = [:]
        for call in calls {
            for slot in Set(call.inputs.map(\.slot)) { readers[slot, default: 0] += 1 }
        }
        var chains: [[Int]] = []
        var chainEndingIn: [Int: Int] = [:]  // the slot of a chain's last value → the chain
        for (index, call) in calls.enumerated() where fusable(call) {
            let output = call.outputs[0]
            let joined = call.inputs.first { input in
                guard let chain = chainEndingIn[input.slot], readers[input.slot] == 1, !results.contains(input.slot) else { return false }
                let last = calls[chains[chain].last ?? index]
                return input.shape == output.shape && last.backend.isSameBackend(as: call.backend)
            }
            if let joined, let chain = chainEndingIn.removeValue(forKey: joined.slot) {
                chains[chain].append(index)
                chainEndingIn[output.slot] = chain
            } else {
                chainEndingIn[output.slot] = chains.count
                chains.append([index])
            }
        }
        var replacements: [Int: Trace.Call?] = [:]  // by call index: the fused call at a chain's end, nil inside it
        for chain in chains where chain.count > 1 {
            guard let last = chain.last, let call = fusedCall(chain.map { calls[$0] }) else { continue }
            for index in chain { replacements[index] = .some(nil) }
            replacements[last] = .some(call)
        }
        return calls.indices.compactMap { index in replacements[index].map { $0 } ?? calls[index] }
    }

    /// Whether `call` is a float32 elementwise primitive whose operands have its shape or one element.
    private static func fusable(_ call: Trace.Call) -> Bool {
        guard call.elementwise != nil, call.key == nil, call.settings.isEmpty, call.outputs.count == 1 else { return false }
        let output = call.outputs[0]
        return output.dtype == .float32
            && call.inputs.allSatisfy { $0.dtype == .float32 && ($0.shape == output.shape || $0.shape.elementCount == 1) }
    }

    /// One call running `chain` (in order, each after the first reading its predecessor's value) as a program.
    private static func fusedCall(_ chain: [Trace.Call]) -> Trace.Call? {
        // Registers: the operands the chain does not compute, then one per call.
        let computed = Set(chain.map { $0.outputs[0].slot })
        var inputs: [Trace.View] = []
        var registers: [Int: Int] = [:]  // slot → register
        for view in chain.flatMap(\.inputs) where !computed.contains(view.slot) && registers[view.slot] == nil {
            registers[view.slot] = inputs.count
            inputs.append(view)
        }
        var steps: [ElementwiseProgram.Step] = []
        for call in chain {
            let operands = call.inputs.compactMap { registers[$0.slot] }
            switch call.elementwise {
            case let .unary(operation)? where operands.count == 1: steps.append(.unary(operation, operands[0]))
            case let .binary(operation)? where operands.count == 2: steps.append(.binary(operation, operands[0], operands[1]))
            default: return nil
            }
            registers[call.outputs[0].slot] = inputs.count + steps.count - 1
        }
        guard let program = try? ElementwiseProgram(inputCount: inputs.count, steps: steps), let first = chain.first, let last = chain.last else {
            return nil
        }
        return Trace.Call(
            operation: "elementwise(\(program))", backend: first.backend, inputs: inputs, outputs: last.outputs, key: nil, settings: [],
            elementwise: nil, run: { backend, buffers, _, _ in [try backend.elementwise(program, buffers)] })
    }
}
