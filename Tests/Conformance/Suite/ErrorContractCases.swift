import AxonCore
import Backend

/// The error contract: invalid inputs to every op and layer, each of which must throw the
/// same `BackendError` or `AxonError` on every backend (the same case and message, with the
/// backend's own name allowed to differ). A backend that computes something instead, traps,
/// or throws another error fails the case.
public enum ErrorContractCases {
    static let floats = InputSpec.uniform(shape: [2, 3], seed: 1, low: -1, high: 1)
    static func floats(_ shape: [Int]) -> InputSpec { .uniform(shape: shape, seed: 2, low: -1, high: 1) }
    static func ints(_ shape: [Int], upper: Int32 = 3) -> InputSpec { .indices(shape: shape, seed: 3, upper: upper) }
    static func bools(_ shape: [Int]) -> InputSpec {
        .elements(shape: shape, .bool((0..<Shape(shape).elementCount).map { $0 % 2 == 0 }))
    }
    static func literalIndices(_ values: [Int32]) -> InputSpec {
        .elements(shape: [values.count], .int32(values))
    }

    static func rejects(_ name: String, _ op: String, _ inputs: [InputSpec], _ attributes: [String: Attribute] = [:]) -> ConformanceCase {
        ConformanceCase(
            "rejects \(name)", covers: [op], opClass: .error,
            body: .op(name: op, inputs: inputs, attributes: Attributes(attributes)))
    }

    /// Far beyond any machine's memory: 2⁴⁰ elements.
    static let hugeShape: Attribute = .ints([1 << 20, 1 << 20])

    /// Every error-contract case: operations, layers, and a buffer of another backend.
    public static var all: [ConformanceCase] { ops + layers + [foreignBuffer] }

