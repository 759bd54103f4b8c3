import Backend

/// A named optimizer: a chain of gradient transformations and, where the backend has a fused
/// update for it (Adam/AdamW, SGD with momentum), a fused step that reads and writes exactly
/// the same state and gives the same result.
///
/// ```swift
/// let optimizer = try Optimizer.adam(learningRate: 1e-3)
/// var state = try optimizer.initialize(parameters)
/// (parameters, state) = try optimizer.step(parameters: parameters, gradients: gradients, state: state)
/// ```
public struct Optimizer: Sendable {
    /// The optimizer's name (`adam`), recorded in checkpoints.
    public let name: String
    /// The gradient transformation it applies, learning rate included.
    public let transformation: GradientTransformation
    /// The fused update, where the backend has one for this optimizer.
    let fused: FusedUpdate?

    /// Any gradient transformation used as an optimizer (it must include the learning rate).
    public init(_ name: String, _ transformation: GradientTransformation) {
        self.init(name, transformation, fused: nil)
    }

    init(_ name: String, _ transformation: GradientTransformation, fused: FusedUpdate?) {
        self.name = name
        self.transformation = transformation
        self.fused = fused
    }

    /// Whether a fused backend update is available.
    public var hasFusedStep: Bool { fused != nil }

    /// The optimizer's state for `parameters` (moments, step counts).
    public func initialize(_ parameters: ParameterStore) throws -> OptimizerState { try transformation.initialize(parameters) }

    /// One step: new parameters and state. Uses the fused update when there is one and `fused`
    /// is true, else the composed transformations and ``applyUpdates(_:to:)``.
    public func step(
        parameters: ParameterStore, gradients: ParameterStore, state: OptimizerState, fused: Bool = true
    ) throws -> (parameters: ParameterStore, state: OptimizerState) {
        if fused, let update = self.fused { return try update.step(parameters, gradients, state) }
        let (updates, next) = try transformation.update(gradients, state, parameters)
        return (try applyUpdates(updates, to: parameters), next)
    }

    // MARK: Named optimizers (optax's compositions)
    // Each checks its hyper-parameters and throws AxonError.invalidValue naming one outside its range.

    /// Stochastic gradient descent, with heavy-ball or Nesterov momentum when `momentum` is set.
    public static func sgd(learningRate: LearningRate, momentum: Float? = nil, nesterov: Bool = false) throws -> Optimizer {
        try validate("sgd", learningRate: learningRate, ["momentum": (momentum ?? 0, .unitInterval)])
        guard let momentum else { return Optimizer("sgd", scaleByLearningRate(learningRate)) }
        return Optimizer(
            "sgd", chain(trace(decay: momentum, nesterov: nesterov), scaleByLearningRate(learningRate)),
            fused: .momentum(learningRate: learningRate, momentum: momentum, nesterov: nesterov))
    }

    /// Adam (Kingma & Ba, 2015), optax's `adam`.
    public static func adam(learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) throws -> Optimizer {
        try validate("adam", learningRate: learningRate, ["beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative)])
        return Optimizer(
            "adam", chain(scaleByAdam(beta1: beta1, beta2: beta2, epsilon: epsilon), scaleByLearningRate(learningRate)),
            fused: .adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0, rateIndex: 1))
    }

    /// Adam with decoupled weight decay (Loshchilov & Hutter, 2019).
    public static func adamw(
        learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-4
    ) throws -> Optimizer {
        try validate("adamw", learningRate: learningRate, [
            "beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative), "weightDecay": (weightDecay, .nonNegative),
        ])
        let transformation = chain(
            scaleByAdam(beta1: beta1, beta2: beta2, epsilon: epsilon), addDecayedWeights(weightDecay), scaleByLearningRate(learningRate))
        return Optimizer(
            "adamw", transformation,
            fused: .adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, rateIndex: 2))
    }

    /// AdaBelief (Zhuang et al., 2020): Adam with the second moment of the gradient's deviation from its mean.
    public static func adabelief(
        learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-16, epsilonRoot: Float = 1e-16
    ) throws -> Optimizer {
        try validate("adabelief", learningRate: learningRate, [
            "beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative), "epsilonRoot": (epsilonRoot, .nonNegative),
        ])
        return Optimizer("adabelief", chain(scaleByBelief(beta1: beta1, beta2: beta2, epsilon: epsilon, epsilonRoot: epsilonRoot), scaleByLearningRate(learningRate)))
    }

    /// Adagrad (Duchi et al., 2011): steps divided by the root of the summed squared gradients.
    public static func adagrad(learningRate: LearningRate, initialAccumulator: Float = 0.1, epsilon: Float = 1e-7) throws -> Optimizer {
        try validate("adagrad", learningRate: learningRate, ["initialAccumulator": (initialAccumulator, .nonNegative), "epsilon": (epsilon, .nonNegative)])
        return Optimizer("adagrad", chain(scaleByRss(initialAccumulator: initialAccumulator, epsilon: epsilon), scaleByLearningRate(learningRate)))
    }

