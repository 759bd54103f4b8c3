import AxonCore
import Backend
import Testing

@Suite("Layers: values and gradients")
struct LayerTests {
    /// Runs a single-input model with given parameters.
    func run(_ model: Axon, _ x: Tensor, parameters: ParameterStore = [:], mode: Mode = .inference) throws -> Tensor {
        let built = try model.build(on: backend, mode: mode)
        var state = try built.initialize(seed: 0)
        for (name, value) in parameters { state.parameters[name] = value }
        return try built.predict(state, inputs: ["x": x]).output()
    }

    /// Checks gradients of a model's output with respect to its input and every trainable
    /// parameter, by finite differences.
    func checkModelGradients(_ model: Axon, input: Tensor, mode: Mode = .inference, atol: Float = 3e-3) throws {
        let built = try model.build(on: backend, mode: mode)
        let state = try built.initialize(seed: 1)
        let names = state.parameters.names
        let values = try names.map { try state.parameters.tensor($0) }
        let isFloat = input.dtype == .float32
        try checkGradients((isFloat ? [input] : []) + values, atol: atol) { xs in
            var parameters = ParameterStore()
            for (name, value) in zip(names, xs.dropFirst(isFloat ? 1 : 0)) { parameters[name] = value }
            let x = isFloat ? xs[0] : input
            return try built.predict(ModelState(parameters: parameters, state: state.state), inputs: ["x": x]).output()
        }
    }

    @Test("dense without bias is a plain product")
    func denseNoBias() throws {
        let x = try tensor([1, 2], [1, 2])
        let y = try run(Axon.input("x", shape: [nil, 2]).dense(2, useBias: false), x, parameters: ["dense_0.kernel": try tensor([1, 2, 3, 4], [2, 2])])
        try expectClose(y, [7, 10])
    }

    @Test("a 1×1 convolution is a dense layer over channels")
    func pointwiseConvolution() throws {
        let x = try sample([2, 3, 3, 4], seed: 1)
        let kernel = try sample([1, 1, 4, 5], seed: 2), bias = try sample([5], seed: 3)
        let y = try run(Axon.input("x", shape: [nil, 3, 3, 4]).conv(5, kernelSize: [1]), x, parameters: ["conv_0.kernel": kernel, "conv_0.bias": bias])
        let expected = try x.reshaped(to: [18, 4]).matmul(kernel.reshaped(to: [4, 5])) + bias
        try expectClose(y, try expected.scalars, shape: [2, 3, 3, 5], atol: 1e-5)
    }

    @Test("same padding keeps the size and equals explicit zero padding")
    func samePadding() throws {
        let x = try sample([1, 5, 5, 2], seed: 4)
        let kernel = try sample([3, 3, 2, 3], seed: 5)
        let same = try run(Axon.input("x", shape: [nil, 5, 5, 2]).conv(3, padding: .same, useBias: false), x, parameters: ["conv_0.kernel": kernel])
        #expect(same.shape == [1, 5, 5, 3])
        let explicit = try x.padded([Padding(0, 0), Padding(1, 1), Padding(1, 1), Padding(0, 0)]).convolution(kernel: kernel, descriptor: .init())
        try expectClose(same, try explicit.scalars, atol: 1e-6)
        let strided = try run(Axon.input("x", shape: [nil, 5, 5, 2]).conv(3, strides: [2], padding: .same), x)
        #expect(strided.shape == [1, 3, 3, 3])
    }

    @Test("channels-first convolution equals channels-last on the permuted input")
    func channelsFirst() throws {
        let x = try sample([2, 6, 6, 3], seed: 6)
        let kernel = try sample([3, 3, 3, 4], seed: 7)
        let last = try run(Axon.input("x", shape: [nil, 6, 6, 3]).conv(4, useBias: false), x, parameters: ["conv_0.kernel": kernel])
        let first = try run(
            Axon.input("x", shape: [nil, 3, 6, 6]).conv(4, channels: .first, useBias: false), try x.permuted([0, 3, 1, 2]),
            parameters: ["conv_0.kernel": kernel])
        try expectClose(first, try last.permuted([0, 3, 1, 2]).scalars, shape: [2, 4, 4, 4], atol: 1e-6)
    }

    @Test("convolution is dimension-generic: 1-d and 3-d")
    func dimensions() throws {
        let y1 = try run(Axon.input("x", shape: [nil, 10, 2]).conv(3, kernelSize: [3], strides: [2]), try sample([2, 10, 2], seed: 8))
        #expect(y1.shape == [2, 4, 3])
        let y3 = try run(Axon.input("x", shape: [nil, 4, 4, 4, 1]).conv(2, kernelSize: [2, 3, 2]), try sample([1, 4, 4, 4, 1], seed: 9))
        #expect(y3.shape == [1, 3, 2, 3, 2])
        let pooled = try run(Axon.input("x", shape: [nil, 4, 4, 4, 1]).maxPool(), try sample([1, 4, 4, 4, 1], seed: 9))
        #expect(pooled.shape == [1, 2, 2, 2, 1])
    }

