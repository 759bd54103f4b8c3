// The convolution backward ops written as forward convolutions, so a new backend can start
// with the forward op alone (see NativeOperations.convolutionBackward).
//
// With the forward op out[n, p, o] = Σ_{k, c} xₚ[n, p·s + k·d, c] · w[k, c, o] over the dilated,
// padded input xₚ (strides s, kernel dilation d, per spatial axis):
// - the input gradient is a convolution of the output gradient, dilated by s and padded by
//   (K − 1)·d, with the kernel flipped and its channel axes exchanged, cropped back to the input;
// - the kernel gradient is a convolution of the input, with batch and channels exchanged, by the
//   output gradient used as the kernel (dilation s, stride d).

extension Backend {
    /// ``ConvolutionOperations/convolutionBackwardInput(gradOutput:kernel:inputShape:descriptor:)``
    /// as one forward convolution, a crop and a strided slice.
    public func decomposedConvolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let d = try ShapeRules.convolution(input: inputShape, kernel: kernel.shape, descriptor: descriptor).descriptor
        let spatial = inputShape.rank - 2
        let (groups, inPerGroup, outChannels) = (d.groups, kernel.shape[spatial], kernel.shape[spatial + 1])
        // [K…, C/g, O] → [K…, C/g, g, O/g] → [K…, O/g, g, C/g] → [K…, O/g, C], then flip every spatial axis.
        var transposed = try reshape(kernel, to: Shape(Array(kernel.shape.dimensions[..<spatial]) + [inPerGroup, groups, outChannels / groups]))
        transposed = try permute(transposed, Array(0..<spatial) + [spatial + 2, spatial + 1, spatial])
        transposed = try reshape(transposed, to: Shape(Array(kernel.shape.dimensions[..<spatial]) + [outChannels / groups, inPerGroup * groups]))
        for axis in 0..<spatial { transposed = try reversed(transposed, axis: axis) }

        var padding: [Padding] = []
        var crop: [Padding] = [Padding(0, 0)]
        for i in 0..<spatial {
            let dilatedKernel = (kernel.shape[i] - 1) * d.kernelDilation[i]
            let paddedInput = (inputShape[i + 1] - 1) * d.inputDilation[i] + 1 + d.padding[i].low + d.padding[i].high
            let dilatedGradient = (gradOutput.shape[i + 1] - 1) * d.strides[i] + 1
            padding.append(Padding(dilatedKernel, paddedInput - dilatedGradient))
            crop.append(Padding(Swift.max(0, -d.padding[i].low), Swift.max(0, -d.padding[i].high)))
        }
        crop.append(Padding(0, 0))
        let full = try convolution(
            gradOutput, kernel: transposed,
            descriptor: ConvolutionDescriptor(
                strides: [], padding: padding, inputDilation: d.strides, kernelDilation: d.kernelDilation, groups: groups))
        // The gradient of the padded, dilated input: undo negative padding, skip the padding and
        // read every inputDilation-th element.
        let padded = try pad(full, padding: crop, value: 0)
        var starts = [0], limits = [inputShape[0]], strides = [1]
        for i in 0..<spatial {
            let start = Swift.max(d.padding[i].low, 0)
            starts.append(start)
            limits.append(start + (inputShape[i + 1] - 1) * d.inputDilation[i] + 1)
            strides.append(d.inputDilation[i])
        }
        starts.append(0)
        limits.append(inputShape[spatial + 1])
        strides.append(1)
        return try slice(padded, starts: starts, limits: limits, strides: strides)
    }

    /// ``ConvolutionOperations/convolutionBackwardKernel(input:gradOutput:kernelShape:descriptor:)``
    /// as one forward convolution over the batch, then the blocks of each group.
    public func decomposedConvolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let d = try ShapeRules.convolution(input: input.shape, kernel: kernelShape, descriptor: descriptor).descriptor
        let spatial = input.shape.rank - 2
        let rank = input.shape.rank
        // Channels become the batch and the batch the channels: [C, S…, N] by [S'…, N, O].
        let swappedInput = try permute(input, [rank - 1] + Array(1..<(rank - 1)) + [0])
        let gradientKernel = try permute(gradOutput, Array(1..<(rank - 1)) + [0, rank - 1])
        let full = try convolution(
            swappedInput, kernel: gradientKernel,
            descriptor: ConvolutionDescriptor(
                strides: d.kernelDilation, padding: d.padding, inputDilation: d.inputDilation, kernelDilation: d.strides))
        // [C, K_full…, O] → [C, K…, O] → [K…, C, O].
        let cropped = try slice(
            full, starts: Array(repeating: 0, count: rank), limits: [full.shape[0]] + Array(kernelShape.dimensions[..<spatial]) + [full.shape[rank - 1]],
            strides: Array(repeating: 1, count: rank))
        let crossed = try permute(cropped, Array(1...spatial) + [0, rank - 1])
        let groups = d.groups
        guard groups > 1 else { return crossed }
        // Each group's kernel is its own block of input and output channels.
        let inPerGroup = kernelShape[spatial], outPerGroup = kernelShape[spatial + 1] / groups
        let blocks = try (0..<groups).map { group in
            try slice(
                crossed,
                starts: Array(repeating: 0, count: spatial) + [group * inPerGroup, group * outPerGroup],
                limits: Array(kernelShape.dimensions[..<spatial]) + [(group + 1) * inPerGroup, (group + 1) * outPerGroup],
                strides: Array(repeating: 1, count: rank))
        }
        return try concatenate(blocks, axis: rank - 1)
    }

    /// `x` with its elements along `axis` in reverse order.
    private func reversed(_ x: Buffer, axis: Int) throws -> Buffer {
        let size = x.shape[axis]
        guard size > 1 else { return x }
        let indices = try upload(HostArray(shape: [size], elements: .int32((0..<size).reversed().map { Int32($0) })))
        return try gather(x, indices: indices, axis: axis)
    }
}
