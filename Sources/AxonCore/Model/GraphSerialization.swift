import Backend
import Foundation

/// The graph of a model as JSON: every node in execution order with its layer's type and
/// options, its inputs (by position), name, namespace, frozen flag and, in a shared ``Block``,
/// the block's name and which application it is. Parameters are not part of it;
/// `AxonInterop`'s `ModelFile` stores both in one file.
///
/// ```json
/// {"version": 1, "output": 2, "nodes": [
///   {"type": "InputLayer", "layer": {"shape": [null, 4], "dtype": "float32"}, "inputs": [], "name": "x"},
///   {"type": "DenseLayer", "layer": {"units": 3, ...}, "inputs": [0]}, ...]}
/// ```
///
/// Custom layers (``Axon/layer(_:inputs:parameters:outputShape:name:_:)``) are saved by their
/// kind and rebuilt from ``CustomLayers`` when loaded, so register them before loading.
public enum GraphSerialization {
    /// The newest graph format: 2 adds shared blocks. A graph without blocks is written as
    /// format 1, which older versions read; this version reads both.
    public static let version = 2

    static var encoder: JSONEncoder { LibraryJSON.encoder }
    static var decoder: JSONDecoder { LibraryJSON.decoder }

    struct Document: Codable {
        var version: Int
        var output: Int
        var nodes: [SavedNode]
    }

    struct SavedNode: Codable {
        /// A ``SerializableLayer/serializationTag``, or `custom`.
        var type: String
        /// The layer's options (absent for custom layers).
        var layer: JSONValue?
        /// A custom layer's kind.
        var kind: String?
        var inputs: [Int]
        var name: String?
        var namespace: [String]?
        var frozen: Bool?
        /// The shared block the node belongs to and which application of it (format 2).
        var block: String?
        var application: Int?
    }

    /// The JSON of `model`'s graph. Throws, naming the layer, for a layer that holds a Swift
    /// closure (such as `cond`'s predicate) and so cannot be saved.
    public static func encode(_ model: Axon) throws -> Data {
        let nodes = try GraphAnalysis.analyze(model.node, backend: nil)
        let saved = try nodes.map { analyzed -> SavedNode in
            let node = analyzed.node
            var entry = SavedNode(
                type: "custom", layer: nil, kind: nil, inputs: analyzed.inputIndices, name: node.name,
                namespace: node.namespace.isEmpty ? nil : node.namespace, frozen: node.frozen ? true : nil,
                block: analyzed.block?.name, application: analyzed.block?.application)
            if let layer = node.layer as? any SerializableLayer {
                entry.type = type(of: layer).serializationTag
                entry.layer = try JSONValue(encoding: layer)
            } else if let custom = node.layer as? CustomLayer {
                entry.kind = custom.kind
            } else {
                throw AxonError.layer(
                    name: analyzed.name, kind: node.layer.kind,
                    reason: "holds a Swift closure and cannot be saved; express it as a custom layer registered with CustomLayers.register")
            }
            return entry
        }
        let format = saved.contains { $0.block != nil } ? version : 1
        return try encoder.encode(Document(version: format, output: saved.count - 1, nodes: saved))
    }

    /// The model whose graph `data` holds; `source` names the file in errors.
    public static func decode(_ data: Data, source: String) throws -> Axon {
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: source, reason: "is not a usable model graph: \(reason)") }
        struct VersionOnly: Decodable { var version: Int }
        let version: Int
        do {
            version = try decoder.decode(VersionOnly.self, from: data).version
        } catch {
            throw refuse("it has no format version (\(error))")
        }
        guard version <= Self.version else {
            throw AxonError.file(
                path: source,
                reason: "holds a model graph of format \(version), written by a newer version of Axon; this version reads format \(Self.version), so upgrade Axon to load it")
        }
        guard version >= 1 else { throw refuse("unknown format version \(version)") }
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw refuse("\(error)")
        }
        var built: [Node] = []
        var blocks: [String: BlockIdentity] = [:]
        var applications: [String: [Int: BlockApplication]] = [:]
        for (index, saved) in document.nodes.enumerated() {
            let label = "node \(index)\(saved.name.map { " ('\($0)')" } ?? "")"
            guard saved.inputs.allSatisfy({ $0 >= 0 && $0 < index }) else {
                throw refuse("\(label) reads inputs \(saved.inputs), but only nodes 0..<\(index) come before it")
            }
            let layer: any Layer
            if saved.type == "custom" {
                guard let kind = saved.kind else { throw refuse("\(label) is a custom layer without a kind") }
                guard let registered = CustomLayers.layer(kind) else {
                    throw refuse("\(label) is the custom layer '\(kind)', which is not registered; call CustomLayers.register(\"\(kind)\", ...) before loading")
                }
                layer = registered
            } else {
                guard let type = SerializableLayers.types[saved.type] else {
                    throw refuse("\(label) has layer type '\(saved.type)', which this version does not know")
                }
                guard let options = saved.layer else { throw refuse("\(label) has no layer options") }
                do {
                    layer = try options.decode(type, decoder)
                } catch {
                    throw refuse("\(label) (\(saved.type)) has options this version cannot read: \(error)")
                }
            }
            var application: BlockApplication?
            if let block = saved.block {
                guard let number = saved.application, number >= 0 else { throw refuse("\(label) is in block '\(block)' without an application number") }
                let identity = blocks[block] ?? BlockIdentity(name: block)
                blocks[block] = identity
                application = applications[block]?[number] ?? BlockApplication(block: identity)
                applications[block, default: [:]][number] = application
            }
            built.append(Node(
                layer: layer, inputs: saved.inputs.map { built[$0] }, name: saved.name, namespace: saved.namespace ?? [],
                frozen: saved.frozen ?? false, application: application))
        }
        guard document.output >= 0, document.output < built.count else {
            throw refuse("its output is node \(document.output) of \(built.count)")
        }
        return Axon(built[document.output])
    }
}

/// Any JSON value: a layer's options kept as read until its type says how to decode them.
enum JSONValue: Codable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// `value` as its encoder writes it.
    init<T: Encodable>(encoding value: T) throws {
        self = try GraphSerialization.decoder.decode(JSONValue.self, from: GraphSerialization.encoder.encode(value))
    }

    /// This value decoded as `T`.
    func decode<T: Decodable>(_ type: T.Type, _ decoder: JSONDecoder) throws -> T {
        try decoder.decode(T.self, from: GraphSerialization.encoder.encode(self))
    }

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? single.decode(Double.self) {
            self = .number(number)
        } else if let text = try? single.decode(String.self) {
            self = .string(text)
        } else if let array = try? single.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try single.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .object(members): try container.encode(members)
        case let .array(elements): try container.encode(elements)
        case let .string(text): try container.encode(text)
        case let .number(number): try container.encode(number)
        case let .bool(flag): try container.encode(flag)
        case .null: try container.encodeNil()
        }
    }
}
