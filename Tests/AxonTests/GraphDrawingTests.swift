import AxonCore
import Backend
import Testing

/// Mermaid and DOT drawings of small graphs, written out by hand: one box per layer, one edge per
/// input, a shared input drawn once.
@Suite("Graph drawing")
struct GraphDrawingTests {
    /// x feeds both the dense branch and the add: a shared node with two edges out.
    var residual: Axon {
        Axon.input("x", shape: [nil, 2]).residual { $0.dense(2, useBias: false) }
    }

    @Test("a residual block as Mermaid: the shared input is one box with two edges")
    func mermaidResidual() throws {
        #expect(try residual.graph(.mermaid) == """
            flowchart TD
                n0["x<br/>input · [nil, 2]"]
                n1["dense_0<br/>dense · [nil, 2] · 4 params"]
                n2["add_0<br/>add · [nil, 2]"]
                n0 --> n1
                n0 --> n2
                n1 --> n2
            """)
    }

    @Test("a residual block as Graphviz DOT")
    func dotResidual() throws {
        #expect(try residual.build(on: backend).graph(.dot) == """
            digraph model {
                node [shape=box];
                n0 [label="x\\ninput · [nil, 2]"];
                n1 [label="dense_0\\ndense · [nil, 2] · 4 params"];
                n2 [label="add_0\\nadd · [nil, 2]"];
                n0 -> n1;
                n0 -> n2;
                n1 -> n2;
            }
            """)
    }

    @Test("quotes in layer names are escaped for each format")
    func escaping() throws {
        let model = Axon.input("a\"b", shape: [nil, 1]).relu()
        #expect(try model.graph(.mermaid).contains("n0[\"a#quot;b<br/>"))
        #expect(try model.graph(.dot).contains("n0 [label=\"a\\\"b\\n"))
    }
}
