import AxonCore
import Backend
import Foundation

/// Cases for everything built on the backend: layers, activations, losses, metrics,
/// initializers, optimizer transformations, named optimizers and schedules. Each runs through
/// the library on the backend under test and returns host arrays.
public enum LibraryCases {
    static func input(_ shape: [Int], _ seed: UInt64, _ backend: any Backend, low: Float = -1, high: Float = 1) throws -> Tensor {
        try Tensor(InputSpec.uniform(shape: shape, seed: seed, low: low, high: high).make(), on: backend)
    }

    static func library(_ name: String, _ covers: [String], _ opClass: OpClass, _ body: @escaping @Sendable (any Backend) throws -> [HostArray]) -> ConformanceCase {
        ConformanceCase(name, covers: covers, opClass: opClass, body: .library(body))
    }

    /// A model of one layer (or a small graph) on a seeded input, in the given mode.
    static func layer(_ name: String, covers: [String], input shape: [Int], mode: Mode = .inference, opClass: OpClass = .linearAlgebra,
                      _ graph: @escaping @Sendable (Axon) -> Axon) -> ConformanceCase {
        library("layer \(name)", covers.map { "layer.\($0)" }, opClass) { backend in
            let model = graph(Axon.input("x", shape: [nil] + shape.dropFirst().map { $0 }))
            let built = try model.build(on: backend, mode: mode)
            let output = try built.predict(try built.initialize(seed: 3), inputs: ["x": try input(shape, 4, backend)], randomKey: Philox.Key(seed: 5))
            return try output.names.map { try output.output($0).array } + output.state.map { try $0.tensor.array }
        }
    }

