import Backend
import Foundation

/// Renders a Keras-style summary table: one row per layer in execution order.
enum ModelSummary {
    static func render(_ nodes: [AnalyzedNode], frozen: Set<String>) -> String {
        var rows: [[String]] = [["Layer", "Kind", "Output shape", "Params", "Inputs"]]
        var trainable = 0, nonTrainable = 0
        for node in nodes where !(node.node.layer is ContainerLayer) {
            let count = node.parameters.reduce(0) { $0 + $1.shape.elementCount }
            for spec in node.parameters where !node.sharesParameters {
                let isTrainable = spec.role == .trainable && !frozen.contains(node.parameterName(spec)) && !node.node.frozen
                if isTrainable { trainable += spec.shape.elementCount } else { nonTrainable += spec.shape.elementCount }
            }
            let params = count == 0 ? "0" : node.sharesParameters ? "shares \(node.parameterScope)" : "\(count)"
            rows.append([
                node.name, node.kind, node.namedShape?.description ?? "?", params,
                node.inputIndices.map { nodes[$0].name }.joined(separator: ", "),
            ])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .replacingTrailingSpaces()
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 8)
        var text = [rule, line(rows[0]), rule] + rows.dropFirst().map(line) + [rule]
        text.append("Total parameters: \(trainable + nonTrainable)")
        text.append("Trainable parameters: \(trainable)")
        text.append("Non-trainable parameters: \(nonTrainable)")
        return text.joined(separator: "\n")
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

extension BuiltModel: CustomStringConvertible {
    /// The summary table.
    public var description: String { ModelSummary.render(nodes, frozen: frozenParameters) }
}

extension Axon: CustomStringConvertible {
    /// The summary table, with shapes that need tracing at build time shown as `?`.
    public var description: String {
        do {
            return ModelSummary.render(try GraphAnalysis.analyze(node, backend: nil), frozen: [])
        } catch {
            return "invalid model: \(error)"
        }
    }
}
