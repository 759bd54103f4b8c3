#if OneDNN
import Backend
import CDNNL

/// A convolution as oneDNN sees it: channels-first logical dimensions over our channels-last
/// buffers (through strides), and the HWIO kernel as `[G,] O, I, spatial...`.
struct ConvolutionGeometry: Hashable {
    private(set) var source: StridedDims
    private(set) var weights: StridedDims
    private(set) var destination: StridedDims
    private(set) var strides: [Int], dilates: [Int], paddingLow: [Int], paddingHigh: [Int]
    private(set) var outChannels: Int
    /// float32 or bfloat16, for every operand but perhaps the weights.
    let dtype: DType
    /// The weights' dtype: `dtype`, or float32 for a bfloat16 kernel gradient accumulated in parts.
    private(set) var weightsDType: DType

    init(input: Shape, kernel: Shape, output: Shape, descriptor d: ConvolutionDescriptor, dtype: DType) {
        self.dtype = dtype
        weightsDType = dtype
        func channelsFirst(_ shape: Shape) -> StridedDims {
            let own = shape.strides, last = shape.rank - 1
            return StridedDims(dims: [shape[0], shape[last]] + Array(shape.dimensions[1..<last]), strides: [own[0], own[last]] + Array(own[1..<last]))
        }
        source = channelsFirst(input)
        destination = channelsFirst(output)
        let spatial = kernel.rank - 2
        let own = kernel.strides
        outChannels = kernel[spatial + 1]
        let groupIn = kernel[spatial]
        let kernelDims = Array(kernel.dimensions[0..<spatial]), kernelStrides = Array(own[0..<spatial])
        if d.groups == 1 {
            weights = StridedDims(dims: [outChannels, groupIn] + kernelDims, strides: [1, own[spatial]] + kernelStrides)
        } else {
            let groupOut = outChannels / d.groups
            weights = StridedDims(dims: [d.groups, groupOut, groupIn] + kernelDims, strides: [groupOut, 1, own[spatial]] + kernelStrides)
        }
        strides = d.strides
        dilates = d.kernelDilation.map { $0 - 1 }
        paddingLow = d.padding.map(\.low)
        paddingHigh = d.padding.map(\.high)
    }

    /// The deconvolution that is this convolution's adjoint: source and destination exchange,
    /// and so do the weights' output and input channel axes. oneDNN wants the high padding
    /// that makes the sizes exact, `(in − 1)·s + extent − low − out`, which the convolution's
    /// floor division may have rounded; nil when that is negative.
    func transposed(spatialInput: [Int], spatialOutput: [Int], kernelExtent: [Int]) -> ConvolutionGeometry? {
        var result = self
        (result.source, result.destination) = (destination, source)
        let channelAxis = weights.dims.count - spatialInput.count - 2
        result.weights.dims.swapAt(channelAxis, channelAxis + 1)
        result.weights.strides.swapAt(channelAxis, channelAxis + 1)
        result.outChannels = source.dims[1]
        result.paddingHigh = spatialInput.indices.map {
            (spatialInput[$0] - 1) * strides[$0] + kernelExtent[$0] - paddingLow[$0] - spatialOutput[$0]
        }
        return result.paddingHigh.allSatisfy({ $0 >= 0 }) && paddingLow.allSatisfy({ $0 >= 0 }) ? result : nil
    }

    /// The same convolution over `examples` examples of the batch (the strides stay the
    /// whole batch's, so a chunk is read and written in place).
    func batch(_ examples: Int) -> ConvolutionGeometry {
        var result = self
        result.source.dims[0] = examples
        result.destination.dims[0] = examples
        return result
    }

    /// The same convolution with weights of `dtype`.
    func weightsOf(_ dtype: DType) -> ConvolutionGeometry {
        var result = self
        result.weightsDType = dtype
        return result
    }

