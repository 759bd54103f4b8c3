// The front door's checks for the fused ops. A fused op reaches the implementation's override
// if it has one, else the default composition, which runs on the implementation's primitives
// with operands the door has already checked.

extension CheckedBackend {
    public func dense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer {
        let operands = [x, weight] + (bias.map { [$0] } ?? [])
        try requireOwned(operands, "dense")
        try requireFloat(operands, "dense")
        guard x.shape.rank >= 1, weight.shape.rank == 2, x.shape[x.shape.rank - 1] == weight.shape[0] else {
            throw BackendError.shapeMismatch(
                operation: "dense", reason: "input \(x.shape) needs its last dimension to equal the weight's first, weight is \(weight.shape)")
        }
        let output = Shape(Array(x.shape.dimensions.dropLast()) + [weight.shape[1]])
        try requireBroadcast(bias?.shape, to: output, "dense")
        try requireAllocatable(output, .float32, "dense")
        if let wide = widening(.matrix, operands) {
            return try wide.narrow(dense(wide(x), weight: wide(weight), bias: wide(bias), activation: activation))
        }
        return try implementation.dense(x, weight: weight, bias: bias, activation: activation)
    }

    public func convolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        let operands = [input, kernel] + (bias.map { [$0] } ?? [])
        try requireOwned(operands, "convolution")
        try requireFloat(operands, "convolution")
        let output = try ShapeRules.convolution(input: input.shape, kernel: kernel.shape, descriptor: descriptor).output
        try requireBroadcast(bias?.shape, to: output, "convolution")
        try requireAllocatable(output, .float32, "convolution")
        if let wide = widening(.convolution, operands) {
            return try wide.narrow(convolution(wide(input), kernel: wide(kernel), bias: wide(bias), descriptor: descriptor, activation: activation))
        }
        return try implementation.convolution(input, kernel: kernel, bias: bias, descriptor: descriptor, activation: activation)
    }

    public func transposedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, outputShape: Shape, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer {
        let name = "transposedConvolution"
        let operands = [input, kernel] + (bias.map { [$0] } ?? [])
        try requireOwned(operands, name)
        try requireFloat(operands, name)
        try requireAllocatable(outputShape, .float32, name)
        let forward = try ShapeRules.convolution(input: outputShape, kernel: kernel.shape, descriptor: descriptor).output
        guard forward == input.shape else {
            throw BackendError.shapeMismatch(
                operation: name,
                reason: "the convolution from \(outputShape) by kernel \(kernel.shape) gives \(forward), but the input is \(input.shape)")
        }
        try requireBroadcast(bias?.shape, to: outputShape, name)
        if let wide = widening(.convolution, operands) {
            return try wide.narrow(transposedConvolution(
                wide(input), kernel: wide(kernel), bias: wide(bias), outputShape: outputShape, descriptor: descriptor, activation: activation))
        }
        return try implementation.transposedConvolution(
            input, kernel: kernel, bias: bias, outputShape: outputShape, descriptor: descriptor, activation: activation)
    }

    public func attention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult {
        let weights = try requireAttentionOperands(query: query, key: key, value: value, descriptor: descriptor, "attention")
        if let mask {
            try requireOwned([mask], "attention")
            guard mask.dtype == query.dtype || mask.dtype == .bool else {
                throw BackendError.unsupportedDType(
                    operation: "attention", dtype: mask.dtype, reason: "the mask must be \(query.dtype) like the query (added) or bool (kept where true)")
            }
            try requireBroadcast(mask.shape, to: weights, "attention mask")
        }
        try requireAllocatable(weights, .float32, "attention")
        if let wide = widening(.attention, [query, key, value]) {
            return try wide.narrow(attention(query: wide(query), key: wide(key), value: wide(value), mask: wide(mask), descriptor: descriptor))
        }
        return try implementation.attention(query: query, key: key, value: value, mask: mask, descriptor: descriptor)
    }

    public func attentionBackward(
        gradOutput: Buffer, query: Buffer, key: Buffer, value: Buffer, weights: Buffer, descriptor: AttentionDescriptor
    ) throws -> AttentionGradients {
        let name = "attentionBackward"
        let weightsShape = try requireAttentionOperands(query: query, key: key, value: value, descriptor: descriptor, name)
        try requireOwned([gradOutput, weights], name)
        try requireFloat([gradOutput, weights], name)
        guard weights.shape == weightsShape else {
            throw BackendError.shapeMismatch(operation: name, reason: "the weights are \(weights.shape) but the operands give \(weightsShape)")
        }
        var output = weightsShape.dimensions
        output[output.count - 1] = value.shape[value.shape.rank - 1]
        try requireGradientShape(gradOutput.shape, Shape(output), name)
        if let wide = widening(.attention, [gradOutput, query, key, value, weights]) {
            return try wide.narrow(attentionBackward(
                gradOutput: wide(gradOutput), query: wide(query), key: wide(key), value: wide(value), weights: wide(weights), descriptor: descriptor))
        }
        return try implementation.attentionBackward(
            gradOutput: gradOutput, query: query, key: key, value: value, weights: weights, descriptor: descriptor)
    }

    /// Checks attention's query, key and value and returns the weights' shape `[batch..., queries, keys]`.
    func requireAttentionOperands(query: Buffer, key: Buffer, value: Buffer, descriptor: AttentionDescriptor, _ operation: String) throws -> Shape {
        try requireOwned([query, key, value], operation)
        try requireFloat([query, key, value], operation)
        let rank = query.shape.rank
        guard rank >= 2, key.shape.rank == rank, value.shape.rank == rank,
            query.shape.dimensions.dropLast(2) == key.shape.dimensions.dropLast(2),
            key.shape.dimensions.dropLast(2) == value.shape.dimensions.dropLast(2)
        else {
            throw BackendError.shapeMismatch(
                operation: operation,
                reason: "query \(query.shape), key \(key.shape) and value \(value.shape) need one rank ≥ 2 and the same leading (batch) axes")
        }
        guard query.shape[rank - 1] == key.shape[rank - 1] else {
            throw BackendError.shapeMismatch(
                operation: operation, reason: "query \(query.shape) and key \(key.shape) need the same last (feature) dimension")
        }
        guard key.shape[rank - 2] == value.shape[rank - 2] else {
            throw BackendError.shapeMismatch(operation: operation, reason: "key \(key.shape) and value \(value.shape) need the same number of positions")
        }
        guard descriptor.scale.isFinite else {
            throw BackendError.invalidArgument(operation: operation, reason: "the scale must be finite, got \(descriptor.scale)")
        }
        if let dropout = descriptor.dropout, !(dropout.rate >= 0 && dropout.rate < 1) {
            throw BackendError.invalidArgument(operation: operation, reason: "the dropout rate must be in [0, 1), got \(dropout.rate)")
        }
        return Shape(query.shape.dimensions.dropLast() + [key.shape[rank - 2]])
    }

    public func softmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try requireRowOperand(x, axis: axis, "softmax")
        if let wide = widening(.rows, [x]) { return try wide.narrow(softmax(wide(x), axis: axis)) }
        return try implementation.softmax(x, axis: axis)
    }

    public func logSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try requireRowOperand(x, axis: axis, "logSoftmax")
        if let wide = widening(.rows, [x]) { return try wide.narrow(logSoftmax(wide(x), axis: axis)) }
        return try implementation.logSoftmax(x, axis: axis)
    }

    public func softmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer {
        try requireCrossEntropyOperands(logits: logits, labels: labels, axis: axis, "softmaxCrossEntropy")
        if let wide = widening(.rows, [logits, labels]) {
            return try wide.narrow(softmaxCrossEntropy(logits: wide(logits), labels: wide(labels), axis: axis))
        }
        return try implementation.softmaxCrossEntropy(logits: logits, labels: labels, axis: axis)
    }

    public func softmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer {
        let name = "softmaxCrossEntropyBackward"
        let lossShape = try requireCrossEntropyOperands(logits: logits, labels: labels, axis: axis, name)
        try requireOwned([gradLoss], name)
        try requireFloat([gradLoss], name)
        try requireGradientShape(gradLoss.shape, lossShape, name)
        if let wide = widening(.rows, [logits, labels, gradLoss]) {
            return try wide.narrow(softmaxCrossEntropyBackward(logits: wide(logits), labels: wide(labels), gradLoss: wide(gradLoss), axis: axis))
        }
        return try implementation.softmaxCrossEntropyBackward(logits: logits, labels: labels, gradLoss: gradLoss, axis: axis)
    }

    public func activationBackward(_ activation: FusedActivation, output: Buffer, gradOutput: Buffer) throws -> Buffer {
        let name = "activationBackward(\(activation.rawValue))"
        try requireOwned([output, gradOutput], name)
        try requireFloat([output, gradOutput], name)
        try requireGradientShape(gradOutput.shape, output.shape, name)
        if let wide = widening(.elementwise, [output, gradOutput]) {
            return try wide.narrow(activationBackward(activation, output: wide(output), gradOutput: wide(gradOutput)))
        }
        return try implementation.activationBackward(activation, output: output, gradOutput: gradOutput)
    }

    public func elementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer {
        try requireOwned(inputs, "elementwise")
        guard inputs.count == program.inputCount else {
            throw BackendError.invalidArgument(
                operation: "elementwise", reason: "the program reads \(program.inputCount) inputs, given \(inputs.count)")
        }
        try requireFloat(inputs, "elementwise")
        let shape = try inputs.dropFirst().reduce(inputs[0].shape) { try Shape.broadcast($0, $1.shape, operation: "elementwise") }
        for input in inputs where input.shape != shape && input.shape.elementCount != 1 {
            throw BackendError.shapeMismatch(
                operation: "elementwise", reason: "every input must have the result's shape \(shape) or a single element, got \(input.shape)")
        }
        try requireAllocatable(shape, inputs[0].dtype, "elementwise")
        // bfloat16 rounds after every step, as the primitives chained do: they run one by one, through this door.
        if inputs[0].dtype == .bfloat16 { return try composedElementwise(program, inputs) }
        return try implementation.elementwise(program, inputs)
    }

    public func normalize(
        _ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationResult {
        try requireOwned([x, scale, offset], "normalize")
        try requireNormalizationDTypes(data: [x], parameters: [scale, offset], "normalize")
        try requireNormalization(x.shape, descriptor, "normalize")
        try requireBroadcast(scale.shape, to: x.shape, "normalize")
        try requireBroadcast(offset.shape, to: x.shape, "normalize")
        try requireAllocatable(x.shape, .float32, "normalize")
        if let dtype = descriptor.outputDType, dtype != scale.dtype {
            guard dtype == .bfloat16, scale.dtype == .float32 else {
                throw BackendError.invalidArgument(
                    operation: "normalize",
                    reason: "the output dtype may be the parameters' (\(scale.dtype)) or bfloat16 with float32 parameters, got \(dtype)")
            }
            if !nativeOperations.bfloat16.contains(.normalization) {
                return try normalizing(descriptor) { try normalize(x, scale: scale, offset: offset, descriptor: $0) }
            }
        } else if descriptor.outputDType != nil {
            return try normalize(x, scale: scale, offset: offset, descriptor: descriptor.computingOutput)
        }
        if let wide = widening(.normalization, [x, scale, offset]) {
            if x.dtype != scale.dtype {  // mixed: float32 throughout once the data is widened
                return try implementation.normalize(wide(x), scale: scale, offset: offset, descriptor: descriptor)
            }
            return try wide.narrow(normalize(wide(x), scale: wide(scale), offset: wide(offset), descriptor: descriptor))
        }
        return try implementation.normalize(x, scale: scale, offset: offset, descriptor: descriptor)
    }

    public func normalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer,
        descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients {
        let name = "normalizeBackward"
        let operands = [gradOutput, input, scale, mean, inverseStd]
        try requireOwned(operands, name)
        try requireNormalizationDTypes(data: [input, gradOutput], parameters: [scale, mean, inverseStd], name)
        let statistics = try requireNormalization(input.shape, descriptor, name)
        try requireGradientShape(gradOutput.shape, input.shape, name)
        try requireBroadcast(scale.shape, to: input.shape, name)
        for buffer in [mean, inverseStd] where buffer.shape != statistics {
            throw BackendError.shapeMismatch(
                operation: name, reason: "mean and inverseStd must have the statistics' shape \(statistics), got \(buffer.shape)")
        }
        try requireAllocatable(input.shape, .float32, name)
        if let wide = widening(.normalization, operands) {
            if input.dtype != scale.dtype || gradOutput.dtype != scale.dtype {  // mixed: only the input's gradient is rounded to the input's dtype
                let gradients = try implementation.normalizeBackward(
                    gradOutput: wide(gradOutput), input: wide(input), scale: scale, mean: mean, inverseStd: inverseStd, descriptor: descriptor)
                return NormalizationGradients(input: try cast(gradients.input, to: input.dtype), scale: gradients.scale, offset: gradients.offset)
            }
            return try wide.narrow(normalizeBackward(
                gradOutput: wide(gradOutput), input: wide(input), scale: wide(scale), mean: wide(mean), inverseStd: wide(inverseStd),
                descriptor: descriptor))
        }
        return try implementation.normalizeBackward(
            gradOutput: gradOutput, input: input, scale: scale, mean: mean, inverseStd: inverseStd, descriptor: descriptor)
    }

    public func dropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult {
        try requireOwned([x], "dropout")
        try requireFloat([x], "dropout")
        guard rate >= 0, rate < 1 else {
            throw BackendError.invalidArgument(operation: "dropout", reason: "rate must be in [0, 1), got \(rate)")
        }
        try requireValidShape(noiseShape, "dropout")
        try requireBroadcast(noiseShape, to: x.shape, "dropout")
        try requireAllocatable(x.shape, .float32, "dropout")
        if let wide = widening(.dropout, [x]) {
            return try wide.narrow(dropout(wide(x), rate: rate, key: key, offset: offset, noiseShape: noiseShape))
        }
        return try implementation.dropout(x, rate: rate, key: key, offset: offset, noiseShape: noiseShape)
    }

    public func dropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer {
        try requireOwned([gradient, mask], "dropoutBackward")
        try requireFloat([gradient], "dropoutBackward")
        try ShapeRules.requireDType(mask, [.bool], operation: "dropoutBackward")
        guard rate >= 0, rate < 1 else {
            throw BackendError.invalidArgument(operation: "dropoutBackward", reason: "rate must be in [0, 1), got \(rate)")
        }
        try requireBroadcast(mask.shape, to: gradient.shape, "dropoutBackward")
        if let wide = widening(.dropout, [gradient]) {
            return try wide.narrow(dropoutBackward(wide(gradient), mask: mask, rate: rate))
        }
        return try implementation.dropoutBackward(gradient, mask: mask, rate: rate)
    }

    public func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        try requireOptimizerOperands([parameter, gradient, velocity], "momentumUpdate")
        try requireFinite(["learningRate": step.learningRate, "momentum": step.momentum], "momentumUpdate")
        if let wide = widening(.optimizer, [parameter]) {
            let result = try momentumUpdate(parameter: wide(parameter), gradient: wide(gradient), velocity: wide(velocity), step: step)
            return (try wide.narrow(result.parameter), try wide.narrow(result.velocity))
        }
        return try implementation.momentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
    }

    public func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        try requireOptimizerOperands([parameter, gradient, firstMoment, secondMoment], "adamUpdate")
        try requireFinite(
            ["learningRate": step.learningRate, "beta1": step.beta1, "beta2": step.beta2, "epsilon": step.epsilon,
             "weightDecay": step.weightDecay], "adamUpdate")
        guard step.step >= 1 else {
            throw BackendError.invalidArgument(operation: "adamUpdate", reason: "step must be ≥ 1, got \(step.step)")
        }
        if let wide = widening(.optimizer, [parameter]) {
            let result = try adamUpdate(
                parameter: wide(parameter), gradient: wide(gradient), firstMoment: wide(firstMoment), secondMoment: wide(secondMoment), step: step)
            return (try wide.narrow(result.parameter), try wide.narrow(result.firstMoment), try wide.narrow(result.secondMoment))
        }
        return try implementation.adamUpdate(
            parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
    }

    // MARK: Checks shared by the fused ops

    func requireBroadcast(_ shape: Shape?, to target: Shape, _ operation: String) throws {
        guard let shape else { return }
        guard (try? Shape.broadcast(shape, target, operation: operation)) == target else {
            throw BackendError.shapeMismatch(operation: operation, reason: "\(shape) does not broadcast to \(target)")
        }
    }

    func requireRowOperand(_ x: Buffer, axis: Int, _ operation: String) throws {
        try requireOwned([x], operation)
        try requireFloat([x], operation)
        _ = try x.shape.normalizedAxis(axis, operation: operation)
        try requireAllocatable(x.shape, .float32, operation)
    }

    /// Checks logits and labels and returns the loss's shape.
    @discardableResult
    func requireCrossEntropyOperands(logits: Buffer, labels: Buffer, axis: Int, _ operation: String) throws -> Shape {
        try requireOwned([logits, labels], operation)
        try requireFloat([logits, labels], operation)
        guard logits.shape == labels.shape else {
            throw BackendError.shapeMismatch(
                operation: operation, reason: "operands must have one shape, got \(logits.shape) and \(labels.shape)")
        }
        try requireAllocatable(logits.shape, .float32, operation)
        return try ShapeRules.reduction(logits.shape, axes: [axis], keepDimensions: false, operation: operation).shape
    }

    /// Checks the normalisation axes and epsilon and returns the statistics' shape.
    @discardableResult
    func requireNormalization(_ shape: Shape, _ descriptor: NormalizationDescriptor, _ operation: String) throws -> Shape {
        guard descriptor.epsilon.isFinite, descriptor.epsilon >= 0 else {
            throw BackendError.invalidArgument(operation: operation, reason: "epsilon must be finite and ≥ 0, got \(descriptor.epsilon)")
        }
        return try ShapeRules.reduction(shape, axes: descriptor.axes, keepDimensions: true, operation: operation).shape
    }

    func requireOptimizerOperands(_ operands: [Buffer], _ operation: String) throws {
        try requireOwned(operands, operation)
        try requireFloat(operands, operation)
        for operand in operands where operand.shape != operands[0].shape {
            throw BackendError.shapeMismatch(
                operation: operation,
                reason: "parameter, gradient and state must share one shape, got \(operands.map(\.shape.description).joined(separator: ", "))")
        }
    }

    func requireFinite(_ values: KeyValuePairs<String, Float>, _ operation: String) throws {
        for (name, value) in values where !value.isFinite {
            throw BackendError.invalidArgument(operation: operation, reason: "\(name) must be finite, got \(value)")
        }
    }
}
