import Backend
import Logging

/// The moments of a loop run at which handlers fire, in the order they occur.
public enum LoopEvent: String, Sendable, CaseIterable {
    case started, epochStarted, iterationStarted, iterationCompleted, epochCompleted, epochHalted, halted, completed
}

/// Which occurrences of an event a handler sees (counted from 1), as Axon's event filters.
///
/// ```swift
/// loop.handle(.iterationCompleted, filter: .after(100)) { state in ... }    // from the 101st on
/// loop.handle(.epochCompleted, filter: .when { state, _ in state.metrics["loss"] ?? 0 > 1 }) { ... }
/// ```
public enum EventFilter: Sendable {
    case always
    /// Every `n`-th occurrence.
    case every(Int)
    /// The first occurrence only.
    case first
    /// The `n`-th occurrence only.
    case once(Int)
    /// The occurrences before the `n`-th (1 through `n − 1`).
    case before(Int)
    /// The occurrences after the `n`-th (`n + 1` on).
    case after(Int)
    /// The occurrences for which `predicate`, given the loop state and the occurrence number, holds.
    case when(@Sendable (_ state: LoopState, _ occurrence: Int) -> Bool)

    func admits(_ occurrence: Int, _ state: LoopState) -> Bool {
        switch self {
        case .always: return true
        case let .every(n): return n > 0 && occurrence % n == 0
        case .first: return occurrence == 1
        case let .once(n): return occurrence == n
        case let .before(n): return occurrence < n
        case let .after(n): return occurrence > n
        case let .when(predicate): return predicate(state, occurrence)
        }
    }
}

/// What a handler asks the loop to do next.
public enum HandlerResult: Sendable {
    case proceed
    /// End the current epoch now (fires `epochHalted` instead of `epochCompleted`).
    case haltEpoch
    /// End the run now (fires `halted`).
    case haltLoop
}

/// What a train (or evaluation) step carries from one iteration to the next.
public struct StepState: Sendable {
    public var model: ModelState
    /// Optimizer state; a custom step with several optimizers can keep each under a prefix.
    public var optimizer: OptimizerState

    public init(model: ModelState, optimizer: OptimizerState = OptimizerState()) {
        self.model = model
        self.optimizer = optimizer
    }
}

/// What one step returns for metrics and logging.
public struct StepOutput: Sendable {
    /// The batch loss, if the step computes one.
    public let loss: Tensor?
    public let predictions: Tensor
    public let targets: Tensor
    /// The gradients the step applied, by parameter name, if it computes any; kept in
    /// ``LoopState/gradients`` when a logger asks for them.
    public let gradients: ParameterStore?

    public init(loss: Tensor?, predictions: Tensor, targets: Tensor, gradients: ParameterStore? = nil) {
        self.loss = loss
        self.predictions = predictions
        self.targets = targets
        self.gradients = gradients
    }
}

/// A step: updates the state from one batch. `step` is the global 0-based step number, for
/// deriving random keys.
public typealias LoopStep = @Sendable (_ state: inout StepState, _ batch: Batch, _ step: Int) throws -> StepOutput

/// Everything a run knows: where it is, the step state and the metrics.
///
/// A state is also where a run continues from (``Loop/run(_:epochs:iterations:resumeFrom:)``):
/// iteration `iteration` of epoch `epoch` is the next to run. Checkpoints saved when an epoch
/// completes therefore hold the following epoch at iteration 0.
public struct LoopState: Sendable {
    /// The current epoch, from 0.
    public var epoch = 0
    /// The current iteration within the epoch, from 0.
    public var iteration = 0
    /// Iterations completed over the whole run.
    public var step = 0
    public var stepState: StepState
    /// This epoch's running values: `loss`, each metric by name, and after validation
    /// `validation_loss` and `validation_<metric>`.
    public var metrics: [String: Double] = [:]
    /// The sums behind this epoch's running `loss` and metrics (see ``Metric/totals``), by name,
    /// so that a run resumed in the middle of an epoch aggregates exactly as if never stopped.
    public var epochTotals: [String: [Double]] = [:]
    /// Why a handler halted the run, in words, if one did and said so.
    public var haltReason: String?
    /// Final metrics of every completed epoch.
    public var history: [[String: Double]] = []
    /// The loss of the latest step alone (the `loss` metric is the epoch's running mean).
    public var stepLoss: Double?
    /// Scratch space for handlers (early-stopping counters, ...), saved in checkpoints.
    public var handlerMetadata: [String: Double] = [:]
    /// The latest step's gradients, when a logger attached with ``Loop/log(to:scope:)`` needs
    /// them (``RunLogger/needsGradients``); `nil` otherwise. Not saved in checkpoints.
    public var gradients: ParameterStore?

