#if Vulkan
import Backend

extension VulkanBackend {
    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        let name = "reduce(\(operation.rawValue))"
        let (shape, resolved) = try ShapeRules.reduction(x.shape, axes: axes, keepDimensions: keepDimensions, operation: name)
        let (input, view) = try rowView(x, axes: resolved)
        let output = try makeBuffer(shape, x.dtype)
        guard shape.elementCount > 0 else { return output }
        let code = UInt32(ReductionOperation.allCases.firstIndex(of: operation)!)
        // Few long rows are split into runs of ~4,096 elements, one workgroup each, whose partial
        // results a second pass combines (a mean sums first and scales once).
        let chunks = view.rows < 256 && view.length >= 32_768 ? Swift.min((view.length + 4_095) / 4_096, 1_024) : 1
        if chunks > 1 {
            let partials = try makeBuffer([view.rows, chunks], x.dtype)
            let partialCode = operation == .mean ? UInt32(ReductionOperation.allCases.firstIndex(of: .sum)!) : code
            try run(
                "reduce", constants: [partialCode, x.dtype.shaderKind, 0], inputs: [input], outputs: [partials],
                push: view.push(chunks: chunks), groups: rowGroups(view.rows * chunks))
            let second = RowView(partials.shape, rowsOver: [1])!
            try run(
                "reduce", constants: [code, x.dtype.shaderKind, chunks <= 64 ? 1 : 0], inputs: [partials], outputs: [output],
                push: second.push(scalar: 1 / Float(view.length)),
                groups: chunks <= 64 ? elementGroups(view.rows) : rowGroups(view.rows))
            return output
        }
        let perInvocation = view.length <= 64
        try run(
            "reduce", constants: [code, x.dtype.shaderKind, perInvocation ? 1 : 0], inputs: [input], outputs: [output],
            push: view.push(scalar: 1 / Float(view.length)),
            groups: perInvocation ? elementGroups(view.rows) : rowGroups(view.rows))
        return output
    }

    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        let name = operation.rawValue
        let resolved = try x.shape.normalizedAxis(axis, operation: name)
        let shape = try ShapeRules.reduction(x.shape, axes: [resolved], keepDimensions: keepDimensions, operation: name).shape
        let (input, view) = try rowView(x, axes: [resolved])
        let output = try makeBuffer(shape, .int32)
        guard shape.elementCount > 0 else { return output }
        let perInvocation = view.length <= 64
        try run(
            "argreduce", constants: [operation == .argmax ? 0 : 1, perInvocation ? 1 : 0], inputs: [input], outputs: [output],
            push: view.push(), groups: perInvocation ? elementGroups(view.rows) : rowGroups(view.rows))
        return output
    }

    /// `x` seen as rows of the elements of `axes`, read in place when the view fits the shader
    /// (see ``RowView``), else after one permutation that makes the rows contiguous.
    func rowView(_ x: Buffer, axes: [Int]) throws -> (Buffer, RowView) {
        if let view = RowView(x.shape, rowsOver: axes) { return (x, view) }
        let kept = (0..<x.shape.rank).filter { !axes.contains($0) }
        let permuted = try permute(x, kept + axes)
        let trailing = Array(kept.count..<x.shape.rank)
        return (permuted, RowView(permuted.shape, rowsOver: trailing)!)
    }
}
#endif
