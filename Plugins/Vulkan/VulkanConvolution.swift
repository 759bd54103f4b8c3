#if Vulkan
import Backend

/// A convolution lowered to im2col and the strided GEMM shader, one GEMM batch entry per
/// feature group. The column matrix of a chunk of images has `rowsPerImage` (output positions)
/// rows per image and `width` = C × kernel taps columns (see Shaders/convolution.glsl); chunks
/// keep it within the backend's convolution workspace.
private struct ConvolutionLowering {
    static let maximumSpatialRank = 3

    let output: Shape
    let images: Int, rowsPerImage: Int, inputPerImage: Int, width: Int
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
        images = input[0]
        rowsPerImage = output.dimensions.dropFirst().dropLast().reduce(1, *)
        inputPerImage = input.dimensions.dropFirst().reduce(1, *)
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

    /// A matrix whose rows hold `outChannels` values (the output, its gradient, or the HWIO
    /// kernel) as the GEMM sees it from row `firstRow` on: one group's columns per batch entry.
    func outChannelColumns(firstRow: Int = 0) -> MatrixView {
        MatrixView(offset: firstRow * outChannels, batchStride: groupOutChannels, rowStride: outChannels, columnStride: 1)
    }

    /// The im2col and col2im push constants for the chunk starting at image `first`.
    func push(count: Int, firstImage: Int) -> [UInt32] { [UInt32(count)] + geometry + [UInt32(firstImage)] }

    /// Consecutive image ranges whose column matrices fit `bytes` (at least one image each).
    func chunks(within bytes: Int) -> [Range<Int>] {
        if inputIsColumns { return [0..<images] }
        let perChunk = Swift.max(1, bytes / Swift.max(rowsPerImage * width * 4, 1))
        return stride(from: 0, to: images, by: perChunk).map { $0..<Swift.min($0 + perChunk, images) }
    }
}

extension VulkanBackend {
    /// A convolution as an implicit-GEMM compute shader.
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try convolution(input, kernel: kernel, descriptor: descriptor, bias: nil, activation: .identity)
    }

    /// The convolution with a per-output-channel bias and an activation fused into its GEMM.
    func convolution(
        _ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor, bias: Buffer?, activation: FusedActivation
    ) throws -> Buffer {
        let plan = try ConvolutionLowering(input: input.shape, kernel: kernel.shape, descriptor: descriptor, operation: "convolution")
        let output = try makeBuffer(plan.output, .float32)
        let scratch = try columnBuffer(plan)
        for images in plan.chunks(within: convolutionWorkspaceBytes) {
            let columns = try im2col(input, plan, images, into: scratch)
            try gemm(
                m: images.count * plan.rowsPerImage, n: plan.groupOutChannels, k: plan.groupDepth, batch: plan.groups,
                columns, MatrixView(batchStride: plan.groupDepth, rowStride: plan.width, columnStride: 1),
                kernel, plan.outChannelColumns(),
                output, plan.outChannelColumns(firstRow: images.lowerBound * plan.rowsPerImage),
                bias: bias, biasBatchStride: plan.groupOutChannels, activation: activation)
        }
        return output
    }

    public func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardInput"
        let plan = try ConvolutionLowering(input: inputShape, kernel: kernel.shape, descriptor: descriptor, operation: name)
        let gradInput = try makeBuffer(inputShape, .float32)
        // Column gradients (gradOutput · kernelᵀ per group) go straight into the input gradient
        // when the input is its own column matrix, else through scratch and col2im.
        let scratch = try columnBuffer(plan) ?? gradInput
        // One col2im invocation per input position, group and run of up to 8 channels.
        let groupChannels = plan.groupDepth / Swift.max(plan.taps, 1)
        let runsPerPosition = plan.groups * ((groupChannels + 7) / 8)
        for images in plan.chunks(within: convolutionWorkspaceBytes) {
            try gemm(
                m: images.count * plan.rowsPerImage, n: plan.groupDepth, k: plan.groupOutChannels, batch: plan.groups,
                gradOutput, plan.outChannelColumns(firstRow: images.lowerBound * plan.rowsPerImage),
                kernel, MatrixView(batchStride: plan.groupOutChannels, rowStride: 1, columnStride: plan.outChannels),
                scratch, MatrixView(batchStride: plan.groupDepth, rowStride: plan.width, columnStride: 1))
            let count = images.count * plan.inputPerImage / Swift.max(plan.width / plan.taps, 1) * runsPerPosition
            if !plan.inputIsColumns, count > 0 {
                try run(
                    "col2im", inputs: [scratch], outputs: [gradInput], push: plan.push(count: count, firstImage: images.lowerBound),
                    groups: elementGroups(count))
            }
        }
        return gradInput
    }

    public func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardKernel"
        let plan = try ConvolutionLowering(input: input.shape, kernel: kernelShape, descriptor: descriptor, operation: name)
        let gradKernel = try makeBuffer(kernelShape, .float32)
        let scratch = try columnBuffer(plan)
        // columnsᵀ · gradOutput per group, summed over the chunks of images.
        for (index, images) in plan.chunks(within: convolutionWorkspaceBytes).enumerated() {
            let columns = try im2col(input, plan, images, into: scratch)
            try gemm(
                m: plan.groupDepth, n: plan.groupOutChannels, k: images.count * plan.rowsPerImage, batch: plan.groups,
                columns, MatrixView(batchStride: plan.groupDepth, rowStride: 1, columnStride: plan.width),
                gradOutput, plan.outChannelColumns(firstRow: images.lowerBound * plan.rowsPerImage),
                gradKernel, plan.outChannelColumns(),
                accumulate: index > 0)
        }
        return gradKernel
    }

    /// Scratch for the column matrix of the largest chunk (none when the input is its own).
    private func columnBuffer(_ plan: ConvolutionLowering) throws -> Buffer? {
        guard !plan.inputIsColumns else { return nil }
        let images = plan.chunks(within: convolutionWorkspaceBytes).map(\.count).max() ?? 0
        return try makeBuffer([images * plan.rowsPerImage, plan.width], .float32)
    }

    /// The column matrix of `images`, built in `scratch` (or the input itself).
    private func im2col(_ input: Buffer, _ plan: ConvolutionLowering, _ images: Range<Int>, into scratch: Buffer?) throws -> Buffer {
        guard let scratch else { return input }
        // One invocation per (row, group, kernel tap); each copies the group's channels.
        let count = images.count * plan.rowsPerImage * plan.groups * plan.taps
        if count > 0 {
            try run("im2col", inputs: [input], outputs: [scratch], push: plan.push(count: count, firstImage: images.lowerBound), groups: elementGroups(count))
        }
        return scratch
    }

}
#endif
