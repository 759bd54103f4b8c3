import AxonCore
import Backend
import Foundation
import Testing

/// Recurrent layers against hand-derived steps, the defining properties of masking and reverse
/// reading, finite-difference gradients through time, and their errors. Agreement with
/// PyTorch's `nn.LSTM`, `nn.GRU` and `nn.RNN` (packed variable-length and bidirectional) is in
/// the recorded conformance cases.
@Suite("Recurrent layers")
struct RecurrentLayerTests {
    func weights(_ cell: RecurrentCell, features: Int, units: Int, seed: UInt64) throws -> RecurrentWeights {
        try RecurrentWeights(
            kernel: sample([features, cell.gates * units], seed: seed), recurrentKernel: sample([units, cell.gates * units], seed: seed + 1),
            bias: sample([cell.gates * units], seed: seed + 2),
            recurrentBias: cell == .gru(resetAfter: true) ? sample([cell.gates * units], seed: seed + 3) : nil)
    }

    @Test("a simple RNN step is tanh(x·W + h·U + b)")
    func simpleSteps() throws {
        let w = RecurrentWeights(kernel: try tensor([0.5], [1, 1]), recurrentKernel: try tensor([0.25], [1, 1]), bias: try tensor([0.1], [1]))
        let (sequence, states) = try Layers.recurrent(.simple, tensor([1, 2], [1, 2, 1]), weights: w)
        let h1 = Foundation.tanh(0.5 + 0.1)
        let h2 = Foundation.tanh(1 + 0.25 * h1 + 0.1)
        try expectClose(sequence, [Float(h1), Float(h2)], shape: [1, 2, 1])
        try expectClose(states[0], [Float(h2)], shape: [1, 1])
    }

    @Test("an LSTM step from zero state is σ(o)·tanh(σ(i)·tanh(g))")
    func lstmFirstStep() throws {
        // One unit, gates i, f, g, o with input weights 1, 2, 3, 4 and no bias; x = 0.5.
        let w = RecurrentWeights(kernel: try tensor([1, 2, 3, 4], [1, 4]), recurrentKernel: try tensor([0, 0, 0, 0], [1, 4]))
        let (_, states) = try Layers.recurrent(.lstm, tensor([0.5], [1, 1, 1]), weights: w)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        let c = sigmoid(0.5) * Foundation.tanh(1.5)
        try expectClose(states[1], [Float(c)])
        try expectClose(states[0], [Float(sigmoid(2) * Foundation.tanh(c))])
    }

    @Test("a sequence shorter than the batch's keeps its state and outputs zeros after its length")
    func masking() throws {
        let x = try sample([2, 4, 3], seed: 1)
        for cell in [RecurrentCell.lstm, .gru(resetAfter: true), .gru(resetAfter: false), .simple] {
            let w = try weights(cell, features: 3, units: 2, seed: 10)
            let masked = try Layers.recurrent(cell, x, weights: w, lengths: Tensor(integers: [4, 2], shape: [2], on: backend))
            // The second sequence alone, cut to its two steps.
            let alone = try Layers.recurrent(cell, x.sliced(starts: [1, 0, 0], limits: [2, 2, 3]), weights: w)
            let rows = try masked.sequence.scalars
            expectClose(Array(rows[8..<12]), try alone.sequence.scalars, atol: 1e-6)
            #expect(Array(rows[12..<16]) == [0, 0, 0, 0])
            for (state, single) in zip(masked.states, alone.states) {
                expectClose(Array(try state.scalars[2..<4]), try single.scalars, atol: 1e-6)
            }
        }
    }

    @Test("reverse reads each sequence backwards within its own length and returns outputs in input order")
    func reverseWithinLength() throws {
        let x = try sample([1, 4, 3], seed: 2)
        let w = try weights(.lstm, features: 3, units: 2, seed: 20)
        let reversed = try Layers.recurrent(.lstm, x, weights: w, lengths: Tensor(integers: [3], shape: [1], on: backend), reverse: true)
        // Steps 2, 1, 0 read forwards.
        let backwards = try Tensor.concatenate([x.sliced(axis: 1, 2..<3), x.sliced(axis: 1, 1..<2), x.sliced(axis: 1, 0..<1)], axis: 1)
        let forward = try Layers.recurrent(.lstm, backwards, weights: w)
        let (r, f) = (try reversed.sequence.scalars, try forward.sequence.scalars)
        expectClose(Array(r[0..<2]), Array(f[4..<6]), atol: 1e-6)
        expectClose(Array(r[4..<6]), Array(f[0..<2]), atol: 1e-6)
        #expect(Array(r[6..<8]) == [0, 0])
        expectClose(try reversed.states[0].scalars, try forward.states[0].scalars, atol: 1e-6)
    }

