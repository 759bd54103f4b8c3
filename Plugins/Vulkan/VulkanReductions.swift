#if Vulkan
import Backend

extension VulkanBackend {
    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        let name = "reduce(\(operation.rawValue))"
        let (shape, resolved) = try ShapeRules.reduction(x.shape, axes: axes, keepDimensions: keepDimensions, operation: name)
        guard x.dtype != .bool else {
            throw BackendError.unsupportedDType(operation: name, dtype: .bool, reason: "expected a numeric dtype")
        }
        guard operation != .mean || x.dtype == .float32 else {
            throw BackendError.unsupportedDType(operation: name, dtype: x.dtype, reason: "mean needs float32")
        }
        let (rows, length) = try rowsWithTrailing(x, axes: resolved, name)
        let output = try makeBuffer(shape, x.dtype)
        guard shape.elementCount > 0 else { return output }
        let code = UInt32(ReductionOperation.allCases.firstIndex(of: operation)!)
        let perInvocation = length <= 64
        try run(
            "reduce", constants: [code, x.dtype.shaderKind, perInvocation ? 1 : 0], inputs: [rows], outputs: [output],
            push: [UInt32(shape.elementCount), UInt32(length), (1 / Float(length)).bitPattern],
            groups: perInvocation ? elementGroups(shape.elementCount) : rowGroups(shape.elementCount))
        return output
    }

    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        let name = operation.rawValue
        let resolved = try x.shape.normalizedAxis(axis, operation: name)
        guard x.shape[resolved] > 0 else {
            throw BackendError.invalidArgument(operation: name, reason: "axis \(axis) of \(x.shape) is empty")
        }
        let shape = try ShapeRules.reduction(x.shape, axes: [resolved], keepDimensions: keepDimensions, operation: name).shape
        let values = x.dtype == .float32 ? x : try cast(x, to: .float32)
        let (rows, length) = try rowsWithTrailing(values, axes: [resolved], name)
        let output = try makeBuffer(shape, .int32)
        guard shape.elementCount > 0 else { return output }
        let perInvocation = length <= 64
        try run(
            "argreduce", constants: [operation == .argmax ? 0 : 1, perInvocation ? 1 : 0], inputs: [rows], outputs: [output],
            push: [UInt32(shape.elementCount), UInt32(length)],
            groups: perInvocation ? elementGroups(shape.elementCount) : rowGroups(shape.elementCount))
        return output
    }

    /// `x` laid out as contiguous rows of the elements of `axes` (kept axes first, in order),
    /// permuting only when the reduced axes are not already the trailing ones.
    private func rowsWithTrailing(_ x: Buffer, axes: [Int], _ name: String) throws -> (Buffer, length: Int) {
        let kept = (0..<x.shape.rank).filter { !axes.contains($0) }
        let length = axes.reduce(1) { $0 * x.shape[$1] }
        // Axes of size 1 do not change the memory order, so they do not force a permutation.
        let order = (kept + axes).filter { x.shape[$0] != 1 }
        if order == order.sorted() { return (x, length) }
        return (try permute(x, kept + axes), length)
    }
}
#endif
