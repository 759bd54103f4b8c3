import AxonCore
import Foundation

/// Each layer kind's ONNX form. Values flow under fresh names; every layer's result is finally
/// named after the layer, which is how the layers that read it refer to it.
extension ONNXGraphBuilder {
    mutating func export(_ layer: LayerDescription) throws {
        guard let type = layer.type else { throw ONNXUnsupported("a custom layer") }
        let options = try ONNXOptions(layer)
        let inputs = layer.inputs
        let hint = layer.name
        let known = shapes
        func shape(_ name: String) throws -> SymbolicShape {
            guard let shape = known[name] else { throw ONNXUnsupported("the shape of its input '\(name)' is unknown") }
            return shape
        }
        let result: String
        switch type {
        case "DenseLayer":
            let kernel = try parameter("\(layer.parameterScope).kernel")
            var y = node("MatMul", [inputs[0], constant(kernel.values, shape: kernel.shape, hint: hint)], hint: hint)[0]
            if try options.bool("useBias") { y = try addParameter(y, "\(layer.parameterScope).bias", hint: hint) }
            result = try activate(y, options.enumeration("activation"), hint: hint)
        case "ActivationLayer":
            result = try activate(inputs[0], options.enumeration("activation"), hint: hint)
        case "DropoutLayer", "StructuredDropoutLayer":
            result = inputs[0]
        case "FlattenLayer":
            result = node("Flatten", [inputs[0]], [ONNXAttribute.int("axis", 1)], hint: hint)[0]
        case "ReshapeLayer":
            let target = try [0] + options.ints("shape")
            result = node("Reshape", [inputs[0], int64s(target, hint: hint)], hint: hint)[0]
        case "TransposeLayer":
            let permutation = try [0] + options.ints("permutation").map { $0 + 1 }
            result = node("Transpose", [inputs[0]], [ONNXAttribute.ints("perm", permutation)], hint: hint)[0]
        case "TakeLayer":
            let rank = try shape(inputs[0]).count
            let axis = try options.int("axis")
            let onnxAxis = (axis < 0 ? axis + rank - 1 : axis) + 1
            let picked = node("Gather", [inputs[0], int64s([try options.int("index")], hint: hint)], [ONNXAttribute.int("axis", onnxAxis)], hint: hint)[0]
            result = node("Squeeze", [picked, int64s([onnxAxis], hint: hint)], hint: hint)[0]
        case "ConcatenateLayer":
            result = node("Concat", inputs, [ONNXAttribute.int("axis", try options.int("axis"))], hint: hint)[0]
        case "MergeLayer":
            let operation = try options.string("operation")
            let op = ["add": "Add", "subtract": "Sub", "multiply": "Mul"][operation] ?? "Add"
            result = inputs.dropFirst().reduce(inputs[0]) { node(op, [$0, $1], hint: hint)[0] }
        case "EmbeddingLayer":
            let kernel = try parameter("\(layer.parameterScope).kernel")
            result = node("Gather", [constant(kernel.values, shape: kernel.shape, hint: hint), inputs[0]], [ONNXAttribute.int("axis", 0)], hint: hint)[0]
        case "BiasLayer":
            result = try addParameter(inputs[0], "\(layer.parameterScope).bias", hint: hint)
        case "PadLayer":
            let padding = try (options.value("padding") as? [[String: Int]] ?? []).map { ($0["low"] ?? 0, $0["high"] ?? 0) }
            let pads = [0] + padding.map(\.0) + [0] + padding.map(\.1)
            let value = constant([try options.float("value")], shape: [], hint: hint)
            result = node("Pad", [inputs[0], int64s(pads, hint: hint), value], [ONNXAttribute.string("mode", "constant")], hint: hint)[0]
        case "ConvLayer":
            result = try convolution(layer, options, input: inputs[0], inputShape: shape(inputs[0]), groups: options.int("groups"))
        case "DepthwiseConvLayer":
            let channels = try shape(inputs[0])
            let last = try options.string("channels") == "last"
            guard let count = last ? channels.last ?? nil : channels[1] else { throw ONNXUnsupported("unknown channel count") }
            result = try convolution(layer, options, input: inputs[0], inputShape: channels, groups: count)
        case "SeparableConvLayer":
            result = try separableConvolution(layer, options.object("whole"), input: inputs[0], inputShape: shape(inputs[0]))
        case "ConvTransposeLayer":
            result = try transposedConvolution(layer, options, input: inputs[0], inputShape: shape(inputs[0]))
        case "PoolLayer":
            result = try pool(layer, options, input: inputs[0], inputShape: shape(inputs[0]))
        case "GlobalPoolLayer":
            let rank = try shape(inputs[0]).count
            let last = try options.string("channels") == "last"
            let axes = last ? Array(1..<(rank - 1)) : Array(2..<rank)
            let (pooling, _) = try options.enumeration("pooling")
            guard let op = ["max": "ReduceMax", "average": "ReduceMean"][pooling] else { throw ONNXUnsupported("global \(pooling) pooling") }
            result = node(op, [inputs[0]], [ONNXAttribute.ints("axes", axes), ONNXAttribute.int("keepdims", try options.bool("keepDimensions") ? 1 : 0)], hint: hint)[0]
        case "BatchNormLayer":
            result = try batchNorm(layer, options, input: inputs[0], rank: shape(inputs[0]).count)
        case "GroupNormLayer":
            result = try groupNorm(layer, options, input: inputs[0], inputShape: shape(inputs[0]))
        case "ResizeLayer":
            result = try resize(layer, options, input: inputs[0], inputShape: shape(inputs[0]))
        case "LayerNormLayer":
            result = try layerNorm(layer, options, input: inputs[0], inputShape: shape(inputs[0]))
        case "RecurrentLayer":
            result = try recurrent(layer, options, inputs: inputs, inputShape: shape(inputs[0]))
        case "RecurrentPartLayer":
            result = try recurrentPart(options, input: inputs[0], hint: hint)
        case "DotProductAttentionLayer":
            result = try attention(layer, options, inputs: inputs, shapes: inputs.map { try shape($0) })
        case "HeadsAttentionLayer":
            result = try headsAttention(layer, options, inputs: inputs, shapes: inputs.map { try shape($0) })
        default:
            throw ONNXUnsupported()
        }
        node("Identity", [result], output: layer.name, hint: hint)
        shapes[layer.name] = layer.outputShape
        // Layers compute float32; a pass-through (dropout) keeps its input's type.
        elementTypes[layer.name] = result == inputs.first ? elementType(of: result) : Int32(Onnx_TensorProto.DataType.float.rawValue)
    }

