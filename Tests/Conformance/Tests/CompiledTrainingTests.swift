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
}
