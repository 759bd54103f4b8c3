import AxonCore
import Backend
import Dispatch
import Foundation
import Testing

/// A built model is `Sendable`: one model may serve predictions from many threads at once.
@Suite("Conformance: concurrent inference on every backend")
struct ConcurrencyTests {
    /// A CNN with batch norm (inference statistics), pooling and dense layers: most kinds of op.
    let model = Axon.input("features", shape: [nil, 12, 12, 1])
        .conv(8, kernelSize: [3], padding: .same, activation: .relu).batchNorm().maxPool()
        .flatten().dense(16, activation: .tanh).dense(4).softmax()

    @Test("one built model's predict from 8 threads at once equals serial calls, bit for bit", arguments: ConformanceBackends.names)
    func predictFromEightThreads(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        let built = try model.build(on: backend, mode: .inference)
        let variables = try built.initialize(seed: 7)
        let inputs = try (0..<8).map { thread in
            let values = Philox.bits(key: Philox.Key(seed: UInt64(thread)), offset: 0, count: 3 * 144).map { Philox.unitFloat($0) }
            return try Tensor(values, shape: [3, 12, 12, 1], on: backend)
        }
        let serial = try inputs.map { try built.predict(variables, inputs: ["features": $0]).output().array }
        let rounds = 6
        let results = Results(count: inputs.count * rounds)
        DispatchQueue.concurrentPerform(iterations: inputs.count * rounds) { index in
            results.set(index) { try built.predict(variables, inputs: ["features": inputs[index % inputs.count]]).output().array }
        }
        for index in 0..<(inputs.count * rounds) {
            let outcome = results.get(index)
            #expect(outcome == .success(serial[index % inputs.count]), "call \(index) on thread input \(index % inputs.count)")
        }
    }

    /// Outcomes written by concurrent calls, each slot by one call.
    final class Results: @unchecked Sendable {
        enum Outcome: Equatable {
            case success(HostArray)
            case failure(String)
            case missing
        }

        private let lock = NSLock()
        private var outcomes: [Outcome]

        init(count: Int) { outcomes = Array(repeating: .missing, count: count) }

        func set(_ index: Int, _ body: () throws -> HostArray) {
            let outcome: Outcome
            do { outcome = .success(try body()) } catch { outcome = .failure("\(error)") }
            lock.withLock { outcomes[index] = outcome }
        }

        func get(_ index: Int) -> Outcome { lock.withLock { outcomes[index] } }
    }
}