    /// One case per layer builder.
    public static var layers: [ConformanceCase] {
        [
            layer("dense", covers: ["dense"], input: [4, 6]) { $0.dense(5, activation: .gelu()) },
            layer("conv 2-d same strided", covers: ["conv"], input: [2, 7, 7, 3]) { $0.conv(4, strides: [2], padding: .same, activation: .relu) },
            layer("conv 1-d channels first", covers: ["conv"], input: [2, 3, 9]) { $0.conv(2, kernelSize: [3], dilation: [2], channels: .first) },
            layer("conv transpose 2-d strided, explicit padding", covers: ["convTranspose"], input: [2, 4, 3, 4]) {
                $0.convTranspose(3, kernelSize: [3, 2], strides: [2, 2], padding: .explicit([Padding(1, 1), Padding(0, 1)]), outputPadding: [1, 0], activation: .relu)
            },
            layer("conv transpose 1-d same, grouped, channels first", covers: ["convTranspose"], input: [2, 4, 5]) {
                $0.convTranspose(6, kernelSize: [4], strides: [3], padding: .same, dilation: [2], groups: 2, channels: .first, activation: .tanh)
            },
            layer("depthwise conv", covers: ["depthwiseConv"], input: [2, 6, 5, 3]) {
                $0.depthwiseConv(channelMultiplier: 2, kernelSize: [3], strides: [2, 1], padding: .same, activation: .relu)
            },
            layer("separable conv 2-d and 3-d", covers: ["separableConv"], input: [2, 5, 6, 2]) {
                Axon.concatenate([
                    $0.separableConv(channelMultiplier: 2, kernelSize: [3, 2], padding: .same).flatten(),
                    $0.reshape([5, 6, 2, 1]).separableConv(kernelSize: [2], strides: [2]).flatten(),
                ])
            },
            layer("resize every method", covers: ["resize"], input: [2, 5, 4, 3], opClass: .reduction) { x in
                Axon.concatenate(ResizeMethod.allCases.map { x.resize([7, 3], method: $0).flatten() }
                                 + [x.resize([3, 6], method: .linear, alignCorners: true).flatten(), x.resize([2, 2], method: .cubic, antialias: false).flatten()])
            },
            library("layer attention", ["layer.dotProductAttention", "layer.multiHeadAttention", "layer.additiveAttention"], .reduction) { backend in
                let (query, memory) = (Axon.input("query", shape: [nil, 4, 6]), Axon.input("memory", shape: [nil, 5, 6]))
                let mask = Axon.input("mask", shape: [nil, 1, 1, 5])
                let heads = Axon.multiHeadAttention(query: query, value: memory, mask: mask, heads: 2, keyDimension: 3, outputDimension: 6, dropout: 0.2)
                let model = Axon.container([
                    "dot": Axon.dotProductAttention(query: query, key: memory, value: memory, causal: true, dropout: 0.3),
                    "heads": heads.output, "weights": heads.weights,
                    "additive": Axon.additiveAttention(query: query, value: memory, causal: true),
                ])
                let built = try model.build(on: backend, mode: .train)
                let inputs = [
                    "query": try input([2, 4, 6], 6, backend), "memory": try input([2, 5, 6], 7, backend),
                    "mask": try input([2, 1, 1, 5], 8, backend, low: -3, high: 0),
                ]
                let output = try built.predict(try built.initialize(seed: 9), inputs: inputs, randomKey: Philox.Key(seed: 10))
                return try ["dot", "heads", "weights", "additive"].map { try output.output($0).array }
            },
            library("layer lstm over padded tokens with lengths from the padding", ["layer.sequenceLengths", "layer.lstm"], .reduction) { backend in
                let ids = Axon.input("tokens", shape: [nil, 5], dtype: .int32)
                let model = ids.embedding(vocabularySize: 7, features: 3).lstm(4, lengths: ids.sequenceLengths(), name: "lstm").sequence
                let built = try model.build(on: backend)
                let tokens = try Tensor(integers: [1, 2, 3, 0, 0, 6, 5, 4, 3, 2, 4, 0, 0, 0, 0], shape: [3, 5], on: backend)
                return [try built.predict(try built.initialize(seed: 16), inputs: ["tokens": tokens]).output().array]
            },
            layer("conv LSTM 2-d, strided, reverse", covers: ["convLSTM"], input: [2, 3, 5, 4, 2], mode: .train, opClass: .reduction) {
                $0.convLSTM(3, kernelSize: [3, 2], strides: [2, 1], reverse: true, recurrentDropout: 0.2).sequence
            },
            library("layer constant, bias, bilinear and cond", ["layer.constant", "layer.bias", "layer.bilinear", "layer.cond"], .elementwise) { backend in
                let offsets = try HostArray(shape: [3], elements: .float32([1, -2, 0.5]))
                let x = Axon.input("x", shape: [nil, 3])
                let shifted = Axon.layer("shift", inputs: [x.bias(initializer: .uniform()), Axon.constant(offsets)]) { inputs, _ in try inputs[0] + inputs[1] }
                let model = Axon.cond(x, { try $0.sum().item() > 0 }, then: Axon.bilinear(shifted, x, units: 2), else: x.dense(2))
                let built = try model.build(on: backend)
                return [try built.predict(try built.initialize(seed: 17), inputs: ["x": try input([2, 3], 18, backend)]).output().array]
            },
            library("recurrent dynamic loop and static unroll, values and gradients", ["layer.recurrentUnroll"], .reduction) { backend in
                // The backend's whole-sequence op and the per-step graph, each against the
                // reference backend's; the two agree with each other through it.
                var results: [HostArray] = []
                for cell in [RecurrentCell.lstm, .gru(resetAfter: true), .simple] {
                    let width = cell.gates * 3
                    var parameters = ParameterStore()
                    parameters["x"] = try input([2, 4, 3], 16, backend)
                    parameters["kernel"] = try input([3, width], 17, backend)
                    parameters["recurrent"] = try input([3, width], 18, backend)
                    for unroll in [false, true] {
                        let (value, gradients) = try valueAndGradient(at: parameters) { p in
                            let weights = RecurrentWeights(
                                kernel: try p.tensor("kernel"), recurrentKernel: try p.tensor("recurrent"), bias: try input([width], 19, backend),
                                recurrentBias: cell == .gru(resetAfter: true) ? try input([width], 20, backend) : nil)
                            let result = try Layers.recurrent(cell, try p.tensor("x"), weights: weights, reverse: true, unroll: unroll)
                            return try result.sequence.square().sum(axes: [0, 1, 2]) + result.states[0].sum(axes: [0, 1])
                        }
                        results += [try value.array] + (try ["x", "kernel", "recurrent"].map { try gradients.tensor($0).array })
                    }
                }
                return results
            },
            library("layer recurrent options", ["layer.lstm", "layer.gru", "layer.simpleRNN", "layer.bidirectional"], .reduction) { backend in
                let x = Axon.input("x", shape: [nil, 5, 3])
                let (lengths, h0, c0) = (Axon.input("lengths", shape: [nil], dtype: .int32), Axon.input("h0", shape: [nil, 4]), Axon.input("c0", shape: [nil, 4]))
                let lstm = x.lstm(4, lengths: lengths, initialStates: [h0, c0], reverse: true, recurrentDropout: 0.3)
                let gru = x.gru(4, resetAfter: false, lengths: lengths, initialStates: [h0])
                let rnn = x.simpleRNN(4, activation: .relu)
                let both = x.bidirectional(merge: .sum) { input, reverse in input.gru(4, reverse: reverse) }
                let model = Axon.container([
                    "lstm": lstm.sequence, "lstm_c": lstm.states[1], "gru": gru.last, "rnn": rnn.sequence, "both": both.sequence,
                ])
                let built = try model.build(on: backend, mode: .train)
                let inputs = [
                    "x": try input([2, 5, 3], 11, backend), "h0": try input([2, 4], 12, backend), "c0": try input([2, 4], 13, backend),
                    "lengths": try Tensor(integers: [5, 3], shape: [2], on: backend),
                ]
                let output = try built.predict(try built.initialize(seed: 14), inputs: inputs, randomKey: Philox.Key(seed: 15))
                return try ["lstm", "lstm_c", "gru", "rnn", "both"].map { try output.output($0).array }
            },
            layer("max pool", covers: ["maxPool"], input: [2, 6, 6, 2], opClass: .reduction) { $0.maxPool(kernelSize: [3], strides: [2], padding: .same) },
            layer("avg pool", covers: ["avgPool"], input: [2, 6, 6, 2], opClass: .reduction) { $0.avgPool(padding: .same) },
            layer("avg pool counting padding", covers: ["avgPool"], input: [2, 5, 5, 2], opClass: .reduction) {
                $0.avgPool(kernelSize: [3], strides: [2], padding: .same, countPadding: true)
            },
            layer("lp pools", covers: ["lpPool", "globalLpPool"], input: [2, 6, 5, 3], opClass: .reduction) {
                Axon.concatenate([$0.lpPool(norm: 2, kernelSize: [2], padding: .same).globalMaxPool(), $0.globalLpPool(norm: 4)])
            },
            layer("adaptive pools", covers: ["adaptiveAvgPool", "adaptiveMaxPool", "adaptiveLpPool"], input: [2, 7, 5, 3], opClass: .reduction) {
                Axon.concatenate([$0.adaptiveAvgPool(outputSize: [3, 4]), $0.adaptiveMaxPool(outputSize: [3, 4]), $0.adaptiveLpPool(norm: 2, outputSize: [3, 4])])
            },
            layer("global pools", covers: ["globalAvgPool", "globalMaxPool"], input: [2, 5, 5, 3], opClass: .reduction) {
                Axon.concatenate([$0.globalAvgPool(), $0.globalMaxPool()])
            },
            layer("batch norm training", covers: ["batchNorm"], input: [4, 3, 3, 2], mode: .train, opClass: .reduction) { $0.batchNorm(momentum: 0.9) },
            layer("batch norm inference", covers: ["batchNorm"], input: [4, 3, 3, 2], opClass: .reduction) { $0.batchNorm() },
            layer("layer norm", covers: ["layerNorm"], input: [4, 7], opClass: .reduction) { $0.layerNorm() },
            layer("layer norm over two trailing axes, no offset", covers: ["layerNorm"], input: [3, 4, 5], opClass: .reduction) {
                $0.layerNorm(axisCount: 2, center: false)
            },
            layer("group norm", covers: ["groupNorm"], input: [2, 3, 4, 6], opClass: .reduction) { $0.groupNorm(groups: 3) },
            layer("instance norm channels first", covers: ["instanceNorm"], input: [2, 3, 4, 5], opClass: .reduction) {
                $0.instanceNorm(channels: .first)
            },
            layer("dropout training", covers: ["dropout"], input: [4, 10], mode: .train, opClass: .elementwise) { $0.dropout(rate: 0.4) },
            layer("structured dropouts training", covers: ["spatialDropout", "alphaDropout", "featureAlphaDropout"], input: [2, 5, 5, 4],
                  mode: .train, opClass: .elementwise) {
                Axon.concatenate([$0.spatialDropout(rate: 0.5), $0.alphaDropout(rate: 0.3), $0.featureAlphaDropout(rate: 0.5)])
            },
            layer("drop block training", covers: ["dropBlock"], input: [2, 7, 6, 3], mode: .train, opClass: .elementwise) {
                $0.dropBlock(rate: 0.3, blockSize: 3)
            },
            layer("activation layers", covers: ["activation", "relu", "sigmoid", "tanh", "softmax", "logSoftmax"], input: [3, 5], opClass: .elementwise) {
                Axon.concatenate([$0.relu(), $0.sigmoid(), $0.tanh(), $0.softmax(), $0.logSoftmax(), $0.activation(.mish)])
            },
            layer("merges", covers: ["add", "subtract", "multiply", "concatenate", "residual", "split"], input: [3, 6], opClass: .elementwise) { x in
                let halves = x.split(2)
                return Axon.concatenate([halves[0].add(halves[1]), halves[0].subtract(halves[1]), Axon.multiply(halves), x.residual { $0.tanh() }])
            },
            library("model shared block: both towers and the gradients of their one set of parameters", ["model.block"], .linearAlgebra) { backend in
                let encoder = Axon.block("encoder") { $0.dense(3, activation: .tanh).dense(2) }
                let model = Axon.container([
                    "left": encoder(Axon.input("left", shape: [nil, 4])), "right": encoder(Axon.input("right", shape: [nil, 4])),
                ])
                let built = try model.build(on: backend)
                let variables = try built.initialize(seed: 3)
                let inputs = ["left": try input([3, 4], 4, backend), "right": try input([3, 4], 5, backend)]
                let (_, gradients) = try valueAndGradient(at: variables.parameters) { parameters in
                    let output = try built.predict(ModelState(parameters: parameters), inputs: inputs)
                    return try output.output("left").square().sum() + (try output.output("right") * 3).sum()
                }
                let output = try built.predict(variables, inputs: inputs)
                return try [output.output("left").array, output.output("right").array] + gradients.map { try $0.tensor.array }
            },
            library("model hooks: a layer's output and the gradient reaching it", ["model.hook"], .linearAlgebra) { backend in
                let seen = HookCapture()
                let model = Axon.input("x", shape: [nil, 4]).dense(3, activation: .tanh)
                    .hook(.forward) { _, value in seen.append(try value.array) }
                    .hook(.backward) { _, gradient in seen.append(try gradient.array) }
                    .dense(2)
                let built = try model.build(on: backend)
                let variables = try built.initialize(seed: 3)
                let inputs = ["x": try input([3, 4], 4, backend)]
                _ = try valueAndGradient(at: variables.parameters) { parameters in
                    try built.predict(ModelState(parameters: parameters), inputs: inputs).output().square().sum()
                }
                return seen.arrays
            },
            library("trainer with dynamic loss scaling: parameters and the grown scale after six steps", ["training.lossScaling"], .training) { backend in
                let model = Axon.input("features", shape: [nil, 3]).dense(4, activation: .tanh).dense(1)
                let features = try InputSpec.uniform(shape: [8, 3], seed: 6, low: -1, high: 1).make()
                let targets = try HostArray(shape: [8, 1], elements: .float32(features.elements.floats.enumerated().compactMap { $0.offset % 3 == 0 ? $0.element : nil }))
                let loop = try Loop.trainer(
                    model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend, seed: 2,
                    lossScaling: .dynamic(initial: 1_048_576, growthInterval: 2))
                let final = try loop.run(try Dataset(features: features, labels: targets).batches(size: 4, on: backend), epochs: 3, iterations: 2)
                let scale = final.stepState.optimizer.hyperparameters[LossScaling.scaleKey] ?? 0
                return try final.stepState.model.parameters.map { try $0.tensor.array } + [HostArray(shape: [1], elements: .float32([scale]))]
            },
            library("trainer with two outputs, weighted losses and named targets: parameters after four steps", ["training.multiOutput"], .training) { backend in
                let trunk = Axon.input("x", shape: [nil, 3]).dense(5, activation: .tanh)
                let model = Axon.container(["value": trunk.dense(1), "class": trunk.dense(3)])
                let features = try InputSpec.uniform(shape: [8, 3], seed: 7, low: -1, high: 1).make()
                let values = features.elements.floats.enumerated().compactMap { $0.offset % 3 == 1 ? $0.element : nil }
                let data = try NamedDataset(
                    inputs: ["x": features],
                    targets: ["value": HostArray(shape: [8, 1], elements: .float32(values)),
                              "class": HostArray(shape: [8], elements: .int32((0..<8).map { Int32($0 % 3) }))])
                let loop = try Loop.trainer(
                    model: model, losses: ["value": .meanSquaredError, "class": .categoricalCrossEntropy(fromLogits: true, sparse: true)],
                    weights: ["class": 0.5], optimizer: .sgd(learningRate: 0.2), on: backend, seed: 3)
                let final = try loop.run(try data.batches(size: 4, on: backend), epochs: 2)
                return try final.stepState.model.parameters.map { try $0.tensor.array }
            },
            library("layer optional inputs, stacked columns and nx functions", ["layer.optionalInput", "layer.optional", "layer.stackColumns", "layer.nx"], .reduction) { backend in
                let tokens = Axon.input("tokens", shape: [nil, 3, 4])
                let mask = Axon.optionalInput("mask", shape: [nil, 1, 3])
                let columns = Axon.stackColumns([Axon.input("a", shape: [nil]), Axon.input("b", shape: [nil, 1])])
                let model = Axon.container([
                    "attended": Axon.dotProductAttention(query: tokens, key: tokens, value: tokens, mask: mask.optional()),
                    "columns": columns.nx("softsign") { x in try x / (x.abs() + 1) },
                ])
                let built = try model.build(on: backend)
                var inputs = ["tokens": try input([2, 3, 4], 4, backend), "a": try input([2], 5, backend), "b": try input([2, 1], 6, backend)]
                let without = try built.predict(ModelState(parameters: [:]), inputs: inputs)
                inputs["mask"] = try Tensor(HostArray(shape: [2, 1, 3], elements: .float32([0, -1e9, 0, 0, 0, -1e9])), on: backend)
                let with = try built.predict(ModelState(parameters: [:]), inputs: inputs)
                return try [without.output("attended").array, with.output("attended").array, with.output("columns").array]
            },
            library("layers told their axes by name", ["model.namedAxes"], .reduction) { backend in
                let frames = Axon.input("frames", shape: [nil, 4, 3], axes: ["batch", "time", "features"])
                let model = Axon.concatenate(
                    [frames.softmax(axis: "time").transpose(["features", "time"]), frames.batchNorm(axis: "time").transpose(["features", "time"])],
                    axis: "time"
                ).take(1, axis: "features")
                let built = try model.build(on: backend, mode: .train)
                return [try built.predict(try built.initialize(seed: 3), inputs: ["frames": try input([2, 4, 3], 7, backend)]).output().array]
            },
            layer("shape layers", covers: ["reshape", "flatten", "transpose", "pad", "take"], input: [2, 3, 4], opClass: .exact) {
                Axon.concatenate([
                    $0.transpose([1, 0]).pad([Padding(1, 0), Padding(0, 1)], value: 2).reshape([5, 4]).flatten(),
                    $0.take(-1, axis: 0).flatten(), $0.take(1, axis: 1),
                ])
            },
            library("layer embedding", ["layer.embedding"], .exact) { backend in
                let built = try Axon.input("x", shape: [nil, 3], dtype: .int32).embedding(vocabularySize: 5, features: 4).build(on: backend)
                let ids = try Tensor(InputSpec.indices(shape: [2, 3], seed: 6, upper: 5).make(), on: backend)
                return [try built.predict(try built.initialize(seed: 1), inputs: ["x": ids]).output().array]
            },
            library("custom layer", ["layer.layer", "layer.param"], .elementwise) { backend in
                let model = Axon.layer("affine", inputs: [Axon.input("x", shape: [nil, 3])],
                                       parameters: [Axon.param("scale", shape: [3], initializer: .normal()), Axon.param("shift", shape: [3])]) { inputs, context in
                    try inputs[0] * context.parameter("scale") + context.parameter("shift")
                }
                let built = try model.build(on: backend)
                return [try built.predict(try built.initialize(seed: 2), inputs: ["x": try input([2, 3], 7, backend)]).output().array]
            },
        ]
    }