    public init(stepState: StepState) { self.stepState = stepState }
}

/// A training or evaluation loop in the manner of Axon's `Loop`: a step function run over
/// batches for some epochs, with handlers attached to events.
///
/// ```swift
/// let loop = try Loop.trainer(model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
///                             optimizer: .adam(learningRate: 1e-3), on: backend)
///     .metric(.accuracy())
///     .validate(on: heldOut)
///     .log(.perEpoch)
/// let final = try loop.run(batches, epochs: 2)
/// ```
public final class Loop: @unchecked Sendable {
    public typealias Handler = (inout LoopState) throws -> HandlerResult

    let initialize: () throws -> StepState
    let step: LoopStep
    let lossName: String?
    var metrics: [Metric] = []
    var handlers: [(event: LoopEvent, filter: EventFilter, runsLast: Bool, body: Handler)] = []
    /// Evaluates model variables on held-out data (set by ``trainer(model:loss:optimizer:on:seed:frozen:initialState:)``).
    var evaluate: ((ModelState, any BatchSource, [Metric]) throws -> [String: Double])?
    /// Checks that a state to resume from fits this loop (set by ``trainer(model:loss:optimizer:on:seed:frozen:initialState:)``).
    var checkResume: ((LoopState) throws -> Void)?
    /// Logs through swift-log under the label `axon.loop`.
    public var logger = Logger(label: "axon.loop")
    /// Whether each step's gradients are kept in ``LoopState/gradients`` (a logger needs them).
    var retainsGradients = false

    /// A loop from a custom step: `initialize` creates the first step state.
    public init(initialize: @escaping () throws -> StepState, step: @escaping LoopStep, lossName: String? = "loss") {
        self.initialize = initialize
        self.step = step
        self.lossName = lossName
    }

    /// Adds a metric computed on every step's predictions and aggregated exactly over each epoch.
    @discardableResult
    public func metric(_ metric: Metric) -> Loop {
        metrics.append(metric)
        return self
    }

    /// Attaches a handler to an event.
    @discardableResult
    public func handle(_ event: LoopEvent, filter: EventFilter = .always, _ body: @escaping Handler) -> Loop {
        handlers.append((event, filter, false, body))
        return self
    }

    /// Attaches a handler that runs after every ordinary handler of its event, whatever the order
    /// of attachment: checkpoints, which must see what the other handlers did to the state.
    @discardableResult
    func handleLast(_ event: LoopEvent, _ body: @escaping Handler) -> Loop {
        handlers.append((event, .always, true, body))
        return self
    }

