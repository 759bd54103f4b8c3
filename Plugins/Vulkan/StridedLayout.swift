#if Vulkan
import Backend

/// The index space of a strided kernel: dimensions and, per operand, an element stride per
/// dimension (0 where the operand broadcasts). Axes of size 1 are dropped and neighbouring
/// axes that every operand walks contiguously are merged, so most layouts need one to three
/// axes and all fit the shaders' `MAX_RANK`.
struct StridedLayout {
    static let maximumRank = 6

    private(set) var dimensions: [Int]
    private(set) var strides: [[Int]]

    init(_ shape: Shape, strides operandStrides: [[Int]]) {
        var dimensions: [Int] = []
        var strides = [[Int]](repeating: [], count: operandStrides.count)
        for axis in 0..<shape.rank where shape[axis] != 1 {
            if let last = dimensions.indices.last,
                operandStrides.indices.allSatisfy({ strides[$0][last] == operandStrides[$0][axis] * shape[axis] })
            {
                dimensions[last] *= shape[axis]
                for operand in strides.indices { strides[operand][last] = operandStrides[operand][axis] }
                continue
            }
            dimensions.append(shape[axis])
            for operand in strides.indices { strides[operand].append(operandStrides[operand][axis]) }
        }
        self.dimensions = dimensions
        self.strides = strides
    }

    /// `[rank, dims…, strides of operand 0…, strides of operand 1…, …]`, each list padded to
    /// `maximumRank` entries, as the shaders' push-constant blocks expect.
    func pushWords(operation: String) throws -> [UInt32] {
        guard dimensions.count <= Self.maximumRank else {
            throw BackendError.invalidArgument(
                operation: operation,
                reason: "the vulkan backend supports at most \(Self.maximumRank) non-mergeable axes, this layout needs \(dimensions.count) (\(dimensions))")
        }
        func padded(_ values: [Int]) -> [UInt32] {
            values.map { UInt32($0) } + [UInt32](repeating: 0, count: Self.maximumRank - values.count)
        }
        return [UInt32(dimensions.count)] + padded(dimensions) + strides.flatMap(padded)
    }
}
#endif
