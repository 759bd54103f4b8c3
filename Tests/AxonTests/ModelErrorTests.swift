import AxonCore
import Backend
import Testing

/// Every build and predict error names the layer (or input) and the shapes involved.
@Suite("Model graph: error messages")
struct ModelErrorTests {
    func buildError(_ model: Axon) -> String? { errorMessage { _ = try model.build(on: backend) } }

    @Test("an input of the wrong size or rank names the input and both shapes")
    func wrongInput() throws {
        let built = try Axon.input("features", shape: [nil, 784]).dense(10).build(on: backend)
        let state = try built.initialize(seed: 0)
        let wrongSize = errorMessage { _ = try built.predict(state, inputs: ["features": try Tensor.zeros(shape: [2, 10], on: backend)]) }
        #expect(wrongSize == "input 'features': expected shape [nil, 784], got [2, 10]")
        let wrongRank = errorMessage { _ = try built.predict(state, inputs: ["features": try Tensor.zeros(shape: [784], on: backend)]) }
        #expect(wrongRank == "input 'features': expected shape [nil, 784], got [784]")
        let wrongType = errorMessage {
            _ = try built.predict(state, inputs: ["features": try Tensor.zeros(shape: [1, 784], dtype: .int32, on: backend)])
        }
        #expect(wrongType == "input 'features': expected dtype float32, got int32")
    }

    @Test("incompatible layers")
    func incompatibleLayers() {
        #expect(buildError(Axon.input("x", shape: []).dense(3))
            == "layer 'dense_0' (dense): needs an input of rank ≥ 1 with a known last dimension, got []")
        #expect(buildError(Axon.add([Axon.input("a", shape: [nil, 3]), Axon.input("b", shape: [nil, 4])]))
            == "layer 'add_0' (add): inputs must have one shape, got [nil, 3] and [nil, 4]")
        #expect(buildError(Axon.input("x", shape: [nil, 4]).conv(2))
            == "layer 'conv_0' (conv): needs an input [batch, spatial..., channels] of rank ≥ 3, got [nil, 4]")
        #expect(buildError(Axon.input("x", shape: [nil, 2, 2, 1]).conv(2, kernelSize: [3]))
            == "layer 'conv_0' (conv): input [nil, 2, 2, 1] is too small for a kernel of extent [3, 3] with padding valid")
        #expect(buildError(Axon.concatenate([Axon.input("a", shape: [nil, 3, 2]), Axon.input("b", shape: [nil, 4, 2])], axis: -1))
            == "layer 'concatenate_0' (concatenate): inputs must agree outside axis -1, got [nil, 3, 2] and [nil, 4, 2]")
        #expect(buildError(Axon.input("x", shape: [nil, 6]).reshape([4]))
            == "layer 'reshape_0' (reshape): cannot reshape examples of shape [6] to [4]")
        #expect(buildError(Axon.input("x", shape: [nil, 2, 3]).transpose([0, 2]))
            == "layer 'transpose_0' (transpose): [0, 2] is not a permutation of the 2 example axes of [nil, 2, 3]")
        #expect(buildError(Axon.input("x", shape: [nil, 5]).split(2)[0])
            == "layer 'split_0' (split): cannot split axis -1 of [nil, 5] into 2 equal parts")
        let twoInputs = Axon.add([Axon.input("a", shape: [nil, 2]), Axon.input("b", shape: [nil, 2])])
        #expect(buildError(twoInputs(Axon.input("c", shape: [nil, 2])))
            == "layer 'invalid_0' (invalid): composition needs a model with exactly one input, this one has 2; pass inputs by name")
    }

    @Test("bad options")
    func badOptions() {
        #expect(buildError(Axon.input("x", shape: [nil, 4]).dense(0)) == "layer 'dense_0' (dense): units must be positive, got 0")
        #expect(buildError(Axon.input("x", shape: [nil, 4]).dropout(rate: -0.1))
            == "layer 'dropout_0' (dropout): rate must be in [0, 1), got -0.1")
        #expect(buildError(Axon.input("x", shape: [nil, 4, 4, 2]).conv(3, groups: 2))
            == "layer 'conv_0' (conv): filters (3) and input channels (2) must be positive multiples of groups (2)")
        #expect(buildError(Axon.input("x", shape: [nil, 4, 4, 2]).maxPool(kernelSize: [2, 2, 2]))
            == "layer 'max_pool_0' (max_pool): kernel size needs 1 or 2 values for 2 spatial dimensions, got 3")
        #expect(buildError(Axon.input("x", shape: [nil, 4, 4, 2]).conv(2, strides: [0]))
            == "layer 'conv_0' (conv): strides must be ≥ 1, got [0]")
        #expect(buildError(Axon.input("x", shape: [nil, 3]).batchNorm(momentum: 1))
            == "layer 'batch_norm_0' (batch_norm): epsilon must be positive and momentum in [0, 1), got 1e-05 and 1.0")
        #expect(buildError(Axon.input("x", shape: [nil, 3]).embedding(vocabularySize: 0, features: 2))
            == "layer 'embedding_0' (embedding): vocabulary size and features must be positive, got 0 and 2")
    }

    @Test("a custom layer's failure names the layer")
    func customLayerFailure() {
        let model = Axon.layer("broken", inputs: [Axon.input("x", shape: [nil, 2])]) { inputs, _ in
            try inputs[0].matmul(inputs[0])
        }
        #expect(buildError(model) == "layer 'broken_0' (broken): matmul: shape mismatch: inner dimensions differ: [1, 2] · [1, 2] has 2 vs 1")
    }
}
