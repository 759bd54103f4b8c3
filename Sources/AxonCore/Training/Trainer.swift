import Backend

extension Loop {
    /// A supervised trainer: each step runs the model in training mode, adds any kernel
    /// regularisation to `loss`, differentiates with respect to the trainable parameters and
    /// applies `optimizer` (fused when the backend can). Dropout keys derive from `seed` and
    /// the step number; parameters initialise from `seed`, or start from `initialState`.
    /// `lossScaling` scales the loss before differentiation and the gradients back (see
    /// ``LossScaling``); the reported loss and gradients are unscaled. With `dataParallel`, every
    /// rank runs this trainer on its share of each batch (``DatasetBatches/shard(_:of:)``) and
    /// applies the gradients averaged over the ranks (``DataParallel``).
    public static func trainer(
        model: Axon, loss: Loss, optimizer: Optimizer, on backend: any Backend, seed: UInt64 = 0,
        frozen: Set<String> = [], initialState: ModelState? = nil, lossScaling: LossScaling = .none, dataParallel: DataParallel? = nil
    ) throws -> Loop {
        try trainer(
            model: model, objective: TrainingObjective(loss), optimizer: optimizer, on: backend, seed: seed, frozen: frozen,
            initialState: initialState, lossScaling: lossScaling, dataParallel: dataParallel)
    }

    /// A trainer for a model with several outputs (``Axon/container(_:)``): a loss per output
    /// name, summed with `weights` (default 1), on the batches' targets of the same names
    /// (``Batch/namedTargets``, from a ``NamedDataset``). Outputs without a loss are not trained
    /// towards anything. Metrics read one output each (``Metric/on(_:)``); the reported `loss`
    /// is the weighted sum.
    ///
    /// ```swift
    /// let loop = try Loop.trainer(
    ///     model: Axon.container(["digit": digit, "parity": parity]),
    ///     losses: ["digit": .categoricalCrossEntropy(fromLogits: true, sparse: true), "parity": .binaryCrossEntropy()],
    ///     weights: ["parity": 0.5], optimizer: .adam(learningRate: 1e-3), on: backend)
    /// loop.metric(Metric.accuracy().on("digit"))
    /// ```
    public static func trainer(
        model: Axon, losses: [String: Loss], weights: [String: Float] = [:], optimizer: Optimizer, on backend: any Backend,
        seed: UInt64 = 0, frozen: Set<String> = [], initialState: ModelState? = nil, lossScaling: LossScaling = .none,
        dataParallel: DataParallel? = nil
    ) throws -> Loop {
        try trainer(
            model: model, objective: TrainingObjective(losses, weights: weights), optimizer: optimizer, on: backend, seed: seed, frozen: frozen,
            initialState: initialState, lossScaling: lossScaling, dataParallel: dataParallel)
    }