    @Test("gradients through time match finite differences for every cell, with lengths and initial states")
    func gradients() throws {
        let lengths = try Tensor(integers: [3, 2], shape: [2], on: backend)
        for cell in [RecurrentCell.lstm, .gru(resetAfter: true), .gru(resetAfter: false), .simple] {
            let w = try weights(cell, features: 2, units: 2, seed: 30)
            let inputs = [try sample([2, 3, 2], seed: 31), w.kernel, w.recurrentKernel, try sample([2, 2], seed: 32)] + (w.recurrentBias.map { [$0] } ?? [])
            try checkGradients(inputs) { v in
                let weights = RecurrentWeights(kernel: v[1], recurrentKernel: v[2], bias: w.bias, recurrentBias: v.count > 4 ? v[4] : nil)
                let states = cell == .lstm ? [v[3], try v[3] * 0.5] : [v[3]]
                let result = try Layers.recurrent(cell, v[0], weights: weights, initialStates: states, lengths: lengths, reverse: true)
                return try result.sequence.sum(axes: [1]) + result.states[0]
            }
        }
    }

    @Test("the backend's whole-sequence op and the static unroll give the same outputs and gradients")
    func dynamicLoopMatchesStaticUnroll() throws {
        let lengths = try Tensor(integers: [4, 1, 3], shape: [3], on: backend)
        for cell in [RecurrentCell.lstm, .gru(resetAfter: true), .gru(resetAfter: false), .simple] {
            for (reverse, activation) in [(false, Activation.tanh), (true, .relu)] {
                let w = try weights(cell, features: 3, units: 2, seed: 33)
                let inputs = [try sample([3, 4, 3], seed: 34), w.kernel, w.recurrentKernel] + (w.bias.map { [$0] } ?? [])
                func run(unroll: Bool) throws -> (Tensor, ParameterStore) {
                    var parameters = ParameterStore()
                    for (index, input) in inputs.enumerated() { parameters["v\(index)"] = input }
                    return try valueAndGradient(at: parameters) { p in
                        let weights = RecurrentWeights(
                            kernel: try p.tensor("v1"), recurrentKernel: try p.tensor("v2"), bias: try p.tensor("v3"), recurrentBias: w.recurrentBias,
                            activation: activation, recurrentDropout: (0.3, Philox.Key(seed: 35)))
                        let result = try Layers.recurrent(
                            cell, try p.tensor("v0"), weights: weights, lengths: lengths, reverse: reverse, unroll: unroll)
                        return try result.sequence.sum(axes: [0, 1, 2]) + result.states[result.states.count - 1].square().sum(axes: [0, 1])
                    }
                }
                let (loop, loopGradients) = try run(unroll: false)
                let (unrolled, unrolledGradients) = try run(unroll: true)
                expectClose(try loop.scalars, try unrolled.scalars, atol: 1e-6)
                for name in ["v0", "v1", "v2", "v3"] {
                    expectClose(try loopGradients.tensor(name).scalars, try unrolledGradients.tensor(name).scalars, atol: 1e-5)
                }
            }
        }
    }

    @Test("gradients of the whole-sequence op with recurrent dropout and relu match finite differences")
    func fusedGradientsWithDropout() throws {
        let lengths = try Tensor(integers: [3, 2], shape: [2], on: backend)
        for cell in [RecurrentCell.gru(resetAfter: false), .simple, .lstm] {
            let w = try weights(cell, features: 2, units: 2, seed: 36)
            try checkGradients([try sample([2, 3, 2], seed: 37), w.kernel, w.recurrentKernel]) { v in
                let weights = RecurrentWeights(
                    kernel: v[1], recurrentKernel: v[2], bias: w.bias, activation: .relu, recurrentDropout: (0.4, Philox.Key(seed: 38)))
                let result = try Layers.recurrent(cell, v[0], weights: weights, lengths: lengths, reverse: true)
                return try result.sequence.sum(axes: [1]) + result.states[0]
            }
        }
    }

    @Test("a convolutional LSTM with 1-wide kernels is an LSTM at every position on its own")
    func convLSTMPointwise() throws {
        // x [batch 2, time 3, width 4, channels 2]; kernels [1, 2, 12] and [1, 3, 12].
        let x = try sample([2, 3, 4, 2], seed: 50)
        let w = try weights(.lstm, features: 2, units: 3, seed: 51)
        let convolutional = RecurrentWeights(
            kernel: try w.kernel.reshaped(to: [1, 2, 12]), recurrentKernel: try w.recurrentKernel.reshaped(to: [1, 3, 12]), bias: w.bias)
        let lengths = try Tensor(integers: [3, 2], shape: [2], on: backend)
        let conv = try Layers.recurrent(
            .lstm, x, weights: convolutional, lengths: lengths, reverse: true, convolution: RecurrentConvolution(strides: [1], dilation: [1]))
        #expect(conv.sequence.shape == [2, 3, 4, 3])
        // Every (batch, position) pair as its own sequence: [batch·width, time, channels].
        let positions = try x.permuted([0, 2, 1, 3]).reshaped(to: [8, 3, 2])
        let perPosition = try Tensor(integers: [3, 3, 3, 3, 2, 2, 2, 2], shape: [8], on: backend)
        let dense = try Layers.recurrent(.lstm, positions, weights: w, lengths: perPosition, reverse: true)
        let expected = try dense.sequence.reshaped(to: [2, 4, 3, 3]).permuted([0, 2, 1, 3])
        expectClose(try conv.sequence.scalars, try expected.scalars, atol: 1e-6)
        expectClose(try conv.states[1].scalars, try dense.states[1].scalars, atol: 1e-6)
    }