    mutating func addParameter(_ x: String, _ name: String, hint: String) throws -> String {
        let bias = try parameter(name)
        return node("Add", [x, constant(bias.values, shape: bias.shape, hint: hint)], hint: hint)[0]
    }

    /// `activation` (an ``Activation`` as its options code it) applied to `x`.
    mutating func activate(_ x: String, _ activation: (name: String, values: ONNXOptions), hint: String) throws -> String {
        func single(_ op: String, _ attributes: [Onnx_AttributeProto] = []) -> String { node(op, [x], attributes, hint: hint)[0] }
        func times(_ other: String) -> String { node("Mul", [x, other], hint: hint)[0] }
        switch activation.name {
        case "linear": return x
        case "relu": return single("Relu")
        case "sigmoid": return single("Sigmoid")
        case "tanh": return single("Tanh")
        case "exp": return single("Exp")
        case "softplus": return single("Softplus")
        case "softsign": return single("Softsign")
        case "selu": return single("Selu")
        case "softmax": return single("Softmax", [ONNXAttribute.int("axis", try activation.values.int("axis"))])
        case "logSoftmax": return single("LogSoftmax", [ONNXAttribute.int("axis", try activation.values.int("axis"))])
        case "elu": return single("Elu", [ONNXAttribute.float("alpha", try activation.values.float("alpha"))])
        case "celu": return single("Celu", [ONNXAttribute.float("alpha", try activation.values.float("alpha"))])
        case "leakyRelu": return single("LeakyRelu", [ONNXAttribute.float("alpha", try activation.values.float("alpha"))])
        case "hardSigmoid": return single("HardSigmoid", [ONNXAttribute.float("alpha", 1.0 / 6), ONNXAttribute.float("beta", 0.5)])
        case "hardSilu": return times(single("HardSigmoid", [ONNXAttribute.float("alpha", 1.0 / 6), ONNXAttribute.float("beta", 0.5)]))
        case "silu": return times(single("Sigmoid"))
        case "mish": return times(node("Tanh", [single("Softplus")], hint: hint)[0])
        case "relu6", "hardTanh":
            let (low, high): (Float, Float) = activation.name == "relu6" ? (0, 6) : (-1, 1)
            return node("Clip", [x, constant([low], shape: [], hint: hint), constant([high], shape: [], hint: hint)], hint: hint)[0]
        case "logSigmoid":
            return node("Neg", [node("Softplus", [single("Neg")], hint: hint)[0]], hint: hint)[0]
        case "gelu":
            // Opset 17 has no Gelu: 0.5·x·(1 + erf(x/√2)), or the tanh form when approximate.
            let inner: String
            if try activation.values.bool("approximate") {
                let cube = node("Mul", [x, node("Mul", [x, x], hint: hint)[0]], hint: hint)[0]
                let polynomial = node("Add", [x, node("Mul", [cube, constant([0.044715], shape: [], hint: hint)], hint: hint)[0]], hint: hint)[0]
                inner = node("Tanh", [node("Mul", [polynomial, constant([Float((2 / Double.pi).squareRoot())], shape: [], hint: hint)], hint: hint)[0]], hint: hint)[0]
            } else {
                inner = node("Erf", [node("Mul", [x, constant([Float(1 / 2.0.squareRoot())], shape: [], hint: hint)], hint: hint)[0]], hint: hint)[0]
            }
            let onePlus = node("Add", [inner, constant([1], shape: [], hint: hint)], hint: hint)[0]
            return node("Mul", [times(onePlus), constant([0.5], shape: [], hint: hint)], hint: hint)[0]
        case "logSumExp":
            return single("ReduceLogSumExp", [ONNXAttribute.ints("axes", [try activation.values.int("axis")]), ONNXAttribute.int("keepdims", 1)])
        default:
            throw ONNXUnsupported("activation \(activation.name)")
        }
    }

