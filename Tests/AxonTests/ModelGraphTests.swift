import AxonCore
import Backend
import Testing

@Suite("Model graph: build, init, predict")
struct ModelGraphTests {
    let mlp = Axon.input("features", shape: [nil, 784]).dense(128, activation: .relu).dropout(rate: 0.2).dense(10)

    @Test("an MLP builds, initialises from a seed and predicts")
    func mlpEndToEnd() throws {
        let built = try mlp.build(on: backend, mode: .inference)
        #expect(built.layerNames == ["features", "dense_0", "dropout_0", "dense_1"])
        let state = try built.initialize(seed: 42)
        #expect(state.parameters.names == ["dense_0.bias", "dense_0.kernel", "dense_1.bias", "dense_1.kernel"])
        #expect(try state.parameters.tensor("dense_0.kernel").shape == [784, 128])
        let x = try sample([3, 784], seed: 1)
        let logits = try built.predict(state, inputs: ["features": x]).output()
        #expect(logits.shape == [3, 10])
        // Independently: relu(x·W0 + b0)·W1 + b1, with the dropout off in inference.
        let p = state.parameters
        let hidden = try (x.matmul(p.tensor("dense_0.kernel")) + p.tensor("dense_0.bias")).relu()
        let expected = try hidden.matmul(p.tensor("dense_1.kernel")) + p.tensor("dense_1.bias")
        try expectClose(logits, try expected.scalars, atol: 1e-5)
    }

    @Test("the same seed gives bit-identical parameters; another seed differs")
    func seededInit() throws {
        let built = try mlp.build(on: backend)
        let a = try built.initialize(seed: 7), b = try built.initialize(seed: 7), c = try built.initialize(seed: 8)
        for name in a.parameters.names {
            #expect(try a.parameters.tensor(name).array == b.parameters.tensor(name).array)
        }
        #expect(try a.parameters.tensor("dense_0.kernel").array != c.parameters.tensor("dense_0.kernel").array)
    }

    @Test("user names are kept and duplicates rejected")
    func names() throws {
        let named = Axon.input("x", shape: [nil, 4]).dense(3, name: "hidden").dense(2, name: "logits")
        #expect(try named.build(on: backend).layerNames == ["x", "hidden", "logits"])
        let clash = Axon.input("x", shape: [nil, 4]).dense(3, name: "same").dense(2, name: "same")
        let message = errorMessage { _ = try clash.build(on: backend) }
        #expect(message == "layer 'same' (dense): the name is used by another layer; names must be unique")
    }

    @Test("a node read by several layers runs once per call")
    func sharedNodeRunsOnce() throws {
        let counting = CountingBackend()
        let x = Axon.input("x", shape: [nil, 4])
        let shared = x.dense(4, name: "shared")
        let model = Axon.add([shared.relu(), shared.tanh(), shared.sigmoid()])
        let built = try model.build(on: counting)
        let state = try built.initialize(seed: 0)
        let before = counting.count("matmul")
        _ = try built.predict(state, inputs: ["x": try Tensor.ones(shape: [2, 4], on: counting)])
        #expect(counting.count("matmul") - before == 1)
    }

    @Test("two outputs come back by name")
    func twoOutputs() throws {
        let x = Axon.input("x", shape: [nil, 3])
        let trunk = x.dense(8, activation: .tanh)
        let model = Axon.container(["class": trunk.dense(4).softmax(), "value": trunk.dense(1)])
        let built = try model.build(on: backend)
        let output = try built.predict(try built.initialize(seed: 1), inputs: ["x": try sample([5, 3], seed: 2)])
        #expect(output.names == ["class", "value"])
        #expect(try output.output("class").shape == [5, 4])
        #expect(try output.output("value").shape == [5, 1])
        try expectClose(output.output("class").sum(axes: [1]), [1, 1, 1, 1, 1], atol: 1e-5)
        #expect(throws: AxonError.self) { try output.output() }
    }

    @Test("several inputs")
    func severalInputs() throws {
        let model = Axon.concatenate([Axon.input("a", shape: [nil, 2]), Axon.input("b", shape: [nil, 3])]).dense(1)
        let built = try model.build(on: backend)
        #expect(built.inputs.map(\.name) == ["a", "b"])
        let out = try built.predict(
            try built.initialize(seed: 0), inputs: ["a": try sample([4, 2], seed: 1), "b": try sample([4, 3], seed: 2)])
        #expect(try out.output().shape == [4, 1])
        let message = errorMessage { _ = try built.predict(try built.initialize(seed: 0), inputs: ["a": try sample([4, 2], seed: 1)]) }
        #expect(message == "input 'b': no data given; the model's inputs are: a, b")
    }

    @Test("inference turns dropout off; training drops with the call's key")
    func dropoutModes() throws {
        let model = Axon.input("x", shape: [nil, 100]).dropout(rate: 0.5)
        let x = try Tensor.ones(shape: [2, 100], on: backend)
        let inference = try model.build(on: backend, mode: .inference)
        #expect(try inference.predict(ModelState(parameters: [:]), inputs: ["x": x]).output().scalars == Array(repeating: 1, count: 200))
        let training = try model.build(on: backend, mode: .train)
        let key = Philox.Key(seed: 3)
        let dropped = try training.predict(ModelState(parameters: [:]), inputs: ["x": x], randomKey: key).output().scalars
        #expect(Set(dropped) == [0, 2])
        // The mask is the layer's own stream: the call's key folded with the layer name.
        let expected = try x.dropout(rate: 0.5, key: key.folded(with: "dropout_0")).scalars
        #expect(dropped == expected)
        let again = try training.predict(ModelState(parameters: [:]), inputs: ["x": x], randomKey: key).output().scalars
        #expect(again == dropped)
    }

