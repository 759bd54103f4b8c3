import ArgumentParser
import AxonCore
import Foundation

/// `axon plot`: a run's curves redrawn from its checkpoints or its metrics log, while it runs or
/// after.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a run's metrics per epoch (finished or still running) as an SVG file.",
        discussion: """
            Examples:
              axon plot --history runs/cnn --output curves.svg
              axon plot --history metrics.jsonl --output curves.svg
            """)

    @Option(help: "A checkpoint directory (its latest checkpoint), a checkpoint file, or a JSON-lines log from --log-jsonl.")
    var history: String
    @Option(help: "The SVG file to write.") var output: String

    func run() throws {
        try runReportingErrors {
            let source = URL(fileURLWithPath: history), outputURL = URL(fileURLWithPath: output)
            try FileAccess.checkWritableFile(outputURL)
            let (epochs, caption) = try Self.read(source)
            guard !epochs.isEmpty else { throw AxonError.file(path: source.path, reason: "holds no completed epoch to plot yet") }
            try TrainingPlot.write(history: epochs, caption: caption, to: outputURL)
            print("wrote \(outputURL.path): \(epochs.count) epochs of \(source.path)")
        }
    }

    /// The per-epoch metrics at `source` and a caption naming the run.
    static func read(_ source: URL) throws -> (history: [[String: Double]], caption: String) {
        if source.pathExtension == "jsonl" { return (try jsonLines(source), source.lastPathComponent) }
        var isDirectory: ObjCBool = false
        var checkpoint = source
        if FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue {
            guard let latest = try RunDirectory.latestCheckpoint(in: source) else {
                throw AxonError.file(path: source.path, reason: "holds no checkpoint yet")
            }
            checkpoint = latest
        }
        let summary = try Checkpoint.summary(of: checkpoint)
        let model = summary.metadata["model"] ?? source.lastPathComponent
        let backend = summary.metadata["backend"].map { " on \($0)" } ?? ""
        return (summary.history, "\(model)\(backend) · \(summary.history.count) epochs")
    }

    /// The epoch records of a ``JSONLinesLogger`` file: the last record of each epoch, non-finite
    /// values (written as strings) left out.
    static func jsonLines(_ url: URL) throws -> [[String: Double]] {
        let text = String(decoding: try FileAccess.read(url), as: UTF8.self)
        var epochs: [Int: [String: Double]] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let epoch = object["epoch"] as? Int, let values = object["values"] as? [String: Any]
            else {
                throw AxonError.file(path: url.path, reason: "line \(number + 1) is not a record of --log-jsonl")
            }
            guard object["scope"] as? String == "epoch", epoch >= 1 else { continue }
            epochs[epoch] = values.compactMapValues { $0 as? Double }
        }
        guard let last = epochs.keys.max() else { return [] }
        return (1...last).map { epochs[$0] ?? [:] }
    }
}