    static var ops: [ConformanceCase] {
        var cases: [ConformanceCase] = []
        for operation in UnaryOperation.allCases {
            let refused = DType.allCases.first { !operation.accepts($0) } ?? .bool
            let input: InputSpec
            switch refused {
            case .bool: input = bools([2, 2])
            case .int32: input = ints([2, 2])
            case .uint32: input = .elements(shape: [2], .uint32([1, 2]))
            case .float32, .bfloat16: input = floats([2, 2])
            }
            cases.append(rejects("unary.\(operation.rawValue) of \(refused)", "unary.\(operation.rawValue)", [input]))
        }
        for operation in BinaryOperation.allCases {
            cases.append(rejects("binary.\(operation.rawValue) of unbroadcastable shapes", "binary.\(operation.rawValue)", [floats([2, 3]), floats([4])]))
        }
        for operation in ComparisonOperation.allCases {
            cases.append(rejects("compare.\(operation.rawValue) of mixed dtypes", "compare.\(operation.rawValue)", [floats([3]), ints([3])]))
        }
        for operation in ReductionOperation.allCases {
            cases.append(rejects("reduce.\(operation.rawValue) over a missing axis", "reduce.\(operation.rawValue)", [floats], ["axes": .ints([2])]))
        }
        for operation in IndexReductionOperation.allCases {
            cases.append(rejects("indexReduce.\(operation.rawValue) over an empty axis", "indexReduce.\(operation.rawValue)", [floats([2, 0])], ["axis": .int(1)]))
        }
        for operation in WindowOperation.allCases {
            cases.append(rejects("window.\(operation.rawValue) with a window of the wrong rank", "window.\(operation.rawValue)", [floats([1, 4, 4, 1])],
                                 ["window": .ints([2, 2]), "strides": .ints([1, 1]), "padding": .ints([0, 0, 0, 0])]))
            cases.append(rejects("window.\(operation.rawValue) with a window beyond 2³¹", "window.\(operation.rawValue)", [floats([1, 4, 4, 1])],
                                 ["window": .ints([1, 1 << 40, 1, 1]), "strides": .ints([1, 1, 1, 1]),
                                  "padding": .ints([0, 0, 1 << 39, 1 << 39, 0, 0, 0, 0])]))
            cases.append(rejects("windowBackward.\(operation.rawValue) with a gradient of the wrong shape", "windowBackward.\(operation.rawValue)",
                                 [floats([1, 4, 4, 1]), floats([1, 4, 4, 1])],
                                 ["window": .ints([1, 2, 2, 1]), "strides": .ints([1, 2, 2, 1]), "padding": .ints([0, 0, 0, 0, 0, 0, 0, 0])]))
        }
        let convolution: [String: Attribute] = ["strides": .ints([1, 1])]
        cases += [
            rejects("full of 2⁴⁰ elements (out of memory)", "full", [], ["shape": hugeShape, "value": .double(0)]),
            rejects("full with a negative dimension", "full", [], ["shape": .ints([2, -3]), "value": .double(0)]),
            rejects("select on a float condition", "select", [floats([3]), floats([3]), floats([3])]),
            rejects("broadcast to 2⁴⁰ elements (out of memory)", "broadcast", [floats([1])], ["shape": hugeShape]),
            rejects("matmul with differing inner dimensions", "matmul", [floats([2, 3]), floats([4, 2])]),
            rejects("matmul of int32", "matmul", [ints([2, 2]), ints([2, 2])]),
            rejects("convolution with a kernel of the wrong channel count", "convolution", [floats([1, 5, 5, 3]), floats([3, 3, 2, 4])], convolution),
            rejects("convolution whose dilation overflows", "convolution", [floats([1, 5, 5, 1]), floats([3, 3, 1, 1])],
                    ["kernelDilation": .ints([Int.max / 2, 1])]),
            rejects("convolution with a dilation beyond 2³¹ (on a 1-wide kernel)", "convolution", [floats([1, 5, 5, 1]), floats([1, 1, 1, 1])],
                    ["kernelDilation": .ints([1 << 40, 1])]),
            rejects("full with a dimension beyond 2³¹ and no elements", "full", [], ["shape": .ints([0, 1 << 40]), "value": .double(0)]),
            rejects("convolution with zero groups", "convolution", [floats([1, 5, 5, 2]), floats([3, 3, 2, 2])], ["groups": .int(0)]),
            rejects("convolutionBackwardInput to a negative input shape", "convolutionBackwardInput", [floats([1, 3, 3, 1]), floats([3, 3, 1, 1])],
                    ["inputShape": .ints([1, -5, 5, 1])]),
            rejects("convolutionBackwardKernel with a gradient of the wrong shape", "convolutionBackwardKernel", [floats([1, 5, 5, 1]), floats([1, 2, 2, 1])],
                    ["kernelShape": .ints([3, 3, 1, 1])]),
            rejects("reshape to another element count", "reshape", [floats], ["shape": .ints([4, 2])]),
            rejects("reshape to a negative dimension", "reshape", [floats], ["shape": .ints([-2, -3])]),
            rejects("permute with a repeated axis", "permute", [floats], ["permutation": .ints([0, 0])]),
            rejects("slice past the end", "slice", [floats], ["starts": .ints([0, 0]), "limits": .ints([2, 4]), "strides": .ints([1, 1])]),
            rejects("pad by a negative amount", "pad", [floats], ["padding": .ints([0, 0, -1, 0])]),
            rejects("concatenate of mixed dtypes", "concatenate", [floats([2, 2]), ints([2, 2])], ["axis": .int(0)]),
            rejects("broadcast to an incompatible shape", "broadcast", [floats], ["shape": .ints([2, 4])]),
            rejects("gather at an index out of range", "gather", [floats([4, 2]), literalIndices([0, 4])], ["axis": .int(0)]),
            rejects("gather with float indices", "gather", [floats([4, 2]), floats([2])], ["axis": .int(0)]),
            rejects("scatterAdd at a negative index", "scatterAdd", [floats([2, 3]), literalIndices([1, -1])], ["axis": .int(0), "size": .int(3)]),
            rejects("iota with a negative dimension", "iota", [], ["shape": .ints([-4]), "axis": .int(0), "dtype": .string("int32")]),
            rejects("iota of bool", "iota", [], ["shape": .ints([4]), "axis": .int(0), "dtype": .string("bool")]),
            rejects("randomBits of 2⁴⁰ elements (out of memory)", "randomBits", [], ["shape": hugeShape]),
            rejects("randomBits with a negative dimension", "randomBits", [], ["shape": .ints([3, -1])]),
            rejects("dense with a weight of the wrong input size", "dense", [floats([2, 3]), floats([4, 5])]),
            rejects("dense with a bias of the wrong size", "dense", [floats([2, 3]), floats([3, 5]), floats([4])]),
            rejects("fused convolution with a bias of the wrong size", "convolutionBiasActivation",
                    [floats([1, 5, 5, 1]), floats([3, 3, 1, 2]), floats([3])], convolution),
            rejects("transposed convolution whose input is not the convolution of its output shape", "transposedConvolution",
                    [floats([1, 4, 4, 1]), floats([3, 3, 1, 1])], convolution.merging(["outputShape": .ints([1, 5, 5, 1])]) { $1 }),
            rejects("transposed convolution with a bias of the wrong size", "transposedConvolution",
                    [floats([1, 3, 3, 2]), floats([3, 3, 1, 2]), floats([2])], convolution.merging(["outputShape": .ints([1, 5, 5, 1])]) { $1 }),
            rejects("attention with query and key of different feature sizes", "attention", [floats([2, 3, 4]), floats([2, 5, 3]), floats([2, 5, 2])],
                    ["scale": .double(1)]),
            rejects("attention with a mask that does not broadcast", "attention", [floats([2, 3, 4]), floats([2, 5, 4]), floats([2, 5, 2]), floats([3, 4])],
                    ["scale": .double(1)]),
            rejects("attention with a non-finite scale", "attention", [floats([2, 3, 4]), floats([2, 5, 4]), floats([2, 5, 2])],
                    ["scale": .double(.infinity)]),
            rejects("attention with an int32 mask", "attention", [floats([2, 3, 4]), floats([2, 5, 4]), floats([2, 5, 2]), ints([3, 5])],
                    ["scale": .double(1)]),
            rejects("softmax over a missing axis", "softmax", [floats], ["axis": .int(2)]),
            rejects("logSoftmax of int32", "logSoftmax", [ints([2, 3])]),
            rejects("softmaxCrossEntropy with labels of another shape", "softmaxCrossEntropy", [floats([2, 3]), floats([2, 4])]),
            rejects("softmaxCrossEntropyBackward with a loss gradient of the wrong shape", "softmaxCrossEntropyBackward",
                    [floats([2, 3]), floats([2, 3]), floats([3])]),
            rejects("activationBackward with a gradient of another shape", "activationBackward", [floats([2, 3]), floats([3, 2])],
                    ["activation": .string("relu")]),
            rejects("elementwise with inputs of two shapes", "elementwise", [floats([2, 3]), floats([3, 2])], ["steps": .string("add 0 1")]),
            rejects("elementwise with an input that broadcasts but is neither the result's shape nor one element", "elementwise",
                    [floats([2, 3]), floats([1, 3])], ["steps": .string("add 0 1")]),
            rejects("elementwise reading a register no step has written", "elementwise", [floats([2, 3])], ["steps": .string("exp 1")]),
            rejects("normalize with a NaN epsilon", "normalize", [floats([4, 3]), floats([3]), floats([3])],
                    ["axes": .ints([0]), "epsilon": .double(.nan)]),
            rejects("normalize with float32 data and bfloat16 parameters (only the reverse is mixed precision)", "normalize",
                    [floats([4, 3]), .bfloat16(floats([3])), .bfloat16(floats([3]))], ["axes": .ints([0]), "epsilon": .double(1e-5)]),
            rejects("normalize writing int32", "normalize", [floats([4, 3]), floats([3]), floats([3])],
                    ["axes": .ints([0]), "epsilon": .double(1e-5), "outputDType": .string("int32")]),
            rejects("normalizeBackward with a gradient of the wrong shape", "normalizeBackward",
                    [floats([4, 2]), floats([4, 3]), floats([3]), floats([3])], ["axes": .ints([0]), "epsilon": .double(1e-5)]),
            rejects("dropout at rate 1", "dropout", [floats], ["rate": .double(1)]),
            rejects("dropout with a noise shape that does not broadcast", "dropout", [floats], ["rate": .double(0.5), "noiseShape": .ints([3, 2])]),
            rejects("dropoutBackward with a mask that does not broadcast to the gradient", "dropoutBackward", [floats([2, 3]), floats([3, 2])],
                    ["rate": .double(0.5)]),
            rejects("momentumUpdate with a NaN learning rate", "momentumUpdate", [floats, floats, floats],
                    ["learningRate": .double(.nan), "momentum": .double(0.9)]),
            rejects("momentumUpdate with a velocity of another shape", "momentumUpdate", [floats, floats, floats([3, 2])],
                    ["learningRate": .double(0.1), "momentum": .double(0.9)]),
            rejects("adamUpdate at step 0", "adamUpdate", [floats, floats, floats, floats], ["learningRate": .double(0.1), "step": .int(0)]),
            rejects("adamUpdate with an infinite learning rate", "adamUpdate", [floats, floats, floats, floats],
                    ["learningRate": .double(.infinity), "step": .int(1)]),
        ]
        return cases
    }

