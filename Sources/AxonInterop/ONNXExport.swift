import AxonCore
import Foundation
import SwiftProtobuf

/// Export of a model and its weights as an ONNX model (opset 17, IR version 8) that ONNX
/// Runtime and other ONNX tools run, with the model's input names, the batch dimension
/// dynamic (`batch`), and one output named after the model's last layer.
///
/// Layers map to their ONNX operators: dense to `MatMul` and `Add`; convolutions (grouped,
/// depthwise, transposed) to `Conv`/`ConvTranspose` between `Transpose`s for channels-last
/// data; pooling, normalisations (inference form), activations, dropout (as nothing), shape
/// ops, merges, embedding (`Gather`), resize (`Resize`), LSTM, GRU and simple RNN (`LSTM`,
/// `GRU`, `RNN`, gates reordered) and dot-product and multi-head attention (`MatMul`,
/// `Softmax`). `docs/interop.md` has the whole table. A model holding a layer without
/// an equivalent fails with one error that names every such layer.
///
/// ```swift
/// try ONNXExport.write(model, state: trained, to: URL(fileURLWithPath: "mnist.onnx"))
/// ```
public enum ONNXExport {
    /// The operator set the exported models declare.
    public static let opset: Int64 = 17

    /// Writes the ONNX model of `model` with `state` to `url`, atomically.
    public static func write(_ model: Axon, state: ModelState, to url: URL) throws {
        try FileAccess.writeAtomically(try encode(model, state: state), to: url)
    }

    /// The bytes of the ONNX model of `model` with `state`.
    public static func encode(_ model: Axon, state: ModelState) throws -> Data {
        let layers = try model.layers()
        var builder = ONNXGraphBuilder(state: state)
        var unsupported: [String] = []
        var graphInputs: [Onnx_ValueInfoProto] = []
        for layer in layers {
            if layer.kind == "input" {
                graphInputs.append(try builder.inputInfo(layer))
                continue
            }
            do {
                try builder.export(layer)
            } catch let error as ONNXUnsupported {
                builder.shapes[layer.name] = layer.outputShape  // so the layers after it are still checked
                unsupported.append("'\(layer.name)' (\(layer.kind)\(error.detail.map { ": \($0)" } ?? ""))")
            }
        }
        guard unsupported.isEmpty else {
            throw AxonError.invalidValue(
                operation: "ONNX export", reason: "no ONNX equivalent for layer\(unsupported.count == 1 ? "" : "s") \(unsupported.joined(separator: ", "))")
        }
        guard let last = layers.last, last.kind != "input" else {
            throw AxonError.invalidValue(operation: "ONNX export", reason: "the model has no layer after its inputs")
        }
        var graph = Onnx_GraphProto()
        graph.name = "axon"
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = graphInputs
        graph.output = [try builder.valueInfo(name: last.name, shape: last.outputShape, elementType: builder.elementType(of: last.name))]
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        proto.producerName = "axon-swift"
        proto.producerVersion = "1"
        var imported = Onnx_OperatorSetIdProto()
        imported.domain = ""
        imported.version = opset
        proto.opsetImport = [imported]
        proto.graph = graph
        return try proto.serializedData()
    }
}

/// A layer the exporter cannot express in ONNX, with why where that helps.
struct ONNXUnsupported: Error {
    let detail: String?
    init(_ detail: String? = nil) { self.detail = detail }
}

/// Accumulates the nodes and initializers of an ONNX graph, naming every intermediate value
/// uniquely after the layer it belongs to.
struct ONNXGraphBuilder {
    let state: ModelState
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    /// The ONNX element type of each layer's output, for the graph's output declaration.
    var elementTypes: [String: Int32] = [:]
    /// Each exported layer's output shape, by name.
    var shapes: [String: SymbolicShape] = [:]
    private var counter = 0

    init(state: ModelState) { self.state = state }

    /// A fresh value name derived from `hint`.
    mutating func fresh(_ hint: String) -> String {
        counter += 1
        return "\(hint)/\(counter)"
    }

