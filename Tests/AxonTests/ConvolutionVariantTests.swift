import AxonCore
import Backend
import Testing

/// Transposed, depthwise and separable convolutions against values derived by hand from their
/// definitions (a transposed convolution scatters the kernel, scaled, from every input
/// position), PyTorch's documented output sizes, and finite-difference gradients.
@Suite("Convolutions: transposed, depthwise, separable")
struct ConvolutionVariantTests {
    func run(_ model: Axon, _ x: Tensor, parameters: [String: Tensor]) throws -> Tensor {
        let built = try model.build(on: backend)
        var state = try built.initialize(seed: 0)
        for (name, value) in parameters { state.parameters[name] = value }
        return try built.predict(state, inputs: ["x": x]).output()
    }

    @Test("a stride-2 transposed convolution scatters the kernel from each input position")
    func transposedScatter() throws {
        // x = [1, 2], kernel [1, 10, 100]: 1·k at 0...2 plus 2·k at 2...4.
        let model = Axon.input("x", shape: [nil, 2, 1]).convTranspose(1, kernelSize: [3], strides: [2], useBias: false)
        let y = try run(model, try tensor([1, 2], [1, 2, 1]), parameters: ["conv_transpose_0.kernel": try tensor([1, 10, 100], [3, 1, 1])])
        try expectClose(y, [1, 10, 102, 20, 200], shape: [1, 5, 1])
    }

    @Test("explicit padding crops and output padding extends the high end, as PyTorch's sizes say")
    func transposedPaddingSizes() throws {
        // (in − 1)·s − 2p + k + outputPadding = 3·2 − 2 + 3 + 1 = 8.
        let model = Axon.input("x", shape: [nil, 4, 1]).convTranspose(
            1, kernelSize: [3], strides: [2], padding: .explicit([Padding(1, 1)]), outputPadding: [1], useBias: false)
        let y = try run(model, try tensor([1, 2, 3, 4], [1, 4, 1]), parameters: ["conv_transpose_0.kernel": try tensor([1, 1, 1], [3, 1, 1])])
        // Uncropped scatter of ones: [1, 1, 3, 2, 5, 3, 7, 4, 4]; crop one from each end, then
        // the output padding adds the last uncropped position back.
        try expectClose(y, [1, 3, 2, 5, 3, 7, 4, 4], shape: [1, 8, 1])
    }

    @Test("same and valid transposed convolutions have Keras's output sizes")
    func transposedModeSizes() throws {
        let input = Axon.input("x", shape: [nil, 5, 4, 3])
        let x = try sample([2, 5, 4, 3], seed: 1)
        let cases: [(Axon, Shape)] = [
            (input.convTranspose(2, kernelSize: [3], strides: [2], padding: .same), [2, 10, 8, 2]),
            (input.convTranspose(2, kernelSize: [3], strides: [2], padding: .valid), [2, 11, 9, 2]),
            (input.convTranspose(2, kernelSize: [1], strides: [3], padding: .valid), [2, 15, 12, 2]),
            (input.convTranspose(4, kernelSize: [2], padding: .valid, dilation: [2]), [2, 7, 6, 4]),
        ]
        for (model, shape) in cases {
            let built = try model.build(on: backend)
            #expect(try built.predict(built.initialize(seed: 0), inputs: ["x": x]).output().shape == shape)
        }
    }

    @Test("a transposed convolution is the adjoint of the convolution with the same kernel")
    func transposedAdjoint() throws {
        // ⟨convTranspose(y), x⟩ = ⟨y, conv(x)⟩ for every x and y: the defining property. The
        // strided convolution's floor drops one row (7 → 3 → 6), which output padding restores.
        let kernel = try sample([3, 2, 2, 6], seed: 2)
        let x = try sample([2, 7, 6, 4], seed: 3)
        let forward = try Layers.conv(x, kernel: kernel, bias: nil, strides: [2, 1], padding: .explicit([Padding(1, 0), Padding(0, 1)]), dilation: [1, 2], groups: 2)
        let y = try sample(forward.shape, seed: 4)
        let adjoint = try Layers.convTranspose(
            y, kernel: kernel, bias: nil, strides: [2, 1], padding: .explicit([Padding(1, 0), Padding(0, 1)]), outputPadding: [1, 0],
            dilation: [1, 2], groups: 2)
        #expect(adjoint.shape == x.shape)
        let left = try (adjoint * x).sum(axes: [0, 1, 2, 3]).scalars[0]
        let right = try (forward * y).sum(axes: [0, 1, 2, 3]).scalars[0]
        #expect(Swift.abs(left - right) <= 1e-4 * Swift.abs(right))
    }

