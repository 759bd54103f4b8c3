import Backend

/// An optimizer step that a backend runs as one fused update per parameter, split into its
/// host part and its device part so that a compiled training step can replay the device part
/// with each step's host values (see `CompiledFunction.call(_:settings:randomKey:)`).
struct FusedUpdate: Sendable {
    /// The host part: this step's settings (learning rate, step number) and the state's step
    /// counts after it. Throws for a learning rate that is not finite.
    let prepare: @Sendable (_ state: OptimizerState) throws -> (settings: [String: Double], counts: [String: Int])
    /// The device part: the new parameters and slot tensors (`0/mu/dense_0.kernel`, ...) for
    /// the gradients given, from the old ones and the settings `prepare` gave.
    let apply: @Sendable (_ parameters: ParameterStore, _ gradients: ParameterStore, _ slots: ParameterStore, _ settings: [String: Double])
        throws -> (parameters: ParameterStore, slots: ParameterStore)

    /// Both parts, as one step of an optimizer's state.
    func step(_ parameters: ParameterStore, _ gradients: ParameterStore, _ state: OptimizerState) throws -> (ParameterStore, OptimizerState) {
        let (settings, counts) = try prepare(state)
        let (updated, slots) = try apply(parameters, gradients, state.tensors, settings)
        var next = state
        next.counts = counts
        next.tensors = state.tensors.merging(slots)
        return (parameters.merging(updated), next)
    }

    /// The settings' names.
    static let rateSetting = "optimizer/learning_rate", stepSetting = "optimizer/step"

    /// Adam/AdamW over the state of `chain(scaleByAdam, [addDecayedWeights,] scaleByLearningRate)`,
    /// whose learning-rate counter sits at index `rateIndex`.
    static func adam(
        learningRate: LearningRate, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, rateIndex: Int
    ) -> FusedUpdate {
        FusedUpdate(prepare: { state in
            let adamCount = state.counts["0/count", default: 0] + 1
            var (settings, counts) = try rateSettings(learningRate, rateIndex: rateIndex, state)
            counts["0/count"] = adamCount
            settings[stepSetting] = Double(adamCount)
            return (settings, counts)
        }, apply: { parameters, gradients, slots, settings in
            try updateEach(parameters, gradients, slots, slotNames: ["0/mu", "0/nu"], settings: settings, reading: [rateSetting, stepSetting]) {
                backend, buffers, values in
                guard let step = Int(exactly: values[1]), step > 0 else {
                    throw AxonError.invalidValue(operation: "adam", reason: "the step number must be a positive integer, got \(values[1])")
                }
                let updated = try backend.adamUpdate(
                    parameter: buffers[0], gradient: buffers[1], firstMoment: buffers[2], secondMoment: buffers[3],
                    step: AdamStep(learningRate: Float(values[0]), beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, step: step))
                return [updated.parameter, updated.firstMoment, updated.secondMoment]
            }
        })
    }

    /// SGD with momentum over the state of `chain(trace, scaleByLearningRate)`.
    static func momentum(learningRate: LearningRate, momentum: Float, nesterov: Bool) -> FusedUpdate {
        FusedUpdate(prepare: { state in
            var (settings, counts) = try rateSettings(learningRate, rateIndex: 1, state)
            counts["0/count"] = state.counts["0/count", default: 0] + 1
            return (settings, counts)
        }, apply: { parameters, gradients, slots, settings in
            try updateEach(parameters, gradients, slots, slotNames: ["0/trace"], settings: settings, reading: [rateSetting]) { backend, buffers, values in
                let updated = try backend.momentumUpdate(
                    parameter: buffers[0], gradient: buffers[1], velocity: buffers[2],
                    step: MomentumStep(learningRate: Float(values[0]), momentum: momentum, nesterov: nesterov))
                return [updated.parameter, updated.velocity]
            }
        })
    }

    /// The learning rate at the counter of part `rateIndex`, scaled by the state's
    /// ``OptimizerState/learningRateScale``, and the counts with that counter advanced.
    private static func rateSettings(
        _ learningRate: LearningRate, rateIndex: Int, _ state: OptimizerState
    ) throws -> (settings: [String: Double], counts: [String: Int]) {
        let rateCount = state.counts["\(rateIndex)/count", default: 0]
        let rate = try learningRate.checkedLearningRate(at: rateCount) * state.hyperparameters[OptimizerState.learningRateScale, default: 1]
        var counts = state.counts
        counts["\(rateIndex)/count"] = rateCount + 1
        return ([rateSetting: Double(rate)], counts)
    }

    /// Runs `update` on each gradient's parameter, gradient and slot tensors (in the order of
    /// `slotNames`), which returns the new parameter and slots in the same order.
    private static func updateEach(
        _ parameters: ParameterStore, _ gradients: ParameterStore, _ slots: ParameterStore, slotNames: [String],
        settings: [String: Double], reading names: [String],
        _ update: @escaping (any Backend, [Buffer], [Double]) throws -> [Buffer]
    ) throws -> (parameters: ParameterStore, slots: ParameterStore) {
        let read = try names.map { name in
            guard let value = settings[name] else {
                throw AxonError.invalidValue(operation: "optimizer update", reason: "the setting '\(name)' is missing")
            }
            return (name: name, value: value)
        }
        var updatedParameters = ParameterStore(), updatedSlots = ParameterStore()
        for (name, gradient) in gradients {
            let operands = try [parameters.tensor(name), gradient] + slotNames.map { try slots.tensor("\($0)/\(name)") }
            let (backend, outputs) = try Tensor.computeBuffers("optimizer update", operands, settings: read) { backend, buffers, _, values in
                try update(backend, buffers, values)
            }
            updatedParameters[name] = Tensor(buffer: outputs[0], backend: backend)
            for (slot, output) in zip(slotNames, outputs.dropFirst()) { updatedSlots["\(slot)/\(name)"] = Tensor(buffer: output, backend: backend) }
        }
        return (updatedParameters, updatedSlots)
    }
}