    /// Adds a node and returns its outputs' names (`output` names the first, when given).
    @discardableResult
    mutating func node(
        _ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], outputs: Int = 1, output: String? = nil, hint: String
    ) -> [String] {
        var proto = Onnx_NodeProto()
        proto.opType = op
        proto.input = inputs
        proto.attribute = attributes
        proto.output = (0..<outputs).map { $0 == 0 ? output ?? fresh("\(hint)/\(op)") : fresh("\(hint)/\(op)") }
        proto.name = fresh("\(hint)/\(op)_node")
        nodes.append(proto)
        return proto.output
    }

    /// A float32 initializer of `shape` holding `values`.
    mutating func constant(_ values: [Float], shape: [Int], hint: String) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh("\(hint)/const")
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = values.withUnsafeBytes { Data($0) }
        initializers.append(tensor)
        return tensor.name
    }

    /// An int64 initializer (shapes, axes, pads).
    mutating func int64s(_ values: [Int], hint: String) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh("\(hint)/ints")
        tensor.dims = [Int64(values.count)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values.map(Int64.init)
        initializers.append(tensor)
        return tensor.name
    }

    /// The float32 values of parameter (or state) `name` of the model.
    func parameter(_ name: String) throws -> (values: [Float], shape: [Int]) {
        guard let tensor = state.parameters[name] ?? state.state[name] else {
            throw AxonError.invalidValue(operation: "ONNX export", reason: "the state has no tensor '\(name)' for the model")
        }
        guard tensor.dtype == .float32 else { throw ONNXUnsupported("parameter \(name) is \(tensor.dtype)") }
        return (try tensor.scalars, tensor.shape.dimensions)
    }

    /// The declaration of a graph input.
    mutating func inputInfo(_ layer: LayerDescription) throws -> Onnx_ValueInfoProto {
        let options = try ONNXOptions(layer)
        let dtype = try options.string("dtype")
        guard let type = Self.elementType(dtype) else { throw ONNXUnsupported("inputs of dtype \(dtype)") }
        elementTypes[layer.name] = type
        shapes[layer.name] = layer.outputShape
        return try valueInfo(name: layer.name, shape: layer.outputShape, elementType: type)
    }

    func elementType(of name: String) -> Int32 { elementTypes[name] ?? Int32(Onnx_TensorProto.DataType.float.rawValue) }

    static func elementType(_ dtype: String) -> Int32? {
        switch dtype {
        case "float32": return Int32(Onnx_TensorProto.DataType.float.rawValue)
        case "int32": return Int32(Onnx_TensorProto.DataType.int32.rawValue)
        case "uint32": return Int32(Onnx_TensorProto.DataType.uint32.rawValue)
        case "bool": return Int32(Onnx_TensorProto.DataType.bool.rawValue)
        default: return nil
        }
    }

    /// A value declaration: unknown dimensions named (`batch` for the first).
    func valueInfo(name: String, shape: SymbolicShape?, elementType: Int32) throws -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = elementType
        var protoShape = Onnx_TensorShapeProto()
        for (axis, dimension) in (shape ?? []).enumerated() {
            var entry = Onnx_TensorShapeProto.Dimension()
            if let dimension { entry.dimValue = Int64(dimension) } else { entry.dimParam = axis == 0 ? "batch" : "\(name)_d\(axis)" }
            protoShape.dim.append(entry)
        }
        if shape != nil { tensor.shape = protoShape }
        info.type.tensorType = tensor
        return info
    }
}

/// Attribute constructors.
enum ONNXAttribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .string
        attribute.s = Data(value.utf8)
        return attribute
    }

    static func strings(_ name: String, _ values: [String]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .strings
        attribute.strings = values.map { Data($0.utf8) }
        return attribute
    }
}

/// A layer's options (``LayerDescription/options``) read by name, with errors that say which.
struct ONNXOptions {
    let layer: String
    let values: [String: Any]

    init(_ description: LayerDescription) throws {
        layer = description.name
        guard let data = description.options, let values = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ONNXUnsupported("a custom layer")
        }
        self.values = values
    }

    init(layer: String, values: [String: Any]) {
        self.layer = layer
        self.values = values
    }

    func value(_ key: String) throws -> Any {
        guard let value = values[key] else {
            throw AxonError.invalidValue(operation: "ONNX export", reason: "layer '\(layer)' has no option '\(key)'")
        }
        return value
    }

    func int(_ key: String) throws -> Int {
        guard let value = try value(key) as? Int else { throw mistyped(key, "an integer") }
        return value
    }

    func float(_ key: String) throws -> Float {
        guard let value = try value(key) as? NSNumber else { throw mistyped(key, "a number") }
        return value.floatValue
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = try value(key) as? Bool else { throw mistyped(key, "a boolean") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let value = try value(key) as? String else { throw mistyped(key, "a string") }
        return value
    }

    func ints(_ key: String) throws -> [Int] {
        guard let value = try value(key) as? [Int] else { throw mistyped(key, "a list of integers") }
        return value
    }

    /// An enum coded by Swift as `{"case": {associated values}}`, or a plain string.
    func enumeration(_ key: String) throws -> (name: String, values: ONNXOptions) {
        let raw = try value(key)
        if let name = raw as? String { return (name, ONNXOptions(layer: layer, values: [:])) }
        guard let object = raw as? [String: Any], object.count == 1, let (name, inner) = object.first else {
            throw mistyped(key, "an enumeration")
        }
        return (name, ONNXOptions(layer: layer, values: inner as? [String: Any] ?? [:]))
    }

    /// A nested object.
    func object(_ key: String) throws -> ONNXOptions {
        guard let value = try value(key) as? [String: Any] else { throw mistyped(key, "an object") }
        return ONNXOptions(layer: layer, values: value)
    }

    private func mistyped(_ key: String, _ expected: String) -> AxonError {
        AxonError.invalidValue(operation: "ONNX export", reason: "layer '\(layer)': option '\(key)' is not \(expected)")
    }
}
