import ArgumentParser
import Axon
import Backend

/// `axon summary`: prints a model's layer table.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model's summary table.")

    @Option(help: "mnist-mlp, mnist-cnn, resnet-small or mnist-lstm.") var model = "mnist-mlp"

    func run() throws {
        try runReportingErrors {
            guard let chosen = ModelName(rawValue: model) else {
                throw AxonError.invalidValue(operation: "summary", reason: "unknown model '\(model)'; choose \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            print(chosen.model)
        }
    }
}
