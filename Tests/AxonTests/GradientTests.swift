import AxonCore
import Backend
import Testing

/// Every differentiable op's vector-Jacobian product against central finite differences.
@Suite("Gradients by finite differences")
struct GradientTests {
    @Test("unary math", arguments: [
        "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "abs", "negate", "sin", "cos",
        "tan", "tanh", "sigmoid", "relu", "erf",
    ])
    func unary(_ name: String) throws {
        let positive = ["log", "sqrt", "rsqrt", "reciprocal"].contains(name)
        let x = try sample([2, 3], seed: 1, low: positive ? 0.5 : -1, high: positive ? 2 : 1)
        try checkGradients([x]) { xs in
            let x = xs[0]
            switch name {
            case "exp": return try x.exp()
            case "expm1": return try x.expm1()
            case "log": return try x.log()
            case "log1p": return try x.log1p()
            case "sqrt": return try x.sqrt()
            case "rsqrt": return try x.rsqrt()
            case "square": return try x.square()
            case "reciprocal": return try x.reciprocal()
            case "abs": return try x.abs()
            case "negate": return try -x
            case "sin": return try x.sin()
            case "cos": return try x.cos()
            case "tan": return try x.tan()
            case "tanh": return try x.tanh()
            case "sigmoid": return try x.sigmoid()
            case "relu": return try x.relu()
            default: return try x.erf()
            }
        }
    }

