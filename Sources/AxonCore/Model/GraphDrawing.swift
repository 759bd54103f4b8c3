import Backend

/// A text format for drawing a model's graph.
public enum GraphFormat: String, Sendable, CaseIterable {
    /// A Mermaid flowchart (renders in GitHub Markdown and most documentation sites).
    case mermaid
    /// Graphviz DOT (`dot -Tsvg`).
    case dot
}

/// Draws analysed nodes as a graph: one box per layer (name, kind, output shape, parameter
/// count) and one edge per input. A node used by several layers is one box with several edges,
/// so shared subgraphs are drawn once.
enum GraphDrawing {
    static func render(_ nodes: [AnalyzedNode], _ format: GraphFormat) -> String {
        let drawn = nodes.indices.filter { !(nodes[$0].node.layer is ContainerLayer) }
        let labels = drawn.map { index -> (Int, [String]) in
            let node = nodes[index]
            let count = node.parameters.reduce(0) { $0 + $1.shape.elementCount }
            var details = "\(node.kind) · \(node.namedShape?.description ?? "?")"
            if count > 0 { details += node.sharesParameters ? " · shares \(node.parameterScope)" : " · \(count) params" }
            return (index, [node.name, details])
        }
        let edges = drawn.flatMap { index in nodes[index].inputIndices.map { ($0, index) } }
        switch format {
        case .mermaid:
            let boxes = labels.map { index, lines in "    n\(index)[\"\(lines.map(mermaidEscaped).joined(separator: "<br/>"))\"]" }
            return (["flowchart TD"] + boxes + edges.map { "    n\($0.0) --> n\($0.1)" }).joined(separator: "\n")
        case .dot:
            let boxes = labels.map { index, lines in "    n\(index) [label=\"\(lines.map(dotEscaped).joined(separator: "\\n"))\"];" }
            return (["digraph model {", "    node [shape=box];"] + boxes + edges.map { "    n\($0.0) -> n\($0.1);" } + ["}"])
                .joined(separator: "\n")
        }
    }

    static func mermaidEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "<", with: "#lt;").replacingOccurrences(of: ">", with: "#gt;")
    }

    static func dotEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

extension Axon {
    /// The model's graph as Mermaid or Graphviz DOT text. Shapes that need tracing at build
    /// time show as `?`; ``BuiltModel/graph(_:)`` has them all.
    ///
    /// ```swift
    /// let x = Axon.input("x", shape: [nil, 4])
    /// print(try x.residual { $0.dense(4, activation: .relu) }.graph(.mermaid))
    /// ```
    public func graph(_ format: GraphFormat) throws -> String {
        GraphDrawing.render(try GraphAnalysis.analyze(node, backend: nil), format)
    }
}

extension BuiltModel {
    /// The built model's graph as Mermaid or Graphviz DOT text, every shape known.
    public func graph(_ format: GraphFormat) -> String { GraphDrawing.render(nodes, format) }
}
