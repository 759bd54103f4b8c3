import Backend

/// A built model whose ``predict(_:inputs:randomKey:)`` is compiled per input shape (see
/// ``CompiledFunction``): from the third call with the same shapes it replays the backend
/// calls the model makes, without walking its graph.
///
/// ```swift
/// let built = try model.build(on: backend)
/// let state = try built.initialize(seed: 0)
/// let fast = built.compiled()
/// for batch in batches { _ = try fast.predict(state, inputs: ["features": batch]).output() }
/// ```
public struct CompiledModel: Sendable {
    /// The model it runs.
    public let built: BuiltModel
    /// The compiled function; its ``CompiledFunction/compiledSignatures`` and
    /// ``CompiledFunction/eagerReasons`` tell whether calls replay.
    public let function: CompiledFunction

    init(_ built: BuiltModel) {
        self.built = built
        function = CompiledFunction { arguments, key in
            let output = try built.predict(StepArguments.model(arguments), inputs: StepArguments.prefixed("input/", arguments), randomKey: key)
            var results: [String: Tensor] = [:]
            for (name, tensor) in output.outputs { results["output/" + name] = tensor }
            for (name, tensor) in output.state { results["state/" + name] = tensor }
            return results
        }
    }

    /// The model's outputs (and state, updated in training mode) for `inputs`, as
    /// ``BuiltModel/predict(_:inputs:randomKey:)`` returns them.
    public func predict(_ variables: ModelState, inputs: [String: Tensor], randomKey: Philox.Key = Philox.Key(seed: 0)) throws -> ModelOutput {
        let results = try function(StepArguments.pack(variables, inputs: inputs), randomKey: randomKey)
        return ModelOutput(
            names: built.outputNames, outputs: StepArguments.prefixed("output/", results),
            state: ParameterStore(StepArguments.prefixed("state/", results)))
    }
}

extension BuiltModel {
    /// This model with ``predict(_:inputs:randomKey:)`` compiled per input shape.
    public func compiled() -> CompiledModel { CompiledModel(self) }
}
