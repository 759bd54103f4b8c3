import AxonCore
import Backend

/// A differentiable function of seeded inputs. On every backend its reverse-mode gradient is
/// compared with the reference backend's; on the reference backend it is also checked against
/// central finite differences.
public struct GradientCase: Sendable {
    /// The name shown in reports.
    public let name: String
    /// The inputs, generated.
    public let inputs: [InputSpec]
    /// The function differentiated with respect to every input; it must return a scalar.
    public let function: @Sendable ([Tensor]) throws -> Tensor

    /// The gradient of `Σ f(x) · w` (fixed weights `w`) with respect to every input.
    public func gradients(on backend: any Backend) throws -> [HostArray] {
        let tensors = try inputs.map { try Tensor($0.make(), on: backend) }
        var parameters = ParameterStore()
        for (index, tensor) in tensors.enumerated() { parameters["x\(index)"] = tensor }
        let weights = try Tensor(InputSpec.uniform(shape: try function(tensors).shape.dimensions, seed: 99, low: 0.5, high: 1.5).make(), on: backend)
        let result = try gradient(at: parameters) { p in
            try (function(tensors.indices.map { try p.tensor("x\($0)") }) * weights).sum()
        }
        return try tensors.indices.map { try result.tensor("x\($0)").array }
    }

    /// Central finite differences of `Σ f(x) · w`, with the same weights.
    public func finiteDifferences(on backend: any Backend, epsilon: Float = 1e-2) throws -> [HostArray] {
        let values = try inputs.map { try $0.make() }
        let probe = try function(values.map { try Tensor($0, on: backend) })
        let weights = try Tensor(InputSpec.uniform(shape: probe.shape.dimensions, seed: 99, low: 0.5, high: 1.5).make(), on: backend)
        func objective(_ arrays: [HostArray]) throws -> Double {
            Double(try (function(arrays.map { try Tensor($0, on: backend) }) * weights).sum().item())
        }
        return try values.indices.map { position in
            let base = values[position].elements.floats
            let derivative = try base.indices.map { index -> Float in
                func shifted(_ delta: Float) throws -> Double {
                    var changed = base
                    changed[index] += delta
                    var arrays = values
                    arrays[position] = try HostArray(shape: values[position].shape, elements: .float32(changed))
                    return try objective(arrays)
                }
                return Float((try shifted(epsilon) - shifted(-epsilon)) / Double(2 * epsilon))
            }
            return try HostArray(shape: values[position].shape, elements: .float32(derivative))
        }
    }

    /// The case as a conformance case comparing gradients across backends.
    public var conformanceCase: ConformanceCase {
        let gradients = self.gradients
        return ConformanceCase("gradient \(name)", covers: ["gradient.\(name)"], opClass: .gradient, body: .library { try gradients($0) })
    }

