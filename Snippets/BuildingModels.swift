// Building models: chaining, combinators, custom layers, weight sharing, surgery and hooks.
import AxonCore
import CPUReference

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")

// snippet.chain
let image = Axon.input("image", shape: [nil, 28, 28, 1])
let features = image
    .conv(16, kernelSize: [3], padding: .same, activation: .relu)
    .maxPool()
    .flatten()
let logits = features.dense(128, activation: .relu).dropout(rate: 0.2).dense(10)
// snippet.end

// snippet.combinators
let tabular = Axon.input("row", shape: [nil, 16])
let wide = tabular.dense(8)
let deep = tabular.dense(32, activation: .relu).dense(8)
let merged = Axon.concatenate([wide, deep])           // [batch, 16]
let refined = merged.residual { $0.dense(16, activation: .relu) }  // x + f(x)
let twoHeads = Axon.container(["score": refined.dense(1), "class": refined.dense(3)])
// snippet.end

// snippet.custom
// Any composition of tensor operations, differentiated like the rest:
let centred = tabular.nx("centre") { x in try x - x.mean(axes: [1], keepDimensions: true) }

// A layer with its own trainable parameters, named so that they save and load:
let scaled = Axon.layer(
    "scale_shift", inputs: [centred],
    parameters: [Axon.param("scale", shape: [16], initializer: .ones), Axon.param("shift", shape: [16], initializer: .zeros)]
) { inputs, context in
    try inputs[0] * context.parameter("scale") + context.parameter("shift")
}
// snippet.end

// snippet.sharing
let encoder = Axon.block("encoder") { $0.dense(32, activation: .relu).dense(8) }
let pair = Axon.container([
    "left": encoder(Axon.input("left", shape: [nil, 64])),
    "right": encoder(Axon.input("right", shape: [nil, 64])),
])
let shared = try pair.build(on: backend).initialize(seed: 0)
print(shared.parameters.names)  // encoder/dense_0.bias, encoder/dense_0.kernel, ... once
print(try pair.graph(.mermaid))  // the graph as Mermaid; .dot for Graphviz
// snippet.end

// snippet.inspect
print(logits)  // the layer table
for layer in try logits.layers() {
    print(layer.name, layer.outputShape.map { "\($0)" } ?? "?", layer.parameters.map(\.name))
}
// snippet.end

// snippet.surgery
// Keep the trained convolution, train only the rest.
let fineTuned = try logits.freeze(where: { $0.kind == "conv" })
// Replace every dropout by its input for an export.
let withoutDropout = try logits.removeNodes(where: { $0.kind == "dropout" })
// snippet.end

// snippet.run
let built = try scaled.build(on: backend)
let variables = try built.initialize(seed: 1)
let rows = try Tensor.full(1, shape: [2, 16], on: backend)
let output = try built.predict(variables, inputs: ["row": rows]).output()
print(output.shape)  // [2, 16]
// snippet.end

// snippet.hide
guard shared.parameters.names.count == 4, output.shape == [2, 16],
    try fineTuned.build(on: backend, mode: .train).frozenParameters.contains("conv_0.kernel"),
    try !withoutDropout.layers().contains(where: { $0.kind == "dropout" }),
    try twoHeads.build(on: backend).outputNames.sorted() == ["class", "score"]
else {
    throw SnippetCheck("a model in the building-models article is not what the article says")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
