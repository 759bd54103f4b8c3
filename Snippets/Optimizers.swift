// Optimizers and schedules: named optimizers, optax-style chains, schedules, and a manual step.
import AxonCore
import CPUReference

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")

// snippet.named
let adam = try Optimizer.adam(learningRate: 1e-3)
let adamw = try Optimizer.adamw(learningRate: 3e-4, weightDecay: 1e-2)
let momentum = try Optimizer.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true)
// snippet.end

// snippet.schedule
// Linear warm-up to the peak over 100 steps, then cosine decay to zero over 900.
let schedule = Schedule.warmup(
    from: 0, to: 1e-3, steps: 100,
    then: .cosineDecay(from: 1e-3, decaySteps: 900))
let warmedUp = try Optimizer.adam(learningRate: .schedule(schedule))
print(schedule(0), schedule(50), schedule(100), schedule(1_000))  // 0, 5e-4, 1e-3, 0
// snippet.end

// snippet.chain
// optax's way: compose gradient transformations; the learning rate comes last.
let clipped = Optimizer("clipped-adam", chain(
    clipByGlobalNorm(1),
    scaleByAdam(beta1: 0.9, beta2: 0.999),
    scaleByLearningRate(.schedule(schedule))))
// snippet.end

// snippet.step
// One step by hand: the loss Σ w², whose gradient is 2w.
var parameters = ParameterStore(["w": try Tensor([1, 2], on: backend)])
let sgd = try Optimizer.sgd(learningRate: 0.1)
var state = try sgd.initialize(parameters)
let (_, gradients) = try valueAndGradient(at: parameters) { p in try p.tensor("w").square().sum() }
(parameters, state) = try sgd.step(parameters: parameters, gradients: gradients, state: state)
print(try parameters.tensor("w").scalars)  // [0.8, 1.6]: w − 0.1 · 2w
// snippet.end

// snippet.hide
// Hand-derived: warm-up is linear (0 → 1e-3 over 100 steps); the cosine's end is 0; one SGD step
// multiplies w by 1 − 0.1·2 = 0.8.
let w = try parameters.tensor("w").scalars
guard abs(schedule(50) - 5e-4) < 1e-9, abs(schedule(100) - 1e-3) < 1e-9, abs(schedule(1_000)) < 1e-9,
    abs(w[0] - 0.8) < 1e-6, abs(w[1] - 1.6) < 1e-6,
    [adam.name, adamw.name, momentum.name, warmedUp.name, clipped.name] == ["adam", "adamw", "sgd", "adam", "clipped-adam"]
else {
    throw SnippetCheck("schedule \(schedule(50)), \(schedule(100)), \(schedule(1_000)); w \(w)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
