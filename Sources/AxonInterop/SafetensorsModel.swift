import AxonCore
import Foundation

extension Safetensors {
    /// What loading a file into a model found: the model's tensors the file lacks and the
    /// file's tensors the model has no place for (both by the model's names after renaming,
    /// the unexpected ones by the file's names).
    public struct LoadReport: Sendable, Equatable {
        /// The model's tensors the file did not have.
        public let missing: [String]
        /// The file's tensors the model does not have.
        public let unexpected: [String]

        /// A report of `missing` and `unexpected` names.
        public init(missing: [String], unexpected: [String]) { (self.missing, self.unexpected) = (missing, unexpected) }
    }

    /// Writes a model's parameters and state (batch-norm statistics and the like) to `url`,
    /// each under its own name, atomically.
    public static func save(_ model: ModelState, metadata: [String: String] = [:], to url: URL) throws {
        try write(try arrays(of: model), metadata: metadata, to: url)
    }

    /// A model's parameters and state as host arrays, by name.
    static func arrays(of model: ModelState) throws -> [String: HostArray] {
        var tensors: [String: HostArray] = [:]
        for store in [model.parameters, model.state] {
            for (name, tensor) in store {
                guard tensors.updateValue(try tensor.array, forKey: name) == nil else {
                    throw AxonError.invalidValue(operation: "Safetensors.save", reason: "'\(name)' names both a parameter and a state tensor")
                }
            }
        }
        return tensors
    }

    /// Loads the tensors in `url` into `model`, a state with the layout the model expects (for
    /// example `BuiltModel.initialize(seed:)`'s): each file name goes through `rename` (return
    /// `nil` to ignore a tensor) and must then name one of the model's parameters or state
    /// tensors with the same shape and dtype.
    ///
    /// Unless `allowMissing`, every model tensor must be in the file; unless
    /// `allowUnexpected`, every file tensor must find a place. Either failure throws one error
    /// listing all the names; when allowed, missing tensors keep `model`'s values and the
    /// report lists them.
    ///
    /// ```swift
    /// // PyTorch-style names "0.weight" → this library's "dense_0.kernel" (after transposing
    /// // the weight in Python, since nn.Linear stores [out, in]):
    /// let (loaded, report) = try Safetensors.load(url, into: built.initialize(seed: 0), on: backend,
    ///     rename: { name in name.replacingOccurrences(of: "weight", with: "kernel") })
    /// ```
    public static func load(
        _ url: URL, into model: ModelState, on backend: any Backend, rename: (String) -> String? = { $0 },
        allowMissing: Bool = false, allowUnexpected: Bool = false
    ) throws -> (state: ModelState, report: LoadReport) {
        try place(read(url).tensors, into: model, on: backend, path: url.path, rename: rename, allowMissing: allowMissing, allowUnexpected: allowUnexpected)
    }

    /// ``load(_:into:on:rename:allowMissing:allowUnexpected:)`` for tensors already read from `path`.
    static func place(
        _ tensors: [String: HostArray], into model: ModelState, on backend: any Backend, path: String, rename: (String) -> String? = { $0 },
        allowMissing: Bool = false, allowUnexpected: Bool = false
    ) throws -> (state: ModelState, report: LoadReport) {
        var result = model
        var found = Set<String>(), unexpected: [String] = []
        for (fileName, array) in tensors.sorted(by: { $0.key < $1.key }) {
            guard let name = rename(fileName) else { continue }
            let isParameter = model.parameters[name] != nil
            guard let expected = model.parameters[name] ?? model.state[name] else {
                unexpected.append(fileName == name ? name : "\(fileName) (as \(name))")
                continue
            }
            guard found.insert(name).inserted else {
                throw AxonError.file(path: path, reason: "two tensors map to the model's '\(name)'")
            }
            guard array.shape == expected.shape, array.dtype == expected.dtype else {
                throw AxonError.file(
                    path: path,
                    reason: "tensor '\(fileName)' is \(array.dtype) \(array.shape) but the model's '\(name)' is \(expected.dtype) \(expected.shape)")
            }
            let tensor = try Tensor(array, on: backend)
            if isParameter { result.parameters[name] = tensor } else { result.state[name] = tensor }
        }
        let missing = (model.parameters.names + model.state.names).filter { !found.contains($0) }.sorted()
        var problems: [String] = []
        if !missing.isEmpty && !allowMissing { problems.append("the model's \(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not in the file") }
        if !unexpected.isEmpty && !allowUnexpected {
            problems.append("the file's \(unexpected.joined(separator: ", ")) \(unexpected.count == 1 ? "has" : "have") no place in the model")
        }
        guard problems.isEmpty else { throw AxonError.file(path: path, reason: problems.joined(separator: "; ")) }
        return (result, LoadReport(missing: missing, unexpected: unexpected))
    }
}
