import Backend
import Foundation

/// Reading format 1: the JSON checkpoints (`checkpoint_epoch_N.json`) that versions before
/// format 2 wrote, with tensors as base64 little-endian bytes. They were saved when an epoch
/// completed, holding that epoch's index; they migrate to format 2's position, which names the
/// next epoch to run.
extension CheckpointFile {
    private struct StoredTensor: Decodable {
        let shape: [Int]
        let dtype: String
        let data: Data
    }

    private struct Document: Decodable {
        let format: String
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

    func decodeFormat1(on backend: any Backend) throws -> Checkpoint.Contents {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: bytes)
        } catch {
            throw damaged("it is neither a format-2 checkpoint nor a readable format-1 JSON checkpoint (\(error))")
        }
        guard document.format == "axon-checkpoint-1" else { throw damaged("unknown JSON checkpoint format '\(document.format)'") }
        guard document.epoch >= 0, document.epoch < Int.max, document.step >= 0 else {
            throw damaged("negative position (epoch \(document.epoch), step \(document.step))")
        }
        func restore(_ stored: [String: StoredTensor], _ group: String) throws -> ParameterStore {
            var store = ParameterStore()
            for name in stored.keys.sorted() {
                let tensor = stored[name]!
                store[name] = try Tensor(try hostArray("\(group) '\(name)'", dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.data), on: backend)
            }
            return store
        }
        var state = Self.state(
            parameters: try restore(document.parameters, "parameter"), modelState: try restore(document.modelState, "model state"),
            optimizerTensors: try restore(document.optimizerTensors, "optimizer tensor"), optimizerCounts: document.optimizerCounts,
            hyperparameters: document.hyperparameters)
        state.epoch = document.epoch + 1
        state.step = document.step
        state.history = document.history
        state.handlerMetadata = document.handlerMetadata
        return Checkpoint.Contents(state: state, metadata: [:])
    }
}
