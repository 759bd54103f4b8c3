import AxonCore
import Backend
import Testing

/// DESIGN.md §4: the same seed gives the same bits, parameters and dropout masks everywhere.
@Suite("Conformance: determinism on every backend")
struct DeterminismTests {
    @Test("every linked backend starts", arguments: ConformanceBackends.names)
    func starts(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        #expect(backend.name == name)
    }

    @Test("random bits equal the Philox specification", arguments: ConformanceBackends.names)
    func randomBits(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        let key = Philox.Key(seed: 0xDEAD_BEEF)
        // An odd offset and size cover partial blocks at both ends.
        let bits = try backend.download(backend.randomBits(key: key, offset: 3, shape: [5, 7]))
        #expect(bits.elements == .uint32(Philox.bits(key: key, offset: 3, count: 35)))
    }

    @Test("dropout masks are bit-identical to the reference backend's", arguments: ConformanceBackends.names)
    func dropoutMasks(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name), reference = ConformanceBackends.reference
        let values = (0..<60).map { Float($0) }
        let key = Philox.Key(seed: 11)
        let x = try backend.upload(HostArray(shape: [6, 10], elements: .float32(values)))
        let r = try reference.upload(HostArray(shape: [6, 10], elements: .float32(values)))
        let mask = try backend.download(backend.dropout(x, rate: 0.3, key: key, offset: 17, noiseShape: [6, 10]).mask)
        let expected = try reference.download(reference.dropout(r, rate: 0.3, key: key, offset: 17, noiseShape: [6, 10]).mask)
        #expect(mask == expected)
    }

    @Test("initialised parameters are bit-identical to the reference backend's", arguments: ConformanceBackends.names)
    func parameters(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        let key = Philox.Key(seed: 3).folded(with: "dense_0.kernel")
        let onBackend = try Initializer.heNormal.tensor(shape: [3, 3, 4, 8], key: key, on: backend).array
        let onReference = try Initializer.heNormal.tensor(shape: [3, 3, 4, 8], key: key, on: ConformanceBackends.reference).array
        #expect(onBackend == onReference)
    }

    @Test("repeated runs of a gradient step are bit-identical", arguments: ConformanceBackends.names)
    func repeatable(_ name: String) throws {
        let backend = try ConformanceBackends.backend(name)
        func step() throws -> [UInt32] {
            let key = Philox.Key(seed: 5)
            let x = try Initializer.normal(standardDeviation: 1).tensor(shape: [32, 20], key: key.folded(with: "x"), on: backend)
            let parameters: ParameterStore = [
                "w": try Initializer.glorotUniform.tensor(shape: [20, 10], key: key.folded(with: "w"), on: backend)
            ]
            let gradients = try gradient(at: parameters) { p in
                try x.dense(weight: p.tensor("w"), activation: .relu).dropout(rate: 0.2, key: key).softmax().square().sum()
            }
            return try gradients.tensor("w").scalars.map(\.bitPattern)
        }
        #expect(try step() == step())
    }
}
