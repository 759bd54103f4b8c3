import Backend
import Foundation

// The building blocks of optimizers, following optax's definitions. `t` is the 1-based step,
// `g` the incoming update (the gradient for the first transformation of a chain).

/// `u = step · g`.
public func scale(_ step: Float) -> GradientTransformation {
    .stateless { update, _ in try update * step }
}

/// `u = −lr(t) · s · g`, where `lr(t)` is the learning rate (a number or a schedule of the
/// 0-based step) and `s` the state's `learning_rate_scale` (1 unless a handler changed it).
public func scaleByLearningRate(_ learningRate: LearningRate) -> GradientTransformation {
    GradientTransformation(initialize: { _ in OptimizerState(counts: ["count": 0]) }) { gradients, state, _ in
        var next = state
        let count = state.counts["count", default: 0]
        next.counts["count"] = count + 1
        let step = try -learningRate.checkedLearningRate(at: count) * state.hyperparameters[OptimizerState.learningRateScale, default: 1]
        var updates = ParameterStore()
        for (name, gradient) in gradients { updates[name] = try gradient * step }
        return (updates, next)
    }
}

/// `u = schedule(t − 1) · g`.
public func scaleBySchedule(_ schedule: Schedule) -> GradientTransformation {
    GradientTransformation(initialize: { _ in OptimizerState(counts: ["count": 0]) }) { gradients, state, _ in
        var next = state
        let count = state.counts["count", default: 0]
        next.counts["count"] = count + 1
        var updates = ParameterStore()
        for (name, gradient) in gradients { updates[name] = try gradient * schedule(count) }
        return (updates, next)
    }
}

/// Adam's scaling (Kingma & Ba, 2015): `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `u = m̂ / (√(v̂ + ε_root) + ε)` with `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
public func scaleByAdam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, epsilonRoot: Float = 0) -> GradientTransformation {
    .withSlots(["mu": 0, "nu": 0]) { g, _, slots, t in
        let mu = try slots["mu"]! * beta1 + g * (1 - beta1)
        let nu = try slots["nu"]! * beta2 + g.square() * (1 - beta2)
        let (muHat, nuHat) = (try mu / biasCorrection(beta1, t), try nu / biasCorrection(beta2, t))
        return (try muHat / ((nuHat + epsilonRoot).sqrt() + epsilon), ["mu": mu, "nu": nu])
    }
}

/// AdaGrad's scaling: `s ← s + g²`, `u = g / √(s + ε)` (0 where `s` is 0).
public func scaleByRss(initialAccumulator: Float = 0.1, epsilon: Float = 1e-7) -> GradientTransformation {
    .withSlots(["sum_of_squares": initialAccumulator]) { g, _, slots, _ in
        let sum = try slots["sum_of_squares"]! + g.square()
        let inverse = try sum.compare(.greater, 0).select((sum + epsilon).rsqrt(), sum.filled(with: 0))
        return (try g * inverse, ["sum_of_squares": sum])
    }
}

/// RMSProp's scaling: `ν ← dν + (1−d)g²`, `u = g / √(ν + ε)`.
public func scaleByRms(decay: Float = 0.9, epsilon: Float = 1e-8, initialScale: Float = 0) -> GradientTransformation {
    .withSlots(["nu": initialScale]) { g, _, slots, _ in
        let nu = try slots["nu"]! * decay + g.square() * (1 - decay)
        return (try g * (nu + epsilon).rsqrt(), ["nu": nu])
    }
}

/// Centered RMSProp's scaling: also tracks `μ ← dμ + (1−d)g` and uses `u = g / √(ν − μ² + ε)`.
public func scaleByStddev(decay: Float = 0.9, epsilon: Float = 1e-8, initialScale: Float = 0) -> GradientTransformation {
    .withSlots(["mu": 0, "nu": initialScale]) { g, _, slots, _ in
        let mu = try slots["mu"]! * decay + g * (1 - decay)
        let nu = try slots["nu"]! * decay + g.square() * (1 - decay)
        return (try g * (nu - mu.square() + epsilon).rsqrt(), ["mu": mu, "nu": nu])
    }
}

