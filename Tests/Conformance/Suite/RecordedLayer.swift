import AxonCore
import Backend
import Foundation

/// Layer case files: a builder name with its options, named inputs and parameters, and the
/// output and gradients another implementation computed (PyTorch or JAX, by
/// `scripts/record-layers.py`). The case builds the layer (named `layer`) through Axon's model
/// graph, runs it, and takes the gradient of `Σ output · cotangent` with respect to every float
/// input and every recorded parameter, on every backend.
///
/// ```json
/// {"name": "layer convTranspose recorded from PyTorch", "layer": "convTranspose",
///  "options": {"filters": 2, "kernelSize": [3], "strides": [2], "padding": [[1, 1]]},
///  "inputs": {"x": {"shape": [1, 4, 1], "values": [...]}},
///  "parameters": {"layer.kernel": {...}, "layer.bias": {...}},
///  "output": {...}, "cotangent": {...}, "gradients": {"x": {...}, "layer.kernel": {...}}}
/// ```
public enum RecordedLayer {
    /// Every option any recorded builder takes; an absent one takes Axon's default.
    struct Options: Decodable {
        var filters: Int?, kernelSize: [Int]?, strides: [Int]?, padding: PaddingOption?, outputPadding: [Int]?
        var dilation: [Int]?, groups: Int?, channelMultiplier: Int?, outputSize: [Int]?, norm: Float?, countPadding: Bool?
        var epsilon: Float?, axisCount: Int?, size: [Int]?, method: String?, antialias: Bool?, alignCorners: Bool?
        var heads: Int?, keyDimension: Int?, valueDimension: Int?, outputDimension: Int?, causal: Bool?, scale: Float?
        var channels: String?, vocabularySize: Int?, features: Int?, train: Bool?, activation: String?
        var units: Int?, resetAfter: Bool?, reverse: Bool?, part: String?, bidirectional: Bool?
    }

