import Backend

/// How a loss reduces its per-example values.
public enum Reduction: String, Sendable {
    /// The mean of the per-example values.
    case mean
    /// The sum of the per-example values.
    case sum
    /// Per-example values, one per leading index.
    case none

    func apply(_ perExample: Tensor) throws -> Tensor {
        switch self {
        case .mean: return try perExample.mean()
        case .sum: return try perExample.sum()
        case .none: return perExample
        }
    }
}

/// Loss functions of `(yTrue, yPred)`, as in Axon and Keras. Each computes a value per example
/// (over the last axis unless noted), then applies the ``Reduction``.
///
/// Numerically stable forms: cross-entropies from logits use log-softmax / softplus
/// (log-sum-exp), and those from probabilities clamp predictions to `[ε, 1 − ε]` with
/// `ε = 1e-7` before taking logarithms, as Keras does.
public enum Losses {
    /// The clamp applied to probabilities before a logarithm.
    public static let epsilon: Float = 1e-7

    /// `−Σ yTrue · log(yPred)` over classes (the last axis).
    ///
    /// - Parameters:
    ///   - yTrue: the targets: probabilities shaped like `yPred`, or class indices when `sparse`.
    ///   - yPred: predicted probabilities, or logits when `fromLogits`.
    ///   - sparse: `yTrue` holds `int32` class indices (shape of `yPred` without its last axis).
    ///   - fromLogits: `yPred` holds logits; log-softmax is applied stably.
    ///   - labelSmoothing: mixes one-hot targets with the uniform distribution:
    ///     `y·(1 − s) + s / classes`.
    ///   - reduction: how the per-example losses combine (mean by default).
    public static func categoricalCrossEntropy(
        _ yTrue: Tensor, _ yPred: Tensor, fromLogits: Bool = false, sparse: Bool = false, labelSmoothing: Float = 0,
        reduction: Reduction = .mean
    ) throws -> Tensor {
        var targets = sparse ? try oneHot(yTrue, classes: yPred.shape[yPred.rank - 1]) : yTrue
        try requireSameShape(targets, yPred, "categoricalCrossEntropy")
        if labelSmoothing > 0 {
            targets = try targets * (1 - labelSmoothing) + labelSmoothing / Float(yPred.shape[yPred.rank - 1])
        }
        if fromLogits { return try reduction.apply(yPred.softmaxCrossEntropy(labels: targets)) }
        let logProbabilities = try clamped(yPred).log()
        return try reduction.apply(-(targets * logProbabilities).sum(axes: [-1]))
    }

