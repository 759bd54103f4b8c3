import Backend

/// A traced function's backend calls in order, replayed on new arguments of the shapes it
/// was traced with: no layers, no autodiff records, no closures of pullbacks — only the
/// calls, each reading its operands from numbered slots. A slot's buffer is dropped right
/// after its last reader, so the memory goes back to the backend's pool for the next call.
final class Plan {
    private let calls: [Trace.Call]
    private let sources: [Trace.Source]
    private let outputs: [(name: String, view: Trace.View)]
    /// The computed slots no call after call `i` reads, which are not outputs.
    private let releases: [[Int]]

    /// The plan of a successful trace whose function returned `results`, or `nil` (and the
    /// trace failed) when a result was not computed by a recorded call.
    init?(_ trace: Trace, results: [String: Tensor]) {
        var outputs: [(String, Trace.View)] = []
        for (name, tensor) in results.sorted(by: { $0.key < $1.key }) {
            guard let view = trace.view(of: tensor.buffer, "the result '\(name)'") else { return nil }
            outputs.append((name, view))
        }
        guard trace.failure == nil else { return nil }
        let kept = Set(outputs.map(\.1.slot))
        let calls = Self.fused(Self.live(trace.calls, results: kept), results: kept)
        var lastReader: [Int: Int] = [:]
        for (index, call) in calls.enumerated() {
            for input in call.inputs { lastReader[input.slot] = index }
        }
        var releases = [[Int]](repeating: [], count: calls.count)
        for (slot, index) in lastReader where !kept.contains(slot) {
            if case .computed = trace.sources[slot] { releases[index].append(slot) }
        }
        self.calls = calls
        self.sources = trace.sources
        self.outputs = outputs
        self.releases = releases
    }

    /// The calls that a result depends on, in order. Backend calls are pure — they read
    /// immutable buffers and return new ones — so a call nothing reads can go: an eager step
    /// computes values its traced function never uses (a policy layer's float32 copy of an
    /// output the next layer reads in bfloat16), and the plan leaves them out.
    static func live(_ calls: [Trace.Call], results: Set<Int>) -> [Trace.Call] {
        var needed = results
        var kept: [Trace.Call] = []
        for call in calls.reversed() where call.outputs.contains(where: { needed.contains($0.slot) }) {
            kept.append(call)
            for input in call.inputs { needed.insert(input.slot) }
        }
        return kept.reversed()
    }

    /// The number of backend calls a run makes.
    var callCount: Int { calls.count }

    /// Runs the calls on `arguments` (the names and shapes traced), drawing random bits from
    /// keys derived from `rootKey` as the traced run derived them and handing each call the
    /// values of the `settings` it read when traced.
    func run(_ arguments: [String: Tensor], rootKey: Philox.Key, settings: [String: Double] = [:]) throws -> [String: Tensor] {
        var slots = [(any BufferStorage)?](repeating: nil, count: sources.count)
        for (slot, source) in sources.enumerated() {
            switch source {
            case let .argument(name):
                guard let tensor = arguments[name] else {
                    throw AxonError.invalidValue(operation: "compiled function", reason: "argument '\(name)' is missing")
                }
                slots[slot] = tensor.buffer.storage
            case let .constant(storage): slots[slot] = storage
            case .computed: break
            }
        }
        for (index, call) in calls.enumerated() {
            let inputs = try call.inputs.map { view in
                guard let storage = slots[view.slot] else { throw unfilled(call, view) }
                return Buffer(storage: storage, shape: view.shape, dtype: view.dtype)
            }
            let values = try call.settings.map { name in
                guard let value = settings[name] else {
                    throw AxonError.invalidValue(operation: "compiled function", reason: "'\(call.operation)' reads the setting '\(name)', which was not given")
                }
                return value
            }
            let results = try call.run(call.backend, inputs, call.key.map { key(for: $0, from: rootKey) }, values)
            guard results.count == call.outputs.count else { throw changed(call, "returned \(results.count) results") }
            for (view, result) in zip(call.outputs, results) {
                guard result.shape == view.shape, result.dtype == view.dtype else {
                    throw changed(call, "returned \(result.dtype) \(result.shape) where the trace saw \(view.dtype) \(view.shape)")
                }
                slots[view.slot] = result.storage
            }
            for slot in releases[index] { slots[slot] = nil }
        }
        // The results live on the backend the calls ran on (or, with no call, the arguments').
        guard let owner = calls.last?.backend ?? arguments.values.first?.backend else {
            throw AxonError.invalidValue(operation: "compiled function", reason: "has no backend to run on")
        }
        var results: [String: Tensor] = [:]
        for (name, view) in outputs {
            guard let storage = slots[view.slot] else { throw unfilled(nil, view) }
            results[name] = Tensor(buffer: Buffer(storage: storage, shape: view.shape, dtype: view.dtype), backend: owner)
        }
        return results
    }

    private func key(for source: Trace.KeySource, from root: Philox.Key) -> Philox.Key {
        switch source {
        case let .fixed(key): return key
        case let .folded(names): return names.reduce(root) { $0.folded(with: $1) }
        }
    }

    private func unfilled(_ call: Trace.Call?, _ view: Trace.View) -> AxonError {
        AxonError.invalidValue(
            operation: "compiled function",
            reason: "no value for the \(view.dtype) \(view.shape) operand of \(call.map { "'\($0.operation)'" } ?? "a result") (a planning error)")
    }

    private func changed(_ call: Trace.Call, _ what: String) -> AxonError {
        AxonError.invalidValue(operation: "compiled function", reason: "'\(call.operation)' \(what) on replay")
    }
}