    @Test("a convolutional LSTM strides its input convolution and keeps the state's size in the recurrence")
    func convLSTMShapesAndGradients() throws {
        let model = Axon.input("x", shape: [nil, 3, 6, 5, 2]).convLSTM(4, kernelSize: [3], strides: [2], name: "conv_lstm")
        let built = try Axon.container(["sequence": model.sequence, "cell": model.states[1]]).build(on: backend)
        let state = try built.initialize(seed: 0)
        let output = try built.predict(state, inputs: ["x": try sample([2, 3, 6, 5, 2], seed: 52)])
        #expect(try output.output("sequence").shape == [2, 3, 3, 3, 4])
        #expect(try output.output("cell").shape == [2, 3, 3, 4])
        #expect(try state.parameters.tensor("conv_lstm.kernel").shape == [3, 3, 2, 16])
        #expect(try state.parameters.tensor("conv_lstm.recurrent_kernel").shape == [3, 3, 4, 16])
        let w = RecurrentWeights(kernel: try sample([3, 2, 8], seed: 53), recurrentKernel: try sample([3, 2, 8], seed: 54), bias: try sample([8], seed: 55))
        try checkGradients([try sample([2, 3, 5, 2], seed: 56), w.kernel, w.recurrentKernel]) { v in
            let weights = RecurrentWeights(kernel: v[1], recurrentKernel: v[2], bias: w.bias)
            return try Layers.recurrent(.lstm, v[0], weights: weights, convolution: RecurrentConvolution(strides: [2], dilation: [1])).sequence
        }
    }

    @Test("lengths from padding end one past each row's last token, and drive the masking")
    func lengthsFromPadding() throws {
        let tokens = try Tensor(integers: [3, 1, 0, 0, 2, 0, 4, 0, 5, 5, 5, 5], shape: [3, 4], on: backend)
        #expect(try Layers.sequenceLengths(tokens).array.elements == .int32([2, 3, 4]))
        let ids = Axon.input("tokens", shape: [nil, 4], dtype: .int32)
        let model = ids.embedding(vocabularySize: 6, features: 3).gru(2, lengths: ids.sequenceLengths(), name: "gru").sequence
        let built = try model.build(on: backend)
        let sequence = try built.predict(built.initialize(seed: 0), inputs: ["tokens": tokens]).output().scalars
        // Row 0 has length 2: its last two steps output zeros.
        #expect(Array(sequence[4..<8]) == [0, 0, 0, 0])
        #expect(sequence[0..<4].contains { $0 != 0 })
    }

    @Test("the LSTM's unit forget bias starts the forget gate's bias block at one")
    func unitForgetBias() throws {
        let built = try Axon.input("x", shape: [nil, 3, 2]).lstm(2, name: "lstm").sequence.build(on: backend)
        let bias = try built.initialize(seed: 0).parameters.tensor("lstm.bias").scalars
        #expect(bias == [0, 0, 1, 1, 0, 0, 0, 0])
    }

    @Test("bad lengths, zero-length sequences and mismatched states are refused with the shapes")
    func badInput() throws {
        let x = try sample([2, 3, 2], seed: 40)
        let w = try weights(.gru(resetAfter: true), features: 2, units: 2, seed: 41)
        let cases: [(() throws -> Void, String)] = [
            ({ _ = try Layers.recurrent(.gru(resetAfter: true), x, weights: w, lengths: Tensor(integers: [3, 4], shape: [2], on: backend)) }, "every length in 1...3"),
            ({ _ = try Layers.recurrent(.gru(resetAfter: true), x, weights: w, lengths: Tensor(integers: [0, 1], shape: [2], on: backend)) }, "every length in 1...3"),
            ({ _ = try Layers.recurrent(.gru(resetAfter: true), x, weights: w, lengths: Tensor(integers: [3], shape: [1], on: backend)) }, "shape [2]"),
            ({ _ = try Layers.recurrent(.gru(resetAfter: true), sample([2, 0, 2], seed: 1), weights: w) }, "at least one time step"),
            ({ _ = try Layers.recurrent(.gru(resetAfter: true), x, weights: w, initialStates: [sample([2, 3], seed: 2)]) }, "initial state(s) of shape [2, 2]"),
            ({ _ = try Layers.recurrent(.lstm, x, weights: w) }, "4 gate blocks"),
        ]
        for (body, expected) in cases {
            let message = errorMessage(body)
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
        }
    }
}