    @Test("batch norm uses batch statistics and updates running ones in training")
    func batchNormModes() throws {
        let model = Axon.input("x", shape: [nil, 2]).batchNorm(epsilon: 1e-3, momentum: 0.9)
        let x = try tensor([1, 10, 3, 20], [2, 2])
        let training = try model.build(on: backend, mode: .train)
        let state = try training.initialize(seed: 0)
        let output = try training.predict(state, inputs: ["x": x])
        // Batch mean [2, 15], biased variance [1, 25]; running: 0.9·[0, 0] + 0.1·mean, 0.9·[1, 1] + 0.1·var.
        try expectClose(output.state.tensor("batch_norm_0.mean"), [0.2, 1.5])
        try expectClose(output.state.tensor("batch_norm_0.var"), [1.0, 3.4])
        try expectClose(output.output(), [-1 / Float(1.001).squareRoot(), -5 / Float(25.001).squareRoot(), 1 / Float(1.001).squareRoot(), 5 / Float(25.001).squareRoot()], atol: 1e-5)
        let inference = try model.build(on: backend, mode: .inference)
        let updated = ModelState(parameters: state.parameters, state: output.state)
        let y = try inference.predict(updated, inputs: ["x": x])
        try expectClose(y.output(), [(1 - 0.2) / Float(1.001).squareRoot(), (10 - 1.5) / Float(3.401).squareRoot(), (3 - 0.2) / Float(1.001).squareRoot(), (20 - 1.5) / Float(3.401).squareRoot()], atol: 1e-5)
        // Inference leaves the state alone.
        try expectClose(y.state.tensor("batch_norm_0.mean"), [0.2, 1.5])
    }

    @Test("frozen parameters by layer, by name and by freeze() are left out of training")
    func freezing() throws {
        let base = Axon.input("x", shape: [nil, 3]).dense(4).freeze()
        let model = base.dense(2).dense(1)
        let built = try model.build(on: backend, frozen: ["dense_1", "dense_2.bias"])
        #expect(built.frozenParameters == ["dense_0.kernel", "dense_0.bias", "dense_1.kernel", "dense_1.bias", "dense_2.bias"])
        let trainable = built.trainableParameters(try built.initialize(seed: 0))
        #expect(trainable.names == ["dense_2.kernel"])
        #expect(built.description.contains("Trainable parameters: 2"))
        #expect(throws: AxonError.self) { try model.build(on: backend, frozen: ["nothing"]) }
    }

    @Test("composing models keeps each model's parameters under its name")
    func composition() throws {
        let encoder = Axon.input("pixels", shape: [nil, 6]).dense(3, activation: .tanh).namespace("encoder")
        let decoder = Axon.input("code", shape: [nil, 3]).dense(6).namespace("decoder")
        let autoencoder = decoder(encoder)
        let built = try autoencoder.build(on: backend)
        #expect(built.layerNames == ["pixels", "encoder/dense_0", "decoder/dense_0"])
        let state = try built.initialize(seed: 0)
        #expect(state.parameters.names == ["decoder/dense_0.bias", "decoder/dense_0.kernel", "encoder/dense_0.bias", "encoder/dense_0.kernel"])
        let x = try sample([2, 6], seed: 4)
        let y = try built.predict(state, inputs: ["pixels": x]).output()
        let p = state.parameters
        let code = try (x.matmul(p.tensor("encoder/dense_0.kernel")) + p.tensor("encoder/dense_0.bias")).tanh()
        try expectClose(y, try (code.matmul(p.tensor("decoder/dense_0.kernel")) + p.tensor("decoder/dense_0.bias")).scalars, atol: 1e-6)
    }

    @Test("the summary lists each layer once, in execution order, with totals")
    func summary() throws {
        let x = Axon.input("image", shape: [nil, 8, 8, 3])
        let stem = x.conv(4, kernelSize: [3], padding: .same, activation: .relu)
        let model = stem.residual { $0.conv(4, kernelSize: [3], padding: .same).batchNorm() }.globalAvgPool().dense(2)
        let text = model.description
        let lines = text.split(separator: "\n").map(String.init)
        let layerRows = lines.filter { !$0.hasPrefix("─") && !$0.hasPrefix("Layer") && !$0.contains("parameters") }
        #expect(layerRows.map { $0.split(separator: " ")[0] } == ["image", "conv_0", "conv_1", "batch_norm_0", "add_0", "global_avg_pool_0", "dense_0"])
        #expect(lines.contains { $0.hasPrefix("conv_0") && $0.contains("[nil, 8, 8, 4]") && $0.contains("112") && $0.hasSuffix("image") })
        #expect(lines.contains { $0.hasPrefix("add_0") && $0.hasSuffix("conv_0, batch_norm_0") })
        // conv: 3·3·3·4 + 4 = 112 and 3·3·4·4 + 4 = 148; batch norm 4 + 4 trainable, 8 state; dense 4·2 + 2 = 10.
        #expect(text.contains("Total parameters: 286"))
        #expect(text.contains("Trainable parameters: 278"))
        #expect(text.contains("Non-trainable parameters: 8"))
        #expect(try model.build(on: backend).description == text)
    }
}