    private static func trainer(
        model: Axon, objective: TrainingObjective, optimizer: Optimizer, on backend: any Backend, seed: UInt64,
        frozen: Set<String>, initialState: ModelState?, lossScaling: LossScaling, dataParallel: DataParallel?
    ) throws -> Loop {
        try lossScaling.validate()
        let built = try model.build(on: backend, mode: .train, frozen: frozen)
        try objective.check(outputs: built.outputNames)
        // Every rank uses the single-process key: its layers draw its rows of the global batch's masks.
        let key = Philox.Key(seed: seed)
        // The loss, gradients (scaled by `scale`, each handed to `reduction` when final),
        // predictions and model state of one batch.
        @Sendable func differentiate(
            _ model: ModelState, _ batch: Batch, key: Philox.Key, share: RankShare?, reduction: RankAverage?, scale: Float?
        ) throws -> (loss: Tensor, gradients: ParameterStore, predictions: TrainingObjective.Predictions, state: ParameterStore) {
            var predictions: TrainingObjective.Predictions?
            var updatedState = model.state
            var unscaledLoss: Tensor?
            let (_, gradients) = try valueAndGradient(at: built.trainableParameters(model), whenFinal: reduction.map { $0.add }) { trainable in
                let output = try built.predict(
                    ModelState(parameters: model.parameters.merging(trainable), state: model.state), inputs: batch.inputs,
                    randomKey: key, share: share)
                let (batchLoss, seen) = try objective.evaluate(batch, output)
                predictions = seen
                updatedState = output.state
                let total = try built.regularizationPenalty(trainable).map { try batchLoss + $0 } ?? batchLoss
                unscaledLoss = total.detached()
                return try scale.map { try total * $0 } ?? total
            }
            guard let predictions, let loss = unscaledLoss else {
                throw AxonError.invalidValue(operation: "trainer", reason: "the model produced no prediction")
            }
            return (loss, gradients, predictions, updatedState)
        }
        // The same on one process without loss scaling, as a function of tensors, the step's key
        // and, for a fused optimizer, the update's settings: the update is then part of the step.
        let update = optimizer.fused
        let compilation = StepCompilation(CompiledFunction(withSettings: { arguments, key, settings in
            let (model, batch) = try StepArguments.unpack(arguments)
            let result = try differentiate(model, batch, key: key, share: nil, reduction: nil, scale: nil)
            var results = StepArguments.results(result.predictions)
            results["loss"] = result.loss
            for (name, gradient) in result.gradients { results["gradient/" + name] = gradient }
            for (name, tensor) in result.state { results["state/" + name] = tensor }
            if let update {
                let slots = StepArguments.prefixed("optimizer/", arguments)
                let (trained, updatedSlots) = try update.apply(model.parameters, result.gradients, ParameterStore(slots), settings)
                for (name, tensor) in trained { results["parameter/" + name] = tensor }
                for (name, tensor) in updatedSlots { results["optimizer/" + name] = tensor }
            }
            return results
        }))
        let step: LoopStep = { state, batch, step in
            let key = key.folded(with: UInt64(step))
            let scale = lossScaling.scale(state.optimizer)
            let distributed = dataParallel.map { $0.collective.size > 1 } ?? false
            let value: Tensor, gradients: ParameterStore, predictions: TrainingObjective.Predictions
            var updatedState: ParameterStore
            // The next state, when the compiled step ran the optimizer's update itself.
            var updatedInStep: StepState?
            if compilation.isEnabled, !distributed, scale == nil {
                var arguments = StepArguments.pack(state.model, batch)
                var prepared: (settings: [String: Double], counts: [String: Int])?
                // How many trainable parameters and optimizer tensors the step is handed, to return updated.
                var handedOver = (parameters: 0, optimizer: 0)
                if let update {
                    prepared = try update.prepare(state.optimizer)
                    for (name, tensor) in state.optimizer.tensors { arguments["optimizer/" + name] = tensor }
                    // Letting go of them lets a replay update them in place, unless a handler holds them.
                    let trainable = built.trainableParameters(state.model).names
                    handedOver = (trainable.count, state.optimizer.tensors.count)
                    for name in trainable { state.model.parameters[name] = nil }
                    state.optimizer.tensors = ParameterStore()
                }
                let results = try compilation.function.call(consume arguments, settings: prepared?.settings ?? [:], randomKey: key)
                predictions = try StepArguments.predictions(results)
                try checkClassTargets(batch, predictions.first)
                guard let loss = results["loss"] else {
                    throw AxonError.invalidValue(operation: "trainer", reason: "the compiled step returned no loss")
                }
                value = loss
                gradients = ParameterStore(StepArguments.prefixed("gradient/", results))
                updatedState = ParameterStore(StepArguments.prefixed("state/", results))
                if let prepared {
                    var optimizerState = state.optimizer
                    optimizerState.counts = prepared.counts
                    optimizerState.tensors = ParameterStore(StepArguments.prefixed("optimizer/", results))
                    let trained = ParameterStore(StepArguments.prefixed("parameter/", results))
                    guard trained.count == handedOver.parameters, optimizerState.tensors.count == handedOver.optimizer else {
                        throw AxonError.invalidValue(
                            operation: "trainer",
                            reason: "the compiled step returned \(trained.count) of \(handedOver.parameters) parameters and \(optimizerState.tensors.count) of \(handedOver.optimizer) optimizer tensors updated")
                    }
                    updatedInStep = StepState(
                        model: ModelState(parameters: state.model.parameters.merging(trained), state: updatedState), optimizer: optimizerState)
                }
            } else {
                let model = state.model
                let examples = batch.targets.rank > 0 ? batch.targets.shape[0] : 1
                var share: RankShare?, reduction: RankAverage?
                if let dataParallel, distributed {
                    let rankShare = try RankShare(
                        dataParallel, queue: CollectiveQueue(dataParallel.collective, clock: dataParallel.clock), examples: examples)
                    share = rankShare
                    reduction = RankAverage(
                        queue: rankShare.queue, weight: Float(rankShare.examples), total: Float(rankShare.total), bucketBytes: dataParallel.bucketBytes)
                }
                let result = try differentiate(model, batch, key: key, share: share, reduction: reduction, scale: scale)
                value = result.loss
                predictions = result.predictions
                updatedState = result.state
                // The ranks' (scaled) gradients are averaged as they become final; the scale is a power of two.
                let reduced = try reduction?.averaged() ?? result.gradients
                gradients = try scale.map { try reduced.divided(by: $0) } ?? reduced
                // Model state (running statistics) averaged over the ranks, so that every rank keeps one model.
                if let dataParallel, let share, !updatedState.isEmpty {
                    let average = RankAverage(
                        queue: share.queue, weight: 1, total: Float(dataParallel.collective.size), bucketBytes: dataParallel.bucketBytes)
                    for (name, tensor) in updatedState { try average.add(name, tensor) }
                    updatedState = try average.averaged()
                }
            }
            if let updatedInStep {
                state = updatedInStep
            } else {
                let model = state.model, trainableNow = built.trainableParameters(model)
                let finite = try !lossScaling.skipsNonFiniteSteps || gradients.allFinite()
                if let scale { try lossScaling.requireProgress(scale: scale, finite: finite, step: step) }
                var next = state
                if finite {
                    let (trained, optimizerState) = try optimizer.step(parameters: trainableNow, gradients: gradients, state: state.optimizer)
                    next = StepState(model: ModelState(parameters: model.parameters.merging(trained), state: updatedState), optimizer: optimizerState)
                }
                if let scale { lossScaling.update(&next.optimizer, scale: scale, finite: finite) }
                state = next
            }
            return StepOutput(
                loss: value, predictions: predictions.first, targets: batch.targets, gradients: gradients,
                namedPredictions: predictions.named, namedTargets: batch.namedTargets)
        }
        let loop = Loop(initialize: {
            let model = try initialState ?? built.initialize(seed: seed)
            return StepState(model: model, optimizer: try optimizer.initialize(built.trainableParameters(model)))
        }, step: step)
        loop.compilation = compilation
        loop.dataParallel = dataParallel
        loop.checkResume = { saved in
            let fresh = try initialState ?? built.initialize(seed: seed)
            try requireSameLayout(saved.stepState.model.parameters, fresh.parameters, "parameter")
            try requireSameLayout(saved.stepState.model.state, fresh.state, "model state")
            let optimizerState = try optimizer.initialize(built.trainableParameters(fresh))
            try requireSameLayout(saved.stepState.optimizer.tensors, optimizerState.tensors, "optimizer tensor")
        }
        loop.evaluate = { state, data, metrics in
            let evaluator = try Loop.evaluator(model: model, state: state, on: backend, objective: objective)
            for metric in metrics { evaluator.metric(metric) }
            return try evaluator.run(data, epochs: 1).metrics
        }
        return loop
    }

