import Backend
import Foundation

/// The activation functions of Axon, usable as layers (`x.activation(.gelu())`, `x.relu()`) and
/// as the `activation:` argument of dense and convolution layers. Each is a composition of
/// differentiable tensor ops, so gradients come for free.
public enum Activation: Sendable, Equatable, Codable, CustomStringConvertible {
    /// `max(0, x) + min(0, α·(exp(x/α) − 1))`.
    case celu(alpha: Float = 1)
    /// `x` for `x > 0`, else `α·(exp(x) − 1)`.
    case elu(alpha: Float = 1)
    /// `exp(x)`.
    case exp
    /// `x·Φ(x)` with the exact normal CDF, or the tanh approximation when `approximate`.
    case gelu(approximate: Bool = false)
    /// `clamp(x, −1, 1)`.
    case hardTanh
    /// `relu6(x + 3) / 6`.
    case hardSigmoid
    /// `x · hardSigmoid(x)`, also called hard swish.
    case hardSilu
    /// `x` for `x > 0`, else `α·x`.
    case leakyRelu(alpha: Float = 0.01)
    /// The identity.
    case linear
    /// `−softplus(−x)`.
    case logSigmoid
    /// `x − log Σ exp(x)` along `axis`, computed stably.
    case logSoftmax(axis: Int = -1)
    /// `log Σ exp(x)` along `axis`, kept as a size-1 dimension.
    case logSumExp(axis: Int = -1)
    /// `x · tanh(softplus(x))`.
    case mish
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `λ·elu(x, α)` with Klambauer et al.'s α ≈ 1.6733 and λ ≈ 1.0507.
    case selu
    /// `1 / (1 + exp(−x))`.
    case sigmoid
    /// `x · sigmoid(x)`.
    case silu
    /// `exp(x) / Σ exp(x)` along `axis`, computed stably.
    case softmax(axis: Int = -1)
    /// `log(1 + exp(x))`, computed as `max(x, 0) + log1p(exp(−|x|))`.
    case softplus
    /// `x / (1 + |x|)`.
    case softsign
    /// The hyperbolic tangent.
    case tanh

    /// `hardSilu` under its other name.
    public static let hardSwish = Activation.hardSilu

    /// The kind used for layer names (`relu` → `relu_0`).
    public var name: String {
        switch self {
        case .celu: return "celu"
        case .elu: return "elu"
        case .exp: return "exp"
        case .gelu: return "gelu"
        case .hardTanh: return "hard_tanh"
        case .hardSigmoid: return "hard_sigmoid"
        case .hardSilu: return "hard_silu"
        case .leakyRelu: return "leaky_relu"
        case .linear: return "linear"
        case .logSigmoid: return "log_sigmoid"
        case .logSoftmax: return "log_softmax"
        case .logSumExp: return "log_sumexp"
        case .mish: return "mish"
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .selu: return "selu"
        case .sigmoid: return "sigmoid"
        case .silu: return "silu"
        case .softmax: return "softmax"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .tanh: return "tanh"
        }
    }

    public var description: String { name }

    /// The fused form a dense or convolution op can apply itself, if there is one.
    var fused: FusedActivation? {
        switch self {
        case .linear: return .identity
        case .relu: return .relu
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        default: return nil
        }
    }

    /// Applies the activation to `x`.
    public func apply(_ x: Tensor) throws -> Tensor {
        switch self {
        case let .celu(alpha):
            return try x.relu() + ((x / alpha).expm1() * alpha).minimum(x.constant(0))
        case let .elu(alpha):
            return try x.compare(.greater, 0).select(x, x.expm1() * alpha)
        case .exp:
            return try x.exp()
        case let .gelu(approximate):
            if approximate {
                let inner = try (x + x * x * x * 0.044715) * Float((2 / Double.pi).squareRoot())
                return try x * 0.5 * (inner.tanh() + 1)
            }
            return try x * 0.5 * ((x * Float(1 / 2.0.squareRoot())).erf() + 1)
        case .hardTanh:
            return try x.maximum(x.constant(-1)).minimum(x.constant(1))
        case .hardSigmoid:
            return try Activation.relu6.apply(x + 3) / 6
        case .hardSilu:
            return try x * Activation.hardSigmoid.apply(x)
        case let .leakyRelu(alpha):
            return try x.compare(.greater, 0).select(x, x * alpha)
        case .linear:
            return x
        case .logSigmoid:
            return try -Activation.softplus.apply(-x)
        case let .logSoftmax(axis):
            return try x.logSoftmax(axis: axis)
        case let .logSumExp(axis):
            let maximum = try x.max(axes: [axis], keepDimensions: true).detached()
            return try (x - maximum).exp().sum(axes: [axis], keepDimensions: true).log() + maximum
        case .mish:
            return try x * Activation.softplus.apply(x).tanh()
        case .relu:
            return try x.relu()
        case .relu6:
            return try x.relu().minimum(x.constant(6))
        case .selu:
            return try Activation.elu(alpha: 1.673_263_2).apply(x) * 1.050_701
        case .sigmoid:
            return try x.sigmoid()
        case .silu:
            return try x * x.sigmoid()
        case let .softmax(axis):
            return try x.softmax(axis: axis)
        case .softplus:
            return try x.relu() + (-x.abs()).exp().log1p()
        case .softsign:
            return try x / (x.abs() + 1)
        case .tanh:
            return try x.tanh()
        }
    }

    /// Every activation with its default options, for tests and documentation.
    public static let all: [Activation] = [
        .celu(), .elu(), .exp, .gelu(), .hardTanh, .hardSigmoid, .hardSilu, .leakyRelu(), .linear, .logSigmoid,
        .logSoftmax(), .logSumExp(), .mish, .relu, .relu6, .selu, .sigmoid, .silu, .softmax(), .softplus, .softsign, .tanh,
    ]
}