    /// Per spatial axis from a list of one value (applied to every axis) or one per axis.
    static func spatial(_ values: [Int], _ count: Int) -> [Int] { values.count == 1 ? Array(repeating: values[0], count: count) : values }

    /// `x` in channels-first order when the layer's data are channels-last, and the way back.
    mutating func channelsFirst(_ x: String, rank: Int, last: Bool, hint: String) -> String {
        last ? node("Transpose", [x], [ONNXAttribute.ints("perm", [0, rank - 1] + Array(1..<(rank - 1)))], hint: hint)[0] : x
    }

    mutating func channelsLast(_ x: String, rank: Int, last: Bool, hint: String) -> String {
        last ? node("Transpose", [x], [ONNXAttribute.ints("perm", [0] + Array(2..<rank) + [1])], hint: hint)[0] : x
    }

    /// ONNX `pads` (all lows, then all highs) or `auto_pad` for a ``PaddingMode``.
    func paddingAttributes(_ options: ONNXOptions, count: Int) throws -> [Onnx_AttributeProto] {
        let (mode, values) = try options.enumeration("padding")
        switch mode {
        case "valid": return [ONNXAttribute.ints("pads", Array(repeating: 0, count: 2 * count))]
        case "same": return [ONNXAttribute.string("auto_pad", "SAME_UPPER")]
        default:
            let pairs = try (values.value("_0") as? [[String: Int]] ?? []).map { ($0["low"] ?? 0, $0["high"] ?? 0) }
            return [ONNXAttribute.ints("pads", pairs.map(\.0) + pairs.map(\.1))]
        }
    }

    /// A float32 host tensor of `shape` permuted by `permutation` (``HostArray/permuted(_:)``).
    static func permute(_ values: [Float], shape: [Int], _ permutation: [Int]) throws -> (values: [Float], shape: [Int]) {
        let result = try HostArray(shape: Shape(shape), elements: .float32(values)).permuted(permutation)
        return (result.elements.floats, result.shape.dimensions)
    }

    /// The channels-first input, the kernel in ONNX's layout (`[k..., a, b]` → `[b, a, k...]`,
    /// which serves both `Conv` and `ConvTranspose`) and the bias if the layer has one; and the
    /// kernel's shape as this library stores it.
    mutating func convolutionOperands(
        _ layer: LayerDescription, _ options: ONNXOptions, input: String, rank: Int, last: Bool
    ) throws -> (operands: [String], kernelShape: [Int]) {
        let n = rank - 2
        let kernel = try parameter("\(layer.parameterScope).kernel")
        let weights = try Self.permute(kernel.values, shape: kernel.shape, [n + 1, n] + Array(0..<n))
        var operands = [channelsFirst(input, rank: rank, last: last, hint: layer.name), constant(weights.values, shape: weights.shape, hint: layer.name)]
        if try options.bool("useBias") {
            let bias = try parameter("\(layer.parameterScope).bias")
            operands.append(constant(bias.values, shape: bias.shape, hint: layer.name))
        }
        return (operands, kernel.shape)
    }

