import AxonCore
import AxonData
import AxonInterop
import Backend
import Foundation
import Testing

@Suite("ONNX import of models PyTorch exported")
struct ONNXImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/onnx")

    @Test("an MLP, a CNN with batch norm and an LSTM from torch.onnx.export predict PyTorch's outputs", arguments: ["mlp", "cnn", "lstm"])
    func predictsPyTorchOutputs(name: String) throws {
        let (model, state) = try ONNXImport.load(Self.fixtures.appendingPathComponent("\(name).onnx"), on: backend)
        let io = try NumPy.readArchive(Self.fixtures.appendingPathComponent("\(name)-io.npz"))
        let input = try #require(io["input"]), expected = try #require(io["output"])
        let output = try model.build(on: backend).predict(state, inputs: ["input": try Tensor(input, on: backend)]).output()
        #expect(output.shape == expected.shape)
        expectClose(try output.scalars, expected.elements.floats, atol: 1e-5, rtol: 1e-5)

        // The import is an ordinary model: it saves whole and reloads to the same predictions.
        let file = try EcosystemReaders.scratchDirectory("onnx-import").appendingPathComponent("\(name).axonmodel")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try ModelFile.save(model, state: state, to: file)
        let reloaded = try ModelFile.load(file, on: backend)
        let again = try reloaded.model.build(on: backend).predict(reloaded.state, inputs: ["input": try Tensor(input, on: backend)]).output()
        #expect(try again.scalars == output.scalars)
    }

    @Test("the CNN imports as channels-first convolution, batch norm and pooling layers")
    func cnnLayers() throws {
        let (model, _) = try ONNXImport.load(Self.fixtures.appendingPathComponent("cnn.onnx"), on: backend)
        let kinds = try model.layers().map(\.kind)
        #expect(kinds == ["input", "conv", "relu", "batch_norm", "max_pool", "conv", "tanh", "avg_pool", "flatten", "dense"])
        #expect(try model.inputs().first?.shape == [nil, 2, 12, 12])
    }

    @Test("unsupported operators are listed in one error; old opsets and corrupt files are refused")
    func refusals() throws {
        let unsupported = try Data(contentsOf: Self.fixtures.appendingPathComponent("unsupported.onnx"))
        #expect(errorMessage { _ = try ONNXImport.decode(unsupported, path: "m.onnx", on: backend) }
            == "m.onnx: cannot be imported: unsupported operators: Erf, Hardmax")
        let old = try Data(contentsOf: Self.fixtures.appendingPathComponent("opset9.onnx"))
        #expect(errorMessage { _ = try ONNXImport.decode(old, path: "m.onnx", on: backend) }
            == "m.onnx: cannot be imported: it uses opset 9, but this importer reads opsets 13 to 21")
        let lying = try Data(contentsOf: Self.fixtures.appendingPathComponent("lying.onnx"))
        #expect(errorMessage { _ = try ONNXImport.decode(lying, path: "m.onnx", on: backend) }
            == "m.onnx: cannot be imported: tensor 'w' of shape [4, 1000000000] holds 4 bytes of data, not 4000000000 × 4")
        let valid = try Data(contentsOf: Self.fixtures.appendingPathComponent("mlp.onnx"))
        let truncated = valid.prefix(valid.count / 2)
        #expect(errorMessage { _ = try ONNXImport.decode(truncated, path: "m.onnx", on: backend) }?.hasPrefix("m.onnx: ") == true)
        #expect(errorMessage { _ = try ONNXImport.decode(Data("not a model".utf8), path: "m.onnx", on: backend) }?.hasPrefix("m.onnx: ") == true)
    }
}
