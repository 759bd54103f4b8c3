import Backend
import Foundation

/// A function of named tensors compiled for the shapes it is called with, as JAX's `jit` and
/// MLX's `compile`: the first call with new argument shapes runs the function and records
/// every backend call it makes (a trace); the second runs it again and replays the record
/// beside it, and keeps the record only if the two results agree bit for bit; every later
/// call replays the record alone — the backend calls, without the layers, the autodiff
/// bookkeeping or the host code around them.
///
/// A function that cannot be replayed — it reads a value back to the host, runs layer
/// hooks, computes outside the library's operations, or depends on something besides its
/// arguments and `randomKey` — keeps running eagerly, and ``eagerReasons`` says why.
/// Random bits drawn from keys folded from `randomKey` (as a model's layers do) are drawn
/// from the same folds of each call's key.
///
/// ```swift
/// let square = CompiledFunction { arguments, _ in
///     guard let x = arguments["x"] else { return [:] }
///     return ["y": try x * x]
/// }
/// for value in [1, 2, 3] as [Float] {
///     let y = try square(["x": try Tensor([value], on: backend)])["y"]
///     print(try y?.item() ?? .nan)  // 1, 4, 9; the third call replays the plan
/// }
/// ```
public final class CompiledFunction: @unchecked Sendable {
    /// The function: named tensors and a Philox key in, named tensors out.
    public typealias Body = (_ arguments: [String: Tensor], _ randomKey: Philox.Key) throws -> [String: Tensor]

    private enum Stage {
        /// Traced once; the next call checks the replay against the function.
        case unverified(Plan)
        /// Replayed on every call.
        case compiled(Plan)
        /// Run as written, for the reason given.
        case eager(String)
    }

    /// The argument names, shapes, dtypes and backend and the setting names a plan was traced for.
    private struct Signature: Hashable {
        let names: [String]
        let settings: [String]
        let shapes: [Shape]
        let dtypes: [DType]
        let backend: ObjectIdentifier?
    }

    /// The function with the host settings it was called with (see ``call(_:settings:randomKey:)``).
    typealias SettingsBody = (_ arguments: [String: Tensor], _ randomKey: Philox.Key, _ settings: [String: Double]) throws -> [String: Tensor]

    private let body: SettingsBody
    private let lock = NSLock()
    private var stages: [Signature: Stage] = [:]

    /// Compiles `body` lazily, per argument signature.
    public init(_ body: @escaping Body) { self.body = { arguments, key, _ in try body(arguments, key) } }

    /// Compiles a function that also reads host settings.
    init(withSettings body: @escaping SettingsBody) { self.body = body }

    /// How many argument signatures run as replayed plans.
    public var compiledSignatures: Int {
        lock.withLock { stages.values.filter { if case .compiled = $0 { true } else { false } }.count }
    }

    /// Why signatures run eagerly, one reason each.
    public var eagerReasons: [String] {
        lock.withLock { stages.values.compactMap { if case let .eager(reason) = $0 { reason } else { nil } }.sorted() }
    }

    /// Calls the function: eagerly, traced, checked against its plan, or replayed, by how
    /// often these argument shapes were seen (see the type's description).
    public func callAsFunction(_ arguments: [String: Tensor], randomKey: Philox.Key = Philox.Key(seed: 0)) throws -> [String: Tensor] {
        try call(arguments, settings: [:], randomKey: randomKey)
    }

    /// Calls the function with host `settings`: values that change from call to call (a
    /// learning rate, a step number) and that its operations read by name (see
    /// `Tensor.computeBuffers(_:_:on:key:settings:_:)`); a replay hands them this call's values.
    ///
    /// A replay may update in place an argument that nothing but `arguments` references (see
    /// ``Backend/Buffer/isDonated``): a caller that lets go of its tensors, as a trainer lets go
    /// of the parameters and moments its step returns updated, saves their copies.
    func call(_ arguments: consuming [String: Tensor], settings: [String: Double], randomKey: Philox.Key) throws -> [String: Tensor] {
        // Inside another trace the outer one records these operations.
        if Tracing.current != nil { return try body(arguments, randomKey, settings) }
        let signature = Self.signature(arguments, settings)
        switch lock.withLock({ stages[signature] }) {
        case let .compiled(plan)?:
            return try plan.run(consume arguments, rootKey: randomKey, settings: settings)
        case .eager?:
            return try body(arguments, randomKey, settings)
        case let .unverified(plan)?:
            let results = try body(arguments, randomKey, settings)
            let verdict = try Self.difference(results, try plan.run(arguments, rootKey: randomKey, settings: settings))
            settle(signature, verdict.map { .eager("its replay differed from the function: \($0)") } ?? .compiled(plan))
            return results
        case nil:
            let trace = Trace(rootKey: randomKey, settings: settings)
            for name in signature.names { if let tensor = arguments[name] { trace.argument(name, tensor.buffer) } }
            let results = try Tracing.recording(into: trace) { try body(arguments, randomKey, settings) }
            if let plan = Plan(trace, results: results) {
                settle(signature, .unverified(plan))
            } else {
                settle(signature, .eager(trace.failure ?? "it could not be traced"))
            }
            return results
        }
    }

    /// The signature of a call on `arguments` with `settings`.
    private static func signature(_ arguments: [String: Tensor], _ settings: [String: Double]) -> Signature {
        let names = arguments.keys.sorted()
        let tensors = names.compactMap { arguments[$0] }
        return Signature(
            names: names, settings: settings.keys.sorted(), shapes: tensors.map(\.shape), dtypes: tensors.map(\.dtype),
            backend: tensors.first.map { ObjectIdentifier(($0.backend as? CheckedBackend)?.implementation ?? $0.backend) })
    }

    /// Calls the function as written, without tracing or replaying.
    public func eager(_ arguments: [String: Tensor], randomKey: Philox.Key = Philox.Key(seed: 0)) throws -> [String: Tensor] {
        try body(arguments, randomKey, [:])
    }

    private func settle(_ signature: Signature, _ stage: Stage) {
        lock.withLock { stages[signature] = stage }
    }

    /// The first way `replayed` differs from `expected` (names, shapes, dtypes or any bit of
    /// any element), or `nil` when they are identical.
    private static func difference(_ expected: [String: Tensor], _ replayed: [String: Tensor]) throws -> String? {
        guard expected.keys.sorted() == replayed.keys.sorted() else { return "it returned other names" }
        for name in expected.keys.sorted() {
            guard let a = expected[name], let b = replayed[name] else { continue }
            guard a.shape == b.shape, a.dtype == b.dtype else { return "'\(name)' has another shape or dtype" }
            guard try bits(a.array) == bits(b.array) else { return "'\(name)' has other values" }
        }
        return nil
    }

    /// The elements' bit patterns, so that NaNs and signed zeros compare exactly.
    private static func bits(_ array: HostArray) -> [UInt32] {
        switch array.elements {
        case let .float32(values): return values.map(\.bitPattern)
        case let .bfloat16(values): return values.map { UInt32($0.bitPattern) }
        case let .int32(values): return values.map { UInt32(bitPattern: $0) }
        case let .uint32(values): return values
        case let .bool(values): return values.map { $0 ? 1 : 0 }
        }
    }
}
