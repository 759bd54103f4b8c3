import Backend
import Foundation

/// A record of the backend calls one run of a function makes, with the buffers each reads and
/// writes, from which a ``Plan`` is built.
///
/// Every buffer a call reads must be accounted for: an argument of the traced function, the
/// result of an earlier recorded call, or a constant created during the trace (`full`,
/// `upload`, `iota`). Anything else — a value computed outside the recorded funnels, a value
/// read back to the host — makes the trace fail, and the function then runs eagerly. A
/// failed trace therefore costs speed, never correctness.
final class Trace {
    /// How a slot gets its buffer when the plan runs.
    enum Source {
        case argument(String)
        case constant(any BufferStorage)
        case computed
    }

    /// One storage slot seen with a shape and dtype.
    struct View {
        let slot: Int
        let shape: Shape
        let dtype: DType
    }

    /// How a call runs: on a backend, its operands, its Philox key and its settings' values.
    typealias Run = (any Backend, [Buffer], Philox.Key?, [Double]) throws -> [Buffer]

    /// One recorded backend call.
    struct Call {
        let operation: String
        let backend: any Backend
        let inputs: [View]
        let outputs: [View]
        /// Where the call's Philox key comes from at replay, if it takes one.
        let key: KeySource?
        /// The names of the settings the call reads, in the order `run` takes their values.
        let settings: [String]
        /// The elementwise primitive the call runs, which a plan may fuse with its neighbours.
        let elementwise: Elementwise?
        /// For a call that can write its first output in a narrower dtype itself, the call
        /// doing so: a plan folds a cast that narrows the output into it.
        var narrowed: ((DType) -> Run)? = nil
        let run: Run
    }

    /// An elementwise primitive, applied to the call's inputs in order.
    enum Elementwise {
        case unary(UnaryOperation)
        case binary(BinaryOperation)
        /// A conversion of the one input to the dtype.
        case cast(DType)
    }

    /// A Philox key as a function of the traced function's root key.
    enum KeySource {
        /// The same key on every replay.
        case fixed(Philox.Key)
        /// The root key folded with these names in turn.
        case folded([String])
    }

    let rootKey: Philox.Key
    /// The host values the traced function was called with that may change from call to call
    /// (a learning rate, a step number), by name.
    let settings: [String: Double]
    private(set) var calls: [Call] = []
    private(set) var sources: [Source] = []
    /// Why the trace cannot become a plan; the first reason found.
    private(set) var failure: String?
    private var slots: [ObjectIdentifier: Int] = [:]
    /// Every storage seen, kept alive so that no identity is reused while tracing.
    private var retained: [any BufferStorage] = []
    /// Keys derived from others by name (``noteFold(_:name:_:)``): child → (parent, name).
    private var folds: [Philox.Key: (parent: Philox.Key, name: String)] = [:]

    init(rootKey: Philox.Key, settings: [String: Double] = [:]) {
        self.rootKey = rootKey
        self.settings = settings
    }

    /// Marks the trace unusable, keeping the first reason.
    func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    /// Registers an argument of the traced function.
    func argument(_ name: String, _ buffer: Buffer) {
        let id = ObjectIdentifier(buffer.storage)
        if let slot = slots[id], case let .argument(other) = sources[slot] {
            // A plan fills each slot from one argument; two names for one storage cannot be replayed faithfully.
            fail("arguments '\(other)' and '\(name)' are the same buffer")
            return
        }
        newSlot(for: buffer.storage, .argument(name))
    }

    /// Registers a buffer created during the trace from host values alone.
    func constant(_ buffer: Buffer) {
        if slots[ObjectIdentifier(buffer.storage)] == nil { newSlot(for: buffer.storage, .constant(buffer.storage)) }
    }

    /// Notes that `child` is `parent` folded with `name`, so a call keyed by `child` can be
    /// replayed with the key derived the same way from another root.
    func noteFold(_ parent: Philox.Key, name: String, _ child: Philox.Key) {
        if folds[child] == nil, child != rootKey { folds[child] = (parent, name) }
    }

    /// The view of `buffer`, or `nil` (and the trace failed) when nothing recorded produced it.
    func view(of buffer: Buffer, _ operation: String) -> View? {
        guard let slot = slots[ObjectIdentifier(buffer.storage)] else {
            fail("'\(operation)' reads a \(buffer.dtype) \(buffer.shape) value computed outside the recorded operations")
            return nil
        }
        return View(slot: slot, shape: buffer.shape, dtype: buffer.dtype)
    }

    /// Records one call that read `inputs` and produced `outputs`.
    func record(
        _ operation: String, backend: any Backend, inputs: [Buffer], outputs: [Buffer], key: Philox.Key?,
        settings: [(name: String, value: Double)], elementwise: Elementwise?, narrowed: ((DType) -> Run)?, run: @escaping Run
    ) {
        guard failure == nil else { return }
        // A replay takes each value from the call's settings by name; a value from anywhere else would be frozen.
        for (name, value) in settings where self.settings[name]?.bitPattern != value.bitPattern {
            fail("'\(operation)' reads \(name) = \(value), which is not a setting the compiled function was called with")
            return
        }
        var inputViews: [View] = []
        for input in inputs {
            guard let view = view(of: input, operation) else { return }
            inputViews.append(view)
        }
        // A call of constants alone, drawing no random bits and reading no setting, gives the
        // same values on every replay: its outputs become constants and the call goes (a
        // mean's gradient, the upstream 1 divided by the count and broadcast, costs no call).
        if key == nil, settings.isEmpty, inputViews.allSatisfy({ if case .constant = sources[$0.slot] { true } else { false } }) {
            for output in outputs { constant(output) }
            return
        }
        let outputViews = outputs.map { output in
            let slot = slots[ObjectIdentifier(output.storage)] ?? newSlot(for: output.storage, .computed)
            return View(slot: slot, shape: output.shape, dtype: output.dtype)
        }
        calls.append(Call(
            operation: operation, backend: backend, inputs: inputViews, outputs: outputViews, key: key.map(source),
            settings: settings.map(\.name), elementwise: elementwise, narrowed: narrowed, run: run))
    }

