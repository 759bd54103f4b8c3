import AxonCore
import AxonData
import Backend
import Foundation

/// Loads op cases from JSON files (format in docs/conformance.md), with tensors inline or in
/// NumPy `.npy` files beside the JSON file.
public enum CaseFile {
    struct TensorSpec: Decodable {
        var shape: [Int]?
        var dtype: String?
        var values: [Double]?
        var npy: String?
        var uniform: Uniform?
        var indices: Indices?

        struct Uniform: Decodable { var shape: [Int]; var seed: UInt64; var low: Float?; var high: Float? }
        struct Indices: Decodable { var shape: [Int]; var seed: UInt64; var upper: Int32 }
    }

    struct Document: Decodable {
        var name: String
        var op: String
        var `class`: OpClass
        var inputs: [TensorSpec]
        var attributes: Attributes?
        var expected: [TensorSpec]?
        var tolerance: Tolerance?
    }

    /// Every `*.json` case in `directory`, sorted by file name.
    public static func loadAll(from directory: URL) throws -> [ConformanceCase] {
        let manager = FileManager.default
        let entries = try manager.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        // Case files in the directory and its immediate subdirectories (recorded sets such as optax/).
        let files = try entries.flatMap { entry -> [URL] in
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: entry.path, isDirectory: &isDirectory), isDirectory.boolValue else { return [entry] }
            return try manager.contentsOfDirectory(at: entry, includingPropertiesForKeys: nil)
        }
        return try files.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }.map(load)
    }

    /// One case file: an op case, an optimizer trajectory (``OptimizerTrajectory``) or a
    /// recorded loss (``RecordedLoss``).
    public static func load(_ url: URL) throws -> ConformanceCase {
        try decodeAny(try FileAccess.read(url), name: url.lastPathComponent, directory: url.deletingLastPathComponent())
    }

    /// Any kind of case file's contents, told apart by the key that names what it runs: `op`,
    /// `optimizer` (``OptimizerTrajectory``), `loss` (``RecordedLoss``) or `layer` (``RecordedLayer``).
    public static func decodeAny(_ data: Data, name: String, directory: URL) throws -> ConformanceCase {
        if OptimizerTrajectory.isTrajectory(data) { return try OptimizerTrajectory.decode(data, name: name, directory: directory) }
        if RecordedLoss.isLoss(data) { return try RecordedLoss.decode(data, name: name, directory: directory) }
        if RecordedLayer.isLayer(data) { return try RecordedLayer.decode(data, name: name, directory: directory) }
        return try decode(data, name: name, directory: directory)
    }

    /// A case file's contents; `.npy` files it names are read from `directory`.
    public static func decode(_ data: Data, name: String, directory: URL) throws -> ConformanceCase {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ConformanceError("\(name) is not a valid case file: \(error)")
        }
        guard OpTable.names.contains(document.op) else {
            throw ConformanceError("\(name): unknown op '\(document.op)'; known ops: \(OpTable.names.joined(separator: ", "))")
        }
        let inputs: [InputSpec], expected: [HostArray]?
        do {
            inputs = try document.inputs.map { try inputSpec($0, directory) }
            expected = try document.expected.map { try $0.map { try array($0, directory) } }
        } catch let error as ConformanceError {
            throw ConformanceError("\(name): \(error)")
        }
        return ConformanceCase(
            "\(document.name) [\(name)]", covers: [document.op], opClass: document.class,
            body: .op(name: document.op, inputs: inputs, attributes: document.attributes ?? Attributes()),
            expected: expected, tighterTolerance: document.tolerance)
    }

    /// The most elements a generated input may have (64 Mi, 256 MB of float32).
    static let maximumGeneratedElements = 1 << 26

    static func inputSpec(_ spec: TensorSpec, _ directory: URL) throws -> InputSpec {
        for shape in [spec.uniform?.shape, spec.indices?.shape].compactMap({ $0 }) {
            guard let count = Shape(shape).checkedElementCount, count <= maximumGeneratedElements else {
                throw ConformanceError("generated input shape \(shape) is negative or larger than \(maximumGeneratedElements) elements")
            }
        }
        if let indices = spec.indices, indices.upper < 1 {
            throw ConformanceError("indices need an upper bound of at least 1, got \(indices.upper)")
        }
        if let uniform = spec.uniform {
            return .uniform(shape: uniform.shape, seed: uniform.seed, low: uniform.low ?? -1, high: uniform.high ?? 1)
        }
        if let indices = spec.indices { return .indices(shape: indices.shape, seed: indices.seed, upper: indices.upper) }
        return .literal(try array(spec, directory))
    }

    /// ``array(_:_:)`` with failures naming `context` (the file and the tensor's role).
    static func array(_ spec: TensorSpec, _ directory: URL, _ context: @autoclosure () -> String) throws -> HostArray {
        do {
            return try array(spec, directory)
        } catch {
            throw ConformanceError("\(context()): \(error)")
        }
    }

    static func array(_ spec: TensorSpec, _ directory: URL) throws -> HostArray {
        if let npy = spec.npy { return try NumPy.read(directory.appendingPathComponent(npy)) }
        guard let values = spec.values else { throw ConformanceError("a tensor needs values, npy, uniform or indices") }
        let shape = Shape(spec.shape ?? [values.count])
        guard shape.checkedElementCount == values.count else {
            throw ConformanceError("shape \(shape) does not hold the \(values.count) values given")
        }
        /// Whole numbers in `T`'s range, converted exactly.
        func integers<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
            try values.map { value in
                guard let exact = T(exactly: value) else { throw ConformanceError("\(value) is not a \(T.self) value") }
                return exact
            }
        }
        let elements: HostElements
        switch spec.dtype ?? "float32" {
        case "float32": elements = .float32(values.map { Float($0) })
        case "bfloat16": elements = .bfloat16(values.map { BFloat16($0) })
        case "int32": elements = .int32(try integers(Int32.self))
        case "uint32": elements = .uint32(try integers(UInt32.self))
        case "bool": elements = .bool(values.map { $0 != 0 })
        case let other: throw ConformanceError("unknown dtype '\(other)'")
        }
        return try HostArray(shape: shape, elements: elements)
    }
}
