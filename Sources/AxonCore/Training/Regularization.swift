import Backend

/// A weight penalty added to the loss.
public enum Regularizer: Sendable, Equatable, Codable {
    /// `λ·Σ|w|`.
    case l1(Float)
    /// `λ·Σw²` (Keras's convention, without a ½).
    case l2(Float)
    /// Both penalties.
    case l1l2(l1: Float, l2: Float)

    /// The penalty of one tensor.
    public func penalty(_ weights: Tensor) throws -> Tensor {
        switch self {
        case let .l1(strength): return try weights.abs().sum() * strength
        case let .l2(strength): return try weights.square().sum() * strength
        case let .l1l2(l1, l2): return try weights.abs().sum() * l1 + weights.square().sum() * l2
        }
    }
}

extension BuiltModel {
    /// The sum of every regularised parameter's penalty (from the layers' `kernelRegularizer`),
    /// or `nil` when no layer has one. Differentiable with respect to `parameters`.
    public func regularizationPenalty(_ parameters: ParameterStore) throws -> Tensor? {
        var total: Tensor?
        for node in nodes {
            for spec in node.parameters {
                guard let regularizer = spec.regularizer, let weights = parameters[node.parameterName(spec)] else { continue }
                let penalty = try regularizer.penalty(weights)
                total = try total.map { try $0 + penalty } ?? penalty
            }
        }
        return total
    }
}