    /// Every activation on the same input.
    public static var activations: [ConformanceCase] {
        Activation.all.map { activation in
            library("activation \(activation.name)", ["activation.\(activation.name)"], .elementwise) { backend in
                [try activation.apply(try input([3, 17], 8, backend, low: -4, high: 4)).array]
            }
        }
    }

    /// Every loss, some against values recorded from PyTorch.
    public static var losses: [ConformanceCase] {
        typealias LossFunction = @Sendable (Tensor, Tensor) throws -> Tensor
        let pairs: [(String, LossFunction)] = [
            ("categoricalCrossEntropy", { y, p in try Losses.categoricalCrossEntropy(y.softmax(), p.softmax(), labelSmoothing: 0.1) }),
            ("binaryCrossEntropy", { y, p in try Losses.binaryCrossEntropy(y.sigmoid(), p, fromLogits: true) }),
            ("meanSquaredError", { try Losses.meanSquaredError($0, $1) }),
            ("meanAbsoluteError", { try Losses.meanAbsoluteError($0, $1) }),
            ("hinge", { y, p in try Losses.hinge(y.sign(), p) }),
            ("categoricalHinge", { y, p in try Losses.categoricalHinge(Losses.oneHot(y.argmax(), classes: 6), p) }),
            ("klDivergence", { y, p in try Losses.klDivergence(y.softmax(), p.softmax()) }),
            ("logCosh", { try Losses.logCosh($0, $1) }),
            ("poisson", { y, p in try Losses.poisson(y.abs(), p.exp()) }),
            ("softMargin", { y, p in try Losses.softMargin(y.sign(), p) }),
            ("marginRanking", { y, p in try Losses.marginRanking(y.sign(), p, y, margin: 0.1) }),
            ("cosineSimilarity", { try Losses.cosineSimilarity($0, $1) }),
            ("huber", { try Losses.huber($0, $1, delta: 0.5) }),
            ("oneHot", { y, _ in try Losses.oneHot(y.argmax(), classes: 6).sum() }),
        ]
        return pairs.map { name, loss in
            library("loss \(name)", ["loss.\(name)"], .reduction) { backend in
                [try loss(try input([5, 6], 9, backend), try input([5, 6], 10, backend)).array]
            }
        } + [
            library("loss connectionistTemporalClassification and its gradient", ["loss.connectionistTemporalClassification"], .gradient) { backend in
                let labels = try Tensor(integers: [1, 3, 3, 2, 2, 0, 4, 4, 4], shape: [3, 3], on: backend)
                let (value, slope) = try valueAndGradient(at: try input([3, 8, 5], 11, backend, low: -2, high: 2)) { logits in
                    try Losses.connectionistTemporalClassification(logits: logits, labels: labels, inputLengths: [8, 6, 7], labelLengths: [3, 2, 3])
                }
                return [try value.array, try slope.array]
            },
        ]
    }

