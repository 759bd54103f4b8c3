import AxonCore
import Foundation

/// Recurrent layers as ONNX `RNN`, `GRU` and `LSTM`, and dot-product attention as `MatMul` and
/// `Softmax`.
extension ONNXGraphBuilder {
    /// ONNX's name for an activation a recurrent operator takes.
    static func recurrentActivation(_ name: String) throws -> String {
        guard let onnx = ["sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"][name] else {
            throw ONNXUnsupported("recurrent activation \(name)")
        }
        return onnx
    }

    /// `[features, gates·units]` (this library) as `[1, gates·units, features]` (ONNX) with
    /// the gate blocks in ONNX's `order`.
    static func gateMajor(_ kernel: (values: [Float], shape: [Int]), units: Int, order: [Int]) throws -> [Float] {
        let transposed = try permute(kernel.values, shape: kernel.shape, [1, 0]).values
        let rowLength = kernel.shape[0]
        return order.flatMap { gate in transposed[(gate * units * rowLength)..<((gate + 1) * units * rowLength)] }
    }

    static func reordered(_ bias: [Float], units: Int, order: [Int]) -> [Float] {
        order.flatMap { gate in bias[(gate * units)..<((gate + 1) * units)] }
    }

    /// The packed output this library's recurrent layer produces, `[batch, time + states, units]`:
    /// the sequence followed by the final states (`h`, then `c` for an LSTM).
    mutating func recurrent(_ layer: LayerDescription, _ options: ONNXOptions, inputs: [String], inputShape: SymbolicShape) throws -> String {
        let hint = layer.name
        guard options.values["convolution"] == nil || options.values["convolution"] is NSNull else {
            throw ONNXUnsupported("convolutional recurrence")
        }
        guard inputShape.count == 3, let features = inputShape[2] else { throw ONNXUnsupported("needs [batch, time, features] input") }
        let units = try options.int("units")
        let (cell, cellValues) = try options.enumeration("cell")
        let activation = try Self.recurrentActivation(try options.enumeration("activation").name)
        let gate = try Self.recurrentActivation(try options.enumeration("recurrentActivation").name)
        let hasLengths = try options.bool("hasLengths")
        let useBias = try options.bool("useBias")
        let (op, order, activations, states): (String, [Int], [String], Int)
        var attributes: [Onnx_AttributeProto] = []
        switch cell {
        case "lstm": (op, order, activations, states) = ("LSTM", [0, 3, 1, 2], [gate, activation, activation], 2)
        case "gru":
            (op, order, activations, states) = ("GRU", [1, 0, 2], [gate, activation], 1)
            attributes.append(ONNXAttribute.int("linear_before_reset", try cellValues.bool("resetAfter") ? 1 : 0))
        default: (op, order, activations, states) = ("RNN", [0], [activation], 1)
        }
        let width = order.count * units
        let kernel = try parameter("\(layer.parameterScope).kernel"), recurrentKernel = try parameter("\(layer.parameterScope).recurrent_kernel")
        let w = constant(try Self.gateMajor(kernel, units: units, order: order), shape: [1, width, features], hint: hint)
        let r = constant(try Self.gateMajor(recurrentKernel, units: units, order: order), shape: [1, width, units], hint: hint)
        let inputBias = useBias ? Self.reordered(try parameter("\(layer.parameterScope).bias").values, units: units, order: order) : Array(repeating: 0, count: width)
        let hiddenBias = layer.parameters.contains(where: { $0.name == "\(layer.parameterScope).recurrent_bias" })
            ? Self.reordered(try parameter("\(layer.parameterScope).recurrent_bias").values, units: units, order: order) : Array(repeating: 0, count: width)
        let b = constant(inputBias + hiddenBias, shape: [1, 2 * width], hint: hint)

        let timeMajor = node("Transpose", [inputs[0]], [ONNXAttribute.ints("perm", [1, 0, 2])], hint: hint)[0]
        var operands = [timeMajor, w, r, b, hasLengths ? inputs[1] : ""]
        let initial = Array(inputs.dropFirst(hasLengths ? 2 : 1))
        for state in initial { operands.append(node("Unsqueeze", [state, int64s([0], hint: hint)], hint: hint)[0]) }
        while operands.last == "" { operands.removeLast() }
        attributes += [
            ONNXAttribute.int("hidden_size", units), ONNXAttribute.strings("activations", activations),
            ONNXAttribute.string("direction", try options.bool("reverse") ? "reverse" : "forward"),
        ]
        let outputs = node(op, operands, attributes, outputs: 1 + states, hint: hint)
        // Y [time, 1, batch, units] → [batch, time, units]; each state [1, batch, units] → [batch, 1, units].
        let sequence = node("Transpose", [node("Squeeze", [outputs[0], int64s([1], hint: hint)], hint: hint)[0]], [ONNXAttribute.ints("perm", [1, 0, 2])], hint: hint)[0]
        let finals = outputs.dropFirst().map { node("Transpose", [$0], [ONNXAttribute.ints("perm", [1, 0, 2])], hint: hint)[0] }
        return node("Concat", [sequence] + finals, [ONNXAttribute.int("axis", 1)], hint: hint)[0]
    }

