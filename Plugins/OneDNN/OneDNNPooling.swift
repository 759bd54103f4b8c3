#if OneDNN
import Backend
import CDNNL
import Foundation
import Synchronization

/// A window reduction as oneDNN pooling: spatial windows over a channels-last float32 or
/// bfloat16 tensor (the window, stride and padding of the batch and channel axes must be trivial).
struct PoolingGeometry: Hashable {
    let dtype: DType
    private(set) var source: StridedDims
    private(set) var destination: StridedDims
    let kernel: [Int], strides: [Int], paddingLow: [Int], paddingHigh: [Int]

    init?(input: Shape, output: Shape, dtype: DType, descriptor d: WindowDescriptor) {
        let rank = input.rank
        guard (3...5).contains(rank), d.windowDimensions.first == 1, d.windowDimensions.last == 1,
            d.strides.first == 1, d.strides.last == 1, d.padding.first == Padding(0, 0), d.padding.last == Padding(0, 0)
        else { return nil }
        self.dtype = dtype
        source = PoolingGeometry.channelsFirst(input)
        destination = PoolingGeometry.channelsFirst(output)
        let spatial = 1..<(rank - 1)
        kernel = Array(d.windowDimensions[spatial])
        strides = Array(d.strides[spatial])
        paddingLow = d.padding[spatial].map(\.low)
        paddingHigh = d.padding[spatial].map(\.high)
    }

    /// The data as oneDNN's `(N, C, spatial...)` over channels-last memory.
    static func channelsFirst(_ shape: Shape) -> StridedDims {
        let own = shape.strides, last = shape.rank - 1
        return StridedDims(dims: [shape[0], shape[last]] + Array(shape.dimensions[1..<last]), strides: [own[0], own[last]] + Array(own[1..<last]))
    }

    var sourceDescriptor: dnnl_memory_desc_t {
        get throws { try DNNL.memoryDescriptor(source.dims, strides: source.strides, dtype: dtype) }
    }

    var destinationDescriptor: dnnl_memory_desc_t {
        get throws { try DNNL.memoryDescriptor(destination.dims, strides: destination.strides, dtype: dtype) }
    }

    /// The same pooling over `examples` examples of the batch (the strides stay the whole
    /// batch's, so a chunk is read and written in place).
    func batch(_ examples: Int) -> PoolingGeometry {
        var result = self
        result.source.dims[0] = examples
        result.destination.dims[0] = examples
        return result
    }
}

extension OneDNNBackend {
    static func poolingAlgorithm(_ operation: WindowOperation) -> dnnl_alg_kind_t? {
        switch operation {
        case .max: return dnnl_pooling_max
        case .average: return dnnl_pooling_avg_exclude_padding
        case .sum: return nil
        }
    }

