import Backend
import Foundation

/// Saving and restoring a whole ``LoopState``: model parameters and state, optimizer state,
/// position, metrics. Tensors are stored with their exact bits (little-endian, base64) in a
/// JSON document, written to a temporary file and renamed into place so a crash never leaves a
/// half-written checkpoint.
public enum Checkpoint {
    struct StoredTensor: Codable {
        let shape: [Int]
        let dtype: String
        let data: Data
    }

    struct Document: Codable {
        var format = "axon-checkpoint-1"
        let epoch: Int, iteration: Int, step: Int
        let parameters: [String: StoredTensor]
        let modelState: [String: StoredTensor]
        let optimizerTensors: [String: StoredTensor]
        let optimizerCounts: [String: Int]
        let hyperparameters: [String: Float]
        let metrics: [String: Double]
        let history: [[String: Double]]
        let handlerMetadata: [String: Double]
    }

    /// Writes `state` to `url` atomically, creating the directory if needed.
    public static func save(_ state: LoopState, to url: URL) throws {
        let document = Document(
            epoch: state.epoch, iteration: state.iteration, step: state.step,
            parameters: try store(state.stepState.model.parameters), modelState: try store(state.stepState.model.state),
            optimizerTensors: try store(state.stepState.optimizer.tensors), optimizerCounts: state.stepState.optimizer.counts,
            hyperparameters: state.stepState.optimizer.hyperparameters, metrics: state.metrics, history: state.history,
            handlerMetadata: state.handlerMetadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(document)
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.globallyUniqueString).tmp")
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw AxonError.invalidValue(operation: "Checkpoint.save", reason: "cannot move the checkpoint into place at \(url.path)")
        }
    }

    /// Reads a loop state saved by ``save(_:to:)``, uploading tensors to `backend`.
    public static func load(_ url: URL, on backend: any Backend) throws -> LoopState {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AxonError.invalidValue(operation: "Checkpoint.load", reason: "no checkpoint at \(url.path)")
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
        } catch {
            throw AxonError.invalidValue(operation: "Checkpoint.load", reason: "\(url.path) is not a readable checkpoint: \(error)")
        }
        let model = ModelState(parameters: try restore(document.parameters, backend), state: try restore(document.modelState, backend))
        let optimizer = OptimizerState(
            tensors: try restore(document.optimizerTensors, backend), counts: document.optimizerCounts,
            hyperparameters: document.hyperparameters)
        var state = LoopState(stepState: StepState(model: model, optimizer: optimizer))
        (state.epoch, state.iteration, state.step) = (document.epoch, document.iteration, document.step)
        state.metrics = document.metrics
        state.history = document.history
        state.handlerMetadata = document.handlerMetadata
        return state
    }

    private static func store(_ store: ParameterStore) throws -> [String: StoredTensor] {
        var result: [String: StoredTensor] = [:]
        for (name, tensor) in store {
            let array = try tensor.array
            let data: Data
            switch array.elements {
            case let .float32(values): data = values.withUnsafeBytes { Data($0) }
            case let .int32(values): data = values.withUnsafeBytes { Data($0) }
            case let .uint32(values): data = values.withUnsafeBytes { Data($0) }
            case let .bool(values): data = Data(values.map { $0 ? 1 : 0 })
            }
            result[name] = StoredTensor(shape: array.shape.dimensions, dtype: array.dtype.rawValue, data: data)
        }
        return result
    }

    private static func restore(_ stored: [String: StoredTensor], _ backend: any Backend) throws -> ParameterStore {
        var result = ParameterStore()
        for (name, tensor) in stored {
            let shape = Shape(tensor.shape)
            guard tensor.data.count >= shape.elementCount * (DType(rawValue: tensor.dtype)?.byteSize ?? 1) else {
                throw AxonError.invalidValue(operation: "Checkpoint.load", reason: "tensor '\(name)' is truncated")
            }
            func values<T>(_ type: T.Type) -> [T] {
                tensor.data.withUnsafeBytes { raw in
                    (0..<shape.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
                }
            }
            let elements: HostElements
            switch DType(rawValue: tensor.dtype) {
            case .float32: elements = .float32(values(Float.self))
            case .int32: elements = .int32(values(Int32.self))
            case .uint32: elements = .uint32(values(UInt32.self))
            case .bool: elements = .bool(tensor.data.map { $0 != 0 })
            case nil:
                throw AxonError.invalidValue(operation: "Checkpoint.load", reason: "tensor '\(name)' has unknown dtype \(tensor.dtype)")
            }
            result[name] = try Tensor(HostArray(shape: shape, elements: elements), on: backend)
        }
        return result
    }
}
