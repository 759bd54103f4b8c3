import Foundation
import Logging

/// A ``RunLogger`` that writes a line per record through swift-log: `epoch 2, batch 10: loss
/// 0.3120, …` or `epoch 2: loss 0.2871, …` (what ``Loop/log(_:)`` attaches).
public final class ConsoleLogger: RunLogger {
    let logger: Logger

    /// A logger writing through `logger`.
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
