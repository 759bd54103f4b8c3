import Foundation

/// A one-line progress display: redrawn in place on a terminal, a single summary line per epoch
/// elsewhere (logs, CI).
final class ProgressBar: @unchecked Sendable {
    let total: Int
    let interactive = isatty(STDOUT_FILENO) != 0
    private var epoch = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    init(total: Int) { self.total = Swift.max(total, 1) }

    func start(epoch: Int) {
        self.epoch = epoch
        started = Date()
        lastDraw = .distantPast
    }

    func update(iteration: Int, metrics: [String: Double]) {
        guard interactive, Date().timeIntervalSince(lastDraw) > 0.1 || iteration == total else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(started)
        let rate = Double(iteration) / Swift.max(elapsed, 1e-9)
        let remaining = Double(total - iteration) / Swift.max(rate, 1e-9)
        let width = 30
        let filled = width * iteration / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let loss = metrics["loss"].map { String(format: " loss %.4f", $0) } ?? ""
        let line = String(format: "epoch %d [%@] %d/%d %.1f it/s ETA %.0fs", epoch + 1, bar, iteration, total, rate, remaining) + loss
        emit("\r" + line + "\u{1B}[K")
    }

    func finish(metrics: [String: Double]) {
        let elapsed = Date().timeIntervalSince(started)
        let summary = metrics.keys.sorted().map { "\($0) \(String(format: "%.4f", metrics[$0]!))" }.joined(separator: ", ")
        let line = String(format: "epoch %d: %.1fs, ", epoch + 1, elapsed) + summary
        emit((interactive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// Flushes what `print` buffered first, so the lines keep their order.
    private func emit(_ text: String) {
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
