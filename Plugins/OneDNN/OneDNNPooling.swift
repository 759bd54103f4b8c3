#if OneDNN
import Backend
import CDNNL
import Foundation

/// A window reduction as oneDNN pooling: spatial windows over a channels-last tensor (the
/// window, stride and padding of the batch and channel axes must be trivial).
struct PoolingGeometry {
    let source: (dims: [Int], strides: [Int])
    let destination: (dims: [Int], strides: [Int])
    let kernel: [Int], strides: [Int], paddingLow: [Int], paddingHigh: [Int]

    init?(input: Shape, output: Shape, descriptor d: WindowDescriptor) {
        let rank = input.rank
        guard (3...5).contains(rank), d.windowDimensions.first == 1, d.windowDimensions.last == 1,
            d.strides.first == 1, d.strides.last == 1, d.padding.first == Padding(0, 0), d.padding.last == Padding(0, 0)
        else { return nil }
        source = OneDNNBackend.channelsFirst(input)
        destination = OneDNNBackend.channelsFirst(output)
        let spatial = 1..<(rank - 1)
        kernel = Array(d.windowDimensions[spatial])
        strides = Array(d.strides[spatial])
        paddingLow = d.padding[spatial].map(\.low)
        paddingHigh = d.padding[spatial].map(\.high)
    }

