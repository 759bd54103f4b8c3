import AxonCore
import Backend
import Foundation
import Testing

/// Optional inputs, `stackColumns` and `nx` functions.
@Suite("Optional inputs, stacked columns and nx functions")
struct OptionalInputTests {
    let tokens = Axon.input("tokens", shape: [nil, 3, 4])

    /// Self-attention over `tokens` with an additive mask that may be left out.
    var maskedAttention: Axon {
        let mask = Axon.optionalInput("mask", shape: [nil, 1, 3])
        return Axon.dotProductAttention(query: tokens, key: tokens, value: tokens, mask: mask.optional())
    }

    @Test("a layer reading an optional() value runs without it when its optional input is not given")
    func attentionWithoutItsMask() throws {
        let built = try maskedAttention.build(on: backend)
        let x = try sample([2, 3, 4], seed: 1)
        let unmasked = try Axon.dotProductAttention(query: tokens, key: tokens, value: tokens).build(on: backend)
        #expect(try built.predict(ModelState(parameters: [:]), inputs: ["tokens": x]).output().scalars
                == unmasked.predict(ModelState(parameters: [:]), inputs: ["tokens": x]).output().scalars)
        // Given, the mask reaches the layer: a large negative score hides the last key.
        let mask = try tensor([0, 0, -1e9, 0, 0, -1e9], [2, 1, 3])
        let masked = try built.predict(ModelState(parameters: [:]), inputs: ["tokens": x, "mask": mask]).output().scalars
        let direct = try Layers.dotProductAttention(query: x, key: x, value: x, mask: mask).output.scalars
        #expect(masked == direct)
        #expect(masked != (try Layers.dotProductAttention(query: x, key: x, value: x).output.scalars))
    }

    @Test("without an optional input the layers that need it are left out, and outputs that depend on them say so")
    func leftOut() throws {
        let extra = Axon.optionalInput("extra", shape: [nil, 2])
        let x = Axon.input("x", shape: [nil, 2])
        let model = Axon.container(["plain": x.dense(1), "both": x.add(extra).dense(1)])
        let built = try model.build(on: backend)
        let output = try built.predict(built.initialize(seed: 0), inputs: ["x": try sample([3, 2], seed: 2)])
        #expect(try output.output("plain").shape == [3, 1])
        let error = try #require(throws: AxonError.self) { try output.output("both") }
        #expect("\(error)".contains("output 'both' was left out: it depends on the optional input 'extra', which was not given"), "\(error)")
        // Given, it is used.
        let given = try built.predict(built.initialize(seed: 0), inputs: ["x": try sample([3, 2], seed: 2), "extra": try sample([3, 2], seed: 3)])
        #expect(try given.output("both").shape == [3, 1])
        // The only output needs it: predicting without it names the input.
        let single = try x.add(extra).dense(1).build(on: backend)
        let missing = try #require(throws: AxonError.self) { try single.predict(single.initialize(seed: 0), inputs: ["x": try sample([3, 2], seed: 2)]) }
        #expect("\(missing)".contains("extra") && "\(missing)".contains("it is optional, but the output needs it"), "\(missing)")
        // A layer that cannot do without the argument is an error naming it, not a guess.
        let stacked = try Axon.concatenate([x, extra.optional()], name: "joined").build(on: backend)
        let refused = try #require(throws: AxonError.self) { try stacked.predict(stacked.initialize(seed: 0), inputs: ["x": try sample([3, 2], seed: 2)]) }
        #expect("\(refused)".contains("joined") && "\(refused)".contains("cannot run without its input from the optional input 'extra'"), "\(refused)")
    }

    @Test("stackColumns makes [batch] and [batch, 1] columns one [batch, columns] matrix; other shapes are refused")
    func stackColumns() throws {
        let (age, income) = (Axon.input("age", shape: [nil]), Axon.input("income", shape: [nil, 1]))
        let model = Axon.stackColumns([age, income])
        #expect(try model.layers().last?.outputShape == [nil, 2])
        let built = try model.build(on: backend)
        let output = try built.predict(ModelState(parameters: [:]), inputs: ["age": try tensor([30, 40, 50], [3]), "income": try tensor([1, 2, 3], [3, 1])])
        #expect(try output.output().scalars == [30, 1, 40, 2, 50, 3])
        let error = try #require(throws: AxonError.self) { try Axon.stackColumns([age, Axon.input("wide", shape: [nil, 3])]).build(on: backend) }
        #expect("\(error)".contains("column 1 has shape [nil, 3]; each column must be [batch] or [batch, 1]"), "\(error)")
    }

    @Test("an nx function is a layer whose gradient comes from its tensor operations")
    func nxFunction() throws {
        let model = Axon.input("x", shape: [nil, 3]).nx("cube") { x in try x * x * x }
        #expect(try model.layers().last?.kind == "cube")
        let built = try model.build(on: backend)
        let x = try tensor([1, -2, 0.5], [1, 3])
        #expect(try built.predict(ModelState(parameters: [:]), inputs: ["x": x]).output().scalars == [1, -8, 0.125])
        let slope = try gradient(at: x) { x in try built.predict(ModelState(parameters: [:]), inputs: ["x": x]).output().sum() }
        #expect(try slope.scalars == [3, 12, 0.75])  // d(x³)/dx = 3x²
    }

    @Test("saved graphs keep optional inputs, optional() and stackColumns")
    func serialization() throws {
        let model = Axon.container(["attended": maskedAttention, "columns": Axon.stackColumns([Axon.input("a", shape: [nil]), Axon.input("b", shape: [nil])])])
        let loaded = try GraphSerialization.decode(try GraphSerialization.encode(model), source: "optional.json")
        #expect(try loaded.layers() == model.layers())
        let built = try loaded.build(on: backend)
        let output = try built.predict(ModelState(parameters: [:]), inputs: [
            "tokens": try sample([1, 3, 4], seed: 1), "a": try tensor([1], [1]), "b": try tensor([2], [1]),
        ])
        #expect(try output.output("columns").scalars == [1, 2])
    }
}
