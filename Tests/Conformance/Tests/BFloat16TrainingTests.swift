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

@Suite("bfloat16 data in float32 layers")
struct MixedPrecisionDataTests {
    /// Channels-last data whose values are bfloat16 numbers, with a spread of scales per channel.
    func data(on backend: any Backend) throws -> Tensor {
        let values = InputSpecValues.uniform(count: 6 * 5 * 5 * 3).enumerated().map { index, u in
            BFloat16((u * 4 - 1) * Float(1 + index % 3) + Float(index % 3)).float
        }
        return try Tensor(values, shape: [6, 5, 5, 3], on: backend).cast(to: .bfloat16)
    }

    @Test("a float32 batch norm reads a bfloat16 tensor's widening in place: the same bits forward and backward as on a float32 copy", arguments: ConformanceBackends.names)
    func batchNormReadsWidenedDataInPlace(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        let x = try data(on: backend)
        let scale = try Tensor([0.5, 1.5, -2], shape: [1, 1, 1, 3], on: backend)
        let offset = try Tensor([0.25, 0, -1], shape: [1, 1, 1, 3], on: backend)
        let weights = try Tensor(InputSpecValues.uniform(count: x.count), shape: x.shape, on: backend)
        // The loss weighs each output differently, so the input gradient is not zero.
        func loss(_ input: Tensor) throws -> Tensor {
            try (input.normalized(scale: scale, offset: offset, axes: [0, 1, 2], epsilon: 1e-3).output * weights).sum()
        }
        let inPlace = try valueAndGradient(at: x) { try loss($0.cast(to: .float32)) }
        // A float32 tensor of the same values that does not know where they came from.
        let copy = Tensor(buffer: try backend.upload(try backend.download(try x.cast(to: .float32).buffer)), backend: backend)
        let separate = try valueAndGradient(at: copy) { try loss($0) }
        #expect(inPlace.gradient.dtype == .bfloat16)
        #expect(try inPlace.value.item().bitPattern == separate.value.item().bitPattern)
        let rounded = try separate.gradient.cast(to: .bfloat16)
        #expect(try inPlace.gradient.cast(to: .float32).scalars.map(\.bitPattern) == rounded.cast(to: .float32).scalars.map(\.bitPattern))
    }

    @Test("casting a bfloat16 tensor's widening back to bfloat16 gives the tensor itself, and its gradient unchanged")
    func wideningAndNarrowingCancel() throws {
        let backend = ConformanceBackends.reference
        let x = try data(on: backend)
        let roundTrip = try x.cast(to: .float32).cast(to: .bfloat16)
        #expect(roundTrip.buffer.storage === x.buffer.storage)
        let weights = try Tensor(InputSpecValues.uniform(count: x.count), shape: x.shape, on: backend).cast(to: .bfloat16)
        let gradient = try gradient(at: x) { try ($0.cast(to: .float32).cast(to: .bfloat16) * weights).sum() }
        #expect(try gradient.cast(to: .float32).scalars == weights.cast(to: .float32).scalars)
        // A float32 tensor that was computed, not widened, is rounded as asked.
        let computed = try x.cast(to: .float32) * 1.001
        #expect(try computed.cast(to: .bfloat16).buffer.storage !== x.buffer.storage)
    }
}
