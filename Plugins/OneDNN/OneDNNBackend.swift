#if OneDNN
import Backend
import CDNNL
import Foundation

/// The oneDNN CPU backend: matrix products, convolutions (with fused bias and activation),
/// normalisation, pooling, softmax and concatenation run as oneDNN primitives, created once per
/// shape and cached; optimizer and cross-entropy steps run as single Swift passes. It is a
/// `DelegatingBackend`: every other primitive runs on the host fallback it shares buffers
/// with (the registry's host fallback, `reference`), and a fused op it can take only in part
/// falls back to the default composition on this backend.
///
/// ```swift
/// ReferenceBackend.register()
/// OneDNNBackend.register()
/// let backend = try BackendRegistry.shared.backend(named: "onednn")
/// ```
public final class OneDNNBackend: DelegatingBackend, @unchecked Sendable {
    public let name = "onednn"
    /// The host backend whose buffers this backend reads and writes, and that runs the
    /// primitives oneDNN does not.
    public let fallback: any Backend
    let engine: dnnl_engine_t
    /// Streams for the threads executing primitives at once, one each.
    private let streams: StreamPool
    let cache = PrimitiveCache()
    /// Every matrix product's primitives and descriptors by its signature.
    let matmulSetups = Memo<MatmulCall, MatmulSetup>()
    /// How ops are spread over the cores (see ``WorkSharing``).
    let work: WorkSharing
    let memory = HostMemoryPool()
    /// Which inputs of max pooling hold no NaN or infinity (see `poolsExactly`).
    let finiteInputs = BufferMemo<Bool>()
    /// Max pooling's workspaces by input, from the forward pass to the backward one.
    let poolingWorkspaces = BufferMemo<PoolingWorkspace>()
    /// Whether oneDNN has bfloat16 matmul kernels for this CPU (AVX-512 and newer), probed once.
    let computesBFloat16: Bool
    /// How many oneDNN primitives this backend has created: constant once every shape of a
    /// training step has been seen, since primitives are cached.
    public var primitivesCreated: Int { cache.created }
    /// The kinds of oneDNN primitive this backend has created (`conv forward`,
    /// `deconv forward`, `reorder`, ...): which ops ran natively rather than composed.
    public var primitiveKinds: Set<String> { cache.kinds }

    public var deviceDescription: String {
        let version = dnnl_version().pointee
        return "host CPU, oneDNN \(version.major).\(version.minor).\(version.patch) (\(work.threads) threads)"
    }

