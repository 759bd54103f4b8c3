import AxonCore
import Backend
import Foundation
import Testing

/// Training models with several outputs: a loss per output, weights, named targets, metrics per output.
@Suite("Multi-output training")
struct MultiOutputTrainingTests {
    /// Two heads on one trunk: `sum` regresses a + b, `larger` classifies whether a > b.
    var model: Axon {
        let trunk = Axon.input("x", shape: [nil, 2]).dense(16, activation: .tanh)
        return Axon.container(["sum": trunk.dense(1, name: "sum"), "larger": trunk.dense(2, name: "larger")])
    }

    func data(count: Int = 64) throws -> NamedDataset {
        let x = (0..<(2 * count)).map { Float(($0 * 29) % 23) / 23 - 0.5 }
        let sums = (0..<count).map { x[2 * $0] + x[2 * $0 + 1] }
        let larger = (0..<count).map { Int32(x[2 * $0] > x[2 * $0 + 1] ? 1 : 0) }
        return try NamedDataset(
            inputs: ["x": HostArray(shape: [count, 2], elements: .float32(x))],
            targets: ["sum": HostArray(shape: [count, 1], elements: .float32(sums)), "larger": HostArray(shape: [count], elements: .int32(larger))])
    }

    let losses: [String: Loss] = ["sum": .meanSquaredError, "larger": .categoricalCrossEntropy(fromLogits: true, sparse: true)]

    func parameters(_ state: LoopState) throws -> [String: [Float]] {
        try Dictionary(uniqueKeysWithValues: state.stepState.model.parameters.map { ($0.name, try $0.tensor.scalars) })
    }

    @Test("a loss per output trains both heads; metrics read one output each; validation reports them")
    func trainsBothHeads() throws {
        let loop = try Loop.trainer(model: model, losses: losses, weights: ["sum": 2], optimizer: .adam(learningRate: 0.02), on: backend)
            .metric(Metric.accuracy().on("larger"))
            .metric(Metric.meanAbsoluteError.on("sum"))
            .validate(on: try data(count: 32).batches(size: 32, on: backend))
        let final = try loop.run(try data().batches(size: 16, shuffle: true, seed: 3, on: backend), epochs: 30)
        let first = try #require(final.history.first), last = try #require(final.history.last)
        #expect(try #require(last["loss"]) < 0.5 * (try #require(first["loss"])))
        #expect(try #require(last["larger_accuracy"]) > 0.85, "\(last)")
        #expect(try #require(last["sum_mean_absolute_error"]) < 0.1, "\(last)")
        #expect(last["validation_larger_accuracy"] != nil && last["validation_loss"] != nil, "\(last)")
    }

    @Test("the loss is the weighted sum of the outputs' losses")
    func weightedSum() throws {
        let state = try model.build(on: backend).initialize(seed: 4)
        let batches = try data(count: 16).batches(size: 16, on: backend)
        func loss(_ losses: [String: Loss], _ weights: [String: Float] = [:]) throws -> Double {
            try #require(try Loop.evaluator(model: model, state: state, on: backend, losses: losses, weights: weights).run(batches, epochs: 1).metrics["loss"])
        }
        let (sum, larger) = (try loss(["sum": .meanSquaredError]), try loss(["larger": losses["larger"]!]))
        #expect(Swift.abs(try loss(losses, ["sum": 3, "larger": 0.5]) - (3 * sum + 0.5 * larger)) < 1e-5)
    }

    @Test("an output weighted 0 changes nothing: the same bits as training without its loss")
    func zeroWeight() throws {
        let batches = try data().batches(size: 16, on: backend)
        let only = try Loop.trainer(model: model, losses: ["sum": .meanSquaredError], optimizer: .sgd(learningRate: 0.1), on: backend)
        let zero = try Loop.trainer(model: model, losses: losses, weights: ["larger": 0], optimizer: .sgd(learningRate: 0.1), on: backend)
        #expect(try parameters(only.run(batches, epochs: 2)) == parameters(zero.run(batches, epochs: 2)))
    }

    @Test("bad objectives and batches are refused, naming the output")
    func badInput() throws {
        let unknown = try #require(throws: AxonError.self) {
            try Loop.trainer(model: model, losses: ["digit": .meanSquaredError], optimizer: .sgd(learningRate: 0.1), on: backend)
        }
        #expect("\(unknown)".contains("a loss for output 'digit', but the model's outputs are: sum, larger"), "\(unknown)")
        let stray = try #require(throws: AxonError.self) {
            try Loop.trainer(model: model, losses: ["sum": .meanSquaredError], weights: ["larger": 1], optimizer: .sgd(learningRate: 0.1), on: backend)
        }
        #expect("\(stray)".contains("a weight for output 'larger', which has no loss"), "\(stray)")
        let negative = try #require(throws: AxonError.self) {
            try Loop.trainer(model: model, losses: losses, weights: ["sum": -1], optimizer: .sgd(learningRate: 0.1), on: backend)
        }
        #expect("\(negative)".contains("weight of output 'sum' must be finite and not negative"), "\(negative)")

        let partial = try NamedDataset(inputs: data().inputs, targets: ["sum": data().targets["sum"]!])
        let loop = try Loop.trainer(model: model, losses: losses, optimizer: .sgd(learningRate: 0.1), on: backend)
        let missing = try #require(throws: AxonError.self) { try loop.run(try partial.batches(size: 16, on: backend), epochs: 1) }
        #expect("\(missing)".contains("no targets for output 'larger', which has a loss (it has targets for: sum)"), "\(missing)")

        let metric = try Loop.trainer(model: model, losses: losses, optimizer: .sgd(learningRate: 0.1), on: backend).metric(Metric.accuracy().on("digit"))
        let unread = try #require(throws: AxonError.self) { try metric.run(try data().batches(size: 16, on: backend), epochs: 1) }
        #expect("\(unread)".contains("it reads output 'digit', but the step has predictions for larger, sum"), "\(unread)")

        let uneven = try #require(throws: AxonError.self) {
            try NamedDataset(inputs: ["x": HostArray(shape: [3, 2], elements: .float32(Array(repeating: 0, count: 6)))],
                             targets: ["sum": HostArray(shape: [4, 1], elements: .float32([0, 0, 0, 0]))])
        }
        #expect("\(uneven)".contains("the same number of examples") && "\(uneven)".contains("target 'sum' [4, 1]"), "\(uneven)")
    }
}