    /// Runs the loop over `data` until `epochs` epochs have completed (at most `iterations` per
    /// epoch if given), from a fresh state or from `resumeFrom`, a checkpoint's state, which
    /// continues where it was saved (``LoopState``), even in the middle of an epoch; with the
    /// same data and handlers the result equals an uninterrupted run's, bit for bit.
    public func run(_ data: any BatchSource, epochs: Int, iterations: Int? = nil, resumeFrom: LoopState? = nil) throws -> LoopState {
        if let resumeFrom { try checkResume?(resumeFrom) }
        var state = try resumeFrom ?? LoopState(stepState: initialize())
        let order = handlers.indices.filter { !handlers[$0].runsLast } + handlers.indices.filter { handlers[$0].runsLast }
        var occurrences: [Int: Int] = [:]
        func fire(_ event: LoopEvent) throws -> HandlerResult {
            var outcome = HandlerResult.proceed
            for index in order where handlers[index].event == event {
                let handler = handlers[index]
                let occurrence = occurrences[index, default: 0] + 1
                occurrences[index] = occurrence
                guard handler.filter.admits(occurrence, state) else { continue }
                switch try handler.body(&state) {
                case .proceed: break
                case .haltEpoch: if case .proceed = outcome { outcome = .haltEpoch }
                case .haltLoop: outcome = .haltLoop
                }
            }
            return outcome
        }

        if case .haltLoop = try fire(.started) { _ = try fire(.halted); return state }
        var running = metrics
        while state.epoch < epochs {
            if state.iteration == 0 {
                state.metrics = [:]
                state.epochTotals = [:]
            }
            for index in running.indices { running[index].restore(totals: state.epochTotals[running[index].name] ?? []) }
            let lossTotals = lossName.flatMap { state.epochTotals[$0] } ?? []
            var (lossTotal, examples) = lossTotals.count == 2 ? (lossTotals[0], lossTotals[1]) : (0.0, 0.0)
            var outcome = try fire(.epochStarted)
            let count = Swift.min(data.batchCount, iterations ?? .max)
            while case .proceed = outcome, state.iteration < count {
                outcome = try fire(.iterationStarted)
                guard case .proceed = outcome else { break }
                let batch = try data.batch(state.iteration, epoch: state.epoch)
                let output = try step(&state.stepState, batch, state.step)
                state.gradients = retainsGradients ? output.gradients : nil
                let size = Double(output.targets.rank > 0 ? output.targets.shape[0] : 1)
                if let loss = output.loss, let lossName {
                    let value = Double(try loss.item())
                    state.stepLoss = value
                    lossTotal += value * size
                    examples += size
                    state.metrics[lossName] = lossTotal / examples
                    state.epochTotals[lossName] = [lossTotal, examples]
                }
                for index in running.indices {
                    try running[index].update(yTrue: output.targets, yPred: output.predictions)
                    state.metrics[running[index].name] = running[index].value
                    state.epochTotals[running[index].name] = running[index].totals
                }
                state.step += 1
                outcome = try fire(.iterationCompleted)
                state.iteration += 1
            }
            switch outcome {
            case .haltLoop:
                _ = try fire(.halted)
                return state
            case .haltEpoch:
                if case .haltLoop = try fire(.epochHalted) { _ = try fire(.halted); return state }
            case .proceed:
                let completed = try fire(.epochCompleted)
                state.history.append(state.metrics)
                if case .haltLoop = completed { _ = try fire(.halted); return state }
            }
            state.epoch += 1
            state.iteration = 0
        }
        _ = try fire(.completed)
        return state
    }
}

extension Loop {
    /// A supervised trainer: each step runs the model in training mode, adds any kernel
    /// regularisation to `loss`, differentiates with respect to the trainable parameters and
    /// applies `optimizer` (fused when the backend can). Dropout keys derive from `seed` and
    /// the step number; parameters initialise from `seed`, or start from `initialState`.
    /// `lossScaling` scales the loss before differentiation and the gradients back (see
    /// ``LossScaling``); the reported loss and gradients are unscaled.
    public static func trainer(
        model: Axon, loss: Loss, optimizer: Optimizer, on backend: any Backend, seed: UInt64 = 0,
        frozen: Set<String> = [], initialState: ModelState? = nil, lossScaling: LossScaling = .none
    ) throws -> Loop {
        try lossScaling.validate()
        let built = try model.build(on: backend, mode: .train, frozen: frozen)
        let key = Philox.Key(seed: seed)
        let step: LoopStep = { state, batch, step in
            var predictions: Tensor?
            var updatedState = state.model.state
            let model = state.model
            let trainableNow = built.trainableParameters(model)
            let scale = lossScaling.scale(state.optimizer)
            var unscaledLoss: Tensor?
            let (_, scaledGradients) = try valueAndGradient(at: trainableNow) { trainable in
                var parameters = model.parameters
                for (name, tensor) in trainable { parameters[name] = tensor }
                let output = try built.predict(
                    ModelState(parameters: parameters, state: model.state), inputs: batch.inputs, randomKey: key.folded(with: UInt64(step)))
                let prediction = try output.output()
                try checkClassTargets(batch, prediction)
                predictions = prediction.detached()
                updatedState = output.state
                let batchLoss = try loss(batch.targets, prediction)
                let total = try built.regularizationPenalty(trainable).map { try batchLoss + $0 } ?? batchLoss
                unscaledLoss = total.detached()
                return try scale.map { try total * $0 } ?? total
            }
            let gradients = try scale.map { try scaledGradients.divided(by: $0) } ?? scaledGradients
            guard let predictions, let value = unscaledLoss else {
                throw AxonError.invalidValue(operation: "trainer", reason: "the model produced no prediction")
            }
            let finite = try !lossScaling.skipsNonFiniteSteps || gradients.allFinite()
            var next = state
            if finite {
                let (trained, optimizerState) = try optimizer.step(parameters: trainableNow, gradients: gradients, state: state.optimizer)
                var parameters = model.parameters
                for (name, tensor) in trained { parameters[name] = tensor }
                next = StepState(model: ModelState(parameters: parameters, state: updatedState), optimizer: optimizerState)
            }
            if let scale { lossScaling.update(&next.optimizer, scale: scale, finite: finite) }
            state = next
            return StepOutput(loss: value, predictions: predictions, targets: batch.targets, gradients: gradients)
        }
        let loop = Loop(initialize: {
            let model = try initialState ?? built.initialize(seed: seed)
            return StepState(model: model, optimizer: try optimizer.initialize(built.trainableParameters(model)))
        }, step: step)
        loop.checkResume = { saved in
            let fresh = try initialState ?? built.initialize(seed: seed)
            try requireSameLayout(saved.stepState.model.parameters, fresh.parameters, "parameter")
            try requireSameLayout(saved.stepState.model.state, fresh.state, "model state")
            let optimizerState = try optimizer.initialize(built.trainableParameters(fresh))
            try requireSameLayout(saved.stepState.optimizer.tensors, optimizerState.tensors, "optimizer tensor")
        }
        loop.evaluate = { state, data, metrics in
            let evaluator = try Loop.evaluator(model: model, state: state, on: backend, loss: loss)
            for metric in metrics { evaluator.metric(metric) }
            return try evaluator.run(data, epochs: 1).metrics
        }
        return loop
    }

