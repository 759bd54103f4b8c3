#if Vulkan
import Backend

extension VulkanBackend {
    public func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        try philox(key: key, offset: offset, shape: shape, keepBelow: nil)
    }

    /// Inverted dropout in two dispatches: the keep mask straight from the Philox words, then
    /// the scaled, masked input. Other rates and shapes take the composition.
    public func dropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult {
        guard rate > 0, rate < 1, x.dtype == .float32, (try? Shape.broadcast(noiseShape, x.shape, operation: "dropout")) == x.shape else {
            return try composedDropout(x, rate: rate, key: key, offset: offset, noiseShape: noiseShape)
        }
        let mask = try philox(key: key, offset: offset, shape: noiseShape, keepBelow: DropoutThreshold.threshold(rate: rate))
        let output = try makeBuffer(x.shape, .float32)
        let count = x.shape.elementCount
        if count > 0 {
            let layout = StridedLayout(x.shape, strides: [x.shape.strides, noiseShape.broadcastStrides(to: x.shape)])
            try run(
                "dropout", inputs: [x, mask], outputs: [output],
                push: [UInt32(count)] + layout.pushWords(operation: "dropout") + [(1 / (1 - rate)).bitPattern], groups: elementGroups(count))
        }
        return DropoutResult(output: output, mask: mask)
    }

    /// Dropout's gradient with the forward's shader: the gradient scaled where the mask keeps it.
    public func dropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer {
        guard gradient.dtype == .float32 else { return try composedDropoutBackward(gradient, mask: mask, rate: rate) }
        let output = try makeBuffer(gradient.shape, .float32)
        let count = gradient.shape.elementCount
        if count > 0 {
            let layout = StridedLayout(gradient.shape, strides: [gradient.shape.strides, mask.shape.broadcastStrides(to: gradient.shape)])
            try run(
                "dropout", inputs: [gradient, mask], outputs: [output],
                push: [UInt32(count)] + layout.pushWords(operation: "dropoutBackward") + [(1 / (1 - rate)).bitPattern],
                groups: elementGroups(count))
        }
        return output
    }

    /// Philox words of `shape`, or with `keepBelow` the bool mask of words below it.
    func philox(key: Philox.Key, offset: UInt64, shape: Shape, keepBelow threshold: UInt32?) throws -> Buffer {
        let output = try makeBuffer(shape, threshold == nil ? .uint32 : .bool)
        let count = shape.elementCount
        guard count > 0 else { return output }
        // The blocks the request touches: the first may start mid-block.
        let blocks = (Int(offset % 4) + count + 3) / 4
        try run(
            "philox", constants: [threshold == nil ? 0 : 1], outputs: [output],
            push: [
                UInt32(count), key.word0, key.word1, UInt32(truncatingIfNeeded: offset), UInt32(truncatingIfNeeded: offset >> 32),
                UInt32(blocks), threshold ?? 0,
            ],
            groups: elementGroups(blocks))
        return output
    }
}
#endif
