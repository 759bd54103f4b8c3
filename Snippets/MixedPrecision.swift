// Mixed precision: bfloat16, policies and loss scaling.
import AxonCore
import AxonData
import CPUReference

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
let digits = try Digits.generate(count: 512, seed: 11)
let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(32, activation: .relu).dense(10)
let loss = Loss.categoricalCrossEntropy(fromLogits: true, sparse: true)

// snippet.bfloat16
// bfloat16 keeps float32's range with an 8-bit significand; conversions round to nearest even.
let halfway = BFloat16(Float(1.00390625))          // halfway between 1 and 1.0078125
print(halfway.float)                                 // 1.0 (ties to even)
let x = try Tensor([0.1, 1000.5, -3], shape: [3], on: backend).cast(to: .bfloat16)
print(try x.cast(to: .float32).scalars)              // [0.10009766, 1000.0, -3.0]
// snippet.end

// snippet.policy
// Every layer but normalisation computes in bfloat16 on float32 master parameters.
let mixed = try model.applyingPolicy(.bfloat16)
let trained = try Loop.trainer(model: mixed, loss: loss, optimizer: .adam(learningRate: 1e-3), on: backend)
    .run(try digits.batches(size: 64, on: backend), epochs: 1)
print(try trained.stepState.model.parameters.tensor("dense_0.kernel").dtype)  // float32: the master copy
// snippet.end

// snippet.chosen
// Only the layers a predicate selects; the rest stay float32.
let headOnly = try model.applyingPolicy(.bfloat16) { $0.name == "dense_1" }
print(try headOnly.policies.keys.sorted())  // ["dense_1"]
// snippet.end

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
guard halfway.bitPattern == 0x3F80, try x.cast(to: .float32).scalars == [0.10009765625, 1000, -3] else {
    throw SnippetCheck("bfloat16 rounding: \(halfway.bitPattern), \(try x.cast(to: .float32).scalars)")
}
guard trained.stepState.model.parameters.allSatisfy({ $0.tensor.dtype == .float32 }),
    try mixed.policies.keys.sorted() == ["dense_0", "dense_1", "flatten_0"], try headOnly.policies.keys.sorted() == ["dense_1"]
else {
    throw SnippetCheck("the policy's layers or master parameters are not as documented")
}
guard (trained.history.last?["loss"] ?? .infinity) < (run.history.first?["loss"] ?? 0) * 1.5 else {
    throw SnippetCheck("training under the policy did not learn like float32: \(trained.history) vs \(run.history)")
}
guard run.stepState.optimizer.hyperparameters[LossScaling.scaleKey] == 32_768 else {
    throw SnippetCheck("eight finite steps changed the scale: \(run.stepState.optimizer.hyperparameters)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