    static func u(_ shape: [Int], _ seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> InputSpec {
        .uniform(shape: shape, seed: seed, low: low, high: high)
    }

    /// One case per differentiable op family, at points away from kinks.
    public static var all: [GradientCase] {
        let convolution = ConvolutionDescriptor(strides: [2, 1], padding: [Padding(1, 1), Padding(0, 1)], kernelDilation: [1, 2], groups: 2)
        let window = WindowDescriptor(windowDimensions: [1, 2, 2, 1], strides: [1, 1, 2, 1], padding: [Padding(0, 0), Padding(0, 1), Padding(1, 0), Padding(0, 0)])
        let indices = InputSpec.indices(shape: [2, 2], seed: 5, upper: 3)
        return [
            GradientCase(name: "unary math", inputs: [u([2, 5], 1, 0.5, 1.5)]) { x in
                let v = x[0]
                return try v.exp() + v.log() + v.sqrt() + v.rsqrt() + v.tanh() + v.sigmoid() + v.sin() + v.cos() + v.erf() + v.reciprocal() + v.expm1() + v.log1p()
            },
            GradientCase(name: "binary arithmetic", inputs: [u([3, 4], 2, 0.5, 1.5), u([4], 3, 0.5, 1.5)]) { x in
                try (x[0] * x[1] + x[0] / x[1] + x[1]).pow(x[1]) + x[0].maximum(x[1] * 1.7) + x[0].minimum(x[1] * 0.3)
            },
            GradientCase(name: "reductions", inputs: [u([3, 4, 2], 4, 0.5, 1.5)]) { x in
                try x[0].sum(axes: [1]) + x[0].mean(axes: [1]) + x[0].max(axes: [1]) * x[0].min(axes: [1]) + x[0].product(axes: [1])
            },
            GradientCase(name: "matmul", inputs: [u([2, 3, 4], 6), u([5, 4], 7)]) { x in try x[0].matmul(x[1], transposeOther: true) },
            GradientCase(name: "convolution", inputs: [u([2, 6, 5, 4], 8), u([2, 2, 2, 4], 9)]) { x in
                try x[0].convolution(kernel: x[1], descriptor: convolution)
            },
            GradientCase(name: "window reductions", inputs: [u([1, 4, 4, 2], 10)]) { x in
                try x[0].window(.average, descriptor: window) + x[0].window(.sum, descriptor: window)
            },
            GradientCase(name: "layout", inputs: [u([2, 3, 4], 11)]) { x in
                let v = x[0]
                let pieces = try Tensor.concatenate([v.permuted([0, 2, 1]).reshaped(to: [2, 12]), v.sliced(starts: [0, 0, 1], limits: [2, 3, 4], strides: [1, 2, 2]).reshaped(to: [2, 4])], axis: 1)
                return try pieces.padded([Padding(1, 0), Padding(0, 2)]) + v.sum().broadcast(to: [3, 18])
            },
            GradientCase(name: "gather and scatter", inputs: [u([3, 4], 12)]) { x in
                let gathered = try x[0].gather(indices: try Tensor(indices.make(), on: x[0].backend), axis: 0)
                return try gathered.scatterAdd(indices: try Tensor(indices.make(), on: x[0].backend), axis: 0, dimensionSize: 3)
            },
            GradientCase(name: "dense", inputs: [u([4, 5], 13), u([5, 3], 14), u([3], 15)]) { x in
                try x[0].dense(weight: x[1], bias: x[2], activation: .tanh)
            },
            GradientCase(name: "convolution bias activation", inputs: [u([2, 5, 5, 2], 16), u([3, 3, 2, 3], 17), u([3], 18)]) { x in
                try x[0].convolution(kernel: x[1], bias: x[2], descriptor: ConvolutionDescriptor(padding: [Padding(1, 1), Padding(1, 1)]), activation: .sigmoid)
            },
            GradientCase(name: "transposed convolution", inputs: [u([2, 4, 4, 4], 26), u([2, 2, 2, 4], 27), u([4], 28)]) { x in
                try x[0].transposedConvolution(kernel: x[1], bias: x[2], outputShape: [2, 6, 5, 4], descriptor: convolution, activation: .tanh)
            },
            GradientCase(name: "resize", inputs: [u([1, 4, 5, 2], 29)]) { x in
                try Layers.resize(x[0], size: [7, 3], method: .cubic) + Layers.resize(x[0], size: [7, 3], method: .linear, alignCorners: true)
            },
            GradientCase(name: "attention", inputs: [u([2, 4, 3], 30), u([2, 5, 3], 31), u([2, 5, 2], 32)]) { x in
                // The mask is a constant of the op, not differentiated.
                let mask = try Tensor(u([2, 1, 5], 33, -2, 0).make(), on: x[0].backend)
                return try x[0].attention(key: x[1], value: x[2], mask: mask, descriptor: AttentionDescriptor(scale: 0.7, causal: true)).output
            },
            GradientCase(name: "softmax family", inputs: [u([3, 5], 19, -2, 2), u([3, 5], 20, 0.1, 1)]) { x in
                try x[0].softmax() + x[0].logSoftmax(axis: 0) + x[0].softmaxCrossEntropy(labels: x[1].softmax()).reshaped(to: [3, 1])
            },
            GradientCase(name: "normalization", inputs: [u([4, 3, 2], 21, -2, 2), u([1, 1, 2], 22, 0.5, 1.5), u([1, 1, 2], 23)]) { x in
                try x[0].normalized(scale: x[1], offset: x[2], axes: [0, 1], epsilon: 1e-3).output
            },
            GradientCase(name: "dropout", inputs: [u([4, 6], 24)]) { x in try x[0].dropout(rate: 0.3, key: Philox.Key(seed: 25)) },
        ]
    }
}
