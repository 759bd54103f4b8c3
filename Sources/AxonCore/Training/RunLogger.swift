import Foundation

/// Whether a record covers one batch or a whole epoch.
public enum LogScope: String, Sendable {
    /// The step's running values after one batch (the epoch's means so far, plus `step_loss`).
    case batch
    /// The epoch's final values, validation included.
    case epoch
}

/// Metric values at one point of a run, as a ``RunLogger`` receives them.
public struct MetricRecord: Sendable {
    /// Whether the record is a batch's or an epoch's.
    public let scope: LogScope
    /// The epoch, from 0.
    public let epoch: Int
    /// The iteration within the epoch, from 0 (the last one for an epoch record).
    public let iteration: Int
    /// Iterations completed over the whole run: the x axis most tools plot against.
    public let step: Int
    /// The values by name: `loss`, each metric, `validation_*` after validation, and for batch
    /// records `step_loss`, the latest batch's loss alone.
    public let values: [String: Double]
}

/// Receives a run's progress, as Axon's custom loggers do: the start, metric values with their
/// step and epoch, and the end. The console and progress-bar output, ``CSVLogger``,
/// ``JSONLinesLogger`` and the TensorBoard writer of `AxonInterop` are implementations; attach
/// any of them with ``Loop/log(to:scope:)``.
///
/// Every method has a default that does nothing, so a logger implements only what it needs.
/// The `state` arguments give access to everything else (parameters, and gradients when
/// ``needsGradients`` is true).
///
/// ```swift
/// final class PrintLogger: RunLogger {
///     func record(_ record: MetricRecord, state: LoopState) throws {
///         print(record.scope, record.step, record.values["loss"] ?? .nan)
///     }
/// }
/// loop.log(to: PrintLogger(), scope: .epoch)
/// ```
public protocol RunLogger: AnyObject {
    /// Whether the loop should keep each step's gradients in ``LoopState/gradients`` for this
    /// logger (they are dropped otherwise, costing nothing).
    var needsGradients: Bool { get }
    /// The run starts, fresh or resumed from `state`.
    func runStarted(state: LoopState) throws
    /// An epoch starts.
    func epochStarted(state: LoopState) throws
    /// Values after a batch or an epoch, as the scope the logger was attached with asks.
    func record(_ record: MetricRecord, state: LoopState) throws
    /// The run ends: `completed` is false when a handler halted it (see ``LoopState/haltReason``).
    func runEnded(state: LoopState, completed: Bool) throws
}

extension RunLogger {
    public var needsGradients: Bool { false }
    public func runStarted(state: LoopState) throws {}
    public func epochStarted(state: LoopState) throws {}
    public func record(_ record: MetricRecord, state: LoopState) throws {}
    public func runEnded(state: LoopState, completed: Bool) throws {}
}

extension Loop {
    /// Sends the run's progress to `logger`: a record after every batch (`.batch`, which also
    /// sends the epoch records) or after every epoch only (`.epoch`). Epoch records are sent
    /// after every other handler of the epoch, so they include validation.
    @discardableResult
    public func log(to logger: any RunLogger, scope: LogScope = .epoch) -> Loop {
        if logger.needsGradients { retainsGradients = true }
        handle(.started) { state in
            try logger.runStarted(state: state)
            return .proceed
        }
        handle(.epochStarted) { state in
            try logger.epochStarted(state: state)
            return .proceed
        }
        if scope == .batch {
            handle(.iterationCompleted) { state in
                var values = state.metrics
                if let loss = state.stepLoss { values["step_loss"] = loss }
                try logger.record(
                    MetricRecord(scope: .batch, epoch: state.epoch, iteration: state.iteration, step: state.step, values: values), state: state)
                return .proceed
            }
        }
        handleLast(.epochCompleted) { state in
            try logger.record(
                MetricRecord(scope: .epoch, epoch: state.epoch, iteration: Swift.max(state.iteration - 1, 0), step: state.step, values: state.metrics),
                state: state)
            return .proceed
        }
        handle(.completed) { state in
            try logger.runEnded(state: state, completed: true)
            return .proceed
        }
        return handle(.halted) { state in
            try logger.runEnded(state: state, completed: false)
            return .proceed
        }
    }
}
