import AxonCore
import AxonData
import Foundation
import SwiftProtobuf

/// Import of ONNX models (opset 13 to 21) into a model graph with its weights: the subset
/// PyTorch's and this library's exporters write for MLPs, CNNs and recurrent networks —
/// `Gemm`, `MatMul`, `Add`/`Sub`/`Mul`, activations, `Conv`, `ConvTranspose`,
/// `BatchNormalization`, pooling, `Flatten`, `Reshape`, `Transpose`, `Squeeze`, `Unsqueeze`,
/// `Concat`, `Gather`, `Dropout`, `Identity`, `LSTM`, `GRU` and `RNN` (one direction, default
/// activations), and the shape arithmetic exporters emit around them (`Shape`, `Constant`,
/// `ConstantOfShape` of zeros).
///
/// Layouts stay ONNX's: convolutions and pooling run channels first, as the file says. An
/// operator outside the subset fails the import with one error listing every such operator.
///
/// ```swift
/// let (model, state) = try ONNXImport.load(URL(fileURLWithPath: "cnn.onnx"), on: backend)
/// let logits = try model.build(on: backend).predict(state, inputs: ["input": x]).output()
/// try ModelFile.save(model, state: state, to: URL(fileURLWithPath: "cnn.axonmodel"))
/// ```
public enum ONNXImport {
    /// The operator sets this importer reads.
    public static let opsets: ClosedRange<Int64> = 13...21

    /// The model in the ONNX file at `url`, with its weights uploaded to `backend`.
    public static func load(_ url: URL, on backend: any Backend) throws -> (model: Axon, state: ModelState) {
        try decode(try FileAccess.read(url), path: url.path, on: backend)
    }

    /// The model in the bytes of an ONNX file; `path` names it in errors.
    public static func decode(_ data: Data, path: String, on backend: any Backend) throws -> (model: Axon, state: ModelState) {
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: path, reason: "cannot be imported: \(reason)") }
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw AxonError.file(path: path, reason: "is not an ONNX model: \(error)")
        }
        let versions = proto.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map(\.version)
        guard let version = versions.first, opsets.contains(version) else {
            throw refuse("it uses opset \(versions.map(String.init).joined(separator: ", ")), but this importer reads opsets \(opsets.lowerBound) to \(opsets.upperBound)")
        }
        let unsupported = Set(proto.graph.node.map(\.opType)).subtracting(ONNXImporter.operators).sorted()
        guard unsupported.isEmpty else { throw refuse("unsupported operators: \(unsupported.joined(separator: ", "))") }
        var importer = ONNXImporter(path: path)
        do {
            let model = try importer.run(proto.graph)
            let template = try model.build(on: backend).initialize(seed: 0)
            let (state, _) = try Safetensors.place(importer.weights, into: template, on: backend, path: path)
            return (model, state)
        } catch let error as ONNXImportError {
            throw refuse(error.reason)
        }
    }
}

/// A problem with the graph, in words; ``ONNXImport`` adds the file.
struct ONNXImportError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// What an ONNX value is while importing.
enum ONNXValue {
    /// A model value; ONNX axis `i` is the model's axis `view[i]`, or an inserted axis of
    /// size 1 when `nil` (so transposes and squeezes of exporters cost no layer).
    case tensor(Axon, view: [Int?])
    /// A constant from an initializer or a `Constant` node.
    case constant(HostArray)
    /// Shape arithmetic: integers with `nil` for the dimensions known only at run time.
    case integers([Int?], scalar: Bool)
    /// `ConstantOfShape` of zeros.
    case zeros([Int?])
}

/// Walks an ONNX graph in order, turning each node into layers and collecting the weights.
struct ONNXImporter {
    static let operators: Set<String> = [
        "Identity", "Dropout", "Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Elu",
        "LeakyRelu", "Selu", "Softplus", "Softsign", "Exp", "Clip", "Conv", "ConvTranspose", "BatchNormalization", "MaxPool",
        "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat",
        "Gather", "Constant", "ConstantOfShape", "Shape", "LSTM", "GRU", "RNN",
    ]

    let path: String
    var values: [String: ONNXValue] = [:]
    var weights: [String: HostArray] = [:]
    private var counters: [String: Int] = [:]

    init(path: String) { self.path = path }

    /// A fresh layer name of `kind` (`dense_0`, ...).
    mutating func name(_ kind: String) -> String {
        let count = counters[kind, default: 0]
        counters[kind] = count + 1
        return "\(kind)_\(count)"
    }

    mutating func run(_ graph: Onnx_GraphProto) throws -> Axon {
        for initializer in graph.initializer { values[initializer.name] = .constant(try Self.array(initializer)) }
        for input in graph.input where values[input.name] == nil {
            let type = input.type.tensorType
            let shape: SymbolicShape = type.shape.dim.map { dimension in
                if case let .dimValue(size)? = dimension.value, size > 0 { return Int(exactly: size) }
                return nil
            }
            guard let dtype = Self.dtype(type.elemType) else {
                throw ONNXImportError("input '\(input.name)' has element type \(type.elemType), which this library cannot hold")
            }
            values[input.name] = .tensor(Axon.input(input.name, shape: shape, dtype: dtype.library), view: Array(0..<shape.count))
        }
        for node in graph.node {
            let outputs = try apply(node)
            for (name, value) in zip(node.output, outputs) where !name.isEmpty { values[name] = value }
        }
        guard graph.output.count == 1, let output = graph.output.first else {
            throw ONNXImportError("the graph has \(graph.output.count) outputs; this importer reads models with one")
        }
        return try model(output.name)
    }

