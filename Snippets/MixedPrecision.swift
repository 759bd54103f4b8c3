// Mixed precision: loss scaling, the part of a mixed-precision policy that exists today.
import AxonCore
import AxonData
import CPUReference

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
let digits = try Digits.generate(count: 512, seed: 11)
let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(32, activation: .relu).dense(10)
let loss = Loss.categoricalCrossEntropy(fromLogits: true, sparse: true)

// snippet.dynamic
// Start at 2¹⁵; halve and skip the step when a gradient overflows; double after 1,000 finite steps.
let scaled = try Loop.trainer(
    model: model, loss: loss, optimizer: .adam(learningRate: 1e-3), on: backend,
    lossScaling: .dynamic(initial: 32_768, factor: 2, growthInterval: 1_000))
let run = try scaled.run(try digits.batches(size: 64, on: backend), epochs: 1)
print(run.stepState.optimizer.hyperparameters[LossScaling.scaleKey] ?? 0)  // the scale now
// snippet.end

// snippet.fixed
// A power-of-two scale without overflow changes no bit of the result.
let fixed = try Loop.trainer(
    model: model, loss: loss, optimizer: .adam(learningRate: 1e-3), on: backend, lossScaling: .fixed(1_024))
// snippet.end

// snippet.hide
// Multiplying by a power of two and dividing again is exact in binary floating point, so the
// fixed-scale run must equal the unscaled one bit for bit.
let plain = try Loop.trainer(model: model, loss: loss, optimizer: .adam(learningRate: 1e-3), on: backend)
let a = try plain.run(try digits.batches(size: 64, on: backend), epochs: 1).stepState.model.parameters
let b = try fixed.run(try digits.batches(size: 64, on: backend), epochs: 1).stepState.model.parameters
for name in a.names where try a.tensor(name).scalars.map(\.bitPattern) != b.tensor(name).scalars.map(\.bitPattern) {
    throw SnippetCheck("a power-of-two loss scale changed \(name)")
}
guard run.stepState.optimizer.hyperparameters[LossScaling.scaleKey] == 32_768 else {
    throw SnippetCheck("eight finite steps changed the scale: \(run.stepState.optimizer.hyperparameters)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