    @Test("pooling layers")
    func pooling() throws {
        let x = try tensor((1...16).map(Float.init), [1, 4, 4, 1])
        try expectClose(run(Axon.input("x", shape: [nil, 4, 4, 1]).maxPool(), x), [6, 8, 14, 16], shape: [1, 2, 2, 1])
        try expectClose(run(Axon.input("x", shape: [nil, 4, 4, 1]).avgPool(), x), [3.5, 5.5, 11.5, 13.5])
        try expectClose(run(Axon.input("x", shape: [nil, 4, 4, 1]).maxPool(kernelSize: [3], strides: [1]), x), [11, 12, 15, 16])
        try expectClose(run(Axon.input("x", shape: [nil, 4, 4, 1]).globalAvgPool(), x), [8.5], shape: [1, 1])
        try expectClose(run(Axon.input("x", shape: [nil, 4, 4, 1]).globalMaxPool(keepDimensions: true), x), [16], shape: [1, 1, 1, 1])
        let channelsFirst = try tensor((1...8).map(Float.init), [1, 2, 2, 2])
        try expectClose(run(Axon.input("x", shape: [nil, 2, 2, 2]).globalAvgPool(channels: .first), channelsFirst), [2.5, 6.5])
        try expectClose(run(Axon.input("x", shape: [nil, 2, 2, 2]).maxPool(channels: .first), channelsFirst), [4, 8], shape: [1, 2, 1, 1])
    }

    @Test("layer norm normalises each example's features")
    func layerNorm() throws {
        let y = try run(Axon.input("x", shape: [nil, 2]).layerNorm(epsilon: 1e-6), try tensor([1, 3, 10, 20], [2, 2]))
        try expectClose(y, [-1, 1, -1, 1], atol: 1e-5)
    }

    @Test("embedding looks up rows")
    func embedding() throws {
        let table = try tensor([0, 1, 10, 11, 20, 21], [3, 2])
        let ids = try Tensor(integers: [2, 0, 2], shape: [1, 3], on: backend)
        let built = try Axon.input("x", shape: [nil, 3], dtype: .int32).embedding(vocabularySize: 3, features: 2).build(on: backend)
        let y = try built.predict(ModelState(parameters: ["embedding_0.kernel": table]), inputs: ["x": ids]).output()
        try expectClose(y, [20, 21, 0, 1, 20, 21], shape: [1, 3, 2])
    }

