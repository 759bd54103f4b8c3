import ArgumentParser
import Axon
import Backend
import Foundation

/// `axon evaluate` and `axon predict`: use the parameters saved in a training checkpoint.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on the held-out split.")

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "mnist-mlp, mnist-cnn or resnet-small (the model the checkpoint was trained with).") var model = "mnist-mlp"
    @Option(help: "A checkpoint written by `axon train --checkpoint-dir`.") var checkpoint: String
    @Option var seed: UInt64 = 0

    func run() throws {
        try runReportingErrors {
            let backend = try backendOptions.resolve()
            let (chosen, state) = try loadCheckpoint(model: model, path: checkpoint, on: backend)
            let (_, heldOut) = try dataOptions.load(seed: seed)
            let result = try Loop.evaluator(model: chosen.model, state: state, on: backend, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true))
                .metric(.accuracy()).run(try heldOut.batches(size: 500, on: backend), epochs: 1)
            print(String(format: "held-out accuracy: %.2f%% (loss %.4f)", 100 * (result.metrics["accuracy"] ?? 0), result.metrics["loss"] ?? .nan))
        }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print predictions of a checkpoint for held-out images.")

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option var model = "mnist-mlp"
    @Option(help: "A checkpoint written by `axon train --checkpoint-dir`.") var checkpoint: String
    @Option(help: "How many held-out images.") var count = 10
    @Option var seed: UInt64 = 0

    func run() throws {
        try runReportingErrors {
            let backend = try backendOptions.resolve()
            let (chosen, state) = try loadCheckpoint(model: model, path: checkpoint, on: backend)
            let (_, heldOut) = try dataOptions.load(seed: seed)
            let batch = try heldOut.batches(size: Swift.max(1, Swift.min(count, heldOut.count)), on: backend).batch(0, epoch: 0)
            let built = try chosen.model.build(on: backend)
            let logits = try built.predict(state, inputs: batch.inputs).output()
            let predicted = try logits.argmax(axis: -1).scalars, actual = try batch.targets.scalars
            for (index, (p, a)) in zip(predicted, actual).enumerated() {
                print("image \(index): predicted \(Int(p)), label \(Int(a))\(p == a ? "" : "  ✗")")
            }
        }
    }
}

func loadCheckpoint(model: String, path: String, on backend: any Backend) throws -> (ModelName, ModelState) {
    guard let chosen = ModelName(rawValue: model) else {
        throw AxonError.invalidValue(operation: "checkpoint", reason: "unknown model '\(model)'")
    }
    return (chosen, try Checkpoint.load(URL(fileURLWithPath: path), on: backend).stepState.model)
}