    @Test("binary arithmetic with broadcasting", arguments: ["add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "remainder"])
    func binary(_ name: String) throws {
        let a = try tensor([0.6, 1.4, 0.9, 1.2, 0.7, 1.1], [2, 3])
        let b = try tensor([2.5, 0.8, 1.3], [3])
        try checkGradients([a, b]) { xs in
            let (a, b) = (xs[0], xs[1])
            switch name {
            case "add": return try a + b
            case "subtract": return try a - b
            case "multiply": return try a * b
            case "divide": return try a / b
            case "pow": return try a.pow(b)
            case "maximum": return try a.maximum(b)
            case "minimum": return try a.minimum(b)
            default: return try a.remainder(b)
            }
        }
    }

    @Test("select routes the gradient by the mask")
    func select() throws {
        let mask = try Tensor([true, false, true], shape: [3], on: backend)
        try checkGradients([try sample([2, 3], seed: 2), try sample([1], seed: 3)]) { xs in
            try mask.select(xs[0], xs[1])
        }
    }

    @Test("reductions", arguments: ["sum", "mean", "max", "min", "product"])
    func reductions(_ name: String) throws {
        let x = try tensor([0.5, 1.5, -0.7, 1.1, 0.9, -1.3, 0.6, 1.9, -0.2, 1.2, 0.3, -0.8], [2, 3, 2])
        try checkGradients([x]) { xs in
            switch name {
            case "sum": return try xs[0].sum(axes: [0, 2])
            case "mean": return try xs[0].mean(axes: [1], keepDimensions: true)
            case "max": return try xs[0].max(axes: [1])
            case "min": return try xs[0].min(axes: [2])
            default: return try xs[0].product(axes: [1])
            }
        }
    }

    @Test("matmul with transposes and batch broadcasting", arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(_ transposes: (Bool, Bool)) throws {
        let a = try sample(transposes.0 ? [2, 4, 3] : [2, 3, 4], seed: 4)
        let b = try sample(transposes.1 ? [5, 4] : [4, 5], seed: 5)
        try checkGradients([a, b]) { xs in
            try xs[0].matmul(xs[1], transposeSelf: transposes.0, transposeOther: transposes.1)
        }
    }

    @Test("convolution with strides, padding, dilations and groups")
    func convolution() throws {
        let descriptors: [ConvolutionDescriptor] = [
            .init(),
            .init(strides: [2, 1], padding: [Padding(1, 1), Padding(0, 1)]),
            .init(kernelDilation: [1, 2], groups: 2),
            .init(padding: [Padding(1, 1), Padding(1, 1)], inputDilation: [2, 1]),
        ]
        for descriptor in descriptors {
            let x = try sample([2, 5, 5, 4], seed: 6)
            let k = try sample([2, 2, 4 / descriptor.groups, 4], seed: 7)
            try checkGradients([x, k]) { xs in try xs[0].convolution(kernel: xs[1], descriptor: descriptor) }
        }
        let x1 = try sample([1, 7, 2], seed: 8), k1 = try sample([3, 2, 3], seed: 9)
        try checkGradients([x1, k1]) { xs in try xs[0].convolution(kernel: xs[1], descriptor: .init(strides: [2])) }
    }

    @Test("fused convolution with bias and activation", arguments: [FusedActivation.identity, .relu, .sigmoid, .tanh])
    func fusedConvolution(_ activation: FusedActivation) throws {
        let x = try sample([2, 4, 4, 3], seed: 10), k = try sample([3, 3, 3, 2], seed: 11), b = try sample([2], seed: 12)
        let descriptor = ConvolutionDescriptor(padding: [Padding(1, 1), Padding(1, 1)])
        try checkGradients([x, k, b]) { xs in
            try xs[0].convolution(kernel: xs[1], bias: xs[2], descriptor: descriptor, activation: activation)
        }
    }

    @Test("window reductions", arguments: [WindowOperation.max, .sum, .average])
    func window(_ operation: WindowOperation) throws {
        // Distinct, well-separated values keep max pooling away from ties.
        let values = (0..<32).map { Float(($0 * 13) % 32) * 0.1 }
        let x = try tensor(values, [1, 4, 4, 2])
        let descriptor = WindowDescriptor(
            windowDimensions: [1, 3, 2, 1], strides: [1, 2, 1, 1],
            padding: [Padding(0, 0), Padding(1, 1), Padding(0, 1), Padding(0, 0)])
        try checkGradients([x]) { xs in try xs[0].window(operation, descriptor: descriptor) }
    }

    @Test("layout ops")
    func layout() throws {
        let x = try sample([2, 3, 4], seed: 13)
        try checkGradients([x]) { xs in try xs[0].reshaped(to: [6, 4]) }
        try checkGradients([x]) { xs in try xs[0].permuted([2, 0, 1]) }
        try checkGradients([x]) { xs in try xs[0].sliced(starts: [0, 1, 0], limits: [2, 3, 4], strides: [1, 1, 3]) }
        try checkGradients([x]) { xs in try xs[0].sliced(starts: [1, 0, 1], limits: [2, 2, 3]) }
        try checkGradients([x]) { xs in try xs[0].padded([Padding(1, 0), Padding(0, 2), Padding(1, 1)], value: 3) }
        try checkGradients([x, try sample([2, 1, 4], seed: 14)]) { xs in try Tensor.concatenate(xs, axis: 1) }
        try checkGradients([try sample([3, 1], seed: 15)]) { xs in try xs[0].broadcast(to: [2, 3, 4]) }
        try checkGradients([x]) { xs in try xs[0].transposed() }
    }

    @Test("gather, scatter-add and cast")
    func indexing() throws {
        let x = try sample([3, 4], seed: 16)
        let indices = try Tensor(integers: [2, 0, 2, 1], shape: [2, 2], on: backend)
        try checkGradients([x]) { xs in try xs[0].gather(indices: indices, axis: 0) }
        try checkGradients([try sample([3, 2, 2], seed: 17)]) { xs in
            try xs[0].scatterAdd(indices: indices, axis: 1, dimensionSize: 5)
        }
        try checkGradients([x]) { xs in try xs[0].cast(to: .float32) * 2 }
    }

    @Test("dense with bias and each activation", arguments: [FusedActivation.identity, .relu, .sigmoid, .tanh])
    func dense(_ activation: FusedActivation) throws {
        let x = try sample([2, 3, 4], seed: 18), w = try sample([4, 5], seed: 19), b = try sample([5], seed: 20)
        try checkGradients([x, w, b]) { xs in try xs[0].dense(weight: xs[1], bias: xs[2], activation: activation) }
        try checkGradients([try sample([4], seed: 21), w]) { xs in try xs[0].dense(weight: xs[1]) }
    }

    @Test("softmax, log-softmax and softmax cross-entropy")
    func softmaxFamily() throws {
        let logits = try sample([3, 4], seed: 22, low: -2, high: 2)
        try checkGradients([logits]) { xs in try xs[0].softmax() }
        try checkGradients([logits]) { xs in try xs[0].logSoftmax(axis: 0) }
        let labels = try (sample([3, 4], seed: 23, low: 0.1, high: 1)).softmax()
        try checkGradients([logits, labels]) { xs in try xs[0].softmaxCrossEntropy(labels: xs[1]) }
    }

    @Test("normalisation as batch norm and as layer norm")
    func normalization() throws {
        let x = try sample([4, 3, 2], seed: 24, low: -2, high: 2)
        let channelScale = try sample([1, 1, 2], seed: 25, low: 0.5, high: 1.5), channelOffset = try sample([1, 1, 2], seed: 26)
        try checkGradients([x, channelScale, channelOffset], atol: 4e-3) { xs in
            try xs[0].normalized(scale: xs[1], offset: xs[2], axes: [0, 1], epsilon: 1e-3).output
        }
        let featureScale = try sample([1, 3, 2], seed: 27, low: 0.5, high: 1.5), featureOffset = try sample([1, 3, 2], seed: 28)
        try checkGradients([x, featureScale, featureOffset], atol: 4e-3) { xs in
            try xs[0].normalized(scale: xs[1], offset: xs[2], axes: [1, 2], epsilon: 1e-3).output
        }
    }

    @Test("dropout scales the gradient of kept elements")
    func dropout() throws {
        let key = Philox.Key(seed: 31)
        try checkGradients([try sample([4, 5], seed: 29)]) { xs in try xs[0].dropout(rate: 0.4, key: key) }
    }

    @Test("a value used twice accumulates both contributions")
    func reuse() throws {
        let x = try tensor([3], [1])
        let g = try gradient(at: x) { x in try (x * x * x + x).sum() }
        try expectClose(g, [28])  // d/dx (x³ + x) = 3x² + 1
    }

    @Test("gradients require a single float output")
    func nonScalar() throws {
        let message = errorMessage { _ = try gradient(at: try tensor([1, 2], [2])) { try $0 * 2 } }
        #expect(message == "valueAndGradient: the function must return a single float32 value to differentiate, got float32 of shape [2]")
    }

    @Test("parameters that do not affect the value get zero gradients")
    func unusedParameters() throws {
        let parameters: ParameterStore = ["used": try tensor([2], [1]), "unused": try tensor([5, 6], [2])]
        let (value, gradients) = try valueAndGradient(at: parameters) { p in try (p.tensor("used") * 3).sum() }
        #expect(try value.item() == 6)
        try expectClose(gradients.tensor("used"), [3])
        try expectClose(gradients.tensor("unused"), [0, 0])
    }
}