    /// An evaluator: runs the model in inference mode with fixed variables and aggregates
    /// metrics (and `loss`, if given).
    public static func evaluator(model: Axon, state: ModelState, on backend: any Backend, loss: Loss? = nil) throws -> Loop {
        try evaluator(model: model, state: state, on: backend, objective: loss.map { TrainingObjective($0) })
    }

    /// An evaluator for a model with several outputs: the weighted sum of `losses` by output
    /// name (see ``trainer(model:losses:weights:optimizer:on:seed:frozen:initialState:lossScaling:dataParallel:)``).
    public static func evaluator(
        model: Axon, state: ModelState, on backend: any Backend, losses: [String: Loss], weights: [String: Float] = [:]
    ) throws -> Loop {
        try evaluator(model: model, state: state, on: backend, objective: TrainingObjective(losses, weights: weights))
    }

    private static func evaluator(model: Axon, state: ModelState, on backend: any Backend, objective: TrainingObjective?) throws -> Loop {
        let built = try model.build(on: backend, mode: .inference)
        try objective?.check(outputs: built.outputNames)
        let compilation = StepCompilation(CompiledFunction { arguments, _ in
            let (model, batch) = try StepArguments.unpack(arguments)
            let output = try built.predict(model, inputs: batch.inputs)
            let (loss, predictions) = try objective.map { try $0.evaluate(batch, output) } ?? (nil, TrainingObjective.predictions(output))
            var results = StepArguments.results(predictions)
            results["loss"] = loss
            return results
        })
        let loop = Loop(initialize: { StepState(model: state) }, step: { state, batch, _ in
            let arguments = StepArguments.pack(state.model, batch)
            let results = try compilation.isEnabled ? compilation.function(arguments) : compilation.function.eager(arguments)
            let predictions = try StepArguments.predictions(results)
            if objective != nil { try checkClassTargets(batch, predictions.first) }
            return StepOutput(
                loss: results["loss"], predictions: predictions.first, targets: batch.targets,
                namedPredictions: predictions.named, namedTargets: batch.namedTargets)
        }, lossName: objective == nil ? nil : "loss")
        loop.compilation = compilation
        return loop
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
