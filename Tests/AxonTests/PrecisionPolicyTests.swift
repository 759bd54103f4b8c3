import AxonCore
import Backend
import Foundation
import Testing

@Suite("Mixed-precision policies")
struct PrecisionPolicyTests {
    var model: Axon {
        Axon.input("features", shape: [nil, 4]).dense(8, activation: .relu).layerNorm().dense(3)
    }

    /// The bfloat16 value nearest each element (the rounding a bfloat16 layer applies).
    func rounded(_ values: [Float]) -> [Float] { values.map { BFloat16($0).float } }

    @Test("a bfloat16 layer computes on rounded inputs and parameters and hands on float32; normalisation stays float32")
    func layersComputeInBFloat16() throws {
        let mixed = try model.applyingPolicy(.bfloat16)
        #expect(try mixed.policies.keys.sorted() == ["dense_0", "dense_1"])
        let built = try mixed.build(on: backend)
        let variables = try built.initialize(seed: 3)
        #expect(variables.parameters.allSatisfy { $0.tensor.dtype == .float32 })
        // dense_0 by hand: relu(round(x)·round(W) + round(b)), each product summed in float32
        // and the sum rounded to bfloat16 once.
        let x: [Float] = [0.1234, -1.7, 3.14159, 0.001]
        let kernel = try variables.parameters.tensor("dense_0.kernel").scalars
        let bias = try variables.parameters.tensor("dense_0.bias").scalars
        let (rx, rk, rb) = (rounded(x), rounded(kernel), rounded(bias))
        let expected = (0..<8).map { j -> Float in
            let sum = (0..<4).reduce(Float(0)) { $0 + rx[$1] * rk[$1 * 8 + j] }
            return Swift.max(0, BFloat16(BFloat16(sum).float + rb[j]).float)
        }
        let firstLayer = try Axon.input("features", shape: [nil, 4]).dense(8, activation: .relu).applyingPolicy(.bfloat16)
            .build(on: backend)
        let output = try firstLayer.predict(
            ModelState(parameters: variables.parameters.selecting { $0.hasPrefix("dense_0") }),
            inputs: ["features": try Tensor(x, shape: [1, 4], on: backend)]).output()
        #expect(output.dtype == .float32)
        let got = try output.scalars
        for (a, b) in zip(got, expected) { #expect(abs(a - b) <= Swift.max(abs(b), 1e-3) * 0.008, "\(got) vs \(expected)") }
        #expect(try built.predict(variables, inputs: ["features": try Tensor(x, shape: [1, 4], on: backend)]).output().dtype == .float32)
    }

    @Test("gradients reach the float32 master parameters, which the optimizer updates and checkpoints keep in float32")
    func masterParametersStayFloat32() throws {
        let x = try Tensor((0..<32).map { Float($0 % 7) / 7 - 0.4 }, shape: [8, 4], on: backend)
        let y = try Tensor(integers: (0..<8).map { Int32($0 % 3) }, shape: [8], on: backend)
        let loop = try Loop.trainer(
            model: model.applyingPolicy(.bfloat16), loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
            optimizer: .adam(learningRate: 0.05), on: backend)
        let built = try model.applyingPolicy(.bfloat16).build(on: backend, mode: .train)
        let initial = try built.initialize(seed: 0)
        let (_, gradients) = try valueAndGradient(at: initial.parameters) { parameters in
            try built.predict(ModelState(parameters: parameters, state: initial.state), inputs: ["features": x]).output().sum()
        }
        #expect(gradients.count == initial.parameters.count)
        #expect(gradients.allSatisfy { $0.tensor.dtype == .float32 })
        let final = try loop.run(Array(repeating: Batch(inputs: ["features": x], targets: y), count: 30), epochs: 1)
        #expect(final.stepState.model.parameters.allSatisfy { $0.tensor.dtype == .float32 })
        let losses = final.history.compactMap { $0["loss"] }
        let firstStepLoss = try #require(final.stepLoss)
        #expect(losses.count == 1 && firstStepLoss < 1.0, "training under the policy should fit 8 examples: loss \(firstStepLoss)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("checkpoint.axon")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Checkpoint.save(final, to: file)
        let restored = try Checkpoint.load(file, on: backend)
        #expect(restored.stepState.model.parameters.allSatisfy { $0.tensor.dtype == .float32 })
    }

    @Test("a policy that names a dtype no layer computes in, or bfloat16 parameters, is refused with what to do")
    func badPoliciesAreRefused() throws {
        let integer = try #require(throws: AxonError.self) { try PrecisionPolicy(compute: .int32) }
        #expect("\(integer)".contains("compute dtype must be float32 or bfloat16, got int32"), "\(integer)")
        let output = try #require(throws: AxonError.self) { try PrecisionPolicy(compute: .bfloat16, output: .bool) }
        #expect("\(output)".contains("output dtype"), "\(output)")
        let parameters = try #require(throws: AxonError.self) { try PrecisionPolicy(parameters: .bfloat16, compute: .bfloat16) }
        #expect("\(parameters)".contains("float32 master copy"), "\(parameters)")
    }

    @Test("integer inputs are never cast: an embedding under the policy looks up exact token ids")
    func integerInputsKeepTheirValues() throws {
        let tokens = Axon.input("tokens", shape: [nil, 2], dtype: .int32).embedding(vocabularySize: 1000, features: 4)
        let mixed = try tokens.applyingPolicy(.bfloat16).build(on: backend)
        let variables = try mixed.initialize(seed: 0)
        let ids = try Tensor(integers: [999, 257], shape: [1, 2], on: backend)
        let table = try variables.parameters.tensor("embedding_0.kernel").scalars
        let looked = try mixed.predict(variables, inputs: ["tokens": ids]).output().scalars
        #expect(looked == rounded(Array(table[(999 * 4)..<(1000 * 4)]) + rounded(Array(table[(257 * 4)..<(258 * 4)]))))
    }

    @Test("dynamic loss scaling throws when the gradients are not finite even at scale 1")
    func lossScalingWithoutAFiniteStepThrows() throws {
        let x = try Tensor([Float.nan, 1, 2, 3], shape: [1, 4], on: backend)
        let y = try Tensor(integers: [0], shape: [1], on: backend)
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .sgd(learningRate: 0.1), on: backend,
            lossScaling: .dynamic(initial: 4, factor: 2, growthInterval: 10))
        let error = try #require(throws: AxonError.self) {
            try loop.run(Array(repeating: Batch(inputs: ["features": x], targets: y), count: 5), epochs: 1)
        }
        #expect("\(error)".contains("not finite at loss scale 1") && "\(error)".contains("step 2"), "\(error)")
    }
}