    /// Every metric.
    public static var metrics: [ConformanceCase] {
        let all: [(String, Metric)] = [
            ("accuracy", .accuracy()), ("topKCategoricalAccuracy", .topKCategoricalAccuracy(k: 2)), ("meanSquaredError", .meanSquaredError),
            ("meanAbsoluteError", .meanAbsoluteError), ("precision", .precision()), ("recall", .recall()), ("sensitivity", .sensitivity()),
            ("specificity", .specificity()), ("truePositives", .truePositives()), ("falsePositives", .falsePositives()),
            ("trueNegatives", .trueNegatives()), ("falseNegatives", .falseNegatives()),
        ]
        return all.map { name, metric in
            library("metric \(name)", ["metric.\(name)", "metric.custom"], .reduction) { backend in
                var running = metric
                var custom = Metric.custom("mean") { _, p in try p.mean() }
                for seed in [UInt64(11), 12] {
                    let binary = ["accuracy", "precision", "recall", "sensitivity", "specificity"].contains(name) || name.hasSuffix("Positives") || name.hasSuffix("Negatives")
                    let shape = binary ? [8, 1] : [8, 5]
                    let y = try input(shape, seed, backend, low: 0, high: 1), p = try input(shape, seed + 10, backend, low: 0, high: 1)
                    try running.update(yTrue: y, yPred: p)
                    try custom.update(yTrue: y, yPred: p)
                }
                return [try HostArray(shape: [2], elements: .float32([Float(running.value), Float(custom.value)]))]
            }
        }
    }