    /// `−mean(y·log p + (1 − y)·log(1 − p))` over the last axis. From logits it uses
    /// `max(x, 0) − x·y + log(1 + exp(−|x|))`. Label smoothing pulls targets toward ½.
    public static func binaryCrossEntropy(
        _ yTrue: Tensor, _ yPred: Tensor, fromLogits: Bool = false, labelSmoothing: Float = 0, reduction: Reduction = .mean
    ) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "binaryCrossEntropy")
        let targets = labelSmoothing > 0 ? try yTrue * (1 - labelSmoothing) + labelSmoothing / 2 : yTrue
        let perElement: Tensor
        if fromLogits {
            perElement = try yPred.relu() - yPred * targets + (-yPred.abs()).exp().log1p()
        } else {
            let p = try clamped(yPred)
            perElement = try -(targets * p.log() + (1 - targets) * (1 - p).log())
        }
        return try reduction.apply(perElement.mean(axes: [-1]))
    }

    /// `mean((yTrue − yPred)²)` over the last axis.
    public static func meanSquaredError(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "meanSquaredError")
        return try reduction.apply((yTrue - yPred).square().mean(axes: [-1]))
    }

    /// `mean(|yTrue − yPred|)` over the last axis.
    public static func meanAbsoluteError(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "meanAbsoluteError")
        return try reduction.apply((yTrue - yPred).abs().mean(axes: [-1]))
    }

    /// `mean(max(1 − yTrue·yPred, 0))` for labels in {−1, 1}.
    public static func hinge(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "hinge")
        return try reduction.apply((1 - yTrue * yPred).relu().mean(axes: [-1]))
    }

    /// `max(max((1 − y)·p) − Σ y·p + 1, 0)` for one-hot `y`.
    public static func categoricalHinge(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "categoricalHinge")
        let positive = try (yTrue * yPred).sum(axes: [-1])
        let negative = try ((1 - yTrue) * yPred).max(axes: [-1])
        return try reduction.apply((negative - positive + 1).relu())
    }

    /// `Σ y·log(y / p)` with both clamped to `[ε, 1]`.
    public static func klDivergence(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "klDivergence")
        let (y, p) = (try clamped(yTrue), try clamped(yPred))
        return try reduction.apply((y * (y.log() - p.log())).sum(axes: [-1]))
    }

    /// `mean(log cosh(yPred − yTrue))`, computed as `x + softplus(−2x) − log 2` so it does not
    /// overflow.
    public static func logCosh(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "logCosh")
        let x = try yPred - yTrue
        let value = try x + Activation.softplus.apply(x * -2) - Float(0.693_147_180_559_945_3)
        return try reduction.apply(value.mean(axes: [-1]))
    }

    /// `mean(yPred − yTrue·log(yPred + ε))`.
    public static func poisson(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "poisson")
        return try reduction.apply((yPred - yTrue * (yPred + epsilon).log()).mean(axes: [-1]))
    }

    /// `mean(log(1 + exp(−yTrue·yPred)))` for labels in {−1, 1}.
    public static func softMargin(_ yTrue: Tensor, _ yPred: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "softMargin")
        return try reduction.apply(Activation.softplus.apply(-(yTrue * yPred)).mean(axes: [-1]))
    }

    /// `max(0, −yTrue·(first − second) + margin)` elementwise, for labels in {−1, 1} saying
    /// which input should rank higher.
    public static func marginRanking(
        _ yTrue: Tensor, _ first: Tensor, _ second: Tensor, margin: Float = 0, reduction: Reduction = .mean
    ) throws -> Tensor {
        try requireSameShape(first, second, "marginRanking")
        return try reduction.apply((-(yTrue * (first - second)) + margin).relu())
    }

    /// The negated cosine similarity along `axis`: −1 for vectors pointing the same way.
    public static func cosineSimilarity(_ yTrue: Tensor, _ yPred: Tensor, axis: Int = -1, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "cosineSimilarity")
        func normalized(_ x: Tensor) throws -> Tensor {
            try x * (x.square().sum(axes: [axis], keepDimensions: true) + 1e-12).rsqrt()
        }
        return try reduction.apply(-(normalized(yTrue) * normalized(yPred)).sum(axes: [axis]))
    }

    /// `½x²` where `|x| ≤ δ`, else `δ·(|x| − ½δ)`, with `x = yPred − yTrue`, averaged over the
    /// last axis.
    public static func huber(_ yTrue: Tensor, _ yPred: Tensor, delta: Float = 1, reduction: Reduction = .mean) throws -> Tensor {
        try requireSameShape(yTrue, yPred, "huber")
        let error = try (yPred - yTrue).abs()
        let quadratic = try error.minimum(error.constant(delta))
        let linear = try error - quadratic
        return try reduction.apply((quadratic.square() * 0.5 + linear * delta).mean(axes: [-1]))
    }

    /// `float32` one-hot rows for `int32` class indices.
    public static func oneHot(_ indices: Tensor, classes: Int) throws -> Tensor {
        guard indices.dtype == .int32 else {
            throw AxonError.invalidValue(operation: "oneHot", reason: "expects int32 class indices, got \(indices.dtype)")
        }
        let classIndex = try Tensor.iota(shape: [classes], axis: 0, on: indices.backend)
        let expanded = try indices.reshaped(to: Shape(indices.shape.dimensions + [1]))
        return try expanded.compare(.equal, classIndex).cast(to: .float32)
    }

    static func clamped(_ p: Tensor) throws -> Tensor {
        try p.maximum(p.constant(epsilon)).minimum(p.constant(1 - epsilon))
    }

    static func requireSameShape(_ yTrue: Tensor, _ yPred: Tensor, _ loss: String) throws {
        guard yTrue.shape == yPred.shape else {
            throw AxonError.invalidValue(operation: loss, reason: "targets \(yTrue.shape) and predictions \(yPred.shape) must have one shape")
        }
    }
}

