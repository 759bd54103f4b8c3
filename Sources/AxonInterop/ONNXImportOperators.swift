import AxonCore
import AxonData
import Foundation

/// Each supported ONNX operator as layers.
extension ONNXImporter {
    func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    func int(_ node: Onnx_NodeProto, _ name: String, _ fallback: Int) -> Int { attribute(node, name).map { Int(clamping: $0.i) } ?? fallback }
    func float(_ node: Onnx_NodeProto, _ name: String, _ fallback: Float) -> Float { attribute(node, name)?.f ?? fallback }
    func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? { attribute(node, name).map { $0.ints.map { Int(clamping: $0) } } }
    func string(_ node: Onnx_NodeProto, _ name: String, _ fallback: String) -> String {
        attribute(node, name).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
    }

    /// The node's input `index`, or nil when absent or empty (an omitted optional input).
    func input(_ node: Onnx_NodeProto, _ index: Int) -> String? {
        index < node.input.count && !node.input[index].isEmpty ? node.input[index] : nil
    }

    /// A constant input's values as float32 with its shape.
    func weights(_ node: Onnx_NodeProto, _ index: Int) throws -> HostArray {
        guard let name = input(node, index) else { throw ONNXImportError("\(node.opType) '\(node.name)' lacks input \(index)") }
        let array = try constant(name)
        return try HostArray(shape: array.shape, elements: .float32(array.elements.floats))
    }

    static func float(_ values: [Float], _ shape: [Int]) throws -> HostArray { try HostArray(shape: Shape(shape), elements: .float32(values)) }

    /// How many leading inputs each operator must have (one unless listed).
    static let requiredInputs: [String: Int] = [
        "Constant": 0, "Gemm": 2, "MatMul": 2, "Add": 2, "Sub": 2, "Mul": 2, "Conv": 2, "ConvTranspose": 2,
        "BatchNormalization": 5, "Reshape": 2, "Gather": 2, "LSTM": 3, "GRU": 3, "RNN": 3,
    ]

    /// The node's results.
    mutating func apply(_ node: Onnx_NodeProto) throws -> [ONNXValue] {
        let required = Self.requiredInputs[node.opType] ?? 1
        guard node.input.count >= required, node.input.prefix(required).allSatisfy({ !$0.isEmpty }) else {
            throw ONNXImportError("\(node.opType) '\(node.name)' has \(node.input.count) inputs; it needs at least \(required)")
        }
        let x = node.input.first ?? ""
        func unary(_ activation: Activation) throws -> [ONNXValue] {
            let axon = try model(x).activation(activation, name: name(activation.name))
            return [.tensor(axon, view: try viewOf(x))]
        }
        switch node.opType {
        case "Identity", "Dropout":
            return [try value(x)]
        case "Relu": return try unary(.relu)
        case "Sigmoid": return try unary(.sigmoid)
        case "Tanh": return try unary(.tanh)
        case "Softplus": return try unary(.softplus)
        case "Softsign": return try unary(.softsign)
        case "Exp": return try unary(.exp)
        case "Selu": return try unary(.selu)
        case "Softmax": return try unary(.softmax(axis: int(node, "axis", -1)))
        case "LogSoftmax": return try unary(.logSoftmax(axis: int(node, "axis", -1)))
        case "Elu": return try unary(.elu(alpha: float(node, "alpha", 1)))
        case "LeakyRelu": return try unary(.leakyRelu(alpha: float(node, "alpha", 0.01)))
        case "Clip":
            let bounds = try (1...2).map { index in try input(node, index).map { try constant($0).elements.floats.first ?? 0 } }
            guard bounds[0] == 0, bounds[1] == 6 else { throw ONNXImportError("Clip '\(node.name)' other than to [0, 6]") }
            return try unary(.relu6)
        case "Gemm": return [try gemm(node)]
        case "MatMul":
            let kernel = try weights(node, 1)
            guard kernel.shape.rank == 2 else { throw ONNXImportError("MatMul '\(node.name)' needs a constant 2-D right operand") }
            return [try dense(x, kernel: kernel, bias: nil)]
        case "Add", "Sub", "Mul": return [try arithmetic(node)]
        case "Conv", "ConvTranspose": return [try convolution(node)]
        case "BatchNormalization": return [try batchNorm(node)]
        case "MaxPool", "AveragePool": return [try pool(node)]
        case "GlobalAveragePool", "GlobalMaxPool":
            let layer = name(node.opType == "GlobalMaxPool" ? "global_max_pool" : "global_avg_pool")
            let input = try model(x)
            let pooled = node.opType == "GlobalMaxPool"
                ? input.globalMaxPool(channels: .first, keepDimensions: true, name: layer) : input.globalAvgPool(channels: .first, keepDimensions: true, name: layer)
            return [.tensor(pooled, view: try viewOf(x))]
        case "Flatten":
            guard int(node, "axis", 1) == 1 else { throw ONNXImportError("Flatten '\(node.name)' on an axis other than 1") }
            return [.tensor(try model(x).flatten(name: name("flatten")), view: [0, 1])]
        case "Reshape": return [try reshape(node)]
        case "Transpose":
            guard case let .tensor(axon, view) = try value(x) else { throw ONNXImportError("Transpose '\(node.name)' of a constant") }
            let permutation = ints(node, "perm") ?? Array((0..<view.count).reversed())
            guard permutation.sorted() == Array(0..<view.count) else {
                throw ONNXImportError("Transpose '\(node.name)' has perm \(permutation) for \(view.count) axes")
            }
            return [.tensor(axon, view: permutation.map { view[$0] })]
        case "Squeeze", "Unsqueeze": return [try squeeze(node)]
        case "Concat": return [try concatenate(node)]
        case "Gather": return [try gather(node)]
        case "Shape":
            guard case let .tensor(axon, view) = try value(x), let shape = try axon.layers().last?.outputShape else {
                throw ONNXImportError("Shape '\(node.name)' of a value whose shape is unknown")
            }
            return [.integers(view.map { $0.map { shape[$0] } ?? 1 }, scalar: false)]
        case "Constant":
            guard let tensor = attribute(node, "value") else { throw ONNXImportError("Constant '\(node.name)' without a tensor value") }
            return [.constant(try Self.array(tensor.t))]
        case "ConstantOfShape":
            if let fill = attribute(node, "value"), try Self.array(fill.t).elements.floats.contains(where: { $0 != 0 }) {
                throw ONNXImportError("ConstantOfShape '\(node.name)' with a value other than 0")
            }
            guard case let .integers(shape, _) = try value(x) else { return [.zeros(try integers(x).map { $0 })] }
            return [.zeros(shape)]
        case "LSTM", "GRU", "RNN": return try recurrent(node)
        default:
            throw ONNXImportError("unsupported operator \(node.opType)")
        }
    }

