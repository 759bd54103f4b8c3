import Backend

/// A gradient transformation in the style of optax: `initialize` creates state for some
/// parameters, and `update` turns gradients into updates (and new state). Compose them with
/// `chain(_:)` and apply the result with ``applyUpdates(_:to:)``.
///
/// ```swift
/// let optimizer = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3))
/// var state = try optimizer.initialize(parameters)
/// let (updates, newState) = try optimizer.update(gradients, state, parameters)
/// parameters = try applyUpdates(updates, to: parameters)
/// ```
public struct GradientTransformation: Sendable {
    /// Creates the transformation's state for `parameters`.
    public let initialize: @Sendable (_ parameters: ParameterStore) throws -> OptimizerState
    /// Turns gradients into updates, given the state and the current parameters; returns the new state.
    public let update: @Sendable (_ gradients: ParameterStore, _ state: OptimizerState, _ parameters: ParameterStore) throws
        -> (updates: ParameterStore, state: OptimizerState)

    /// A transformation from its two functions.
    public init(
        initialize: @escaping @Sendable (_ parameters: ParameterStore) throws -> OptimizerState,
        update: @escaping @Sendable (_ gradients: ParameterStore, _ state: OptimizerState, _ parameters: ParameterStore) throws
            -> (updates: ParameterStore, state: OptimizerState)
    ) {
        self.initialize = initialize
        self.update = update
    }

    /// A stateless transformation applying `body(update, parameter)` to each parameter.
    static func stateless(_ body: @escaping @Sendable (_ update: Tensor, _ parameter: Tensor) throws -> Tensor) -> GradientTransformation {
        GradientTransformation(initialize: { _ in OptimizerState() }) { gradients, state, parameters in
            var updates = ParameterStore()
            for (name, gradient) in gradients { updates[name] = try body(gradient, parameters.tensor(name)) }
            return (updates, state)
        }
    }

    /// A transformation with per-parameter slot tensors (initialised by `slots`) and a step
    /// counter. `body` gets the update, the parameter, its slots and the 1-based step, and
    /// returns the new update and slots.
    static func withSlots(
        _ slots: [String: Float],
        _ body: @escaping @Sendable (_ update: Tensor, _ parameter: Tensor, _ slots: [String: Tensor], _ step: Int) throws
            -> (Tensor, [String: Tensor])
    ) -> GradientTransformation {
        GradientTransformation(initialize: { parameters in
            var state = OptimizerState(counts: ["count": 0])
            for (name, parameter) in parameters {
                for (slot, value) in slots { state.set(slot, name, try parameter.filled(with: value)) }
            }
            return state
        }) { gradients, state, parameters in
            var next = state
            let step = state.counts["count", default: 0] + 1
            next.counts["count"] = step
            var updates = ParameterStore()
            for (name, gradient) in gradients {
                var current: [String: Tensor] = [:]
                for slot in slots.keys { current[slot] = try state.tensor(slot, name) }
                let (update, newSlots) = try body(gradient, try parameters.tensor(name), current, step)
                updates[name] = update
                for (slot, value) in newSlots { next.set(slot, name, value) }
            }
            return (updates, next)
        }
    }
}

/// Runs transformations one after the other; each part's state is kept under its index.
public func chain(_ transformations: GradientTransformation...) -> GradientTransformation { chain(transformations) }

/// The transformations applied in order, each to the previous one's updates; each keeps its state under its index.
public func chain(_ transformations: [GradientTransformation]) -> GradientTransformation {
    GradientTransformation(initialize: { parameters in
        var state = OptimizerState()
        for (index, transformation) in transformations.enumerated() {
            state.merge(try transformation.initialize(parameters), prefix: "\(index)")
        }
        return state
    }) { gradients, state, parameters in
        var updates = gradients
        var next = state
        for (index, transformation) in transformations.enumerated() {
            let result = try transformation.update(updates, next.part("\(index)"), parameters)
            updates = result.updates
            next.merge(result.state, prefix: "\(index)")
        }
        return (updates, next)
    }
}

/// `parameters + updates`, by name.
public func applyUpdates(_ updates: ParameterStore, to parameters: ParameterStore) throws -> ParameterStore {
    var result = parameters
    for (name, update) in updates { result[name] = try parameters.tensor(name).detached() + update }
    return result
}