    /// Where `key` comes from: a chain of noted folds back to the root, else itself.
    private func source(_ key: Philox.Key) -> KeySource {
        var names: [String] = []
        var current = key
        while current != rootKey {
            guard let (parent, name) = folds[current], names.count < 64 else { return .fixed(key) }
            names.append(name)
            current = parent
        }
        return .folded(names.reversed())
    }

    @discardableResult
    private func newSlot(for storage: any BufferStorage, _ source: Source) -> Int {
        let slot = sources.count
        sources.append(source)
        slots[ObjectIdentifier(storage)] = slot
        retained.append(storage)
        return slot
    }
}

/// The trace being recorded on this thread, if any.
enum Tracing {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The active trace of the calling thread.
    static var current: Trace? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<Trace>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Runs `body` with `trace` recording every computation on this thread.
    static func recording<T>(into trace: Trace, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(trace).toOpaque())
        defer { pthread_setspecific(key, previous) }
        return try body()
    }
}

extension Tensor {
    /// Runs `body` on the operands' buffers: the one way the library computes a buffer from
    /// tensors, so that a trace (``CompiledFunction``) can record the call and replay it.
    /// `body` must read only the buffers it is handed, never a buffer it captured.
    /// An operation without operands (random bits) names its `backend`.
    static func computeBuffers(
        _ operation: String, _ inputs: [Tensor], on backend: (any Backend)? = nil, key: Philox.Key? = nil,
        elementwise: Trace.Elementwise? = nil, _ body: @escaping (any Backend, [Buffer], Philox.Key?) throws -> [Buffer]
    ) throws -> (backend: any Backend, outputs: [Buffer]) {
        try computeBuffers(operation, inputs, on: backend, key: key, settings: [], elementwise: elementwise) { backend, buffers, key, _ in
            try body(backend, buffers, key)
        }
    }

    /// ``computeBuffers(_:_:on:key:_:)`` for an operation that also reads host values which
    /// change from one call of a compiled function to the next (a learning rate, a step
    /// number): each must be one of the function's settings, under its name, and a replay
    /// hands `body` that call's values in the order given. `narrowed`, for an operation that can
    /// write its first output in a narrower dtype itself, gives the body doing so.
    static func computeBuffers(
        _ operation: String, _ inputs: [Tensor], on backend: (any Backend)? = nil, key: Philox.Key? = nil,
        settings: [(name: String, value: Double)], elementwise: Trace.Elementwise? = nil, narrowed: ((DType) -> Trace.Run)? = nil,
        _ body: @escaping Trace.Run
    ) throws -> (backend: any Backend, outputs: [Buffer]) {
        let backend = try backend?.checked ?? commonBackend(operation, inputs)
        let buffers = inputs.map(\.buffer)
        let outputs = try body(backend, buffers, key, settings.map(\.value))
        Tracing.current?.record(
            operation, backend: backend, inputs: buffers, outputs: outputs, key: key, settings: settings, elementwise: elementwise,
            narrowed: narrowed, run: body)
        return (backend, outputs)
    }

    /// ``computeBuffers(_:_:on:key:_:)`` for an operation drawing Philox bits from `key`: a
    /// replayed plan hands `body` the key derived for that run.
    static func computeBuffers(
        _ operation: String, _ inputs: [Tensor], on backend: (any Backend)? = nil, key: Philox.Key,
        _ body: @escaping (any Backend, [Buffer], Philox.Key) throws -> [Buffer]
    ) throws -> (backend: any Backend, outputs: [Buffer]) {
        try computeBuffers(operation, inputs, on: backend, key: Optional(key)) { backend, buffers, replayed in
            try body(backend, buffers, replayed ?? key)
        }
    }

    /// ``computeBuffers(_:_:on:key:_:)`` for one result, as an untracked tensor.
    static func computed(
        _ operation: String, _ inputs: [Tensor], elementwise: Trace.Elementwise? = nil, _ body: @escaping (any Backend, [Buffer]) throws -> Buffer
    ) throws -> Tensor {
        let (backend, outputs) = try computeBuffers(operation, inputs, elementwise: elementwise) { backend, buffers, _ in [try body(backend, buffers)] }
        return Tensor(buffer: outputs[0], backend: backend)
    }

    /// A buffer made from host values alone on `backend` (a trace keeps it as a constant).
    static func created(on backend: any Backend, _ create: (any Backend) throws -> Buffer) throws -> Tensor {
        let tensor = Tensor(buffer: try create(backend.checked), backend: backend)
        Tracing.current?.constant(tensor.buffer)
        return tensor
    }
}
