import Backend

/// A metric computed over batches with exact epoch figures: each batch contributes running
/// sums (e.g. correct and seen examples), and the value is computed from the totals, not as an
/// average of batch averages.
///
/// ```swift
/// var accuracy = Metric.accuracy()
/// try accuracy.update(yTrue: labels, yPred: probabilities)
/// print(accuracy.value)
/// ```
public struct Metric: Sendable {
    /// The name the loop logs it under.
    public let name: String
    let statistics: @Sendable (_ yTrue: Tensor, _ yPred: Tensor) throws -> [Double]
    let finish: @Sendable ([Double]) -> Double
    /// The running sums since the last ``reset()``.
    public private(set) var totals: [Double] = []
    /// The model output it reads in a loop, for models with several (see ``on(_:)``).
    public private(set) var output: String?

    /// A metric from per-batch statistics that add up, and a function of their totals.
    public init(
        _ name: String, statistics: @escaping @Sendable (_ yTrue: Tensor, _ yPred: Tensor) throws -> [Double],
        value: @escaping @Sendable ([Double]) -> Double
    ) {
        self.name = name
        self.statistics = statistics
        self.finish = value
    }

    /// How a per-batch value of a custom metric aggregates over an epoch.
    public enum Aggregation: Sendable {
        /// The mean over examples (each batch weighted by its size).
        case mean
        /// The plain sum of batch values.
        case sum
    }

    /// A metric from a function returning one value per batch.
    public static func custom(
        _ name: String, aggregation: Aggregation = .mean, _ function: @escaping @Sendable (_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor
    ) -> Metric {
        switch aggregation {
        case .mean:
            return Metric(name, statistics: { yTrue, yPred in
                let size = Double(yPred.shape.rank > 0 ? yPred.shape[0] : 1)
                return [Double(try function(yTrue, yPred).item()) * size, size]
            }, value: { $0[1] > 0 ? $0[0] / $0[1] : 0 })
        case .sum:
            return Metric(name, statistics: { [Double(try function($0, $1).item())] }, value: { $0[0] })
        }
    }

    /// This metric on the model output `output` (and the targets of that name), named
    /// `output_name`: for models with several outputs.
    ///
    /// ```swift
    /// loop.metric(Metric.accuracy().on("digit"))  // logged as digit_accuracy
    /// ```
    public func on(_ output: String) -> Metric {
        var bound = Metric("\(output)_\(name)", statistics: statistics, value: finish)
        bound.output = output
        return bound
    }

    /// Adds one step's batch: its predictions and targets, or those of this metric's output.
    mutating func update(_ step: StepOutput) throws { add(try statistics(for: step)) }

    /// The statistics of one step's batch, before they are added (a data-parallel loop sums
    /// them over the ranks first).
    func statistics(for step: StepOutput) throws -> [Double] {
        guard let output else { return try statistics(step.targets, step.predictions) }
        guard let prediction = step.namedPredictions[output], let target = step.namedTargets[output] else {
            let produced = step.namedPredictions.keys.sorted()
            throw AxonError.invalidValue(
                operation: "metric \(name)",
                reason: "it reads output '\(output)', but the step has predictions for \(produced.isEmpty ? "no named output" : produced.joined(separator: ", ")) and targets for \(step.namedTargets.keys.sorted().joined(separator: ", "))")
        }
        return try statistics(target, prediction)
    }

    /// Adds one batch.
    public mutating func update(yTrue: Tensor, yPred: Tensor) throws { add(try statistics(yTrue, yPred)) }

    /// Adds one batch's statistics to the totals.
    mutating func add(_ batch: [Double]) {
        totals = totals.isEmpty ? batch : zip(totals, batch).map(+)
    }

    /// The value over every batch since the last reset (0 before any).
    public var value: Double { totals.isEmpty ? 0 : finish(totals) }

    /// Forgets every batch seen (the loop resets metrics at each epoch's start).
    public mutating func reset() { totals = [] }

    /// Continues from `totals` saved earlier (a resumed run's ``LoopState/epochTotals``).
    mutating func restore(totals: [Double]) { self.totals = totals }

    // MARK: Built-in metrics

    /// The fraction of correct predictions. With one prediction column (or rank 1) it is
    /// binary: `yPred > threshold` against `yTrue > 0.5`. Otherwise it is categorical: the
    /// arg-max of `yPred` against `int32` class indices or the arg-max of one-hot `yTrue`.
    public static func accuracy(threshold: Float = 0.5) -> Metric {
        Metric("accuracy", statistics: { yTrue, yPred in
            let correct = try Metrics.correct(yTrue, yPred, threshold: threshold)
            return [Double(try correct.sum().item()), Double(correct.count)]
        }, value: { $0[0] / Swift.max($0[1], 1) })
    }

    /// Whether the true class is among the `k` highest predictions.
    public static func topKCategoricalAccuracy(k: Int = 5) -> Metric {
        Metric("top_\(k)_accuracy", statistics: { yTrue, yPred in
            let hits = try Metrics.topKHits(yTrue, yPred, k: k)
            return [Double(try hits.sum().item()), Double(hits.count)]
        }, value: { $0[0] / Swift.max($0[1], 1) })
    }

    /// The mean of `(yTrue − yPred)²` over every element seen.
    public static let meanSquaredError = Metric("mean_squared_error", statistics: { yTrue, yPred in
        [Double(try (yTrue - yPred).square().sum().item()), Double(yPred.count)]
    }, value: { $0[0] / Swift.max($0[1], 1) })

    /// The mean of `|yTrue − yPred|` over every element seen.
    public static let meanAbsoluteError = Metric("mean_absolute_error", statistics: { yTrue, yPred in
        [Double(try (yTrue - yPred).abs().sum().item()), Double(yPred.count)]
    }, value: { $0[0] / Swift.max($0[1], 1) })

    /// `TP / (TP + FP)` for binary predictions above `threshold`.
    public static func precision(threshold: Float = 0.5) -> Metric {
        confusion("precision", threshold) { c in c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0 }
    }

    /// `TP / (TP + FN)`.
    public static func recall(threshold: Float = 0.5) -> Metric {
        confusion("recall", threshold) { c in c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0 }
    }

    /// Recall under its other name.
    public static func sensitivity(threshold: Float = 0.5) -> Metric {
        confusion("sensitivity", threshold) { c in c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0 }
    }

    /// `TN / (TN + FP)`.
    public static func specificity(threshold: Float = 0.5) -> Metric {
        confusion("specificity", threshold) { c in c.tn + c.fp > 0 ? c.tn / (c.tn + c.fp) : 0 }
    }

    /// The count of predictions above `threshold` whose target is 1.
    public static func truePositives(threshold: Float = 0.5) -> Metric { confusion("true_positives", threshold) { $0.tp } }
    /// The count of predictions above `threshold` whose target is 0.
    public static func falsePositives(threshold: Float = 0.5) -> Metric { confusion("false_positives", threshold) { $0.fp } }
    /// The count of predictions at or below `threshold` whose target is 0.
    public static func trueNegatives(threshold: Float = 0.5) -> Metric { confusion("true_negatives", threshold) { $0.tn } }
    /// The count of predictions at or below `threshold` whose target is 1.
    public static func falseNegatives(threshold: Float = 0.5) -> Metric { confusion("false_negatives", threshold) { $0.fn } }

    private static func confusion(
        _ name: String, _ threshold: Float, _ value: @escaping @Sendable (Metrics.Confusion) -> Double
    ) -> Metric {
        Metric(name, statistics: { yTrue, yPred in
            let c = try Metrics.confusion(yTrue, yPred, threshold: threshold)
            return [c.tp, c.fp, c.tn, c.fn]
        }, value: { value(Metrics.Confusion(tp: $0[0], fp: $0[1], tn: $0[2], fn: $0[3])) })
    }
}

/// Batch-level metric functions.
public enum Metrics {
    /// Counts of a binary confusion matrix.
    public struct Confusion: Sendable, Equatable {
        /// True positives, false positives, true negatives, false negatives.
        public var tp: Double, fp: Double, tn: Double, fn: Double

