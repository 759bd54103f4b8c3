import Backend
import Foundation

extension Loop {
    /// Saves a checkpoint into `run` whenever an epoch whose number (from 1) is a multiple of
    /// `every` completes. The checkpoint holds the state after every other handler of that
    /// event (validation, early stopping, learning-rate changes), and continues with the next
    /// epoch when resumed. An `every` below 1 counts as 1.
    @discardableResult
    public func checkpoint(in run: RunDirectory, every: Int = 1) -> Loop {
        handleLast(.epochCompleted) { state in
            guard (state.epoch + 1) % Swift.max(every, 1) == 0 else { return .proceed }
            var saved = state
            saved.history.append(state.metrics)  // the epoch being completed
            saved.epoch += 1
            saved.iteration = 0
            saved.metrics = [:]
            saved.epochTotals = [:]
            try run.save(saved)
            return .proceed
        }
    }

    /// Halts the run as soon as a step's loss is NaN or infinite, with a ``LoopState/haltReason``
    /// that says at which epoch and step. With `run`, the state from before that step is saved
    /// there as the newest checkpoint, if its parameters are all finite (`--halt-on-nan` of
    /// `axon train`).
    @discardableResult
    public func haltOnNonFiniteLoss(savingTo run: RunDirectory? = nil) -> Loop {
        var beforeStep: LoopState?
        handle(.iterationStarted) { state in
            beforeStep = state
            return .proceed
        }
        return handle(.iterationCompleted) { state in
            guard let loss = state.stepLoss, !loss.isFinite else { return .proceed }
            var reason = "the loss became \(loss.isNaN ? "NaN" : loss > 0 ? "+infinity" : "-infinity") at epoch \(state.epoch + 1), iteration \(state.iteration + 1) (step \(state.step))"
            if let run, var last = beforeStep {
                if try last.stepState.model.parameters.allSatisfy({ try $0.tensor.dtype != .float32 || $0.tensor.scalars.allSatisfy(\.isFinite) }) {
                    last.haltReason = nil
                    reason += "; the state before that step is saved as \(try run.save(last).path)"
                } else {
                    reason += "; the parameters were already non-finite before that step, so no checkpoint was saved for it"
                }
            }
            state.haltReason = reason
            return .haltLoop
        }
    }
}