    /// `"same"`, `"valid"` or explicit `[[low, high], ...]` padding.
    enum PaddingOption: Decodable {
        case mode(PaddingMode)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let name = try? container.decode(String.self) {
                guard name == "same" || name == "valid" else { throw ConformanceError("unknown padding '\(name)'") }
                self = .mode(name == "same" ? .same : .valid)
            } else {
                self = .mode(.explicit(try container.decode([[Int]].self).map { Padding($0.first ?? 0, $0.last ?? 0) }))
            }
        }
    }

    struct Document: Decodable {
        let name: String
        let layer: String
        let options: Options
        let inputs: [String: CaseFile.TensorSpec]
        let parameters: [String: CaseFile.TensorSpec]
        let output: CaseFile.TensorSpec
        let cotangent: CaseFile.TensorSpec
        let gradients: [String: CaseFile.TensorSpec]
    }

    /// Whether a case file's JSON is a recorded layer.
    static func isLayer(_ data: Data) -> Bool {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["layer"] != nil
    }

    /// The model of builder `name` with `options` over `inputs`, its layer named `layer`.
    static func model(_ name: String, _ o: Options, _ inputs: [String: Axon]) throws -> Axon {
        func input(_ key: String) throws -> Axon {
            guard let node = inputs[key] else { throw ConformanceError("builder '\(name)' needs an input named '\(key)'") }
            return node
        }
        let padding: PaddingMode
        switch o.padding { case let .mode(mode)?: padding = mode; case nil: padding = .valid }
        let channels: ChannelLayout = o.channels == "first" ? .first : .last
        switch name {
        case "dense": return try input("x").dense(o.units ?? 1, name: "layer")
        case "lstm", "gru", "simpleRNN":
            let cell: RecurrentCell = name == "lstm" ? .lstm : name == "gru" ? .gru(resetAfter: o.resetAfter ?? true) : .simple
            func run(_ x: Axon, _ reverse: Bool) -> RecurrentOutput {
                x.recurrent(cell, units: o.units ?? 1, lengths: inputs["lengths"], reverse: reverse, name: reverse ? "backward" : "layer")
            }
            if o.bidirectional == true {
                let both = try input("x").bidirectional(run)
                return o.part == "last" ? both.last : both.sequence
            }
            let output = run(try input("x"), o.reverse ?? false)
            switch o.part ?? "sequence" {
            case "sequence": return output.sequence
            case "hidden": return output.states[0]
            case "cell": return output.states[output.states.count - 1]
            default: throw ConformanceError("unknown recurrent part '\(o.part ?? "")'")
            }
        case "bilinear": return Axon.bilinear(try input("x"), try input("y"), units: o.units ?? 1, name: "layer")
        case "activation": return try input("x").activation(try activation(o.activation ?? "linear"), name: "layer")
        case "conv":
            return try input("x").conv(o.filters ?? 1, kernelSize: o.kernelSize ?? [3], strides: o.strides ?? [1], padding: padding,
                                       dilation: o.dilation ?? [1], groups: o.groups ?? 1, channels: channels, name: "layer")
        case "convTranspose":
            return try input("x").convTranspose(o.filters ?? 1, kernelSize: o.kernelSize ?? [3], strides: o.strides ?? [1], padding: padding,
                                                outputPadding: o.outputPadding ?? [0], dilation: o.dilation ?? [1], groups: o.groups ?? 1,
                                                channels: channels, name: "layer")
        case "depthwiseConv":
            return try input("x").depthwiseConv(channelMultiplier: o.channelMultiplier ?? 1, kernelSize: o.kernelSize ?? [3], strides: o.strides ?? [1],
                                                padding: padding, dilation: o.dilation ?? [1], channels: channels, name: "layer")
        case "maxPool": return try input("x").maxPool(kernelSize: o.kernelSize ?? [2], strides: o.strides, padding: padding, channels: channels, name: "layer")
        case "avgPool":
            return try input("x").avgPool(kernelSize: o.kernelSize ?? [2], strides: o.strides, padding: padding, channels: channels,
                                          countPadding: o.countPadding ?? false, name: "layer")
        case "lpPool":
            return try input("x").lpPool(norm: o.norm ?? 2, kernelSize: o.kernelSize ?? [2], strides: o.strides, padding: padding, channels: channels, name: "layer")
        case "adaptiveAvgPool": return try input("x").adaptiveAvgPool(outputSize: o.outputSize ?? [1], channels: channels, name: "layer")
        case "adaptiveMaxPool": return try input("x").adaptiveMaxPool(outputSize: o.outputSize ?? [1], channels: channels, name: "layer")
        case "layerNorm": return try input("x").layerNorm(epsilon: o.epsilon ?? 1e-5, axisCount: o.axisCount ?? 1, name: "layer")
        case "groupNorm": return try input("x").groupNorm(groups: o.groups ?? 1, epsilon: o.epsilon ?? 1e-5, channels: channels, name: "layer")
        case "instanceNorm": return try input("x").instanceNorm(epsilon: o.epsilon ?? 1e-5, channels: channels, name: "layer")
        case "batchNorm": return try input("x").batchNorm(epsilon: o.epsilon ?? 1e-5, name: "layer")
        case "embedding": return try input("x").embedding(vocabularySize: o.vocabularySize ?? 1, features: o.features ?? 1, name: "layer")
        case "resize":
            guard let method = ResizeMethod(rawValue: o.method ?? "nearest") else { throw ConformanceError("unknown resize method '\(o.method ?? "")'") }
            return try input("x").resize(o.size ?? [], method: method, antialias: o.antialias ?? true, alignCorners: o.alignCorners ?? false,
                                         channels: channels, name: "layer")
        case "dotProductAttention":
            return Axon.dotProductAttention(query: try input("query"), key: try input("key"), value: try input("value"), mask: inputs["mask"],
                                            scale: o.scale, causal: o.causal ?? false, name: "layer")
        case "multiHeadAttention":
            return Axon.multiHeadAttention(query: try input("query"), key: inputs["key"], value: try input("value"), mask: inputs["mask"],
                                           heads: o.heads ?? 1, keyDimension: o.keyDimension ?? 1, valueDimension: o.valueDimension,
                                           outputDimension: o.outputDimension ?? 1, causal: o.causal ?? false, name: "layer").output
        default:
            throw ConformanceError("unknown layer builder '\(name)' in a recorded layer case")
        }
    }

    /// Axon's activation of that name (PyTorch's defaults for the parameterised ones).
    static func activation(_ name: String) throws -> Activation {
        let all: [Activation] = [
            .celu(), .elu(), .exp, .gelu(), .hardTanh, .hardSigmoid, .hardSilu, .leakyRelu(), .logSigmoid, .logSoftmax(), .mish, .relu,
            .relu6, .selu, .sigmoid, .silu, .softmax(), .softplus, .softsign, .tanh,
        ]
        if name == "gelu_tanh" { return .gelu(approximate: true) }
        guard let found = all.first(where: { $0.name == name }) else { throw ConformanceError("unknown activation '\(name)'") }
        return found
    }

    /// A recorded layer file as a conformance case.
    public static func decode(_ data: Data, name file: String, directory: URL) throws -> ConformanceCase {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ConformanceError("\(file) is not a valid recorded layer: \(error)")
        }
        func arrays(_ specs: [String: CaseFile.TensorSpec], _ what: String) throws -> [(String, HostArray)] {
            try specs.sorted { $0.key < $1.key }.map { ($0.key, try CaseFile.array($0.value, directory, "\(file) \(what) \($0.key)")) }
        }
        let inputs = try arrays(document.inputs, "input"), parameters = try arrays(document.parameters, "parameter")
        let gradients = try arrays(document.gradients, "gradient")
        let cotangent = try CaseFile.array(document.cotangent, directory, "\(file) cotangent")
        let graph = try model(
            document.layer, document.options,
            Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, Axon.input($0.0, shape: [nil] + $0.1.shape.dimensions.dropFirst().map { $0 }, dtype: $0.1.dtype)) }))
        let mode: Mode = document.options.train == true ? .train : .inference
        let expected = [try CaseFile.array(document.output, directory, "\(file) output")] + gradients.map(\.1)
        let gradientNames = gradients.map(\.0)
        return ConformanceCase(
            "\(document.name) [\(file)]", covers: ["layer.\(document.layer)"], opClass: .gradient,
            body: .library { backend in
                let built = try graph.build(on: backend, mode: mode)
                var state = try built.initialize(seed: 0)
                var differentiable = ParameterStore()
                for (name, array) in parameters {
                    let tensor = try Tensor(array, on: backend)
                    state.parameters[name] = tensor
                    differentiable[name] = tensor
                }
                var fixed: [String: Tensor] = [:]
                for (name, array) in inputs {
                    let tensor = try Tensor(array, on: backend)
                    if array.dtype == .float32 { differentiable["input " + name] = tensor } else { fixed[name] = tensor }
                }
                let weight = try Tensor(cotangent, on: backend)
                var output: Tensor?
                let slopes = try gradient(at: differentiable) { variables in
                    var values = fixed
                    var parameters = state.parameters
                    for (name, tensor) in variables {
                        if name.hasPrefix("input ") { values[String(name.dropFirst(6))] = tensor } else { parameters[name] = tensor }
                    }
                    let y = try built.predict(ModelState(parameters: parameters, state: state.state), inputs: values).output()
                    output = y.detached()
                    return try (y * weight).sum()
                }
                guard let output else { throw ConformanceError("\(file): the layer produced no output") }
                return [try output.array] + (try gradientNames.map { name in
                    guard let slope = slopes[name] ?? slopes["input " + name] else { throw ConformanceError("\(file): no gradient for '\(name)'") }
                    return try slope.array
                })
            },
            expected: expected)
    }
}
