import Foundation

/// A learning-rate schedule: a value for each 0-based step, following optax's definitions.
public struct Schedule: Sendable {
    let function: @Sendable (Int) -> Float

    /// A schedule computing each step's value with `function`.
    public init(_ function: @escaping @Sendable (Int) -> Float) { self.function = function }

    /// The value at the 0-based `step`.
    public func callAsFunction(_ step: Int) -> Float { function(step) }

    /// The same value at every step.
    public static func constant(_ value: Float) -> Schedule { Schedule { _ in value } }

    /// `(init − end)·(1 − s/T)^power + end` for `s = clamp(step − begin, 0, T)`.
    public static func polynomialDecay(
        from initial: Float, to end: Float, power: Float = 1, transitionSteps: Int, transitionBegin: Int = 0
    ) -> Schedule {
        Schedule { step in
            guard transitionSteps > 0 else { return initial }
            let progress = Double(Swift.min(Swift.max(step - transitionBegin, 0), transitionSteps)) / Double(transitionSteps)
            return Float(Double(initial - end) * pow(1 - progress, Double(power))) + end
        }
    }

    /// Linear decay: a polynomial decay of power 1.
    public static func linearDecay(from initial: Float, to end: Float, transitionSteps: Int, transitionBegin: Int = 0) -> Schedule {
        polynomialDecay(from: initial, to: end, power: 1, transitionSteps: transitionSteps, transitionBegin: transitionBegin)
    }

    /// `init · rate^(s / transitionSteps)` for `s = max(step − begin, 0)`, the exponent floored
    /// when `staircase`, and bounded by `end` if given.
    public static func exponentialDecay(
        from initial: Float, decayRate: Float, transitionSteps: Int, transitionBegin: Int = 0, staircase: Bool = false, end: Float? = nil
    ) -> Schedule {
        Schedule { step in
            guard transitionSteps > 0 else { return initial }
            var exponent = Double(Swift.max(step - transitionBegin, 0)) / Double(transitionSteps)
            if staircase { exponent.round(.down) }
            let value = Float(Double(initial) * pow(Double(decayRate), exponent))
            guard let end else { return value }
            return decayRate < 1 ? Swift.max(value, end) : Swift.min(value, end)
        }
    }

    /// `init · ((1 − α)·½(1 + cos(π·min(step, T)/T)) + α)`.
    public static func cosineDecay(from initial: Float, decaySteps: Int, alpha: Float = 0) -> Schedule {
        Schedule { step in
            guard decaySteps > 0 else { return initial }
            let progress = Double(Swift.min(step, decaySteps)) / Double(decaySteps)
            let cosine = 0.5 * (1 + cos(Double.pi * progress))
            return initial * Float((1 - Double(alpha)) * cosine + Double(alpha))
        }
    }

    /// A linear warm-up from `start` to `peak` over `steps` steps, then `schedule` counted from
    /// the end of the warm-up.
    public static func warmup(from start: Float = 0, to peak: Float, steps: Int, then schedule: Schedule) -> Schedule {
        let ramp = linearDecay(from: start, to: peak, transitionSteps: steps)
        return Schedule { step in step < steps ? ramp(step) : schedule(step - steps) }
    }
}

/// A learning rate: a constant or a schedule. Number literals make constants.
public enum LearningRate: Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// One rate throughout.
    case constant(Float)
    /// A rate per step.
    case schedule(Schedule)

    public init(floatLiteral value: Float) { self = .constant(value) }
    public init(integerLiteral value: Int) { self = .constant(Float(value)) }

    /// The rate at a 0-based step.
    public func value(at step: Int) -> Float {
        switch self {
        case let .constant(value): return value
        case let .schedule(schedule): return schedule(step)
        }
    }
}
