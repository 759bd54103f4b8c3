import ArgumentParser
import Axon
import Backend
import Foundation
import Logging

/// `axon train`: trains a model, validating on the held-out split after every epoch, and ends
/// with a line `held-out accuracy: 97.12% (loss 0.0912)`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a model and report held-out accuracy.")

    enum Verbosity: String, ExpressibleByArgument { case batch, epoch, silent }

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "mnist-mlp, mnist-cnn or resnet-small.") var model = "mnist-mlp"
    @Option(help: "Passes over the training set.") var epochs = 5
    @Option(name: .customLong("batch-size")) var batchSize = 128
    @Option(help: "sgd, momentum, adam, adamw, adabelief, adagrad, rmsprop, radam, yogi, lamb, noisy_sgd, fromage.") var optimizer = "adam"
    @Option(name: .customLong("learning-rate")) var learningRate: Float = 1e-3
    @Option var seed: UInt64 = 0
    @Option(help: "batch, epoch or silent.") var verbosity: Verbosity = .epoch
    @Option(name: .customLong("checkpoint-dir"), help: "Save a checkpoint after every epoch here.") var checkpointDirectory: String?
    @Option(help: "Write loss and accuracy curves to this SVG file.") var plot: String?

    func run() throws {
        try runReportingErrors {
            guard let chosen = ModelName(rawValue: model) else {
                throw AxonError.invalidValue(operation: "train", reason: "unknown model '\(model)'; choose \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let backend = try backendOptions.resolve()
            let (train, heldOut) = try dataOptions.load(seed: seed)
            print("backend: \(backend.name) (\(backend.deviceDescription))")
            print("data: \(dataOptions.data.rawValue), \(train.count) training and \(heldOut.count) held-out images; model: \(chosen.rawValue)")
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = .info
                return handler
            }
            let batches = try train.batches(size: batchSize, shuffle: true, seed: seed, on: backend)
            let validation = try heldOut.batches(size: 500, on: backend)
            let loop = try Loop.trainer(
                model: chosen.model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
                optimizer: Optimizer.named(optimizer, learningRate: learningRate), on: backend, seed: seed
            ).metric(.accuracy()).validate(on: validation)
            switch verbosity {
            case .batch: loop.log(.perBatch)
            case .epoch: loop.progress(totalIterations: batches.batchCount)
            case .silent: break
            }
            if let checkpointDirectory { loop.checkpoint(directory: URL(fileURLWithPath: checkpointDirectory)) }
            let start = Date()
            let final = try loop.run(batches, epochs: epochs)
            let seconds = Date().timeIntervalSince(start)
            if let plot { try TrainingPlot.write(history: final.history, to: URL(fileURLWithPath: plot)) }
            let last = final.history.last ?? [:]
            print(String(format: "trained %d epochs in %.1f s (%.0f examples/s)", final.history.count, seconds,
                         Double(train.count * final.history.count) / Swift.max(seconds, 1e-9)))
            print(String(format: "held-out accuracy: %.2f%% (loss %.4f)", 100 * (last["validation_accuracy"] ?? 0), last["validation_loss"] ?? .nan))
        }
    }
}
