import AxonCore
import Backend
import Testing

@Suite("Regularization")
struct RegularizationTests {
    @Test("l1, l2 and both, by hand")
    func penalties() throws {
        let w = try tensor([1, -2, 3], [3])
        try expectClose(Regularizer.l1(0.1).penalty(w), [0.6])
        try expectClose(Regularizer.l2(0.1).penalty(w), [1.4])
        try expectClose(Regularizer.l1l2(l1: 0.1, l2: 0.1).penalty(w), [2.0])
    }

    @Test("a layer's kernel regulariser adds to the training loss and pulls weights toward 0")
    func kernelRegularizer() throws {
        let model = Axon.input("x", shape: [nil, 2]).dense(1, kernelRegularizer: .l2(0.5))
        let built = try model.build(on: backend, mode: .train)
        let state = try built.initialize(seed: 0)
        let kernel = try state.parameters.tensor("dense_0.kernel")
        let expected = try kernel.square().sum() * 0.5
        try expectClose(try #require(try built.regularizationPenalty(state.parameters)), try expected.scalars)
        #expect(try Axon.input("x", shape: [nil, 2]).dense(1).build(on: backend).regularizationPenalty(state.parameters) == nil)
        // With zero inputs the data loss has no gradient, so only the penalty moves the kernel:
        // one SGD step of rate 0.1 scales it by 1 − 0.1 · 2 · 0.5 = 0.9.
        let batch = Batch(inputs: ["x": try Tensor.zeros(shape: [4, 2], on: backend)], targets: try Tensor.zeros(shape: [4, 1], on: backend))
        let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend, initialState: state)
        let final = try loop.run([batch], epochs: 1)
        try expectClose(final.stepState.model.parameters.tensor("dense_0.kernel"), try (kernel * 0.9).scalars, atol: 1e-6)
    }
}
