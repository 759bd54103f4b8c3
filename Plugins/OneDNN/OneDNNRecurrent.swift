#if OneDNN
import Backend
import CDNNL

/// Whole recurrent sequences as oneDNN RNN primitives: the LSTM (sigmoid gates, tanh), the GRU
/// with its reset gate after the recurrent product (oneDNN's linear-before-reset GRU) and the
/// simple RNN (relu, tanh or sigmoid), forward for training with oneDNN's workspace kept for the
/// backward primitive. oneDNN runs every sequence of the batch over the same steps, so variable
/// lengths, recurrent dropout masks, other activations and the reset-before GRU take the default
/// composition on this backend.
extension OneDNNBackend {
    /// A sequence as oneDNN sees it: the cell and the layouts of its memory. oneDNN's tensors are
    /// `[time, batch, channels]`; ours are batch-major, so the layer memory is described with
    /// strides instead of copied.
    struct RNNGeometry: Hashable {
        enum Kind: Hashable { case lstm, lbrGRU, vanilla(dnnl_alg_kind_t) }
        let kind: Kind
        private(set) var batch: Int
        let time: Int, features: Int, units: Int
        let reverse: Bool

        init?(_ operands: RecurrentOperands, _ descriptor: RecurrentDescriptor) {
            guard operands.lengths == nil, operands.recurrentMask == nil, operands.input.shape.rank == 3 else { return nil }
            let (act, gate) = (descriptor.activation, descriptor.recurrentActivation)
            switch descriptor.cell {
            case .lstm where act == .tanh && gate == .sigmoid: kind = .lstm
            case .gru(resetAfter: true) where act == .tanh && gate == .sigmoid: kind = .lbrGRU
            case .simple where act == .relu: kind = .vanilla(dnnl_eltwise_relu)
            case .simple where act == .tanh: kind = .vanilla(dnnl_eltwise_tanh)
            case .simple where act == .sigmoid: kind = .vanilla(dnnl_eltwise_logistic)
            default: return nil
            }
            (batch, time, features, units) = (operands.input.shape[0], operands.input.shape[1], operands.input.shape[2], operands.recurrentKernel.shape[0])
            reverse = descriptor.reverse
        }

        /// The same sequences for `examples` examples of the batch: sequences are independent,
        /// so a chunk of the batch is a recurrent layer of its own.
        func batch(_ examples: Int) -> RNNGeometry {
            var result = self
            result.batch = examples
            return result
        }

        /// The forward pass's multiply-adds, times two: the input and recurrent products of every step.
        var operations: Int { 2 * time * batch * (features + units) * gates * units }

        /// Gate blocks in the weights, and in the bias (the GRU's fourth is `b̂_n`).
        var gates: Int {
            switch kind {
            case .lstm: 4
            case .lbrGRU: 3
            case .vanilla: 1
            }
        }
        var biasGates: Int { if case .lbrGRU = kind { 4 } else { gates } }
        var hasCellState: Bool { if case .lstm = kind { true } else { false } }
        var direction: dnnl_rnn_direction_t { reverse ? dnnl_unidirectional_right2left : dnnl_unidirectional_left2right }

        /// `[time, batch, n]` over batch-major memory `[batch, time, n]`.
        func layer(_ n: Int) throws -> dnnl_memory_desc_t { try DNNL.memoryDescriptor([time, batch, n], strides: [n, time * n, 1]) }
        /// A state `[layers 1, directions 1, batch, units]`.
        func state() throws -> dnnl_memory_desc_t { try DNNL.memoryDescriptor([1, 1, batch, units], strides: DNNL.denseStrides([1, 1, batch, units])) }
        /// Weights over `rows` inputs in our layout, `[1, 1, rows, gates, units]` (oneDNN's `ldigo`).
        func weights(_ rows: Int) throws -> dnnl_memory_desc_t {
            let dims = [1, 1, rows, gates, units]
            return try DNNL.memoryDescriptor(dims, strides: DNNL.denseStrides(dims))
        }
        /// Weights in whatever layout the primitive prefers.
        func anyWeights(_ rows: Int) throws -> dnnl_memory_desc_t {
            var descriptor = dnnl_memory_desc_t()
            try DNNL.check(dnnl_memory_desc_init_by_tag(&descriptor, 5, DNNL.dims([1, 1, rows, gates, units]), dnnl_f32, dnnl_format_tag_any), "RNN weights descriptor")
            return descriptor
        }
        func bias() throws -> dnnl_memory_desc_t {
            let dims = [1, 1, biasGates, units]
            return try DNNL.memoryDescriptor(dims, strides: DNNL.denseStrides(dims))
        }
    }

