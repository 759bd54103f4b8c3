import Backend

/// Every backend operation by name, as conformance cases and case files refer to them. The
/// names of enum-parameterised families carry the case (`unary.exp`, `reduce.sum`, ...).
public enum OpTable {
    typealias Run = @Sendable (any Backend, [Buffer], Attributes) throws -> [Buffer]

    /// The operation names the table knows.
    public static var names: [String] { table.keys.sorted() }

    /// Runs operation `name` on `backend`.
    public static func run(_ name: String, on backend: any Backend, inputs: [Buffer], attributes: Attributes) throws -> [Buffer] {
        guard let run = table[name] else { throw ConformanceError("unknown op '\(name)'") }
        return try run(backend, inputs, attributes)
    }

    static func padding(_ values: [Int]) -> [Padding] {
        stride(from: 0, to: values.count - 1, by: 2).map { Padding(values[$0], values[$0 + 1]) }
    }

    static func convolution(_ a: Attributes) throws -> ConvolutionDescriptor {
        ConvolutionDescriptor(
            strides: try a.ints("strides", default: []), padding: padding(try a.ints("padding", default: [])),
            inputDilation: try a.ints("inputDilation", default: []), kernelDilation: try a.ints("kernelDilation", default: []),
            groups: try a.int("groups", default: 1))
    }

    static func window(_ a: Attributes) throws -> WindowDescriptor {
        WindowDescriptor(
            windowDimensions: try a.ints("window"), strides: try a.ints("strides"), padding: padding(try a.ints("padding")))
    }

    /// An elementwise program of `inputs` inputs from the attribute `steps`: `operation
    /// register [register]` per step, separated by `;` (`multiply 0 1; exp 2`).
    static func program(_ a: Attributes, inputs: Int) throws -> ElementwiseProgram {
        let steps = try a.string("steps").split(separator: ";").map { text -> ElementwiseProgram.Step in
            let words = text.split(separator: " ").map(String.init)
            let registers = words.dropFirst().compactMap { Int($0) }
            if let operation = UnaryOperation(rawValue: words.first ?? ""), registers.count == 1 { return .unary(operation, registers[0]) }
            if let operation = BinaryOperation(rawValue: words.first ?? ""), registers.count == 2 { return .binary(operation, registers[0], registers[1]) }
            throw ConformanceError("cannot read the program step '\(text)'")
        }
        return try ElementwiseProgram(inputCount: inputs, steps: steps)
    }

    static func activation(_ a: Attributes) throws -> FusedActivation {
        let name = try a.string("activation", default: "identity")
        guard let activation = FusedActivation(rawValue: name) else { throw ConformanceError("unknown activation '\(name)'") }
        return activation
    }

    /// A recurrent sequence's operands from inputs `[x, kernel, recurrentKernel, bias,
    /// recurrentBias (GRU reset-after only), states..., lengths?, mask?]` and attributes `cell`
    /// (`simple`, `lstm`, `gru`, `gru_before`), `activation`, `reverse`, `lengths`, `mask`.
    static func recurrent(_ x: [Buffer], _ a: Attributes) throws -> (RecurrentOperands, RecurrentDescriptor) {
        let cells: [String: RecurrentDescriptor.Cell] = ["simple": .simple, "lstm": .lstm, "gru": .gru(resetAfter: true), "gru_before": .gru(resetAfter: false)]
        let name = try a.string("cell")
        guard let cell = cells[name] else { throw ConformanceError("unknown cell '\(name)'") }
        let d = RecurrentDescriptor(cell: cell, activation: try activation(a), reverse: try a.bool("reverse", default: false))
        var rest = Array(x.dropFirst(4))
        let recurrentBias = cell == .gru(resetAfter: true) ? rest.removeFirst() : nil
        let states = Array(rest.prefix(d.stateCount))
        rest.removeFirst(d.stateCount)
        let lengths = try a.bool("lengths", default: false) ? rest.removeFirst() : nil
        let mask = try a.bool("mask", default: false) ? rest.removeFirst() : nil
        let operands = RecurrentOperands(
            input: x[0], kernel: x[1], recurrentKernel: x[2], bias: x[3], recurrentBias: recurrentBias, initialStates: states, lengths: lengths,
            recurrentMask: mask)
        return (operands, d)
    }

