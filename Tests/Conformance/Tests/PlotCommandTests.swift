import Foundation
import Testing

/// The training plot as people read it: rendered by rsvg-convert, every epoch ticked, nothing
/// drawn outside the canvas, the same picture from `axon train --plot` and `axon plot`.
@Suite("axon train --plot and axon plot", .serialized)
struct PlotCommandTests {
    let workspace = AxonCommandLine.workspace("plot")

    func run(_ program: String, _ arguments: [String]) throws -> AxonCommandLine.Result {
        try AxonCommandLine.run(arguments, in: workspace, program: URL(fileURLWithPath: program))
    }

    func axon(_ arguments: [String]) throws -> AxonCommandLine.Result {
        let result = try AxonCommandLine.run(arguments, in: workspace)
        #expect(result.status == 0, "axon \(arguments.joined(separator: " ")): \(result.error)")
        return result
    }

    func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try? NSRegularExpression(pattern: pattern)
        return expression?.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        } ?? []
    }

    /// Pixels drawn inside and outside the canvas: the SVG rendered inside a canvas 100 pixels
    /// larger on every side, so that anything drawn beyond its edges shows.
    func ink(_ svg: String) throws -> (inside: Int, outside: Int) {
        guard let open = svg.range(of: ">"), let close = svg.range(of: "</svg>", options: .backwards),
              let width = matches(#"width="(\d+)""#, in: svg).first.flatMap(Int.init),
              let height = matches(#"height="(\d+)""#, in: svg).first.flatMap(Int.init)
        else { throw PlotTestError("not an SVG") }
        let wrapped = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width + 200)" height="\#(height + 200)"><g transform="translate(100 100)">"#
            + svg[open.upperBound..<close.lowerBound] + "</g></svg>"
        try wrapped.write(to: workspace.appendingPathComponent("wrapped.svg"), atomically: true, encoding: .utf8)
        let rendered = try run("/usr/bin/rsvg-convert", ["wrapped.svg", "-o", "wrapped.png"])
        #expect(rendered.status == 0, "\(rendered.error)")
        let script = ConformanceBackends.root.appendingPathComponent("Tests/Conformance/Fixtures/plots/ink.py").path
        let counted = try run("/usr/bin/python3", [script, "wrapped.png", "100", "100", "\(width)", "\(height)"])
        let numbers = counted.output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard numbers.count == 2 else { throw PlotTestError("ink.py printed '\(counted.output)' \(counted.error)") }
        return (numbers[0], numbers[1])
    }

    @Test("a run's plot ticks every epoch, labels panels and axes, keeps everything on the canvas, and axon plot redraws it")
    func trainingPlot() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        _ = try axon(["train", "--verbosity", "silent", "--epochs", "3", "--backend", "reference", "--checkpoint-dir", "run", "--plot", "curves.svg"])
        let svg = try String(contentsOf: workspace.appendingPathComponent("curves.svg"), encoding: .utf8)
        #expect(svg.contains("mnist-mlp on reference · 3 epochs"))
        #expect(svg.contains("loss (mean per example)") && svg.contains("accuracy (%)"))
        #expect(matches(#"class="x-tick"[^>]*>(\d+)<"#, in: svg) == ["1", "2", "3", "1", "2", "3"])
        #expect(matches(#"class="x-label"[^>]*>([a-z]+)<"#, in: svg) == ["epoch", "epoch"])
        #expect(matches(#"class="y-tick"[^>]*>([^<]+)<"#, in: svg).count >= 6)
        #expect(matches(#"class="legend"[^>]*>([a-z]+)<"#, in: svg) == ["training", "validation", "training", "validation"])
        let (inside, outside) = try ink(svg)
        #expect(inside > 0)
        #expect(outside == 0, "\(outside) pixels drawn outside the canvas")
        _ = try axon(["plot", "--history", "run", "--output", "redrawn.svg"])
        #expect(try String(contentsOf: workspace.appendingPathComponent("redrawn.svg"), encoding: .utf8) == svg)
    }

    @Test("a loss spanning decades is drawn on a logarithmic scale, from a --log-jsonl file")
    func logarithmicLoss() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let losses = [20.0, 2.0, 0.3, 0.04, 0.005]
        let lines = losses.enumerated().map { epoch, loss in
            #"{"scope":"epoch","epoch":\#(epoch + 1),"iteration":10,"step":\#(10 * (epoch + 1)),"values":{"loss":\#(loss),"accuracy":0.9}}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(to: workspace.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        _ = try axon(["plot", "--history", "metrics.jsonl", "--output", "log.svg"])
        let svg = try String(contentsOf: workspace.appendingPathComponent("log.svg"), encoding: .utf8)
        #expect(svg.contains("loss (log scale)"))
        #expect(matches(#"class="y-tick"[^>]*>([^<]+)<"#, in: svg).prefix(5) == ["0.001", "0.01", "0.1", "1", "10"])
        #expect(matches(#"class="x-tick"[^>]*>(\d+)<"#, in: svg).prefix(5) == ["1", "2", "3", "4", "5"])
        #expect(try ink(svg).outside == 0)
    }

    @Test("plotting a run with no checkpoint or a damaged log is an error naming the file")
    func badHistories() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try AxonCommandLine.run(["plot", "--history", "empty", "--output", "x.svg"], in: workspace)
        #expect(empty.status == 1 && empty.error.contains("empty: holds no checkpoint yet"), "\(empty.error)")
        try "not json\n".write(to: workspace.appendingPathComponent("bad.jsonl"), atomically: true, encoding: .utf8)
        let damaged = try AxonCommandLine.run(["plot", "--history", "bad.jsonl", "--output", "x.svg"], in: workspace)
        #expect(damaged.status == 1 && damaged.error.contains("bad.jsonl: line 1 is not a record of --log-jsonl"), "\(damaged.error)")
    }
}

struct PlotTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
