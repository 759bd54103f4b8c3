// Checks of optimizer hyper-parameters, made when an optimizer is constructed, so that a NaN
// learning rate or a β of 1.5 is refused with its name instead of training to NaN.

/// What a hyper-parameter must satisfy.
enum HyperParameterRule {
    /// A decay rate or momentum: in [0, 1).
    case decay
    /// In [0, 1]: a momentum may be 1 (no damping).
    case unitInterval
    /// Finite and ≥ 0: learning rates, weight decays, ε, noise scales.
    case nonNegative
    /// Finite and > 0.
    case positive

    func accepts(_ value: Float) -> Bool {
        guard value.isFinite else { return false }
        switch self {
        case .decay: return value >= 0 && value < 1
        case .unitInterval: return value >= 0 && value <= 1
        case .nonNegative: return value >= 0
        case .positive: return value > 0
        }
    }

    var expectation: String {
        switch self {
        case .decay: return "in [0, 1)"
        case .unitInterval: return "in [0, 1]"
        case .nonNegative: return "finite and ≥ 0"
        case .positive: return "finite and > 0"
        }
    }
}

extension Optimizer {
    /// Throws for the first hyper-parameter outside its rule; the learning rate is checked at
    /// the first step (a schedule's later values are checked as they are used).
    static func validate(
        _ optimizer: String, learningRate: LearningRate?, _ parameters: KeyValuePairs<String, (Float, HyperParameterRule)>
    ) throws {
        var all = Array(parameters)
        if let learningRate { all.insert(("learningRate", (learningRate.value(at: 0), .nonNegative)), at: 0) }
        for (name, (value, rule)) in all where !rule.accepts(value) {
            throw AxonError.invalidValue(operation: "Optimizer.\(optimizer)", reason: "\(name) must be \(rule.expectation), got \(value)")
        }
    }
}

extension LearningRate {
    /// The value at `step`, refused when it is not a finite number: a learning-rate schedule
    /// that reaches NaN or ∞ stops training with the step named.
    func checkedLearningRate(at step: Int) throws -> Float {
        let rate = value(at: step)
        guard rate.isFinite else {
            throw AxonError.invalidValue(
                operation: "learning rate", reason: "the schedule gives \(rate) at step \(step); a learning rate must be finite")
        }
        return rate
    }
}