    func poolingForward(_ g: PoolingGeometry, _ algorithm: dnnl_alg_kind_t) throws -> Primitive {
        try cache.primitive(PrimitiveKey.kind("pool forward", g.dtype), g, algorithm) {
            var source = try g.sourceDescriptor
            var destination = try g.destinationDescriptor
            var descriptor = dnnl_pooling_v2_desc_t()
            try DNNL.check(dnnl_pooling_v2_forward_desc_init(
                &descriptor, dnnl_forward_training, algorithm, &source, &destination, DNNL.dims(g.strides), DNNL.dims(g.kernel),
                DNNL.dims(g.kernel.map { _ in 0 }), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "pooling descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
        }
    }

    func poolingBackward(_ g: PoolingGeometry, _ algorithm: dnnl_alg_kind_t) throws -> Primitive {
        let hint = try poolingForward(g, algorithm)
        return try cache.primitive(PrimitiveKey.kind("pool backward", g.dtype), g, algorithm) {
            var source = try g.sourceDescriptor
            var destination = try g.destinationDescriptor
            var descriptor = dnnl_pooling_v2_desc_t()
            try DNNL.check(dnnl_pooling_v2_backward_desc_init(
                &descriptor, algorithm, &source, &destination, DNNL.dims(g.strides), DNNL.dims(g.kernel),
                DNNL.dims(g.kernel.map { _ in 0 }), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "pooling backward descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: hint.descriptor) }
        }
    }

    /// How a pooling is cut along the batch: examples are independent, forward and backward.
    func poolingPlan(_ g: PoolingGeometry) -> ChunkPlan {
        work.plan(items: g.source.dims[0], operations: g.source.dims.reduce(1, *) * Self.elementwiseCost)
    }

    /// Runs `primitives`, one per chunk of `plan`, each on its examples of the source-side buffer
    /// (the input, or its gradient) and of the destination-side one, with its workspace. With
    /// `finiteSource`, a chunk first scans its examples of the source (while they are in its
    /// core's cache) and runs only if all are finite; returns whether every chunk did.
    @discardableResult
    func runChunks(
        _ g: PoolingGeometry, _ plan: ChunkPlan, _ primitives: [Primitive], _ workspace: PoolingWorkspace,
        source: (argument: Int32, pointer: UnsafeMutableRawPointer), destination: (argument: Int32, pointer: UnsafeMutableRawPointer),
        finiteSource: Bool = false
    ) throws -> Bool {
        let size = g.dtype.byteSize
        let nonFinite = Atomic<Bool>(false)
        try work.forEach(plan) { chunk in
            let range = plan.range(chunk)
            if finiteSource {
                let examples = source.pointer + range.lowerBound * g.source.strides[0] * size
                guard Self.allFinite(examples, count: range.count * g.source.strides[0], g.dtype) else {
                    return nonFinite.store(true, ordering: .relaxed)
                }
            }
            let gc = g.batch(range.count)
            var arguments = [
                (source.argument, source.pointer + range.lowerBound * g.source.strides[0] * size, try gc.sourceDescriptor),
                (destination.argument, destination.pointer + range.lowerBound * g.destination.strides[0] * size, try gc.destinationDescriptor),
            ]
            if let entry = workspace.chunks[chunk] { arguments.append((DNNL_ARG_WORKSPACE, entry.storage.address, entry.descriptor)) }
            try execute(primitives[chunk], arguments)
        }
        return !nonFinite.load(ordering: .relaxed)
    }

    /// Runs the forward pooling, chunk by chunk of the batch; returns the output, for max
    /// pooling the workspaces that record where each chunk's maxima came from, and whether it
    /// ran: with `checkingFinite`, not if a chunk found a non-finite input (``poolsExactly(_:_:)``).
    func runPooling(
        _ x: Buffer, _ g: PoolingGeometry, _ outShape: Shape, _ algorithm: dnnl_alg_kind_t, checkingFinite: Bool = false
    ) throws -> (output: Buffer, workspace: PoolingWorkspace, ran: Bool) {
        let plan = poolingPlan(g)
        let (output, pointer) = try allocate(outShape, g.dtype)
        let source = try address(x, "window")
        // The chunks' primitives and workspaces first, so the parallel part only runs them.
        let primitives = try (0..<plan.count).map { try poolingForward(g.batch(plan.range($0).count), algorithm) }
        let workspace = PoolingWorkspace(geometry: g, chunks: primitives.map { primitive in
            guard let described = dnnl_primitive_desc_query_md(primitive.descriptor, dnnl_query_workspace_md, 0) else { return nil }
            var md = described.pointee
            let bytes = dnnl_memory_desc_get_size(&md)
            return bytes > 0 ? (PooledStorage(bytes: bytes, pool: memory), md) : nil
        })
        let ran = try runChunks(
            g, plan, primitives, workspace, source: (DNNL_ARG_SRC, source), destination: (DNNL_ARG_DST, pointer), finiteSource: checkingFinite)
        return (output, workspace, ran)
    }

    /// Whether oneDNN's max pooling matches the protocol on `x`: it starts each window at the
    /// lowest finite float rather than −∞ and routes gradients past NaN, so inputs holding a
    /// non-finite value go to the host backend. One vectorised pass over the exponent bits
    /// (all ones only for infinities and NaN) decides, once per buffer: the forward pass makes
    /// it chunk by chunk beside the pooling (``runChunks(_:_:_:_:source:destination:finiteSource:)``),
    /// and the backward pass asks again about the input the forward pass scanned.
    func poolsExactly(_ operation: WindowOperation, _ x: Buffer) throws -> Bool {
        guard operation == .max else { return true }
        let storage = try hostStorage(x)
        return finiteInputs.value(for: storage) { Self.allFinite(storage.address, count: x.shape.elementCount, x.dtype) }
    }

    /// What is known of `x`'s finiteness for `operation` (`nil`: not yet scanned).
    func knownToPoolExactly(_ operation: WindowOperation, _ x: Buffer) throws -> Bool? {
        operation == .max ? finiteInputs.value(for: try hostStorage(x)) : true
    }

    private func hostStorage(_ x: Buffer) throws -> HostStorage {
        guard let storage = x.storage as? HostStorage else { throw BackendError.foreignBuffer(operation: "window", expected: "host-memory") }
        return storage
    }

    /// Whether `count` float32 or bfloat16 values at `address` are all finite.
    static func allFinite(_ address: UnsafeRawPointer, count: Int, _ dtype: DType) -> Bool {
        dtype == .bfloat16
            ? allFinite(address.assumingMemoryBound(to: UInt16.self), count, exponent: 0x7F80)
            : allFinite(address.assumingMemoryBound(to: UInt32.self), count, exponent: 0x7F80_0000)
    }

    /// Whether no element of `count` floating-point `bits` has an `exponent` of all ones.
    static func allFinite<Bits: FixedWidthInteger & UnsignedInteger>(_ bits: UnsafePointer<Bits>, _ count: Int, exponent: Bits) -> Bool
    where Bits: SIMDScalar {
        var widest = SIMD16<Bits>(repeating: 0)
        var index = 0
        while index + 16 <= count {
            widest = pointwiseMax(widest, UnsafeRawPointer(bits + index).loadUnaligned(as: SIMD16<Bits>.self) & exponent)
            index += 16
        }
        var largest = widest.max()
        while index < count {
            largest = Swift.max(largest, bits[index] & exponent)
            index += 1
        }
        return largest != exponent
    }

    /// Max and average pooling as cached oneDNN primitives, cut along the batch, where oneDNN
    /// computes them exactly as the reference does; others on the fallback. Max pooling keeps
    /// its workspace (where each maximum came from) with the input, for the backward pass.
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let outShape = try ShapeRules.window(x.shape, descriptor: descriptor)
        let onFallback = { try self.widenedIfBFloat16([x]) { try self.fallback.window(operation, $0[0], descriptor: descriptor) } }
        guard Self.supports([x]), outShape.dimensions.allSatisfy({ $0 > 0 }), let algorithm = Self.poolingAlgorithm(operation),
            let g = PoolingGeometry(input: x.shape, output: outShape, dtype: x.dtype, descriptor: descriptor)
        else { return try onFallback() }
        let known = try knownToPoolExactly(operation, x)
        guard known != false else { return try onFallback() }
        let storage = try hostStorage(x)
        let pooled = try runPooling(x, g, outShape, algorithm, checkingFinite: known == nil)
        if known == nil { finiteInputs.set(pooled.ran, for: storage) }
        guard pooled.ran else { return try onFallback() }
        if pooled.workspace.chunks.contains(where: { $0 != nil }) { poolingWorkspaces.set(pooled.workspace, for: storage) }
        return pooled.output
    }

    public func windowBackward(_ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let outShape = try ShapeRules.window(input.shape, descriptor: descriptor)
        guard Self.supports([input, gradOutput]), gradOutput.shape == outShape, let algorithm = Self.poolingAlgorithm(operation),
            let g = PoolingGeometry(input: input.shape, output: outShape, dtype: input.dtype, descriptor: descriptor),
            try poolsExactly(operation, input)
        else {
            return try widenedIfBFloat16([input, gradOutput]) {
                try fallback.windowBackward(operation, input: $0[0], gradOutput: $0[1], descriptor: descriptor)
            }
        }
        // Max pooling's backward needs the forward workspace: the forward pass's, or a new run.
        let storage = input.storage as? HostStorage
        let workspace = try storage.flatMap { poolingWorkspaces.value(for: $0) }.flatMap { $0.geometry == g ? $0 : nil }
            ?? runPooling(input, g, outShape, algorithm).workspace
        let plan = poolingPlan(g)
        let (gradInput, pointer) = try allocate(input.shape, g.dtype)
        let gradPointer = try address(gradOutput, "windowBackward")
        let primitives = try (0..<plan.count).map { try poolingBackward(g.batch(plan.range($0).count), algorithm) }
        try runChunks(g, plan, primitives, workspace, source: (DNNL_ARG_DIFF_SRC, pointer), destination: (DNNL_ARG_DIFF_DST, gradPointer))
        return gradInput
    }
}

/// Max pooling's workspaces, one per chunk of the batch, for `geometry`.
struct PoolingWorkspace {
    let geometry: PoolingGeometry
    let chunks: [(storage: PooledStorage, descriptor: dnnl_memory_desc_t)?]
}

/// Values about the last few buffers seen, held weakly: buffers are immutable, so a value
/// stays true for as long as its buffer lives (or until a donated buffer is written over, which
/// `forget`s it), and a freed buffer's entry can never match.
final class BufferMemo<Value>: @unchecked Sendable {
    private struct Entry {
        weak var storage: HostStorage?
        let value: Value
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private let capacity = 8

    /// The value kept for `storage`, if any.
    func value(for storage: HostStorage) -> Value? {
        lock.withLock { entries.first { $0.storage === storage }?.value }
    }

    /// Keeps `value` for `storage`, in place of any earlier one.
    func set(_ value: Value, for storage: HostStorage) {
        lock.withLock {
            entries.removeAll { $0.storage == nil || $0.storage === storage }
            if entries.count == capacity { entries.removeFirst() }
            entries.append(Entry(storage: storage, value: value))
        }
    }

    /// Drops what was kept for `storage`, whose values are about to be overwritten.
    func forget(_ storage: HostStorage) {
        lock.withLock { entries.removeAll { $0.storage == nil || $0.storage === storage } }
    }

    /// The value kept for `storage`, or `compute()`'s, then kept.
    func value(for storage: HostStorage, compute: () -> Value) -> Value {
        if let known = value(for: storage) { return known }
        let value = compute()
        set(value, for: storage)
        return value
    }
}
#endif
