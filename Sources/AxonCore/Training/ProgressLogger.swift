import Foundation

/// A ``RunLogger`` that shows an epoch's progress: the step count, throughput, ETA and running
/// loss. On a terminal it is one bar redrawn in place, sized to the terminal's width (and in
/// colour unless `NO_COLOR` is set); elsewhere (CI logs, pipes, files) a plain line at each
/// quarter of the epoch. A summary line closes every epoch. Attach it with scope `.batch`
/// (what ``Loop/progress(totalIterations:)`` does).
public final class ProgressLogger: RunLogger {
    let total: Int
    let terminal: Terminal
    private var epoch = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var quartersShown = 0

    /// A progress display for epochs of `totalIterations` iterations.
    public init(totalIterations: Int) {
        total = Swift.max(totalIterations, 1)
        terminal = .standardOutput
    }

    public func epochStarted(state: LoopState) throws {
        epoch = state.epoch
        started = Date()
        lastDraw = .distantPast
        quartersShown = 0
    }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        switch record.scope {
        case .batch: update(iteration: record.iteration + 1, metrics: record.values)
        case .epoch: finish(metrics: record.values)
        }
    }

    private func update(iteration: Int, metrics: [String: Double]) {
        let progress = ProgressLine(
            epoch: epoch + 1, iteration: iteration, total: total, elapsed: Date().timeIntervalSince(started), loss: metrics["loss"])
        if terminal.isInteractive {
            guard Date().timeIntervalSince(lastDraw) > 0.1 || iteration == total else { return }
            lastDraw = Date()
            emit("\r" + progress.bar(width: terminal.width, color: terminal.usesColor) + "\u{1B}[K")
        } else {
            let quarter = 4 * iteration / total
            guard quarter > quartersShown, iteration < total else { return }
            quartersShown = quarter
            emit(progress.plain + "\n")
        }
    }

    private func finish(metrics: [String: Double]) {
        let elapsed = Date().timeIntervalSince(started)
        let line = String(format: "epoch %d: %.1fs, ", epoch + 1, elapsed) + Loop.format(metrics)
        emit((terminal.isInteractive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// Flushes what `print` buffered first, so the lines keep their order.
    private func emit(_ text: String) {
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// One moment of an epoch, as a progress bar or a plain line.
struct ProgressLine {
    let epoch: Int, iteration: Int, total: Int
    let elapsed: TimeInterval
    let loss: Double?

    var rate: Double { Double(iteration) / Swift.max(elapsed, 1e-9) }
    var remaining: TimeInterval { Double(Swift.max(total - iteration, 0)) / Swift.max(rate, 1e-9) }

    /// `1:05`, or `1:02:05` past an hour.
    static func clock(_ seconds: TimeInterval) -> String {
        let whole = Int(Swift.min(Swift.max(seconds.rounded(), 0), 359_999))
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    private var counts: String { "\(iteration)/\(total)" }
    private var speed: String { String(format: "%.1f it/s", rate) }
    private var lossText: String? { loss.map { String(format: "loss %.4f", $0) } }

    /// `epoch 2: 25% (117/469), 385.2 it/s, ETA 0:01, loss 0.2120`.
    var plain: String {
        ["epoch \(epoch): \(100 * iteration / total)% (\(counts))", speed, "ETA \(Self.clock(remaining))", lossText].compactMap { $0 }
            .joined(separator: ", ")
    }

    /// `epoch 2 ████████······ 117/469 385.2 it/s ETA 0:01 loss 0.2120` in at most `width`
    /// columns: the bar takes what the text leaves (10–40 cells), and goes when it would be
    /// narrower; then the loss, then the rate go, for the narrowest terminals.
    func bar(width: Int, color: Bool) -> String {
        let tails: [[String]] = [
            [counts, speed, "ETA \(Self.clock(remaining))", lossText].compactMap { $0 },
            [counts, speed, "ETA \(Self.clock(remaining))"], [counts, "ETA \(Self.clock(remaining))"], [counts],
        ]
        let head = "epoch \(epoch)"
        for tail in tails {
            let text = tail.joined(separator: " ")
            let room = width - 1 - head.count - text.count - 2  // one column spare, two spaces
            if room >= 10 {
                let cells = Swift.min(room, 40)
                let filled = Swift.min(cells * iteration / total, cells)
                let done = String(repeating: "█", count: filled), left = String(repeating: "·", count: cells - filled)
                let drawn = color ? "\u{1B}[32m\(done)\u{1B}[2m\(left)\u{1B}[0m" : done + left
                return "\(head) \(drawn) \(text)"
            }
            let line = "\(head) \(text)"
            if line.count <= width - 1 { return line }
        }
        return String("\(head) \(counts)".prefix(Swift.max(width - 1, 1)))
    }
}