    /// The multiply-adds of the whole convolution, times two.
    var operations: Int {
        2 * destination.dims.reduce(1, *) * weights.dims.reduce(1, *) / outChannels
    }

    /// The kind of a primitive of this geometry: `base`, then the dtype when it is not
    /// float32 and the weights' when it differs.
    func kind(_ base: String) -> String {
        PrimitiveKey.kind(base, dtype) + (weightsDType == dtype ? "" : " " + weightsDType.rawValue + " weights")
    }

    /// The bias's descriptor: one value per output channel.
    func biasDescriptor() throws -> dnnl_memory_desc_t {
        try DNNL.memoryDescriptor([outChannels], strides: [1], dtype: dtype)
    }

    func memoryDescriptors() throws -> (source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, anyWeights: dnnl_memory_desc_t, destination: dnnl_memory_desc_t) {
        var any = dnnl_memory_desc_t()
        try DNNL.check(
            dnnl_memory_desc_init_by_tag(&any, Int32(weights.dims.count), DNNL.dims(weights.dims), DNNL.dataType(weightsDType), dnnl_format_tag_any),
            "weights descriptor")
        return (
            try DNNL.memoryDescriptor(source.dims, strides: source.strides, dtype: dtype),
            try DNNL.memoryDescriptor(weights.dims, strides: weights.strides, dtype: weightsDType),
            any, try DNNL.memoryDescriptor(destination.dims, strides: destination.strides, dtype: dtype))
    }
}

extension OneDNNBackend {
    /// Whether oneDNN's convolution applies: float32, 1–3 spatial dimensions, no input dilation.
    func convolutionSupported(_ buffers: [Buffer], _ descriptor: ConvolutionDescriptor) -> Bool {
        let spatial = buffers[0].shape.rank - 2
        return Self.supports(buffers) && (1...3).contains(spatial) && descriptor.inputDilation.allSatisfy { $0 == 1 }
    }

