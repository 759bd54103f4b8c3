import ArgumentParser
import AxonCore
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
                try ModelFile.save(chosen, state: state, metadata: configuration.metadata, to: url)
            case .onnx:
                try ONNXExport.write(chosen, state: state, to: url)
            }
            print("wrote \(url.path) as \(format.rawValue)")
        }
    }
}

/// `axon import`: weights or a model from another tool, as something `axon` runs.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import an ONNX model as a model file, or safetensors weights into a checkpoint of a built-in model.",
        discussion: """
            An ONNX model becomes a model file (.axonmodel) that evaluate, predict and export read. Safetensors tensors
            must carry the built-in model's parameter names (`axon summary --model NAME` lists them).
            Examples:
              axon import --format onnx --input cnn.onnx --output cnn.axonmodel
              axon predict --checkpoint cnn.axonmodel --input x.npy --output y.npy
              axon import --format safetensors --input cnn.safetensors --model mnist-cnn --output cnn.axon
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case onnx, safetensors }

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "onnx or safetensors.") var format: Format
    @Option(help: "The file to read.") var input: String
    @Option(help: "For safetensors: mnist-mlp, mnist-cnn, resnet-small or mnist-lstm (default: the one named in the file's metadata).")
    var model: String?
    @Option(help: "The model file (onnx) or checkpoint (safetensors) to write.") var output: String

    func run() throws {
        try runReportingErrors {
            let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
            try FileAccess.checkWritableFile(outputURL)
            let backend = try backendOptions.resolve()
            switch format {
            case .onnx:
                let (imported, state) = try ONNXImport.load(inputURL, on: backend)
                try ModelFile.save(imported, state: state, metadata: ["imported_from": inputURL.lastPathComponent], to: outputURL)
                print(imported)
                print("wrote \(outputURL.path): the model of \(inputURL.path)")
            case .safetensors:
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
}