    func viewOf(_ name: String) throws -> [Int?] {
        guard case let .tensor(_, view) = try value(name) else { return [] }
        return view
    }

    mutating func dense(_ x: String, kernel: HostArray, bias: HostArray?) throws -> ONNXValue {
        let layer = name("dense")
        weights["\(layer).kernel"] = kernel
        if let bias { weights["\(layer).bias"] = bias }
        let axon = try model(x).dense(kernel.shape[1], useBias: bias != nil, name: layer)
        return .tensor(axon, view: Array(0..<(try viewOf(x)).count))
    }

    mutating func gemm(_ node: Onnx_NodeProto) throws -> ONNXValue {
        guard int(node, "transA", 0) == 0 else { throw ONNXImportError("Gemm '\(node.name)' with transA") }
        var kernel = try weights(node, 1)
        guard kernel.shape.rank == 2 else { throw ONNXImportError("Gemm '\(node.name)' needs a constant 2-D right operand, got \(kernel.shape)") }
        if int(node, "transB", 0) == 1 { kernel = try kernel.permuted([1, 0]) }
        let (alpha, beta) = (float(node, "alpha", 1), float(node, "beta", 1))
        if alpha != 1 { kernel = try Self.float(kernel.elements.floats.map { $0 * alpha }, kernel.shape.dimensions) }
        let bias = try input(node, 2).map { _ in try weights(node, 2) }.map { bias in
            guard bias.elements.count == kernel.shape[1] else {
                throw ONNXImportError("Gemm '\(node.name)' has a bias of \(bias.elements.count) values for \(kernel.shape[1]) outputs")
            }
            return try Self.float(bias.elements.floats.map { $0 * beta }, [kernel.shape[1]])
        }
        return try dense(node.input[0], kernel: kernel, bias: bias)
    }

    /// Two model values merged, or a constant added or subtracted along the last axis (a bias).
    mutating func arithmetic(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let (a, b) = (node.input[0], node.input[1])
        if case .tensor = try value(a), case .tensor = try value(b) {
            let layer = name(["Add": "add", "Sub": "subtract", "Mul": "multiply"][node.opType] ?? "add")
            let (left, right) = (try model(a), try model(b))
            let merged = node.opType == "Add" ? left.add(right, name: layer) : node.opType == "Sub" ? left.subtract(right, name: layer) : left.multiply(right, name: layer)
            return .tensor(merged, view: Array(0..<(try viewOf(a)).count))
        }
        guard node.opType != "Mul", case .tensor = try value(a) else { throw ONNXImportError("\(node.opType) '\(node.name)' of constants") }
        let offset = try constant(b)
        guard offset.shape.dimensions.dropLast().allSatisfy({ $0 == 1 }) else {
            throw ONNXImportError("\(node.opType) '\(node.name)' adds a constant of shape \(offset.shape), not one along the last axis")
        }
        let layer = name("bias")
        let values = offset.elements.floats
        weights["\(layer).bias"] = try Self.float(node.opType == "Sub" ? values.map { -$0 } : values, [values.count])
        return .tensor(try model(a).bias(name: layer), view: try viewOf(a))
    }