    /// One part of a packed recurrent output: the sequence, or one final state.
    mutating func recurrentPart(_ options: ONNXOptions, input: String, hint: String) throws -> String {
        let fromEnd = try options.int("fromEnd"), single = try options.bool("single")
        if let count = options.values["count"] as? Int {
            return node("Slice", [input, int64s([0], hint: hint), int64s([-count], hint: hint), int64s([1], hint: hint)], hint: hint)[0]
        }
        let end = -fromEnd + 1 == 0 ? Int(Int64.max) : -fromEnd + 1
        let part = node("Slice", [input, int64s([-fromEnd], hint: hint), int64s([end], hint: hint), int64s([1], hint: hint)], hint: hint)[0]
        return single ? node("Squeeze", [part, int64s([1], hint: hint)], hint: hint)[0] : part
    }

    /// `softmax(q·kᵀ·scale + mask)·v` over inputs `[query, key, value, mask?]`.
    mutating func attention(_ layer: LayerDescription, _ options: ONNXOptions, inputs: [String], shapes: [SymbolicShape]) throws -> String {
        guard let features = shapes[0].last ?? nil else { throw ONNXUnsupported("unknown feature dimension") }
        let scale = (options.values["scale"] as? NSNumber)?.floatValue ?? 1 / Float(features).squareRoot()
        let (weights, values) = try attend(
            query: inputs[0], key: inputs[1], value: inputs[2], mask: inputs.count > 3 ? inputs[3] : nil, rank: shapes[0].count,
            positions: (shapes[0][shapes[0].count - 2], shapes[1][shapes[1].count - 2]), scale: scale, causal: try options.bool("causal"),
            hint: layer.name)
        return try options.enumeration("output").name == "values" ? values : weights
    }

    /// Multi-head attention between the projections: features split into heads, attention
    /// within each head, heads joined again.
    mutating func headsAttention(_ layer: LayerDescription, _ options: ONNXOptions, inputs: [String], shapes: [SymbolicShape]) throws -> String {
        let hint = layer.name, heads = try options.int("heads")
        guard let features = shapes[0].last ?? nil, features % heads == 0 else { throw ONNXUnsupported("features not divisible into heads") }
        func split(_ x: String) -> String {
            let grouped = node("Reshape", [x, int64s([0, 0, heads, -1], hint: hint)], hint: hint)[0]
            return node("Transpose", [grouped], [ONNXAttribute.ints("perm", [0, 2, 1, 3])], hint: hint)[0]
        }
        let (weights, values) = try attend(
            query: split(inputs[0]), key: split(inputs[1]), value: split(inputs[2]), mask: inputs.count > 3 ? inputs[3] : nil, rank: 4,
            positions: (shapes[0][1], shapes[1][1]), scale: 1 / Float(features / heads).squareRoot(), causal: try options.bool("causal"), hint: hint)
        guard try options.enumeration("output").name == "values" else { return weights }
        let joined = node("Transpose", [values], [ONNXAttribute.ints("perm", [0, 2, 1, 3])], hint: hint)[0]
        return node("Reshape", [joined, int64s([0, 0, -1], hint: hint)], hint: hint)[0]
    }

    /// The attention weights and values: a boolean mask keeps the scores where true (−∞
    /// elsewhere), any other mask is added, and `causal` keeps key `j ≤` query `i`.
    mutating func attend(
        query: String, key: String, value: String, mask: String?, rank: Int, positions: (Int?, Int?), scale: Float, causal: Bool, hint: String
    ) throws -> (weights: String, values: String) {
        let keyT = node("Transpose", [key], [ONNXAttribute.ints("perm", Array(0..<(rank - 2)) + [rank - 1, rank - 2])], hint: hint)[0]
        var scores = node("Mul", [node("MatMul", [query, keyT], hint: hint)[0], constant([scale], shape: [], hint: hint)], hint: hint)[0]
        let negativeInfinity = constant([-.infinity], shape: [], hint: hint)
        if let mask {
            scores = elementType(of: mask) == Int32(Onnx_TensorProto.DataType.bool.rawValue)
                ? node("Where", [mask, scores, negativeInfinity], hint: hint)[0] : node("Add", [scores, mask], hint: hint)[0]
        }
        if causal {
            guard let queries = positions.0, let keys = positions.1 else { throw ONNXUnsupported("causal attention over unknown positions") }
            var allowed = Onnx_TensorProto()
            allowed.name = fresh("\(hint)/causal")
            allowed.dims = [Int64(queries), Int64(keys)]
            allowed.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
            allowed.rawData = Data((0..<queries).flatMap { i in (0..<keys).map { j in UInt8(i >= j ? 1 : 0) } })
            initializers.append(allowed)
            scores = node("Where", [allowed.name, scores, negativeInfinity], hint: hint)[0]
        }
        let weights = node("Softmax", [scores], [ONNXAttribute.int("axis", -1)], hint: hint)[0]
        return (weights, node("MatMul", [weights, value], hint: hint)[0])
    }
}
