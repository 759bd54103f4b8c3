import Backend

/// Built-in cases for every primitive and fused op, on seeded random inputs. Where a value is
/// easy to derive by hand the case also carries it.
public enum PrimitiveCases {
    static func u(_ shape: [Int], _ seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> InputSpec {
        .uniform(shape: shape, seed: seed, low: low, high: high)
    }

    static func literal(_ values: [Float], _ shape: [Int]) -> InputSpec {
        // Literal inputs are written by hand and always fit their shape.
        .elements(shape: shape, .float32(values))
    }

    /// Every primitive case.
    public static var all: [ConformanceCase] {
        var cases: [ConformanceCase] = []
        let positive: Set<UnaryOperation> = [.log, .sqrt, .rsqrt, .reciprocal, .log1p]
        for operation in UnaryOperation.allCases where operation != .logicalNot {
            let input = positive.contains(operation) ? u([4, 33], 1, 0.1, 3) : u([4, 33], 1, -3, 3)
            cases.append(.op("unary \(operation.rawValue)", "unary.\(operation.rawValue)", [input], opClass: .elementwise))
        }
        let mask = InputSpec.elements(shape: [2, 2], .bool([true, false, false, true]))
        cases.append(.op("unary logicalNot", "unary.logicalNot", [mask], opClass: .exact))
        for operation in BinaryOperation.allCases {
            switch operation {
            case .logicalAnd, .logicalOr:
                cases.append(.op("binary \(operation.rawValue)", "binary.\(operation.rawValue)", [mask, mask], opClass: .exact))
            case .power:
                cases.append(.op("binary power broadcast", "binary.power", [u([3, 1, 5], 2, 0.1, 2), u([4, 5], 3, -2, 2)], opClass: .elementwise))
            default:
                cases.append(.op("binary \(operation.rawValue) broadcast", "binary.\(operation.rawValue)", [u([3, 1, 5], 2, -2, 2), u([4, 5], 3, 0.5, 2)], opClass: .elementwise))
            }
        }
        for operation in ComparisonOperation.allCases {
            cases.append(.op("compare \(operation.rawValue)", "compare.\(operation.rawValue)", [literal([1, 2, 3, .nan], [4]), literal([2, 2, 1, .nan], [4])], opClass: .exact))
        }
        cases.append(.op("select with broadcasting", "select", [mask, u([2, 2], 4), u([2, 1], 5)], opClass: .exact))
        cases.append(.op("cast float to int32", "cast", [u([3, 7], 6, -50, 50)], ["dtype": .string("int32")], opClass: .exact))
        cases.append(.op("cast float to bool", "cast", [literal([0, 1, -2, .nan], [4])], ["dtype": .string("bool")], opClass: .exact))
        cases.append(.op("copy round trip", "copy", [u([5, 3], 7)], opClass: .exact))
        cases.append(.op("full", "full", [], ["value": .double(2.5), "shape": .ints([2, 3])], opClass: .exact,
                         expected: [(try? HostArray(shape: [2, 3], elements: .float32(Array(repeating: 2.5, count: 6))))!]))
        for operation in ReductionOperation.allCases {
            let input = operation == .product ? u([3, 8, 5], 8, 0.5, 1.5) : u([3, 8, 5], 8)
            cases.append(.op("reduce \(operation.rawValue) axes 0,2", "reduce.\(operation.rawValue)", [input], ["axes": .ints([0, 2])], opClass: .reduction))
            cases.append(.op("reduce \(operation.rawValue) all keep", "reduce.\(operation.rawValue)", [input], ["axes": .ints([0, 1, 2]), "keepDimensions": .bool(true)], opClass: .reduction))
        }
        for operation in IndexReductionOperation.allCases {
            cases.append(.op(operation.rawValue, "indexReduce.\(operation.rawValue)", [u([6, 9], 9)], ["axis": .int(1)], opClass: .exact))
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = ta ? [2, 40, 33] : [2, 33, 40], b = tb ? [17, 40] : [40, 17]
            cases.append(.op("matmul transposeA \(ta) transposeB \(tb)", "matmul", [u(a, 10), u(b, 11)],
                             ["transposeA": .bool(ta), "transposeB": .bool(tb)], opClass: .linearAlgebra))
        }
        let conv: [String: Attribute] = ["strides": .ints([2, 1]), "padding": .ints([1, 1, 0, 2]), "kernelDilation": .ints([1, 2]), "groups": .int(2)]
        cases.append(.op("convolution 2-d strided, padded, dilated, grouped", "convolution", [u([2, 9, 8, 4], 12), u([3, 2, 2, 6], 13)], conv, opClass: .linearAlgebra))
        cases.append(.op("convolution 1-d input-dilated", "convolution", [u([2, 7, 3], 14), u([3, 3, 2], 15)], ["inputDilation": .ints([2]), "padding": .ints([2, 2])], opClass: .linearAlgebra))
        cases.append(.op("convolution 3-d", "convolution", [u([1, 4, 5, 4, 2], 16), u([2, 3, 2, 2, 3], 17)], opClass: .linearAlgebra))
        cases.append(.op("convolution backward input", "convolutionBackwardInput", [u([2, 5, 8, 6], 18), u([3, 2, 2, 6], 13)],
                         conv.merging(["inputShape": .ints([2, 9, 8, 4])]) { $1 }, opClass: .linearAlgebra))
        cases.append(.op("convolution backward kernel", "convolutionBackwardKernel", [u([2, 9, 8, 4], 12), u([2, 5, 8, 6], 18)],
                         conv.merging(["kernelShape": .ints([3, 2, 2, 6])]) { $1 }, opClass: .linearAlgebra))
        // Input-dilated (transposed) and 3-d strided geometry, for the backward decompositions too.
        let dilated: [String: Attribute] = ["inputDilation": .ints([2]), "padding": .ints([2, 2])]
        cases.append(.op("convolution backward input, input-dilated 1-d", "convolutionBackwardInput", [u([2, 15, 2], 60), u([3, 3, 2], 15)],
                         dilated.merging(["inputShape": .ints([2, 7, 3])]) { $1 }, opClass: .linearAlgebra))
        cases.append(.op("convolution backward kernel, input-dilated 1-d", "convolutionBackwardKernel", [u([2, 7, 3], 14), u([2, 15, 2], 60)],
                         dilated.merging(["kernelShape": .ints([3, 3, 2])]) { $1 }, opClass: .linearAlgebra))
        let strided3d: [String: Attribute] = ["strides": .ints([2, 1, 1])]
        cases.append(.op("convolution backward input 3-d strided", "convolutionBackwardInput", [u([1, 2, 3, 3, 3], 61), u([2, 3, 2, 2, 3], 17)],
                         strided3d.merging(["inputShape": .ints([1, 4, 5, 4, 2])]) { $1 }, opClass: .linearAlgebra))
        cases.append(.op("convolution backward kernel 3-d strided", "convolutionBackwardKernel", [u([1, 4, 5, 4, 2], 16), u([1, 2, 3, 3, 3], 61)],
                         strided3d.merging(["kernelShape": .ints([2, 3, 2, 2, 3])]) { $1 }, opClass: .linearAlgebra))
        let pool: [String: Attribute] = ["window": .ints([1, 3, 2, 1]), "strides": .ints([1, 2, 1, 1]), "padding": .ints([0, 0, 1, 1, 0, 1, 0, 0])]
        for operation in WindowOperation.allCases {
            cases.append(.op("window \(operation.rawValue)", "window.\(operation.rawValue)", [u([2, 7, 6, 3], 19)], pool, opClass: .reduction))
            cases.append(.op("window \(operation.rawValue) backward", "windowBackward.\(operation.rawValue)", [u([2, 7, 6, 3], 19), u([2, 4, 6, 3], 20)], pool, opClass: .reduction))
        }
        let x = u([3, 4, 5], 21)
        cases.append(.op("reshape", "reshape", [x], ["shape": .ints([12, 5])], opClass: .exact))
        cases.append(.op("permute", "permute", [x], ["permutation": .ints([2, 0, 1])], opClass: .exact))
        cases.append(.op("slice strided", "slice", [x], ["starts": .ints([0, 1, 1]), "limits": .ints([3, 4, 5]), "strides": .ints([2, 1, 3])], opClass: .exact))
        cases.append(.op("pad", "pad", [x], ["padding": .ints([1, 0, 0, 2, 1, 1]), "value": .double(-3)], opClass: .exact))
        cases.append(.op("concatenate", "concatenate", [x, u([3, 2, 5], 22)], ["axis": .int(1)], opClass: .exact))
        cases.append(.op("broadcast", "broadcast", [u([4, 1], 23)], ["shape": .ints([2, 4, 3])], opClass: .exact))
        let indices = InputSpec.indices(shape: [2, 3], seed: 24, upper: 4)
        cases.append(.op("gather", "gather", [x, indices], ["axis": .int(1)], opClass: .exact))
        cases.append(.op("scatter-add", "scatterAdd", [u([3, 2, 3, 5], 25), indices], ["axis": .int(1), "size": .int(4)], opClass: .reduction))
        cases.append(.op("iota", "iota", [], ["shape": .ints([3, 4]), "axis": .int(1), "dtype": .string("int32")], opClass: .exact,
                         expected: [(try? HostArray(shape: [3, 4], elements: .int32([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])))!]))
        cases.append(.op("random bits", "randomBits", [], ["seed": .int(77), "offset": .int(5), "shape": .ints([3, 7])], opClass: .exact,
                         expected: [(try? HostArray(shape: [3, 7], elements: .uint32(Philox.bits(key: Philox.Key(seed: 77), offset: 5, count: 21))))!]))
        // Fused ops.
        for activation in FusedActivation.allCases {
            cases.append(.op("dense \(activation.rawValue)", "dense", [u([4, 3, 20], 26), u([20, 9], 27), u([9], 28)],
                             ["activation": .string(activation.rawValue)], opClass: .linearAlgebra))
            cases.append(.op("convolution+bias \(activation.rawValue)", "convolutionBiasActivation", [u([2, 6, 6, 3], 29), u([3, 3, 3, 4], 30), u([4], 31)],
                             ["activation": .string(activation.rawValue), "padding": .ints([1, 1, 1, 1])], opClass: .linearAlgebra))
        }
        // Transposed convolutions: the adjoint of a strided, padded, dilated and grouped
        // convolution from outputShape, with the sizes oneDNN's deconvolution takes exactly and
        // one (a floor-rounded stride) it takes with adjusted padding.
        for (index, activation) in FusedActivation.allCases.enumerated() {
            cases.append(.op("transposed convolution+bias \(activation.rawValue)", "transposedConvolution",
                             [u([2, 3, 3, 4], 36 + UInt64(index)), u([3, 2, 2, 4], 40), u([4], 41)],
                             ["activation": .string(activation.rawValue), "outputShape": .ints([2, 6, 7, 4]), "strides": .ints([2, 2]),
                              "padding": .ints([1, 1, 0, 1]), "kernelDilation": .ints([1, 2]), "groups": .int(2)], opClass: .linearAlgebra))
        }
        cases.append(.op("transposed convolution 3-d, no bias", "transposedConvolution", [u([1, 2, 3, 2, 3], 42), u([2, 2, 1, 2, 3], 43)],
                         ["outputShape": .ints([1, 5, 6, 2, 2]), "strides": .ints([2, 2, 1])], opClass: .linearAlgebra))
        // Attention over [batch, heads, positions, features], with every kind of mask.
        let (query, key, value) = (u([2, 3, 5, 4], 44), u([2, 3, 6, 4], 45), u([2, 3, 6, 3], 46))
        let padding = InputSpec.uniform(shape: [2, 1, 1, 6], seed: 47, low: -4, high: 0)
        let attentionCases: [(String, [InputSpec], [String: Attribute])] = [
            ("plain", [query, key, value], ["scale": .double(0.5)]),
            ("additive mask", [query, key, value, padding], ["scale": .double(0.5)]),
            ("bool mask", [query, key, value, .elements(shape: [5, 6], .bool((0..<30).map { $0 % 6 == 0 || ($0 * 7) % 5 != 0 }))], ["scale": .double(0.5)]),
            ("causal", [query, key, value], ["scale": .double(0.5), "causal": .bool(true)]),
            ("causal dropout", [query, key, value, padding], ["scale": .double(0.5), "causal": .bool(true), "dropout": .double(0.3), "seed": .int(49)]),
        ]
        for (name, inputs, attributes) in attentionCases {
            cases.append(.op("attention \(name)", "attention", inputs, attributes, opClass: .reduction))
            cases.append(.op("attention backward \(name)", "attentionBackward", [u([2, 3, 5, 3], 50)] + inputs, attributes, opClass: .reduction))
        }
        // Whole-sequence recurrent layers: batch 3, time 4, features 5, units 2; every cell, with
        // variable lengths, reversal, recurrent dropout masks and another activation.
        let lengths = InputSpec.elements(shape: [3], .int32([4, 2, 1]))
        let recurrentCases: [(String, String, [String: Attribute])] = [
            ("simple relu", "simple", ["activation": .string("relu")]),
            ("lstm", "lstm", ["activation": .string("tanh")]),
            ("lstm lengths reverse mask", "lstm", ["activation": .string("tanh"), "lengths": .bool(true), "reverse": .bool(true), "mask": .bool(true)]),
            ("gru reset after, lengths", "gru", ["activation": .string("tanh"), "lengths": .bool(true)]),
            ("gru reset before, reverse mask", "gru_before", ["activation": .string("tanh"), "reverse": .bool(true), "mask": .bool(true)]),
        ]
        for (name, cell, options) in recurrentCases {
            let attributes = options.merging(["cell": .string(cell)]) { $1 }
            let gates = ["simple": 1, "lstm": 4][cell] ?? 3
            let stateCount = cell == "lstm" ? 2 : 1
            var inputs = [u([3, 4, 5], 60), u([5, gates * 2], 61), u([2, gates * 2], 62), u([gates * 2], 63)]
            if cell == "gru" { inputs.append(u([gates * 2], 64)) }
            inputs += (0..<stateCount).map { u([3, 2], 65 + UInt64($0)) }
            if attributes["lengths"] != nil { inputs.append(lengths) }
            if attributes["mask"] != nil { inputs.append(u([3, 2], 67, 0, 2)) }
            cases.append(.op("recurrent sequence \(name)", "recurrentSequence", inputs, attributes, opClass: .reduction))
            let gradients = [u([3, 4, 2], 68)] + (0..<stateCount).map { u([3, 2], 69 + UInt64($0)) }
            cases.append(.op("recurrent sequence backward \(name)", "recurrentSequenceBackward", gradients + inputs, attributes, opClass: .reduction))
        }
        // Enough work to be cut into chunks of the batch (6 and 5 sequences) on onednn; short,
        // so that the bfloat16 twins stay within their tolerance.
        for cell in ["lstm", "gru"] {
            let (gates, stateCount) = (cell == "lstm" ? 4 : 3, cell == "lstm" ? 2 : 1)
            let attributes: [String: Attribute] = ["cell": .string(cell), "activation": .string("tanh")]
            var inputs = [u([11, 3, 96], 185), u([96, gates * 128], 186, -0.2, 0.2), u([128, gates * 128], 187, -0.2, 0.2), u([gates * 128], 188)]
            if cell == "gru" { inputs.append(u([gates * 128], 189)) }
            inputs += (0..<stateCount).map { u([11, 128], 190 + UInt64($0)) }
            cases.append(.op("recurrent sequence \(cell) cut into batch chunks", "recurrentSequence", inputs, attributes, opClass: .reduction))
            let gradients = [u([11, 3, 128], 192)] + (0..<stateCount).map { u([11, 128], 193 + UInt64($0)) }
            cases.append(.op("recurrent sequence backward \(cell) cut into batch chunks", "recurrentSequenceBackward", gradients + inputs, attributes, opClass: .reduction))
        }
        cases.append(.op("softmax", "softmax", [u([5, 11], 32, -4, 4)], ["axis": .int(1)], opClass: .reduction))
        cases.append(.op("log-softmax axis 0", "logSoftmax", [u([5, 11], 32, -4, 4)], ["axis": .int(0)], opClass: .reduction))
        cases.append(.op("softmax cross-entropy", "softmaxCrossEntropy", [u([6, 10], 33, -3, 3), u([6, 10], 34, 0, 1)], opClass: .reduction))
        cases.append(.op("softmax cross-entropy backward", "softmaxCrossEntropyBackward", [u([6, 10], 33, -3, 3), u([6, 10], 34, 0, 1), u([6], 35)], opClass: .reduction))
        // Outputs as the activation gives them: relu's with zeros (and a −0), sigmoid's in (0, 1), tanh's in (−1, 1).
        let reluOutput: [Float] = (0..<24).map { $0 == 5 ? -0.0 : $0 % 3 == 0 ? 0 : Float($0) * 0.25 }
        cases.append(.op("relu backward", "activationBackward", [.elements(shape: [2, 3, 4], .float32(reluOutput)), u([2, 3, 4], 170)],
                         ["activation": .string("relu")], opClass: .elementwise))
        cases.append(.op("sigmoid backward", "activationBackward", [u([2, 3, 4], 171, 0.01, 0.99), u([2, 3, 4], 172)],
                         ["activation": .string("sigmoid")], opClass: .elementwise))
        cases.append(.op("tanh backward", "activationBackward", [u([2, 3, 4], 173, -0.99, 0.99), u([2, 3, 4], 174)],
                         ["activation": .string("tanh")], opClass: .elementwise))
        // tanh(x·y + s)·x − y, with s a broadcast scalar; every unary and binary float operation in one long chain.
        cases.append(.op("recorded work of an elementwise chain, run twice", "recordWork", [u([4, 7], 190), u([4, 7], 191)],
                         ["steps": .string("multiply 0 1; add 2 0; tanh 3")], opClass: .elementwise))
        cases.append(.op("elementwise chain with a broadcast scalar", "elementwise", [u([4, 7], 180), u([4, 7], 181), u([], 182)],
                         ["steps": .string("multiply 0 1; add 3 2; tanh 4; multiply 5 0; subtract 6 1")], opClass: .elementwise))
        // Each float operation as the step after |x|, x ∈ [0.5, 1.45] (positive for log and sqrt, short of tan's pole),
        // binary ones with y ∈ [0.5, 1.5]; |x| is exact, so the bfloat16 twins round no intermediate value.
        let operands = [u([3, 50], 183, 0.5, 1.45), u([3, 50], 184, 0.5, 1.5)]
        let lastSteps = UnaryOperation.allCases.filter { $0.accepts(.float32) }.map { "\($0.rawValue) 2" }
            + BinaryOperation.allCases.filter { $0 != .logicalAnd && $0 != .logicalOr }.map { "\($0.rawValue) 2 1" }
        for last in lastSteps {
            cases.append(.op("elementwise program ending in \(last.split(separator: " ")[0])", "elementwise", operands,
                             ["steps": .string("abs 0; " + last)], opClass: .elementwise))
        }
        let batchNorm: [String: Attribute] = ["axes": .ints([0, 1, 2]), "epsilon": .double(1e-5)]
        let layerNorm: [String: Attribute] = ["axes": .ints([3]), "epsilon": .double(1e-5)]
        cases.append(.op("batch norm", "normalize", [u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)], batchNorm, opClass: .reduction))
        cases.append(.op("batch norm writing bfloat16", "normalize", [u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)],
                         batchNorm.merging(["outputDType": .string("bfloat16")]) { $1 }, opClass: .bfloat16))
        cases.append(.op("layer norm writing bfloat16", "normalize", [u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)],
                         layerNorm.merging(["outputDType": .string("bfloat16")]) { $1 }, opClass: .bfloat16))
        cases.append(.op("layer norm", "normalize", [u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)], layerNorm, opClass: .reduction))
        cases.append(.op("batch norm backward", "normalizeBackward", [u([4, 3, 3, 5], 39), u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)], batchNorm, opClass: .reduction))
        cases.append(.op("layer norm backward", "normalizeBackward", [u([4, 3, 3, 5], 39), u([4, 3, 3, 5], 36, -2, 2), u([1, 1, 1, 5], 37, 0.5, 1.5), u([1, 1, 1, 5], 38)], layerNorm, opClass: .reduction))
        cases.append(.op("dropout with a channel noise shape", "dropout", [u([4, 5, 6], 40)], ["rate": .double(0.3), "seed": .int(41), "offset": .int(3), "noiseShape": .ints([4, 1, 6])], opClass: .elementwise))
        cases.append(.op("dropout", "dropout", [u([8, 75], 40)], ["rate": .double(0.25), "seed": .int(41), "offset": .int(5)], opClass: .elementwise))
        cases.append(.op("dropout backward", "dropoutBackward", [u([8, 75], 39), u([8, 75], 40)], ["rate": .double(0.25), "seed": .int(41)], opClass: .elementwise))
        cases.append(.op("dropout backward with a channel noise shape", "dropoutBackward", [u([4, 5, 6], 39), u([4, 5, 6], 40)], ["rate": .double(0.3), "seed": .int(41), "noiseShape": .ints([4, 1, 6])], opClass: .elementwise))
        cases.append(.op("SGD momentum step", "momentumUpdate", [u([7, 5], 42), u([7, 5], 43), u([7, 5], 44)], ["learningRate": .double(0.1), "momentum": .double(0.9)], opClass: .elementwise))
        cases.append(.op("SGD Nesterov step", "momentumUpdate", [u([7, 5], 42), u([7, 5], 43), u([7, 5], 44)], ["learningRate": .double(0.1), "momentum": .double(0.9), "nesterov": .bool(true)], opClass: .elementwise))
        cases.append(.op("AdamW step 3", "adamUpdate", [u([7, 5], 42), u([7, 5], 43), u([7, 5], 44), u([7, 5], 45, 0, 1)], ["learningRate": .double(0.01), "step": .int(3), "weightDecay": .double(0.01)], opClass: .elementwise))
        cases += largeOperandCases
        cases += EdgeCases.all
        return cases
    }

    /// Sizes at which kernels change strategy: rows longer than one invocation handles (a
    /// workgroup reduces them, including batch-norm statistics), channel counts that split into
    /// uneven runs in the convolution lowering, matrices spanning several GEMM tiles with a ragged depth, and a
    /// random-bit request whose block counter carries into its high word.
    static var largeOperandCases: [ConformanceCase] {
        let long = u([3, 1000], 46, -3, 3)
        var cases: [ConformanceCase] = [
            .op("reduce sum of long rows", "reduce.sum", [long], ["axes": .ints([1])], opClass: .reduction),
            .op("reduce max of long columns", "reduce.max", [u([300, 5], 47)], ["axes": .ints([0])], opClass: .reduction),
            .op("argmax of long rows", "indexReduce.argmax", [long], ["axis": .int(1)], opClass: .exact),
            // Few rows of over 32,768 elements are split into runs and combined in a second pass.
            .op("reduce sum of two rows split into runs", "reduce.sum", [u([2, 40_000], 61)], ["axes": .ints([1])], opClass: .reduction),
            .op("reduce mean of 60,000 elements split into runs", "reduce.mean", [u([200, 300], 62)], ["axes": .ints([0, 1])], opClass: .reduction),
            .op("reduce max over a long strided axis split into runs", "reduce.max", [u([50_000, 2], 63)], ["axes": .ints([0])], opClass: .reduction),
            .op("matmul across tiles", "matmul", [u([130, 70], 48), u([70, 150], 49)], opClass: .linearAlgebra),
            .op("softmax of long rows", "softmax", [u([4, 300], 50, -4, 4)], ["axis": .int(1)], opClass: .reduction),
            .op("log-softmax of long rows", "logSoftmax", [u([4, 300], 50, -4, 4)], ["axis": .int(1)], opClass: .reduction),
            .op("softmax cross-entropy of long rows", "softmaxCrossEntropy", [u([4, 300], 50, -4, 4), u([4, 300], 51, 0, 1)], opClass: .reduction),
            .op("softmax cross-entropy backward of long rows", "softmaxCrossEntropyBackward",
                [u([4, 300], 50, -4, 4), u([4, 300], 51, 0, 1), u([4], 52)], opClass: .reduction),
            // Large enough to be cut into chunks for several threads on onednn.
            .op("relu over a large activation", "unary.relu", [u([64, 28, 28, 32], 175)], opClass: .elementwise),
            .op("relu backward over a large activation", "activationBackward", [u([64, 28, 28, 32], 176, -0.5, 1), u([64, 28, 28, 32], 177)],
                ["activation": .string("relu")], opClass: .elementwise),
            .op("elementwise program over a large activation", "elementwise", [u([64, 28, 28, 8], 195, -4, 4), u([64, 28, 28, 8], 196, 0.5, 1.5)],
                ["steps": .string("sigmoid 0; multiply 2 1; relu 3; maximum 4 0; divide 5 1")], opClass: .elementwise),
            .op("bias gradient over a large activation", "reduce.sum", [u([64, 28, 28, 32], 178)], ["axes": .ints([0, 1, 2])], opClass: .reduction),
            .op("mean over the leading axes of a large activation", "reduce.mean", [u([64, 28, 28, 32], 179)], ["axes": .ints([0, 1])], opClass: .reduction),
            // Enough work to be cut into chunks of the batch or of the rows, the last one shorter.
            .op("matmul cut into row chunks", "matmul", [u([37, 300], 180), u([300, 200], 181)], opClass: .linearAlgebra),
            .op("convolution cut into batch chunks", "convolution", [u([7, 12, 12, 16], 182), u([3, 3, 16, 32], 183)],
                ["padding": .ints([1, 1, 1, 1])], opClass: .linearAlgebra),
            .op("convolution backward input cut into batch chunks", "convolutionBackwardInput", [u([7, 12, 12, 32], 184), u([3, 3, 16, 32], 183)],
                ["padding": .ints([1, 1, 1, 1]), "inputShape": .ints([7, 12, 12, 16])], opClass: .linearAlgebra),
            .op("convolution backward kernel summed over batch chunks", "convolutionBackwardKernel", [u([7, 12, 12, 16], 182), u([7, 12, 12, 32], 184)],
                ["padding": .ints([1, 1, 1, 1]), "kernelShape": .ints([3, 3, 16, 32])], opClass: .linearAlgebra),
        ]
        // 12 channels: one full run of 8 and a ragged run of 4 (channel runs of im2col/col2im).
        let padded: [String: Attribute] = ["padding": .ints([1, 1, 1, 1])]
        cases.append(.op("convolution with ragged channel runs", "convolution", [u([2, 5, 5, 12], 57), u([3, 3, 12, 4], 58)], padded, opClass: .linearAlgebra))
        cases.append(.op("convolution backward input with ragged channel runs", "convolutionBackwardInput", [u([2, 5, 5, 4], 59), u([3, 3, 12, 4], 58)],
                         padded.merging(["inputShape": .ints([2, 5, 5, 12])]) { $1 }, opClass: .linearAlgebra))
        let norm: [String: Attribute] = ["axes": .ints([0, 1, 2]), "epsilon": .double(1e-5)]
        let (x, scale, shift) = (u([8, 10, 10, 3], 53, -2, 2), u([1, 1, 1, 3], 54, 0.5, 1.5), u([1, 1, 1, 3], 55))
        cases.append(.op("batch norm over long rows", "normalize", [x, scale, shift], norm, opClass: .reduction))
        cases.append(.op("batch norm backward over long rows", "normalizeBackward", [u([8, 10, 10, 3], 56), x, scale, shift], norm, opClass: .reduction))
        let offset = 0xFFFF_FFFE * 4 + 1  // the block counter crosses 2³² inside the request
        cases.append(.op("random bits across a counter carry", "randomBits", [], ["seed": .int(78), "offset": .int(offset), "shape": .ints([13])], opClass: .exact,
                         expected: [(try? HostArray(shape: [13], elements: .uint32(Philox.bits(key: Philox.Key(seed: 78), offset: UInt64(offset), count: 13))))!]))
        return cases
    }
}