    @Test("depthwise output channel c·m + k is input channel c convolved with kernel k")
    func depthwiseChannelOrder() throws {
        // Two channels, multiplier 2, 1×1 kernels [2, 3, 5, 7]: outputs [2a, 3a, 5b, 7b].
        let model = Axon.input("x", shape: [nil, 1, 2]).depthwiseConv(channelMultiplier: 2, kernelSize: [1], useBias: false)
        let y = try run(model, try tensor([10, 100], [1, 1, 2]), parameters: ["depthwise_conv_0.kernel": try tensor([2, 3, 5, 7], [1, 1, 4])])
        try expectClose(y, [20, 30, 500, 700], shape: [1, 1, 4])
    }

    @Test("a separable convolution equals the depthwise convolution by the outer product of its kernels")
    func separableIsOuterProduct() throws {
        let x = try sample([2, 6, 5, 2], seed: 5)
        let (rows, columns) = (try sample([3, 1, 1, 2], seed: 6), try sample([1, 2, 1, 2], seed: 7))
        let model = Axon.input("x", shape: [nil, 6, 5, 2]).separableConv(kernelSize: [3, 2], strides: [2, 1], padding: .same, useBias: false)
        let y = try run(model, x, parameters: ["separable_conv_0.kernel_1": rows, "separable_conv_0.kernel_2": columns])
        let product = try rows * columns
        let expected = try Layers.depthwiseConv(x, kernel: product, bias: nil, strides: [2, 1], padding: .same, dilation: [1, 1])
        #expect(y.shape == expected.shape)
        expectClose(try y.scalars, try expected.scalars, atol: 1e-5)
    }

    @Test("separable convolution declares one kernel and bias per spatial axis")
    func separableParameters() throws {
        let built = try Axon.input("x", shape: [nil, 4, 4, 4, 3]).separableConv(channelMultiplier: 2, kernelSize: [3, 2, 1]).build(on: backend)
        let state = try built.initialize(seed: 0)
        let shapes = try state.parameters.names.sorted().map { ($0, try state.parameters.tensor($0).shape) }
        #expect(shapes.map(\.0) == ["separable_conv_0.bias_1", "separable_conv_0.bias_2", "separable_conv_0.bias_3",
                                    "separable_conv_0.kernel_1", "separable_conv_0.kernel_2", "separable_conv_0.kernel_3"])
        #expect(shapes.map(\.1) == [[6], [6], [6], [3, 1, 1, 1, 6], [1, 2, 1, 1, 6], [1, 1, 1, 1, 6]])
    }

    @Test("gradients of the transposed, depthwise and separable layers match finite differences")
    func gradients() throws {
        let x = try sample([1, 4, 3, 2], seed: 8)
        let input = Axon.input("x", shape: [nil, 4, 3, 2])
        for model in [
            input.convTranspose(2, kernelSize: [2, 3], strides: [2, 1], padding: .explicit([Padding(1, 0), Padding(0, 1)]), outputPadding: [1, 0], activation: .tanh),
            input.convTranspose(4, kernelSize: [2], strides: [2], padding: .same, groups: 2),
            input.depthwiseConv(channelMultiplier: 2, kernelSize: [2], padding: .same, activation: .sigmoid),
            input.separableConv(kernelSize: [2], strides: [2, 1]),
        ] {
            let built = try model.build(on: backend)
            let state = try built.initialize(seed: 1)
            let names = state.parameters.names
            try checkGradients([x] + names.map { try state.parameters.tensor($0) }, atol: 3e-3) { xs in
                var parameters = ParameterStore()
                for (name, value) in zip(names, xs.dropFirst()) { parameters[name] = value }
                return try built.predict(ModelState(parameters: parameters, state: state.state), inputs: ["x": xs[0]]).output()
            }
        }
    }

    @Test("bad transposed and depthwise options are refused with the layer's name and the values")
    func badOptions() throws {
        let input = Axon.input("x", shape: [nil, 4, 4, 2])
        let cases: [(Axon, String)] = [
            (input.convTranspose(2, strides: [2], padding: .explicit([Padding(0, 0), Padding(0, 0)]), outputPadding: [2]), "smaller than the strides"),
            (input.convTranspose(2, strides: [2], padding: .same, outputPadding: [1]), "needs explicit padding"),
            (input.convTranspose(3, groups: 2), "multiples of groups"),
            (input.convTranspose(2, kernelSize: [3], padding: .explicit([Padding(3, 3), Padding(0, 0)])), "leaves no output"),
            (input.depthwiseConv(channelMultiplier: 0), "multiplier must be positive"),
            (input.separableConv(kernelSize: [3, 3, 3]), "kernel size needs 1 or 2 values"),
        ]
        for (model, expected) in cases {
            let message = errorMessage { _ = try model.build(on: backend) }
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
        }
    }
}
