import AxonCore
import Backend
import Foundation
import Testing

@Suite("Named optimizers and schedules")
struct NamedOptimizerTests {
    /// Minimises ‖w − target‖² for a few steps and returns the parameters.
    func minimise(_ optimizer: Optimizer, steps: Int = 3, fused: Bool = true) throws -> [Float] {
        let target = try tensor([3, -1], [2])
        var parameters: ParameterStore = ["w": try tensor([0.5, 0.5], [2])]
        var state = try optimizer.initialize(parameters)
        for _ in 0..<steps {
            let gradients = try gradient(at: parameters) { p in try (p.tensor("w") - target).square().sum() }
            (parameters, state) = try optimizer.step(parameters: parameters, gradients: gradients, state: state, fused: fused)
        }
        return try parameters.tensor("w").scalars
    }

    @Test("plain SGD: w ← w − lr·g with g = 2(w − target)")
    func sgd() throws {
        var w: [Double] = [0.5, 0.5]
        for _ in 0..<3 { w = zip(w, [3.0, -1.0]).map { $0 - 0.1 * 2 * ($0 - $1) } }
        expectClose(try minimise(.sgd(learningRate: 0.1)), w.map { Float($0) })
    }

    @Test("fused updates equal the composed transformations", arguments: ["adam", "adamw", "momentum", "nesterov"])
    func fusedEqualsComposed(_ name: String) throws {
        let schedule = LearningRate.schedule(.exponentialDecay(from: 0.1, decayRate: 0.5, transitionSteps: 2))
        let optimizer: Optimizer
        switch name {
        case "adam": optimizer = try .adam(learningRate: schedule)
        case "adamw": optimizer = try .adamw(learningRate: schedule, weightDecay: 0.05)
        case "momentum": optimizer = try .sgd(learningRate: schedule, momentum: 0.9)
        default: optimizer = try .sgd(learningRate: schedule, momentum: 0.9, nesterov: true)
        }
        #expect(optimizer.hasFusedStep)
        expectClose(try minimise(optimizer, steps: 4, fused: true), try minimise(optimizer, steps: 4, fused: false), atol: 1e-6, rtol: 1e-6)
    }

    @Test("every named optimizer reduces a quadratic", arguments: [
        "sgd", "momentum", "adam", "adamw", "adabelief", "adagrad", "rmsprop", "radam", "yogi", "lamb", "noisy_sgd", "fromage",
    ])
    func reducesLoss(_ name: String) throws {
        let final = try minimise(.named(name, learningRate: 0.05), steps: 20)
        let start = Double((0.5 - 3) * (0.5 - 3) + (0.5 + 1) * (0.5 + 1))
        let end = Double((final[0] - 3) * (final[0] - 3) + (final[1] + 1) * (final[1] + 1))
        #expect(end < start, "\(name): \(end) vs \(start)")
    }

    @Test("AdamW decays weights by lr·λ·w on top of Adam")
    func adamw() throws {
        let adam = try minimise(.adam(learningRate: 0.1), steps: 1)
        let adamw = try minimise(.adamw(learningRate: 0.1, weightDecay: 0.5), steps: 1)
        expectClose(zip(adam, adamw).map { $0 - $1 }, [0.1 * 0.5 * 0.5, 0.1 * 0.5 * 0.5], atol: 1e-6)
    }

    @Test("the learning-rate scale in the state multiplies the step")
    func learningRateScale() throws {
        let optimizer = try Optimizer.sgd(learningRate: 0.1)
        let parameters: ParameterStore = ["w": try tensor([1], [1])]
        var state = try optimizer.initialize(parameters)
        state.hyperparameters[OptimizerState.learningRateScale] = 0.5
        let (updated, _) = try optimizer.step(parameters: parameters, gradients: ["w": try tensor([1], [1])], state: state)
        try expectClose(updated.tensor("w"), [0.95])
        #expect(throws: AxonError.self) { try Optimizer.named("sgdd", learningRate: 0.1) }
    }

