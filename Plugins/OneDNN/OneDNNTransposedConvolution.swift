#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// oneDNN's deconvolution primitive, with the bias and activation fused in. What it cannot
    /// take (input dilation, more than 3 spatial dimensions, negative padding) runs as the
    /// composition on this backend.
    public func transposedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, outputShape: Shape, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        let d = try ShapeRules.convolution(input: outputShape, kernel: kernel.shape, descriptor: descriptor).descriptor
        let spatial = outputShape.rank - 2
        let extent = (0..<spatial).map { (kernel.shape[$0] - 1) * d.kernelDilation[$0] + 1 }
        guard convolutionSupported([input, kernel] + (bias.map { [$0] } ?? []), d),
            bias.map({ $0.shape.elementCount == outputShape[spatial + 1] }) ?? true,
            outputShape.dimensions.allSatisfy({ $0 > 0 }),
            let g = ConvolutionGeometry(input: outputShape, kernel: kernel.shape, output: input.shape, descriptor: d, dtype: input.dtype).transposed(
                spatialInput: Array(input.shape.dimensions[1...spatial]), spatialOutput: Array(outputShape.dimensions[1...spatial]),
                kernelExtent: extent)
        else {
            if input.dtype == .bfloat16 {
                return try computingInFloat32([input, kernel] + (bias.map { [$0] } ?? [])) {
                    try transposedConvolution(
                        $0[0], kernel: $0[1], bias: $0.count > 2 ? $0[2] : nil, outputShape: outputShape, descriptor: descriptor, activation: activation)
                }
            }
            return try composedTransposedConvolution(
                input, kernel: kernel, bias: bias, outputShape: outputShape, descriptor: descriptor, activation: activation)
        }
        let primitive = try cache.primitive(g.kind("deconv forward"), g, bias != nil, activation) {
            var (source, _, weights, destination) = try g.memoryDescriptors()
            var biasDescriptor = try g.biasDescriptor()
            var descriptor = dnnl_deconvolution_desc_t()
            let status = withUnsafePointer(to: &biasDescriptor) { biasPointer in
                dnnl_dilated_deconvolution_forward_desc_init(
                    &descriptor, dnnl_forward_inference, dnnl_deconvolution_direct, &source, &weights, bias == nil ? nil : biasPointer,
                    &destination, DNNL.dims(g.strides), DNNL.dims(g.dilates), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh))
            }
            try DNNL.check(status, "deconvolution descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: attributes(activation)) }
        }
        let mds = try g.memoryDescriptors()
        let wanted = try chosen(primitive, dnnl_query_weights_md)
        let (output, pointer) = try allocate(outputShape, input.dtype)
        try withWeights(try address(kernel, "transposedConvolution"), user: mds.weights, wanted: wanted, key: ["deconv", g]) { weights in
            var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, try address(input, "transposedConvolution"), mds.source), (DNNL_ARG_WEIGHTS, weights, wanted),
                (DNNL_ARG_DST, pointer, mds.destination),
            ]
            if let bias {
                arguments.append((DNNL_ARG_BIAS, try address(bias, "transposedConvolution"), try g.biasDescriptor()))
            }
            try execute(primitive, arguments)
        }
        return output
    }
}
#endif