    mutating func convolution(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape, groups: Int) throws -> String {
        let hint = layer.name, rank = inputShape.count, n = rank - 2
        let last = try options.string("channels") == "last"
        let (operands, kernelShape) = try convolutionOperands(layer, options, input: input, rank: rank, last: last)
        let attributes = try [
            ONNXAttribute.ints("kernel_shape", Array(kernelShape.prefix(n))), ONNXAttribute.ints("strides", Self.spatial(options.ints("strides"), n)),
            ONNXAttribute.ints("dilations", Self.spatial(options.ints("dilation"), n)), ONNXAttribute.int("group", groups),
        ] + paddingAttributes(options, count: n)
        let y = node("Conv", operands, attributes, hint: hint)[0]
        return try activate(channelsLast(y, rank: rank, last: last, hint: hint), options.enumeration("activation"), hint: hint)
    }

    /// Elixir Axon's separable convolution: one depthwise `Conv` per spatial axis, each with a
    /// kernel, stride, dilation and padding along its own axis only (`kernel_1`, `bias_1`, ...),
    /// the activation after the last.
    mutating func separableConvolution(_ layer: LayerDescription, _ whole: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name, rank = inputShape.count, n = rank - 2
        let last = try whole.string("channels") == "last"
        let (size, step, rate) = try (Self.spatial(whole.ints("kernelSize"), n), Self.spatial(whole.ints("strides"), n), Self.spatial(whole.ints("dilation"), n))
        let (mode, values) = try whole.enumeration("padding")
        let explicit = (values.values["_0"] as? [[String: Int]])?.map { ($0["low"] ?? 0, $0["high"] ?? 0) }
        guard var channels = last ? inputShape[rank - 1] : inputShape[1] else { throw ONNXUnsupported("unknown channel count") }
        var x = channelsFirst(input, rank: rank, last: last, hint: hint)
        for axis in 0..<n {
            func along(_ values: [Int]) -> [Int] { (0..<n).map { $0 == axis ? values[axis] : 1 } }
            let kernel = try parameter("\(layer.parameterScope).kernel_\(axis + 1)")
            let weights = try Self.permute(kernel.values, shape: kernel.shape, [n + 1, n] + Array(0..<n))
            var operands = [x, constant(weights.values, shape: weights.shape, hint: hint)]
            if try whole.bool("useBias") {
                let bias = try parameter("\(layer.parameterScope).bias_\(axis + 1)")
                operands.append(constant(bias.values, shape: bias.shape, hint: hint))
            }
            let padding: Onnx_AttributeProto
            switch mode {
            case "same": padding = ONNXAttribute.string("auto_pad", "SAME_UPPER")
            case "valid": padding = ONNXAttribute.ints("pads", Array(repeating: 0, count: 2 * n))
            default:
                let pair = explicit?[axis] ?? (0, 0)
                padding = ONNXAttribute.ints("pads", (0..<n).map { $0 == axis ? pair.0 : 0 } + (0..<n).map { $0 == axis ? pair.1 : 0 })
            }
            x = node("Conv", operands, [
                ONNXAttribute.ints("kernel_shape", along(size)), ONNXAttribute.ints("strides", along(step)),
                ONNXAttribute.ints("dilations", along(rate)), ONNXAttribute.int("group", channels), padding,
            ], hint: hint)[0]
            channels = kernel.shape.last ?? channels
        }
        return try activate(channelsLast(x, rank: rank, last: last, hint: hint), whole.enumeration("activation"), hint: hint)
    }

