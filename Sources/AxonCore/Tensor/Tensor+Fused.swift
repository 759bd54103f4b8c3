import Backend

// The fused ops of the backend protocol, with their vector-Jacobian products.

extension Tensor {
    /// The cotangent `g` carried back through an activation, using its output `y` (the
    /// backend's one-pass ``Backend/activationBackward(_:output:gradOutput:)``).
    static func throughActivation(_ activation: FusedActivation, output y: Tensor, cotangent g: Tensor) throws -> Tensor {
        guard activation != .identity else { return g }
        return try Tensor.computed("activationBackward", [y, g]) { backend, b in
            try backend.activationBackward(activation, output: b[0], gradOutput: b[1])
        }
    }

    /// `activation(self · weight + bias)` over the last axis.
    public func dense(weight: Tensor, bias: Tensor? = nil, activation: FusedActivation = .identity) throws -> Tensor {
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return try Tensor.make("dense", inputs, { backend, b in
            try backend.dense(b[0], weight: b[1], bias: b.count > 2 ? b[2] : nil, activation: activation)
        }) { g, x, y, wanted in
            let dz = try Tensor.throughActivation(activation, output: y, cotangent: g)
            let features = x[0].shape[x[0].rank - 1]
            let flatInput = try x[0].reshaped(to: [-1, features])
            let flatGrad = try dz.reshaped(to: [-1, dz.shape[dz.rank - 1]])
            let dx = wanted[0] ? try flatGrad.matmul(x[1], transposeOther: true).reshaped(to: x[0].shape) : nil
            let dw = wanted[1] ? try flatInput.matmul(flatGrad, transposeSelf: true) : nil
            let db = x.count > 2 && wanted[2] ? try flatGrad.sum(axes: [0]) : nil
            return [dx, dw, db]
        }
    }

    /// `activation(convolution(self, kernel) + bias)`.
    public func convolution(
        kernel: Tensor, bias: Tensor?, descriptor: ConvolutionDescriptor, activation: FusedActivation
    ) throws -> Tensor {
        let inputs = [self, kernel] + (bias.map { [$0] } ?? [])
        return try Tensor.make("convolution", inputs, { backend, b in
            try backend.convolution(
                b[0], kernel: b[1], bias: b.count > 2 ? b[2] : nil, descriptor: descriptor, activation: activation)
        }) { g, x, y, wanted in
            let dz = try Tensor.throughActivation(activation, output: y, cotangent: g)
            let gradients = try Tensor.convolutionGradients(dz, input: x[0], kernel: x[1], descriptor: descriptor, wanted: wanted)
            let db = x.count > 2 && wanted[2] ? try dz.sum(axes: Array(0..<(dz.rank - 1))) : nil
            return gradients + [db]
        }
    }

    /// `activation(transposedConvolution(self, kernel) + bias)`: the adjoint of the convolution
    /// that `descriptor` and `kernel` (`[spatial..., outChannels / groups, inChannels]`) describe
    /// from `outputShape` to this tensor's shape.
    public func transposedConvolution(
        kernel: Tensor, bias: Tensor?, outputShape: Shape, descriptor: ConvolutionDescriptor, activation: FusedActivation
    ) throws -> Tensor {
        let inputs = [self, kernel] + (bias.map { [$0] } ?? [])
        return try Tensor.make("transposedConvolution", inputs, { backend, b in
            try backend.transposedConvolution(
                b[0], kernel: b[1], bias: b.count > 2 ? b[2] : nil, outputShape: outputShape, descriptor: descriptor, activation: activation)
        }) { g, x, y, wanted in
            // The adjoint's input gradient is the convolution itself; its kernel gradient is the
            // convolution's, with the roles of input and output gradient exchanged.
            let dz = try Tensor.throughActivation(activation, output: y, cotangent: g)
            let kernelShape = x[1].shape
            let dx = try wanted[0] ? Tensor.computed("convolution", [dz, x[1]]) { backend, b in
                try backend.convolution(b[0], kernel: b[1], descriptor: descriptor)
            } : nil
            let dk = try wanted[1] ? Tensor.computed("convolutionBackwardKernel", [dz, x[0]]) { backend, b in
                try backend.convolutionBackwardKernel(input: b[0], gradOutput: b[1], kernelShape: kernelShape, descriptor: descriptor)
            } : nil
            let db = x.count > 2 && wanted[2] ? try dz.sum(axes: Array(0..<(dz.rank - 1))) : nil
            return [dx, dk, db]
        }
    }

    /// `exp(x) / Σ exp(x)` along `axis`, computed stably (the backend's fused softmax).
    public func softmax(axis: Int = -1) throws -> Tensor {
        try Tensor.make("softmax", [self], { backend, b in try backend.softmax(b[0], axis: axis) }) { g, _, y in
            [try y * (g - (g * y).sum(axes: [axis], keepDimensions: true))]
        }
    }