    /// The forward primitive (training propagation, so it can serve as the backward hint).
    func forwardConvolution(_ g: ConvolutionGeometry, bias: Bool, activation: FusedActivation) throws -> Primitive {
        try cache.primitive(g.kind("conv forward"), g, bias, activation) {
            var (source, _, weights, destination) = try g.memoryDescriptors()
            var biasDescriptor = try g.biasDescriptor()
            var descriptor = dnnl_convolution_desc_t()
            let status = bias
                ? dnnl_dilated_convolution_forward_desc_init(
                    &descriptor, dnnl_forward_training, dnnl_convolution_direct, &source, &weights, &biasDescriptor, &destination,
                    DNNL.dims(g.strides), DNNL.dims(g.dilates), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh))
                : dnnl_dilated_convolution_forward_desc_init(
                    &descriptor, dnnl_forward_training, dnnl_convolution_direct, &source, &weights, nil, &destination,
                    DNNL.dims(g.strides), DNNL.dims(g.dilates), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh))
            try DNNL.check(status, "convolution descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: attributes(activation)) }
        }
    }

    /// The memory descriptor a primitive chose for `query` (e.g. its weights layout).
    func chosen(_ primitive: Primitive, _ query: dnnl_query_t) throws -> dnnl_memory_desc_t {
        guard let descriptor = dnnl_primitive_desc_query_md(primitive.descriptor, query, 0) else {
            throw BackendError.deviceFailure(backend: "onednn", reason: "the primitive has no memory descriptor for query \(query.rawValue)")
        }
        return descriptor.pointee
    }

    /// Copies between two layouts of one tensor with a cached reorder primitive.
    ///
    /// `key` names the two layouts (the reorder's purpose and the geometry deciding them).
    func reorder(from source: (UnsafeMutableRawPointer, dnnl_memory_desc_t), to destination: (UnsafeMutableRawPointer, dnnl_memory_desc_t), key: [AnyHashable]) throws {
        let primitive = try cache.primitive("reorder", key) {
            var (from, to) = (source.1, destination.1)
            var descriptor: dnnl_primitive_desc_t?
            let attributes = try DNNL.userScratchpad(nil)
            defer { dnnl_primitive_attr_destroy(attributes) }
            WorkSharing.singleThreadedOpenMP()
            try DNNL.check(dnnl_reorder_primitive_desc_create(&descriptor, &from, engine, &to, engine, attributes), "reorder descriptor")
            guard let descriptor else { throw BackendError.deviceFailure(backend: "onednn", reason: "no reorder descriptor") }
            return try Primitive(descriptor: descriptor)
        }
        try execute(primitive, [(DNNL_ARG_FROM, source.0, source.1), (DNNL_ARG_TO, destination.0, destination.1)])
    }

    /// Runs `body` with the kernel in the layout `wanted` (reordered into scratch memory when
    /// it differs from the kernel's own HWIO layout).
    func withWeights<R>(
        _ pointer: UnsafeMutableRawPointer, user: dnnl_memory_desc_t, wanted: dnnl_memory_desc_t, key: [AnyHashable], _ body: (UnsafeMutableRawPointer) throws -> R
    ) throws -> R {
        var (u, w) = (user, wanted)
        if dnnl_memory_desc_equal(&u, &w) != 0 { return try body(pointer) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(&w), alignment: 64)
        defer { scratch.deallocate() }
        try reorder(from: (pointer, user), to: (scratch, wanted), key: ["weights in"] + key)
        return try body(scratch)
    }

    /// A float32 or bfloat16 convolution as a cached oneDNN primitive; others on the fallback.
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try convolution(input, kernel: kernel, bias: nil, descriptor: descriptor, activation: .identity)
    }

    /// One oneDNN convolution with the bias and activation fused in. What oneDNN cannot take
    /// goes to the fallback's convolution when there is nothing to fuse, else to the
    /// composition on this backend.
    public func convolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor, activation: FusedActivation
    ) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: input.shape, kernel: kernel.shape, descriptor: descriptor)
        guard convolutionSupported([input, kernel] + (bias.map { [$0] } ?? []), d),
            bias.map({ $0.shape.elementCount == kernel.shape[kernel.shape.rank - 1] }) ?? true
        else {
            if input.dtype == .bfloat16 {
                return try computingInFloat32([input, kernel] + (bias.map { [$0] } ?? [])) {
                    try convolution($0[0], kernel: $0[1], bias: $0.count > 2 ? $0[2] : nil, descriptor: descriptor, activation: activation)
                }
            }
            guard bias != nil || activation != .identity else { return try fallback.convolution(input, kernel: kernel, descriptor: descriptor) }
            return try composedConvolution(input, kernel: kernel, bias: bias, descriptor: descriptor, activation: activation)
        }
        let g = ConvolutionGeometry(input: input.shape, kernel: kernel.shape, output: outShape, descriptor: d, dtype: input.dtype)
        let (output, pointer) = try allocate(outShape, input.dtype)
        let (source, kernelPointer) = (try address(input, "convolution"), try address(kernel, "convolution"))
        let biasPointer = try bias.map { try address($0, "convolution") }
        let size = input.dtype.byteSize
        let plan = work.plan(items: g.source.dims[0], operations: g.operations)
        try withChunkWeights(kernelPointer, g, plan, query: dnnl_query_weights_md, key: "in") { chunk, weights in
            let range = plan.range(chunk)
            let gc = g.batch(range.count)
            let primitive = try forwardConvolution(gc, bias: bias != nil, activation: activation)
            let mds = try gc.memoryDescriptors()
            var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, source + range.lowerBound * g.source.strides[0] * size, mds.source),
                (DNNL_ARG_WEIGHTS, weights.pointer, weights.descriptor),
                (DNNL_ARG_DST, pointer + range.lowerBound * g.destination.strides[0] * size, mds.destination),
            ]
            if let biasPointer { arguments.append((DNNL_ARG_BIAS, biasPointer, try g.biasDescriptor())) }
            try execute(primitive, arguments)
        } primitive: { try forwardConvolution($0, bias: bias != nil, activation: activation) }
        return output
    }

    /// Runs `body(chunk, weights)` for every chunk of `plan` with the kernel in the layout the
    /// chunk's primitive (from `primitive`) wants: reordered once for the chunks of the plan's
    /// full length, and again only for a last chunk whose primitive wants another layout.
    func withChunkWeights(
        _ kernel: UnsafeMutableRawPointer, _ g: ConvolutionGeometry, _ plan: ChunkPlan, query: dnnl_query_t, key: String,
        _ body: (Int, (pointer: UnsafeMutableRawPointer, descriptor: dnnl_memory_desc_t)) throws -> Void,
        primitive: (ConvolutionGeometry) throws -> Primitive
    ) throws {
        let user = try g.memoryDescriptors().weights
        let common = try chosen(try primitive(g.batch(plan.length)), query)
        try withWeights(kernel, user: user, wanted: common, key: [key, g]) { prepared in
            try work.forEach(plan) { chunk in
                let range = plan.range(chunk)
                var wanted = range.count == plan.length ? common : try chosen(try primitive(g.batch(range.count)), query)
                var shared = common
                if dnnl_memory_desc_equal(&wanted, &shared) != 0 { return try body(chunk, (prepared, common)) }
                try withWeights(kernel, user: user, wanted: wanted, key: [key, g.batch(range.count)]) { try body(chunk, ($0, wanted)) }
            }
        }
    }

    public func convolutionBackwardInput(gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: inputShape, kernel: kernel.shape, descriptor: descriptor)
        guard convolutionSupported([gradOutput, kernel], d), gradOutput.shape == outShape, inputShape.dimensions.allSatisfy({ $0 > 0 }) else {
            if kernel.dtype == .bfloat16 {
                return try computingInFloat32([gradOutput, kernel]) {
                    try convolutionBackwardInput(gradOutput: $0[0], kernel: $0[1], inputShape: inputShape, descriptor: descriptor)
                }
            }
            return try fallback.convolutionBackwardInput(gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
        }
        let g = ConvolutionGeometry(input: inputShape, kernel: kernel.shape, output: outShape, descriptor: d, dtype: kernel.dtype)
        let (gradInput, pointer) = try allocate(inputShape, kernel.dtype)
        let gradPointer = try address(gradOutput, "convolutionBackwardInput")
        let size = kernel.dtype.byteSize
        let plan = work.plan(items: g.source.dims[0], operations: g.operations)
        try withChunkWeights(try address(kernel, "convolutionBackwardInput"), g, plan, query: dnnl_query_weights_md, key: "bwd") { chunk, weights in
            let range = plan.range(chunk)
            let gc = g.batch(range.count)
            let mds = try gc.memoryDescriptors()
            try execute(try backwardDataConvolution(gc), [
                (DNNL_ARG_DIFF_DST, gradPointer + range.lowerBound * g.destination.strides[0] * size, mds.destination),
                (DNNL_ARG_WEIGHTS, weights.pointer, weights.descriptor),
                (DNNL_ARG_DIFF_SRC, pointer + range.lowerBound * g.source.strides[0] * size, mds.source),
            ])
        } primitive: { try backwardDataConvolution($0) }
        return gradInput
    }

    /// The backward-data primitive, with the forward one as its hint.
    func backwardDataConvolution(_ g: ConvolutionGeometry) throws -> Primitive {
        let hint = try forwardConvolution(g, bias: false, activation: .identity)
        return try cache.primitive(g.kind("conv backward data"), g) {
            var (source, _, weights, destination) = try g.memoryDescriptors()
            var descriptor = dnnl_convolution_desc_t()
            try DNNL.check(dnnl_dilated_convolution_backward_data_desc_init(
                &descriptor, dnnl_convolution_direct, &source, &weights, &destination,
                DNNL.dims(g.strides), DNNL.dims(g.dilates), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "backward-data descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: hint.descriptor) }
        }
    }

    public func convolutionBackwardKernel(input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: input.shape, kernel: kernelShape, descriptor: descriptor)
        guard convolutionSupported([input, gradOutput], d), gradOutput.shape == outShape, kernelShape.dimensions.allSatisfy({ $0 > 0 }) else {
            if input.dtype == .bfloat16 {
                return try computingInFloat32([input, gradOutput]) {
                    try convolutionBackwardKernel(input: $0[0], gradOutput: $0[1], kernelShape: kernelShape, descriptor: descriptor)
                }
            }
            return try fallback.convolutionBackwardKernel(input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
        }
        // Each chunk of the batch gives a part of the kernel's gradient, summed in chunk order
        // after all have run. The parts are float32 (a bfloat16 kernel's too: oneDNN
        // accumulates bfloat16 products into float32 weights), so the sum loses nothing and a
        // bfloat16 gradient is rounded once, at the end.
        let g = ConvolutionGeometry(input: input.shape, kernel: kernelShape, output: outShape, descriptor: d, dtype: input.dtype).weightsOf(.float32)
        let (gradKernel, pointer) = try allocate(kernelShape, input.dtype)
        let (source, gradPointer) = (try address(input, "convolutionBackwardKernel"), try address(gradOutput, "convolutionBackwardKernel"))
        let size = input.dtype.byteSize
        let plan = work.plan(items: g.source.dims[0], operations: g.operations)
        let parts = GradientParts(count: plan.count, elements: kernelShape.elementCount)
        try work.forEach(plan) { chunk in
            let range = plan.range(chunk)
            let gc = g.batch(range.count)
            let primitive = try backwardWeightsConvolution(gc)
            let mds = try gc.memoryDescriptors()
            var (user, produced) = (mds.weights, try chosen(primitive, dnnl_query_diff_weights_md))
            let arguments = { (weights: UnsafeMutableRawPointer) in [
                (DNNL_ARG_SRC, source + range.lowerBound * g.source.strides[0] * size, mds.source),
                (DNNL_ARG_DIFF_DST, gradPointer + range.lowerBound * g.destination.strides[0] * size, mds.destination),
                (DNNL_ARG_DIFF_WEIGHTS, weights, produced),
            ] as [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] }
            if dnnl_memory_desc_equal(&user, &produced) != 0 {
                try execute(primitive, arguments(parts[chunk]))
            } else {
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: dnnl_memory_desc_get_size(&produced), alignment: 64)
                defer { scratch.deallocate() }
                try execute(primitive, arguments(scratch))
                try reorder(from: (scratch, produced), to: (parts[chunk], user), key: ["weights out", gc])
            }
        }
        if input.dtype == .bfloat16 {
            parts.sum(intoBFloat16: pointer.assumingMemoryBound(to: UInt16.self))
        } else {
            parts.sum(into: pointer.assumingMemoryBound(to: Float.self))
        }
        return gradKernel
    }

    /// The backward-weights primitive, with the forward one as its hint.
    func backwardWeightsConvolution(_ g: ConvolutionGeometry) throws -> Primitive {
        let hint = try forwardConvolution(g.weightsOf(g.dtype), bias: false, activation: .identity)
        return try cache.primitive(g.kind("conv backward weights"), g) {
            var (source, _, weights, destination) = try g.memoryDescriptors()
            var descriptor = dnnl_convolution_desc_t()
            try DNNL.check(dnnl_dilated_convolution_backward_weights_desc_init(
                &descriptor, dnnl_convolution_direct, &source, &weights, nil, &destination,
                DNNL.dims(g.strides), DNNL.dims(g.dilates), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "backward-weights descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: hint.descriptor) }
        }
    }
}
#endif
