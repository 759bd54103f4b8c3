import AxonCore
import Backend
import Foundation
import Testing

/// Weight sharing with `Axon.block`: one set of parameters however often a block is applied.
@Suite("Shared blocks")
struct BlockTests {
    /// Two towers of one encoder over inputs `left` and `right`.
    func siamese(_ rightWidth: Int = 4) -> Axon {
        let encoder = Axon.block("encoder") { $0.dense(3, activation: .tanh).dense(2) }
        return Axon.container([
            "left": encoder(Axon.input("left", shape: [nil, 4])),
            "right": encoder(Axon.input("right", shape: [nil, rightWidth])),
        ])
    }

    @Test("every application of a block reads one set of parameters")
    func applicationsShareParameters() throws {
        let model = siamese()
        let built = try model.build(on: backend)
        let variables = try built.initialize(seed: 7)
        #expect(variables.parameters.names.sorted() == [
            "encoder/dense_0.bias", "encoder/dense_0.kernel", "encoder/dense_1.bias", "encoder/dense_1.kernel",
        ])
        let layers = try model.layers()
        #expect(layers.map(\.name) == ["left", "encoder/dense_0", "encoder/dense_1", "right", "encoder[1]/dense_0", "encoder[1]/dense_1"])
        #expect(layers.map(\.parameterScope)[4] == "encoder/dense_0")
        #expect(layers[4].parameters.map(\.name) == ["encoder/dense_0.kernel", "encoder/dense_0.bias"])

        let x = try sample([5, 4], seed: 1), y = try sample([5, 4], seed: 2)
        let same = try built.predict(variables, inputs: ["left": x, "right": x])
        #expect(try same.output("left").scalars == same.output("right").scalars)
        // Swapping the inputs swaps the outputs: the towers are one function.
        let forward = try built.predict(variables, inputs: ["left": x, "right": y])
        let swapped = try built.predict(variables, inputs: ["left": y, "right": x])
        #expect(try forward.output("left").scalars == swapped.output("right").scalars)
        #expect(try forward.output("left").scalars != forward.output("right").scalars)
    }

    @Test("gradients from every application accumulate into the shared parameters (finite differences)")
    func gradientsAccumulate() throws {
        let built = try siamese().build(on: backend)
        let variables = try built.initialize(seed: 7)
        let inputs = ["left": try sample([3, 4], seed: 1), "right": try sample([3, 4], seed: 2)]
        func loss(_ parameters: ParameterStore) throws -> Tensor {
            let output = try built.predict(ModelState(parameters: parameters), inputs: inputs)
            return try output.output("left").square().sum() + (try output.output("right") * 3).sum()
        }
        let (_, gradients) = try valueAndGradient(at: variables.parameters, of: loss)
        for name in ["encoder/dense_0.kernel", "encoder/dense_1.bias"] {
            let values = try #require(variables.parameters[name]).scalars
            let analytic = try #require(gradients[name]).scalars
            let shape = try #require(variables.parameters[name]).shape
            for index in values.indices {
                let step: Float = 1e-2
                func perturbed(_ delta: Float) throws -> Double {
                    var changed = variables.parameters
                    var moved = values
                    moved[index] += delta
                    changed[name] = try tensor(moved, shape)
                    return Double(try loss(changed).scalars[0])
                }
                let numeric = Float((try perturbed(step) - perturbed(-step)) / Double(2 * step))
                #expect(Swift.abs(analytic[index] - numeric) <= 2e-3 + 2e-3 * Swift.abs(numeric), "\(name)[\(index)]: \(analytic[index]) vs \(numeric)")
            }
        }
    }

    @Test("the summary marks later applications as sharing and counts each parameter once")
    func summaryShowsSharing() throws {
        let summary = "\(try siamese().build(on: backend))"
        let row = try #require(summary.split(separator: "\n").first { $0.hasPrefix("encoder[1]/dense_0 ") })
        #expect(row.contains("shares encoder/dense_0"), "\(summary)")
        let once = 4 * 3 + 3 + 3 * 2 + 2
        #expect(summary.contains("Total parameters: \(once)"), "\(summary)")
        #expect(try siamese().graph(.mermaid).contains("encoder[1]/dense_0<br/>dense · [nil, 3] · shares encoder/dense_0"))
    }

    @Test("a block applied to inputs that need parameters of other shapes is refused, naming both layers")
    func incompatibleShapes() throws {
        let error = try #require(throws: AxonError.self) { try siamese(5).build(on: backend) }
        let message = "\(error)"
        #expect(message.contains("encoder[1]/dense_0") && message.contains("encoder/dense_0.kernel"), "\(message)")
        #expect(message.contains("[4, 3]") && message.contains("[5, 3]") && message.contains("incompatible shapes"), "\(message)")
    }

    @Test("a block given another number of inputs than its body takes is refused")
    func wrongInputCount() throws {
        let pair = Axon.block("pair", inputs: 2) { $0[0].add($0[1]) }
        let x = Axon.input("x", shape: [nil, 2])
        let error = try #require(throws: AxonError.self) { try pair(x).build(on: backend) }
        #expect("\(error)".contains("block 'pair' takes 2 input(s), but was applied to 1"), "\(error)")
        #expect(try pair(x, x.dense(2)).layers().map(\.name) == ["x", "dense_0", "pair/add_0"])
    }

    @Test("unnamed blocks are numbered in order of first use; two blocks with one name are refused")
    func blockNames() throws {
        let first = Axon.block { $0.dense(2) }, second = Axon.block { $0.relu() }
        let x = Axon.input("x", shape: [nil, 2])
        #expect(try second(first(first(x))).layers().map(\.name) == ["x", "block_0/dense_0", "block_0[1]/dense_0", "block_1/relu_0"])
        let clash = Axon.block("same") { $0.dense(2) }, other = Axon.block("same") { $0.dense(2) }
        let error = try #require(throws: AxonError.self) { try other(clash(x)).layers() }
        #expect("\(error)".contains("two different blocks are named 'same'"), "\(error)")
    }

    @Test("a saved graph keeps the sharing, as format 2; a graph without blocks stays format 1")
    func serialization() throws {
        let model = siamese()
        let data = try GraphSerialization.encode(model)
        #expect(String(decoding: data, as: UTF8.self).contains("\"version\":2"))
        let loaded = try GraphSerialization.decode(data, source: "siamese.json")
        #expect(try loaded.layers() == model.layers())
        let plain = try GraphSerialization.encode(Axon.input("x", shape: [nil, 2]).dense(1))
        #expect(String(decoding: plain, as: UTF8.self).contains("\"version\":1"))
    }
}