    /// `x − log Σ exp(x)` along `axis`, computed stably.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        try Tensor.make("logSoftmax", [self], { backend, b in try backend.logSoftmax(b[0], axis: axis) }) { g, _, y in
            [try g - y.exp() * g.sum(axes: [axis], keepDimensions: true)]
        }
    }

    /// `−Σ labels · logSoftmax(self)` along `axis` (removed from the result), for probability
    /// `labels` of this tensor's shape.
    public func softmaxCrossEntropy(labels: Tensor, axis: Int = -1) throws -> Tensor {
        try Tensor.make("softmaxCrossEntropy", [self, labels], { backend, b in
            try backend.softmaxCrossEntropy(logits: b[0], labels: b[1], axis: axis)
        }) { g, x, _, wanted in
            let dLogits = try wanted[0] ? Tensor.computed("softmaxCrossEntropyBackward", [x[0], x[1], g]) { backend, b in
                try backend.softmaxCrossEntropyBackward(logits: b[0], labels: b[1], gradLoss: b[2], axis: axis)
            } : nil
            guard wanted[1] else { return [dLogits, nil] }
            let keptShape = try ShapeRules.reduction(
                x[0].shape, axes: [axis], keepDimensions: true, operation: "softmaxCrossEntropy").shape
            let dLabels = try -(x[0].logSoftmax(axis: axis) * g.reshaped(to: keptShape))
            return [dLogits, dLabels]
        }
    }

    /// Normalises over `axes` to zero mean and unit variance, then scales and offsets (both
    /// broadcast to this tensor's shape). Returns the output with the batch mean and variance
    /// the normalisation used (as detached values, keeping the reduced axes).
    ///
    /// When this tensor is a `bfloat16` tensor widened by ``cast(to:)`` and the scale and
    /// offset are `float32`, the backend reads the `bfloat16` tensor itself and widens it as it
    /// reads, and likewise a widened `bfloat16` cotangent of the output: the same values and
    /// gradients, without the widened copies' passes over memory.
    public func normalized(
        scale: Tensor, offset: Tensor, axes: [Int], epsilon: Float
    ) throws -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let descriptor = NormalizationDescriptor(axes: axes, epsilon: epsilon)
        let data = scale.dtype == .float32 && offset.dtype == .float32 ? widened?.tensor ?? self : self
        func normalize(_ descriptor: NormalizationDescriptor) -> Trace.Run {
            { backend, b, _, _ in
                let result = try backend.normalize(b[0], scale: b[1], offset: b[2], descriptor: descriptor)
                return [result.output, result.mean, result.inverseStd]
            }
        }
        // A compiled step may fold a narrowing cast of the output into the normalisation.
        let narrowed = scale.dtype == .float32 ? { dtype in normalize(NormalizationDescriptor(axes: axes, epsilon: epsilon, outputDType: dtype)) } : nil
        let (backend, result) = try Tensor.computeBuffers("normalize", [data, scale, offset], settings: [], narrowed: narrowed, normalize(descriptor))
        let (mean, inverseStd) = (Tensor(buffer: result[1], backend: backend), Tensor(buffer: result[2], backend: backend))
        let output = Tensor.record(result[0], on: backend, inputs: [data, scale, offset]) { g, x, _ in
            let gradient = scale.dtype == .float32 ? g.widened?.tensor ?? g : g  // a bfloat16 cotangent read as it is
            let (_, gradients) = try Tensor.computeBuffers("normalizeBackward", [gradient, x[0], x[1], mean, inverseStd]) { backend, b, _ in
                let gradients = try backend.normalizeBackward(
                    gradOutput: b[0], input: b[1], scale: b[2], mean: b[3], inverseStd: b[4], descriptor: descriptor)
                return [gradients.input, gradients.scale, gradients.offset]
            }
            return gradients.map { Tensor(buffer: $0, backend: backend) }
        }
        // The variance comes back from 1/√(var + ε): one value per group, not another pass
        // over the data.
        let variance = try (inverseStd.square().reciprocal() - epsilon).maximum(Tensor(0, on: backend))
        return (output, mean, variance)
    }

    /// Inverted dropout with the mask drawn from Philox bits of `key` at `offset`; `noiseShape`
    /// (default: this tensor's shape) broadcasts to the input, so whole channels can be dropped.
    public func dropout(rate: Float, key: Philox.Key, offset: UInt64 = 0, noiseShape: Shape? = nil) throws -> Tensor {
        let noiseShape = noiseShape ?? shape
        let (backend, result) = try Tensor.computeBuffers("dropout", [self], key: key) { backend, b, key in
            let result = try backend.dropout(b[0], rate: rate, key: key, offset: offset, noiseShape: noiseShape)
            return [result.output, result.mask]
        }
        let mask = Tensor(buffer: result[1], backend: backend)
        return Tensor.record(result[0], on: backend, inputs: [self]) { g, _, _ in
            let (_, gradient) = try Tensor.computeBuffers("dropoutBackward", [g, mask]) { backend, b, _ in
                [try backend.dropoutBackward(b[0], mask: b[1], rate: rate)]
            }
            return [Tensor(buffer: gradient[0], backend: backend)]
        }
    }
}
