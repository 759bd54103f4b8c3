#if Vulkan
import Backend

// Fused ops as single shaders: the optimizer steps in one pass, dense layers and convolutions
// with bias and activation in the GEMM's epilogue, and the softmax family along contiguous
// rows (normalisation and dropout have their own files). Operands outside what a shader
// handles fall back to the default compositions.
extension VulkanBackend {
    public func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        let operands = [parameter, gradient, firstMoment, secondMoment]
        guard step.step >= 1, sameFloatShape(operands) else {
            return try composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        }
        let outputs = try (0..<3).map { _ in try makeBuffer(parameter.shape, .float32) }
        let count = parameter.shape.elementCount
        if count > 0 {
            let scalars = [
                step.beta1, step.beta2, step.epsilon, step.learningRate, step.weightDecay,
                1 / step.firstMomentCorrection, 1 / step.secondMomentCorrection,
            ]
            try run("adam", inputs: operands, outputs: outputs, push: [UInt32(count)] + scalars.map(\.bitPattern), groups: elementGroups(count))
        }
        return (outputs[0], outputs[1], outputs[2])
    }

    public func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        let operands = [parameter, gradient, velocity]
        guard sameFloatShape(operands) else {
            return try composedMomentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
        }
        let outputs = try (0..<2).map { _ in try makeBuffer(parameter.shape, .float32) }
        let count = parameter.shape.elementCount
        if count > 0 {
            try run(
                "momentum", inputs: operands, outputs: outputs,
                push: [UInt32(count), step.momentum.bitPattern, step.learningRate.bitPattern, step.nesterov ? 1 : 0],
                groups: elementGroups(count))
        }
        return (outputs[0], outputs[1])
    }

    public func dense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer {
        guard x.shape.rank >= 2, weight.shape.rank == 2, x.shape[x.shape.rank - 1] == weight.shape[0],
            x.dtype == .float32, weight.dtype == .float32, bias.map({ $0.shape == [weight.shape[1]] && $0.dtype == .float32 }) ?? true
        else {
            return try composedDense(x, weight: weight, bias: bias, activation: activation)
        }
        // Leading axes of x flatten into the rows of one matrix product.
        let (k, n) = (weight.shape[0], weight.shape[1])
        let m = x.shape.elementCount / Swift.max(k, 1)
        let output = try makeBuffer(Shape(x.shape.dimensions.dropLast() + [n]), .float32)
        try gemm(
            m: m, n: n, k: k, batch: 1, x, MatrixView(rowStride: k, columnStride: 1), weight, MatrixView(rowStride: n, columnStride: 1),
            output, MatrixView(rowStride: n, columnStride: 1), bias: bias, activation: activation)
        return output
    }

    public func convolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor, activation: FusedActivation
    ) throws -> Buffer {
        let outChannels = kernel.shape.dimensions.last ?? 0
        guard bias.map({ $0.shape == [outChannels] && $0.dtype == .float32 }) ?? true else {
            return try composedConvolution(input, kernel: kernel, bias: bias, descriptor: descriptor, activation: activation)
        }
        return try convolution(input, kernel: kernel, descriptor: descriptor, bias: bias, activation: activation)
    }

    public func softmax(_ x: Buffer, axis: Int) throws -> Buffer {
        guard let (rows, length) = try contiguousRows(x, axis: axis, "softmax") else { return try composedSoftmax(x, axis: axis) }
        return try softmaxRows(x, rows: rows, length: length, logarithm: false)
    }

    public func logSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        guard let (rows, length) = try contiguousRows(x, axis: axis, "logSoftmax") else { return try composedLogSoftmax(x, axis: axis) }
        return try softmaxRows(x, rows: rows, length: length, logarithm: true)
    }

    public func softmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer {
        // An empty class axis takes the composition: the shader has no element to write a row's loss from.
        guard logits.shape == labels.shape, labels.dtype == .float32,
            let (rows, length) = try contiguousRows(logits, axis: axis, "softmaxCrossEntropy"), length > 0
        else {
            return try composedSoftmaxCrossEntropy(logits: logits, labels: labels, axis: axis)
        }
        let shape = try ShapeRules.reduction(logits.shape, axes: [axis], keepDimensions: false, operation: "softmaxCrossEntropy").shape
        let loss = try makeBuffer(shape, .float32)
        guard rows > 0 else { return loss }
        try run(
            "cross_entropy", constants: [length <= 64 ? 1 : 0], inputs: [logits, labels], outputs: [loss],
            push: [UInt32(rows), UInt32(length)], groups: rowGrid(rows, length))
        return loss
    }

    public func softmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer {
        guard logits.shape == labels.shape, labels.dtype == .float32, gradLoss.dtype == .float32,
            let (rows, length) = try contiguousRows(logits, axis: axis, "softmaxCrossEntropyBackward"),
            gradLoss.shape.elementCount == rows
        else {
            return try composedSoftmaxCrossEntropyBackward(logits: logits, labels: labels, gradLoss: gradLoss, axis: axis)
        }
        let gradient = try makeBuffer(logits.shape, .float32)
        guard rows > 0, length > 0 else { return gradient }
        try run(
            "cross_entropy_backward", constants: [length <= 64 ? 1 : 0], inputs: [logits, labels, gradLoss], outputs: [gradient],
            push: [UInt32(rows), UInt32(length)], groups: rowGrid(rows, length))
        return gradient
    }

    private func softmaxRows(_ x: Buffer, rows: Int, length: Int, logarithm: Bool) throws -> Buffer {
        let output = try makeBuffer(x.shape, .float32)
        guard rows > 0, length > 0 else { return output }
        try run(
            "softmax", constants: [logarithm ? 1 : 0, length <= 64 ? 1 : 0], inputs: [x], outputs: [output],
            push: [UInt32(rows), UInt32(length)], groups: rowGrid(rows, length))
        return output
    }

    /// Short rows take one invocation each, long rows a workgroup each (see Shaders/rows.glsl).
    private func rowGrid(_ rows: Int, _ length: Int) -> (UInt32, UInt32, UInt32) {
        length <= 64 ? elementGroups(rows) : rowGroups(rows)
    }

    /// `x` as `[rows, length]` rows along `axis` when that axis is contiguous in memory (every
    /// later axis has size 1) and `x` is float32; `nil` otherwise.
    private func contiguousRows(_ x: Buffer, axis: Int, _ name: String) throws -> (Int, Int)? {
        let resolved = try x.shape.normalizedAxis(axis, operation: name)
        guard x.dtype == .float32, x.shape.dimensions[(resolved + 1)...].allSatisfy({ $0 == 1 }) else { return nil }
        let length = x.shape[resolved]
        return (length == 0 ? 0 : x.shape.elementCount / length, length)
    }

    private func sameFloatShape(_ buffers: [Buffer]) -> Bool {
        buffers.allSatisfy { $0.shape == buffers[0].shape && $0.dtype == .float32 }
    }
}
#endif