/// AdaBelief's scaling (Zhuang et al., 2020, Algorithm 2; optax's `scale_by_belief`): like
/// Adam, with the second moment of the prediction error `g − μ`, where `μ` is this step's
/// updated first moment, plus `ε_root`.
public func scaleByBelief(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-16, epsilonRoot: Float = 1e-16) -> GradientTransformation {
    .withSlots(["mu": 0, "nu": 0]) { g, _, slots, t in
        let mu = try slots["mu"]! * beta1 + g * (1 - beta1)
        let error = try g - mu
        let nu = try slots["nu"]! * beta2 + error.square() * (1 - beta2) + epsilonRoot
        let (muHat, nuHat) = (try mu / biasCorrection(beta1, t), try nu / biasCorrection(beta2, t))
        return (try muHat / (nuHat.sqrt() + epsilon), ["mu": mu, "nu": nu])
    }
}

/// Rectified Adam's scaling (Liu et al., 2020): Adam's step times the variance rectification
/// `r` once the SMA length `ρ` reaches `threshold`, else the bias-corrected momentum alone.
public func scaleByRadam(
    beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, epsilonRoot: Float = 0, threshold: Float = 5
) -> GradientTransformation {
    let rhoInfinity = 2 / (1 - Double(beta2)) - 1
    return .withSlots(["mu": 0, "nu": 0]) { g, _, slots, t in
        let mu = try slots["mu"]! * beta1 + g * (1 - beta1)
        let nu = try slots["nu"]! * beta2 + g.square() * (1 - beta2)
        let b2t = pow(Double(beta2), Double(t))
        let rho = rhoInfinity - 2 * Double(t) * b2t / (1 - b2t)
        let muHat = try mu / biasCorrection(beta1, t)
        guard rho >= Double(threshold) else { return (muHat, ["mu": mu, "nu": nu]) }
        let r = Float(((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho)).squareRoot())
        let nuHat = try nu / biasCorrection(beta2, t)
        return (try muHat * r / ((nuHat + epsilonRoot).sqrt() + epsilon), ["mu": mu, "nu": nu])
    }
}

/// Yogi's scaling (Zaheer et al., 2018): `ν ← ν − (1−β₂)·sign(ν − g²)·g²`, otherwise as Adam.
public func scaleByYogi(
    beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-3, epsilonRoot: Float = 0, initialAccumulator: Float = 1e-6
) -> GradientTransformation {
    .withSlots(["mu": initialAccumulator, "nu": initialAccumulator]) { g, _, slots, t in
        let mu = try slots["mu"]! * beta1 + g * (1 - beta1)
        let squared = try g.square()
        let nu = try slots["nu"]! - (slots["nu"]! - squared).sign() * squared * (1 - beta2)
        let (muHat, nuHat) = (try mu / biasCorrection(beta1, t), try nu / biasCorrection(beta2, t))
        return (try muHat / ((nuHat + epsilonRoot).sqrt() + epsilon), ["mu": mu, "nu": nu])
    }
}

/// LARS/LAMB's trust ratio: `u · c·‖p‖ / (‖u‖ + ε)` per parameter, norms at least `minimumNorm`,
/// and `u` unchanged where either norm is 0.
public func scaleByTrustRatio(minimumNorm: Float = 0, trustCoefficient: Float = 1, epsilon: Float = 0) -> GradientTransformation {
    .stateless { update, parameter in
        let parameterNorm = Swift.max(try parameter.square().sum().item().squareRoot(), minimumNorm)
        let updateNorm = Swift.max(try update.square().sum().item().squareRoot(), minimumNorm)
        guard parameterNorm > 0, updateNorm > 0 else { return update }
        return try update * (trustCoefficient * parameterNorm / (updateNorm + epsilon))
    }
}

/// Momentum: `τ ← g + d·τ`; `u = τ`, or `g + d·τ` with Nesterov.
public func trace(decay: Float, nesterov: Bool = false) -> GradientTransformation {
    .withSlots(["trace": 0]) { g, _, slots, _ in
        let trace = try g + slots["trace"]! * decay
        return (nesterov ? try g + trace * decay : trace, ["trace": trace])
    }
}

