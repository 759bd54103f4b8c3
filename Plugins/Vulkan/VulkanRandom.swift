#if Vulkan
import Backend

extension VulkanBackend {
    public func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        let output = try makeBuffer(shape, .uint32)
        let count = shape.elementCount
        guard count > 0 else { return output }
        // The blocks the request touches: the first may start mid-block.
        let blocks = (Int(offset % 4) + count + 3) / 4
        try run(
            "philox", outputs: [output],
            push: [
                UInt32(count), key.word0, key.word1, UInt32(truncatingIfNeeded: offset), UInt32(truncatingIfNeeded: offset >> 32),
                UInt32(blocks),
            ],
            groups: elementGroups(blocks))
        return output
    }
}
#endif
