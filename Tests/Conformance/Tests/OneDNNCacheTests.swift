import Foundation
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

    @Test("bfloat16 matrix products, convolutions and pooling, forward and backward, run oneDNN's bfloat16 primitives")
    func bfloat16IsNative() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        #expect(backend.nativeOperations.bfloat16 == [.matrix, .convolution, .window, .elementwise, .reduction, .normalization, .dropout])
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
        let pooling = WindowDescriptor(windowDimensions: [1, 2, 2, 1], strides: [1, 2, 2, 1], padding: Array(repeating: Padding(0, 0), count: 4))
        let pooled = try door.window(.max, input, descriptor: pooling)
        let gradPooled = try door.windowBackward(.max, input: input, gradOutput: pooled, descriptor: pooling)
        #expect([pooled, gradPooled].map(\.dtype) == [.bfloat16, .bfloat16])
        for kind in [
            "matmul bfloat16", "conv forward bfloat16", "conv backward data bfloat16", "conv backward weights bfloat16 float32 weights",
            "pool forward bfloat16", "pool backward bfloat16",
        ] {
            #expect(backend.primitiveKinds.contains(kind), "no \(kind) primitive among \(backend.primitiveKinds.sorted())")
        }
    }

    @Test("a fused elementwise pass gives the bits of the primitives it chains, for every float operation, in vectors, tails, chunks and broadcasts")
    func elementwiseProgramsMatchTheirPrimitives() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend()).checked
        // Enough elements to be cut into chunks and tiles with ragged ends; the specials first.
        let count = 100_003
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, 0, 1, -1, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let x = specials + (specials.count..<count).map { Float(($0 * 7_919) % 6_007) / 1_000 - 3 }
        let y = specials.reversed() + (specials.count..<count).map { 0.5 + Float(($0 * 104_729) % 1_009) / 1_009 }
        let a = try backend.upload(HostArray(shape: [count], elements: .float32(x)))
        let b = try backend.upload(HostArray(shape: [count], elements: .float32(y)))
        let s = try backend.upload(HostArray(shape: [], elements: .float32([0.75])))
        func bits(_ buffer: Buffer) throws -> [UInt32] { try backend.download(buffer).elements.floats.map(\.bitPattern) }
        for operation in UnaryOperation.allCases where operation.accepts(.float32) {
            let fused = try backend.elementwise(try ElementwiseProgram(inputCount: 1, steps: [.unary(operation, 0)]), [a])
            #expect(try bits(fused) == bits(try backend.unary(operation, a)), "\(operation)")
        }
        for operation in BinaryOperation.allCases where operation != .logicalAnd && operation != .logicalOr {
            for other in [b, s] {
                let fused = try backend.elementwise(try ElementwiseProgram(inputCount: 2, steps: [.binary(operation, 0, 1)]), [a, other])
                #expect(try bits(fused) == bits(try backend.binary(operation, a, other)), "\(operation) \(other.shape)")
            }
        }
        // A chain: sigmoid(x)·y, then relu, then the maximum with x, divided by the scalar.
        let chain = try ElementwiseProgram(inputCount: 3, steps: [
            .unary(.sigmoid, 0), .binary(.multiply, 3, 1), .unary(.relu, 4), .binary(.maximum, 5, 0), .binary(.divide, 6, 2),
        ])
        let stepwise = try backend.binary(
            .divide, backend.binary(.maximum, backend.unary(.relu, backend.binary(.multiply, backend.unary(.sigmoid, a), b)), a), s)
        #expect(try bits(backend.elementwise(chain, [a, b, s])) == bits(stepwise))
    }

    @Test("exp, expm1, log, log1p, tanh, erf and sigmoid run vectorised within 4 ulp of the double-precision functions, and give IEEE results at the specials")
    func transcendentalFunctionsAreAccurate() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend()).checked
        // A sweep over the range where each function is neither saturated nor overflowing, with
        // a length that leaves a ragged tail.
        let sweep = (0..<20_011).map { Float($0) / 20_011 * 40 - 20 }
        let positive = sweep.map { abs($0) + 1e-3 }
        let cases: [(UnaryOperation, [Float], (Double) -> Double)] = [
            (.exp, sweep.map { $0 * 4 }, Foundation.exp), (.expm1, sweep.map { $0 / 20 }, Foundation.expm1),
            (.log, positive, Foundation.log), (.log1p, positive.map { $0 - 0.9 }, Foundation.log1p),
            (.tanh, sweep.map { $0 / 2 }, Foundation.tanh), (.erf, sweep.map { $0 / 4 }, Foundation.erf),
            (.sigmoid, sweep, { 1 / (1 + Foundation.exp(-$0)) }),
        ]
        func ordered(_ value: Float) -> Int64 {
            let bits = Int64(value.bitPattern)
            return bits & 0x8000_0000 == 0 ? bits : 0x8000_0000 - bits
        }
        for (operation, values, exact) in cases {
            let input = try backend.upload(HostArray(shape: [values.count], elements: .float32(values)))
            let result = try backend.download(backend.unary(operation, input)).elements.floats
            let worst = zip(values, result).map { abs(ordered($1) - ordered(Float(exact(Double($0))))) }.max() ?? 0
            #expect(worst <= 4, "\(operation): \(worst) ulp")
        }
        let specials: [Float] = [.nan, .infinity, -.infinity, 0]
        let input = try backend.upload(HostArray(shape: [4], elements: .float32(specials)))
        let expected: [UnaryOperation: [Float]] = [
            .exp: [.nan, .infinity, 0, 1], .expm1: [.nan, .infinity, -1, 0], .log: [.nan, .infinity, .nan, -.infinity],
            .log1p: [.nan, .infinity, .nan, 0], .tanh: [.nan, 1, -1, 0], .erf: [.nan, 1, -1, 0], .sigmoid: [.nan, 1, 0, 0.5],
        ]
        for (operation, values) in expected {
            let result = try backend.download(backend.unary(operation, input)).elements.floats
            #expect(zip(result, values).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 }, "\(operation): \(result)")
        }
    }

    @Test("casts between float32 and bfloat16 round to nearest even and keep NaN quiet with its sign, bit for bit with BFloat16, in every vector lane")
    func bfloat16CastsMatchTheScalarRounding() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend())
        // Patterns around every kind of boundary: ties (low half 0x8000) with odd and even kept
        // halves, one either side of them, the largest finites, infinities, NaNs signalling and
        // quiet of both signs, subnormals and zeros; 1,000 of them, so full vectors and a tail
        // (the specials first and last, in a vector and in the tail).
        let specials: [UInt32] = [0x7F80_0000, 0xFF80_0000, 0x7F80_0001, 0xFF80_0001, 0x7FC0_0000, 0xFFFF_FFFF, 0x7F7F_FFFF, 0x7F7F_8000, 0x0000_0001, 0x8000_0000, 0]
        let patterns = specials + (0..<978).map { i -> UInt32 in
            let upper = UInt32(truncatingIfNeeded: i &* 2_654_435_761) & 0xFFFF_0000
            return upper | [0x8000, 0x7FFF, 0x8001, 0x0000, 0xFFFF][i % 5]
        } + specials
        let floats = patterns.map { Float(bitPattern: $0) }
        let narrowed = try backend.cast(try backend.upload(HostArray(shape: [floats.count], elements: .float32(floats))), to: .bfloat16)
        guard case let .bfloat16(halves) = try backend.download(narrowed).elements else { Issue.record("not bfloat16"); return }
        #expect(halves.map(\.bitPattern) == floats.map { BFloat16($0).bitPattern })
        // The specials by hand: infinities stay, NaNs get the quiet bit, the largest float and
        // the tie above bfloat16's largest finite (odd) round to infinity.
        let expected: [UInt16] = [0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7FC0, 0xFFFF, 0x7F80, 0x7F80, 0x0000, 0x8000, 0x0000]
        #expect(Array(halves.prefix(11).map(\.bitPattern)) == expected)
        #expect(Array(halves.suffix(11).map(\.bitPattern)) == expected)
        let widened = try backend.cast(narrowed, to: .float32)
        #expect(try backend.download(widened).elements.floats.map(\.bitPattern) == halves.map { UInt32($0.bitPattern) << 16 })
    }

    @Test("relu and its gradient on bfloat16 bits give, for every bfloat16 value, the bits of the float32 ops rounded back")
    func bfloat16ReluMatchesFloat32OnEveryValue() throws {
        let backend = try OneDNNBackend(host: ReferenceBackend()).checked
        let reference = ReferenceBackend().checked
        // All 65,536 patterns (NaNs, infinities, zeros, subnormals), and gradients from a
        // scrambled copy, so every pairing of signs and specials occurs.
        let values = (0..<65_536).map { BFloat16(bitPattern: UInt16($0)) }
        let gradients = (0..<65_536).map { BFloat16(bitPattern: UInt16(truncatingIfNeeded: $0 &* 40_503)) }
        func bits(_ door: any Backend, _ body: (any Backend, Buffer, Buffer) throws -> Buffer) throws -> [UInt16] {
            let x = try door.upload(HostArray(shape: [256, 256], elements: .bfloat16(values)))
            let g = try door.upload(HostArray(shape: [256, 256], elements: .bfloat16(gradients)))
            guard case let .bfloat16(result) = try door.download(body(door, x, g)).elements else { return [] }
            return result.map(\.bitPattern)
        }
        let relu: (any Backend, Buffer, Buffer) throws -> Buffer = { door, x, _ in try door.unary(.relu, x) }
        let backward: (any Backend, Buffer, Buffer) throws -> Buffer = { door, x, g in
            try door.activationBackward(.relu, output: door.unary(.relu, x), gradOutput: g)
        }
        #expect(try bits(backend, relu).count == 65_536)
        #expect(try bits(backend, relu) == bits(reference, relu))
        #expect(try bits(backend, backward) == bits(reference, backward))
    }
}
#endif