    /// Creates the backend on top of `host`, which must keep its elements in host memory.
    /// `threads` caps the threads one op uses (default: `OMP_NUM_THREADS` or one per core).
    public init(host: any Backend, threads: Int? = nil) throws {
        let host = (host as? CheckedBackend)?.implementation ?? host
        let probe = try host.full(0, shape: [1], dtype: .float32)
        guard probe.storage is HostStorage else {
            throw BackendError.unavailable(backend: "onednn", reason: "the host backend '\(host.name)' does not keep buffers in host memory")
        }
        let environment = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) }
        work = WorkSharing(threads: threads ?? environment ?? ProcessInfo.processInfo.activeProcessorCount)
        WorkSharing.singleThreadedOpenMP()
        var engine: dnnl_engine_t?
        try DNNL.check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation")
        guard let engine else { throw BackendError.unavailable(backend: "onednn", reason: "no CPU engine") }
        self.fallback = host
        self.engine = engine
        streams = StreamPool(engine: engine)
        computesBFloat16 = Self.hasBFloat16Kernels(engine)
    }

    /// Whether a small bfloat16 matmul primitive can be created on `engine`.
    static func hasBFloat16Kernels(_ engine: dnnl_engine_t) -> Bool {
        guard let md = try? DNNL.memoryDescriptor([16, 16], strides: [16, 1], dtype: .bfloat16) else { return false }
        var (a, b, c) = (md, md, md)
        var descriptor = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&descriptor, &a, &b, nil, &c) == dnnl_success else { return false }
        var primitive: dnnl_primitive_desc_t?
        let status = dnnl_primitive_desc_create(&primitive, &descriptor, nil, engine, nil)
        if let primitive { dnnl_primitive_desc_destroy(primitive) }
        return status == dnnl_success
    }

    deinit {
        streams.destroyAll()
        dnnl_engine_destroy(engine)
    }

    /// Registers `onednn` (above `reference` for `auto`), delegating to the registry's host
    /// fallback, with its option `threads`.
    public static func register(in registry: BackendRegistry = .shared) {
        registry.register(descriptor)
    }

    /// How `onednn` describes itself, linked or as a run-time plugin.
    public static var descriptor: BackendDescriptor {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return BackendDescriptor(
            name: "onednn", priority: 10, summary: "oneDNN primitives on the host CPU, other ops on the host fallback",
            options: [BackendOption(
                name: "threads", help: "threads one op uses (default: $OMP_NUM_THREADS, else one per core)",
                kind: .integer(1...Swift.max(cores, 1)))]
        ) { configuration in
            try OneDNNBackend(host: configuration.hostFallback(), threads: configuration.integer("threads"))
        }
    }

    /// The fallback's native operations, with matrix products, convolutions and pooling
    /// computed natively in bfloat16 where this CPU has oneDNN's bfloat16 kernels, and
    /// elementwise ops, reductions and batch norm taking bfloat16 operands (see
    /// `OneDNNBFloat16.swift` and `OneDNNBatchNorm.swift`).
    public var nativeOperations: NativeOperations {
        var native = fallback.nativeOperations
        let operands: Set<OperationFamily> = [.elementwise, .reduction, .normalization, .dropout]
        native.bfloat16 = computesBFloat16 ? operands.union([.matrix, .convolution, .window]) : operands
        return native
    }

    /// The host address of a buffer's elements.
    func address(_ buffer: Buffer, _ operation: String) throws -> UnsafeMutableRawPointer {
        guard let storage = buffer.storage as? HostStorage else {
            throw BackendError.foreignBuffer(operation: operation, expected: "host-memory")
        }
        return storage.address
    }

    /// Runs `primitive` on the calling thread with the given arguments (oneDNN argument index →
    /// buffer address and memory descriptor) and a scratchpad of its own, and waits for it.
    func execute(_ primitive: Primitive, _ arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)]) throws {
        var arguments = arguments
        var scratch: PooledStorage?
        if let scratchpad = primitive.scratchpad {
            let storage = PooledStorage(bytes: scratchpad.bytes, pool: memory)
            arguments.append((DNNL_ARG_SCRATCHPAD, storage.address, scratchpad.descriptor))
            scratch = storage
        }
        let memories = try primitive.memories(for: arguments, engine: engine)
        defer { primitive.keep(memories) }
        WorkSharing.singleThreadedOpenMP()
        try streams.withStream { stream in
            try DNNL.check(dnnl_primitive_execute(primitive.primitive, stream, Int32(memories.arguments.count), memories.arguments), "execution")
            try DNNL.check(dnnl_stream_wait(stream), "stream wait")
        }
        withExtendedLifetime(scratch) {}
    }

    /// Attributes with an eltwise post-op for the activation, if any.
    func attributes(_ activation: FusedActivation) throws -> dnnl_primitive_attr_t? {
        var attributes: dnnl_primitive_attr_t?
        try DNNL.check(dnnl_primitive_attr_create(&attributes), "attribute creation")
        let algorithm: dnnl_alg_kind_t
        switch activation {
        case .identity: return attributes
        case .relu: algorithm = dnnl_eltwise_relu
        case .sigmoid: algorithm = dnnl_eltwise_logistic
        case .tanh: algorithm = dnnl_eltwise_tanh
        }
        var postOps: dnnl_post_ops_t?
        try DNNL.check(dnnl_post_ops_create(&postOps), "post-op creation")
        defer { dnnl_post_ops_destroy(postOps) }
        try DNNL.check(dnnl_post_ops_append_eltwise(postOps, 1, algorithm, 0, 0), "eltwise post-op")
        try DNNL.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "post-op attribute")
        return attributes
    }

    /// A primitive from an op descriptor, with optional attributes and forward hint.
    func makePrimitive(_ descriptor: UnsafeRawPointer, attributes: dnnl_primitive_attr_t?, hint: dnnl_primitive_desc_t? = nil) throws -> Primitive {
        let attributes = try DNNL.userScratchpad(attributes)
        defer { if let attributes { dnnl_primitive_attr_destroy(attributes) } }
        WorkSharing.singleThreadedOpenMP()
        var primitiveDescriptor: dnnl_primitive_desc_t?
        try DNNL.check(dnnl_primitive_desc_create(&primitiveDescriptor, descriptor, attributes, engine, hint), "primitive descriptor")
        guard let primitiveDescriptor else { throw BackendError.deviceFailure(backend: "onednn", reason: "no primitive descriptor") }
        return try Primitive(descriptor: primitiveDescriptor)
    }

    /// A new, uninitialised float32 host buffer of `shape` (every caller writes all of it).
    func allocate(_ shape: Shape, _ dtype: DType = .float32) throws -> (Buffer, UnsafeMutableRawPointer) {
        let storage = PooledStorage(bytes: Swift.max(shape.elementCount, 1) * dtype.byteSize, pool: memory)
        return (Buffer(storage: storage, shape: shape, dtype: dtype), storage.address)
    }

    /// A result of `shape` and `dtype` written over the first of `operands` that the caller
    /// donated (``Buffer/isDonated``) and that fits, when it is this backend's memory, else newly
    /// allocated. For ops that read each element before writing the element at the same place.
    /// What was remembered about the operand's values no longer holds.
    func output(_ shape: Shape, _ dtype: DType = .float32, over operands: [Buffer]) throws -> (Buffer, UnsafeMutableRawPointer) {
        for operand in operands {
            guard let reused = operand.reusable(as: shape, dtype), let storage = reused.storage as? PooledStorage, storage.pool === memory else {
                continue
            }
            finiteInputs.forget(storage)
            return (reused, storage.address)
        }
        return try allocate(shape, dtype)
    }
}

#endif
