import AxonCore
import Foundation

/// A whole model in one file: its graph (layers, options, names, connections) and its
/// parameters and state, reloaded into a model that predicts the same outputs and has the same
/// summary on every backend.
///
/// The file is a safetensors file (extension `.axonmodel`): any safetensors reader sees the
/// weights under the model's parameter names, and the metadata holds the graph as JSON
/// (`GraphSerialization`) under `axon.model.graph` with the format version under
/// `axon.model.version`. Loading refuses newer versions with a clear error, and custom layers
/// must be registered (`CustomLayers`) before a model that uses them is loaded.
///
/// ```swift
/// try ModelFile.save(model, state: trained, to: URL(fileURLWithPath: "mnist.axonmodel"))
/// let loaded = try ModelFile.load(URL(fileURLWithPath: "mnist.axonmodel"), on: backend)
/// let logits = try loaded.model.build(on: backend).predict(loaded.state, inputs: ["image": x]).output()
/// ```
public enum ModelFile {
    /// The format this version writes; it reads this one only.
    public static let formatVersion = 1
    /// The extension of model files.
    public static let fileExtension = "axonmodel"

    static let versionKey = "axon.model.version", graphKey = "axon.model.graph"

    /// A loaded model, its variables and the metadata saved with it.
    public struct Contents: Sendable {
        /// The graph.
        public let model: Axon
        /// Its parameters and state.
        public let state: ModelState
        /// The metadata saved with it.
        public let metadata: [String: String]
    }

    /// Writes `model` with `state` (which must fit it) and `metadata` to `url`, atomically.
    public static func save(_ model: Axon, state: ModelState, metadata: [String: String] = [:], to url: URL) throws {
        if let reserved = metadata.keys.first(where: { $0.hasPrefix("axon.model.") }) {
            throw AxonError.invalidValue(operation: "ModelFile.save", reason: "metadata key '\(reserved)' is reserved for the model itself")
        }
        let layout = try model.layers().flatMap(\.parameters)
        let arrays = try Safetensors.arrays(of: state)
        let expected = Set(layout.map(\.name))
        guard expected == Set(arrays.keys) else {
            let missing = expected.subtracting(arrays.keys).sorted(), extra = Set(arrays.keys).subtracting(expected).sorted()
            throw AxonError.invalidValue(
                operation: "ModelFile.save",
                reason: "the state does not fit the model (missing: \(missing.joined(separator: ", ")); not in the model: \(extra.joined(separator: ", ")))")
        }
        var all = metadata
        all[versionKey] = "\(formatVersion)"
        all[graphKey] = String(decoding: try GraphSerialization.encode(model), as: UTF8.self)
        try Safetensors.write(arrays, metadata: all, to: url)
    }

    /// The model, variables (uploaded to `backend`) and metadata saved at `url`.
    public static func load(_ url: URL, on backend: any Backend) throws -> Contents {
        let path = url.path
        let file = try Safetensors.read(url)
        guard let versionText = file.metadata[versionKey], let graph = file.metadata[graphKey] else {
            throw AxonError.file(
                path: path, reason: "holds weights but no model graph (a plain safetensors file); load it into a model with Safetensors.load")
        }
        guard let version = Int(versionText), version <= formatVersion else {
            throw AxonError.file(
                path: path,
                reason: "is a model file of format \(versionText), written by a newer version of Axon; this version reads format \(formatVersion), so upgrade Axon to load it")
        }
        let model = try GraphSerialization.decode(Data(graph.utf8), source: path)
        let template = try model.build(on: backend).initialize(seed: 0)
        let (state, _) = try Safetensors.place(file.tensors, into: template, on: backend, path: path)
        return Contents(model: model, state: state, metadata: file.metadata.filter { !$0.key.hasPrefix("axon.model.") })
    }
}