    func value(_ name: String) throws -> ONNXValue {
        guard let value = values[name] else { throw ONNXImportError("value '\(name)' is used before it is defined") }
        return value
    }

    /// A value as a model value in its own layout (a transpose of the example axes is added
    /// where the view asks for one).
    func model(_ name: String) throws -> Axon {
        guard case let .tensor(axon, view) = try value(name) else {
            throw ONNXImportError("value '\(name)' is a constant or shape where a tensor is needed")
        }
        let axes = view.compactMap { $0 }
        guard axes.count == view.count, axes.first == 0, Set(axes) == Set(0..<axes.count) else {
            throw ONNXImportError("value '\(name)' has a layout (axes \(view)) this importer cannot express")
        }
        return axes == Array(0..<axes.count) ? axon : axon.transpose(axes.dropFirst().map { .index($0 - 1) })
    }

    /// `value` as an integer, refused unless it is a whole number of a sensible size.
    static func integer(_ value: Float, _ name: String) throws -> Int {
        guard value.isFinite, value == value.rounded(), Swift.abs(value) < 1e15, let integer = Int(exactly: value) else {
            throw ONNXImportError("'\(name)' holds \(value) where a whole number is needed")
        }
        return integer
    }

    func constant(_ name: String) throws -> HostArray {
        guard case let .constant(array) = try value(name) else { throw ONNXImportError("'\(name)' must be a constant") }
        return array
    }

    /// A constant's values as integers (shapes, axes, pads).
    func integers(_ name: String) throws -> [Int] {
        switch try value(name) {
        case let .constant(array): return try array.elements.floats.map { try Self.integer($0, name) }
        case let .integers(values, _):
            let known = values.compactMap { $0 }
            guard known.count == values.count else { throw ONNXImportError("'\(name)' depends on the batch size") }
            return known
        default: throw ONNXImportError("'\(name)' must be constant integers")
        }
    }
}

extension ONNXImporter {
    /// The element types of ONNX tensors this importer reads.
    enum ElementType {
        case float32, int32, int64, bool, float64
        var library: DType {
            switch self {
            case .float32, .float64: return .float32
            case .int32, .int64: return .int32
            case .bool: return .bool
            }
        }
    }

    static func dtype(_ code: Int32) -> ElementType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float: return .float32
        case .int32: return .int32
        case .int64: return .int64
        case .bool: return .bool
        case .double: return .float64
        default: return nil
        }
    }

    /// An initializer or constant as a host array, its size checked against its shape before
    /// anything is allocated.
    static func array(_ tensor: Onnx_TensorProto) throws -> HostArray {
        let label = "tensor '\(tensor.name)'"
        guard tensor.externalData.isEmpty else { throw ONNXImportError("\(label) keeps its data in an external file, which is not supported") }
        guard let type = dtype(tensor.dataType) else { throw ONNXImportError("\(label) has element type \(tensor.dataType), which this library cannot hold") }
        let dimensions = tensor.dims.map { Int(clamping: $0) }
        guard let count = Shape(dimensions).checkedElementCount else { throw ONNXImportError("\(label) has shape \(dimensions)") }
        let shape = Shape(dimensions)
        let layout: ForeignElements
        switch type {
        case .float32: layout = ForeignElements(kind: .float, size: 4)
        case .float64: layout = ForeignElements(kind: .float, size: 8)
        case .int32: layout = ForeignElements(kind: .signed, size: 4)
        case .int64: layout = ForeignElements(kind: .signed, size: 8)
        case .bool: layout = ForeignElements(kind: .bool, size: 1)
        }
        if !tensor.rawData.isEmpty || count == 0 {
            guard case let (bytes, overflow) = count.multipliedReportingOverflow(by: layout.size), !overflow, bytes == tensor.rawData.count else {
                throw ONNXImportError("\(label) of shape \(dimensions) holds \(tensor.rawData.count) bytes of data, not \(count) × \(layout.size)")
            }
            do {
                return try HostArray(shape: shape, elements: layout.decode(tensor.rawData, count: count))
            } catch let problem as FormatProblem {
                throw ONNXImportError("\(label): \(problem.reason)")
            }
        }
        let elements: HostElements
        switch type {
        case .float32: elements = .float32(tensor.floatData)
        case .float64: elements = .float32(tensor.doubleData.map { Float($0) })
        case .int32: elements = .int32(tensor.int32Data)
        case .bool: elements = .bool(tensor.int32Data.map { $0 != 0 })
        case .int64:
            let values = tensor.int64Data.compactMap { Int32(exactly: $0) }
            guard values.count == tensor.int64Data.count else { throw ONNXImportError("\(label) holds an int64 value outside int32") }
            elements = .int32(values)
        }
        guard elements.count == count else { throw ONNXImportError("\(label) of shape \(dimensions) holds \(elements.count) values") }
        return try HostArray(shape: shape, elements: elements)
    }
}
