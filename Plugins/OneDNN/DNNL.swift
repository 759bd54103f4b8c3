#if OneDNN
import Backend
import CDNNL
import Foundation

/// Thin, throwing wrappers over the oneDNN 2.x C API.
enum DNNL {
    /// Throws when `status` is a failure, naming `what` failed (described only then: a
    /// description that prints shapes costs microseconds).
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
        guard status == dnnl_success else {
            throw BackendError.deviceFailure(backend: "onednn", reason: "\(what()) failed with oneDNN status \(status.rawValue)")
        }
    }

    /// A `dnnl_dims_t`-sized array (12 entries) holding `values` first.
    static func dims(_ values: [Int]) -> [dnnl_dim_t] {
        values.map { dnnl_dim_t($0) } + [dnnl_dim_t](repeating: 0, count: Swift.max(0, 12 - values.count))
    }

    /// A memory descriptor of logical `dimensions` of `dtype` (float32 or bfloat16) laid out
    /// with element `strides`.
    static func memoryDescriptor(_ dimensions: [Int], strides: [Int], dtype: DType = .float32) throws -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        let (d, s) = (dims(dimensions), dims(strides))
        try check(dnnl_memory_desc_init_by_strides(&descriptor, Int32(dimensions.count), d, dataType(dtype), s), "memory descriptor \(dimensions)")
        return descriptor
    }

    /// oneDNN's data type for a float dtype.
    static func dataType(_ dtype: DType) -> dnnl_data_type_t {
        dtype == .bfloat16 ? dnnl_bf16 : dnnl_f32
    }

    /// Whether two memory descriptors describe the same layout.
    static func same(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var (a, b) = (a, b)
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// Row-major strides of `dimensions`.
    static func denseStrides(_ dimensions: [Int]) -> [Int] { Shape(dimensions).strides }

    /// `attributes` (new ones when `nil`) set to the user-managed scratchpad mode. Every primitive
    /// here uses it: Debian's oneDNN 2.6 is built without concurrent execution, where the
    /// library's scratchpad is one global buffer, reallocated when a primitive needing more is
    /// created, and primitives may not move between threads. With a scratchpad of each
    /// execution's own (``Primitive/scratchpad``), primitives are created and run from any
    /// thread at once.
    static func userScratchpad(_ attributes: dnnl_primitive_attr_t?) throws -> dnnl_primitive_attr_t? {
        var attributes = attributes
        if attributes == nil { try check(dnnl_primitive_attr_create(&attributes), "attribute creation") }
        try check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "scratchpad mode")
        return attributes
    }
}

/// Logical dimensions over memory laid out with element strides.
struct StridedDims: Hashable {
    var dims: [Int]
    var strides: [Int]
}

/// A created primitive with its descriptor, destroyed with it.
final class Primitive: @unchecked Sendable {
    let primitive: dnnl_primitive_t
    let descriptor: dnnl_primitive_desc_t
    /// The scratch memory each execution needs (created with ``DNNL/userScratchpad(_:)``):
    /// its descriptor and size in bytes, `nil` when it needs none.
    let scratchpad: (descriptor: dnnl_memory_desc_t, bytes: Int)?

    init(descriptor: dnnl_primitive_desc_t) throws {
        var primitive: dnnl_primitive_t?
        try DNNL.check(dnnl_primitive_create(&primitive, descriptor), "primitive creation")
        guard let primitive else { throw BackendError.deviceFailure(backend: "onednn", reason: "primitive creation returned nothing") }
        self.primitive = primitive
        self.descriptor = descriptor
        if let md = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0) {
            let bytes = dnnl_memory_desc_get_size(md)
            scratchpad = bytes > 0 ? (md.pointee, Int(bytes)) : nil
        } else {
            scratchpad = nil
        }
    }

    deinit {
        for set in idle { set.destroy() }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// Memory objects of finished executions, for the next ones: oneDNN allocates each it
    /// creates (a small product's three took about 0.6 µs of its 6.5), and a primitive runs
    /// with the same descriptors every time, only at other addresses.
    private var idle: [MemorySet] = []
    private let idleLock = NSLock()

    /// Memory objects for `arguments` (argument index, address, descriptor), taken from an
    /// earlier execution whose descriptors match, else created; hand them back with ``keep(_:)``.
    func memories(for arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)], engine: dnnl_engine_t) throws -> MemorySet {
        if let set = idleLock.withLock({ idle.firstIndex { $0.matches(arguments) }.map { idle.remove(at: $0) } }) {
            do {
                for (argument, (_, pointer, _)) in zip(set.arguments, arguments) {
                    try DNNL.check(dnnl_memory_set_data_handle(argument.memory, pointer), "memory address")
                }
            } catch {
                set.destroy()
                throw error
            }
            return set
        }
        return try MemorySet(arguments, engine: engine)
    }

    /// Keeps `set` for a later execution (a few at most: one per thread running this primitive).
    func keep(_ set: MemorySet) {
        let kept = idleLock.withLock { () -> Bool in
            guard idle.count < 4 else { return false }
            idle.append(set)
            return true
        }
        if !kept { set.destroy() }
    }
}