/// A loss the training loop can use, by value or by name.
public struct Loss: Sendable {
    /// The name reported in logs and checkpoints.
    public let name: String
    let function: @Sendable (_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor

    /// A custom loss; it must return a scalar.
    public init(_ name: String, _ function: @escaping @Sendable (_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor) {
        self.name = name
        self.function = function
    }

    /// The loss of `yPred` against `yTrue`.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor { try function(yTrue, yPred) }

    /// Categorical cross-entropy (`Losses.categoricalCrossEntropy`), averaged over the batch.
    public static func categoricalCrossEntropy(fromLogits: Bool = false, sparse: Bool = false, labelSmoothing: Float = 0) -> Loss {
        Loss("categorical_cross_entropy") {
            try Losses.categoricalCrossEntropy($0, $1, fromLogits: fromLogits, sparse: sparse, labelSmoothing: labelSmoothing)
        }
    }

    /// Binary cross-entropy (`Losses.binaryCrossEntropy`), averaged over the batch.
    public static func binaryCrossEntropy(fromLogits: Bool = false, labelSmoothing: Float = 0) -> Loss {
        Loss("binary_cross_entropy") { try Losses.binaryCrossEntropy($0, $1, fromLogits: fromLogits, labelSmoothing: labelSmoothing) }
    }

    /// CTC for the training loop: `yTrue` holds `int32` labels `[batch, maximum labels]`, each
    /// row's labels followed by `blank` as padding (the blank never is a label); `yPred` the
    /// logits `[batch, time, classes]`, every frame used.
    public static func connectionistTemporalClassification(blank: Int = 0) -> Loss {
        Loss("ctc") { labels, logits in
            guard labels.rank == 2, case let .int32(values) = try labels.array.elements else {
                throw AxonError.invalidValue(operation: "ctc", reason: "needs int32 labels [batch, labels], got \(labels.dtype) \(labels.shape)")
            }
            let width = labels.shape[1]
            let lengths = (0..<labels.shape[0]).map { row in values[(row * width)..<((row + 1) * width)].prefix { Int($0) != blank }.count }
            return try Losses.connectionistTemporalClassification(logits: logits, labels: labels, labelLengths: lengths, blank: blank)
        }
    }

    /// The mean of `(yTrue − yPred)²`.
    public static let meanSquaredError = Loss("mean_squared_error") { try Losses.meanSquaredError($0, $1) }
    /// The mean of `|yTrue − yPred|`.
    public static let meanAbsoluteError = Loss("mean_absolute_error") { try Losses.meanAbsoluteError($0, $1) }
    /// The hinge loss (`Losses.hinge`), averaged over the batch.
    public static let hinge = Loss("hinge") { try Losses.hinge($0, $1) }
    /// The categorical hinge loss (`Losses.categoricalHinge`), averaged over the batch.
    public static let categoricalHinge = Loss("categorical_hinge") { try Losses.categoricalHinge($0, $1) }
    /// The Kullback–Leibler divergence (`Losses.klDivergence`), averaged over the batch.
    public static let klDivergence = Loss("kl_divergence") { try Losses.klDivergence($0, $1) }
    /// The log-cosh loss (`Losses.logCosh`), averaged over the batch.
    public static let logCosh = Loss("log_cosh") { try Losses.logCosh($0, $1) }
    /// The Poisson loss (`Losses.poisson`), averaged over the batch.
    public static let poisson = Loss("poisson") { try Losses.poisson($0, $1) }
    /// The soft-margin loss (`Losses.softMargin`), averaged over the batch.
    public static let softMargin = Loss("soft_margin") { try Losses.softMargin($0, $1) }
    /// The negated cosine similarity along the last axis (`Losses.cosineSimilarity`), averaged over the batch.
    public static let cosineSimilarity = Loss("cosine_similarity") { try Losses.cosineSimilarity($0, $1) }
    /// The Huber loss (`Losses.huber`): quadratic within `delta` of the target, linear beyond; averaged over the batch.
    public static func huber(delta: Float = 1) -> Loss { Loss("huber") { try Losses.huber($0, $1, delta: delta) } }

    /// A loss by its snake-case name (`categorical_cross_entropy` assumes probabilities and
    /// one-hot targets; use the static constructors for options).
    public static func named(_ name: String) throws -> Loss {
        let all: [Loss] = [
            .categoricalCrossEntropy(), .binaryCrossEntropy(), .meanSquaredError, .meanAbsoluteError, .hinge, .categoricalHinge,
            .klDivergence, .logCosh, .poisson, .softMargin, .cosineSimilarity, .huber(),
        ]
        guard let loss = all.first(where: { $0.name == name }) else {
            throw AxonError.invalidValue(operation: "Loss.named", reason: "unknown loss '\(name)'; known: \(all.map(\.name).joined(separator: ", "))")
        }
        return loss
    }
}
