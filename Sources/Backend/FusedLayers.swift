// Default compositions of the fused layer ops. A backend overrides one only to be faster; the
// conformance suite compares every override with these. The defaults that an override may
// handle only in part call a public `composed…` function the override can fall back to.

extension Backend {
    /// A rank-0 `float32` buffer holding `value`.
    public func scalar(_ value: Float) throws -> Buffer {
        try full(Double(value), shape: [], dtype: .float32)
    }

    /// Sums `x` over the axes along which `shape` was broadcast to `x.shape`, undoing a
    /// broadcast (the adjoint of ``LayoutOperations/broadcast(_:to:)``).
    public func sum(_ x: Buffer, toShape shape: Shape) throws -> Buffer {
        if x.shape == shape { return x }
        let offset = x.shape.rank - shape.rank
        guard offset >= 0 else {
            throw BackendError.shapeMismatch(operation: "sum(toShape:)", reason: "\(x.shape) cannot be reduced to \(shape)")
        }
        var axes = Array(0..<offset)
        for axis in 0..<shape.rank where shape[axis] == 1 && x.shape[axis + offset] != 1 {
            axes.append(axis + offset)
        }
        let reduced = try reduce(.sum, x, axes: axes, keepDimensions: true)
        return try reshape(reduced, to: shape)
    }

    /// Applies a fused activation on its own.
    public func activate(_ x: Buffer, _ activation: FusedActivation) throws -> Buffer {
        switch activation {
        case .identity: return x
        case .relu: return try unary(.relu, x)
        case .sigmoid: return try unaryOrDecomposition(.sigmoid, x)
        case .tanh: return try unary(.tanh, x)
        }
    }

    public func dense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer {
        try composedDense(x, weight: weight, bias: bias, activation: activation)
    }

    /// ``Backend/dense(_:weight:bias:activation:)`` as matmul, add and activation.
    public func composedDense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer {
        guard x.shape.rank >= 1, weight.shape.rank == 2, x.shape[x.shape.rank - 1] == weight.shape[0] else {
            throw BackendError.shapeMismatch(
                operation: "dense", reason: "input \(x.shape) needs its last dimension to equal the weight's first, weight is \(weight.shape)")
        }
        let lifted = x.shape.rank == 1 ? try reshape(x, to: [1, x.shape[0]]) : x
        var y = try matmul(lifted, weight, transposeA: false, transposeB: false)
        if x.shape.rank == 1 { y = try reshape(y, to: [weight.shape[1]]) }
        if let bias { y = try binary(.add, y, bias) }
        return try activate(y, activation)
    }

