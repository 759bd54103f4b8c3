import AxonCore
import AxonConformance
import Backend
import Testing

/// The classes of bad input that used to trap, each fed to the library on every linked
/// backend: each must throw a library error, the same one on every backend (the backend's own
/// name aside), and leave the process running.
@Suite("Bad input: thrown errors, never a trap, on every backend")
struct BadInputTests {
    typealias Probe = @Sendable (any Backend) throws -> Void

    static let probes: [(String, Probe)] = [
        ("a negative dimension in an initializer's shape", { backend in
            _ = try Initializer.heNormal.tensor(shape: [-1, 3], key: Philox.Key(seed: 1), on: backend)
        }),
        ("a negative dimension in a created tensor", { backend in _ = try Tensor.zeros(shape: [2, -3], on: backend) }),
        ("a reshape whose element count overflows Int", { backend in
            _ = try Tensor([1, 2], on: backend).reshaped(to: [Int.max, 2])
        }),
        ("a reshape layer whose element count overflows Int", { backend in
            let built = try Axon.input("x", shape: [nil, 4]).reshape([Int.max, 4]).build(on: backend)
            _ = try built.predict(built.initialize(seed: 1), inputs: ["x": Tensor.zeros(shape: [1, 4], on: backend)])
        }),
        ("a convolution dilation that overflows the output size", { backend in
            let built = try Axon.input("x", shape: [nil, 8, 1]).conv(1, kernelSize: [3], dilation: [Int.max / 2]).build(on: backend)
            _ = try built.predict(built.initialize(seed: 1), inputs: ["x": Tensor.zeros(shape: [1, 8, 1], on: backend)])
        }),
        ("iota of a negative size", { backend in _ = try Tensor.iota(shape: [-3], axis: 0, on: backend) }),
        ("oneHot with a negative class count", { backend in
            _ = try Losses.oneHot(Tensor(integers: [0, 1], shape: [2], on: backend), classes: -1)
        }),
        ("random bits of a negative shape", { backend in
            _ = try Tensor.randomBits(key: Philox.Key(seed: 1), shape: [3, -1], on: backend)
        }),
        ("a tensor of 2⁴⁰ elements", { backend in _ = try Tensor.zeros(shape: [1 << 40], on: backend) }),
        ("a tensor whose element count overflows Int", { backend in _ = try Tensor.zeros(shape: [1 << 34, 1 << 34], on: backend) }),
        ("a container used as a tensor input", { backend in
            let x = Axon.input("x", shape: [nil, 3])
            _ = try Axon.container(["a": x, "b": x]).dense(2).build(on: backend)
        }),
        ("a NaN learning rate", { _ in _ = try Optimizer.adam(learningRate: .constant(.nan)) }),
    ]

    @Test("each probe throws the same library error on every backend", arguments: probes.map(\.0))
    func probe(_ name: String) throws {
        let run = try #require(Self.probes.first { $0.0 == name }?.1)
        var messages: [String: String] = [:]
        for backendName in ConformanceBackends.names {
            let backend = try ConformanceBackends.backend(backendName)
            do {
                try run(backend)
                Issue.record("\(name) on \(backendName): no error was thrown")
            } catch {
                let signature = ConformanceRunner.errorSignature(error, on: backend)
                #expect(signature != nil, "\(name) on \(backendName) threw \(type(of: error)), not a library error: \(error)")
                messages[backendName] = signature
            }
        }
        #expect(Set(messages.values).count == 1, "\(name): the backends disagree: \(messages)")
    }

    @Test("a batch size of Int.max gives one batch of every example, on every backend")
    func hugeBatchSize() throws {
        for backendName in ConformanceBackends.names {
            let backend = try ConformanceBackends.backend(backendName)
            let dataset = try Dataset(
                features: HostArray(shape: [3, 2], elements: .float32([1, 2, 3, 4, 5, 6])),
                labels: HostArray(shape: [3], elements: .int32([0, 1, 0])))
            let batches = try dataset.batches(size: Int.max, on: backend)
            #expect(batches.batchCount == 1)
        }
    }
}