    /// Every initializer (bit-exact: the same seed gives the same values everywhere).
    public static var initializers: [ConformanceCase] {
        let all: [(String, Initializer)] = [
            ("zeros", .zeros), ("ones", .ones), ("full", .full(0.5)), ("uniform", .uniform()), ("normal", .normal()),
            ("glorotUniform", .glorotUniform), ("glorotNormal", .glorotNormal), ("heUniform", .heUniform), ("heNormal", .heNormal),
            ("lecunUniform", .lecunUniform), ("lecunNormal", .lecunNormal),
            ("varianceScaling", .varianceScaling(scale: 2, mode: .fanOut, distribution: .untruncatedNormal)),
            ("identity", .identity(gain: 2)), ("orthogonal", .orthogonal()), ("blocks", .blocks([.orthogonal(), .ones])),
        ]
        return all.map { name, initializer in
            library("initializer \(name)", ["initializer.\(name)"], .exact) { backend in
                [try initializer.tensor(shape: [6, 4], key: Philox.Key(seed: 13).folded(with: "w"), on: backend).array]
            }
        }
    }

    /// Three steps of a transformation on two parameters; returns every update.
    static func steps(_ transformation: GradientTransformation, _ backend: any Backend) throws -> [HostArray] {
        let parameters: ParameterStore = ["a": try input([3, 4], 14, backend), "b": try input([4], 15, backend)]
        var state = try transformation.initialize(parameters)
        var outputs: [HostArray] = []
        for step in 0..<3 {
            let gradients: ParameterStore = ["a": try input([3, 4], 16 + UInt64(step), backend), "b": try input([4], 20 + UInt64(step), backend)]
            let (updates, next) = try transformation.update(gradients, state, parameters)
            outputs += try updates.map { try $0.tensor.array }
            state = next
        }
        return outputs
    }