    static func dtype(_ a: Attributes) throws -> DType {
        let name = try a.string("dtype", default: "float32")
        guard let dtype = DType(rawValue: name) else { throw ConformanceError("unknown dtype '\(name)'") }
        return dtype
    }

    static func key(_ a: Attributes) throws -> Philox.Key { Philox.Key(seed: UInt64(try a.int("seed", default: 0))) }

    static func attention(_ a: Attributes) throws -> AttentionDescriptor {
        let rate = Float(try a.double("dropout", default: 0))
        return AttentionDescriptor(
            scale: Float(try a.double("scale")), causal: try a.bool("causal", default: false),
            dropout: rate > 0 ? AttentionDescriptor.Dropout(rate: rate, key: try key(a), offset: UInt64(try a.int("offset", default: 0))) : nil)
    }

    static let table: [String: Run] = {
        var table: [String: Run] = [
            "copy": { b, x, _ in [try b.upload(b.download(x[0]))] },
            "full": { b, _, a in [try b.full(a.double("value"), shape: Shape(a.ints("shape")), dtype: dtype(a))] },
            "select": { b, x, _ in [try b.select(x[0], x[1], x[2])] },
            "cast": { b, x, a in [try b.cast(x[0], to: dtype(a))] },
            "matmul": { b, x, a in
                [try b.matmul(x[0], x[1], transposeA: a.bool("transposeA", default: false), transposeB: a.bool("transposeB", default: false))]
            },
            "convolution": { b, x, a in [try b.convolution(x[0], kernel: x[1], descriptor: convolution(a))] },
            "convolutionBackwardInput": { b, x, a in
                [try b.convolutionBackwardInput(gradOutput: x[0], kernel: x[1], inputShape: Shape(a.ints("inputShape")), descriptor: convolution(a))]
            },
            "convolutionBackwardKernel": { b, x, a in
                [try b.convolutionBackwardKernel(input: x[0], gradOutput: x[1], kernelShape: Shape(a.ints("kernelShape")), descriptor: convolution(a))]
            },
            "reshape": { b, x, a in [try b.reshape(x[0], to: Shape(a.ints("shape")))] },
            "permute": { b, x, a in [try b.permute(x[0], a.ints("permutation"))] },
            "slice": { b, x, a in [try b.slice(x[0], starts: a.ints("starts"), limits: a.ints("limits"), strides: a.ints("strides"))] },
            "pad": { b, x, a in [try b.pad(x[0], padding: padding(a.ints("padding")), value: a.double("value", default: 0))] },
            "concatenate": { b, x, a in [try b.concatenate(x, axis: a.int("axis"))] },
            "broadcast": { b, x, a in [try b.broadcast(x[0], to: Shape(a.ints("shape")))] },
            "gather": { b, x, a in [try b.gather(x[0], indices: x[1], axis: a.int("axis"))] },
            "scatterAdd": { b, x, a in [try b.scatterAdd(x[0], indices: x[1], axis: a.int("axis"), dimensionSize: a.int("size"))] },
            "iota": { b, _, a in [try b.iota(shape: Shape(a.ints("shape")), axis: a.int("axis"), dtype: dtype(a))] },
            "randomBits": { b, _, a in
                [try b.randomBits(key: key(a), offset: UInt64(a.int("offset", default: 0)), shape: Shape(a.ints("shape")))]
            },
            // Fused ops.
            "dense": { b, x, a in [try b.dense(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil, activation: activation(a))] },
            "convolutionBiasActivation": { b, x, a in
                [try b.convolution(x[0], kernel: x[1], bias: x.count > 2 ? x[2] : nil, descriptor: convolution(a), activation: activation(a))]
            },
            "transposedConvolution": { b, x, a in
                [try b.transposedConvolution(
                    x[0], kernel: x[1], bias: x.count > 2 ? x[2] : nil, outputShape: Shape(a.ints("outputShape")), descriptor: convolution(a),
                    activation: activation(a))]
            },
            "attention": { b, x, a in
                let r = try b.attention(query: x[0], key: x[1], value: x[2], mask: x.count > 3 ? x[3] : nil, descriptor: attention(a))
                return [r.output, r.weights]
            },
            "attentionBackward": { b, x, a in
                let d = try attention(a)
                let forward = try b.attention(query: x[1], key: x[2], value: x[3], mask: x.count > 4 ? x[4] : nil, descriptor: d)
                let r = try b.attentionBackward(gradOutput: x[0], query: x[1], key: x[2], value: x[3], weights: forward.weights, descriptor: d)
                return [r.query, r.key, r.value]
            },
            "recurrentSequence": { b, x, a in
                let (operands, d) = try recurrent(x, a)
                let r = try b.recurrentSequence(operands, descriptor: d)
                return [r.output] + r.states
            },
            "recurrentSequenceBackward": { b, x, a in
                // Inputs: the output's gradient, one per final state, then the forward's.
                let stateCount = try a.string("cell") == "lstm" ? 2 : 1
                let (operands, d) = try recurrent(Array(x.dropFirst(1 + stateCount)), a)
                let forward = try b.recurrentSequence(operands, descriptor: d)
                let gradStates = Array(x[1...stateCount])
                let r = try b.recurrentSequenceBackward(gradOutput: x[0], gradStates: gradStates, operands: operands, workspace: forward.workspace, descriptor: d)
                return [r.input, r.kernel, r.recurrentKernel] + [r.bias, r.recurrentBias].compactMap { $0 } + r.initialStates
            },
            "softmax": { b, x, a in [try b.softmax(x[0], axis: a.int("axis", default: -1))] },
            "logSoftmax": { b, x, a in [try b.logSoftmax(x[0], axis: a.int("axis", default: -1))] },
            "softmaxCrossEntropy": { b, x, a in [try b.softmaxCrossEntropy(logits: x[0], labels: x[1], axis: a.int("axis", default: -1))] },
            "softmaxCrossEntropyBackward": { b, x, a in
                [try b.softmaxCrossEntropyBackward(logits: x[0], labels: x[1], gradLoss: x[2], axis: a.int("axis", default: -1))]
            },
            "activationBackward": { b, x, a in [try b.activationBackward(activation(a), output: x[0], gradOutput: x[1])] },
            "elementwise": { b, x, a in [try b.elementwise(program(a, inputs: x.count), x)] },
            // The program's primitives recorded on the inputs, then run on the inputs and on twice
            // them, keeping the first output past the second run; a backend that does not record
            // computes both directly.
            "recordWork": { b, x, a in
                let program = try program(a, inputs: x.count)
                let doubled = try x.map { try b.binary(.add, $0, $0) }
                guard let work = try b.recordWork(inputs: x, { [try b.composedElementwise(program, $0)] }) else {
                    return [try b.composedElementwise(program, x), try b.composedElementwise(program, doubled)]
                }
                let first = try work.run(x, keeping: [true])
                return first + (try work.run(doubled, keeping: [false]))
            },
            "normalize": { b, x, a in
                let outputDType = try a.string("outputDType", default: "")
                let descriptor = NormalizationDescriptor(
                    axes: try a.ints("axes"), epsilon: Float(try a.double("epsilon")), outputDType: outputDType.isEmpty ? nil : DType(rawValue: outputDType))
                let r = try b.normalize(x[0], scale: x[1], offset: x[2], descriptor: descriptor)
                return [r.output, r.mean, r.inverseStd]
            },
            "normalizeBackward": { b, x, a in
                let d = NormalizationDescriptor(axes: try a.ints("axes"), epsilon: Float(try a.double("epsilon")))
                let forward = try b.normalize(x[1], scale: x[2], offset: x[3], descriptor: d)
                let r = try b.normalizeBackward(gradOutput: x[0], input: x[1], scale: x[2], mean: forward.mean, inverseStd: forward.inverseStd, descriptor: d)
                return [r.input, r.scale, r.offset]
            },
            "dropout": { b, x, a in
                let r = try b.dropout(x[0], rate: Float(a.double("rate")), key: key(a), offset: UInt64(a.int("offset", default: 0)), noiseShape: Shape(a.ints("noiseShape", default: x[0].shape.dimensions)))
                return [r.output, r.mask]
            },
            "dropoutBackward": { b, x, a in
                let rate = Float(try a.double("rate"))
                let forward = try b.dropout(x[1], rate: rate, key: key(a), offset: 0, noiseShape: Shape(a.ints("noiseShape", default: x[1].shape.dimensions)))
                return [try b.dropoutBackward(x[0], mask: forward.mask, rate: rate)]
            },
            "momentumUpdate": { b, x, a in
                let step = MomentumStep(learningRate: Float(try a.double("learningRate")), momentum: Float(try a.double("momentum")), nesterov: try a.bool("nesterov", default: false))
                let r = try b.momentumUpdate(parameter: x[0], gradient: x[1], velocity: x[2], step: step)
                return [r.parameter, r.velocity]
            },
            "adamUpdate": { b, x, a in
                let step = AdamStep(
                    learningRate: Float(try a.double("learningRate")), beta1: Float(try a.double("beta1", default: 0.9)),
                    beta2: Float(try a.double("beta2", default: 0.999)), epsilon: Float(try a.double("epsilon", default: 1e-8)),
                    weightDecay: Float(try a.double("weightDecay", default: 0)), step: try a.int("step"))
                let r = try b.adamUpdate(parameter: x[0], gradient: x[1], firstMoment: x[2], secondMoment: x[3], step: step)
                return [r.parameter, r.firstMoment, r.secondMoment]
            },
        ]
        for operation in UnaryOperation.allCases { table["unary.\(operation.rawValue)"] = { b, x, _ in [try b.unary(operation, x[0])] } }
        for operation in BinaryOperation.allCases { table["binary.\(operation.rawValue)"] = { b, x, _ in [try b.binary(operation, x[0], x[1])] } }
        for operation in ComparisonOperation.allCases { table["compare.\(operation.rawValue)"] = { b, x, _ in [try b.compare(operation, x[0], x[1])] } }
        for operation in ReductionOperation.allCases {
            table["reduce.\(operation.rawValue)"] = { b, x, a in
                [try b.reduce(operation, x[0], axes: a.ints("axes"), keepDimensions: a.bool("keepDimensions", default: false))]
            }
        }
        for operation in IndexReductionOperation.allCases {
            table["indexReduce.\(operation.rawValue)"] = { b, x, a in
                [try b.indexReduce(operation, x[0], axis: a.int("axis"), keepDimensions: a.bool("keepDimensions", default: false))]
            }
        }
        for operation in WindowOperation.allCases {
            table["window.\(operation.rawValue)"] = { b, x, a in [try b.window(operation, x[0], descriptor: window(a))] }
            table["windowBackward.\(operation.rawValue)"] = { b, x, a in
                [try b.windowBackward(operation, input: x[0], gradOutput: x[1], descriptor: window(a))]
            }
        }
        return table
    }()

    /// The optional primitives: each is also compared with its decomposition into required
    /// primitives on the same backend (see `NativeOperations`).
    public static let optional: Set<String> = Set(NativeOperations.optionalUnary.map { "unary.\($0.rawValue)" })
        .union(["window.average", "windowBackward.average", "convolutionBackwardInput", "convolutionBackwardKernel"])

    /// The fused ops: each is also compared with its default composition on the same backend.
    public static let fused: Set<String> = [
        "dense", "convolutionBiasActivation", "transposedConvolution", "attention", "attentionBackward", "recurrentSequence", "recurrentSequenceBackward", "softmax", "logSoftmax", "softmaxCrossEntropy", "softmaxCrossEntropyBackward",
        "activationBackward", "elementwise", "normalize", "normalizeBackward", "dropout", "dropoutBackward", "momentumUpdate", "adamUpdate",
    ]
}
