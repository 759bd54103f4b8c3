import Backend

extension ReferenceBackend {
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let name = "window(\(operation.rawValue))"
        let input = try x.floats(name)
        let outShape = try ShapeRules.window(x.shape, descriptor: descriptor)
        return makeBuffer(outShape, .float32, as: Float.self) { out in
            forEachWindow(x.shape, outShape, descriptor) { o, offsets in
                switch operation {
                case .max:
                    var best = -Float.infinity
                    for i in offsets {
                        let v = input[i]
                        if v.isNaN || v > best { best = v }
                        if v.isNaN { break }
                    }
                    out[o] = best
                case .sum, .average:
                    var total: Float = 0
                    for i in offsets { total += input[i] }
                    out[o] = operation == .sum ? total : total / Float(Swift.max(offsets.count, 1))
                }
            }
        }
    }

    public func windowBackward(
        _ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor
    ) throws -> Buffer {
        let name = "windowBackward(\(operation.rawValue))"
        let x = try input.floats(name), dy = try gradOutput.floats(name)
        let outShape = try ShapeRules.window(input.shape, descriptor: descriptor)
        try requireGradientShape(gradOutput, outShape, name)
        return makeBuffer(input.shape, .float32, as: Float.self) { dx in
            dx.initialize(repeating: 0)
            forEachWindow(input.shape, outShape, descriptor) { o, offsets in
                switch operation {
                case .max:
                    // The gradient goes to the first maximal element, as the forward op chose it.
                    var best = -Float.infinity
                    var bestIndex = -1
                    for i in offsets {
                        let v = x[i]
                        if bestIndex < 0 || v.isNaN || v > best {
                            best = v
                            bestIndex = i
                        }
                        if v.isNaN { break }
                    }
                    if bestIndex >= 0 { dx[bestIndex] += dy[o] }
                case .sum:
                    for i in offsets { dx[i] += dy[o] }
                case .average:
                    let share = dy[o] / Float(Swift.max(offsets.count, 1))
                    for i in offsets { dx[i] += share }
                }
            }
        }
    }

    /// Calls `body` with each output index and the input offsets its window covers (padding
    /// positions are left out).
    private func forEachWindow(
        _ input: Shape, _ output: Shape, _ d: WindowDescriptor, _ body: (Int, [Int]) -> Void
    ) {
        let rank = input.rank
        let strides = input.strides
        let windowCount = d.windowDimensions.reduce(1, *)
        var outIndex = [Int](repeating: 0, count: rank)
        var offsets: [Int] = []
        offsets.reserveCapacity(windowCount)
        for o in 0..<output.elementCount {
            offsets.removeAll(keepingCapacity: true)
            var windowIndex = [Int](repeating: 0, count: rank)
            for _ in 0..<windowCount {
                var offset = 0
                var inside = true
                for axis in 0..<rank {
                    let position = outIndex[axis] * d.strides[axis] - d.padding[axis].low + windowIndex[axis]
                    if position < 0 || position >= input[axis] {
                        inside = false
                        break
                    }
                    offset += position * strides[axis]
                }
                if inside { offsets.append(offset) }
                advance(&windowIndex, d.windowDimensions)
            }
            body(o, offsets)
            advance(&outIndex, output.dimensions)
        }
    }

    private func advance(_ index: inout [Int], _ dims: [Int]) {
        var axis = dims.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < dims[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }
}
