import ArgumentParser
import AxonCore
import Backend

/// `axon summary`: prints a model's layer table, or its graph.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's summary table, or its graph as Mermaid or Graphviz DOT.",
        discussion: """
            Examples:
              axon summary --model resnet-small
              axon summary --model resnet-small --graph mermaid > model.mmd
              axon summary --model mnist-cnn --graph dot | dot -Tsvg > model.svg
            """)

    @Option(help: "mnist-mlp, mnist-cnn, resnet-small or mnist-lstm.") var model = "mnist-mlp"
    @Option(help: "Print the graph instead of the table: mermaid or dot.") var graph: String?

    func run() throws {
        try runReportingErrors {
            guard let chosen = ModelName(rawValue: model) else {
                throw AxonError.invalidValue(operation: "summary", reason: "unknown model '\(model)'; choose \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let graph else { return print(chosen.model) }
            guard let format = GraphFormat(rawValue: graph) else {
                throw AxonError.invalidValue(operation: "summary", reason: "unknown graph format '\(graph)'; choose mermaid or dot")
            }
            print(try chosen.model.graph(format))
        }
    }
}