    /// The RNN op descriptor: forward for training, or backward with the gradients' layouts.
    func rnnDescriptor(_ g: RNNGeometry, backward: Bool) throws -> dnnl_rnn_desc_t {
        var (source, state, layerWeights, iterWeights, bias) = (try g.layer(g.features), try g.state(), try g.anyWeights(g.features), try g.anyWeights(g.units), try g.bias())
        var destination = try g.layer(g.units)
        var (stateOut, cell, cellOut) = (state, state, state)
        var (dSource, dState, dLayerWeights, dIterWeights, dBias, dDestination, dStateOut, dCell, dCellOut) = (
            source, state, layerWeights, iterWeights, bias, destination, state, state, state)
        var descriptor = dnnl_rnn_desc_t()
        let prop = backward ? dnnl_backward : dnnl_forward_training
        let flags = dnnl_rnn_flags_undef.rawValue
        let status: dnnl_status_t
        switch (g.kind, backward) {
        case (.lstm, false):
            status = dnnl_lstm_forward_desc_init(
                &descriptor, prop, g.direction, &source, &state, &cell, &layerWeights, &iterWeights, &bias, &destination, &stateOut, &cellOut, flags)
        case (.lstm, true):
            status = dnnl_lstm_backward_desc_init(
                &descriptor, prop, g.direction, &source, &state, &cell, &layerWeights, &iterWeights, &bias, &destination, &stateOut, &cellOut,
                &dSource, &dState, &dCell, &dLayerWeights, &dIterWeights, &dBias, &dDestination, &dStateOut, &dCellOut, flags)
        case (.lbrGRU, false):
            status = dnnl_lbr_gru_forward_desc_init(
                &descriptor, prop, g.direction, &source, &state, &layerWeights, &iterWeights, &bias, &destination, &stateOut, flags)
        case (.lbrGRU, true):
            status = dnnl_lbr_gru_backward_desc_init(
                &descriptor, prop, g.direction, &source, &state, &layerWeights, &iterWeights, &bias, &destination, &stateOut,
                &dSource, &dState, &dLayerWeights, &dIterWeights, &dBias, &dDestination, &dStateOut, flags)
        case let (.vanilla(activation), false):
            status = dnnl_vanilla_rnn_forward_desc_init(
                &descriptor, prop, activation, g.direction, &source, &state, &layerWeights, &iterWeights, &bias, &destination, &stateOut, flags, 0, 0)
        case let (.vanilla(activation), true):
            status = dnnl_vanilla_rnn_backward_desc_init(
                &descriptor, prop, activation, g.direction, &source, &state, &layerWeights, &iterWeights, &bias, &destination, &stateOut,
                &dSource, &dState, &dLayerWeights, &dIterWeights, &dBias, &dDestination, &dStateOut, flags, 0, 0)
        }
        try DNNL.check(status, "RNN \(backward ? "backward" : "forward") descriptor")
        return descriptor
    }