    /// RMSProp, centred (dividing by the standard deviation) when `centered`, with optional momentum.
    public static func rmsprop(
        learningRate: LearningRate, decay: Float = 0.9, epsilon: Float = 1e-8, centered: Bool = false, momentum: Float? = nil,
        nesterov: Bool = false
    ) throws -> Optimizer {
        try validate("rmsprop", learningRate: learningRate, [
            "decay": (decay, .decay), "epsilon": (epsilon, .nonNegative), "momentum": (momentum ?? 0, .unitInterval),
        ])
        let scaling = centered ? scaleByStddev(decay: decay, epsilon: epsilon) : scaleByRms(decay: decay, epsilon: epsilon)
        let parts = [scaling] + (momentum.map { [trace(decay: $0, nesterov: nesterov)] } ?? []) + [scaleByLearningRate(learningRate)]
        return Optimizer("rmsprop", chain(parts))
    }

    /// Rectified Adam (Liu et al., 2020): Adam with a variance-rectified warm-up.
    public static func radam(
        learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, threshold: Float = 5
    ) throws -> Optimizer {
        try validate("radam", learningRate: learningRate, [
            "beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative), "threshold": (threshold, .nonNegative),
        ])
        return Optimizer("radam", chain(scaleByRadam(beta1: beta1, beta2: beta2, epsilon: epsilon, threshold: threshold), scaleByLearningRate(learningRate)))
    }

    /// Yogi (Zaheer et al., 2018): Adam with an additive second-moment update.
    public static func yogi(learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-3) throws -> Optimizer {
        try validate("yogi", learningRate: learningRate, ["beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative)])
        return Optimizer("yogi", chain(scaleByYogi(beta1: beta1, beta2: beta2, epsilon: epsilon), scaleByLearningRate(learningRate)))
    }

    /// LAMB (You et al., 2020): Adam, weight decay, then the trust ratio.
    public static func lamb(
        learningRate: LearningRate, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-6, weightDecay: Float = 0
    ) throws -> Optimizer {
        try validate("lamb", learningRate: learningRate, [
            "beta1": (beta1, .decay), "beta2": (beta2, .decay), "epsilon": (epsilon, .nonNegative), "weightDecay": (weightDecay, .nonNegative),
        ])
        return Optimizer("lamb", chain(
            scaleByAdam(beta1: beta1, beta2: beta2, epsilon: epsilon), addDecayedWeights(weightDecay), scaleByTrustRatio(),
            scaleByLearningRate(learningRate)))
    }

    /// SGD with annealed Gaussian gradient noise.
    public static func noisySgd(learningRate: LearningRate, eta: Float = 0.01, gamma: Float = 0.55, seed: UInt64 = 0) throws -> Optimizer {
        try validate("noisySgd", learningRate: learningRate, ["eta": (eta, .nonNegative), "gamma": (gamma, .nonNegative)])
        return Optimizer("noisy_sgd", chain(addNoise(eta: eta, gamma: gamma, seed: seed), scaleByLearningRate(learningRate)))
    }

    /// Fromage (Bernstein et al., 2020): trust-ratio steps of `lr / √(1 + lr²)`, then a shrink
    /// of the weights by the same factor.
    public static func fromage(learningRate: Float, minimumNorm: Float = 1e-6) throws -> Optimizer {
        try validate("fromage", learningRate: .constant(learningRate), ["minimumNorm": (minimumNorm, .nonNegative)])
        let multiplier = 1 / (1 + learningRate * learningRate).squareRoot()
        return Optimizer("fromage", chain(
            scaleByTrustRatio(minimumNorm: minimumNorm), scaleByLearningRate(.constant(learningRate * multiplier)),
            addDecayedWeights(multiplier - 1)))
    }

    /// An optimizer by name with default hyper-parameters and the given learning rate.
    public static func named(_ name: String, learningRate: Float) throws -> Optimizer {
        let rate = LearningRate.constant(learningRate)
        switch name {
        case "sgd": return try .sgd(learningRate: rate)
        case "momentum": return try .sgd(learningRate: rate, momentum: 0.9)
        case "adam": return try .adam(learningRate: rate)
        case "adamw": return try .adamw(learningRate: rate)
        case "adabelief": return try .adabelief(learningRate: rate)
        case "adagrad": return try .adagrad(learningRate: rate)
        case "rmsprop": return try .rmsprop(learningRate: rate)
        case "radam": return try .radam(learningRate: rate)
        case "yogi": return try .yogi(learningRate: rate)
        case "lamb": return try .lamb(learningRate: rate)
        case "noisy_sgd": return try .noisySgd(learningRate: rate)
        case "fromage": return try .fromage(learningRate: learningRate)
        default:
            throw AxonError.invalidValue(
                operation: "Optimizer.named",
                reason: "unknown optimizer '\(name)'; known: sgd, momentum, adam, adamw, adabelief, adagrad, rmsprop, radam, yogi, lamb, noisy_sgd, fromage")
        }
    }
}