    /// Explicit padding pairs from ONNX `pads` (all begins, then all ends) or `auto_pad`.
    func padding(_ node: Onnx_NodeProto, spatial: Int) throws -> PaddingMode {
        switch string(node, "auto_pad", "NOTSET") {
        case "VALID": return .valid
        case "SAME_UPPER": return .same
        case "NOTSET":
            let pads = ints(node, "pads") ?? Array(repeating: 0, count: 2 * spatial)
            guard pads.count == 2 * spatial else { throw ONNXImportError("'\(node.name)' has \(pads.count) pads for \(spatial) spatial axes") }
            return .explicit((0..<spatial).map { Padding(pads[$0], pads[spatial + $0]) })
        case let other: throw ONNXImportError("'\(node.name)' has auto_pad \(other)")
        }
    }

    mutating func convolution(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let transposed = node.opType == "ConvTranspose"
        let w = try weights(node, 1)
        guard w.shape.rank >= 3 else { throw ONNXImportError("\(node.opType) '\(node.name)' needs a kernel of rank 3 or more, got \(w.shape)") }
        let n = w.shape.rank - 2
        // ONNX [out, in/g, k...] (Conv) or [in, out/g, k...] (ConvTranspose) → [k..., ·, ·].
        let kernel = try w.permuted(Array(2..<(n + 2)) + [1, 0])
        let groups = int(node, "group", 1)
        guard groups >= 1, groups <= Swift.max(w.shape[0], 1) else { throw ONNXImportError("\(node.opType) '\(node.name)' has group \(groups)") }
        let filters = transposed ? w.shape[1] * groups : w.shape[0]
        let strides = ints(node, "strides") ?? Array(repeating: 1, count: n)
        let dilation = ints(node, "dilations") ?? Array(repeating: 1, count: n)
        let padding = try padding(node, spatial: n)
        let layer = name(transposed ? "conv_transpose" : "conv")
        weights["\(layer).kernel"] = kernel
        let bias = try input(node, 2).map { _ in try weights(node, 2) }
        if let bias { weights["\(layer).bias"] = bias }
        let input = try model(node.input[0])
        let y = transposed
            ? input.convTranspose(
                filters, kernelSize: Array(w.shape.dimensions.suffix(n)), strides: strides, padding: padding,
                outputPadding: ints(node, "output_padding") ?? Array(repeating: 0, count: n), dilation: dilation, groups: groups, channels: .first,
                useBias: bias != nil, name: layer)
            : input.conv(
                filters, kernelSize: Array(w.shape.dimensions.suffix(n)), strides: strides, padding: padding, dilation: dilation, groups: groups,
                channels: .first, useBias: bias != nil, name: layer)
        return .tensor(y, view: Array(0..<(n + 2)))
    }

    mutating func batchNorm(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let layer = name("batch_norm")
        for (index, parameter) in ["gamma", "beta", "mean", "var"].enumerated() { weights["\(layer).\(parameter)"] = try weights(node, index + 1) }
        let view = try viewOf(node.input[0])
        return .tensor(try model(node.input[0]).batchNorm(axis: 1, epsilon: float(node, "epsilon", 1e-5), name: layer), view: view)
    }

    mutating func pool(_ node: Onnx_NodeProto) throws -> ONNXValue {
        guard let size = ints(node, "kernel_shape") else { throw ONNXImportError("\(node.opType) '\(node.name)' without kernel_shape") }
        guard int(node, "ceil_mode", 0) == 0, (ints(node, "dilations") ?? []).allSatisfy({ $0 == 1 }) else {
            throw ONNXImportError("\(node.opType) '\(node.name)' with ceil_mode or dilations")
        }
        let strides = ints(node, "strides") ?? Array(repeating: 1, count: size.count)
        let padding = try padding(node, spatial: size.count)
        let input = try model(node.input[0])
        let y = node.opType == "MaxPool"
            ? input.maxPool(kernelSize: size, strides: strides, padding: padding, channels: .first, name: name("max_pool"))
            : input.avgPool(kernelSize: size, strides: strides, padding: padding, channels: .first, countPadding: int(node, "count_include_pad", 0) == 1, name: name("avg_pool"))
        return .tensor(y, view: Array(0..<(size.count + 2)))
    }