    /// An evaluator: runs the model in inference mode with fixed variables and aggregates
    /// metrics (and `loss`, if given).
    public static func evaluator(model: Axon, state: ModelState, on backend: any Backend, loss: Loss? = nil) throws -> Loop {
        let built = try model.build(on: backend, mode: .inference)
        return Loop(initialize: { StepState(model: state) }, step: { state, batch, _ in
            let predictions = try built.predict(state.model, inputs: batch.inputs).output()
            try checkClassTargets(batch, predictions)
            return StepOutput(loss: try loss.map { try $0(batch.targets, predictions) }, predictions: predictions, targets: batch.targets)
        }, lossName: loss == nil ? nil : "loss")
    }
}

/// Throws unless `saved` holds the same names, shapes and dtypes as `expected`.
private func requireSameLayout(_ saved: ParameterStore, _ expected: ParameterStore, _ kind: String) throws {
    func refuse(_ problem: String) -> AxonError {
        AxonError.invalidValue(operation: "resume", reason: "the saved state does not fit this model and optimizer: \(problem)")
    }
    if let extra = Set(saved.names).subtracting(expected.names).sorted().first {
        throw refuse("it has \(kind) '\(extra)', which this model and optimizer lack")
    }
    for name in expected.names {
        guard let stored = saved[name] else { throw refuse("\(kind) '\(name)' is missing") }
        let wanted = try expected.tensor(name)
        guard stored.shape == wanted.shape, stored.dtype == wanted.dtype else {
            throw refuse("\(kind) '\(name)' is \(stored.dtype) \(stored.shape) there, \(wanted.dtype) \(wanted.shape) here")
        }
    }
}

/// Refuses `int32` class-index targets outside the model's classes, which a sparse loss would
/// otherwise turn into all-zero rows: a loss of 0 that trains nothing.
private func checkClassTargets(_ batch: Batch, _ prediction: Tensor) throws {
    guard let range = batch.targetRange, batch.targets.dtype == .int32, prediction.rank == batch.targets.rank + 1 else { return }
    let classes = prediction.shape[prediction.rank - 1]
    guard range.lowerBound >= 0, Int(range.upperBound) < classes else {
        throw AxonError.invalidValue(
            operation: "trainer",
            reason: "the targets are class indices from \(range.lowerBound) to \(range.upperBound), but the model predicts \(classes) classes (0 to \(classes - 1))")
    }
}
