import AxonCore
import AxonInterop
import Backend
import Foundation
import Testing

@Suite("Model files: custom layers, versions and damaged graphs")
struct ModelFileErrorTests {
    func scratch(_ name: String) throws -> URL { try EcosystemReaders.scratchDirectory(name).appendingPathComponent("model.axonmodel") }

    @Test("a custom layer saves by its kind and loads once registered, and fails clearly before")
    func customLayers() throws {
        let file = try scratch("custom")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let x = Axon.input("x", shape: [nil, 3])
        let body: @Sendable ([Tensor], LayerContext) throws -> Tensor = { inputs, context in try inputs[0] * context.parameter("scale") }
        let model = Axon.layer("test_scale_unregistered", inputs: [x], parameters: [Axon.param("scale", shape: [3], initializer: .ones)], body)
        let built = try model.build(on: backend)
        try ModelFile.save(model, state: try built.initialize(seed: 1), to: file)
        #expect(errorMessage { _ = try ModelFile.load(file, on: backend) }
            == "\(file.path): is not a usable model graph: node 1 is the custom layer 'test_scale_unregistered', which is not registered; call CustomLayers.register(\"test_scale_unregistered\", ...) before loading")

        let registered = Axon.layer("test_scale", inputs: [x], parameters: [Axon.param("scale", shape: [3], initializer: .ones)], body)
        let state = try registered.build(on: backend).initialize(seed: 1)
        var scaled = state
        scaled.parameters["test_scale_0.scale"] = try tensor([2, 3, 4], [3])
        try ModelFile.save(registered, state: scaled, to: file)
        CustomLayers.register("test_scale", parameters: [Axon.param("scale", shape: [3], initializer: .ones)], body)
        let loaded = try ModelFile.load(file, on: backend)
        let output = try loaded.model.build(on: backend).predict(loaded.state, inputs: ["x": try tensor([1, 1, 2], [1, 3])]).output()
        #expect(try output.scalars == [2, 3, 8])
    }

    @Test("a layer holding a closure is refused at save time, naming it")
    func closuresAreRefused() throws {
        let file = try scratch("closure")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let x = Axon.input("x", shape: [nil, 2])
        let model = Axon.cond(x, { try $0.sum().item() > 0 }, then: x.relu(), else: x.tanh())
        let built = try model.build(on: backend)
        let message = errorMessage { try ModelFile.save(model, state: try built.initialize(seed: 0), to: file) }
        #expect(message?.contains("cond_0") == true && message?.contains("holds a Swift closure and cannot be saved") == true, "\(message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test("newer versions, plain weight files and damaged graphs are refused with the file and the problem")
    func damagedFiles() throws {
        let file = try scratch("damaged")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let model = Axon.input("x", shape: [nil, 2]).dense(2)
        let state = try model.build(on: backend).initialize(seed: 0)
        let arrays = [
            "dense_0.kernel": try state.parameters.tensor("dense_0.kernel").array, "dense_0.bias": try state.parameters.tensor("dense_0.bias").array,
        ]
        let graph = String(decoding: try GraphSerialization.encode(model), as: UTF8.self)
        func attempt(_ metadata: [String: String]) throws -> String? {
            try Safetensors.write(arrays, metadata: metadata, to: file)
            return errorMessage { _ = try ModelFile.load(file, on: backend) }
        }
        #expect(try attempt(["axon.model.version": "2", "axon.model.graph": graph])
            == "\(file.path): is a model file of format 2, written by a newer version of Axon; this version reads format 1, so upgrade Axon to load it")
        #expect(try attempt([:]) == "\(file.path): holds weights but no model graph (a plain safetensors file); load it into a model with Safetensors.load")
        let newerGraph = graph.replacingOccurrences(of: #""version":1"#, with: #""version":7"#)
        #expect(try attempt(["axon.model.version": "1", "axon.model.graph": newerGraph])?.contains("holds a model graph of format 7, written by a newer version") == true)
        let forward = graph.replacingOccurrences(of: #""inputs":[0]"#, with: #""inputs":[5]"#)
        #expect(try attempt(["axon.model.version": "1", "axon.model.graph": forward])?.contains("node 1 reads inputs [5], but only nodes 0..<1 come before it") == true)
        let unknown = graph.replacingOccurrences(of: "DenseLayer", with: "WarpLayer")
        #expect(try attempt(["axon.model.version": "1", "axon.model.graph": unknown])?.contains("has layer type 'WarpLayer', which this version does not know") == true)
        let badOptions = graph.replacingOccurrences(of: #""units":2"#, with: #""units":"two""#)
        #expect(try attempt(["axon.model.version": "1", "axon.model.graph": badOptions])?.contains("(DenseLayer) has options this version cannot read") == true)
    }
}
