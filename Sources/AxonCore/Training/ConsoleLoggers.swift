import Foundation
import Logging

/// A ``RunLogger`` that writes a line per record through swift-log: `epoch 2, batch 10: loss
/// 0.3120, …` or `epoch 2: loss 0.2871, …` (what ``Loop/log(_:)`` attaches).
public final class ConsoleLogger: RunLogger {
    let logger: Logger

    public init(_ logger: Logger = Logger(label: "axon.loop")) { self.logger = logger }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        var values = record.values
        values["step_loss"] = nil
        switch record.scope {
        case .batch: logger.info("epoch \(record.epoch + 1), batch \(record.iteration + 1): \(Loop.format(values))")
        case .epoch: logger.info("epoch \(record.epoch + 1): \(Loop.format(values))")
        }
    }
}

/// A ``RunLogger`` that draws a one-line progress bar (step count, rate, ETA, running loss),
/// redrawn in place on a terminal, and a summary line per epoch everywhere (logs, CI). Attach
/// it with scope `.batch` (what ``Loop/progress(totalIterations:)`` does).
public final class ProgressLogger: RunLogger {
    let total: Int
    let interactive = isatty(STDOUT_FILENO) != 0
    private var epoch = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    public init(totalIterations: Int) { total = Swift.max(totalIterations, 1) }

    public func epochStarted(state: LoopState) throws {
        epoch = state.epoch
        started = Date()
        lastDraw = .distantPast
    }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        switch record.scope {
        case .batch: update(iteration: record.iteration + 1, metrics: record.values)
        case .epoch: finish(metrics: record.values)
        }
    }

    private func update(iteration: Int, metrics: [String: Double]) {
        guard interactive, Date().timeIntervalSince(lastDraw) > 0.1 || iteration == total else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(started)
        let rate = Double(iteration) / Swift.max(elapsed, 1e-9)
        let remaining = Double(Swift.max(total - iteration, 0)) / Swift.max(rate, 1e-9)
        let width = 30
        let filled = Swift.min(width * iteration / total, width)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let loss = metrics["loss"].map { String(format: " loss %.4f", $0) } ?? ""
        let line = String(format: "epoch %d [%@] %d/%d %.1f it/s ETA %.0fs", epoch + 1, bar, iteration, total, rate, remaining) + loss
        emit("\r" + line + "\u{1B}[K")
    }

    private func finish(metrics: [String: Double]) {
        let elapsed = Date().timeIntervalSince(started)
        let line = String(format: "epoch %d: %.1fs, ", epoch + 1, elapsed) + Loop.format(metrics)
        emit((interactive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// Flushes what `print` buffered first, so the lines keep their order.
    private func emit(_ text: String) {
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
