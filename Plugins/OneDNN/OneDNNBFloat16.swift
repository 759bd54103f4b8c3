#if OneDNN
import Backend
import COneDNNKernels

/// bfloat16 on the onednn backend. Casts between float32 and bfloat16 are vector passes spread
/// over the cores; relu and its backward run on the bfloat16 bits; the other elementwise passes
/// of a training step (transcendental functions, the sigmoid and tanh gradients) run on
/// bfloat16 operands tile by tile in float32, exactly as the front door's widening would but
/// without whole float32 copies; every other elementwise case computes in float32 and rounds
/// (``Backend/computingInFloat32(_:_:)``), with these casts.
extension OneDNNBackend {
    /// Elements widened at once: three tiles of floats stay in the first-level cache.
    static let tileLength = 2048

    public func cast(_ x: Buffer, to dtype: DType) throws -> Buffer {
        let narrowing: Bool
        switch (x.dtype, dtype) {
        case (.float32, .bfloat16): narrowing = true
        case (.bfloat16, .float32): narrowing = false
        default: return try fallback.cast(x, to: dtype)
        }
        let count = x.shape.elementCount
        let source = try address(x, "cast")
        let (output, target) = try allocate(x.shape, dtype)
        try work.forEachChunk(items: count, operations: count * Self.elementwiseCost) { range in
            if narrowing {
                axon_bfloat16_from_float(
                    source.assumingMemoryBound(to: UInt32.self) + range.lowerBound,
                    target.assumingMemoryBound(to: UInt16.self) + range.lowerBound, range.count)
            } else {
                axon_float_from_bfloat16(
                    source.assumingMemoryBound(to: UInt16.self) + range.lowerBound,
                    target.assumingMemoryBound(to: UInt32.self) + range.lowerBound, range.count)
            }
        }
        return output
    }

    /// A new bfloat16 buffer of `inputs`' shape (all bfloat16, all that shape) computed by the
    /// float32 pass `kernel(inputs, output, count)`, spread over the cores: each tile of a chunk
    /// is widened into float32 scratch, computed and rounded back, so every element gets the
    /// bits the widened operation would give it.
    func inFloat32Tiles(
        _ inputs: [Buffer], _ operation: String,
        _ kernel: (_ inputs: [UnsafePointer<Float>], _ output: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    ) throws -> Buffer {
        let shape = inputs[0].shape
        let count = shape.elementCount
        let sources = try inputs.map { try address($0, operation).assumingMemoryBound(to: UInt16.self) }
        let (output, pointer) = try allocate(shape, .bfloat16)
        let target = pointer.assumingMemoryBound(to: UInt16.self)
        let tile = Self.tileLength
        try work.forEachChunk(items: count, operations: count * Self.elementwiseCost) { range in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: tile * (inputs.count + 1)) { scratch in
                guard let base = scratch.baseAddress else { return }
                let widened = (0...inputs.count).map { base + $0 * tile }
                let floats = widened.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) }
                let arguments = floats.dropLast().map { UnsafePointer($0) }
                var start = range.lowerBound
                while start < range.upperBound {
                    let length = Swift.min(tile, range.upperBound - start)
                    for (source, wide) in zip(sources, widened) { axon_float_from_bfloat16(source + start, wide, length) }
                    kernel(arguments, floats[inputs.count], length)
                    axon_bfloat16_from_float(widened[inputs.count], target + start, length)
                    start += length
                }
            }
        }
        return output
    }

    /// A new bfloat16 buffer of `inputs`' shape (all bfloat16, all that shape) computed by
    /// `kernel(inputs, output, count)` on the bits themselves, spread over the cores.
    func onBFloat16Bits(
        _ inputs: [Buffer], _ operation: String,
        _ kernel: (_ inputs: [UnsafePointer<UInt16>], _ output: UnsafeMutablePointer<UInt16>, _ count: Int) -> Void
    ) throws -> Buffer {
        let count = inputs[0].shape.elementCount
        let sources = try inputs.map { UnsafePointer(try address($0, operation).assumingMemoryBound(to: UInt16.self)) }
        let (output, pointer) = try allocate(inputs[0].shape, .bfloat16)
        let target = pointer.assumingMemoryBound(to: UInt16.self)
        try work.forEachChunk(items: count, operations: count * Self.elementwiseCost) { range in
            kernel(sources.map { $0 + range.lowerBound }, target + range.lowerBound, range.count)
        }
        return output
    }

    /// `body` on `operands` when none is bfloat16, else on their float32 widenings with the
    /// results rounded back: how the bfloat16 cases without a native pass run.
    func widenedIfBFloat16<Result: BufferBundle>(_ operands: [Buffer], _ body: ([Buffer]) throws -> Result) throws -> Result {
        operands.contains { $0.dtype == .bfloat16 } ? try computingInFloat32(operands, body) : try body(operands)
    }

    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        try widenedIfBFloat16([a, b]) { try fallback.binary(operation, $0[0], $0[1]) }
    }

    public func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        try widenedIfBFloat16([a, b]) { try fallback.compare(operation, $0[0], $0[1]) }
    }

    public func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        try widenedIfBFloat16([onTrue, onFalse]) { try fallback.select(condition, $0[0], $0[1]) }
    }
}
#endif
