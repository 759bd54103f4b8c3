import AxonCore
import AxonInterop
import Backend
import Foundation
import Testing

@Suite("safetensors files")
struct SafetensorsTests {
    @Test("a file the safetensors package wrote loads with its values, dtypes converted, and its metadata")
    func readsWhatSafetensorsWrote() throws {
        let directory = try EcosystemReaders.scratchDirectory("safetensors-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("python.safetensors")
        _ = try EcosystemReaders.run("safetensors_files.py", ["write", file.path])
        let contents = try Safetensors.read(file)
        #expect(contents.metadata == ["format": "np", "written_by": "safetensors"])
        #expect(contents.tensors == [
            "weight": try HostArray(shape: [2, 3], elements: .float32([0, 0.5, 1, 1.5, 2, 2.5])),
            "ids": try HostArray(shape: [3], elements: .int32([1, -2, 3])),
            "mask": try HostArray(shape: [3], elements: .bool([true, false, true])),
            "half": try HostArray(shape: [2], elements: .float32([1.5, -0.25])),
            "pixels": try HostArray(shape: [2], elements: .uint32([0, 255])),
            "double": try HostArray(shape: [1], elements: .float32([Float(0.1)])),
        ])
    }

    @Test("a model's parameters and state saved here load in the safetensors package with the same values")
    func safetensorsReadsWhatWeWrote() throws {
        let directory = try EcosystemReaders.scratchDirectory("safetensors-write")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = Axon.input("x", shape: [nil, 3]).dense(4, name: "hidden").batchNorm(name: "norm").dense(2, name: "out")
        let built = try model.build(on: backend)
        let state = try built.initialize(seed: 7)
        let file = directory.appendingPathComponent("model.safetensors")
        try Safetensors.save(state, metadata: ["framework": "axon-swift"], to: file)

        struct Dump: Decodable {
            let tensors: [String: EcosystemReaders.Array]
            let metadata: [String: String]
        }
        let dump = try EcosystemReaders.json(Dump.self, "safetensors_files.py", ["dump", file.path])
        #expect(dump.metadata == ["framework": "axon-swift"])
        let expectedNames = (state.parameters.names + state.state.names).sorted()
        #expect(dump.tensors.keys.sorted() == expectedNames)
        for (name, tensor) in Array(state.parameters) + Array(state.state) {
            #expect(dump.tensors[name] == EcosystemReaders.Array(
                dtype: "<f4", shape: tensor.shape.dimensions, values: try tensor.scalars.map(Double.init)), "\(name)")
        }

        // And back into a fresh model, which then predicts as the original does.
        let fresh = try built.initialize(seed: 99)
        let (loaded, report) = try Safetensors.load(file, into: fresh, on: backend)
        #expect(report == Safetensors.LoadReport(missing: [], unexpected: []))
        let x = try sample([5, 3], seed: 1)
        let original = try built.predict(state, inputs: ["x": x]).output().scalars
        #expect(try built.predict(loaded, inputs: ["x": x]).output().scalars == original)
    }

    @Test("loading into a model names every missing and unexpected tensor, and maps names through rename")
    func loadReportsMissingAndUnexpected() throws {
        let directory = try EcosystemReaders.scratchDirectory("safetensors-names")
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Axon.input("x", shape: [nil, 2]).dense(3, name: "layer").build(on: backend)
        let state = try built.initialize(seed: 1)
        let file = directory.appendingPathComponent("renamed.safetensors")
        let kernel = try state.parameters.tensor("layer.kernel").array
        try Safetensors.write(["0.weight": kernel, "0.extra": kernel], to: file)
        let message = errorMessage { _ = try Safetensors.load(file, into: state, on: backend) }
        #expect(message == "\(file.path): the model's layer.bias, layer.kernel are not in the file; the file's 0.extra, 0.weight have no place in the model")

        let (loaded, report) = try Safetensors.load(
            file, into: state, on: backend, rename: { $0 == "0.weight" ? "layer.kernel" : $0 }, allowMissing: true, allowUnexpected: true)
        #expect(report == Safetensors.LoadReport(missing: ["layer.bias"], unexpected: ["0.extra"]))
        #expect(try loaded.parameters.tensor("layer.kernel").array == kernel)

        let wrongShape = directory.appendingPathComponent("shape.safetensors")
        try Safetensors.write(["layer.kernel": try HostArray(shape: [3, 2], elements: .float32(Array(repeating: 0, count: 6)))], to: wrongShape)
        #expect(errorMessage { _ = try Safetensors.load(wrongShape, into: state, on: backend, allowMissing: true) }
            == "\(wrongShape.path): tensor 'layer.kernel' is float32 [3, 2] but the model's 'layer.kernel' is float32 [2, 3]")
    }

    /// A file whose header is `header` (padded to 8 bytes) followed by `data` bytes.
    static func file(_ header: String, data: Int, claimedLength: UInt64? = nil) -> Data {
        var bytes = Data()
        bytes.append(littleEndian: claimedLength ?? UInt64(header.utf8.count))
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(Data(count: data))
        return bytes
    }

    @Test("truncated, corrupt and lying files are refused before any tensor is read", arguments: [
        (file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4), "offsets [0, 8] outside the 4 bytes of data"),
        (file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8, claimedLength: 1 << 40), "its header claims 1099511627776 bytes but only"),
        (file(String(repeating: " ", count: 16), data: 0, claimedLength: 100_000_001), "claims 100000001 bytes but only 16 follow"),
        (Data([1, 2, 3]), "shorter than the 8-byte header length"),
        (file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "shape [3] and dtype F32 needs 12 bytes but its offsets span 8"),
        (file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8),
         "overlaps the tensor before it"),
        (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "bytes 0..<4 of the data belong to no tensor"),
        (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8),
         "the key \"a\" appears twice"),
        (file(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: 8), "tensor 'a' has dtype 'C64'"),
        (file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "not a list of non-negative integers"),
        (file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: 4), "needs too many bytes"),
        (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, data: 4), "its header is not valid JSON"),
        (file(String(repeating: "[", count: 10_000), data: 0), "nesting deeper than 64 levels"),
        (file(#"{"__metadata__":{"k":1}}"#, data: 0), "metadata 'k' is not a string"),
    ])
    func hostileFiles(bytes: Data, expected: String) {
        let message = errorMessage { _ = try Safetensors.decode(bytes, path: "w.safetensors") }
        #expect(message?.hasPrefix("w.safetensors: is not a valid safetensors file: ") == true, "\(message ?? "no error")")
        #expect(message?.contains(expected) == true, "\(message ?? "no error")")
    }
}
