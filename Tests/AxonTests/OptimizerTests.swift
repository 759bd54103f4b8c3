import AxonCore
import Backend
import Foundation
import Testing

/// Each transformation over two or three steps on a tiny parameter set, against the published
/// update rule evaluated by hand in double precision.
@Suite("Optimizer transformations")
struct OptimizerTests {
    let parameter: [Float] = [1.0, -2.0]
    let gradients: [[Float]] = [[0.5, -1.0], [0.2, 0.4], [-0.3, 0.1]]

    /// The updates a transformation returns at each step for `gradients`.
    func updates(_ transformation: GradientTransformation, steps: Int = 3) throws -> [[Float]] {
        let parameters: ParameterStore = ["w": try tensor(parameter, [2])]
        var state = try transformation.initialize(parameters)
        var result: [[Float]] = []
        for step in 0..<steps {
            let (update, next) = try transformation.update(["w": try tensor(gradients[step % 3], [2])], state, parameters)
            result.append(try update.tensor("w").scalars)
            state = next
        }
        return result
    }

    func expectUpdates(_ actual: [[Float]], _ expected: [[Double]], sourceLocation: SourceLocation = #_sourceLocation) {
        for (a, e) in zip(actual, expected) {
            expectClose(a, e.map { Float($0) }, atol: 1e-6, rtol: 1e-5, sourceLocation: sourceLocation)
        }
    }

    /// Applies `rule(g, t)` to each element, for hand-written per-element formulas with state.
    /// The gradients cycle when there are more steps than gradients.
    func byHand<S>(_ initial: S, steps: Int = 3, _ rule: (inout S, Double, Int) -> Double) -> [[Double]] {
        (0..<2).map { index in
            var state = initial
            return (0..<steps).map { step in rule(&state, Double(gradients[step % 3][index]), step + 1) }
        }.transposed()
    }

    @Test("scale and the learning rate")
    func scaling() throws {
        expectUpdates(try updates(scale(2)), gradients.map { $0.map { 2 * Double($0) } })
        expectUpdates(try updates(scaleByLearningRate(0.1)), gradients.map { $0.map { -0.1 * Double($0) } })
        let schedule = Schedule { step in Float(step + 1) }
        expectUpdates(try updates(scaleBySchedule(schedule)), gradients.enumerated().map { t, g in g.map { Double(t + 1) * Double($0) } })
    }

    @Test("Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², u = m̂ / (√v̂ + ε)")
    func adam() throws {
        let expected = byHand((m: 0.0, v: 0.0)) { s, g, t in
            s.m = 0.9 * s.m + 0.1 * g
            s.v = 0.999 * s.v + 0.001 * g * g
            return (s.m / (1 - pow(0.9, Double(t)))) / ((s.v / (1 - pow(0.999, Double(t)))).squareRoot() + 1e-8)
        }
        expectUpdates(try updates(scaleByAdam()), expected)
    }

    @Test("AdaGrad (RSS): s ← s + g², u = g / √(s + ε)")
    func rss() throws {
        let expected = byHand(0.1) { s, g, _ in
            s += g * g
            return g / (s + 1e-7).squareRoot()
        }
        expectUpdates(try updates(scaleByRss()), expected)
    }

    @Test("RMS: ν ← 0.9ν + 0.1g², u = g / √(ν + ε); centred: ν − μ²")
    func rms() throws {
        let plain = byHand(0.0) { s, g, _ in
            s = 0.9 * s + 0.1 * g * g
            return g / (s + 1e-8).squareRoot()
        }
        expectUpdates(try updates(scaleByRms()), plain)
        let centered = byHand((mu: 0.0, nu: 0.0)) { s, g, _ in
            s.mu = 0.9 * s.mu + 0.1 * g
            s.nu = 0.9 * s.nu + 0.1 * g * g
            return g / (s.nu - s.mu * s.mu + 1e-8).squareRoot()
        }
        expectUpdates(try updates(scaleByStddev()), centered)
    }

    @Test("AdaBelief: the first update is sign(g)/β₁, the prediction error being g − μ₁ = β₁g")
    func belief() throws {
        // Zhuang et al. (2020), Algorithm 2, from zero moments: μ₁ = (1−β₁)g, s₁ = (1−β₂)(β₁g)² + ε,
        // so μ̂₁ = g, ŝ₁ ≈ (β₁g)² and the update is g / |β₁g|. (Using μ₀ instead would give sign(g).)
        // Later steps are checked against optax's trajectory in the conformance suite
        // (Tests/Conformance/Cases/optax/adabelief.json).
        let first = try updates(scaleByBelief(), steps: 1)
        expectUpdates(first, [gradients[0].map { Double($0 > 0 ? 1 : -1) / 0.9 }])
    }

    @Test("RAdam: bias-corrected momentum while ρ < 5, rectified Adam after")
    func radam() throws {
        // With β₂ = 0.999, ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ) is below 5 for the first steps (ρ₁ = 1).
        let expected = byHand(0.0) { m, g, t in
            m = 0.9 * m + 0.1 * g
            return m / (1 - pow(0.9, Double(t)))
        }
        expectUpdates(try updates(scaleByRadam()), expected)
        // With β₂ = 0.9, ρ∞ = 19 and ρ_t passes 5 at t = 6 (ρ₅ ≈ 4.6, ρ₆ ≈ 5.4).
        let rhoInf = 19.0
        var rectifiedSteps = 0
        let rectified = byHand((m: 0.0, v: 0.0), steps: 8) { s, g, t in
            s.m = 0.9 * s.m + 0.1 * g
            s.v = 0.9 * s.v + 0.1 * g * g
            let b2t = pow(0.9, Double(t))
            let rho = rhoInf - 2 * Double(t) * b2t / (1 - b2t)
            let mHat = s.m / (1 - pow(0.9, Double(t)))
            guard rho >= 5 else { return mHat }
            rectifiedSteps += 1
            let r = ((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho)).squareRoot()
            return r * mHat / ((s.v / (1 - b2t)).squareRoot() + 1e-8)
        }
        #expect(rectifiedSteps == 3 * 2)
        expectUpdates(try updates(scaleByRadam(beta2: 0.9), steps: 8), rectified)
    }