    @Test("shape layers keep the batch dimension")
    func shapeLayers() throws {
        let x = try tensor((0..<12).map(Float.init), [2, 2, 3])
        let input = Axon.input("x", shape: [nil, 2, 3])
        try expectClose(run(input.reshape([3, -1]), x), (0..<12).map(Float.init), shape: [2, 3, 2])
        try expectClose(run(input.flatten(), x), (0..<12).map(Float.init), shape: [2, 6])
        try expectClose(run(input.transpose([1, 0]), x), [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11], shape: [2, 3, 2])
        let padded = try run(input.pad([Padding(0, 0), Padding(1, 0)], value: -1), x)
        #expect(padded.shape == [2, 2, 4])
        try expectClose(padded.sliced(axis: 0, 0..<1), [-1, 0, 1, 2, -1, 3, 4, 5])
        // x[:, -1, :] and x[:, :, 1].
        try expectClose(run(input.take(-1, axis: 0), x), [3, 4, 5, 9, 10, 11], shape: [2, 3])
        try expectClose(run(input.take(1, axis: -1), x), [1, 4, 7, 10], shape: [2, 2])
        #expect(errorMessage { _ = try input.take(3, axis: 1).build(on: backend) }
            == "layer 'take_0' (take): index 3 is outside 0..<3 along axis 1")
    }

    @Test("combinators")
    func combinators() throws {
        let x = try tensor([1, 2, 3, 4], [1, 4])
        let input = Axon.input("x", shape: [nil, 4])
        let halves = input.split(2)
        try expectClose(run(halves[0].add(halves[1]), x), [4, 6], shape: [1, 2])
        try expectClose(run(halves[0].subtract(halves[1]), x), [-2, -2])
        try expectClose(run(halves[0].multiply(halves[1]), x), [3, 8])
        try expectClose(run(Axon.concatenate([halves[1], halves[0]]), x), [3, 4, 1, 2])
        try expectClose(run(input.residual { $0.multiply($0) }, x), [2, 6, 12, 20])
    }

    @Test("custom layers bind declared parameters by name, whatever the order")
    func customLayerParameters() throws {
        let input = Axon.input("x", shape: [nil, 3])
        // Two parameters of one shape, initialised differently and declared in both orders.
        for order in [["scale", "shift"], ["shift", "scale"]] {
            let declared = order.map { name in
                Axon.param(name, shape: [3], initializer: name == "scale" ? .full(2) : .full(-1))
            }
            let model = Axon.layer("scale_shift", inputs: [input], parameters: declared) { inputs, context in
                try inputs[0] * context.parameter("scale") + context.parameter("shift")
            }
            try expectClose(run(model, try tensor([1, 2, 3], [1, 3])), [1, 3, 5])
        }
    }

    @Test("custom layer shapes by rule or by tracing")
    func customLayerShapes() throws {
        let input = Axon.input("x", shape: [nil, 3])
        let traced = Axon.layer("pairs", inputs: [input]) { inputs, _ in try Tensor.concatenate([inputs[0], inputs[0]], axis: 1) }
        let ruled = Axon.layer("pairs", inputs: [input], outputShape: { shapes in [shapes[0][0], 6] }) { inputs, _ in
            try Tensor.concatenate([inputs[0], inputs[0]], axis: 1)
        }
        let tracedBuilt = try traced.dense(2).build(on: backend)
        let ruledBuilt = try ruled.dense(2).build(on: backend)
        #expect(tracedBuilt.description.contains("[nil, 6]"))
        #expect(ruledBuilt.description == tracedBuilt.description)
        #expect(traced.description.contains("?"))
    }

    @Test("a custom layer with an input-dependent parameter shape trains")
    func customLayerGradients() throws {
        let model = Axon.layer(
            "bilinear", inputs: [Axon.input("x", shape: [nil, 3])],
            parameters: [Axon.param("w", initializer: .glorotNormal) { shapes in Shape([shapes[0][1]!, 2]) }]
        ) { inputs, context in try inputs[0].matmul(context.parameter("w")).square() }
        try checkModelGradients(model, input: try sample([2, 3], seed: 10))
    }

    @Test("layer gradients by finite differences")
    func gradients() throws {
        let image = try sample([2, 5, 5, 2], seed: 11)
        try checkModelGradients(Axon.input("x", shape: [nil, 4]).dense(3, activation: .gelu()), input: try sample([2, 4], seed: 12))
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).conv(3, strides: [2], padding: .same, activation: .tanh), input: image)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).conv(2, dilation: [2], groups: 2), input: image)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).maxPool(kernelSize: [2], strides: [1]), input: image)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).avgPool(padding: .same), input: image)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).globalMaxPool(), input: image)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).batchNorm(), input: image, mode: .train, atol: 5e-3)
        try checkModelGradients(Axon.input("x", shape: [nil, 5, 5, 2]).batchNorm(), input: image, mode: .inference)
        try checkModelGradients(Axon.input("x", shape: [nil, 4]).layerNorm(), input: try sample([3, 4], seed: 13, low: -2, high: 2), atol: 5e-3)
        let ids = try Tensor(integers: [1, 0, 1, 2], shape: [2, 2], on: backend)
        try checkModelGradients(Axon.input("x", shape: [nil, 2], dtype: .int32).embedding(vocabularySize: 3, features: 2), input: ids)
    }

    @Test("a residual model and a two-output model train end to end")
    func endToEnd() throws {
        let x = Axon.input("x", shape: [nil, 4])
        let residual = x.dense(4, activation: .relu).residual { $0.dense(4, activation: .tanh).dense(4) }.dense(1)
        try checkModelGradients(residual, input: try sample([3, 4], seed: 14))
        let trunk = x.dense(5, activation: .tanh)
        let twoHeads = Axon.container(["a": trunk.dense(2).softmax(), "b": trunk.dense(1)])
        let built = try twoHeads.build(on: backend)
        let state = try built.initialize(seed: 2)
        let input = try sample([3, 4], seed: 15)
        let (loss, gradients) = try valueAndGradient(at: state.parameters) { p in
            let output = try built.predict(ModelState(parameters: p), inputs: ["x": input])
            return try output.output("a").square().sum() + output.output("b").sum()
        }
        #expect(try loss.item().isFinite)
        #expect(gradients.names == state.parameters.names)
        for name in ["dense_1.kernel", "dense_2.kernel", "dense_0.kernel"] {
            #expect(try gradients.tensor(name).abs().sum().item() > 0, "\(name) gets a gradient")
        }
    }
}
