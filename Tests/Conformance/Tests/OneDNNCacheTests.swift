#if OneDNN
import AxonCore
import Backend
import CPUReference
import OneDNN
import Testing

@Suite("oneDNN backend: primitive cache")
struct OneDNNCacheTests {
    @Test("a training step creates no primitives after the first")
    func noPrimitivesAfterFirstStep() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        let model = Axon.input("features", shape: [nil, 8, 8, 1])
            .conv(4, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dense(16, activation: .relu).dense(10)
        let x = try Tensor(InputSpecValues.uniform(count: 4 * 64), shape: [4, 8, 8, 1], on: backend)
        let y = try Tensor(integers: [0, 1, 2, 3], shape: [4], on: backend)
        var createdAfterStep: [Int] = []
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 1e-3),
            on: backend
        ).handle(.iterationCompleted) { _ in
            createdAfterStep.append(backend.primitivesCreated)
            return .proceed
        }
        _ = try loop.run(Array(repeating: Batch(inputs: ["features": x], targets: y), count: 3), epochs: 1)
        #expect(createdAfterStep[0] > 0)
        #expect(createdAfterStep == Array(repeating: createdAfterStep[0], count: 3))
    }

    @Test("a transposed convolution runs oneDNN's deconvolution primitive, with bias and activation fused")
    func transposedConvolutionIsNative() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        let x = try Tensor(InputSpecValues.uniform(count: 2 * 3 * 3 * 4), shape: [2, 3, 3, 4], on: backend)
        let kernel = try Tensor(InputSpecValues.uniform(count: 3 * 3 * 2 * 4), shape: [3, 3, 2, 4], on: backend)
        let bias = try Tensor(InputSpecValues.uniform(count: 2), shape: [2], on: backend)
        let y = try x.transposedConvolution(
            kernel: kernel, bias: bias, outputShape: [2, 6, 6, 2],
            descriptor: ConvolutionDescriptor(strides: [2, 2], padding: [Padding(1, 1), Padding(1, 1)]), activation: .relu)
        #expect(y.shape == [2, 6, 6, 2])
        #expect(backend.primitiveKinds.contains("deconv forward"))
        #expect(!backend.primitiveKinds.contains("conv backward data"))
    }

    @Test("LSTM, GRU and simple RNN sequences run oneDNN's RNN primitives forward and backward; variable lengths take the composition")
    func recurrentSequencesAreNative() throws {
        for (cell, activation) in [(RecurrentCell.lstm, Activation.tanh), (.gru(resetAfter: true), .tanh), (.simple, .relu)] {
            for withLengths in [false, true] {
                let backend = try OneDNNBackend(host: ReferenceBackend())
                func uniform(_ shape: Shape) throws -> Tensor { try Tensor(InputSpecValues.uniform(count: shape.elementCount), shape: shape, on: backend) }
                let width = cell.gates * 3
                var parameters = ParameterStore()
                parameters["kernel"] = try uniform([4, width])
                parameters["recurrent"] = try uniform([3, width])
                let (_, gradients) = try valueAndGradient(at: parameters) { p in
                    let weights = RecurrentWeights(
                        kernel: try p.tensor("kernel"), recurrentKernel: try p.tensor("recurrent"), bias: try uniform([width]),
                        recurrentBias: cell == .gru(resetAfter: true) ? try uniform([width]) : nil, activation: activation)
                    let lengths = withLengths ? try Tensor(integers: [5, 2], shape: [2], on: backend) : nil
                    return try Layers.recurrent(cell, try uniform([2, 5, 4]), weights: weights, lengths: lengths, reverse: true).sequence.sum(axes: [0, 1, 2])
                }
                #expect(try gradients.tensor("kernel").shape == [4, width])
                #expect(backend.primitiveKinds.contains("rnn forward") != withLengths, "\(cell) lengths \(withLengths): \(backend.primitiveKinds)")
                #expect(backend.primitiveKinds.contains("rnn backward") != withLengths, "\(cell) lengths \(withLengths): \(backend.primitiveKinds)")
            }
        }
    }

    @Test("attention runs its scores as one oneDNN matmul with the scale and mask fused as post-ops")
    func attentionScoresAreOnePrimitive() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        func uniform(_ shape: Shape) throws -> Tensor { try Tensor(InputSpecValues.uniform(count: shape.elementCount), shape: shape, on: backend) }
        let mask = try Tensor(Array(repeating: true, count: 10) + Array(repeating: false, count: 5), shape: [3, 5], on: backend)
        let result = try uniform([2, 3, 4]).attention(
            key: try uniform([2, 5, 4]), value: try uniform([2, 5, 2]), mask: mask, descriptor: AttentionDescriptor(scale: 0.5, causal: true))
        #expect(result.output.shape == [2, 3, 2])
        #expect(backend.primitiveKinds.contains("attention scores"))
    }

    @Test("bfloat16 matrix products and convolutions, forward and backward, run oneDNN's bfloat16 primitives")
    func bfloat16IsNative() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        #expect(backend.nativeOperations.bfloat16 == [.matrix, .convolution])
        let door = backend.checked
        func upload(_ shape: Shape) throws -> Buffer {
            let values = InputSpecValues.uniform(count: shape.elementCount).map { BFloat16($0) }
            return try door.upload(HostArray(shape: shape, elements: .bfloat16(values)))
        }
        let product = try door.matmul(upload([4, 8]), upload([8, 3]), transposeA: false, transposeB: false)
        let descriptor = ConvolutionDescriptor(strides: [1, 1], padding: [Padding(1, 1), Padding(1, 1)])
        let (input, kernel) = (try upload([2, 5, 5, 3]), try upload([3, 3, 3, 4]))
        let output = try door.convolution(input, kernel: kernel, descriptor: descriptor)
        let gradInput = try door.convolutionBackwardInput(gradOutput: output, kernel: kernel, inputShape: input.shape, descriptor: descriptor)
        let gradKernel = try door.convolutionBackwardKernel(input: input, gradOutput: output, kernelShape: kernel.shape, descriptor: descriptor)
        #expect([product, output, gradInput, gradKernel].map(\.dtype) == Array(repeating: .bfloat16, count: 4))
        for kind in ["matmul bfloat16", "conv forward bfloat16", "conv backward data bfloat16", "conv backward weights bfloat16"] {
            #expect(backend.primitiveKinds.contains(kind), "no \(kind) primitive among \(backend.primitiveKinds.sorted())")
        }
    }
}
#endif