    /// Every gradient transformation.
    public static var transformations: [ConformanceCase] {
        let all: [(String, GradientTransformation)] = [
            ("scale", scale(0.5)), ("scaleByLearningRate", scaleByLearningRate(0.1)), ("scaleBySchedule", scaleBySchedule(.cosineDecay(from: 1, decaySteps: 3))),
            ("scaleByAdam", scaleByAdam()), ("scaleByRss", scaleByRss()), ("scaleByRms", scaleByRms()), ("scaleByStddev", scaleByStddev()),
            ("scaleByBelief", scaleByBelief()), ("scaleByRadam", scaleByRadam()), ("scaleByYogi", scaleByYogi()),
            ("scaleByTrustRatio", scaleByTrustRatio()), ("trace", trace(decay: 0.9, nesterov: true)), ("clip", clip(0.3)),
            ("clipByGlobalNorm", clipByGlobalNorm(1)), ("centralize", centralize()), ("addDecayedWeights", addDecayedWeights(0.1)),
            ("addNoise", addNoise(eta: 0.01, gamma: 0.55, seed: 1)), ("accumulateGradients", accumulateGradients(every: 2, scaleByAdam())),
            ("chain", chain(clip(0.5), scaleByAdam())),
        ]
        return all.map { name, transformation in
            library("transformation \(name)", ["transformation.\(name)"], .elementwise) { backend in try steps(transformation, backend) }
        }
    }

