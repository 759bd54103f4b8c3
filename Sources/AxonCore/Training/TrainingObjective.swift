import Backend

/// What a trainer minimises: one loss on the model's only output against the batch's targets,
/// or a weighted sum of losses on named outputs against the batch's targets of the same names.
struct TrainingObjective: Sendable {
    /// `output` is `nil` for the single-output form.
    let terms: [(output: String?, loss: Loss, weight: Float)]

    /// The predictions a step saw: the first (or only) output, and every output by name when
    /// the model has names for them.
    struct Predictions {
        let first: Tensor
        let named: [String: Tensor]
    }

    init(_ loss: Loss) {
        terms = [(nil, loss, 1)]
    }

    /// Losses by output name, with `weights` checked against them.
    init(_ losses: [String: Loss], weights: [String: Float]) throws {
        func refuse(_ reason: String) -> AxonError { AxonError.invalidValue(operation: "trainer", reason: reason) }
        guard !losses.isEmpty else { throw refuse("needs a loss for at least one output") }
        if let stray = weights.keys.sorted().first(where: { losses[$0] == nil }) {
            throw refuse("there is a weight for output '\(stray)', which has no loss (losses: \(losses.keys.sorted().joined(separator: ", ")))")
        }
        if let (name, weight) = weights.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isFinite || $0.value < 0 }) {
            throw refuse("the weight of output '\(name)' must be finite and not negative, got \(weight)")
        }
        terms = losses.sorted { $0.key < $1.key }.map { ($0.key, $0.value, weights[$0.key] ?? 1) }
    }

    /// Throws unless every named loss is for one of the model's `outputs`.
    func check(outputs: [String]) throws {
        if let unknown = terms.compactMap(\.output).first(where: { !outputs.contains($0) }) {
            throw AxonError.invalidValue(
                operation: "trainer", reason: "there is a loss for output '\(unknown)', but the model's outputs are: \(outputs.joined(separator: ", "))")
        }
    }

    /// The batch loss of `output` and what was predicted, detached.
    func evaluate(_ batch: Batch, _ output: ModelOutput) throws -> (loss: Tensor, predictions: Predictions) {
        var total: Tensor?
        for (name, loss, weight) in terms {
            let term: Tensor
            if let name {
                guard let target = batch.namedTargets[name] else {
                    let given = batch.namedTargets.keys.sorted()
                    throw AxonError.invalidValue(
                        operation: "trainer",
                        reason: "the batch has no targets for output '\(name)', which has a loss (it has targets for: \(given.isEmpty ? "none, only unnamed targets" : given.joined(separator: ", ")))")
                }
                term = try loss(target, output.output(name))
            } else {
                let prediction = try output.output()
                try checkClassTargets(batch, prediction)
                term = try loss(batch.targets, prediction)
            }
            let weighted = weight == 1 ? term : try term * weight
            total = try total.map { try $0 + weighted } ?? weighted
        }
        guard let total else { throw AxonError.invalidValue(operation: "trainer", reason: "the objective has no loss") }
        return (total, try Self.predictions(output))
    }

    /// The outputs of a model run, detached.
    static func predictions(_ output: ModelOutput) throws -> Predictions {
        guard let firstName = output.names.first else {
            throw AxonError.invalidValue(operation: "trainer", reason: "the model produced no prediction")
        }
        let named = output.names.count > 1 ? output.outputs.mapValues { $0.detached() } : [:]
        return Predictions(first: try output.output(firstName).detached(), named: named)
    }
}

/// Refuses `int32` class-index targets outside the model's classes, which a sparse loss would
/// otherwise turn into all-zero rows: a loss of 0 that trains nothing.
func checkClassTargets(_ batch: Batch, _ prediction: Tensor) throws {
    guard let range = batch.targetRange, batch.targets.dtype == .int32, prediction.rank == batch.targets.rank + 1 else { return }
    let classes = prediction.shape[prediction.rank - 1]
    guard range.lowerBound >= 0, Int(range.upperBound) < classes else {
        throw AxonError.invalidValue(
            operation: "trainer",
            reason: "the targets are class indices from \(range.lowerBound) to \(range.upperBound), but the model predicts \(classes) classes (0 to \(classes - 1))")
    }
}
