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
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map(load)
    }

    /// One case file.
    public static func load(_ url: URL) throws -> ConformanceCase {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
        } catch {
            throw ConformanceError("\(url.lastPathComponent) is not a valid case file: \(error)")
        }
        guard OpTable.names.contains(document.op) else {
            throw ConformanceError("\(url.lastPathComponent): unknown op '\(document.op)'; known ops: \(OpTable.names.joined(separator: ", "))")
        }
        let directory = url.deletingLastPathComponent()
        let inputs = try document.inputs.map { try inputSpec($0, directory) }
        let expected = try document.expected.map { try $0.map { try array($0, directory) } }
        return ConformanceCase(
            "\(document.name) [\(url.lastPathComponent)]", covers: [document.op], opClass: document.class,
            body: .op(name: document.op, inputs: inputs, attributes: document.attributes ?? Attributes()),
            expected: expected, tighterTolerance: document.tolerance)
    }

    static func inputSpec(_ spec: TensorSpec, _ directory: URL) throws -> InputSpec {
        if let uniform = spec.uniform {
            return .uniform(shape: uniform.shape, seed: uniform.seed, low: uniform.low ?? -1, high: uniform.high ?? 1)
        }
        if let indices = spec.indices { return .indices(shape: indices.shape, seed: indices.seed, upper: indices.upper) }
        return .literal(try array(spec, directory))
    }

    static func array(_ spec: TensorSpec, _ directory: URL) throws -> HostArray {
        if let npy = spec.npy { return try NPY.read(directory.appendingPathComponent(npy)) }
        guard let values = spec.values else { throw ConformanceError("a tensor needs values, npy, uniform or indices") }
        let shape = Shape(spec.shape ?? [values.count])
        switch spec.dtype ?? "float32" {
        case "float32": return try HostArray(shape: shape, elements: .float32(values.map { Float($0) }))
        case "int32": return try HostArray(shape: shape, elements: .int32(values.map { Int32($0) }))
        case "uint32": return try HostArray(shape: shape, elements: .uint32(values.map { UInt32($0) }))
        case "bool": return try HostArray(shape: shape, elements: .bool(values.map { $0 != 0 }))
        case let other: throw ConformanceError("unknown dtype '\(other)'")
        }
    }
}

/// A reader for NumPy's `.npy` format (version 1–3, little-endian `<f4`, `<i4`, `<u4`, `|b1`,
/// C order).
public enum NPY {
    public static func read(_ url: URL) throws -> HostArray {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw ConformanceError("\(url.lastPathComponent) is not an .npy file")
        }
        let major = bytes[6]
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let headerStart = major == 1 ? 10 : 12
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", header), let shapeText = field("shape", header), !header.contains("'fortran_order': True") else {
            throw ConformanceError("\(url.lastPathComponent): unsupported header \(header)")
        }
        let shape = Shape(shapeText.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) })
        let data = Array(bytes[(headerStart + headerLength)...])
        func words<T>(_ type: T.Type) throws -> [T] {
            guard data.count == shape.elementCount * MemoryLayout<T>.size else {
                throw ConformanceError("\(url.lastPathComponent): \(data.count) data bytes for shape \(shape)")
            }
            return data.withUnsafeBytes { raw in (0..<shape.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        switch descr {
        case "<f4": return try HostArray(shape: shape, elements: .float32(words(Float.self)))
        case "<i4": return try HostArray(shape: shape, elements: .int32(words(Int32.self)))
        case "<u4": return try HostArray(shape: shape, elements: .uint32(words(UInt32.self)))
        case "|b1": return try HostArray(shape: shape, elements: .bool(data.map { $0 != 0 }))
        default: throw ConformanceError("\(url.lastPathComponent): unsupported dtype \(descr)")
        }
    }

    /// The text of `'key': value` in a header dictionary (a quoted string or a tuple).
    static func field(_ key: String, _ header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        let rest = header[range.upperBound...].drop(while: { $0 == " " })
        if rest.first == "'" { return String(rest.dropFirst().prefix(while: { $0 != "'" })) }
        if rest.first == "(" { return String(rest.prefix(while: { $0 != ")" })) + ")" }
        return nil
    }
}