    /// A buffer no backend owns, handed to each one.
    static var foreignBuffer: ConformanceCase {
        ConformanceCase("rejects a buffer from elsewhere", covers: ["owns", "copy"], opClass: .error, body: .library { backend in
            _ = try backend.download(Buffer(storage: UnownedStorage(), shape: [2], dtype: .float32))
            return []
        })
    }

    /// Invalid models and inputs, one or more per layer kind: each must be refused (when the
    /// model is built or run) with the same error on every backend.
    static var layers: [ConformanceCase] {
        func rejects(_ name: String, covers: [String], input shape: [Int], feed: [Int]? = nil,
                     _ graph: @escaping @Sendable (Axon) -> Axon) -> ConformanceCase {
            ConformanceCase("rejects layer \(name)", covers: covers.map { "layer.\($0)" }, opClass: .error, body: .library { backend in
                let model = graph(Axon.input("x", shape: [nil] + shape.dropFirst().map { $0 }))
                let built = try model.build(on: backend)
                let values = Philox.bits(key: Philox.Key(seed: 4), offset: 0, count: Shape(feed ?? shape).elementCount).map(Philox.unitFloat)
                let input = try Tensor(values, shape: Shape(feed ?? shape), on: backend)
                _ = try built.predict(try built.initialize(seed: 3), inputs: ["x": input], randomKey: Philox.Key(seed: 5))
                return []
            })
        }
        return [
            rejects("input of the wrong shape", covers: ["dense"], input: [2, 3], feed: [2, 4]) { $0.dense(2) },
            rejects("dense with zero units", covers: ["dense"], input: [2, 3]) { $0.dense(0) },
            rejects("conv with a kernel larger than the input", covers: ["conv"], input: [1, 4, 4, 1]) { $0.conv(2, kernelSize: [5]) },
            rejects("conv with a negative stride", covers: ["conv"], input: [1, 4, 4, 1]) { $0.conv(2, strides: [-1]) },
            rejects("conv transpose with output padding as large as the stride", covers: ["convTranspose"], input: [1, 4, 4, 1]) {
                $0.convTranspose(2, strides: [2], padding: .explicit([Padding(1, 1), Padding(1, 1)]), outputPadding: [2])
            },
            rejects("conv transpose whose padding leaves no output", covers: ["convTranspose"], input: [1, 2, 2, 1]) {
                $0.convTranspose(2, kernelSize: [2], padding: .explicit([Padding(2, 2), Padding(0, 0)]))
            },
            rejects("depthwise and separable convs with a zero multiplier", covers: ["depthwiseConv", "separableConv"], input: [1, 4, 4, 2]) {
                $0.depthwiseConv(channelMultiplier: 2).separableConv(channelMultiplier: 0)
            },
            rejects("resize to zero size", covers: ["resize"], input: [1, 4, 4, 1]) { $0.resize([0, 2]) },
            rejects("attention with a query and key of different features", covers: ["dotProductAttention"], input: [2, 3, 4]) { x in
                Axon.dotProductAttention(query: x, key: x.dense(3), value: x)
            },
            rejects("attention with a mask that does not broadcast", covers: ["multiHeadAttention", "additiveAttention"], input: [2, 3, 4]) { x in
                let mask = x.dense(2)
                return Axon.additiveAttention(query: Axon.multiHeadAttention(query: x, value: x, heads: 2, keyDimension: 2, outputDimension: 4).output,
                                              value: x, mask: mask)
            },
            rejects("recurrent layers over a rank-2 input", covers: ["lstm", "gru", "simpleRNN", "bidirectional"], input: [2, 3]) { x in
                x.bidirectional { input, reverse in input.lstm(2, reverse: reverse) }.last.add(x.gru(2).last).add(x.simpleRNN(2).last)
            },
            rejects("lstm with an initial state of the wrong width", covers: ["lstm"], input: [2, 4, 3]) { x in
                x.lstm(2, initialStates: [x.flatten(), x.flatten()]).sequence
            },
            rejects("max pool of a rank-2 input", covers: ["maxPool"], input: [2, 3]) { $0.maxPool(kernelSize: [2]) },
            rejects("avg pool with a window larger than the input", covers: ["avgPool"], input: [1, 2, 2, 1]) { $0.avgPool(kernelSize: [3]) },
            rejects("lp pools with a zero norm", covers: ["lpPool", "globalLpPool"], input: [1, 4, 4, 1]) { $0.lpPool(norm: 0).globalLpPool(norm: 0) },
            rejects("adaptive pools to zero size", covers: ["adaptiveAvgPool", "adaptiveMaxPool", "adaptiveLpPool"], input: [1, 4, 4, 1]) {
                Axon.concatenate([$0.adaptiveAvgPool(outputSize: [0]), $0.adaptiveMaxPool(outputSize: [2]), $0.adaptiveLpPool(outputSize: [2])])
            },
            rejects("global pools of a rank-2 input", covers: ["globalAvgPool", "globalMaxPool"], input: [2, 3]) { $0.globalAvgPool().globalMaxPool() },
            rejects("batch norm over a missing axis", covers: ["batchNorm"], input: [2, 3]) { $0.batchNorm(axis: 4) },
            rejects("layer norm with a negative epsilon", covers: ["layerNorm"], input: [2, 3]) { $0.layerNorm(epsilon: -1) },
            rejects("layer norm over more axes than the example has", covers: ["layerNorm"], input: [2, 3]) { $0.layerNorm(axisCount: 2) },
            rejects("group norm with groups that do not divide the channels", covers: ["groupNorm", "instanceNorm"], input: [1, 4, 6]) {
                $0.instanceNorm().groupNorm(groups: 4)
            },
            rejects("dropout at rate 1", covers: ["dropout"], input: [2, 3]) { $0.dropout(rate: 1) },
            rejects("structured dropouts at rate 1", covers: ["spatialDropout", "alphaDropout", "featureAlphaDropout"], input: [1, 4, 4, 2]) {
                $0.spatialDropout(rate: 0.5).alphaDropout(rate: 0.2).featureAlphaDropout(rate: 1)
            },
            rejects("drop block larger than the input", covers: ["dropBlock"], input: [1, 4, 4, 2]) { $0.dropBlock(blockSize: 5) },
            rejects("softmax over a missing axis", covers: ["activation", "relu", "sigmoid", "tanh", "softmax", "logSoftmax"], input: [2, 3]) {
                $0.relu().sigmoid().tanh().logSoftmax().softmax(axis: 3)
            },
            rejects("merges of different shapes", covers: ["add", "subtract", "multiply", "residual"], input: [2, 3]) { x in
                x.residual { $0.dense(4) }.subtract(x).multiply(x)
            },
            rejects("concatenate over a missing axis", covers: ["concatenate"], input: [2, 3]) { x in Axon.concatenate([x, x], axis: 5) },
            rejects("split into parts that do not divide the axis", covers: ["split"], input: [2, 3]) { x in Axon.add(x.split(2)) },
            rejects("reshape to another element count", covers: ["reshape", "flatten"], input: [2, 3, 4]) { $0.flatten().reshape([5]) },
            rejects("transpose with a repeated axis", covers: ["transpose"], input: [2, 3, 4]) { $0.transpose([0, 1, 1]) },
            rejects("pad by a negative amount", covers: ["pad"], input: [2, 3]) { $0.pad([Padding(0, 0), Padding(-1, 0)]) },
        ]
    }
}

/// Storage that belongs to no backend.
final class UnownedStorage: BufferStorage, @unchecked Sendable {}
