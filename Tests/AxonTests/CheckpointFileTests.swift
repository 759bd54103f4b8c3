import AxonCore
import Backend
import Foundation
import Testing

/// A fresh directory under the system's temporary directory, removed by the caller.
func temporaryDirectory(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("axon-\(label)-\(UUID().uuidString)")
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) written out bit by bit, independent of zlib.
func bitwiseCRC32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

@Suite("Checkpoint files")
struct CheckpointFileTests {
    /// A loop state holding every awkward value a run can produce.
    func awkwardState() throws -> LoopState {
        let floats: [Float] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1]
        let parameters: ParameterStore = [
            "w": try tensor(floats, [7]),
            "i": try Tensor(HostArray(shape: [3], elements: .int32([.min, -1, .max])), on: backend),
            "u": try Tensor(HostArray(shape: [2], elements: .uint32([0, .max])), on: backend),
            "b": try Tensor([true, false, true], shape: [3], on: backend),
            "scalar": try tensor([2.5], []),
            "empty": try tensor([], [0, 3]),
        ]
        var state = LoopState(stepState: StepState(
            model: ModelState(parameters: parameters, state: ["bn.mean": try tensor([1, 2], [2])]),
            optimizer: OptimizerState(
                tensors: ["0/mu/w": try tensor([-.nan, 3], [2])], counts: ["0/count": 3],
                hyperparameters: [OptimizerState.learningRateScale: .infinity, "other": 0.1])))
        (state.epoch, state.iteration, state.step) = (2, 5, 17)
        state.metrics = ["loss": .nan, "accuracy": 0.1 + 0.2]
        state.epochTotals = ["loss": [.infinity, 3], "accuracy": [Double.leastNonzeroMagnitude, 7]]
        state.history = [["loss": -.infinity, "tiny": Double.leastNormalMagnitude / 4], ["loss": 1.0 / 3]]
        state.handlerMetadata = ["best": .greatestFiniteMagnitude]
        return state
    }

    func saved(_ state: LoopState, metadata: [String: String] = [:]) throws -> (URL, Data) {
        let url = temporaryDirectory("checkpoint").appendingPathExtension("axon")
        try Checkpoint.save(state, metadata: metadata, to: url)
        return (url, try Data(contentsOf: url))
    }

    func bits(_ tensor: Tensor) throws -> [UInt32] { try tensor.scalars.map(\.bitPattern) }

    @Test("every value round-trips exactly, NaN, infinities, subnormals and signed zero included")
    func exactRoundTrip() throws {
        let state = try awkwardState()
        let (url, _) = try saved(state, metadata: ["model": "mnist-mlp"])
        defer { try? FileManager.default.removeItem(at: url) }
        let contents = try Checkpoint.read(url, on: backend)
        let loaded = contents.state
        #expect(contents.metadata == ["model": "mnist-mlp"])
        #expect((loaded.epoch, loaded.iteration, loaded.step) == (2, 5, 17))
        for (name, original) in state.stepState.model.parameters where name != "w" {
            #expect(try loaded.stepState.model.parameters.tensor(name).array == original.array, "\(name)")
        }
        #expect(try bits(loaded.stepState.model.parameters.tensor("w")) == bits(state.stepState.model.parameters.tensor("w")))
        #expect(try bits(loaded.stepState.optimizer.tensors.tensor("0/mu/w")) == bits(state.stepState.optimizer.tensors.tensor("0/mu/w")))
        #expect(loaded.stepState.optimizer.counts == ["0/count": 3])
        #expect(loaded.stepState.optimizer.hyperparameters == [OptimizerState.learningRateScale: .infinity, "other": 0.1])
        #expect(loaded.metrics["loss"]!.isNaN && loaded.metrics["accuracy"]!.bitPattern == (0.1 + 0.2).bitPattern)
        #expect(loaded.epochTotals["loss"] == [.infinity, 3] && loaded.epochTotals["accuracy"]![0].bitPattern == Double.leastNonzeroMagnitude.bitPattern)
        #expect(loaded.history == state.history)
        #expect(loaded.handlerMetadata == ["best": .greatestFiniteMagnitude])
    }

    @Test("the trailer is the standard CRC-32 of everything before it")
    func standardChecksum() throws {
        #expect(bitwiseCRC32(Array("123456789".utf8)) == 0xCBF4_3926)  // the published check value
        let (url, data) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        let stored = data.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(stored == bitwiseCRC32(data.dropLast(4)))
        #expect(Array(data.prefix(12)) == Array("AXONCKPT".utf8) + [2, 0, 0, 0])
    }

    @Test("a flipped bit anywhere in the file is refused")
    func flippedBits() throws {
        let (url, original) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        var accepted: [Int] = []
        for index in 0..<original.count {
            var damaged = original
            damaged[index] ^= UInt8(1) << UInt8(index % 8)
            try damaged.write(to: url)
            if (try? Checkpoint.load(url, on: backend)) != nil { accepted.append(index) }
        }
        #expect(accepted.isEmpty, "bytes whose flipped bit loaded: \(accepted.prefix(10))")
    }

    @Test("a truncated file is refused, whatever its length")
    func truncation() throws {
        let (url, original) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        for length in Array(0..<40) + stride(from: 40, to: original.count, by: 7) {
            try original.prefix(length).write(to: url)
            #expect(errorMessage { _ = try Checkpoint.load(url, on: backend) }?.hasPrefix(url.path) == true, "length \(length)")
        }
    }

    @Test("a newer format version is refused with a message to upgrade")
    func newerVersion() throws {
        let (url, original) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        var future = original
        future[8] = 3
        try future.write(to: url)
        let message = errorMessage { _ = try Checkpoint.load(url, on: backend) }
        #expect(message?.contains("newer version of Axon (checkpoint format 3)") == true, "\(message ?? "")")
        #expect(message?.contains("upgrade") == true)
    }

    /// Rewrites the JSON header of a checkpoint with `change`, with a valid file checksum, so
    /// that only the header's own claims can be wrong.
    func withHeader(_ data: Data, _ change: (inout [String: Any]) -> Void) throws -> Data {
        let length = Int(data[12]) | Int(data[13]) << 8 | Int(data[14]) << 16 | Int(data[15]) << 24
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 16..<(16 + length))) as! [String: Any]
        change(&header)
        let newHeader = try JSONSerialization.data(withJSONObject: header)
        var result = data.prefix(12)
        withUnsafeBytes(of: UInt32(newHeader.count).littleEndian) { result.append(contentsOf: $0) }
        result.append(newHeader)
        result.append(data.subdata(in: (16 + length)..<(data.count - 4)))
        withUnsafeBytes(of: bitwiseCRC32(result).littleEndian) { result.append(contentsOf: $0) }
        return result
    }

    @Test("headers that lie about offsets, lengths, shapes or dtypes are refused before any allocation", arguments: [
        ("offset", -4, "lies outside the file"), ("offset", 1 << 40, "lies outside the file"), ("length", Int.max, "lies outside the file"),
        ("shape", -1, "negative dimension"), ("shape", 1 << 62, "too large to address"), ("dtype", 0, "unknown dtype"),
        ("shape", 2, "needs 8 bytes but 28 are stored"),
    ])
    func lyingHeaders(field: String, value: Int, expected: String) throws {
        let (url, original) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        let forged = try withHeader(original) { header in
            var parameters = header["parameters"] as! [String: Any]
            var entry = parameters["w"] as! [String: Any]
            switch field {
            case "shape": entry["shape"] = value == 1 << 62 ? [value, 4] : [value]
            case "dtype": entry["dtype"] = "float128"
            default: entry[field] = value
            }
            parameters["w"] = entry
            header["parameters"] = parameters
        }
        try forged.write(to: url)
        let message = errorMessage { _ = try Checkpoint.load(url, on: backend) }
        #expect(message?.contains(expected) == true, "\(message ?? "loaded")")
    }

    @Test("format 1 JSON checkpoints still load, continuing with the epoch after the saved one")
    func formatOne() throws {
        let url = temporaryDirectory("format1").appendingPathExtension("json")
        defer { try? FileManager.default.removeItem(at: url) }
        // 1.5 and -2 as little-endian float32 bytes 00 00 c0 3f 00 00 00 c0, in base64.
        let json = """
            {"format":"axon-checkpoint-1","epoch":0,"iteration":4,"step":5,
             "parameters":{"w":{"shape":[2],"dtype":"float32","data":"AADAPwAAAMA="}},
             "modelState":{},"optimizerTensors":{},"optimizerCounts":{"0/count":5},"hyperparameters":{},
             "metrics":{"loss":0.5},"history":[{"loss":0.5}],"handlerMetadata":{}}
            """
        try Data(json.utf8).write(to: url)
        let state = try Checkpoint.load(url, on: backend)
        #expect(try state.stepState.model.parameters.tensor("w").scalars == [1.5, -2])
        #expect((state.epoch, state.iteration, state.step) == (1, 0, 5))
        #expect(state.history == [["loss": 0.5]] && state.stepState.optimizer.counts == ["0/count": 5])
    }

    @Test("non-finite parameters are refused when the caller asks, naming the tensor")
    func finiteParameters() throws {
        let (url, _) = try saved(try awkwardState())
        defer { try? FileManager.default.removeItem(at: url) }
        _ = try Checkpoint.load(url, on: backend)
        let message = errorMessage { _ = try Checkpoint.load(url, on: backend, requireFiniteParameters: true) }
        #expect(message?.contains("parameter 'w' holds a non-finite value") == true, "\(message ?? "")")
    }

    @Test("file-system errors name the path and give the reason in words")
    func fileErrors() throws {
        let directory = temporaryDirectory("files")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileAccess.prepareDirectory(directory)
        let file = directory.appendingPathComponent("plain")
        try FileAccess.writeAtomically(Data("x".utf8), to: file)
        #expect(errorMessage { try FileAccess.checkWritableFile(directory) } == "\(directory.path): is a directory, not a file")
        #expect(errorMessage { try FileAccess.checkWritableFile(directory.appendingPathComponent("missing/out.svg")) }?
            .hasSuffix("its directory \(directory.path)/missing does not exist") == true)
        #expect(errorMessage { try FileAccess.checkWritableFile(file.appendingPathComponent("out.svg")) }?
            .contains("\(file.path) is not a directory") == true)
        #expect(errorMessage { try FileAccess.prepareDirectory(file.appendingPathComponent("run")) }?.contains("is a file") == true)
        #expect(errorMessage { _ = try FileAccess.read(directory.appendingPathComponent("absent")) } ==
            "\(directory.path)/absent: cannot open the file: no such file or directory")
        try FileAccess.checkWritableFile(directory.appendingPathComponent("new.svg"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["plain"])
    }
}
