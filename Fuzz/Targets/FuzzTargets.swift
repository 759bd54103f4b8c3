import AxonCore
import AxonConformance
import AxonData
import AxonInterop
import CPUReference
import Foundation

/// The file formats the library reads, each as a function of a file's bytes that must return
/// or throw, never trap or touch memory it should not: what `axon-fuzz` fuzzes and the test
/// suite replays (seeds must decode, found crashes must now throw).
public enum FuzzTargets {
    static let backend = ReferenceBackend()
    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("axon-fuzz-\(getpid())")

    public static let all: [String: @Sendable (Data) throws -> Void] = [
        // IDX, raw or gzip-compressed (the reader inflates no further than the header declares).
        "idx": { data in _ = try IDX.decodeFile(data, name: "input") },
        // Checkpoints of format 2 and format 1, loaded onto the reference backend.
        "checkpoint": { data in
            let url = scratch.appendingPathExtension("axon")
            try data.write(to: url)
            _ = try Checkpoint.read(url, on: backend, requireFiniteParameters: true)
        },
        // Conformance case files (JSON with inline tensors): op cases, optimizer trajectories
        // and recorded losses.
        "casefile": { data in _ = try CaseFile.decodeAny(data, name: "input.json", directory: scratch) },
        // NumPy .npy files.
        "npy": { data in _ = try NumPy.decode(data, name: "input.npy") },
        // NumPy .npz archives (ZIP, stored or deflated entries).
        "npz": { data in _ = try NumPy.decodeArchive(data, name: "input.npz") },
        // ONNX models, imported onto the reference backend.
        "onnx": { data in _ = try ONNXImport.decode(data, path: "input.onnx", on: backend) },
        // safetensors files.
        "safetensors": { data in _ = try Safetensors.decode(data, path: "input.safetensors") },
    ]

    /// Runs `target` on `data`; thrown errors are the expected outcome for bad input.
    public static func run(_ target: String, _ data: Data) {
        guard let body = all[target] else {
            FileHandle.standardError.write(Data("unknown fuzz target '\(target)'; targets: \(all.keys.sorted().joined(separator: ", "))\n".utf8))
            exit(2)
        }
        _ = try? body(data)
    }
}
