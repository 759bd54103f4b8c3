#if Vulkan
import Backend

// Batch and layer normalisation as two passes each: per-row statistics (or gradient sums)
// over the normalised axes, read in place, then one elementwise pass. Operands outside what the
// shaders handle fall back to the default compositions.
extension VulkanBackend {
    public func normalize(
        _ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationResult {
        let axes = try ShapeRules.reduction(x.shape, axes: descriptor.axes, keepDimensions: true, operation: "normalize")
        guard [x, scale, offset].allSatisfy({ $0.dtype == .float32 }), x.shape.elementCount > 0,
            (try? Shape.broadcast(Shape.broadcast(x.shape, scale.shape, operation: ""), offset.shape, operation: "")) == x.shape,
            let view = RowView(x.shape, rowsOver: axes.axes)
        else {
            return try composedNormalize(x, scale: scale, offset: offset, descriptor: descriptor)
        }
        let mean = try makeBuffer(axes.shape, .float32)
        let inverseStd = try makeBuffer(axes.shape, .float32)
        try run(
            "moments", constants: [view.length <= 64 ? 1 : 0], inputs: [x], outputs: [mean, inverseStd],
            push: view.push(scalar: descriptor.epsilon), groups: view.length <= 64 ? elementGroups(view.rows) : rowGroups(view.rows))
        let output = try makeBuffer(x.shape, .float32)
        let count = x.shape.elementCount
        let layout = StridedLayout(x.shape, strides: [mean, scale, offset].map { $0.shape.broadcastStrides(to: x.shape) })
        try run(
            "normalize_apply", inputs: [x, mean, inverseStd, scale, offset], outputs: [output],
            push: [UInt32(count)] + layout.pushWords(operation: "normalize"), groups: elementGroups(count))
        return NormalizationResult(output: output, mean: mean, inverseStd: inverseStd)
    }

    public func normalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer,
        descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients {
        let axes = try ShapeRules.reduction(input.shape, axes: descriptor.axes, keepDimensions: true, operation: "normalizeBackward")
        // The shaders need a scale that is constant along each normalised row and laid out
        // like the statistics (batch norm); other layouts (layer norm's per-feature scale) compose.
        guard [gradOutput, input, scale, mean, inverseStd].allSatisfy({ $0.dtype == .float32 }),
            gradOutput.shape == input.shape, input.shape.elementCount > 0,
            [scale, mean, inverseStd].allSatisfy({ $0.shape == axes.shape }),
            let view = RowView(input.shape, rowsOver: axes.axes)
        else {
            return try composedNormalizeBackward(
                gradOutput: gradOutput, input: input, scale: scale, mean: mean, inverseStd: inverseStd, descriptor: descriptor)
        }
        let gradOffset = try makeBuffer(scale.shape, .float32)
        let gradScale = try makeBuffer(scale.shape, .float32)
        try run(
            "normalize_sums", constants: [view.length <= 64 ? 1 : 0], inputs: [input, gradOutput, mean, inverseStd],
            outputs: [gradOffset, gradScale], push: view.push(),
            groups: view.length <= 64 ? elementGroups(view.rows) : rowGroups(view.rows))
        let gradInput = try makeBuffer(input.shape, .float32)
        let count = input.shape.elementCount
        let layout = StridedLayout(input.shape, strides: [input.shape.strides, axes.shape.broadcastStrides(to: input.shape)])
        try run(
            "normalize_backward_apply", inputs: [input, gradOutput, mean, inverseStd, scale, gradOffset, gradScale], outputs: [gradInput],
            push: [UInt32(count)] + layout.pushWords(operation: "normalizeBackward") + [(1 / Float(view.length)).bitPattern],
            groups: elementGroups(count))
        return NormalizationGradients(input: gradInput, scale: gradScale, offset: gradOffset)
    }
}
#endif
