#if OneDNN
import Backend
import COneDNNKernels

/// Dropout and its gradient as single passes spread over the cores (`dropout.c`): the Philox
/// words are made in vector registers as the elements are read, so the mask, the output and the
/// gradient each cost one write, in float32 or bfloat16 (computed in float32 and rounded, as the
/// specification's widening would). A noise shape smaller than the input, or a rate of 0, takes
/// the default composition.
extension OneDNNBackend {
    /// Work per element, for ``WorkSharing``: a Philox block's ten rounds, shared by four elements.
    static let dropoutCost = 4 * elementwiseCost

    public func dropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult {
        guard rate > 0, noiseShape == x.shape, x.dtype == .float32 || x.dtype == .bfloat16 else {
            return try composedDropout(x, rate: rate, key: key, offset: offset, noiseShape: noiseShape)
        }
        let count = x.shape.elementCount
        let source = try address(x, "dropout"), isBFloat16: Int32 = x.dtype == .bfloat16 ? 1 : 0
        let (output, target) = try allocate(x.shape, x.dtype)
        let (mask, bits) = try allocate(x.shape, .bool)
        let threshold = DropoutThreshold.threshold(rate: rate), scale = 1 / (1 - rate), size = x.dtype.byteSize
        try work.forEachChunk(items: count, operations: count * Self.dropoutCost) { range in
            axon_dropout(
                source + range.lowerBound * size, isBFloat16, range.count, key.word0, key.word1, offset &+ UInt64(range.lowerBound),
                threshold, scale, target + range.lowerBound * size, bits.assumingMemoryBound(to: UInt8.self) + range.lowerBound)
        }
        return DropoutResult(output: output, mask: mask)
    }

    public func dropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer {
        guard mask.shape == gradient.shape, gradient.dtype == .float32 || gradient.dtype == .bfloat16 else {
            return try composedDropoutBackward(gradient, mask: mask, rate: rate)
        }
        let count = gradient.shape.elementCount
        let source = try address(gradient, "dropoutBackward"), isBFloat16: Int32 = gradient.dtype == .bfloat16 ? 1 : 0
        let keep = try address(mask, "dropoutBackward").assumingMemoryBound(to: UInt8.self)
        let (output, target) = try output(gradient.shape, gradient.dtype, over: [gradient])
        let scale = 1 / (1 - rate), size = gradient.dtype.byteSize
        try work.forEachChunk(items: count, operations: count * Self.elementwiseCost) { range in
            axon_dropout_backward(
                source + range.lowerBound * size, isBFloat16, keep + range.lowerBound, range.count, scale, target + range.lowerBound * size)
        }
        return output
    }
}
#endif