    mutating func transposedConvolution(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name, rank = inputShape.count, n = rank - 2
        let last = try options.string("channels") == "last"
        let (operands, kernelShape) = try convolutionOperands(layer, options, input: input, rank: rank, last: last)
        let strides = Self.spatial(try options.ints("strides"), n), dilation = Self.spatial(try options.ints("dilation"), n)
        let size = Array(kernelShape.prefix(n))
        let spatialIn = last ? Array(inputShape[1..<(rank - 1)]) : Array(inputShape[2...])
        let spatialOut = last ? Array((layer.outputShape ?? [])[1..<(rank - 1)]) : Array((layer.outputShape ?? []).dropFirst(2))
        // The adjoint of a convolution padded (low, high) that maps the output size back to the
        // input size; output_padding makes up what that convolution's floor dropped.
        var lows: [Int] = [], highs: [Int] = [], extra: [Int] = []
        let (mode, values) = try options.enumeration("padding")
        let explicit = (values.values["_0"] as? [[String: Int]])?.map { ($0["low"] ?? 0, $0["high"] ?? 0) }
        for axis in 0..<n {
            guard let i = spatialIn[axis] ?? nil, let o = spatialOut[axis] ?? nil else { throw ONNXUnsupported("unknown spatial size") }
            let extent = dilation[axis] * (size[axis] - 1) + 1
            let (low, high): (Int, Int)
            switch mode {
            case "valid": (low, high) = (0, 0)
            case "same":
                let total = Swift.max((i - 1) * strides[axis] + extent - o, 0)
                (low, high) = (total / 2, total - total / 2)
            default: (low, high) = explicit?[axis] ?? (0, 0)
            }
            lows.append(low)
            highs.append(high)
            extra.append(o - ((i - 1) * strides[axis] + extent - low - high))
        }
        let attributes = [
            ONNXAttribute.ints("kernel_shape", size), ONNXAttribute.ints("strides", strides), ONNXAttribute.ints("dilations", dilation),
            ONNXAttribute.int("group", try options.int("groups")), ONNXAttribute.ints("pads", lows + highs), ONNXAttribute.ints("output_padding", extra),
        ]
        let y = node("ConvTranspose", operands, attributes, hint: hint)[0]
        return try activate(channelsLast(y, rank: rank, last: last, hint: hint), options.enumeration("activation"), hint: hint)
    }

    mutating func pool(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name, rank = inputShape.count, n = rank - 2
        let last = try options.string("channels") == "last"
        let size = Self.spatial(try options.ints("kernelSize"), n)
        let strides = (options.values["strides"] as? [Int]).map { Self.spatial($0, n) } ?? size
        var attributes = [ONNXAttribute.ints("kernel_shape", size), ONNXAttribute.ints("strides", strides)] + (try paddingAttributes(options, count: n))
        let (pooling, values) = try options.enumeration("pooling")
        let op: String
        switch pooling {
        case "max": op = "MaxPool"
        case "average":
            op = "AveragePool"
            attributes.append(ONNXAttribute.int("count_include_pad", try values.bool("countPadding") ? 1 : 0))
        default:
            let norm = try values.float("_0")
            guard norm == norm.rounded() else { throw ONNXUnsupported("Lp pooling with a non-integer norm \(norm)") }
            op = "LpPool"
            attributes.append(ONNXAttribute.int("p", Int(norm)))
        }
        let y = node(op, [channelsFirst(input, rank: rank, last: last, hint: hint)], attributes, hint: hint)[0]
        return channelsLast(y, rank: rank, last: last, hint: hint)
    }

    /// Inference batch norm folded into one scale and one shift along the normalised axis.
    mutating func batchNorm(_ layer: LayerDescription, _ options: ONNXOptions, input: String, rank: Int) throws -> String {
        let hint = layer.name
        let epsilon = try options.float("epsilon")
        var axis = try options.int("axis")
        if axis < 0 { axis += rank }
        let (gamma, beta) = (try parameter("\(layer.parameterScope).gamma").values, try parameter("\(layer.parameterScope).beta").values)
        let (mean, variance) = (try parameter("\(layer.parameterScope).mean").values, try parameter("\(layer.parameterScope).var").values)
        let scale = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
        let shift = (0..<scale.count).map { beta[$0] - mean[$0] * scale[$0] }
        let shape = [scale.count] + Array(repeating: 1, count: rank - 1 - axis)
        let scaled = node("Mul", [input, constant(scale, shape: shape, hint: hint)], hint: hint)[0]
        return node("Add", [scaled, constant(shift, shape: shape, hint: hint)], hint: hint)[0]
    }

    mutating func layerNorm(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name
        let axes = try options.int("axisCount")
        let trailing = inputShape.suffix(axes).compactMap { $0 }
        guard trailing.count == axes else { throw ONNXUnsupported("unknown normalised dimensions") }
        let count = trailing.reduce(1, *)
        let gamma = try options.bool("scale") ? try parameter("\(layer.parameterScope).gamma").values : Array(repeating: 1, count: count)
        let beta = try options.bool("center") ? try parameter("\(layer.parameterScope).beta").values : Array(repeating: 0, count: count)
        return node(
            "LayerNormalization", [input, constant(gamma, shape: trailing, hint: hint), constant(beta, shape: trailing, hint: hint)],
            [ONNXAttribute.int("axis", -axes), ONNXAttribute.float("epsilon", try options.float("epsilon"))], hint: hint)[0]
    }
}
