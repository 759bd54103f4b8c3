import Backend
import Foundation

/// A traced function's backend calls in order, replayed on new arguments of the shapes it
/// was traced with: no layers, no autodiff records, no closures of pullbacks — only the
/// calls, each reading its operands from numbered slots. A slot's buffer is dropped right
/// after its last reader, so the memory goes back to the backend's pool for the next call;
/// when the plan holds the only reference to it, its last reader gets it donated
/// (``Backend/Buffer/isDonated``) and may write its result over it — an optimizer's update
/// then changes a parameter and its moments in place, when the caller let go of them.
/// On a backend that records work, each run of calls that issue the same work every time
/// (a ``RecordedSegment``) is recorded on the first run and submitted as one recording after.
final class Plan: @unchecked Sendable {
    private let calls: [Trace.Call]
    private let sources: [Trace.Source]
    private let outputs: [(name: String, view: Trace.View)]
    /// The computed slots no call after call `i` reads, which are not outputs.
    private let releases: [[Int]]
    /// The positions among call `i`'s operands of the argument and computed slots it reads
    /// last and once, which are not outputs: the operands it may be donated.
    private let donations: [[Int]]
    /// The segments still to record or recorded, by first call (guarded by `lock`).
    private var segments: [Int: RecordedSegment]
    /// Runs are serialised: a recording reuses its own buffers from run to run.
    private let lock = NSLock()

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
        let calls = Self.fused(Self.foldingNarrowingCasts(Self.live(trace.calls, results: kept), results: kept), results: kept)
        var lastReader: [Int: Int] = [:]
        for (index, call) in calls.enumerated() {
            for input in call.inputs { lastReader[input.slot] = index }
        }
        var releases = [[Int]](repeating: [], count: calls.count)
        var donations = [[Int]](repeating: [], count: calls.count)
        for (slot, index) in lastReader where !kept.contains(slot) {
            if case .computed = trace.sources[slot] { releases[index].append(slot) }
            if case .constant = trace.sources[slot] { continue }
            let positions = calls[index].inputs.indices.filter { calls[index].inputs[$0].slot == slot }
            if positions.count == 1 { donations[index].append(positions[0]) }
        }
        self.calls = calls
        self.sources = trace.sources
        self.outputs = outputs
        self.releases = releases
        self.donations = donations
        self.segments = RecordedSegment.segments(of: calls, sources: trace.sources, results: outputs.map(\.1))
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
    /// values of the `settings` it read when traced. An argument nothing but `arguments`
    /// references may be updated in place: the caller hands it over.
    func run(_ arguments: consuming [String: Tensor], rootKey: Philox.Key, settings: [String: Double] = [:]) throws -> [String: Tensor] {
        lock.lock()
        defer { lock.unlock() }
        return try runLocked(arguments, rootKey: rootKey, settings: settings)
    }

    private func runLocked(_ arguments: consuming [String: Tensor], rootKey: Philox.Key, settings: [String: Double]) throws -> [String: Tensor] {
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
        // The results live on the backend the calls ran on (or, with no call, the arguments').
        guard let owner = calls.last?.backend ?? arguments.values.first?.backend else {
            throw AxonError.invalidValue(operation: "compiled function", reason: "has no backend to run on")
        }
        // The slots now hold the arguments' only references where the caller kept none.
        arguments = [:]
        func read(_ view: Trace.View, by call: Trace.Call?) throws -> Buffer {
            guard let storage = slots[view.slot] else { throw unfilled(call, view) }
            return Buffer(storage: storage, shape: view.shape, dtype: view.dtype)
        }
        var index = 0
        while index < calls.count {
            if let segment = segments[index] {
                // A segment that cannot be recorded is dropped or split; look again.
                guard let results = try runRecorded(segment, try segment.inputs.map { try read($0, by: nil) }, rootKey, settings) else { continue }
                for (view, result) in zip(segment.outputs, results) { slots[view.slot] = result.storage }
                for call in segment.calls { for slot in releases[call] { slots[slot] = nil } }
                index = segment.calls.upperBound
                continue
            }
            let call = calls[index]
            var operands: [Buffer] = []
            for (position, view) in call.inputs.enumerated() {
                // Taken out of the slots at its last reader, a storage nothing else holds is donated.
                if donations[index].contains(position), var storage = slots[view.slot].take() {
                    let donated = Self.isUniquelyReferenced(&storage)
                    operands.append(Buffer(storage: storage, shape: view.shape, dtype: view.dtype, isDonated: donated))
                } else {
                    operands.append(try read(view, by: call))
                }
            }
            let results = try perform(call, operands, rootKey, settings)
            for (view, result) in zip(call.outputs, results) { slots[view.slot] = result.storage }
            for slot in releases[index] { slots[slot] = nil }
            index += 1
        }
        var results: [String: Tensor] = [:]
        for (name, view) in outputs {
            guard let storage = slots[view.slot] else { throw unfilled(nil, view) }
            results[name] = Tensor(buffer: Buffer(storage: storage, shape: view.shape, dtype: view.dtype), backend: owner)
        }
        return results
    }

