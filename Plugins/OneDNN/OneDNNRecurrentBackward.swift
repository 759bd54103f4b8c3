#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// The backward RNN primitives over the workspace of ``recurrentSequence(_:descriptor:)``
    /// (oneDNN's workspace, the output and the final states), chunk by chunk of the batch as the
    /// forward pass ran.
    public func recurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients {
        let floats = [operands.input, operands.kernel, operands.recurrentKernel] + operands.initialStates
        guard let g = RNNGeometry(operands, descriptor), Self.supports(floats) else {
            return try composedRecurrentSequenceBackward(
                gradOutput: gradOutput, gradStates: gradStates, operands: operands, workspace: workspace, descriptor: descriptor)
        }
        guard workspace.count == 2 + descriptor.stateCount, workspace[1].shape == [g.batch, g.time, g.units] else {
            throw BackendError.invalidArgument(
                operation: "recurrentSequenceBackward", reason: "the workspace is not the one onednn's recurrentSequence returned for these operands")
        }
        let weights = try rnnWeights(operands, g)
        let layout = try workspaceLayout(g)
        guard workspace[0].shape.elementCount * 4 >= layout.bytes else {
            throw BackendError.invalidArgument(operation: "recurrentSequenceBackward", reason: "the workspace is smaller than oneDNN's for these operands")
        }
        var scratch = RNNScratch()
        defer { scratch.release() }
        let primitives = try layout.geometries.map { try rnnPrimitive($0, backward: true) }
        let placedWeights = try placedForChunks(weights, g, layout.geometries, primitives, direction: "backward", &scratch)
        // oneDNN adds each chunk's weight gradients to its memory: every chunk has its own,
        // zeroed, in our layout after the pass, summed in chunk order at the end.
        let (layerElements, iterElements, biasElements) = (g.features * g.gates * g.units, g.units * g.gates * g.units, g.biasGates * g.units)
        let parts = GradientParts(count: layout.plan.count, elements: layerElements + iterElements + biasElements)
        let (inputGradient, inputGradientPointer) = try allocate([g.batch, g.time, g.features])
        let stateGradients = try (0..<descriptor.stateCount).map { _ in try allocate([g.batch, g.units]) }
        let name = "recurrentSequenceBackward"
        let gradient = try address(gradOutput, name)
        let memory = SequenceMemory(
            input: try address(operands.input, name), initial: try operands.initialStates.map { try address($0, name) },
            bias: try address(weights.bias, name), output: try address(workspace[1], name), finals: try workspace[2...].map { try address($0, name) },
            workspace: try address(workspace[0], name))
        let gradFinals = try gradStates.map { try address($0, name) }
        try work.forEach(layout.plan) { chunk in
            let (gc, primitive, first) = (layout.geometries[chunk], primitives[chunk], layout.plan.range(chunk).lowerBound)
            let (sequence, state) = (first * g.time * 4, first * g.units * 4)
            var (layerGradient, iterGradient) = (try chosen(primitive, dnnl_query_diff_weights_md, index: 0), try chosen(primitive, dnnl_query_diff_weights_md, index: 1))
            let (layerBytes, iterBytes) = (dnnl_memory_desc_get_size(&layerGradient), dnnl_memory_desc_get_size(&iterGradient))
            let produced = UnsafeMutableRawPointer.allocate(byteCount: layerBytes + iterBytes, alignment: 64)
            defer { produced.deallocate() }
            produced.initializeMemory(as: UInt8.self, repeating: 0, count: layerBytes + iterBytes)
            let part = parts[chunk]
            let biasPart = part + (layerElements + iterElements) * 4
            biasPart.initializeMemory(as: Float.self, repeating: 0, count: biasElements)
            var arguments = try sequenceArguments(memory, g, layout, chunk: chunk, primitive: primitive, weights: placedWeights[chunk])
            arguments += [
                (DNNL_ARG_DIFF_SRC_LAYER, inputGradientPointer + sequence * g.features, try gc.layer(g.features)),
                (DNNL_ARG_DIFF_SRC_ITER, stateGradients[0].1 + state, try gc.state()),
                (DNNL_ARG_DIFF_WEIGHTS_LAYER, produced, layerGradient),
                (DNNL_ARG_DIFF_WEIGHTS_ITER, produced + layerBytes, iterGradient),
                (DNNL_ARG_DIFF_BIAS, biasPart, try g.bias()),
                (DNNL_ARG_DIFF_DST_LAYER, gradient + sequence * g.units, try gc.layer(g.units)),
                (DNNL_ARG_DIFF_DST_ITER, gradFinals[0] + state, try gc.state()),
            ]
            if g.hasCellState {
                arguments += [
                    (DNNL_ARG_DIFF_SRC_ITER_C, stateGradients[1].1 + state, try gc.state()),
                    (DNNL_ARG_DIFF_DST_ITER_C, gradFinals[1] + state, try gc.state()),
                ]
            }
            try execute(primitive, arguments)
            // The weights' gradients into this chunk's part, in our layout.
            try reorder(from: (produced, layerGradient), to: (part, try g.weights(g.features)), key: ["rnn weights out layer", gc])
            try reorder(from: (produced + layerBytes, iterGradient), to: (part + layerElements * 4, try g.weights(g.units)), key: ["rnn weights out iter", gc])
        }
        let (total, totalPointer) = try allocate([layerElements + iterElements + biasElements])
        parts.sum(into: totalPointer.assumingMemoryBound(to: Float.self))
        var kernels = [
            try reshape(try slice(total, starts: [0], limits: [layerElements], strides: [1]), to: [g.features, g.gates * g.units]),
            try reshape(try slice(total, starts: [layerElements], limits: [layerElements + iterElements], strides: [1]), to: [g.units, g.gates * g.units]),
        ]
        let biasGradient = try slice(total, starts: [layerElements + iterElements], limits: [layerElements + iterElements + biasElements], strides: [1])
        var (bias, recurrentBias): (Buffer?, Buffer?) = (biasGradient, nil)
        if case .lbrGRU = g.kind {
            kernels = try kernels.map { try swappingFirstGates($0, g) }
            // oneDNN's bias blocks [u, r, o, u'] hold b_z + b̂_z, b_r + b̂_r, b_n and b̂_n.
            let (u, r, o, n) = (try gateBlock(biasGradient, 0, g), try gateBlock(biasGradient, 1, g), try gateBlock(biasGradient, 2, g), try gateBlock(biasGradient, 3, g))
            bias = try concatenate([r, u, o], axis: 0)
            recurrentBias = try operands.recurrentBias.map { _ in try concatenate([r, u, n], axis: 0) }
        }
        return RecurrentSequenceGradients(
            input: inputGradient, kernel: kernels[0], recurrentKernel: kernels[1], bias: operands.bias == nil ? nil : bias,
            recurrentBias: recurrentBias, initialStates: stateGradients.map(\.0))
    }
}
#endif
