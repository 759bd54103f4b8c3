import Backend

extension ReferenceBackend {
    /// Max, average or sum pooling by visiting every window.
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let name = "window(\(operation.rawValue))"
        let input = try x.floats(name)
        let outShape = try ShapeRules.window(x.shape, descriptor: descriptor)
        return makeBuffer(outShape, .float32, as: Float.self) { out in
            forEachWindow(x.shape, outShape, descriptor) { o, offsets, run in
                for c in 0..<run {
                    switch operation {
                    case .max:
                        var best = -Float.infinity
                        for i in offsets {
                            let v = input[i + c]
                            if v.isNaN || v > best { best = v }
                            if v.isNaN { break }
                        }
                        out[o + c] = best
                    case .sum, .average:
                        var total: Float = 0
                        for i in offsets { total += input[i + c] }
                        out[o + c] = operation == .sum ? total : total / Float(Swift.max(offsets.count, 1))
                    }
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
        return makeBuffer(input.shape, .float32, as: Float.self) { dx in
            dx.initialize(repeating: 0)
            forEachWindow(input.shape, outShape, descriptor) { o, offsets, run in
                for c in 0..<run {
                    switch operation {
                    case .max:
                        // The gradient goes to the first maximal element, as the forward op chose it.
                        var best = -Float.infinity
                        var bestIndex = -1
                        for i in offsets {
                            let v = x[i + c]
                            if bestIndex < 0 || v.isNaN || v > best {
                                best = v
                                bestIndex = i + c
                            }
                            if v.isNaN { break }
                        }
                        if bestIndex >= 0 { dx[bestIndex] += dy[o + c] }
                    case .sum:
                        for i in offsets { dx[i + c] += dy[o + c] }
                    case .average:
                        let share = dy[o + c] / Float(Swift.max(offsets.count, 1))
                        for i in offsets { dx[i + c] += share }
                    }
                }
            }
        }
    }

    /// Calls `body(outputOffset, inputOffsets, run)` for each window: the window's in-bounds
    /// input offsets (padding is left out), and `run` consecutive elements that share the
    /// window's shape. When the last axis is not pooled (window 1, stride 1, no padding) a
    /// whole row of channels is one run, so the inner loops read contiguous memory.
    private func forEachWindow(
        _ input: Shape, _ output: Shape, _ d: WindowDescriptor, _ body: (Int, [Int], Int) -> Void
    ) {
        let rank = input.rank
        guard output.elementCount > 0 else { return }
        let last = rank - 1
        let passthrough = rank > 0 && d.windowDimensions[last] == 1 && d.strides[last] == 1
            && d.padding[last] == Padding(0, 0)
        let run = passthrough ? input[last] : 1
        let axes = passthrough ? last : rank
        let strides = input.strides
        // For each axis and output position, the in-bounds input positions as element offsets.
        // Only the in-bounds part of a window is visited, so a window mostly in padding costs
        // what it covers (o·stride + window ≤ the padded size, so nothing here overflows).
        let taps: [[[Int]]] = (0..<axes).map { axis in
            (0..<output[axis]).map { o in
                let start = o * d.strides[axis] - d.padding[axis].low
                let first = Swift.max(start, 0), end = Swift.min(start + d.windowDimensions[axis], input[axis])
                return (first..<Swift.max(first, end)).map { $0 * strides[axis] }
            }
        }
        var outIndex = [Int](repeating: 0, count: axes)
        var offsets: [Int] = []
        offsets.reserveCapacity(Swift.min(Shape(Array(d.windowDimensions.prefix(axes))).checkedElementCount ?? 0, input.elementCount))
        var choice = [Int](repeating: 0, count: axes)
        for o in stride(from: 0, to: output.elementCount, by: run) {
            offsets.removeAll(keepingCapacity: true)
            // The cartesian product of each axis's taps.
            if (0..<axes).allSatisfy({ !taps[$0][outIndex[$0]].isEmpty }) {
                for axis in 0..<axes { choice[axis] = 0 }
                while true {
                    var offset = 0
                    for axis in 0..<axes { offset += taps[axis][outIndex[axis]][choice[axis]] }
                    offsets.append(offset)
                    var axis = axes - 1
                    while axis >= 0 {
                        choice[axis] += 1
                        if choice[axis] < taps[axis][outIndex[axis]].count { break }
                        choice[axis] = 0
                        axis -= 1
                    }
                    if axis < 0 { break }
                }
            }
            body(o, offsets, run)
            var axis = axes - 1
            while axis >= 0 {
                outIndex[axis] += 1
                if outIndex[axis] < output[axis] { break }
                outIndex[axis] = 0
                axis -= 1
            }
        }
    }
}
