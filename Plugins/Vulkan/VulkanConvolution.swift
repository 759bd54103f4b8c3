#if Vulkan
import Backend

/// A convolution lowered to im2col and the strided GEMM shader, one GEMM batch entry per
/// feature group. The column matrix has `rows` = N × output positions and `width` = C × kernel
/// taps (see Shaders/convolution.glsl).
private struct ConvolutionLowering {
    static let maximumSpatialRank = 3

    let output: Shape
    let rows: Int, width: Int
    let groups: Int, taps: Int, groupDepth: Int, groupOutChannels: Int, outChannels: Int
    /// The push constants of im2col and col2im after the element count.
    let geometry: [UInt32]
    /// A 1×1 kernel at unit stride without padding or dilation reads the input as it is.
    let inputIsColumns: Bool

    init(input: Shape, kernel: Shape, descriptor: ConvolutionDescriptor, operation: String) throws {
        let (output, d) = try ShapeRules.convolution(input: input, kernel: kernel, descriptor: descriptor)
        let spatial = input.rank - 2
        guard spatial <= Self.maximumSpatialRank else {
            throw BackendError.invalidArgument(
                operation: operation,
                reason: "the vulkan backend supports up to \(Self.maximumSpatialRank) spatial dimensions, input \(input) has \(spatial)")
        }
        self.output = output
        let channels = input[input.rank - 1]
        let groupChannels = channels / d.groups
        taps = kernel.dimensions.prefix(spatial).reduce(1, *)
        rows = output.dimensions.dropLast().reduce(1, *)
        width = channels * taps
        groups = d.groups
        groupDepth = taps * groupChannels
        outChannels = kernel[kernel.rank - 1]
        groupOutChannels = outChannels / d.groups
        inputIsColumns = taps == 1 && (d.strides + d.inputDilation).allSatisfy { $0 == 1 }
            && d.padding.allSatisfy { $0 == Padding(0, 0) }
        // Lower ranks are padded with size-1 axes in front; padding travels as 32-bit two's complement.
        func three(_ values: [Int], _ filler: Int) -> [UInt32] {
            ([Int](repeating: filler, count: Self.maximumSpatialRank - spatial) + values).map { UInt32(truncatingIfNeeded: $0) }
        }
        geometry = [UInt32(channels), UInt32(groupChannels), UInt32(taps)]
            + three(Array(input.dimensions[1...spatial]), 1) + three(Array(output.dimensions[1...spatial]), 1)
            + three(Array(kernel.dimensions.prefix(spatial)), 1) + three(d.strides, 1) + three(d.padding.map(\.low), 0)
            + three(d.inputDilation, 1) + three(d.kernelDilation, 1)
    }
}

extension VulkanBackend {
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try convolution(input, kernel: kernel, descriptor: descriptor, bias: nil, activation: .identity)
    }

    /// The convolution with a per-output-channel bias and an activation fused into its GEMM.
    func convolution(
        _ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor, bias: Buffer?, activation: FusedActivation
    ) throws -> Buffer {
        try requireFloats([input, kernel], "convolution")
        let plan = try ConvolutionLowering(input: input.shape, kernel: kernel.shape, descriptor: descriptor, operation: "convolution")
        let output = try makeBuffer(plan.output, .float32)
        let columns = try im2col(input, plan)
        try gemm(
            m: plan.rows, n: plan.groupOutChannels, k: plan.groupDepth, batch: plan.groups,
            columns, MatrixView(batchStride: plan.groupDepth, rowStride: plan.width, columnStride: 1),
            kernel, MatrixView(batchStride: plan.groupOutChannels, rowStride: plan.outChannels, columnStride: 1),
            output, MatrixView(batchStride: plan.groupOutChannels, rowStride: plan.outChannels, columnStride: 1),
            bias: bias, biasBatchStride: plan.groupOutChannels, activation: activation)
        return output
    }

    public func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardInput"
        try requireFloats([gradOutput, kernel], name)
        let plan = try ConvolutionLowering(input: inputShape, kernel: kernel.shape, descriptor: descriptor, operation: name)
        try requireGradient(gradOutput, plan.output, name)
        // Column gradients: gradOutput · kernelᵀ per group, then summed back onto the input.
        let columns = try makeBuffer([plan.rows, plan.width], .float32)
        try gemm(
            m: plan.rows, n: plan.groupDepth, k: plan.groupOutChannels, batch: plan.groups,
            gradOutput, MatrixView(batchStride: plan.groupOutChannels, rowStride: plan.outChannels, columnStride: 1),
            kernel, MatrixView(batchStride: plan.groupOutChannels, rowStride: 1, columnStride: plan.outChannels),
            columns, MatrixView(batchStride: plan.groupDepth, rowStride: plan.width, columnStride: 1))
        if plan.inputIsColumns { return columns.reinterpreted(as: inputShape) }
        let gradInput = try makeBuffer(inputShape, .float32)
        // One invocation per input position, group and run of up to 8 channels (col2im.comp).
        let groupChannels = plan.groupDepth / Swift.max(plan.taps, 1)
        let count = inputShape.elementCount / Swift.max(groupChannels, 1) * ((groupChannels + 7) / 8)
        if count > 0 {
            try run("col2im", inputs: [columns], outputs: [gradInput], push: [UInt32(count)] + plan.geometry, groups: elementGroups(count))
        }
        return gradInput
    }

    public func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardKernel"
        try requireFloats([input, gradOutput], name)
        let plan = try ConvolutionLowering(input: input.shape, kernel: kernelShape, descriptor: descriptor, operation: name)
        try requireGradient(gradOutput, plan.output, name)
        let columns = try im2col(input, plan)
        let gradKernel = try makeBuffer(kernelShape, .float32)
        // columnsᵀ · gradOutput per group.
        try gemm(
            m: plan.groupDepth, n: plan.groupOutChannels, k: plan.rows, batch: plan.groups,
            columns, MatrixView(batchStride: plan.groupDepth, rowStride: 1, columnStride: plan.width),
            gradOutput, MatrixView(batchStride: plan.groupOutChannels, rowStride: plan.outChannels, columnStride: 1),
            gradKernel, MatrixView(batchStride: plan.groupOutChannels, rowStride: plan.outChannels, columnStride: 1))
        return gradKernel
    }

    private func im2col(_ input: Buffer, _ plan: ConvolutionLowering) throws -> Buffer {
        if plan.inputIsColumns { return input }
        let columns = try makeBuffer([plan.rows, plan.width], .float32)
        // One invocation per (row, group, kernel tap); each copies the group's channels.
        let count = plan.rows * plan.groups * plan.taps
        if count > 0 {
            try run("im2col", inputs: [input], outputs: [columns], push: [UInt32(count)] + plan.geometry, groups: elementGroups(count))
        }
        return columns
    }

    func requireFloats(_ buffers: [Buffer], _ operation: String) throws {
        for buffer in buffers { try ShapeRules.requireDType(buffer, [.float32], operation: operation) }
    }

    func requireGradient(_ gradient: Buffer, _ expected: Shape, _ operation: String) throws {
        guard gradient.shape == expected else {
            throw BackendError.shapeMismatch(
                operation: operation, reason: "the output gradient is \(gradient.shape) but the forward output is \(expected)")
        }
    }
}
#endif
