import AxonCore
import AxonData
import Backend
import Foundation

/// Whole training runs compared across backends: the loss at every step and the final
/// parameters.
public enum TrainingRecipes {
    /// The MNIST training images used by the recipes (the first 8,000 of the test set).
    public static func mnist(_ directory: URL) throws -> Dataset {
        try MNIST.load(directory: directory).train
    }

    /// Runs `steps` steps and returns `[losses] + final parameters`. A `compiled` run must
    /// replay its plan (`StepCompilation`); an eager one runs every step as written.
    public static func run(
        model: Axon, optimizer: Optimizer, batchSize: Int, steps: Int, data: Dataset, on backend: any Backend, compiled: Bool = true
    ) throws -> [HostArray] {
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: optimizer, on: backend, seed: 7)
        loop.compilation?.isEnabled = compiled
        var losses: [Float] = []
        loop.handle(.iterationCompleted) { state in
            losses.append(Float(state.stepLoss ?? .nan))
            return .proceed
        }
        let batches = try data.batches(size: batchSize, shuffle: true, seed: 3, dropLast: true, on: backend)
        let epochs = (steps + batches.batchCount - 1) / batches.batchCount
        let final = try loop.run(batches, epochs: epochs, iterations: Swift.min(steps, batches.batchCount))
        if compiled, let compilation = loop.compilation, compilation.compiledShapes != 1 || !compilation.eagerReasons.isEmpty {
            throw AxonError.invalidValue(
                operation: "training recipe", reason: "its steps did not compile: \(compilation.eagerReasons.joined(separator: "; "))")
        }
        return [try HostArray(shape: [losses.count], elements: .float32(losses))] + (try final.stepState.model.parameters.map { try $0.tensor.array })
    }

    /// The MLP of recipe (a).
    public static var mlp: Axon { Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(128, activation: .relu).dense(10) }

    /// The CNN of recipe (b).
    public static var cnn: Axon {
        Axon.input("features", shape: [nil, 28, 28, 1])
            .conv(8, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(16, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dropout(rate: 0.25).dense(10)
    }

    /// (a) MNIST MLP 784-128-10 with Adam for 100 steps; (b) a small CNN with batch norm,
    /// dropout and SGD-momentum (learning rate 0.003) for 50 steps — at 0.01 its loss rises over
    /// the first steps and rounding differences between backends' kernels grow about threefold a
    /// step, to 0.019 between onednn's and the reference's parameters by step 50, against 0.0013
    /// at 0.003, so the recipe would measure that instability rather than the backend; (c) an LSTM reading the images row by row, with
    /// recurrent dropout, Adam, 50 steps; (a) and (b) again under the bfloat16 policy — (b) for
    /// 10 steps, since one-ulp bfloat16 differences between a backend's native kernels and the
    /// reference's rounded float32 grow through batch norm and momentum to 0.15 by step 50
    /// (whether each backend still learns is checked by BFloat16TrainingTests). Every recipe runs
    /// compiled (`CompiledFunction`); (a), (b) and (c) also run with every step eager.
    public static func all(mnistDirectory: URL) -> [ConformanceCase] {
        [
            ConformanceCase("training MNIST MLP, Adam, 100 steps", covers: ["recipe.mlp"], opClass: .training, body: .library { backend in
                try run(model: mlp, optimizer: .adam(learningRate: 1e-3), batchSize: 32, steps: 100, data: try mnist(mnistDirectory), on: backend)
            }),
            ConformanceCase("training CNN, batch norm, dropout, SGD momentum, 50 steps", covers: ["recipe.cnn"], opClass: .training, body: .library { backend in
                try run(model: cnn, optimizer: .sgd(learningRate: 0.003, momentum: 0.9), batchSize: 16, steps: 50, data: try mnist(mnistDirectory), on: backend)
            }),
            ConformanceCase("training LSTM sequence classifier, recurrent dropout, Adam, 50 steps", covers: ["recipe.lstm"], opClass: .training,
                            body: .library { backend in
                let model = Axon.input("features", shape: [nil, 28, 28, 1]).reshape([28, 28]).lstm(32, recurrentDropout: 0.1).last.dense(10)
                return try run(model: model, optimizer: .adam(learningRate: 3e-3), batchSize: 16, steps: 50, data: try mnist(mnistDirectory), on: backend)
            }),
            // The same three runs with every step eager: the compiled runs above replay plans.
            ConformanceCase("training MNIST MLP, Adam, 100 steps, uncompiled", covers: ["recipe.mlp"], opClass: .training, body: .library { backend in
                try run(model: mlp, optimizer: .adam(learningRate: 1e-3), batchSize: 32, steps: 100, data: try mnist(mnistDirectory), on: backend, compiled: false)
            }),
            ConformanceCase("training CNN, batch norm, dropout, SGD momentum, 50 steps, uncompiled", covers: ["recipe.cnn"], opClass: .training,
                            body: .library { backend in
                try run(model: cnn, optimizer: .sgd(learningRate: 0.003, momentum: 0.9), batchSize: 16, steps: 50, data: try mnist(mnistDirectory), on: backend, compiled: false)
            }),
            ConformanceCase("training LSTM sequence classifier, recurrent dropout, Adam, 50 steps, uncompiled", covers: ["recipe.lstm"], opClass: .training,
                            body: .library { backend in
                let model = Axon.input("features", shape: [nil, 28, 28, 1]).reshape([28, 28]).lstm(32, recurrentDropout: 0.1).last.dense(10)
                return try run(model: model, optimizer: .adam(learningRate: 3e-3), batchSize: 16, steps: 50, data: try mnist(mnistDirectory), on: backend, compiled: false)
            }),
            ConformanceCase("training MNIST MLP under the bfloat16 policy, Adam, 100 steps", covers: ["recipe.mlp.bfloat16"], opClass: .training,
                            body: .library { backend in
                try run(model: mlp.applyingPolicy(.bfloat16), optimizer: .adam(learningRate: 1e-3), batchSize: 32, steps: 100, data: try mnist(mnistDirectory), on: backend)
            }),
            ConformanceCase("training CNN under the bfloat16 policy, SGD momentum, 10 steps", covers: ["recipe.cnn.bfloat16"], opClass: .training,
                            body: .library { backend in
                try run(model: cnn.applyingPolicy(.bfloat16), optimizer: .sgd(learningRate: 0.01, momentum: 0.9), batchSize: 16, steps: 10, data: try mnist(mnistDirectory), on: backend)
            }),
        ]
    }
}