/// The memory objects of one execution's arguments, with the descriptors they were made with.
struct MemorySet {
    let arguments: [dnnl_exec_arg_t]
    private let descriptors: [dnnl_memory_desc_t]

    init(_ arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)], engine: dnnl_engine_t) throws {
        var made: [dnnl_exec_arg_t] = []
        do {
            for (index, pointer, descriptor) in arguments {
                var memory: dnnl_memory_t?
                var md = descriptor
                try DNNL.check(dnnl_memory_create(&memory, &md, engine, pointer), "memory creation")
                made.append(dnnl_exec_arg_t(arg: index, memory: memory))
            }
        } catch {
            for argument in made { dnnl_memory_destroy(argument.memory) }
            throw error
        }
        self.arguments = made
        descriptors = arguments.map(\.2)
    }

    /// Whether these objects serve `arguments`: the same indices, in order, with equal descriptors.
    func matches(_ arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)]) -> Bool {
        guard arguments.count == self.arguments.count else { return false }
        for (index, argument) in arguments.enumerated() {
            guard argument.0 == self.arguments[index].arg, DNNL.same(argument.2, descriptors[index]) else { return false }
        }
        return true
    }

    func destroy() {
        for argument in arguments { dnnl_memory_destroy(argument.memory) }
    }
}

/// CPU streams, one per thread executing at once: a stream is not to be shared between threads.
final class StreamPool: @unchecked Sendable {
    private let lock = NSLock()
    private let engine: dnnl_engine_t
    private var idle: [dnnl_stream_t] = []
    private var all: [dnnl_stream_t] = []

    init(engine: dnnl_engine_t) { self.engine = engine }

    /// Runs `body` with a stream no other thread is using.
    func withStream<R>(_ body: (dnnl_stream_t) throws -> R) throws -> R {
        let stream = try lock.withLock { () throws -> dnnl_stream_t in
            if let stream = idle.popLast() { return stream }
            var created: dnnl_stream_t?
            try DNNL.check(dnnl_stream_create(&created, engine, dnnl_stream_default_flags.rawValue), "stream creation")
            guard let created else { throw BackendError.deviceFailure(backend: "onednn", reason: "stream creation returned nothing") }
            all.append(created)
            return created
        }
        defer { lock.withLock { idle.append(stream) } }
        return try body(stream)
    }

    /// Destroys every stream (when the backend goes).
    func destroyAll() {
        lock.withLock {
            for stream in all { dnnl_stream_destroy(stream) }
            (all, idle) = ([], [])
        }
    }
}

/// Values made once per key, behind a lock. Bounded: when `capacity` is reached, it starts over.
final class Memo<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Key: Value] = [:]
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    func value(for key: Key, create: () throws -> Value) throws -> Value {
        if let hit = lock.withLock({ entries[key] }) { return hit }
        let made = try create()
        lock.withLock {
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = made
        }
        return made
    }
}

/// What names a cached primitive: its kind in words (`conv forward`, `pool backward bfloat16`),
/// which ``PrimitiveCache/kinds`` reports, and the values that decide it. The values are
/// hashed, never printed: formatting a geometry's arrays into a string took about 7 µs a key,
/// more than a small primitive takes to run.
struct PrimitiveKey: Hashable {
    let kind: String
    let geometry: [AnyHashable]

    /// `base`, followed by the dtype when it is not float32 (so that the dtype is part of the kind).
    static func kind(_ base: String, _ dtype: DType) -> String {
        dtype == .float32 ? base : base + " " + dtype.rawValue
    }
}

/// Created primitives by key, so that a training step creates none after the first, counted
/// as they are created.
final class PrimitiveCache: @unchecked Sendable {
    private let primitives = Memo<PrimitiveKey, Primitive>()
    private let lock = NSLock()
    private var createdCount = 0
    private var createdKinds: Set<String> = []

    /// The number of primitives created so far.
    var created: Int { lock.withLock { createdCount } }

    /// The kinds of primitive created so far, e.g. `conv forward` or `matmul bfloat16`.
    var kinds: Set<String> { lock.withLock { createdKinds } }

    /// The primitive of `kind` for the values `geometry`, made by `create` the first time.
    func primitive(_ kind: String, _ geometry: AnyHashable..., create: () throws -> Primitive) throws -> Primitive {
        try primitives.value(for: PrimitiveKey(kind: kind, geometry: geometry)) {
            let made = try create()
            lock.withLock {
                createdCount += 1
                createdKinds.insert(kind)
            }
            return made
        }
    }
}
#endif
