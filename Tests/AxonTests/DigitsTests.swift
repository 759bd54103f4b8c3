import AxonCore
import AxonData
import Backend
import Testing

@Suite("Embedded digits dataset")
struct DigitsTests {
    @Test("the same seed gives the same images; labels cover all ten digits")
    func deterministic() throws {
        let a = try Digits.generate(count: 50, seed: 3), b = try Digits.generate(count: 50, seed: 3)
        let c = try Digits.generate(count: 50, seed: 4)
        #expect(a.features == b.features && a.labels == b.labels)
        #expect(a.features != c.features)
        #expect(a.features.shape == [50, 28, 28, 1])
        guard case let .int32(labels) = a.labels.elements else { Issue.record("labels are not int32"); return }
        #expect(Set(labels) == Set(0..<10))
        let pixels = a.features.elements.floats
        #expect(pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Each image has ink: at least 20 pixels above half intensity (a thin, small "1" has ~30).
        for image in 0..<50 {
            #expect(pixels[(image * 784)..<((image + 1) * 784)].filter { $0 > 0.5 }.count >= 20)
        }
    }

    @Test("an MLP learns the digits: ≥ 95% held-out accuracy after 3 epochs")
    func learnable() throws {
        let (train, heldOut) = try Digits.generate(count: 6_000, seed: 1_000).split(at: 5_000)
        let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(128, activation: .relu).dense(10)
        let final = try Loop.trainer(model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
                                     optimizer: .adam(learningRate: 1e-3), on: backend)
            .metric(.accuracy()).validate(on: try heldOut.batches(size: 500, on: backend))
            .run(try train.batches(size: 128, shuffle: true, on: backend), epochs: 3)
        let accuracy = final.history.last?["validation_accuracy"] ?? 0
        #expect(accuracy >= 0.95, "held-out accuracy \(accuracy)")
    }
}