    public func convolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        try composedConvolution(input, kernel: kernel, bias: bias, descriptor: descriptor, activation: activation)
    }

    /// ``Backend/convolution(_:kernel:bias:descriptor:activation:)`` as convolution, add and activation.
    public func composedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        var y = try convolution(input, kernel: kernel, descriptor: descriptor)
        if let bias { y = try binary(.add, y, bias) }
        return try activate(y, activation)
    }

    public func transposedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, outputShape: Shape, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        try composedTransposedConvolution(
            input, kernel: kernel, bias: bias, outputShape: outputShape, descriptor: descriptor, activation: activation)
    }

    /// ``Backend/transposedConvolution(_:kernel:bias:outputShape:descriptor:activation:)`` as the
    /// convolution's input gradient, add and activation.
    public func composedTransposedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, outputShape: Shape, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        var y = try convolutionBackwardInput(gradOutput: input, kernel: kernel, inputShape: outputShape, descriptor: descriptor)
        if let bias { y = try binary(.add, y, bias) }
        return try activate(y, activation)
    }

    public func softmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try composedSoftmax(x, axis: axis)
    }

    /// ``Backend/softmax(_:axis:)`` as reductions and elementwise primitives.
    public func composedSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        let maximum = try reduce(.max, x, axes: [axis], keepDimensions: true)
        let exponentials = try unary(.exp, binary(.subtract, x, maximum))
        return try binary(.divide, exponentials, reduce(.sum, exponentials, axes: [axis], keepDimensions: true))
    }

    public func logSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try composedLogSoftmax(x, axis: axis)
    }

    /// ``Backend/logSoftmax(_:axis:)`` as reductions and elementwise primitives.
    public func composedLogSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        let maximum = try reduce(.max, x, axes: [axis], keepDimensions: true)
        let shifted = try binary(.subtract, x, maximum)
        let logSum = try unary(.log, reduce(.sum, unary(.exp, shifted), axes: [axis], keepDimensions: true))
        return try binary(.subtract, shifted, logSum)
    }

    public func softmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer {
        try composedSoftmaxCrossEntropy(logits: logits, labels: labels, axis: axis)
    }

    /// ``Backend/softmaxCrossEntropy(logits:labels:axis:)`` as primitives.
    public func composedSoftmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer {
        try requireSameShape(logits, labels, operation: "softmaxCrossEntropy")
        let product = try binary(.multiply, labels, logSoftmax(logits, axis: axis))
        return try unary(.negate, reduce(.sum, product, axes: [axis], keepDimensions: false))
    }

    public func softmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer {
        try composedSoftmaxCrossEntropyBackward(logits: logits, labels: labels, gradLoss: gradLoss, axis: axis)
    }

    /// ``Backend/softmaxCrossEntropyBackward(logits:labels:gradLoss:axis:)`` as primitives.
    public func composedSoftmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer {
        try requireSameShape(logits, labels, operation: "softmaxCrossEntropyBackward")
        let keptShape = try ShapeRules.reduction(logits.shape, axes: [axis], keepDimensions: true, operation: "softmaxCrossEntropyBackward").shape
        let labelMass = try reduce(.sum, labels, axes: [axis], keepDimensions: true)
        let local = try binary(.subtract, binary(.multiply, softmax(logits, axis: axis), labelMass), labels)
        return try binary(.multiply, local, reshape(gradLoss, to: keptShape))
    }

    public func activationBackward(_ activation: FusedActivation, output: Buffer, gradOutput: Buffer) throws -> Buffer {
        try composedActivationBackward(activation, output: output, gradOutput: gradOutput)
    }

    /// ``Backend/activationBackward(_:output:gradOutput:)`` as elementwise primitives.
    public func composedActivationBackward(_ activation: FusedActivation, output y: Buffer, gradOutput g: Buffer) throws -> Buffer {
        try requireSameShape(y, g, operation: "activationBackward")
        let one = try full(1, shape: [], dtype: y.dtype)
        switch activation {
        case .identity: return g
        case .relu: return try select(compare(.greater, y, full(0, shape: [], dtype: y.dtype)), g, full(0, shape: [], dtype: g.dtype))
        case .sigmoid: return try binary(.multiply, g, binary(.multiply, y, binary(.subtract, one, y)))
        case .tanh: return try binary(.multiply, g, binary(.subtract, one, binary(.multiply, y, y)))
        }
    }

    public func normalize(
        _ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationResult {
        try composedNormalize(x, scale: scale, offset: offset, descriptor: descriptor)
    }

    /// `compute`'s normalisation under `descriptor` without its output dtype, the output then cast
    /// to that dtype when it differs: how an implementation honours an output dtype
    /// (``NormalizationDescriptor/outputDType``) its own path does not write.
    public func normalizing(
        _ descriptor: NormalizationDescriptor, _ compute: (NormalizationDescriptor) throws -> NormalizationResult
    ) throws -> NormalizationResult {
        let result = try compute(descriptor.computingOutput)
        guard let dtype = descriptor.outputDType, dtype != result.output.dtype else { return result }
        return NormalizationResult(output: try cast(result.output, to: dtype), mean: result.mean, inverseStd: result.inverseStd)
    }

    /// ``Backend/normalize(_:scale:offset:descriptor:)`` as reductions and elementwise primitives,
    /// in `float32` when an operand is `bfloat16` (the results rounded back unless only the data
    /// was `bfloat16`, as the contract's mixed precision asks), the output then cast to the
    /// descriptor's output dtype when it asks for another.
    public func composedNormalize(
        _ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationResult {
        if descriptor.outputDType != nil {
            return try normalizing(descriptor) { try composedNormalize(x, scale: scale, offset: offset, descriptor: $0) }
        }
        if x.dtype == .bfloat16 || scale.dtype == .bfloat16 {
            let wide = try [x, scale, offset].map { $0.dtype == .bfloat16 ? try cast($0, to: .float32) : $0 }
            let result = try composedNormalize(wide[0], scale: wide[1], offset: wide[2], descriptor: descriptor)
            return scale.dtype == .bfloat16 ? try result.mapBuffers { try cast($0, to: .bfloat16) } : result
        }
        let mean = try reduce(.mean, x, axes: descriptor.axes, keepDimensions: true)
        let centered = try binary(.subtract, x, mean)
        let variance = try reduce(.mean, unaryOrDecomposition(.square, centered), axes: descriptor.axes, keepDimensions: true)
        let inverseStd = try unaryOrDecomposition(.rsqrt, binary(.add, variance, scalar(descriptor.epsilon)))
        let normalized = try binary(.multiply, centered, inverseStd)
        let output = try binary(.add, binary(.multiply, normalized, scale), offset)
        return NormalizationResult(output: output, mean: mean, inverseStd: inverseStd)
    }

    public func normalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer,
        descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients {
        try composedNormalizeBackward(gradOutput: gradOutput, input: input, scale: scale, mean: mean, inverseStd: inverseStd, descriptor: descriptor)
    }

    /// ``Backend/normalizeBackward(gradOutput:input:scale:mean:inverseStd:descriptor:)`` as reductions and
    /// elementwise primitives, in `float32` when an operand is `bfloat16` (as ``composedNormalize(_:scale:offset:descriptor:)``).
    public func composedNormalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer,
        descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients {
        let operands = [gradOutput, input, scale, mean, inverseStd]
        if operands.contains(where: { $0.dtype == .bfloat16 }) {
            let wide = try operands.map { $0.dtype == .bfloat16 ? try cast($0, to: .float32) : $0 }
            let gradients = try composedNormalizeBackward(
                gradOutput: wide[0], input: wide[1], scale: wide[2], mean: wide[3], inverseStd: wide[4], descriptor: descriptor)
            if scale.dtype == .bfloat16 { return try gradients.mapBuffers { try cast($0, to: .bfloat16) } }
            return NormalizationGradients(input: try cast(gradients.input, to: input.dtype), scale: gradients.scale, offset: gradients.offset)
        }
        let normalized = try binary(.multiply, binary(.subtract, input, mean), inverseStd)
        let gradOffset = try sum(gradOutput, toShape: scale.shape)
        let gradScale = try sum(binary(.multiply, gradOutput, normalized), toShape: scale.shape)
        // dx = σ⁻¹ · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)), with ĝ = dy · scale.
        let gradNormalized = try binary(.multiply, gradOutput, scale)
        let meanGrad = try reduce(.mean, gradNormalized, axes: descriptor.axes, keepDimensions: true)
        let meanGradDotX = try reduce(
            .mean, binary(.multiply, gradNormalized, normalized), axes: descriptor.axes, keepDimensions: true)
        let inner = try binary(
            .subtract, binary(.subtract, gradNormalized, meanGrad), binary(.multiply, normalized, meanGradDotX))
        return NormalizationGradients(
            input: try binary(.multiply, inner, inverseStd), scale: gradScale, offset: gradOffset)
    }

    public func dropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult {
        try composedDropout(x, rate: rate, key: key, offset: offset, noiseShape: noiseShape)
    }

    /// ``Backend/dropout(_:rate:key:offset:noiseShape:)`` as random bits, a comparison and a
    /// select (computed in float32 for bfloat16 data).
    public func composedDropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult {
        if x.dtype == .bfloat16 {
            return try computingInFloat32([x]) { try composedDropout($0[0], rate: rate, key: key, offset: offset, noiseShape: noiseShape) }
        }
        let mask = try dropoutMask(rate: rate, key: key, offset: offset, shape: noiseShape)
        _ = try Shape.broadcast(noiseShape, x.shape, operation: "dropout")
        let scaled = try binary(.multiply, x, scalar(1 / (1 - rate)))
        let output = try select(mask, scaled, full(0, shape: [], dtype: x.dtype))
        return DropoutResult(output: output, mask: mask)
    }

    public func dropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer {
        try composedDropoutBackward(gradient, mask: mask, rate: rate)
    }

    /// ``Backend/dropoutBackward(_:mask:rate:)`` as a scaling and a select (computed in float32
    /// for a bfloat16 gradient).
    public func composedDropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer {
        if gradient.dtype == .bfloat16 {
            return try computingInFloat32([gradient]) { try composedDropoutBackward($0[0], mask: mask, rate: rate) }
        }
        return try select(mask, binary(.multiply, gradient, scalar(1 / (1 - rate))), full(0, shape: [], dtype: gradient.dtype))
    }

    /// The dropout keep-mask: `bits < ⌊(1 − rate) · 2³²⌋` (everything kept when `rate` is 0).
    public func dropoutMask(rate: Float, key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        guard rate >= 0, rate < 1 else {
            throw BackendError.invalidArgument(operation: "dropout", reason: "rate must be in [0, 1), got \(rate)")
        }
        if rate == 0 { return try full(1, shape: shape, dtype: .bool) }
        let bits = try randomBits(key: key, offset: offset, shape: shape)
        let threshold = try full(Double(DropoutThreshold.threshold(rate: rate)), shape: [], dtype: .uint32)
        return try compare(.less, bits, threshold)
    }

    func requireSameShape(_ a: Buffer, _ b: Buffer, operation: String) throws {
        guard a.shape == b.shape else {
            throw BackendError.shapeMismatch(operation: operation, reason: "operands must have one shape, got \(a.shape) and \(b.shape)")
        }
    }
}

/// The integer threshold behind dropout masks, shared by every backend.
public enum DropoutThreshold {
    /// `⌊(1 − rate) · 2³²⌋`, for `rate` in (0, 1).
    public static func threshold(rate: Float) -> UInt32 {
        let scaled = (Double(1 - rate) * 4_294_967_296).rounded(.down)
        return UInt32(min(max(scaled, 0), 4_294_967_295))
    }
}
