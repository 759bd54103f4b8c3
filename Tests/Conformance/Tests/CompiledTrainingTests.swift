import AxonConformance
import AxonCore
import Backend
import Testing

/// Issue 17: a compiled training step gives the eager step's results bit for bit: the plan
/// replays the very backend calls the eager step makes, in the same order.
@Suite("Conformance: compiled training equals eager training")
struct CompiledTrainingTests {
    static let recipes: [(name: String, model: Axon, optimizer: @Sendable () throws -> Optimizer)] = [
        ("MLP, Adam", TrainingRecipes.mlp, { try .adam(learningRate: 1e-3) }),
        ("CNN, batch norm, dropout, SGD momentum", TrainingRecipes.cnn, { try .sgd(learningRate: 0.003, momentum: 0.9) }),
        ("LSTM, recurrent dropout, Adam",
         Axon.input("features", shape: [nil, 28, 28, 1]).reshape([28, 28]).lstm(32, recurrentDropout: 0.1).last.dense(10),
         { try .adam(learningRate: 3e-3) }),
    ]

    @Test("20 compiled steps leave the losses and parameters of 20 eager steps, bit for bit", arguments: ConformanceBackends.names)
    func compiledEqualsEager(_ backendName: String) throws {
        let backend = try ConformanceBackends.backend(backendName)
        let data = try TrainingRecipes.mnist(ConformanceBackends.mnist)
        for recipe in Self.recipes {
            let runs = try [true, false].map { compiled in
                try TrainingRecipes.run(
                    model: recipe.model, optimizer: recipe.optimizer(), batchSize: 16, steps: 20, data: data, on: backend, compiled: compiled)
            }
            #expect(runs[0].count == runs[1].count)
            for (index, (compiled, eager)) in zip(runs[0], runs[1]).enumerated() {
                #expect(compiled.shape == eager.shape)
                #expect(
                    compiled.elements.floats.map(\.bitPattern) == eager.elements.floats.map(\.bitPattern),
                    "\(recipe.name) on \(backendName): \(index == 0 ? "the losses" : "parameter \(index)") differ")
            }
        }
    }

    /// A compiled MLP trainer (Adam, so parameters and two moments per parameter) on 8 batches of MNIST.
    func trainer(on backend: any Backend) throws -> (loop: Loop, batches: DatasetBatches) {
        let loop = try Loop.trainer(
            model: TrainingRecipes.mlp, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 1e-3),
            on: backend, seed: 7)
        let batches = try TrainingRecipes.mnist(ConformanceBackends.mnist).batches(size: 16, dropLast: true, on: backend)
        return (loop, batches)
    }

    @Test("a replayed step never writes over parameters or moments a handler still holds", arguments: ConformanceBackends.names)
    func heldVariablesAreNotUpdatedInPlace(_ backendName: String) throws {
        let (loop, batches) = try trainer(on: try ConformanceBackends.backend(backendName))
        // Each step keeps the variables it ended with and their values, and checks the ones the step before kept.
        var kept: [String: Tensor] = [:], values: [String: [Float]] = [:], changed: [String] = []
        loop.handle(.iterationCompleted) { state in
            for (name, tensor) in kept where try tensor.scalars != values[name] { changed.append("step \(state.step): \(name)") }
            kept = state.stepState.model.parameters.merging(state.stepState.optimizer.tensors).reduce(into: [:]) { $0[$1.name] = $1.tensor }
            values = try kept.mapValues { try $0.scalars }
            return .proceed
        }
        _ = try loop.run(batches, epochs: 1, iterations: 8)
        #expect(loop.compilation?.compiledShapes == 1)
        #expect(kept.count == 4 * 3)
        #expect(changed == [])
    }

    @Test(
        "on onednn a replayed step updates the parameters and moments it alone holds in place, keeping their memory from step to step",
        .enabled(if: ConformanceBackends.names.contains("onednn")))
    func onednnUpdatesInPlace() throws {
        let (loop, batches) = try trainer(on: try ConformanceBackends.backend("onednn"))
        var storages: [[ObjectIdentifier]] = []
        loop.handle(.iterationCompleted) { state in
            let variables = state.stepState.model.parameters.merging(state.stepState.optimizer.tensors)
            storages.append(variables.names.compactMap { variables[$0].map { ObjectIdentifier($0.buffer.storage) } })
            return .proceed
        }
        _ = try loop.run(batches, epochs: 1, iterations: 8)
        // Step 1 traces the step and step 2 checks its plan, both computing new variables as
        // written; every replay from step 3 on updates step 2's variables in place.
        #expect(storages.count == 8 && storages.allSatisfy { $0.count == 12 })
        #expect(storages[0] != storages[1])
        #expect(Set(storages.dropFirst()).count == 1)
    }
}
