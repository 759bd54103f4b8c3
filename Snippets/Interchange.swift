// Interchange formats: NumPy arrays, safetensors, whole-model files, ONNX and TensorBoard.
import AxonCore
import AxonData
import AxonInterop
import CPUReference
import Foundation

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
// snippet.hide
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("axon-snippet-interchange-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
_ = FileManager.default.changeCurrentDirectoryPath(scratch.path)
defer { try? FileManager.default.removeItem(at: scratch) }
// snippet.show

// snippet.setup
let model = Axon.input("features", shape: [nil, 4]).dense(8, activation: .relu).dense(2)
let trained = try model.build(on: backend).initialize(seed: 1)
// snippet.end

// snippet.numpy
let inputs = try HostArray(shape: [3, 4], elements: .float32((0..<12).map { Float($0) / 12 }))
try NumPy.write(inputs, to: URL(fileURLWithPath: "x.npy"))  // np.load("x.npy") reads it
try NumPy.writeArchive(["x": inputs], to: URL(fileURLWithPath: "data.npz"))
let x = try Tensor(try NumPy.read(URL(fileURLWithPath: "x.npy")), on: backend)
// snippet.end

// snippet.safetensors
try Safetensors.save(trained, to: URL(fileURLWithPath: "weights.safetensors"))
let fresh = try model.build(on: backend).initialize(seed: 99)
let (restored, report) = try Safetensors.load(URL(fileURLWithPath: "weights.safetensors"), into: fresh, on: backend)
print(report)  // which tensors were loaded, missing or unexpected
// snippet.end

// snippet.modelfile
try ModelFile.save(model, state: trained, metadata: ["task": "demo"], to: URL(fileURLWithPath: "model.axonmodel"))
let loaded = try ModelFile.load(URL(fileURLWithPath: "model.axonmodel"), on: backend)
print(loaded.model)  // the same graph, with its weights in loaded.state
// snippet.end

// snippet.onnx
try ONNXExport.write(model, state: trained, to: URL(fileURLWithPath: "model.onnx"))
let (imported, weights) = try ONNXImport.load(URL(fileURLWithPath: "model.onnx"), on: backend)
let fromONNX = try imported.build(on: backend).predict(weights, inputs: ["features": x]).output()
// snippet.end

// snippet.tensorboard
let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend)
    .log(to: TensorBoardLogger(directory: URL(fileURLWithPath: "runs/tb"), model: model), scope: .batch)
    .log(to: CSVLogger(URL(fileURLWithPath: "runs/metrics.csv")))
// snippet.end

// snippet.hide
let original = try model.build(on: backend).predict(trained, inputs: ["features": x]).output().scalars
let fromSafetensors = try model.build(on: backend).predict(restored, inputs: ["features": x]).output().scalars
let fromModelFile = try loaded.model.build(on: backend).predict(loaded.state, inputs: ["features": x]).output().scalars
let targets = try HostArray(shape: [3, 2], elements: .float32([0, 1, 1, 0, 0.5, 0.5]))
_ = try loop.run(try Dataset(features: inputs, labels: targets).batches(size: 3, on: backend), epochs: 1)
let events = try FileManager.default.contentsOfDirectory(atPath: "runs/tb")
guard fromSafetensors == original, fromModelFile == original,
    zip(try fromONNX.scalars, original).allSatisfy({ abs($0 - $1) <= 1e-6 }),
    try NumPy.readArchive(URL(fileURLWithPath: "data.npz"))["x"]?.shape == [3, 4],
    events.contains(where: { $0.hasPrefix("events.out.tfevents") })
else {
    throw SnippetCheck("an interchange round trip changed the model's output, or TensorBoard wrote no events: \(events)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
