import Backend
import Foundation

/// Saving and restoring a whole ``LoopState``: model parameters and state, optimizer state,
/// position in the run, running metrics and history, plus free-form metadata (for example the
/// configuration a command-line run was started with).
///
/// The file (format 2, extension `.axon`) is binary and checksummed:
///
/// | bytes | content |
/// |---|---|
/// | 8 | the magic `AXONCKPT` |
/// | 4 | the format version, little-endian |
/// | 4 | the header's length *H*, little-endian |
/// | *H* | the header: UTF-8 JSON with the position, metrics, history and metadata, and for each tensor its dtype, shape, offset, length and CRC-32 |
/// | … | the tensors' bytes, little-endian, back to back |
/// | 4 | the CRC-32 of every byte before it |
///
/// Tensors keep their exact bits; metric values are JSON numbers (Swift writes the shortest text
/// that reads back to the same `Double`) and `"nan"`, `"inf"` or `"-inf"` where not finite, so a
/// diverged run saves like any other. Loading checks the magic, refuses formats newer than
/// ``formatVersion``, verifies the file's and every tensor's checksum, and checks every shape,
/// dtype and offset against the file before reading it. Format 1 (the JSON checkpoints of
/// earlier versions) is still read.
///
/// ```swift
/// try Checkpoint.save(state, to: URL(fileURLWithPath: "run/checkpoint_epoch_3.axon"))
/// let restored = try Checkpoint.load(URL(fileURLWithPath: "run/checkpoint_epoch_3.axon"), on: backend)
/// ```
public enum Checkpoint {
    /// The format this version writes; it reads this one and every older one.
    public static let formatVersion = 2
    /// The extension of checkpoint files.
    public static let fileExtension = "axon"

    /// A checkpoint's loop state and the metadata saved with it.
    public struct Contents: Sendable {
        /// The loop state: position, parameters, optimizer state, metrics and history.
        public var state: LoopState
        /// Free-form text stored beside the state (`axon train` stores its configuration).
        public var metadata: [String: String]
    }

    /// A checkpoint's position and final metrics, read from its header alone (not verified).
    public struct Summary: Sendable {
        /// The position the checkpoint continues from: the next epoch, iteration and global step.
        public let epoch: Int, iteration: Int, step: Int
        /// The metrics of the last completed epoch (empty when no epoch has completed).
        public let lastEpochMetrics: [String: Double]
        /// The metrics of every completed epoch, first to last.
        public let history: [[String: Double]]
        /// The free-form metadata.
        public let metadata: [String: String]
    }

    /// Writes `state` (and `metadata`) to `url` atomically and durably
    /// (``FileAccess/writeAtomically(_:to:)``), creating its directory if needed: a crash
    /// leaves the old file or the new one.
    public static func save(_ state: LoopState, metadata: [String: String] = [:], to url: URL) throws {
        try FileAccess.prepareDirectory(url.deletingLastPathComponent())
        try FileAccess.writeAtomically(try encode(state, metadata: metadata), to: url)
    }

    /// Reads the loop state saved at `url`, uploading its tensors to `backend`. With
    /// `requireFiniteParameters`, a parameter or model-state tensor holding NaN or ±∞ is refused.
    public static func load(_ url: URL, on backend: any Backend, requireFiniteParameters: Bool = false) throws -> LoopState {
        try read(url, on: backend, requireFiniteParameters: requireFiniteParameters).state
    }

    /// Reads the loop state and metadata saved at `url` (see ``load(_:on:requireFiniteParameters:)``).
    public static func read(_ url: URL, on backend: any Backend, requireFiniteParameters: Bool = false) throws -> Contents {
        let data = try FileAccess.read(url)
        let file = CheckpointFile(path: url.path, bytes: data)
        let contents = try file.looksLikeFormat1 ? file.decodeFormat1(on: backend) : file.decode(on: backend)
        if requireFiniteParameters { try file.checkFinite(contents.state.stepState.model) }
        return contents
    }

    /// The position, last epoch's metrics and metadata of the checkpoint at `url`, from its
    /// header alone: cheap enough to rank many checkpoints, but not a check of the file.
    public static func summary(of url: URL) throws -> Summary {
        var file = CheckpointFile(path: url.path, bytes: try FileAccess.read(url, upTo: CheckpointFile.prefixLength))
        let headerLength = try file.headerLength()
        file.bytes = try FileAccess.read(url, upTo: CheckpointFile.prefixLength + headerLength)
        let header = try file.header(length: headerLength)
        return Summary(
            epoch: header.epoch, iteration: header.iteration, step: header.step,
            lastEpochMetrics: header.history.last ?? [:], history: header.history, metadata: header.metadata)
    }