    var key: String { "\(source.dims) \(source.strides) \(destination.dims) \(destination.strides) \(kernel) \(strides) \(paddingLow) \(paddingHigh)" }
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
        try cache.primitive("pool forward \(algorithm.rawValue) \(g.key)") {
            var source = try DNNL.memoryDescriptor(g.source.dims, strides: g.source.strides)
            var destination = try DNNL.memoryDescriptor(g.destination.dims, strides: g.destination.strides)
            var descriptor = dnnl_pooling_v2_desc_t()
            try DNNL.check(dnnl_pooling_v2_forward_desc_init(
                &descriptor, dnnl_forward_training, algorithm, &source, &destination, DNNL.dims(g.strides), DNNL.dims(g.kernel),
                DNNL.dims(g.kernel.map { _ in 0 }), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "pooling descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
        }
    }

    /// Runs the forward pooling; returns the output and, for max pooling, the workspace that
    /// records where each maximum came from (caller deallocates).
    func runPooling(_ x: Buffer, _ g: PoolingGeometry, _ outShape: Shape, _ algorithm: dnnl_alg_kind_t) throws -> (Buffer, UnsafeMutableRawPointer?, dnnl_memory_desc_t?) {
        let primitive = try poolingForward(g, algorithm)
        let (output, pointer) = try allocate(outShape)
        var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL_ARG_SRC, try address(x, "window"), try DNNL.memoryDescriptor(g.source.dims, strides: g.source.strides)),
            (DNNL_ARG_DST, pointer, try DNNL.memoryDescriptor(g.destination.dims, strides: g.destination.strides)),
        ]
        var workspace: (UnsafeMutableRawPointer, dnnl_memory_desc_t)?
        if let described = dnnl_primitive_desc_query_md(primitive.descriptor, dnnl_query_workspace_md, 0) {
            var md = described.pointee
            let size = dnnl_memory_desc_get_size(&md)
            if size > 0 {
                let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                workspace = (memory, md)
                arguments.append((DNNL_ARG_WORKSPACE, memory, md))
            }
        }
        try execute(primitive, arguments)
        return (output, workspace?.0, workspace?.1)
    }

    /// Whether oneDNN's max pooling matches the protocol on `x`: it starts each window at the
    /// lowest finite float rather than −∞ and routes gradients past NaN, so inputs holding a
    /// non-finite value go to the host backend. One vectorised pass over the exponent bits
    /// (all ones only for infinities and NaN) decides, once per buffer: the backward pass asks
    /// again about the input the forward pass scanned.
    func poolsExactly(_ operation: WindowOperation, _ x: Buffer) throws -> Bool {
        guard operation == .max else { return true }
        guard let storage = x.storage as? HostStorage else { throw BackendError.foreignBuffer(operation: "window", expected: "host-memory") }
        return finiteInputs.verdict(for: storage) {
            let bits = storage.address.assumingMemoryBound(to: UInt32.self)
            let count = x.shape.elementCount
            let exponent: UInt32 = 0x7F80_0000
            var widest = SIMD8<UInt32>(repeating: 0)
            var index = 0
            while index + 8 <= count {
                widest = pointwiseMax(widest, UnsafeRawPointer(bits + index).loadUnaligned(as: SIMD8<UInt32>.self) & exponent)
                index += 8
            }
            var largest = widest.max()
            while index < count {
                largest = Swift.max(largest, bits[index] & exponent)
                index += 1
            }
            return largest != exponent
        }
    }

    /// Max and average pooling as cached oneDNN primitives where oneDNN computes them exactly as the reference does; others on the fallback.
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let outShape = try ShapeRules.window(x.shape, descriptor: descriptor)
        guard Self.supports([x]), outShape.dimensions.allSatisfy({ $0 > 0 }), let algorithm = Self.poolingAlgorithm(operation),
            let g = PoolingGeometry(input: x.shape, output: outShape, descriptor: descriptor), try poolsExactly(operation, x)
        else { return try fallback.window(operation, x, descriptor: descriptor) }
        let (output, workspace, _) = try runPooling(x, g, outShape, algorithm)
        workspace?.deallocate()
        return output
    }

    public func windowBackward(_ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let outShape = try ShapeRules.window(input.shape, descriptor: descriptor)
        guard Self.supports([input, gradOutput]), gradOutput.shape == outShape, let algorithm = Self.poolingAlgorithm(operation),
            let g = PoolingGeometry(input: input.shape, output: outShape, descriptor: descriptor), try poolsExactly(operation, input)
        else { return try fallback.windowBackward(operation, input: input, gradOutput: gradOutput, descriptor: descriptor) }
        let hint = try poolingForward(g, algorithm)
        let primitive = try cache.primitive("pool backward \(algorithm.rawValue) \(g.key)") {
            var source = try DNNL.memoryDescriptor(g.source.dims, strides: g.source.strides)
            var destination = try DNNL.memoryDescriptor(g.destination.dims, strides: g.destination.strides)
            var descriptorStruct = dnnl_pooling_v2_desc_t()
            try DNNL.check(dnnl_pooling_v2_backward_desc_init(
                &descriptorStruct, algorithm, &source, &destination, DNNL.dims(g.strides), DNNL.dims(g.kernel),
                DNNL.dims(g.kernel.map { _ in 0 }), DNNL.dims(g.paddingLow), DNNL.dims(g.paddingHigh)), "pooling backward descriptor")
            return try withUnsafePointer(to: &descriptorStruct) { try makePrimitive(UnsafeRawPointer($0), attributes: nil, hint: hint.descriptor) }
        }
        // Max pooling's backward needs the forward workspace: run the forward again to get it.
        let (_, workspace, workspaceDescriptor) = try runPooling(input, g, outShape, algorithm)
        defer { workspace?.deallocate() }
        let (gradInput, pointer) = try allocate(input.shape)
        var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL_ARG_DIFF_DST, try address(gradOutput, "windowBackward"), try DNNL.memoryDescriptor(g.destination.dims, strides: g.destination.strides)),
            (DNNL_ARG_DIFF_SRC, pointer, try DNNL.memoryDescriptor(g.source.dims, strides: g.source.strides)),
        ]
        if let workspace, let workspaceDescriptor { arguments.append((DNNL_ARG_WORKSPACE, workspace, workspaceDescriptor)) }
        try execute(primitive, arguments)
        return gradInput
    }
}

/// Verdicts about the last few buffers scanned, held weakly: buffers are immutable, so a verdict
/// stays true for as long as its buffer lives, and a freed buffer's entry can never match.
final class BufferVerdicts: @unchecked Sendable {
    private struct Entry {
        weak var storage: HostStorage?
        let verdict: Bool
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private let capacity = 8

    func verdict(for storage: HostStorage, compute: () -> Bool) -> Bool {
        if let known = lock.withLock({ entries.first { $0.storage === storage }?.verdict }) { return known }
        let verdict = compute()
        lock.withLock {
            entries.removeAll { $0.storage == nil }
            if entries.count == capacity { entries.removeFirst() }
            entries.append(Entry(storage: storage, verdict: verdict))
        }
        return verdict
    }
}
#endif