    /// Every named optimizer, some against trajectories recorded from optax.
    public static var optimizers: [ConformanceCase] {
        let all: [(String, @Sendable () throws -> Optimizer)] = [
            ("sgd", { try .sgd(learningRate: 0.1, momentum: 0.9) }), ("adam", { try .adam(learningRate: 0.01) }), ("adamw", { try .adamw(learningRate: 0.01) }),
            ("adabelief", { try .adabelief(learningRate: 0.01) }), ("adagrad", { try .adagrad(learningRate: 0.1) }), ("rmsprop", { try .rmsprop(learningRate: 0.01, centered: true) }),
            ("radam", { try .radam(learningRate: 0.01) }), ("yogi", { try .yogi(learningRate: 0.01) }), ("lamb", { try .lamb(learningRate: 0.01) }),
            ("noisySgd", { try .noisySgd(learningRate: 0.01) }), ("fromage", { try .fromage(learningRate: 0.01) }),
        ]
        var cases = all.map { name, makeOptimizer in
            library("optimizer \(name)", ["optimizer.\(name)"], .elementwise) { backend in
                let optimizer = try makeOptimizer()
                var parameters: ParameterStore = ["a": try input([3, 4], 14, backend), "b": try input([4], 15, backend)]
                var state = try optimizer.initialize(parameters)
                for step in 0..<3 {
                    let gradients: ParameterStore = ["a": try input([3, 4], 16 + UInt64(step), backend), "b": try input([4], 20 + UInt64(step), backend)]
                    (parameters, state) = try optimizer.step(parameters: parameters, gradients: gradients, state: state)
                }
                return try parameters.map { try $0.tensor.array }
            }
        }
        cases.append(library("optimizer by name", ["optimizer.named"], .elementwise) { backend in
            let optimizer = try Optimizer.named("adam", learningRate: 0.01)
            let parameters: ParameterStore = ["a": try input([3], 14, backend)]
            let (updated, _) = try optimizer.step(parameters: parameters, gradients: ["a": try input([3], 16, backend)], state: try optimizer.initialize(parameters))
            return [try updated.tensor("a").array]
        })
        return cases
    }

