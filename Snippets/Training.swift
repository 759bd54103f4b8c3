// Training: the loop, its handlers, run directories with checkpoints, and resuming.
import AxonCore
import AxonData
import CPUReference
import Foundation

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
let (train, heldOut) = try Digits.generate(count: 2_000, seed: 3).split(at: 1_600)
let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(64, activation: .relu).dense(10)
// snippet.hide
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("axon-snippet-training-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
_ = FileManager.default.changeCurrentDirectoryPath(scratch.path)
defer { try? FileManager.default.removeItem(at: scratch) }
// snippet.show

// snippet.loop
let run = try RunDirectory(
    URL(fileURLWithPath: "runs/digits"), mode: .new, retention: .init(keepLast: 2),
    metadata: ["model": "digits-mlp"])

let loop = try Loop.trainer(
    model: model,
    loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3),
    on: backend, seed: 0
)
.metric(.accuracy())
.validate(on: try heldOut.batches(size: 200, on: backend))
.earlyStopping(monitor: "validation_loss", patience: 2)
.haltOnNonFiniteLoss(savingTo: run)
.checkpoint(in: run)
.handle(.epochCompleted, filter: .every(2)) { state in  // a handler of your own
    print("epoch \(state.epoch + 1): loss \(state.metrics["loss"] ?? .nan)")
    return .proceed
}
.log(.perEpoch)

let batches = try train.batches(size: 64, shuffle: true, seed: 1, on: backend)
let twoEpochs = try loop.run(batches, epochs: 2)
print(twoEpochs.history.map { $0["validation_accuracy"] ?? 0 })
// snippet.end

// snippet.resume
run.close()
let reopened = try RunDirectory(URL(fileURLWithPath: "runs/digits"), mode: .resume, retention: .init(keepLast: 2))
guard let latest = try reopened.latest else { throw AxonError.invalidValue(operation: "resume", reason: "no checkpoint") }
let saved = try Checkpoint.load(latest, on: backend, requireFiniteParameters: true)
let resumed = try Loop.trainer(
    model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3), on: backend, seed: 0
)
.metric(.accuracy())
.checkpoint(in: reopened)
.run(batches, epochs: 3, resumeFrom: saved)  // continues with the third epoch
// snippet.end

// snippet.evaluate
let evaluator = try Loop.evaluator(
    model: model, state: resumed.stepState.model, on: backend,
    loss: .categoricalCrossEntropy(fromLogits: true, sparse: true))
    .metric(.accuracy())
let scores = try evaluator.run(try heldOut.batches(size: 200, on: backend), epochs: 1)
print(scores.metrics["accuracy"] ?? 0)
// snippet.end

// snippet.compile
// Trainers and evaluators compile their steps by default; the loop says how that went.
let compiled = try Loop.trainer(
    model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3), on: backend, seed: 0)
_ = try compiled.run(batches, epochs: 1)
print(compiled.compilation?.compiledShapes ?? 0)  // batch shapes replayed as plans
print(compiled.compilation?.eagerReasons ?? [])   // why a shape stayed eager, if one did

// A model's predictions, compiled per input shape.
let fast = try model.build(on: backend).compiled()
let images = try heldOut.batches(size: 200, on: backend).batch(0, epoch: 0).inputs
let logits = try fast.predict(resumed.stepState.model, inputs: images).output()
// snippet.end

// snippet.hide
// An uninterrupted three-epoch run ends with the resumed run's parameters, bit for bit.
let straight = try Loop.trainer(
    model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3), on: backend, seed: 0
).run(batches, epochs: 3)
for name in straight.stepState.model.parameters.names {
    let a = try straight.stepState.model.parameters.tensor(name).scalars
    let b = try resumed.stepState.model.parameters.tensor(name).scalars
    guard a.map(\.bitPattern) == b.map(\.bitPattern) else { throw SnippetCheck("resuming changed \(name)") }
}
guard compiled.compilation?.compiledShapes ?? 0 >= 1, compiled.compilation?.eagerReasons == [], logits.shape == [200, 10] else {
    throw SnippetCheck("the compiled trainer or model did not compile: \(compiled.compilation?.eagerReasons ?? [])")
}
guard resumed.epoch == 3, (scores.metrics["accuracy"] ?? 0) > 0.5 else {
    throw SnippetCheck("the resumed run stopped at epoch \(resumed.epoch) with accuracy \(scores.metrics)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