    mutating func reshape(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let target = try integers(node.input[1])
        guard let first = target.first, first == 0 || first == -1, !(first == -1 && target.dropFirst().contains(-1)) else {
            throw ONNXImportError("Reshape '\(node.name)' to \(target), which changes the batch dimension")
        }
        let rest = Array(target.dropFirst())
        return .tensor(try model(node.input[0]).reshape(rest, name: name("reshape")), view: Array(0...rest.count))
    }

    /// The axes of a Squeeze or Unsqueeze, from its input (opset 13 on) or attribute.
    func axes(_ node: Onnx_NodeProto, rank: Int) throws -> [Int] {
        let given = try input(node, 1).map { try integers($0) } ?? ints(node, "axes") ?? []
        let axes = given.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count else {
            throw ONNXImportError("\(node.opType) '\(node.name)' has axes \(given) for rank \(rank)")
        }
        return axes
    }

    func squeeze(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let squeezing = node.opType == "Squeeze"
        switch try value(node.input[0]) {
        case let .tensor(axon, view):
            var result = view
            if squeezing {
                let axes = try axes(node, rank: view.count)
                guard axes.allSatisfy({ view[$0] == nil }) else {
                    throw ONNXImportError("Squeeze '\(node.name)' of a model axis (only inserted axes of size 1 are removed)")
                }
                for axis in axes.reversed() { result.remove(at: axis) }
            } else {
                let inserted = try input(node, 1).map { try integers($0).count } ?? ints(node, "axes")?.count ?? 0
                for axis in try axes(node, rank: view.count + inserted) { result.insert(nil, at: axis) }
            }
            return .tensor(axon, view: result)
        case let .integers(values, _):
            if squeezing { return .integers(values, scalar: values.count == 1) }
            return .integers(values, scalar: false)
        default:
            throw ONNXImportError("\(node.opType) '\(node.name)' of a constant")
        }
    }

    mutating func concatenate(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let parts = try node.input.map { try value($0) }
        if parts.allSatisfy({ if case .tensor = $0 { true } else { false } }) {
            let rank = try viewOf(node.input[0]).count
            let axis = int(node, "axis", 0)
            let joined = Axon.concatenate(try node.input.map { try model($0) }, axis: .index(axis < 0 ? axis + rank : axis), name: name("concatenate"))
            return .tensor(joined, view: Array(0..<rank))
        }
        // Shape arithmetic: integer pieces joined.
        return .integers(try parts.enumerated().flatMap { index, part -> [Int?] in
            if case let .integers(values, _) = part { return values }
            return try integers(node.input[index]).map { $0 }
        }, scalar: false)
    }

    mutating func gather(_ node: Onnx_NodeProto) throws -> ONNXValue {
        let axis = int(node, "axis", 0)
        switch (try value(node.input[0]), try value(node.input[1])) {
        case let (.integers(values, _), .constant(index)):
            guard index.elements.count == 1, let given = try index.elements.floats.first.map({ try Self.integer($0, node.name) }) else {
                throw ONNXImportError("Gather '\(node.name)' of several indices from a shape")
            }
            let position = given < 0 ? given + values.count : given
            guard values.indices.contains(position) else { throw ONNXImportError("Gather '\(node.name)' index \(given) is outside the shape") }
            return .integers([values[position]], scalar: index.shape.rank == 0)
        case let (.tensor(axon, view), .constant(index)):
            guard index.shape.rank == 0, let position = try index.elements.floats.first.map({ try Self.integer($0, node.name) }) else {
                throw ONNXImportError("Gather '\(node.name)' of several indices from a tensor")
            }
            let resolved = axis < 0 ? axis + view.count : axis
            guard (0..<view.count).contains(resolved), let modelAxis = view[resolved], modelAxis > 0 else {
                throw ONNXImportError("Gather '\(node.name)' along the batch axis")
            }
            var rest = view
            rest.remove(at: resolved)
            return .tensor(axon.take(position, axis: .index(modelAxis - 1), name: name("take")), view: rest.map { $0.map { $0 > modelAxis ? $0 - 1 : $0 } })
        case let (.constant(table), .tensor(ids, view)) where axis == 0 && table.shape.rank == 2:
            let layer = name("embedding")
            weights["\(layer).kernel"] = try Self.float(table.elements.floats, table.shape.dimensions)
            let embedded = try model(node.input[1]).embedding(vocabularySize: table.shape[0], features: table.shape[1], name: layer)
            _ = ids
            return .tensor(embedded, view: Array(0...view.count))
        default:
            throw ONNXImportError("Gather '\(node.name)' of this kind")
        }
    }
}
