import AxonCore
import Backend
import Foundation

/// Optimizer trajectory case files: initial parameters, a sequence of gradients and the
/// parameters another implementation (optax, by `scripts/record-optax.py`) produced after each
/// step. The case replays the gradients through Axon's optimizer of the same name (a named
/// optimizer, or a transformation or schedule in a small chain), fused and unfused, on every
/// backend, and checks every step against the recorded parameters.
///
/// ```json
/// {"name": "adam trajectory recorded from optax", "optimizer": "adam", "learningRate": 0.01,
///  "parameters": {"w": {"shape": [2], "values": [0.5, -1]}},
///  "gradients": [{"w": {"shape": [2], "values": [0.1, 0.2]}}],
///  "expected": [{"w": {"shape": [2], "values": [0.49, -1.01]}}]}
/// ```
public enum OptimizerTrajectory {
    struct Document: Decodable {
        let name: String
        let optimizer: String
        let learningRate: Float
        let parameters: [String: CaseFile.TensorSpec]
        let gradients: [[String: CaseFile.TensorSpec]]
        let expected: [[String: CaseFile.TensorSpec]]
    }

    /// Whether a case file's JSON is a trajectory (it names an optimizer) rather than an op case.
    static func isTrajectory(_ data: Data) -> Bool {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["optimizer"] != nil
    }

    /// The optimizer a trajectory file names, with the hyper-parameters `scripts/record-optax.py`
    /// gives optax (the libraries' defaults unless written here), and what it covers.
    static func optimizer(named name: String, learningRate lr: Float) throws -> (optimizer: Optimizer, covers: [String]) {
        let rate = LearningRate.constant(lr)
        func sgd(_ schedule: Schedule, _ covered: String) throws -> (Optimizer, [String]) {
            (try .sgd(learningRate: .schedule(schedule)), ["schedule.\(covered)", "optimizer.sgd"])
        }
        func chained(_ first: GradientTransformation, _ covered: String) -> (Optimizer, [String]) {
            (Optimizer(name, chain(first, scaleByLearningRate(rate))), ["transformation.\(covered)"])
        }
        switch name {
        case "nesterov": return (try .sgd(learningRate: rate, momentum: 0.9, nesterov: true), ["optimizer.sgd"])
        case "momentum": return (try .sgd(learningRate: rate, momentum: 0.9), ["optimizer.sgd"])
        case "rmsprop_centered": return (try .rmsprop(learningRate: rate, centered: true), ["optimizer.rmsprop"])
        case "clip_sgd": return chained(clip(0.5), "clip")
        case "clip_by_global_norm_sgd": return chained(clipByGlobalNorm(1), "clipByGlobalNorm")
        case "centralize_sgd": return chained(centralize(), "centralize")
        case "decayed_weights_sgd": return chained(addDecayedWeights(0.1), "addDecayedWeights")
        case "multi_steps_adam":
            let adam = chain(scaleByAdam(), scaleByLearningRate(rate))
            return (Optimizer(name, accumulateGradients(every: 2, adam)), ["transformation.accumulateGradients"])
        case "exponential_decay_sgd": return try sgd(.exponentialDecay(from: lr, decayRate: 0.5, transitionSteps: 2), "exponentialDecay")
        case "staircase_decay_sgd":
            return try sgd(.exponentialDecay(from: lr, decayRate: 0.5, transitionSteps: 3, staircase: true), "exponentialDecay")
        case "polynomial_decay_sgd": return try sgd(.polynomialDecay(from: lr, to: 0.01, power: 2, transitionSteps: 5), "polynomialDecay")
        case "linear_decay_sgd": return try sgd(.linearDecay(from: lr, to: 0, transitionSteps: 5, transitionBegin: 2), "linearDecay")
        case "cosine_decay_sgd": return try sgd(.cosineDecay(from: lr, decaySteps: 6, alpha: 0.1), "cosineDecay")
        case "warmup_cosine_sgd":
            return try sgd(.warmup(from: 0, to: lr, steps: 3, then: .cosineDecay(from: lr, decaySteps: 4)), "warmup")
        default: return (try .named(name, learningRate: lr), ["optimizer.\(name)"])
        }
    }

    /// A trajectory file as a conformance case.
    public static func decode(_ data: Data, name file: String, directory: URL) throws -> ConformanceCase {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ConformanceError("\(file) is not a valid optimizer trajectory: \(error)")
        }
        let names = document.parameters.keys.sorted()
        guard !document.gradients.isEmpty, document.expected.count == document.gradients.count,
            (document.gradients + document.expected).allSatisfy({ $0.keys.sorted() == names })
        else {
            throw ConformanceError("\(file): needs one gradient and one expected parameter set per step, each naming the parameters \(names)")
        }
        let covers = try optimizer(named: document.optimizer, learningRate: document.learningRate).covers
        let initial = try names.map { try CaseFile.array(document.parameters[$0]!, directory, "\(file) parameter \($0)") }
        let gradients = try document.gradients.enumerated().map { step, set in
            try names.map { try CaseFile.array(set[$0]!, directory, "\(file) gradient \($0) of step \(step + 1)") }
        }
        let trajectory = try document.expected.enumerated().flatMap { step, set in
            try names.map { try CaseFile.array(set[$0]!, directory, "\(file) expected \($0) after step \(step + 1)") }
        }
        let (optimizerName, learningRate) = (document.optimizer, document.learningRate)
        return ConformanceCase(
            document.name, covers: covers, opClass: .reduction,
            body: .library { backend in
                let optimizer = try optimizer(named: optimizerName, learningRate: learningRate).optimizer
                return try [true, false].flatMap { fused in
                    var parameters = ParameterStore()
                    for (name, array) in zip(names, initial) { parameters[name] = try Tensor(array, on: backend) }
                    var state = try optimizer.initialize(parameters)
                    var arrays: [HostArray] = []
                    for stepGradients in gradients {
                        var store = ParameterStore()
                        for (name, array) in zip(names, stepGradients) { store[name] = try Tensor(array, on: backend) }
                        (parameters, state) = try optimizer.step(parameters: parameters, gradients: store, state: state, fused: fused)
                        arrays += try names.map { try parameters.tensor($0).array }
                    }
                    return arrays
                }
            },
            expected: trajectory + trajectory)
    }
}
