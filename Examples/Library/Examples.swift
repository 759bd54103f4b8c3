import AxonCore
import AxonBackends
import AxonData
import Foundation

/// The runnable examples, as functions so that tests can run them on little data.
public enum Examples {
    /// The best linked backend (`AXON_BACKEND` or `auto`).
    public static func backend() throws -> any Backend {
        LinkedBackends.register()
        return try BackendRegistry.shared.resolve()
    }

    /// MNIST from `directory` (the first `limit` training and held-out images when given).
    static func mnist(_ directory: URL, limit: Int?) throws -> (train: Dataset, heldOut: Dataset) {
        let (train, heldOut) = try MNIST.load(directory: directory)
        guard let limit else { return (train, heldOut) }
        return (try train.split(at: limit).0, try heldOut.split(at: limit).0)
    }

    /// Trains `model` with Adam and returns the held-out accuracy after the last epoch.
    static func train(_ model: Axon, _ data: (train: Dataset, heldOut: Dataset), epochs: Int, optimizer: Optimizer, on backend: any Backend) throws -> Double {
        print(model)
        let loop = try Loop.trainer(model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: optimizer, on: backend)
            .metric(.accuracy())
            .validate(on: try data.heldOut.batches(size: 500, on: backend))
            .log(.perEpoch)
        let final = try loop.run(try data.train.batches(size: 64, shuffle: true, seed: 1, on: backend), epochs: epochs)
        let accuracy = final.history.last?["validation_accuracy"] ?? 0
        print(String(format: "held-out accuracy: %.2f%%", accuracy * 100))
        return accuracy
    }

    /// A 784-128-10 MLP on MNIST.
    public static func mnistMLP(dataDirectory: URL, epochs: Int = 5, limit: Int? = nil, on backend: any Backend) throws -> Double {
        let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(128, activation: .relu).dense(10)
        return try train(model, try mnist(dataDirectory, limit: limit), epochs: epochs, optimizer: .adam(learningRate: 1e-3), on: backend)
    }

    /// conv-pool-conv-pool-dense with batch norm and dropout on MNIST.
    public static func mnistCNN(dataDirectory: URL, epochs: Int = 2, limit: Int? = nil, on backend: any Backend) throws -> Double {
        let model = Axon.input("features", shape: [nil, 28, 28, 1])
            .conv(16, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(32, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dropout(rate: 0.3).dense(10)
        return try train(model, try mnist(dataDirectory, limit: limit), epochs: epochs, optimizer: .adam(learningRate: 1e-3), on: backend)
    }

    /// MNIST read row by row: 28 steps of 28 features through an LSTM of 128 units, its last
    /// output classified by a dense layer.
    public static func mnistLSTM(dataDirectory: URL, epochs: Int = 6, limit: Int? = nil, on backend: any Backend) throws -> Double {
        let model = Axon.input("features", shape: [nil, 28, 28, 1]).reshape([28, 28]).lstm(128).last.dense(10)
        return try train(model, try mnist(dataDirectory, limit: limit), epochs: epochs, optimizer: .adam(learningRate: 3e-3), on: backend)
    }

    /// A small residual CNN on the embedded digits, built with `residual`, `add` and
    /// `concatenate`, whose summary shows every branch once.
    public static func residualCNN(epochs: Int = 2, count: Int = 6_000, on backend: any Backend) throws -> Double {
        func block(_ x: Axon, _ filters: Int) -> Axon {
            x.residual { $0.conv(filters, kernelSize: [3], padding: .same).batchNorm().relu().conv(filters, kernelSize: [3], padding: .same) }.relu()
        }
        let input = Axon.input("features", shape: [nil, 28, 28, 1])
        let stem = input.conv(8, kernelSize: [3], strides: [2], padding: .same, activation: .relu)
        let body = block(block(stem, 8), 8)
        let pooled = Axon.concatenate([body.globalAvgPool(), body.globalMaxPool()])
        let model = pooled.dense(10)
        let data = try Digits.generate(count: count, seed: 7).split(at: count * 5 / 6)
        return try train(model, data, epochs: epochs, optimizer: .adam(learningRate: 3e-3), on: backend)
    }
}