    func rnnPrimitive(_ g: RNNGeometry, backward: Bool) throws -> Primitive {
        let forward = try cache.primitive("rnn forward", g) {
            var descriptor = try rnnDescriptor(g, backward: false)
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
        }
        guard backward else { return forward }
        return try cache.primitive("rnn backward", g) {
            var descriptor = try rnnDescriptor(g, backward: true)
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: forward.descriptor) }
        }
    }

    /// The memory descriptor a primitive chose for the `index`-th memory of `query`.
    func chosen(_ primitive: Primitive, _ query: dnnl_query_t, index: Int32) throws -> dnnl_memory_desc_t {
        guard let descriptor = dnnl_primitive_desc_query_md(primitive.descriptor, query, index) else {
            throw BackendError.deviceFailure(backend: "onednn", reason: "the RNN primitive has no memory descriptor for query \(query.rawValue)")
        }
        return descriptor.pointee
    }

    /// The kernels and bias in oneDNN's gate order (the GRU's `u, r, o` is our `z, r, n`; its
    /// bias is `[b_z + b̂_z, b_r + b̂_r, b_n, b̂_n]`), the bias zeros when absent.
    func rnnWeights(_ operands: RecurrentOperands, _ g: RNNGeometry) throws -> (layer: Buffer, iter: Buffer, bias: Buffer) {
        guard case .lbrGRU = g.kind else {
            return (operands.kernel, operands.recurrentKernel, try operands.bias ?? full(0, shape: [g.gates * g.units], dtype: .float32))
        }
        let zero = try full(0, shape: [3 * g.units], dtype: .float32)
        let (bias, recurrentBias) = (operands.bias ?? zero, operands.recurrentBias ?? zero)
        let summed = try binary(.add, bias, recurrentBias)
        let gruBias = try concatenate(
            [gateBlock(summed, 1, g), gateBlock(summed, 0, g), gateBlock(bias, 2, g), gateBlock(recurrentBias, 2, g)], axis: 0)
        return (try swappingFirstGates(operands.kernel, g), try swappingFirstGates(operands.recurrentKernel, g), gruBias)
    }

    /// Gate block `index` of `x` `[..., gates·units]`.
    func gateBlock(_ x: Buffer, _ index: Int, _ g: RNNGeometry) throws -> Buffer {
        let rank = x.shape.rank
        var (starts, limits) = ([Int](repeating: 0, count: rank), x.shape.dimensions)
        (starts[rank - 1], limits[rank - 1]) = (index * g.units, (index + 1) * g.units)
        return try slice(x, starts: starts, limits: limits, strides: [Int](repeating: 1, count: rank))
    }

    /// `x` with its first two gate blocks swapped (our GRU order to oneDNN's, and back).
    func swappingFirstGates(_ x: Buffer, _ g: RNNGeometry) throws -> Buffer {
        try concatenate([gateBlock(x, 1, g), gateBlock(x, 0, g), gateBlock(x, 2, g)], axis: x.shape.rank - 1)
    }

    public func recurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult {
        let floats = [operands.input, operands.kernel, operands.recurrentKernel] + operands.initialStates
        guard let g = RNNGeometry(operands, descriptor), Self.supports(floats) else {
            return try composedRecurrentSequence(operands, descriptor: descriptor)
        }
        let weights = try rnnWeights(operands, g)
        let layout = try workspaceLayout(g)
        var scratch = RNNScratch()
        defer { scratch.release() }
        let (output, outputPointer) = try allocate([g.batch, g.time, g.units])
        let states = try (0..<descriptor.stateCount).map { _ in try allocate([g.batch, g.units]) }
        let (workspace, workspacePointer) = try allocate([(layout.bytes + 3) / 4])
        let primitives = try layout.geometries.map { try rnnPrimitive($0, backward: false) }
        let placedWeights = try placedForChunks(weights, g, layout.geometries, primitives, direction: "forward", &scratch)
        let name = "recurrentSequence"
        let memory = SequenceMemory(
            input: try address(operands.input, name), initial: try operands.initialStates.map { try address($0, name) },
            bias: try address(weights.bias, name), output: outputPointer, finals: states.map(\.1), workspace: workspacePointer)
        try work.forEach(layout.plan) { chunk in
            try execute(primitives[chunk], try sequenceArguments(memory, g, layout, chunk: chunk, primitive: primitives[chunk], weights: placedWeights[chunk]))
        }
        let finals = states.map(\.0)
        // The backward primitive reads the forward pass's outputs beside oneDNN's workspace.
        return RecurrentSequenceResult(output: output, states: finals, workspace: [workspace, output] + finals)
    }

    /// The memory both passes hand to a chunk's primitive, at the whole batch's addresses.
    struct SequenceMemory {
        let input: UnsafeMutableRawPointer, initial: [UnsafeMutableRawPointer], bias: UnsafeMutableRawPointer
        let output: UnsafeMutableRawPointer, finals: [UnsafeMutableRawPointer], workspace: UnsafeMutableRawPointer
    }

    /// The forward pass's arguments for chunk `chunk` of `layout` (the backward pass reads the
    /// same, its outputs among them): each sequence tensor at the chunk's first example.
    func sequenceArguments(
        _ memory: SequenceMemory, _ g: RNNGeometry, _ layout: WorkspaceLayout, chunk: Int, primitive: Primitive,
        weights: (layer: UnsafeMutableRawPointer, iter: UnsafeMutableRawPointer)
    ) throws -> [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] {
        let (gc, first) = (layout.geometries[chunk], layout.plan.range(chunk).lowerBound)
        let (sequence, state) = (first * g.time * 4, first * g.units * 4)
        var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL_ARG_SRC_LAYER, memory.input + sequence * g.features, try gc.layer(g.features)),
            (DNNL_ARG_SRC_ITER, memory.initial[0] + state, try gc.state()),
            (DNNL_ARG_WEIGHTS_LAYER, weights.layer, try chosen(primitive, dnnl_query_weights_md, index: 0)),
            (DNNL_ARG_WEIGHTS_ITER, weights.iter, try chosen(primitive, dnnl_query_weights_md, index: 1)),
            (DNNL_ARG_BIAS, memory.bias, try g.bias()),
            (DNNL_ARG_DST_LAYER, memory.output + sequence * g.units, try gc.layer(g.units)),
            (DNNL_ARG_DST_ITER, memory.finals[0] + state, try gc.state()),
            (DNNL_ARG_WORKSPACE, memory.workspace + layout.offsets[chunk], try chosen(primitive, dnnl_query_workspace_md, index: 0)),
        ]
        if g.hasCellState {
            arguments.append((DNNL_ARG_SRC_ITER_C, memory.initial[1] + state, try gc.state()))
            arguments.append((DNNL_ARG_DST_ITER_C, memory.finals[1] + state, try gc.state()))
        }
        return arguments
    }

    /// The kernels in the layouts each chunk's primitive wants (forward or backward): reordered
    /// once, and again only for a chunk whose primitive wants another layout.
    func placedForChunks(
        _ weights: (layer: Buffer, iter: Buffer, bias: Buffer), _ g: RNNGeometry, _ geometries: [RNNGeometry], _ primitives: [Primitive],
        direction: String, _ scratch: inout RNNScratch
    ) throws -> [(layer: UnsafeMutableRawPointer, iter: UnsafeMutableRawPointer)] {
        var result: [(layer: UnsafeMutableRawPointer, iter: UnsafeMutableRawPointer)] = []
        for (chunk, primitive) in primitives.enumerated() {
            let wanted = (try chosen(primitive, dnnl_query_weights_md, index: 0), try chosen(primitive, dnnl_query_weights_md, index: 1))
            if chunk > 0, DNNL.same(wanted.0, try chosen(primitives[0], dnnl_query_weights_md, index: 0)),
                DNNL.same(wanted.1, try chosen(primitives[0], dnnl_query_weights_md, index: 1))
            {
                result.append(result[0])
                continue
            }
            result.append((
                layer: try placed(weights.layer, g.weights(g.features), wanted.0, ["layer", direction, geometries[chunk]], &scratch),
                iter: try placed(weights.iter, g.weights(g.units), wanted.1, ["iter", direction, geometries[chunk]], &scratch)))
        }
        return result
    }

    /// How a sequence's batch is cut for the cores (one chunk per thread at most: each step's
    /// products are small, and smaller chunks would run them less efficiently), and where each
    /// chunk's oneDNN workspace lies in the one workspace buffer, 64-byte aligned. The forward
    /// and backward passes compute the same layout.
    func workspaceLayout(_ g: RNNGeometry) throws -> WorkspaceLayout {
        let plan = ChunkPlan(items: g.batch, chunks: Swift.min(work.threads, work.plan(items: g.batch, operations: g.operations).count))
        let geometries = (0..<plan.count).map { g.batch(plan.range($0).count) }
        var offsets: [Int] = [], bytes = 0
        for geometry in geometries {
            offsets.append(bytes)
            var descriptor = try chosen(try rnnPrimitive(geometry, backward: false), dnnl_query_workspace_md, index: 0)
            bytes += (dnnl_memory_desc_get_size(&descriptor) + 63) / 64 * 64
        }
        return WorkspaceLayout(plan: plan, geometries: geometries, offsets: offsets, bytes: bytes)
    }

    /// A sequence's chunks: the plan, each chunk's geometry, and its workspace's byte offset.
    struct WorkspaceLayout {
        let plan: ChunkPlan
        let geometries: [RNNGeometry]
        let offsets: [Int]
        let bytes: Int
    }
}

/// Scratch memory for weights in a primitive's preferred layout, released after the call.
struct RNNScratch {
    private var blocks: [UnsafeMutableRawPointer] = []

    mutating func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let block = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
        blocks.append(block)
        return block
    }

    func release() { for block in blocks { block.deallocate() } }
}

extension OneDNNBackend {
    /// The address of `buffer`'s elements in the layout `wanted`: its own when they agree, else
    /// a reordered copy in `scratch`.
    func placed(_ buffer: Buffer, _ user: dnnl_memory_desc_t, _ wanted: dnnl_memory_desc_t, _ key: [AnyHashable], _ scratch: inout RNNScratch) throws -> UnsafeMutableRawPointer {
        let pointer = try address(buffer, "recurrentSequence")
        var (u, w) = (user, wanted)
        if dnnl_memory_desc_equal(&u, &w) != 0 { return pointer }
        let copy = scratch.allocate(dnnl_memory_desc_get_size(&w))
        try reorder(from: (pointer, user), to: (copy, wanted), key: ["rnn weights in"] + key)
        return copy
    }
}
#endif