    /// Makes `call` on `inputs` and checks that it returned what the trace saw.
    private func perform(_ call: Trace.Call, _ inputs: [Buffer], _ rootKey: Philox.Key, _ settings: [String: Double]) throws -> [Buffer] {
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
        }
        return results
    }

    /// The outputs of `segment` run from its recording, made on first use; `nil` when the
    /// backend does not record (the segment is dropped) or one of its calls cannot be recorded
    /// (the segment is split around that call, which then runs as a plain call).
    private func runRecorded(
        _ segment: RecordedSegment, _ inputs: [Buffer], _ rootKey: Philox.Key, _ settings: [String: Double]
    ) throws -> [Buffer]? {
        if segment.work == nil {
            var failing: Int?
            do {
                segment.work = try segment.backend.recordWork(inputs: inputs) { cells in
                    var local = Dictionary(zip(segment.inputs.map(\.slot), cells.map(\.storage)), uniquingKeysWith: { first, _ in first })
                    func storage(_ slot: Int) -> (any BufferStorage)? {
                        if let storage = local[slot] { return storage }
                        if case let .constant(storage) = sources[slot] { return storage }
                        return nil
                    }
                    for index in segment.calls {
                        failing = index
                        let call = calls[index]
                        let operands = try call.inputs.map { view in
                            guard let storage = storage(view.slot) else { throw unfilled(call, view) }
                            return Buffer(storage: storage, shape: view.shape, dtype: view.dtype)
                        }
                        for (view, result) in zip(call.outputs, try perform(call, operands, rootKey, settings)) { local[view.slot] = result.storage }
                    }
                    failing = nil
                    return try segment.outputs.map { view in
                        guard let storage = storage(view.slot) else { throw unfilled(nil, view) }
                        return Buffer(storage: storage, shape: view.shape, dtype: view.dtype)
                    }
                }
            } catch {
                segments[segment.calls.lowerBound] = nil
                if let failing { segments.merge(segment.split(around: failing, of: calls, sources: sources, results: outputs.map(\.view))) { $1 } }
                return nil
            }
        }
        guard let work = segment.work else {
            segments[segment.calls.lowerBound] = nil
            return nil
        }
        let results = try work.run(inputs, keeping: segment.keeping)
        guard results.count == segment.outputs.count else {
            throw AxonError.invalidValue(operation: "compiled function", reason: "a recording returned \(results.count) buffers where it made \(segment.outputs.count)")
        }
        for (view, result) in zip(segment.outputs, results) where result.shape.elementCount != view.shape.elementCount || result.dtype != view.dtype {
            throw AxonError.invalidValue(
                operation: "compiled function", reason: "a recording returned \(result.dtype) \(result.shape) where it made \(view.dtype) \(view.shape)")
        }
        return results
    }

    /// Whether `storage` holds the only reference to its object (opened from the existential).
    private static func isUniquelyReferenced<Storage: BufferStorage>(_ storage: inout Storage) -> Bool {
        isKnownUniquelyReferenced(&storage)
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
