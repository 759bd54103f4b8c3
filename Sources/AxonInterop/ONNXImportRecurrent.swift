import AxonCore
import Foundation

/// ONNX's `LSTM`, `GRU` and `RNN` (one direction, batch-second layout) as this library's
/// recurrent layers, with the gate blocks reordered and the biases folded where they add up.
extension ONNXImporter {
    mutating func recurrent(_ node: Onnx_NodeProto) throws -> [ONNXValue] {
        let label = "\(node.opType) '\(node.name)'"
        let hidden = int(node, "hidden_size", 0)
        guard (1...(1 << 20)).contains(hidden) else { throw ONNXImportError("\(label) has hidden_size \(hidden)") }
        let direction = string(node, "direction", "forward")
        guard direction != "bidirectional" else { throw ONNXImportError("\(label) is bidirectional; import each direction as its own node") }
        guard int(node, "layout", 0) == 0, attribute(node, "clip") == nil, int(node, "input_forget", 0) == 0 else {
            throw ONNXImportError("\(label) with layout, clip or input_forget")
        }
        // The time-major input must be the transpose of a batch-major model value.
        guard case let .tensor(sequence, view) = try value(node.input[0]), view == [1, 0, 2] else {
            throw ONNXImportError("\(label) reads an input that is not a transposed [batch, time, features] value")
        }
        guard input(node, 4) == nil else { throw ONNXImportError("\(label) with sequence_lens") }
        var initialStates: [Axon] = []
        for index in 5..<Swift.min(node.input.count, 7) {
            guard let name = input(node, index) else { continue }
            switch try value(name) {
            case .zeros: continue
            case let .tensor(state, stateView) where stateView == [nil, 0, 1]: initialStates.append(state)
            default: throw ONNXImportError("\(label) has an initial state this importer cannot express")
            }
        }
        let (cell, order): (String, [Int])
        switch node.opType {
        case "LSTM": (cell, order) = ("lstm", [0, 3, 1, 2])
        case "GRU": (cell, order) = ("gru", [1, 0, 2])
        default: (cell, order) = ("simple_rnn", [0])
        }
        let gates = order.count, width = gates * hidden
        let names = (attribute(node, "activations")?.strings.map { String(decoding: $0, as: UTF8.self) }) ?? []
        let defaults = node.opType == "RNN" ? ["Tanh"] : node.opType == "GRU" ? ["Sigmoid", "Tanh"] : ["Sigmoid", "Tanh", "Tanh"]
        let chosen = names.isEmpty ? defaults : names
        let library: [String: Activation] = ["Sigmoid": .sigmoid, "Tanh": .tanh, "Relu": .relu]
        guard chosen.count == defaults.count, let activations = Optional(chosen.compactMap { library[$0] }), activations.count == chosen.count,
            node.opType != "LSTM" || activations[1] == activations[2]
        else { throw ONNXImportError("\(label) with activations \(chosen)") }
        let (gate, activation) = node.opType == "RNN" ? (Activation.sigmoid, activations[0]) : (activations[0], activations[1])

        // [1, gates·hidden, n] in ONNX's gate order → [n, gates·hidden] in this library's.
        func kernel(_ index: Int) throws -> HostArray {
            let w = try weights(node, index)
            guard w.shape.rank == 3, w.shape[0] == 1, w.shape[1] == width, index == 1 || w.shape[2] == hidden else {
                throw ONNXImportError("\(label) has \(index == 1 ? "W" : "R") of shape \(w.shape), not [1, \(width), \(index == 1 ? "features" : "\(hidden)")]")
            }
            let n = w.shape[2]
            let rows = w.elements.floats
            let blocks = (0..<gates).flatMap { block in
                let onnx = order.firstIndex(of: block) ?? block
                return rows[(onnx * hidden * n)..<((onnx + 1) * hidden * n)]
            }
            return try Self.float(Array(blocks), [width, n]).permuted([1, 0])
        }
        func reordered(_ values: ArraySlice<Float>) -> [Float] {
            (0..<gates).flatMap { block in
                let onnx = order.firstIndex(of: block) ?? block
                return values[(values.startIndex + onnx * hidden)..<(values.startIndex + (onnx + 1) * hidden)]
            }
        }
        let bias = try input(node, 3).map { _ in try weights(node, 3).elements.floats } ?? Array(repeating: 0, count: 2 * width)
        guard bias.count == 2 * width else { throw ONNXImportError("\(label) has a bias of \(bias.count) values, not \(2 * width)") }
        let (inputBias, hiddenBias) = (reordered(bias[0..<width]), reordered(bias[width...]))
        let resetAfter = int(node, "linear_before_reset", 0) == 1

        let layer = name(cell)
        weights["\(layer).kernel"] = try kernel(1)
        weights["\(layer).recurrent_kernel"] = try kernel(2)
        if node.opType == "GRU" && resetAfter {
            weights["\(layer).bias"] = try Self.float(inputBias, [width])
            weights["\(layer).recurrent_bias"] = try Self.float(hiddenBias, [width])
        } else {
            weights["\(layer).bias"] = try Self.float(zip(inputBias, hiddenBias).map(+), [width])
        }
        let reverse = direction == "reverse"
        let output: RecurrentOutput
        switch node.opType {
        case "LSTM":
            output = sequence.lstm(hidden, activation: activation, recurrentActivation: gate, initialStates: initialStates, reverse: reverse, name: layer)
        case "GRU":
            output = sequence.gru(
                hidden, resetAfter: resetAfter, activation: activation, recurrentActivation: gate, initialStates: initialStates, reverse: reverse, name: layer)
        default:
            output = sequence.simpleRNN(hidden, activation: activation, initialStates: initialStates, reverse: reverse, name: layer)
        }
        // Y [time, 1, batch, hidden]; Y_h and Y_c [1, batch, hidden].
        return [.tensor(output.sequence, view: [1, nil, 0, 2])] + output.states.map { .tensor($0, view: [nil, 0, 1]) }
    }
}
