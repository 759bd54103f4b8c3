import Backend

/// Axis reordering on the host.
extension HostArray {
    /// The array with its axes reordered: axis `i` of the result is axis `permutation[i]` of
    /// this one (NumPy's `transpose`), on the host, for file formats whose layouts differ from
    /// this library's (Fortran-order `.npy`, ONNX kernels).
    public func permuted(_ permutation: [Int]) throws -> HostArray {
        let dimensions = shape.dimensions
        guard permutation.sorted() == Array(0..<dimensions.count) else {
            throw AxonError.invalidValue(operation: "HostArray.permuted", reason: "\(permutation) is not a permutation of the \(dimensions.count) axes of \(shape)")
        }
        let newDimensions = permutation.map { dimensions[$0] }
        var strides = [Int](repeating: 1, count: dimensions.count)
        for axis in stride(from: dimensions.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * dimensions[axis + 1] }
        // The source offset of each destination element, the destination's last axis fastest.
        var offsets: [Int] = []
        offsets.reserveCapacity(elements.count)
        var index = [Int](repeating: 0, count: dimensions.count)
        for _ in 0..<elements.count {
            offsets.append(zip(permutation, index).reduce(0) { $0 + strides[$1.0] * $1.1 })
            for axis in stride(from: dimensions.count - 1, through: 0, by: -1) {
                index[axis] += 1
                if index[axis] < newDimensions[axis] { break }
                index[axis] = 0
            }
        }
        func gather<T>(_ values: [T]) -> [T] { offsets.map { values[$0] } }
        let reordered: HostElements
        switch elements {
        case let .float32(values): reordered = .float32(gather(values))
        case let .bfloat16(values): reordered = .bfloat16(gather(values))
        case let .int32(values): reordered = .int32(gather(values))
        case let .uint32(values): reordered = .uint32(gather(values))
        case let .bool(values): reordered = .bool(gather(values))
        }
        return try HostArray(shape: Shape(newDimensions), elements: reordered)
    }
}
