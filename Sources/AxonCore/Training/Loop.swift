import Backend
import Logging

/// The moments of a loop run at which handlers fire, in the order they occur.
public enum LoopEvent: String, Sendable, CaseIterable {
    /// The run starts (or resumes).
    case started
    /// An epoch starts.
    case epochStarted
    /// An iteration starts, before its step.
    case iterationStarted
    /// An iteration's step has run and the metrics are updated.
    case iterationCompleted
    /// An epoch's iterations have all run.
    case epochCompleted
    /// A handler halted the epoch.
    case epochHalted
    /// A handler halted the run.
    case halted
    /// The run finished its epochs.
    case completed
}

/// Which occurrences of an event a handler sees (counted from 1), as Axon's event filters.
///
/// ```swift
/// loop.handle(.iterationCompleted, filter: .after(100)) { state in ... }    // from the 101st on
/// loop.handle(.epochCompleted, filter: .when { state, _ in state.metrics["loss"] ?? 0 > 1 }) { ... }
/// ```
public enum EventFilter: Sendable {
    /// Every occurrence.
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
    /// Go on.
    case proceed
    /// End the current epoch now (fires `epochHalted` instead of `epochCompleted`).
    case haltEpoch
    /// End the run now (fires `halted`).
    case haltLoop
}

/// What a train (or evaluation) step carries from one iteration to the next.
public struct StepState: Sendable {
    /// The parameters and model state.
    public var model: ModelState
    /// Optimizer state; a custom step with several optimizers can keep each under a prefix.
    public var optimizer: OptimizerState

    /// A state starting from `model` and `optimizer`.
    public init(model: ModelState, optimizer: OptimizerState = OptimizerState()) {
        self.model = model
        self.optimizer = optimizer
    }
}

/// What one step returns for metrics and logging.
public struct StepOutput: Sendable {
    /// The batch loss, if the step computes one.
    public let loss: Tensor?
    /// The model's output for the batch (the first by name for several outputs).
    public let predictions: Tensor
    /// The batch's targets.
    public let targets: Tensor
    /// The gradients the step applied, by parameter name, if it computes any; kept in
    /// ``LoopState/gradients`` when a logger asks for them.
    public let gradients: ParameterStore?
    /// Every output by name, for a model with several (``Metric/on(_:)`` reads them).
    public let namedPredictions: [String: Tensor]
    /// The batch's targets by output name, if it has named targets.
    public let namedTargets: [String: Tensor]

    /// What a step returns; named predictions and targets are for models with several outputs.
    public init(
        loss: Tensor?, predictions: Tensor, targets: Tensor, gradients: ParameterStore? = nil,
        namedPredictions: [String: Tensor] = [:], namedTargets: [String: Tensor] = [:]
    ) {
        self.loss = loss
        self.predictions = predictions
        self.targets = targets
        self.gradients = gradients
        self.namedPredictions = namedPredictions
        self.namedTargets = namedTargets
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
    /// The parameters, model state and optimizer state.
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

    /// A state at the start of the first epoch.
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
    /// A handler: reads and may change the state, and says whether the loop goes on.
    public typealias Handler = (inout LoopState) throws -> HandlerResult

    let initialize: () throws -> StepState
    let step: LoopStep
    let lossName: String?
    var metrics: [Metric] = []
    var handlers: [(event: LoopEvent, filter: EventFilter, runsLast: Bool, body: Handler)] = []
    /// Evaluates model variables on held-out data (set by ``trainer(model:loss:optimizer:on:seed:frozen:initialState:lossScaling:dataParallel:)``).
    var evaluate: ((ModelState, any BatchSource, [Metric]) throws -> [String: Double])?
    /// Checks that a state to resume from fits this loop (set by ``trainer(model:loss:optimizer:on:seed:frozen:initialState:lossScaling:dataParallel:)``).
    var checkResume: ((LoopState) throws -> Void)?
    /// Logs through swift-log under the label `axon.loop`.
    public var logger = Logger(label: "axon.loop")
    /// Whether each step's gradients are kept in ``LoopState/gradients`` (a logger needs them).
    var retainsGradients = false
    /// Whether and how this trainer's or evaluator's steps are compiled; `nil` for a loop
    /// with a custom step.
    public internal(set) var compilation: StepCompilation?
    /// The ranks a data-parallel trainer runs on: the loop starts them from rank 0's state and
    /// sums each step's loss and metric statistics over them.
    var dataParallel: DataParallel?

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
        if let dataParallel { state.stepState = try dataParallel.synchronized(state.stepState) }
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
                var size = Double(output.targets.rank > 0 ? output.targets.shape[0] : 1)
                let value = try lossName == nil ? nil : output.loss.map { Double(try $0.item()) }
                var lossSum = value.map { $0 * size }
                var statistics = try running.map { try $0.statistics(for: output) }
                if let dataParallel {
                    (size, lossSum, statistics) = try dataParallel.aggregated(examples: size, lossSum: lossSum, statistics: statistics)
                }
                if let lossSum, let lossName {
                    state.stepLoss = dataParallel == nil ? value : lossSum / size
                    lossTotal += lossSum
                    examples += size
                    state.metrics[lossName] = lossTotal / examples
                    state.epochTotals[lossName] = [lossTotal, examples]
                }
                for index in running.indices {
                    running[index].add(statistics[index])
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
