import Backend

/// Whether a loop compiles its steps, and how that went (see ``CompiledFunction``).
///
/// A trainer or evaluator compiles its step by default: the model's forward pass, the loss
/// and, when training, the backward pass, traced for each batch shape and replayed from the
/// third batch of that shape on. An optimizer with a fused update (Adam, AdamW, SGD with
/// momentum) is part of the step: each step computes its learning rate and step number on the
/// host and the replay hands them to the update. Other optimizers, whose transformations turn
/// host values into tensors, update after the replay. Steps that cannot be compiled (loss scaling, data parallelism, layer hooks, ...) run
/// eagerly, with the same results.
///
/// ```swift
/// let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend)
/// loop.compilation?.isEnabled = false   // every step eager
/// ```
public final class StepCompilation: @unchecked Sendable {
    /// Whether steps may be compiled (default `true`).
    public var isEnabled = true
    let function: CompiledFunction

    init(_ function: CompiledFunction) { self.function = function }

    /// How many batch shapes run as replayed plans.
    public var compiledShapes: Int { function.compiledSignatures }

    /// Why batch shapes run eagerly, one reason each.
    public var eagerReasons: [String] { function.eagerReasons }
}

/// The names under which a step's tensors enter and leave its compiled function.
enum StepArguments {
    /// A model's variables and its inputs.
    static func pack(_ model: ModelState, inputs: [String: Tensor]) -> [String: Tensor] {
        var arguments: [String: Tensor] = [:]
        for (name, tensor) in model.parameters { arguments["parameter/" + name] = tensor }
        for (name, tensor) in model.state { arguments["state/" + name] = tensor }
        for (name, tensor) in inputs { arguments["input/" + name] = tensor }
        return arguments
    }

    /// A model's variables and a whole batch, targets included.
    static func pack(_ model: ModelState, _ batch: Batch) -> [String: Tensor] {
        var arguments = pack(model, inputs: batch.inputs)
        arguments["target"] = batch.targets
        for (name, tensor) in batch.namedTargets { arguments["target/" + name] = tensor }
        return arguments
    }

    /// The model variables `pack` packed.
    static func model(_ arguments: [String: Tensor]) -> ModelState {
        ModelState(parameters: ParameterStore(prefixed("parameter/", arguments)), state: ParameterStore(prefixed("state/", arguments)))
    }

    /// The tensors of `values` whose names start with `prefix`, without it.
    static func prefixed(_ prefix: String, _ values: [String: Tensor]) -> [String: Tensor] {
        var found: [String: Tensor] = [:]
        for (name, tensor) in values where name.hasPrefix(prefix) { found[String(name.dropFirst(prefix.count))] = tensor }
        return found
    }

    /// The model state and batch `pack` packed.
    static func unpack(_ arguments: [String: Tensor]) throws -> (ModelState, Batch) {
        let model = model(arguments)
        let inputs = prefixed("input/", arguments), named = prefixed("target/", arguments)
        guard let targets = arguments["target"] else {
            throw AxonError.invalidValue(operation: "compiled step", reason: "the batch's targets are missing")
        }
        return (model, named.isEmpty ? Batch(inputs: inputs, targets: targets) : try Batch(inputs: inputs, targets: named))
    }

    /// The predictions (first and by name) among a step's results.
    static func predictions(_ results: [String: Tensor]) throws -> TrainingObjective.Predictions {
        guard let first = results["prediction"] else {
            throw AxonError.invalidValue(operation: "trainer", reason: "the model produced no prediction")
        }
        return TrainingObjective.Predictions(first: first, named: prefixed("prediction/", results))
    }

    /// `predictions` under the names ``predictions(_:)`` reads.
    static func results(_ predictions: TrainingObjective.Predictions) -> [String: Tensor] {
        var results = ["prediction": predictions.first]
        for (name, tensor) in predictions.named { results["prediction/" + name] = tensor }
        return results
    }
}
