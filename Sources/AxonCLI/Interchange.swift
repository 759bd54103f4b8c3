import ArgumentParser
import Axon
import AxonInterop
import Foundation

/// `axon export`: a checkpoint's model in a format other tools read.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a checkpoint's model as ONNX, safetensors weights or a whole-model file.",
        discussion: """
            Examples:
              axon export --checkpoint runs/cnn --format safetensors --output cnn.safetensors
              axon export --checkpoint runs/cnn --format model --output cnn.axonmodel
              axon export --checkpoint runs/cnn --format onnx --output cnn.onnx
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case onnx, safetensors, model }

    @OptionGroup var options: CheckpointOptions
    @Option(help: "onnx, safetensors (weights) or model (graph and weights, .axonmodel).") var format: Format
    @Option(help: "The file to write.") var output: String

    func run() throws {
        try runReportingErrors {
            let url = URL(fileURLWithPath: output)
            try FileAccess.checkWritableFile(url)
            let (_, chosen, state, configuration) = try options.loadModel()
            switch format {
            case .safetensors:
                try Safetensors.save(state, metadata: configuration.metadata, to: url)
            case .model:
                try ModelFile.save(chosen.model, state: state, metadata: configuration.metadata, to: url)
            case .onnx:
                try ONNXExport.write(chosen.model, state: state, to: url)
            }
            print("wrote \(url.path): \(chosen.rawValue) as \(format.rawValue)")
        }
    }
}

/// `axon import`: weights or a model from another tool, as something `axon` runs.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import safetensors weights into a checkpoint of a built-in model.",
        discussion: """
            The file's tensors must carry the model's parameter names (`axon summary --model NAME` lists them).
            Example:
              axon import --format safetensors --input cnn.safetensors --model mnist-cnn --output cnn.axon
              axon evaluate --checkpoint cnn.axon
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case safetensors }

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "safetensors.") var format: Format
    @Option(help: "The file to read.") var input: String
    @Option(help: "mnist-mlp, mnist-cnn, resnet-small or mnist-lstm (default: the one named in the file's metadata).") var model: String?
    @Option(help: "The checkpoint to write.") var output: String

    func run() throws {
        try runReportingErrors {
            let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
            try FileAccess.checkWritableFile(outputURL)
            let backend = try backendOptions.resolve()
            let metadata = try Safetensors.read(inputURL).metadata
            var notes: [String] = []
            let configuration = try RunConfiguration(
                resuming: metadata, checkpoint: inputURL.path,
                .init(model: model, optimizer: nil, learningRate: nil, batchSize: nil, seed: nil, data: nil), notes: &notes, refusing: false)
            let built = try configuration.model.model.build(on: backend)
            let (state, _) = try Safetensors.load(inputURL, into: try built.initialize(seed: configuration.seed), on: backend)
            let optimizer = try Optimizer.named(configuration.optimizer, learningRate: configuration.learningRate)
            let loopState = LoopState(stepState: StepState(model: state, optimizer: try optimizer.initialize(built.trainableParameters(state))))
            try Checkpoint.save(loopState, metadata: configuration.metadata, to: outputURL)
            print("wrote \(outputURL.path): \(configuration.model.rawValue) with the weights of \(inputURL.path)")
        }
    }
}
