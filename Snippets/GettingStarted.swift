// Getting started: a backend, tensors and gradients, then a model trained on generated digits.
// snippet.hide
import Foundation
// snippet.show
import AxonCore
import AxonData
import CPUReference

// snippet.backend
ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
// snippet.end

// snippet.gradient
let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: backend)
let w = try Initializer.glorotUniform.tensor(shape: [2, 3], key: Philox.Key(seed: 42), on: backend)

let (loss, gradients) = try valueAndGradient(at: ["w": w]) { p in
    try x.dense(weight: p.tensor("w"), activation: .relu).square().mean()
}
print(try loss.item(), try gradients.tensor("w").shape)  // a number, [2, 3]
// snippet.end

// snippet.model
let model = Axon.input("features", shape: [nil, 28, 28, 1])
    .flatten()
    .dense(64, activation: .relu)
    .dense(10)
print(model)  // the layer table: names, output shapes, parameter counts
// snippet.end

// snippet.train
let (train, heldOut) = try Digits.generate(count: 3_000, seed: 7).split(at: 2_500)
let loop = try Loop.trainer(
    model: model,
    loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3),
    on: backend, seed: 0
)
.metric(.accuracy())
.validate(on: try heldOut.batches(size: 250, on: backend))

let final = try loop.run(try train.batches(size: 64, shuffle: true, seed: 1, on: backend), epochs: 2)
print(final.history.last?["validation_accuracy"] ?? 0)
// snippet.end

// snippet.predict
let built = try model.build(on: backend)
let images = try Tensor(try heldOut.subset([0, 1, 2, 3]).features, on: backend)
let logits = try built.predict(final.stepState.model, inputs: ["features": images]).output()
print(try logits.argmax(axis: 1).scalars)  // four predicted digits
// snippet.end

// snippet.hide
// Checked when the documentation's snippets run (DocumentationSnippetTests): gradients have the
// weight's shape and two epochs learn far better than chance (10%).
guard try gradients.tensor("w").shape == [2, 3], (final.history.last?["validation_accuracy"] ?? 0) > 0.5 else {
    throw SnippetCheck("training on the generated digits did not learn: \(final.history)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
