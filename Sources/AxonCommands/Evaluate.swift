import ArgumentParser
import AxonCore
import Backend
import AxonData
import AxonInterop
import Foundation

/// What `axon evaluate` and `axon predict` share: a trained checkpoint, its model and the data.
struct CheckpointOptions: ParsableArguments {
    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "mnist-mlp, mnist-cnn, resnet-small or mnist-lstm (default: the one the checkpoint was trained with).") var model: String?
    @Option(help: "A checkpoint file, a run directory of `axon train --checkpoint-dir` (its newest checkpoint), or a model file (.axonmodel).")
    var checkpoint: String
    @Option(help: "The seed the data was generated with (default: the checkpoint's).") var seed: UInt64?

    /// The backend, the model, its saved variables and the held-out data.
    func load() throws -> (any Backend, Axon, ModelState, Dataset) {
        let (backend, model, state, configuration) = try loadModel()
        return (backend, model, state, try dataOptions.load(configuration.data, seed: configuration.seed).heldOut)
    }

    /// The backend, the model, its saved variables and the run's configuration (the defaults
    /// for a model file that does not name one), without the data.
    func loadModel() throws -> (any Backend, Axon, ModelState, RunConfiguration) {
        let backend = try backendOptions.resolve()
        if checkpoint.hasSuffix(".\(ModelFile.fileExtension)") {
            let file = try ModelFile.load(URL(fileURLWithPath: checkpoint), on: backend)
            var notes: [String] = []
            let configuration = try RunConfiguration(
                resuming: file.metadata, checkpoint: checkpoint,
                .init(model: nil, optimizer: nil, learningRate: nil, batchSize: nil, seed: seed, data: dataOptions.data), notes: &notes,
                refusing: false)
            return (backend, file.model, file.state, configuration)
        }
        var url = URL(fileURLWithPath: checkpoint)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            guard let latest = try RunDirectory.latestCheckpoint(in: url) else {
                throw AxonError.file(path: url.path, reason: "holds no checkpoint")
            }
            url = latest
        }
        let contents = try Checkpoint.read(url, on: backend, requireFiniteParameters: true)
        var notes: [String] = []
        let configuration = try RunConfiguration(
            resuming: contents.metadata, checkpoint: url.path,
            .init(model: model, optimizer: nil, learningRate: nil, batchSize: nil, seed: seed, data: dataOptions.data), notes: &notes,
            refusing: false)
        return (backend, configuration.model.model, contents.state.stepState.model, configuration)
    }
}

/// `axon evaluate`: held-out accuracy and loss of a checkpoint.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on the held-out split.",
        discussion: """
            Examples:
              axon evaluate --checkpoint runs/cnn
              axon evaluate --checkpoint cnn.axonmodel --backend vulkan
            """)

    @OptionGroup var options: CheckpointOptions

    func run() throws {
        try runReportingErrors {
            let (backend, chosen, state, heldOut) = try options.load()
            let result = try Loop.evaluator(model: chosen, state: state, on: backend, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true))
                .metric(.accuracy()).run(try heldOut.batches(size: 500, on: backend), epochs: 1)
            print(String(format: "held-out accuracy: %.2f%% (loss %.4f)", 100 * (result.metrics["accuracy"] ?? 0), result.metrics["loss"] ?? .nan))
        }
    }
}

/// `axon predict`: a checkpoint's predictions for the first held-out images, or for the
/// examples in a NumPy file, optionally written to another.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print (or save) predictions of a checkpoint for held-out images or a NumPy file.",
        discussion: """
            Examples:
              axon predict --checkpoint runs/cnn --count 5
              axon predict --checkpoint runs/cnn --input x.npy --output logits.npy
            """)

    @OptionGroup var options: CheckpointOptions
    @Option(help: "How many held-out images (without --input).") var count = 10
    @Option(help: "An .npy file of examples shaped as the model's input, e.g. [N, 28, 28, 1] float32.") var input: String?
    @Option(help: "Write the model's outputs (logits) to this .npy file.") var output: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    }

    func run() throws {
        try runReportingErrors {
            let outputURL = output.map { URL(fileURLWithPath: $0) }
            if let outputURL { try FileAccess.checkWritableFile(outputURL) }
            guard let input else {
                let (backend, chosen, state, heldOut) = try options.load()
                let batch = try heldOut.batches(size: Swift.max(1, Swift.min(count, heldOut.count)), on: backend).batch(0, epoch: 0)
                let logits = try chosen.build(on: backend).predict(state, inputs: batch.inputs).output()
                if let outputURL { try NumPy.write(try logits.array, to: outputURL) }
                let predicted = try logits.argmax(axis: -1).scalars, actual = try batch.targets.scalars
                for (index, (p, a)) in zip(predicted, actual).enumerated() {
                    print("image \(index): predicted \(Int(p)), label \(Int(a))\(p == a ? "" : "  ✗")")
                }
                return
            }
            let (backend, chosen, state, _) = try options.loadModel()
            let built = try chosen.build(on: backend)
            let examples = try NumPy.read(URL(fileURLWithPath: input))
            guard let inputName = built.inputs.first?.name, built.inputs.count == 1 else {
                throw AxonError.invalidValue(operation: "predict", reason: "--input feeds models with exactly one input")
            }
            let logits = try built.predict(state, inputs: [inputName: try Tensor(examples, on: backend)]).output()
            if let outputURL {
                try NumPy.write(try logits.array, to: outputURL)
                print("wrote \(outputURL.path): \(logits.dtype) \(logits.shape)")
            }
            let predicted = try logits.argmax(axis: -1).scalars
            for (index, p) in predicted.prefix(count).enumerated() { print("example \(index): predicted \(Int(p))") }
        }
    }
}
