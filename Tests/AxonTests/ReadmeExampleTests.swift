// The README's library example, compiled and run with only the imports it shows.
import Axon
import CPUReference
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
}
