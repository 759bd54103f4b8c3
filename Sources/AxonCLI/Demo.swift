import ArgumentParser
import Axon
import Backend
import Foundation

/// `axon demo`: fits a small tanh network to `sin(x)` with reverse-mode autodiff and Adam, end
/// to end on the chosen backend. It is the quick start's main job until `axon train` arrives.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a 1-32-1 tanh network to sin(x) on [−π, π] with autodiff and Adam.")

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "Training steps.") var steps = 600
    @Option(help: "Seed for parameter initialisation.") var seed: UInt64 = 0
    @Option(name: .customLong("learning-rate"), help: "Adam learning rate.") var learningRate: Float = 0.02

    func run() throws {
        try runReportingErrors {
            let backend = try backendOptions.resolve()
            print("backend: \(backend.name) (\(backend.deviceDescription))")
            let xs = (0..<128).map { -Float.pi + 2 * Float.pi * Float($0) / 127 }
            let inputs = try Tensor(xs, shape: [128, 1], on: backend)
            let targets = try Tensor(xs.map { Foundation.sin($0) }, shape: [128, 1], on: backend)

            let key = Philox.Key(seed: seed)
            var parameters: ParameterStore = [
                "hidden.kernel": try Initializer.glorotUniform.tensor(shape: [1, 32], key: key.folded(with: "hidden.kernel"), on: backend),
                "hidden.bias": try Tensor.zeros(shape: [32], on: backend),
                "output.kernel": try Initializer.glorotUniform.tensor(shape: [32, 1], key: key.folded(with: "output.kernel"), on: backend),
                "output.bias": try Tensor.zeros(shape: [1], on: backend),
            ]
            var moments = try parameters.map { (name: $0.name, m: try $0.tensor.filled(with: 0), v: try $0.tensor.filled(with: 0)) }

            func loss(_ p: ParameterStore) throws -> Tensor {
                let hidden = try inputs.dense(weight: p.tensor("hidden.kernel"), bias: p.tensor("hidden.bias"), activation: .tanh)
                let prediction = try hidden.dense(weight: p.tensor("output.kernel"), bias: p.tensor("output.bias"))
                return try (prediction - targets).square().mean()
            }

            let start = Date()
            var value: Float = 0
            for step in 1...steps {
                let (lossValue, gradients) = try valueAndGradient(at: parameters, of: loss)
                for index in moments.indices {
                    let name = moments[index].name
                    let updated = try backend.adamUpdate(
                        parameter: parameters.tensor(name).buffer, gradient: gradients.tensor(name).buffer,
                        firstMoment: moments[index].m.buffer, secondMoment: moments[index].v.buffer,
                        step: AdamStep(learningRate: learningRate, step: step))
                    parameters[name] = Tensor(buffer: updated.parameter, backend: backend)
                    moments[index].m = Tensor(buffer: updated.firstMoment, backend: backend)
                    moments[index].v = Tensor(buffer: updated.secondMoment, backend: backend)
                }
                value = try lossValue.item()
                if step == 1 || step % 100 == 0 {
                    print("step \(step): mean squared error \(String(format: "%.5f", value))")
                }
            }
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "final mean squared error: %.5f after %d steps (%.2f s)", value, steps, seconds))
        }
    }
}
