#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// The backward RNN primitive over the workspace of ``recurrentSequence(_:descriptor:)``
    /// (oneDNN's workspace, the output and the final states). oneDNN adds the weights' and
    /// bias's gradients to what their memory holds, so that memory starts at zero.
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
        let primitive = try rnnPrimitive(g, backward: true)
        let weights = try rnnWeights(operands, g)
        var scratch = RNNScratch()
        defer { scratch.release() }
        let (layerWanted, iterWanted) = (try chosen(primitive, dnnl_query_weights_md, index: 0), try chosen(primitive, dnnl_query_weights_md, index: 1))
        var (layerGradient, iterGradient) = (try chosen(primitive, dnnl_query_diff_weights_md, index: 0), try chosen(primitive, dnnl_query_diff_weights_md, index: 1))
        let layerGradientPointer = scratch.allocate(dnnl_memory_desc_get_size(&layerGradient))
        let iterGradientPointer = scratch.allocate(dnnl_memory_desc_get_size(&iterGradient))
        layerGradientPointer.initializeMemory(as: UInt8.self, repeating: 0, count: dnnl_memory_desc_get_size(&layerGradient))
        iterGradientPointer.initializeMemory(as: UInt8.self, repeating: 0, count: dnnl_memory_desc_get_size(&iterGradient))
        let (biasGradient, biasGradientPointer) = try allocate([g.biasGates * g.units])
        biasGradientPointer.initializeMemory(as: Float.self, repeating: 0, count: g.biasGates * g.units)
        let (inputGradient, inputGradientPointer) = try allocate([g.batch, g.time, g.features])
        let stateGradients = try (0..<descriptor.stateCount).map { _ in try allocate([g.batch, g.units]) }
        var workspaceDescriptor = try chosen(primitive, dnnl_query_workspace_md, index: 0)
        guard workspace[0].shape.elementCount * 4 >= dnnl_memory_desc_get_size(&workspaceDescriptor) else {
            throw BackendError.invalidArgument(operation: "recurrentSequenceBackward", reason: "the workspace is smaller than oneDNN's for these operands")
        }
        let name = "recurrentSequenceBackward"
        var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL_ARG_SRC_LAYER, try address(operands.input, name), try g.layer(g.features)),
            (DNNL_ARG_SRC_ITER, try address(operands.initialStates[0], name), try g.state()),
            (DNNL_ARG_WEIGHTS_LAYER, try placed(weights.layer, g.weights(g.features), layerWanted, "backward layer \(g.key)", &scratch), layerWanted),
            (DNNL_ARG_WEIGHTS_ITER, try placed(weights.iter, g.weights(g.units), iterWanted, "backward iter \(g.key)", &scratch), iterWanted),
            (DNNL_ARG_BIAS, try address(weights.bias, name), try g.bias()),
            (DNNL_ARG_DST_LAYER, try address(workspace[1], name), try g.layer(g.units)),
            (DNNL_ARG_DST_ITER, try address(workspace[2], name), try g.state()),
            (DNNL_ARG_WORKSPACE, try address(workspace[0], name), workspaceDescriptor),
            (DNNL_ARG_DIFF_SRC_LAYER, inputGradientPointer, try g.layer(g.features)),
            (DNNL_ARG_DIFF_SRC_ITER, stateGradients[0].1, try g.state()),
            (DNNL_ARG_DIFF_WEIGHTS_LAYER, layerGradientPointer, layerGradient),
            (DNNL_ARG_DIFF_WEIGHTS_ITER, iterGradientPointer, iterGradient),
            (DNNL_ARG_DIFF_BIAS, biasGradientPointer, try g.bias()),
            (DNNL_ARG_DIFF_DST_LAYER, try address(gradOutput, name), try g.layer(g.units)),
            (DNNL_ARG_DIFF_DST_ITER, try address(gradStates[0], name), try g.state()),
        ]
        if g.hasCellState {
            arguments += [
                (DNNL_ARG_SRC_ITER_C, try address(operands.initialStates[1], name), try g.state()),
                (DNNL_ARG_DST_ITER_C, try address(workspace[3], name), try g.state()),
                (DNNL_ARG_DIFF_SRC_ITER_C, stateGradients[1].1, try g.state()),
                (DNNL_ARG_DIFF_DST_ITER_C, try address(gradStates[1], name), try g.state()),
            ]
        }
        try execute(primitive, arguments)
        // The weights' gradients back in our layout and gate order.
        var kernels: [Buffer] = []
        for (rows, produced, pointer, key) in [(g.features, layerGradient, layerGradientPointer, "layer"), (g.units, iterGradient, iterGradientPointer, "iter")] {
            let (kernel, kernelPointer) = try allocate([rows, g.gates * g.units])
            try reorder(from: (pointer, produced), to: (kernelPointer, try g.weights(rows)), key: "rnn weights out \(key) \(g.key)")
            kernels.append(kernel)
        }
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
