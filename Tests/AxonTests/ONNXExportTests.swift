import AxonCore
import AxonData
import AxonInterop
import Backend
import Foundation
import Testing

@Suite("ONNX export, run in ONNX Runtime")
struct ONNXExportTests {
    static let image = Axon.input("image", shape: [nil, 10, 10, 2])
    static let models: [(String, Axon)] = [
        ("mlp", image.flatten().dense(16, activation: .relu).dropout(rate: 0.3).dense(8, activation: .gelu()).dense(4).softmax()),
        ("cnn", image.conv(6, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(8, kernelSize: [3], strides: [2], groups: 2, activation: .silu).avgPool(kernelSize: [2], padding: .same)
            .flatten().dropout(rate: 0.25).dense(5)),
        ("residual-cnn", image.conv(4, kernelSize: [3], padding: .same, activation: .relu)
            .residual { $0.conv(4, kernelSize: [3], padding: .same).batchNorm().relu().conv(4, kernelSize: [3], padding: .same) }
            .relu().depthwiseConv(channelMultiplier: 2, kernelSize: [3], padding: .same, activation: .tanh)
            .separableConv(channelMultiplier: 2, kernelSize: [3, 2], strides: [1, 2], padding: .same, activation: .relu)
            .separableConv(kernelSize: [2], padding: .explicit([Padding(1, 0), Padding(0, 1)]))
            .convTranspose(3, kernelSize: [3], strides: [2], padding: .same)
            .convTranspose(2, kernelSize: [2], strides: [2], activation: .leakyRelu())
            .globalAvgPool().layerNorm().dense(3)),
        ("lstm", Axon.input("sequence", shape: [nil, 7, 5]).lstm(6).sequence.gru(4).last.dense(3)),
        ("norms-and-resize", image.groupNorm(groups: 2).conv(4, kernelSize: [1]).instanceNorm()
            .resize([13, 17], method: .nearest).resize([15, 18], method: .linear).resize([20, 20], method: .cubic)
            .resize([9, 11], method: .linear, antialias: false).resize([12, 12], method: .linear, alignCorners: true)
            .conv(2, kernelSize: [3], strides: [2]).flatten().dense(3)),
        ("attention", {
            let tokens = Axon.input("tokens", shape: [nil, 6, 8])
            let attended = Axon.multiHeadAttention(query: tokens, value: tokens, heads: 2, keyDimension: 4, outputDimension: 8, causal: true).output
            let pooled = Axon.dotProductAttention(query: attended, key: tokens, value: tokens)
            return pooled.add(tokens).layerNorm().take(-1, axis: 0).dense(3)
        }()),
        ("shared-block", {
            let tied = Axon.block("tied") { $0.dense(8, activation: .tanh) }
            return tied(tied(image.flatten().dense(8))).dense(3)
        }()),
    ]

    /// Deterministic inputs and, for batch norm, statistics that are not the identity.
    static func prepare(_ model: Axon, batch: Int) throws -> (ModelState, [String: HostArray]) {
        var state = try model.build(on: backend).initialize(seed: 5)
        for (index, (name, tensor)) in state.state.enumerated() {
            let values = try sample(tensor.shape, seed: UInt64(100 + index), low: 0.2, high: 1.5).scalars
            state.state[name] = try Tensor(name.hasSuffix(".mean") ? values.map { $0 - 0.8 } : values, shape: tensor.shape, on: backend)
        }
        var inputs: [String: HostArray] = [:]
        for (name, shape) in try model.inputs() {
            let concrete = Shape([batch] + shape.dropFirst().map { $0 ?? 1 })
            inputs[name] = try sample(concrete, seed: 9).array
        }
        return (state, inputs)
    }

    @Test("MLP, CNN, residual CNN, LSTM/GRU, normalisation and resize, attention and shared-block exports run in ONNX Runtime with the library's outputs to 1e-5", arguments: models.map(\.0))
    func runsInONNXRuntime(name: String) throws {
        let model = try #require(Self.models.first { $0.0 == name }).1
        let directory = try EcosystemReaders.scratchDirectory("onnx-\(name)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (state, inputs) = try Self.prepare(model, batch: 3)
        let file = directory.appendingPathComponent("\(name).onnx")
        try ONNXExport.write(model, state: state, to: file)

        struct Description: Decodable { let opset: Int; let inputs: [[Value]]; let outputs: [[Value]] }
        enum Value: Decodable, Equatable {
            case text(String), number(Int), list([Value])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { self = .text(text) } else if let number = try? container.decode(Int.self) {
                    self = .number(number)
                } else { self = .list(try container.decode([Value].self)) }
            }
        }
        let description = try EcosystemReaders.json(Description.self, "onnx_models.py", ["describe", file.path])
        #expect(description.opset >= 17)
        #expect(description.inputs.map { $0[0] } == (try model.inputs()).map { .text($0.name) })
        // The batch dimension is dynamic and named.
        #expect(description.inputs.allSatisfy { if case let .list(dimensions) = $0[1] { dimensions.first == .text("batch") } else { false } })

        let inputFile = directory.appendingPathComponent("inputs.npz"), outputFile = directory.appendingPathComponent("outputs.npz")
        try NumPy.writeArchive(inputs, to: inputFile)
        _ = try EcosystemReaders.run("onnx_models.py", ["run", file.path, inputFile.path, outputFile.path])
        let outputs = try NumPy.readArchive(outputFile)
        let expected = try model.build(on: backend).predict(state, inputs: inputs.mapValues { try Tensor($0, on: backend) }).output()
        let actual = try #require(outputs.values.first)
        #expect(outputs.count == 1)
        #expect(actual.shape == expected.shape)
        expectClose(actual.elements.floats, try expected.scalars, atol: 1e-5, rtol: 1e-5)
    }

    @Test("a layer without an ONNX equivalent fails the export, naming every such layer")
    func unsupportedLayers() throws {
        let x = Axon.input("x", shape: [nil, 4, 4, 2])
        let model = x.adaptiveAvgPool(outputSize: [3, 3], name: "pool").resize([2, 2], method: .linear, name: "shrink").flatten().dense(2)
        let state = try model.build(on: backend).initialize(seed: 0)
        #expect(errorMessage { _ = try ONNXExport.encode(model, state: state) }
            == "ONNX export: no ONNX equivalent for layers 'pool' (adaptive_avg_pool), 'shrink' (resize: antialiased downsampling)")
    }
}
