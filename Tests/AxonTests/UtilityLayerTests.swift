import AxonCore
import Backend
import Testing

/// Constant, bias and bilinear layers against hand-derived values and finite differences.
@Suite("Utility layers")
struct UtilityLayerTests {
    @Test("a constant node adds its fixed values and a bias layer its parameter")
    func constantAndBias() throws {
        let constant = Axon.constant(try HostArray(shape: [2], elements: .float32([10, 20])))
        let model = Axon.layer("shift", inputs: [Axon.input("x", shape: [nil, 2]).bias(name: "offset"), constant]) { inputs, _ in try inputs[0] + inputs[1] }
        let built = try model.build(on: backend)
        var state = try built.initialize(seed: 0)
        state.parameters["offset.bias"] = try tensor([1, 2], [2])
        try expectClose(built.predict(state, inputs: ["x": tensor([0.5, 0.25], [1, 2])]).output(), [11.5, 22.25], shape: [1, 2])
    }

    @Test("bilinear sums a_i · W_oij · b_j for each output")
    func bilinearByHand() throws {
        // W₀ is the identity (a·b = 1·3 + 2·4 = 11), W₁ picks a₀·b₁ = 4; bias [0.5, 0].
        let kernel = try tensor([1, 0, 0, 1, 0, 1, 0, 0], [2, 2, 2])
        let y = try Layers.bilinear(tensor([1, 2], [1, 2]), tensor([3, 4], [1, 2]), kernel: kernel, bias: tensor([0.5, 0], [2]))
        try expectClose(y, [11.5, 4], shape: [1, 2])
        try checkGradients([try sample([3, 2, 4], seed: 1), try sample([3, 2, 3], seed: 2), try sample([5, 4, 3], seed: 3)]) { v in
            try Layers.bilinear(v[0], v[1], kernel: v[2])
        }
    }

    @Test("cond picks a branch by the predicate's value, and only that branch gets a gradient")
    func condition() throws {
        let x = Axon.input("x", shape: [nil, 2])
        let model = Axon.cond(x, { try $0.sum().item() > 0 }, then: x.dense(2, useBias: false, name: "a"), else: x.dense(2, useBias: false, name: "b"))
        let built = try model.build(on: backend)
        var state = try built.initialize(seed: 0)
        state.parameters["a.kernel"] = try tensor([1, 0, 0, 1], [2, 2])
        state.parameters["b.kernel"] = try tensor([2, 0, 0, 2], [2, 2])
        try expectClose(built.predict(state, inputs: ["x": tensor([1, 2], [1, 2])]).output(), [1, 2])
        try expectClose(built.predict(state, inputs: ["x": tensor([-1, -2], [1, 2])]).output(), [-2, -4])
        let gradients = try gradient(at: state.parameters) { p in
            try built.predict(ModelState(parameters: p, state: state.state), inputs: ["x": tensor([1, 2], [1, 2])]).output().sum()
        }
        #expect(try gradients.tensor("a.kernel").scalars == [1, 1, 2, 2])
        #expect(try gradients.tensor("b.kernel").scalars == [0, 0, 0, 0])
        let mismatched = Axon.cond(x, { _ in true }, then: x, else: x.dense(3))
        #expect(errorMessage { _ = try mismatched.build(on: backend) }?.contains("branches of one shape") == true)
    }

    @Test("bilinear inputs with different leading axes are refused")
    func bilinearBadShapes() throws {
        let model = Axon.bilinear(Axon.input("a", shape: [nil, 3, 2]), Axon.input("b", shape: [nil, 4, 2]), units: 2)
        let message = errorMessage { _ = try model.build(on: backend) }
        #expect(message?.contains("the same leading axes") == true, "\(message ?? "no error")")
    }
}
