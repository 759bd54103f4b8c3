import AxonCore
import Backend
import Foundation
import Testing

/// Collects what hooks see, across the closures that report it.
final class HookRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [(layer: String, values: [Float])] = []
    func record(_ layer: String, _ value: Tensor) throws {
        let values = try value.scalars
        lock.withLock { seen.append((layer, values)) }
    }
    var records: [(layer: String, values: [Float])] { lock.withLock { seen } }
}

struct HookRefused: Error, CustomStringConvertible {
    var description: String { "values out of range" }
}

/// Graph rewriting, freezing by name or predicate, and hooks.
@Suite("Model surgery and hooks")
struct SurgeryTests {
    let x = Axon.input("x", shape: [nil, 4])

    @Test("rewriteNodes replaces every node of a kind; a replacement given the node's name keeps later names")
    func rewriteByKind() throws {
        let model = x.dense(3).relu().dropout(rate: 0.5).dense(2)
        let rewritten = try model.rewriteNodes { node in node.kind == "relu" ? { $0[0].tanh(name: node.name) } : nil }
        #expect(try rewritten.layers().map(\.kind) == ["input", "dense", "tanh", "dropout", "dense"])
        // The same as building it with tanh in the first place.
        let direct = x.dense(3).tanh(name: "relu_0").dropout(rate: 0.5).dense(2)
        let (a, b) = (try rewritten.build(on: backend), try direct.build(on: backend))
        let input = ["x": try sample([5, 4], seed: 3)]
        #expect(try a.predict(a.initialize(seed: 1), inputs: input).output().scalars == b.predict(b.initialize(seed: 1), inputs: input).output().scalars)
        // By name: only dense_1 is replaced.
        let wider = try model.rewriteNodes { node in node.name == "dense_1" ? { $0[0].dense(6, name: "head") } : nil }
        #expect(try wider.layers().last?.outputShape == [nil, 6])
        #expect(try wider.layers().map(\.name) == ["x", "dense_0", "relu_0", "dropout_0", "head"])
    }

    @Test("removeNodes takes each removed node's first input in its place; an input cannot be removed")
    func removeNodes() throws {
        let model = x.dense(3).dropout(rate: 0.5).relu().dense(2)
        #expect(try model.removeNodes { $0.kind == "dropout" }.layers().map(\.kind) == ["input", "dense", "relu", "dense"])
        let error = try #require(throws: AxonError.self) { try model.removeNodes { $0.kind == "input" } }
        #expect("\(error)".contains("cannot be removed: it has no input"), "\(error)")
    }

    @Test("freeze and unfreeze by predicate and by name decide which parameters train")
    func freezeByPredicateAndName() throws {
        let model = x.dense(3).batchNorm().dense(2)
        let frozenDense = try model.freeze { $0.kind == "dense" }
        #expect(try frozenDense.build(on: backend).frozenParameters == ["dense_0.kernel", "dense_0.bias", "dense_1.kernel", "dense_1.bias"])
        let head = try frozenDense.unfreeze(["dense_1"])
        let built = try head.build(on: backend)
        #expect(built.frozenParameters == ["dense_0.kernel", "dense_0.bias"])
        #expect(built.trainableParameters(try built.initialize(seed: 0)).names == [
            "batch_norm_0.beta", "batch_norm_0.gamma", "dense_1.bias", "dense_1.kernel",
        ])
        #expect(try model.freeze().unfreeze { _ in true }.build(on: backend).frozenParameters.isEmpty)
        let error = try #require(throws: AxonError.self) { try model.freeze(["dense_9"]) }
        #expect("\(error)".contains("no layer named 'dense_9'; layers: x, dense_0, batch_norm_0, dense_1"), "\(error)")
    }

    @Test("a forward hook sees the layer's output each time the model runs")
    func forwardHook() throws {
        let recorder = HookRecorder()
        let model = x.dense(3).hook(.forward) { try recorder.record($0, $1) }.relu().dense(2)
        let built = try model.build(on: backend)
        let variables = try built.initialize(seed: 2)
        let input = try sample([2, 4], seed: 5)
        _ = try built.predict(variables, inputs: ["x": input])
        _ = try built.predict(variables, inputs: ["x": input])
        // What the first layer alone computes with the same parameter.
        let alone = try x.dense(3).build(on: backend)
        let expected = try alone.predict(ModelState(parameters: ["dense_0.kernel": variables.parameters.tensor("dense_0.kernel"), "dense_0.bias": variables.parameters.tensor("dense_0.bias")]), inputs: ["x": input]).output().scalars
        #expect(recorder.records.map(\.layer) == ["dense_0", "dense_0"])
        #expect(recorder.records.first?.values == expected)
    }

    @Test("a backward hook sees the gradient reaching the layer's output (hand-derived)")
    func backwardHook() throws {
        let recorder = HookRecorder()
        let model = x.dense(3).hook(.backward) { try recorder.record($0, $1) }.dense(2)
        let built = try model.build(on: backend)
        let variables = try built.initialize(seed: 4)
        let input = ["x": try sample([2, 4], seed: 6)]
        _ = try valueAndGradient(at: variables.parameters) { parameters in
            try built.predict(ModelState(parameters: parameters), inputs: input).output().sum()
        }
        // d(sum(h·W + b))/dh = the row sums of W, for every example.
        let kernel = try variables.parameters.tensor("dense_1.kernel").scalars  // [3, 2]
        let rowSums = (0..<3).map { kernel[2 * $0] + kernel[2 * $0 + 1] }
        #expect(recorder.records.map(\.layer) == ["dense_0"])
        expectClose(recorder.records.first?.values ?? [], rowSums + rowSums)
        // Without differentiation the backward hook never runs.
        _ = try built.predict(variables, inputs: input)
        #expect(recorder.records.count == 1)
    }

    @Test("a hook that throws stops the run with an error naming the layer")
    func throwingHook() throws {
        let model = x.dense(3, name: "probe").hook { _, _ in throw HookRefused() }.dense(2)
        let built = try model.build(on: backend)
        let error = try #require(throws: AxonError.self) {
            try built.predict(built.initialize(seed: 0), inputs: ["x": try sample([1, 4], seed: 1)])
        }
        #expect("\(error)".contains("probe") && "\(error)".contains("its forward hook failed: values out of range"), "\(error)")
    }
}