    @Test("schedules at chosen steps")
    func schedules() {
        let polynomial = Schedule.polynomialDecay(from: 1, to: 0.1, power: 2, transitionSteps: 10, transitionBegin: 2)
        #expect(polynomial(0) == 1 && polynomial(2) == 1)
        #expect(Swift.abs(polynomial(7) - (0.9 * 0.25 + 0.1)) < 1e-6)
        #expect(Swift.abs(polynomial(100) - 0.1) < 1e-6)
        let linear = Schedule.linearDecay(from: 1, to: 0, transitionSteps: 4)
        #expect([0, 1, 2, 4, 9].map { linear($0) } == [1, 0.75, 0.5, 0, 0])
        let exponential = Schedule.exponentialDecay(from: 2, decayRate: 0.5, transitionSteps: 10)
        #expect(Swift.abs(exponential(5) - 2 * Float(pow(0.5, 0.5))) < 1e-6)
        let staircase = Schedule.exponentialDecay(from: 2, decayRate: 0.5, transitionSteps: 10, staircase: true)
        #expect(staircase(9) == 2 && staircase(10) == 1 && staircase(25) == 0.5)
        let bounded = Schedule.exponentialDecay(from: 2, decayRate: 0.5, transitionSteps: 1, end: 0.3)
        #expect(bounded(10) == 0.3)
        let cosine = Schedule.cosineDecay(from: 1, decaySteps: 10, alpha: 0.2)
        #expect(cosine(0) == 1 && Swift.abs(cosine(5) - 0.6) < 1e-6 && Swift.abs(cosine(10) - 0.2) < 1e-6 && Swift.abs(cosine(20) - 0.2) < 1e-6)
        let warm = Schedule.warmup(from: 0, to: 1, steps: 4, then: .cosineDecay(from: 1, decaySteps: 10))
        #expect(warm(0) == 0 && warm(2) == 0.5 && warm(4) == 1 && Swift.abs(warm(9) - 0.5) < 1e-6)
        #expect(Schedule.constant(3)(1000) == 3)
    }

    @Test("hyper-parameters outside their range are refused when the optimizer is made, by name")
    func hyperParametersAreValidated() {
        #expect(throws: AxonError.invalidValue(operation: "Optimizer.adam", reason: "learningRate must be finite and ≥ 0, got nan")) {
            _ = try Optimizer.adam(learningRate: .constant(.nan))
        }
        #expect(throws: AxonError.invalidValue(operation: "Optimizer.adamw", reason: "beta1 must be in [0, 1), got 1.5")) {
            _ = try Optimizer.adamw(learningRate: 0.1, beta1: 1.5)
        }
        #expect(throws: AxonError.invalidValue(operation: "Optimizer.sgd", reason: "momentum must be in [0, 1], got -0.5")) {
            _ = try Optimizer.sgd(learningRate: 0.1, momentum: -0.5)
        }
        #expect(throws: AxonError.invalidValue(operation: "Optimizer.rmsprop", reason: "epsilon must be finite and ≥ 0, got inf")) {
            _ = try Optimizer.rmsprop(learningRate: 0.1, epsilon: .infinity)
        }
        #expect(throws: AxonError.self) { _ = try Optimizer.named("lamb", learningRate: -1) }
    }

    @Test("a schedule that reaches a non-finite rate stops the step that uses it, fused or not")
    func nonFiniteScheduleStopsTraining() throws {
        let schedule = LearningRate.schedule(Schedule { step in step < 2 ? 0.1 : .infinity })
        for fused in [true, false] {
            let optimizer = try Optimizer.sgd(learningRate: schedule, momentum: 0.9)
            var parameters: ParameterStore = ["w": try tensor([1], [1])]
            var state = try optimizer.initialize(parameters)
            for _ in 0..<2 {
                (parameters, state) = try optimizer.step(parameters: parameters, gradients: ["w": try tensor([1], [1])], state: state, fused: fused)
            }
            #expect(throws: AxonError.invalidValue(
                operation: "learning rate", reason: "the schedule gives inf at step 2; a learning rate must be finite")) {
                _ = try optimizer.step(parameters: parameters, gradients: ["w": try tensor([1], [1])], state: state, fused: fused)
            }
        }
    }
}
