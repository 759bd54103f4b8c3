import ArgumentParser
import Axon
import Backend
import Foundation

/// What `axon evaluate` and `axon predict` share: a trained checkpoint, its model and the data.
struct CheckpointOptions: ParsableArguments {
    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "mnist-mlp, mnist-cnn or resnet-small (the model the checkpoint was trained with).") var model = "mnist-mlp"
    @Option(help: "A checkpoint written by `axon train --checkpoint-dir`.") var checkpoint: String
    @Option(help: "The seed the data was generated with.") var seed: UInt64 = 0

    /// The backend, the model, its saved variables and the held-out data.
    func load() throws -> (any Backend, ModelName, ModelState, Dataset) {
        let backend = try backendOptions.resolve()
        guard let chosen = ModelName(rawValue: model) else {
            throw AxonError.invalidValue(operation: "checkpoint", reason: "unknown model '\(model)'; choose \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let state = try Checkpoint.load(URL(fileURLWithPath: checkpoint), on: backend).stepState.model
        return (backend, chosen, state, try dataOptions.load(seed: seed).heldOut)
    }
}

/// `axon evaluate`: held-out accuracy and loss of a checkpoint.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on the held-out split.")

    @OptionGroup var options: CheckpointOptions

    func run() throws {
        try runReportingErrors {
            let (backend, chosen, state, heldOut) = try options.load()
            let result = try Loop.evaluator(model: chosen.model, state: state, on: backend, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true))
                .metric(.accuracy()).run(try heldOut.batches(size: 500, on: backend), epochs: 1)
            print(String(format: "held-out accuracy: %.2f%% (loss %.4f)", 100 * (result.metrics["accuracy"] ?? 0), result.metrics["loss"] ?? .nan))
        }
    }
}

/// `axon predict`: a checkpoint's predictions for the first held-out images.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print predictions of a checkpoint for held-out images.")

    @OptionGroup var options: CheckpointOptions
    @Option(help: "How many held-out images.") var count = 10

    func run() throws {
        try runReportingErrors {
            let (backend, chosen, state, heldOut) = try options.load()
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
