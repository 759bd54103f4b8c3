import AxonCore
import AxonInterop
import Backend
import Foundation
import Testing

/// Whole models saved to one file and loaded back, on every backend: the same summary and the
/// same predictions, bit for bit, as the model that was saved.
@Suite("Model files")
struct ModelFileTests {
    /// Models that together hold every serializable layer kind the zoo and the examples use.
    static let models: [(String, Axon)] = {
        let image = Axon.input("image", shape: [nil, 8, 8, 1])
        let mlp = image.flatten().dense(16, activation: .relu).dropout(rate: 0.2).dense(10)
        let cnn = image.conv(4, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(8, kernelSize: [3], padding: .same, groups: 2).groupNorm(groups: 2).relu().avgPool()
            .flatten().dense(10)
        let residual = image.conv(4, kernelSize: [3], padding: .same, activation: .relu)
            .residual { $0.conv(4, kernelSize: [3], padding: .same).batchNorm().relu() }
            .depthwiseConv(channelMultiplier: 2, kernelSize: [3], padding: .same)
            .separableConv(kernelSize: [3], padding: .same)
            .convTranspose(3, kernelSize: [2], strides: [2])
            .resize([8, 8], method: .linear)
            .globalAvgPool().dense(10)
        let sequence = Axon.input("tokens", shape: [nil, 6], dtype: .int32)
        let embedded = sequence.embedding(vocabularySize: 12, features: 8)
        let attended = Axon.multiHeadAttention(query: embedded, value: embedded, heads: 2, keyDimension: 4, outputDimension: 8).output
        let recurrent = attended.add(embedded).layerNorm()
            .bidirectional { input, reverse in input.gru(5, reverse: reverse) }.sequence
            .lstm(6).last
        let both = Axon.concatenate([recurrent, recurrent.dense(3, activation: .tanh)]).dense(4)
        return [("mlp", mlp), ("cnn", cnn), ("residual", residual), ("sequence", both)]
    }()

    static func inputs(for model: Axon, on backend: any Backend) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, shape) in try model.inputs() {
            let dimensions = shape.map { $0 ?? 3 }
            let count = dimensions.reduce(1, *)
            if name == "tokens" {
                result[name] = try Tensor(integers: (0..<count).map { Int32(($0 * 7) % 12) }, shape: Shape(dimensions), on: backend)
            } else {
                result[name] = try Tensor((0..<count).map { Float(($0 * 37) % 23) / 23 - 0.5 }, shape: Shape(dimensions), on: backend)
            }
        }
        return result
    }

    @Test("a saved model reloads with the same summary and predictions", arguments: ConformanceBackends.names)
    func roundTrip(backendName: String) throws {
        let backend = try ConformanceBackends.backend(backendName)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-modelfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, model) in Self.models {
            let built = try model.build(on: backend)
            let state = try built.initialize(seed: 11)
            let file = directory.appendingPathComponent("\(name).axonmodel")
            try ModelFile.save(model, state: state, metadata: ["note": name], to: file)
            let loaded = try ModelFile.load(file, on: backend)
            #expect(loaded.metadata == ["note": name])
            let rebuilt = try loaded.model.build(on: backend)
            #expect(rebuilt.description == built.description, "\(name)")
            #expect(loaded.model.description == model.description, "\(name)")
            let inputs = try Self.inputs(for: model, on: backend)
            let expected = try built.predict(state, inputs: inputs).output().scalars
            let actual = try rebuilt.predict(loaded.state, inputs: inputs).output().scalars
            #expect(actual == expected, "\(name) on \(backendName)")
        }
    }
}