    /// Every schedule.
    public static var schedules: [ConformanceCase] {
        let all: [(String, Schedule)] = [
            ("constant", .constant(0.1)), ("polynomialDecay", .polynomialDecay(from: 1, to: 0.1, power: 2, transitionSteps: 10)),
            ("linearDecay", .linearDecay(from: 1, to: 0, transitionSteps: 10)),
            ("exponentialDecay", .exponentialDecay(from: 1, decayRate: 0.5, transitionSteps: 3, staircase: true)),
            ("cosineDecay", .cosineDecay(from: 1, decaySteps: 10, alpha: 0.1)),
            ("warmup", .warmup(to: 1, steps: 3, then: .cosineDecay(from: 1, decaySteps: 10))),
        ]
        return all.map { name, schedule in
            library("schedule \(name)", ["schedule.\(name)"], .exact) { _ in
                [try HostArray(shape: [15], elements: .float32((0..<15).map { schedule($0) }))]
            }
        }
    }

    /// Every library case.
    public static var all: [ConformanceCase] {
        layers + activations + losses + metrics + initializers + transformations + optimizers + schedules
    }
}

/// What hooks in a case saw, in order.
final class HookCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [HostArray] = []
    func append(_ array: HostArray) { lock.withLock { seen.append(array) } }
    var arrays: [HostArray] { lock.withLock { seen } }
}
