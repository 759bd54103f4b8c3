// The README's library example, compiled and run with only the imports it shows.
import AxonCore
import AxonInterop
import CPUReference
import Foundation
import Testing

@Suite("README examples")
struct ReadmeExampleTests {
    @Test("the quick library example runs and its gradient has the weight's shape")
    func quickExample() throws {
        ReferenceBackend.register()
        let backend = try BackendRegistry.shared.resolve("reference")

        let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: backend)
        let w = try Initializer.glorotUniform.tensor(shape: [2, 3], key: Philox.Key(seed: 42), on: backend)

        let (loss, gradients) = try valueAndGradient(at: ["w": w]) { p in
            try x.dense(weight: p.tensor("w"), activation: .relu).square().mean()
        }
        #expect(try loss.item() >= 0)
        #expect(try gradients.tensor("w").shape == [2, 3])
    }

    @Test("the named-axes example carries the names to the transposed output")
    func namedAxesExample() throws {
        let frames = Axon.input("frames", shape: [nil, 50, 40], axes: ["batch", "time", "features"])
        let attended = frames.dense(64).softmax(axis: "time")  // [batch: nil, time: 50, features: 64]
        let swapped = attended.transpose(["features", "time"])  // [batch: nil, features: 64, time: 50]
        #expect(attended.description.contains("[batch: nil, time: 50, features: 64]"))
        #expect(swapped.description.contains("[batch: nil, features: 64, time: 50]"))
    }

    @Test("the weight-sharing example builds one set of encoder parameters")
    func weightSharingExample() throws {
        ReferenceBackend.register()
        let backend = try BackendRegistry.shared.resolve("reference")

        let encoder = Axon.block("encoder") { $0.dense(32, activation: .relu).dense(8) }
        let pair = Axon.container([
            "left": encoder(Axon.input("left", shape: [nil, 64])),
            "right": encoder(Axon.input("right", shape: [nil, 64])),
        ])
        let shared = try pair.build(on: backend).initialize(seed: 0)
        #expect(shared.parameters.names == ["encoder/dense_0.bias", "encoder/dense_0.kernel", "encoder/dense_1.bias", "encoder/dense_1.kernel"])
        #expect(try pair.graph(.mermaid).contains("encoder[1]/dense_1"))
    }

    @Test("the multi-output example trains both heads")
    func multiOutputExample() throws {
        ReferenceBackend.register()
        let backend = try BackendRegistry.shared.resolve("reference")
        let pixels = try sample([8, 784], seed: 1).array
        let digits = try HostArray(shape: [8], elements: .int32((0..<8).map { Int32($0) }))
        let parities = try HostArray(shape: [8], elements: .int32((0..<8).map { Int32($0 % 2) }))

        let trunk = Axon.input("image", shape: [nil, 784]).dense(128, activation: .relu)
        let heads = Axon.container(["digit": trunk.dense(10), "even": trunk.dense(2)])
        let data = try NamedDataset(inputs: ["image": pixels], targets: ["digit": digits, "even": parities])
        let multi = try Loop.trainer(
            model: heads, losses: ["digit": .categoricalCrossEntropy(fromLogits: true, sparse: true),
                                   "even": .categoricalCrossEntropy(fromLogits: true, sparse: true)],
            weights: ["even": 0.5], optimizer: .adam(learningRate: 1e-3), on: backend)
            .metric(Metric.accuracy().on("digit"))
        let final = try multi.run(try data.batches(size: 64, shuffle: true, seed: 1, on: backend), epochs: 2)
        #expect(final.history.last?["digit_accuracy"] != nil)
    }

    @Test("the interchange example writes files that load back")
    func interchangeExample() throws {
        ReferenceBackend.register()
        let backend = try BackendRegistry.shared.resolve("reference")
        let directory = try EcosystemReaders.scratchDirectory("readme")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = Axon.input("features", shape: [nil, 4]).dense(3, activation: .relu).dense(2)
        let trained = try model.build(on: backend).initialize(seed: 1)
        let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend)

        try Safetensors.save(trained, to: URL(fileURLWithPath: "weights.safetensors", relativeTo: directory))
        try ModelFile.save(model, state: trained, to: URL(fileURLWithPath: "model.axonmodel", relativeTo: directory))
        try ONNXExport.write(model, state: trained, to: URL(fileURLWithPath: "model.onnx", relativeTo: directory))
        let (imported, weights) = try ONNXImport.load(URL(fileURLWithPath: "model.onnx", relativeTo: directory), on: backend)
        loop.log(to: TensorBoardLogger(directory: URL(fileURLWithPath: "runs/tb", relativeTo: directory), model: model), scope: .batch)

        let x = try Tensor([1, -2, 3, 0.5], shape: [1, 4], on: backend)
        let expected = try model.build(on: backend).predict(trained, inputs: ["features": x]).output().scalars
        let actual = try imported.build(on: backend).predict(weights, inputs: ["features": x]).output().scalars
        expectClose(actual, expected, atol: 1e-6)
        #expect(try ModelFile.load(URL(fileURLWithPath: "model.axonmodel", relativeTo: directory), on: backend).model.description == model.description)
    }
}
