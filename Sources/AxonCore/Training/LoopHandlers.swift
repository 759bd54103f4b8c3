import Backend
import Foundation
import Logging

/// How much a loop logs.
public enum Verbosity: String, Sendable {
    /// A line after every batch.
    case perBatch
    /// A line after every epoch.
    case perEpoch
    /// No lines.
    case silent
}

/// Whether a monitored value should go down or up.
public enum MonitorMode: String, Sendable {
    /// Lower is better (losses).
    case min
    /// Higher is better (accuracies).
    case max
}

extension Loop {
    /// Evaluates on `data` after every epoch (or every `every` epochs) and records
    /// `validation_loss` and `validation_<metric>` for each of the loop's metrics.
    @discardableResult
    public func validate(on data: any BatchSource, every: Int = 1) -> Loop {
        handle(.epochCompleted, filter: .every(every)) { [unowned self] state in
            guard let evaluate = self.evaluate else {
                throw AxonError.invalidValue(operation: "validate", reason: "only loops made by Loop.trainer can validate")
            }
            for (name, value) in try evaluate(state.stepState.model, data, self.metrics) { state.metrics["validation_\(name)"] = value }
            return .proceed
        }
    }

    /// Logs running metrics through swift-log at the given verbosity (a ``ConsoleLogger``).
    @discardableResult
    public func log(_ verbosity: Verbosity) -> Loop {
        switch verbosity {
        case .silent: return self
        case .perBatch: return log(to: ConsoleLogger(logger), scope: .batch)
        case .perEpoch: return log(to: ConsoleLogger(logger), scope: .epoch)
        }
    }

    /// `name value` pairs in name order, four decimals.
    static func format(_ metrics: [String: Double]) -> String {
        metrics.keys.sorted().map { "\($0) \(String(format: "%.4f", metrics[$0]!))" }.joined(separator: ", ")
    }

    /// Stops the run when `monitor` (e.g. `validation_loss`) has not improved for `patience`
    /// epochs. Improvement means lower for `.min` and higher for `.max`.
    @discardableResult
    public func earlyStopping(monitor: String, patience: Int = 3, mode: MonitorMode = .min) -> Loop {
        let key = "early_stopping.\(monitor)"
        return handle(.epochCompleted) { state in
            guard try Loop.trackPlateau(&state, key: key, monitor: monitor, patience: patience, mode: mode) else { return .proceed }
            state.haltReason = "early stopping: \(monitor) has not improved for \(patience) epoch\(patience == 1 ? "" : "s")"
            return .haltLoop
        }
    }

    /// Multiplies the learning rate by `factor` whenever `monitor` has not improved for
    /// `patience` epochs, down to `minimumScale` of the original.
    @discardableResult
    public func reduceLROnPlateau(
        monitor: String, factor: Float = 0.1, patience: Int = 3, mode: MonitorMode = .min, minimumScale: Float = 0
    ) -> Loop {
        let key = "reduce_lr.\(monitor)"
        return handle(.epochCompleted) { state in
            if try Loop.trackPlateau(&state, key: key, monitor: monitor, patience: patience, mode: mode) {
                let scale = state.stepState.optimizer.hyperparameters[OptimizerState.learningRateScale, default: 1]
                state.stepState.optimizer.hyperparameters[OptimizerState.learningRateScale] = Swift.max(scale * factor, minimumScale)
                state.handlerMetadata["\(key).wait"] = 0
            }
            return .proceed
        }
    }

    /// Updates the best value and the epochs waited since; true when the wait reaches `patience`.
    static func trackPlateau(
        _ state: inout LoopState, key: String, monitor: String, patience: Int, mode: MonitorMode
    ) throws -> Bool {
        guard let value = state.metrics[monitor] else {
            throw AxonError.invalidValue(
                operation: "monitor", reason: "no metric '\(monitor)'; available: \(state.metrics.keys.sorted().joined(separator: ", "))")
        }
        let best = state.handlerMetadata["\(key).best"]
        let improved = best.map { mode == .min ? value < $0 : value > $0 } ?? true
        if improved {
            state.handlerMetadata["\(key).best"] = value
            state.handlerMetadata["\(key).wait"] = 0
            return false
        }
        let wait = state.handlerMetadata["\(key).wait", default: 0] + 1
        state.handlerMetadata["\(key).wait"] = wait
        return wait >= Double(patience)
    }

    /// Shows a progress bar (step count, rate, ETA, running loss) on a terminal, or a plain
    /// line per epoch when standard output is not a terminal (a ``ProgressLogger``).
    @discardableResult
    public func progress(totalIterations: Int) -> Loop {
        log(to: ProgressLogger(totalIterations: totalIterations), scope: .batch)
    }
}
