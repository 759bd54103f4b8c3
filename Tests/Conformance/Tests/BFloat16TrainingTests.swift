import AxonCore
import AxonData
import Backend
import Foundation
import Testing

@Suite("bfloat16 policy training on every backend")
struct BFloat16TrainingTests {
    @Test("the MNIST CNN learns under the bfloat16 policy on every backend, as well as in float32", arguments: ConformanceBackends.names)
    func cnnLearnsUnderThePolicy(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        let (train, heldOut) = try MNIST.load(directory: ConformanceBackends.mnist)
        let examples = try train.split(at: 3_200).0
        let cnn = Axon.input("features", shape: [nil, 28, 28, 1])
            .conv(8, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(16, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dropout(rate: 0.25).dense(10)
        func accuracy(_ model: Axon) throws -> Double {
            let loop = try Loop.trainer(
                model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 3e-3),
                on: backend, seed: 1
            ).metric(.accuracy()).validate(on: try heldOut.split(at: 500).0.batches(size: 250, on: backend))
            let final = try loop.run(try examples.batches(size: 32, shuffle: true, seed: 2, on: backend), epochs: 1)
            return try #require(final.history.last?["validation_accuracy"])
        }
        let (float32, bfloat16) = (try accuracy(cnn), try accuracy(try cnn.applyingPolicy(.bfloat16)))
        #expect(bfloat16 > 0.85, "held-out accuracy under the policy on \(name): \(bfloat16)")
        #expect(abs(bfloat16 - float32) <= 0.03, "\(name): bfloat16 \(bfloat16), float32 \(float32)")
    }
}