        /// Counts as given.
        public init(tp: Double, fp: Double, tn: Double, fn: Double) {
            (self.tp, self.fp, self.tn, self.fn) = (tp, fp, tn, fn)
        }
    }

    /// The confusion counts of `yPred > threshold` against `yTrue > 0.5`.
    public static func confusion(_ yTrue: Tensor, _ yPred: Tensor, threshold: Float = 0.5) throws -> Confusion {
        let predicted = try yPred.compare(.greater, threshold)
        let actual = try yTrue.cast(to: .float32).compare(.greater, 0.5)
        func count(_ mask: Tensor) throws -> Double { Double(try mask.cast(to: .float32).sum().item()) }
        return Confusion(
            tp: try count(predicted.logicalAnd(actual)), fp: try count(predicted.logicalAnd(actual.logicalNot())),
            tn: try count(predicted.logicalNot().logicalAnd(actual.logicalNot())), fn: try count(predicted.logicalNot().logicalAnd(actual)))
    }

    /// 1 where a prediction is correct, 0 elsewhere (see ``Metric/accuracy(threshold:)``).
    public static func correct(_ yTrue: Tensor, _ yPred: Tensor, threshold: Float = 0.5) throws -> Tensor {
        let binary = yPred.rank <= 1 || yPred.shape[yPred.rank - 1] == 1
        if binary {
            let predicted = try yPred.compare(.greater, threshold)
            let actual = try yTrue.cast(to: .float32).reshaped(to: yPred.shape).compare(.greater, 0.5)
            return try predicted.compare(.equal, actual).cast(to: .float32)
        }
        let predicted = try yPred.argmax(axis: -1)
        let actual = yTrue.dtype == .int32 ? yTrue : try yTrue.argmax(axis: -1)
        return try predicted.compare(.equal, actual.reshaped(to: predicted.shape)).cast(to: .float32)
    }

    /// The fraction of correct predictions in one batch.
    public static func accuracy(_ yTrue: Tensor, _ yPred: Tensor, threshold: Float = 0.5) throws -> Tensor {
        try correct(yTrue, yPred, threshold: threshold).mean()
    }

    /// 1 where the true class (index or one-hot) scores among the top `k`: fewer than `k`
    /// classes score strictly higher.
    public static func topKHits(_ yTrue: Tensor, _ yPred: Tensor, k: Int) throws -> Tensor {
        let classes = yPred.shape[yPred.rank - 1]
        let oneHot = yTrue.dtype == .int32 ? try Losses.oneHot(yTrue, classes: classes) : yTrue
        let trueScore = try (oneHot * yPred).sum(axes: [-1], keepDimensions: true)
        let higher = try yPred.compare(.greater, trueScore).cast(to: .float32).sum(axes: [-1])
        return try higher.compare(.less, Float(k)).cast(to: .float32)
    }
}