    @Test("Yogi: ν ← ν − (1−β₂)·sign(ν − g²)·g²")
    func yogi() throws {
        let expected = byHand((m: 1e-6, v: 1e-6)) { s, g, t in
            s.m = 0.9 * s.m + 0.1 * g
            let g2 = g * g
            s.v = s.v - 0.001 * (s.v - g2 > 0 ? 1 : (s.v - g2 < 0 ? -1 : 0)) * g2
            return (s.m / (1 - pow(0.9, Double(t)))) / ((s.v / (1 - pow(0.999, Double(t)))).squareRoot() + 1e-3)
        }
        expectUpdates(try updates(scaleByYogi()), expected)
    }

    @Test("trust ratio: u·‖p‖/‖u‖")
    func trustRatio() throws {
        let pNorm = (1.0 + 4.0).squareRoot()
        let expected = gradients.map { g -> [Double] in
            let uNorm = g.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            return g.map { Double($0) * pNorm / uNorm }
        }
        expectUpdates(try updates(scaleByTrustRatio()), expected)
    }

    @Test("trace: momentum and Nesterov")
    func momentum() throws {
        let heavyBall = byHand(0.0) { v, g, _ in
            v = g + 0.9 * v
            return v
        }
        expectUpdates(try updates(trace(decay: 0.9)), heavyBall)
        let nesterov = byHand(0.0) { v, g, _ in
            v = g + 0.9 * v
            return g + 0.9 * v
        }
        expectUpdates(try updates(trace(decay: 0.9, nesterov: true)), nesterov)
    }

    @Test("clipping, centralisation, weight decay")
    func stateless() throws {
        expectUpdates(try updates(clip(0.45)), gradients.map { $0.map { Double(Swift.min(Swift.max($0, -0.45), 0.45)) } })
        // ‖(0.5, −1)‖ = 1.118 > 1 is scaled to norm 1; ‖(0.2, 0.4)‖ = 0.447 is left alone.
        let clipped = try updates(clipByGlobalNorm(1), steps: 2)
        expectUpdates(clipped, [[0.5 / 1.25.squareRoot(), -1 / 1.25.squareRoot()], [0.2, 0.4]])
        expectUpdates(try updates(addDecayedWeights(0.1)), gradients.map { g in zip(g, parameter).map { Double($0 + 0.1 * $1) } })
        let matrix: ParameterStore = ["w": try tensor([1, 2, 3, 10, 20, 30], [2, 3])]
        let (centered, _) = try centralize().update(matrix, try centralize().initialize(matrix), matrix)
        try expectClose(centered.tensor("w"), [-1, 0, 1, -10, 0, 10])
        // Rank-1 updates are left as they are.
        expectUpdates(try updates(centralize()), gradients.map { $0.map(Double.init) })
    }

    @Test("added noise is deterministic and has the annealed variance")
    func noise() throws {
        let zeros: ParameterStore = ["w": try Tensor.zeros(shape: [20_000], on: backend)]
        let transformation = addNoise(eta: 0.04, gamma: 0.55, seed: 3)
        let state = try transformation.initialize(zeros)
        let (first, next) = try transformation.update(zeros, state, zeros)
        let (again, _) = try transformation.update(zeros, state, zeros)
        #expect(try first.tensor("w").scalars == again.tensor("w").scalars)
        let values = try first.tensor("w").scalars.map(Double.init)
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        #expect(Swift.abs(variance / 0.04 - 1) < 0.05)  // η / (1 + 0)^γ
        let (second, _) = try transformation.update(zeros, next, zeros)
        let secondVariance = try second.tensor("w").scalars.reduce(0) { $0 + Double($1 * $1) } / Double(values.count)
        #expect(Swift.abs(secondVariance / (0.04 / pow(2, 0.55)) - 1) < 0.05)
    }

    @Test("accumulated gradients apply the mean every k steps")
    func accumulation() throws {
        let result = try updates(accumulateGradients(every: 2, scale(1)), steps: 3)
        expectUpdates(result, [[0, 0], [0.35, -0.3], [0, 0]])
    }

    @Test("chain composes in order and keeps each state under its index")
    func chaining() throws {
        let composed = chain(trace(decay: 0.5), scale(-2))
        let parameters: ParameterStore = ["w": try tensor(parameter, [2])]
        let state = try composed.initialize(parameters)
        #expect(state.tensors.names == ["0/trace/w"])
        let (updates, next) = try composed.update(["w": try tensor([1, 1], [2])], state, parameters)
        try expectClose(updates.tensor("w"), [-2, -2])
        #expect(next.counts["0/count"] == 1)
        try expectClose(applyUpdates(updates, to: parameters).tensor("w"), [-1, -4])
    }
}

extension Array where Element == [Double] {
    /// Rows become columns.
    func transposed() -> [[Double]] {
        guard let first else { return [] }
        return first.indices.map { column in map { $0[column] } }
    }
}