/// Clamps each update element to `[−maxDelta, maxDelta]`.
public func clip(_ maxDelta: Float) -> GradientTransformation {
    .stateless { update, _ in try update.maximum(update.constant(-maxDelta)).minimum(update.constant(maxDelta)) }
}

/// Scales all updates by `maxNorm / ‖u‖` when their joint L2 norm `‖u‖` exceeds `maxNorm`.
public func clipByGlobalNorm(_ maxNorm: Float) -> GradientTransformation {
    GradientTransformation(initialize: { _ in OptimizerState() }) { gradients, state, _ in
        let norm = try gradients.reduce(Float(0)) { $0 + (try $1.tensor.square().sum().item()) }.squareRoot()
        guard norm >= maxNorm else { return (gradients, state) }
        var updates = ParameterStore()
        for (name, gradient) in gradients { updates[name] = try gradient / norm * maxNorm }
        return (updates, state)
    }
}

/// Gradient centralisation (Yong et al., 2020): subtracts from updates of rank > 1 their mean
/// over every axis but the first.
public func centralize() -> GradientTransformation {
    .stateless { update, _ in
        guard update.rank > 1 else { return update }
        return try update - update.mean(axes: Array(1..<update.rank), keepDimensions: true)
    }
}

/// `u + λ·p`: decoupled weight decay when placed before the learning rate.
public func addDecayedWeights(_ weightDecay: Float) -> GradientTransformation {
    .stateless { update, parameter in try update + parameter * weightDecay }
}

/// Adds Gaussian noise of variance `η / (1 + t)^γ` (Neelakantan et al., 2015), drawn from
/// Philox bits of `seed` folded with the step and parameter name, so runs repeat exactly.
public func addNoise(eta: Float, gamma: Float, seed: UInt64) -> GradientTransformation {
    GradientTransformation(initialize: { _ in OptimizerState(counts: ["count": 0]) }) { gradients, state, _ in
        var next = state
        let count = state.counts["count", default: 0]
        next.counts["count"] = count + 1
        let deviation = Float((Double(eta) / pow(1 + Double(count), Double(gamma))).squareRoot())
        let key = Philox.Key(seed: seed).folded(with: UInt64(count))
        var updates = ParameterStore()
        for (name, gradient) in gradients {
            let noise = try Initializer.normal(mean: 0, standardDeviation: deviation)
                .tensor(shape: gradient.shape, key: key.folded(with: name), on: gradient.backend)
            updates[name] = try gradient + noise
        }
        return (updates, next)
    }
}

/// Gradient accumulation (optax's `MultiSteps`): gradients are averaged over `steps` calls,
/// and `inner` runs on the average every `steps`-th call; the other calls return zero updates.
public func accumulateGradients(every steps: Int, _ inner: GradientTransformation) -> GradientTransformation {
    GradientTransformation(initialize: { parameters in
        var state = OptimizerState(counts: ["mini_step": 0])
        for (name, parameter) in parameters { state.set("accumulated", name, try parameter.filled(with: 0)) }
        state.merge(try inner.initialize(parameters), prefix: "inner")
        return state
    }) { gradients, state, parameters in
        var next = state
        let miniStep = state.counts["mini_step", default: 0] + 1
        var averaged = ParameterStore()
        for (name, gradient) in gradients {
            averaged[name] = try state.tensor("accumulated", name) + gradient / Float(Swift.max(steps, 1))
        }
        guard miniStep >= steps else {
            next.counts["mini_step"] = miniStep
            for (name, value) in averaged { next.set("accumulated", name, value) }
            var zeros = ParameterStore()
            for (name, gradient) in gradients { zeros[name] = try gradient.filled(with: 0) }
            return (zeros, next)
        }
        let result = try inner.update(averaged, state.part("inner"), parameters)
        next.merge(result.state, prefix: "inner")
        next.counts["mini_step"] = 0
        for (name, value) in averaged { next.set("accumulated", name, try value.filled(with: 0)) }
        return (result.updates, next)
    }
}

/// `1 − βᵗ` in double precision.
func biasCorrection(_ beta: Float, _ step: Int) -> Float { Float(1 - pow(Double(beta), Double(step))) }