    /// The bytes of the checkpoint file for `state`.
    static func encode(_ state: LoopState, metadata: [String: String]) throws -> Data {
        var payload = Data()
        func entries(_ store: ParameterStore) throws -> [String: CheckpointFile.TensorEntry] {
            var result: [String: CheckpointFile.TensorEntry] = [:]
            for name in store.names {
                let array = try store.tensor(name).array
                let bytes = array.littleEndianBytes
                result[name] = CheckpointFile.TensorEntry(
                    dtype: array.dtype.rawValue, shape: array.shape.dimensions, offset: payload.count, length: bytes.count,
                    crc32: CheckpointFile.crc32(bytes))
                payload.append(bytes)
            }
            return result
        }
        let step = state.stepState
        let header = CheckpointFile.Header(
            epoch: state.epoch, iteration: state.iteration, step: state.step,
            parameters: try entries(step.model.parameters), modelState: try entries(step.model.state),
            optimizerTensors: try entries(step.optimizer.tensors), optimizerCounts: step.optimizer.counts,
            hyperparameters: step.optimizer.hyperparameters, metrics: state.metrics, epochTotals: state.epochTotals,
            history: state.history, handlerMetadata: state.handlerMetadata, metadata: metadata)
        let headerBytes = try CheckpointFile.encoder.encode(header)
        guard headerBytes.count <= Int(UInt32.max) else {
            throw AxonError.invalidValue(operation: "Checkpoint.save", reason: "the header (\(headerBytes.count) bytes) exceeds 4 GiB")
        }
        var file = Data(CheckpointFile.magic)
        file.append(littleEndian: UInt32(formatVersion))
        file.append(littleEndian: UInt32(headerBytes.count))
        file.append(headerBytes)
        file.append(payload)
        file.append(littleEndian: CheckpointFile.crc32(file))
        return file
    }
}

/// One checkpoint file's bytes being decoded, with errors that name the file.
struct CheckpointFile {
    static let magic = Array("AXONCKPT".utf8)
    /// Magic, version and header length.
    static let prefixLength = 16
    static let trailerLength = 4

    let path: String
    var bytes: Data

    struct TensorEntry: Codable {
        let dtype: String
        let shape: [Int]
        let offset: Int
        let length: Int
        let crc32: UInt32
    }

    struct Header: Codable {
        let epoch: Int, iteration: Int, step: Int
        let parameters: [String: TensorEntry]
        let modelState: [String: TensorEntry]
        let optimizerTensors: [String: TensorEntry]
        let optimizerCounts: [String: Int]
        let hyperparameters: [String: Float]
        let metrics: [String: Double]
        let epochTotals: [String: [Double]]
        let history: [[String: Double]]
        let handlerMetadata: [String: Double]
        let metadata: [String: String]
    }

    static var encoder: JSONEncoder { LibraryJSON.encoder }
    static var decoder: JSONDecoder { LibraryJSON.decoder }

    func damaged(_ reason: String) -> AxonError { AxonError.file(path: path, reason: "is not a usable checkpoint: \(reason)") }

    /// Format 1 was a JSON document.
    var looksLikeFormat1: Bool { bytes.first == UInt8(ascii: "{") }

    func uint32(at offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    }

    /// Checks the magic and version and returns the header's length.
    func headerLength() throws -> Int {
        guard bytes.count >= Self.prefixLength, bytes.prefix(Self.magic.count).elementsEqual(Self.magic) else {
            throw damaged("it does not begin with the checkpoint magic AXONCKPT (is it a checkpoint at all?)")
        }
        let version = Int(uint32(at: 8))
        guard version <= Checkpoint.formatVersion else {
            throw AxonError.file(
                path: path,
                reason: "was written by a newer version of Axon (checkpoint format \(version)); this version reads formats 1 to \(Checkpoint.formatVersion), so upgrade Axon to load it")
        }
        guard version == Checkpoint.formatVersion else { throw damaged("unknown format version \(version)") }
        return Int(uint32(at: 12))
    }

    func header(length: Int) throws -> Header {
        guard length <= bytes.count - Self.prefixLength else {
            throw damaged("its header claims \(length) bytes but the file has \(bytes.count - Self.prefixLength) after the prefix")
        }
        do {
            return try Self.decoder.decode(Header.self, from: bytes.subdata(in: Self.prefixLength..<(Self.prefixLength + length)))
        } catch {
            throw damaged("its header is not valid (\(error))")
        }
    }

