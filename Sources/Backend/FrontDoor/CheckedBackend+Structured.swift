// The front door's checks for reductions, matrix products, convolutions and pooling.

extension CheckedBackend {
    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        let name = "reduce(\(operation.rawValue))"
        try requireOwned([x], name)
        guard x.dtype.isNumeric else {
            throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "expected a numeric dtype")
        }
        guard operation != .mean || x.dtype.isFloatingPoint else {
            throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "mean needs float32")
        }
        let shape = try ShapeRules.reduction(x.shape, axes: axes, keepDimensions: keepDimensions, operation: name).shape
        try requireAllocatable(shape, x.dtype, name)
        if let wide = widening(.reduction, [x]) { return try wide.narrow(reduce(operation, wide(x), axes: axes, keepDimensions: keepDimensions)) }
        return try implementation.reduce(operation, x, axes: axes, keepDimensions: keepDimensions)
    }

    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        let name = operation.rawValue
        try requireOwned([x], name)
        try requireFloat([x], name)
        let resolved = try x.shape.normalizedAxis(axis, operation: name)
        guard x.shape[resolved] > 0 else {
            throw BackendError.invalidArgument(operation: name, reason: "axis \(axis) of \(x.shape) is empty")
        }
        let shape = try ShapeRules.reduction(x.shape, axes: [resolved], keepDimensions: keepDimensions, operation: name).shape
        try requireAllocatable(shape, .int32, name)
        if let wide = widening(.reduction, [x]) { return try indexReduce(operation, wide(x), axis: axis, keepDimensions: keepDimensions) }
        return try implementation.indexReduce(operation, x, axis: axis, keepDimensions: keepDimensions)
    }

    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        try requireOwned([a, b], "matmul")
        try requireFloat([a, b], "matmul")
        let geometry = try ShapeRules.matmul(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        try requireAllocatable(geometry.output, .float32, "matmul")
        if let wide = widening(.matrix, [a, b]) {
            return try wide.narrow(matmul(wide(a), wide(b), transposeA: transposeA, transposeB: transposeB))
        }
        return try implementation.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }

    /// Checks the operands and the descriptor, then runs the backend's convolution.
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try requireOwned([input, kernel], "convolution")
        try requireFloat([input, kernel], "convolution")
        let output = try ShapeRules.convolution(input: input.shape, kernel: kernel.shape, descriptor: descriptor).output
        try requireAllocatable(output, .float32, "convolution")
        if let wide = widening(.convolution, [input, kernel]) {
            return try wide.narrow(convolution(wide(input), kernel: wide(kernel), descriptor: descriptor))
        }
        return try implementation.convolution(input, kernel: kernel, descriptor: descriptor)
    }

    public func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardInput"
        try requireOwned([gradOutput, kernel], name)
        try requireFloat([gradOutput, kernel], name)
        try requireAllocatable(inputShape, .float32, name)
        let output = try ShapeRules.convolution(input: inputShape, kernel: kernel.shape, descriptor: descriptor).output
        try requireGradientShape(gradOutput.shape, output, name)
        if let wide = widening(.convolution, [gradOutput, kernel]) {
            return try wide.narrow(convolutionBackwardInput(
                gradOutput: wide(gradOutput), kernel: wide(kernel), inputShape: inputShape, descriptor: descriptor))
        }
        if !nativeOperations.convolutionBackward {
            return try implementation.decomposedConvolutionBackwardInput(
                gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
        }
        return try implementation.convolutionBackwardInput(
            gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
    }

    public func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let name = "convolutionBackwardKernel"
        try requireOwned([input, gradOutput], name)
        try requireFloat([input, gradOutput], name)
        try requireAllocatable(kernelShape, .float32, name)
        let output = try ShapeRules.convolution(input: input.shape, kernel: kernelShape, descriptor: descriptor).output
        try requireGradientShape(gradOutput.shape, output, name)
        if let wide = widening(.convolution, [input, gradOutput]) {
            return try wide.narrow(convolutionBackwardKernel(
                input: wide(input), gradOutput: wide(gradOutput), kernelShape: kernelShape, descriptor: descriptor))
        }
        if !nativeOperations.convolutionBackward {
            return try implementation.decomposedConvolutionBackwardKernel(
                input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
        }
        return try implementation.convolutionBackwardKernel(
            input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
    }

    /// Checks the input and the descriptor, then runs the backend's pooling (decomposed where it is not native).
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let name = "window(\(operation.rawValue))"
        try requireOwned([x], name)
        try requireFloat([x], name)
        let output = try ShapeRules.window(x.shape, descriptor: descriptor)
        try requireAllocatable(output, .float32, name)
        if let wide = widening(.window, [x]) { return try wide.narrow(window(operation, wide(x), descriptor: descriptor)) }
        if operation == .average, !nativeOperations.averagePooling {
            return try implementation.decomposedAveragePooling(x, descriptor: descriptor)
        }
        return try implementation.window(operation, x, descriptor: descriptor)
    }

    public func windowBackward(
        _ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor
    ) throws -> Buffer {
        let name = "windowBackward(\(operation.rawValue))"
        try requireOwned([input, gradOutput], name)
        try requireFloat([input, gradOutput], name)
        let output = try ShapeRules.window(input.shape, descriptor: descriptor)
        try requireGradientShape(gradOutput.shape, output, name)
        try requireAllocatable(input.shape, .float32, name)
        if let wide = widening(.window, [input, gradOutput]) {
            return try wide.narrow(windowBackward(operation, input: wide(input), gradOutput: wide(gradOutput), descriptor: descriptor))
        }
        if operation == .average, !nativeOperations.averagePooling {
            return try implementation.decomposedAveragePoolingBackward(input: input, gradOutput: gradOutput, descriptor: descriptor)
        }
        return try implementation.windowBackward(operation, input: input, gradOutput: gradOutput, descriptor: descriptor)
    }

    /// Throws unless every buffer is `float32`, or every one is `bfloat16`.
    func requireFloat(_ buffers: [Buffer], _ operation: String) throws {
        // The set of allowed dtypes is built only to name them in the error.
        for buffer in buffers where !buffer.dtype.isFloatingPoint { try ShapeRules.requireDType(buffer, [.float32, .bfloat16], operation: operation) }
        for buffer in buffers.dropFirst() { try ShapeRules.requireSameDType(buffers[0], buffer, operation: operation) }
    }

    /// Throws unless the normalisation's operands are floats of one dtype, or each of its data
    /// operands (data, and backward its gradient) `bfloat16` or `float32` with every other
    /// operand `float32` (mixed precision).
    func requireNormalizationDTypes(data: [Buffer], parameters: [Buffer], _ operation: String) throws {
        try requireFloat(parameters, operation)
        for buffer in data where buffer.dtype != parameters[0].dtype {
            try ShapeRules.requireDType(buffer, [.float32, .bfloat16], operation: operation)
            guard buffer.dtype == .bfloat16, parameters[0].dtype == .float32 else {
                throw BackendError.unsupportedDType(
                    operation: operation, dtype: buffer.dtype,
                    reason: "the data is \(buffer.dtype) but the parameters are \(parameters[0].dtype); they must match, "
                        + "or the data be bfloat16 with float32 parameters and statistics")
            }
        }
    }

    /// Throws unless a gradient has the shape of the forward op's output.
    func requireGradientShape(_ given: Shape, _ expected: Shape, _ operation: String) throws {
        guard given == expected else {
            throw BackendError.shapeMismatch(
                operation: operation, reason: "the output gradient is \(given) but the forward output is \(expected)")
        }
    }
}