    func decode(on backend: any Backend) throws -> Checkpoint.Contents {
        let headerLength = try self.headerLength()
        guard bytes.count >= Self.prefixLength + Self.trailerLength else { throw damaged("it is truncated (\(bytes.count) bytes)") }
        let stored = uint32(at: bytes.count - Self.trailerLength)
        let computed = Self.crc32(bytes.prefix(bytes.count - Self.trailerLength))
        guard stored == computed else {
            throw damaged(String(format: "its checksum does not match (stored %08x, computed %08x): the file is damaged or truncated", stored, computed))
        }
        let header = try self.header(length: headerLength)
        guard header.epoch >= 0, header.iteration >= 0, header.step >= 0 else {
            throw damaged("negative position (epoch \(header.epoch), iteration \(header.iteration), step \(header.step))")
        }
        let payload = (Self.prefixLength + headerLength)..<(bytes.count - Self.trailerLength)
        func restore(_ entries: [String: TensorEntry], _ group: String) throws -> ParameterStore {
            var store = ParameterStore()
            for name in entries.keys.sorted() {
                let entry = entries[name]!
                let label = "\(group) '\(name)'"
                guard entry.offset >= 0, entry.length >= 0, entry.offset <= payload.count - entry.length else {
                    throw damaged("\(label) lies outside the file (offset \(entry.offset), length \(entry.length), \(payload.count) bytes of data)")
                }
                let start = payload.lowerBound + entry.offset
                let slice = bytes[start..<(start + entry.length)]
                guard Self.crc32(slice) == entry.crc32 else { throw damaged("the checksum of \(label) does not match") }
                store[name] = try Tensor(try hostArray(label, dtype: entry.dtype, shape: entry.shape, bytes: slice), on: backend)
            }
            return store
        }
        var state = Self.state(
            parameters: try restore(header.parameters, "parameter"), modelState: try restore(header.modelState, "model state"),
            optimizerTensors: try restore(header.optimizerTensors, "optimizer tensor"), optimizerCounts: header.optimizerCounts,
            hyperparameters: header.hyperparameters)
        (state.epoch, state.iteration, state.step) = (header.epoch, header.iteration, header.step)
        state.metrics = header.metrics
        state.epochTotals = header.epochTotals
        state.history = header.history
        state.handlerMetadata = header.handlerMetadata
        return Checkpoint.Contents(state: state, metadata: header.metadata)
    }

    /// A loop state at the start of a run holding the restored tensors.
    static func state(
        parameters: ParameterStore, modelState: ParameterStore, optimizerTensors: ParameterStore, optimizerCounts: [String: Int],
        hyperparameters: [String: Float]
    ) -> LoopState {
        LoopState(stepState: StepState(
            model: ModelState(parameters: parameters, state: modelState),
            optimizer: OptimizerState(tensors: optimizerTensors, counts: optimizerCounts, hyperparameters: hyperparameters)))
    }

    /// A host array from a stored tensor, after checking its dtype, shape and byte count.
    func hostArray(_ label: String, dtype name: String, shape dimensions: [Int], bytes: Data) throws -> HostArray {
        guard let dtype = DType(rawValue: name) else { throw damaged("\(label) has unknown dtype '\(name)'") }
        do {
            return try HostArray(littleEndian: bytes, dtype: dtype, shape: Shape(dimensions), label: label)
        } catch let AxonError.invalidValue(_, reason) {
            throw damaged("\(label): \(reason)")
        }
    }

    /// Refuses parameters or model state that hold NaN or ±∞.
    func checkFinite(_ model: ModelState) throws {
        for (group, store) in [("parameter", model.parameters), ("model state", model.state)] {
            for (name, tensor) in store where tensor.dtype == .float32 {
                if let index = try tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                    throw AxonError.file(
                        path: path,
                        reason: "\(group) '\(name)' holds a non-finite value (\(try tensor.scalars[index]) at element \(index)); the run had diverged before this checkpoint")
                }
            }
        }
    }

    /// The CRC-32 of `data` (zlib's, the polynomial of gzip and PNG).
    static func crc32<Bytes: DataProtocol>(_ data: Bytes) -> UInt32 {
        var crc = CRC32()
        for region in data.regions { region.withUnsafeBytes { crc.update($0) } }
        return crc.value
    }
}

#if _endian(big)
#error("checkpoint tensors are stored little-endian and copied as they are; add byte swapping for big-endian hosts")
#endif
