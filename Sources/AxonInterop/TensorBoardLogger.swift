import AxonCore
import Foundation
import SwiftProtobuf

/// A `RunLogger` that writes TensorBoard event files: every metric as a scalar (tags
/// `batch/NAME` and `epoch/NAME`, plotted against the global step), histograms of every
/// parameter and gradient at each epoch's end (`parameters/NAME`, `gradients/NAME`), and the
/// model's summary and graph as text (`model/summary`, `model/graph`) when given a model.
///
/// Each run writes a new `events.out.tfevents.<seconds>.<host>.<pid>.<n>` file in `directory`, so a
/// resumed run adds a file beside the old ones, as TensorBoard expects. Records use
/// TensorFlow's framing (length, masked CRC-32C of the length, the `Event` message, masked
/// CRC-32C of the message), each appended in one write so TensorBoard can read the file while
/// the run writes it.
///
/// ```swift
/// loop.log(to: TensorBoardLogger(directory: URL(fileURLWithPath: "runs/mnist"), model: model), scope: .batch)
/// // then: tensorboard --logdir runs
/// ```
public final class TensorBoardLogger: RunLogger {
    /// Where the event files go.
    public let directory: URL
    let model: Axon?
    let histograms: Bool
    let bucketCount: Int
    private var file: AppendOnlyFile?

    /// Logs into `directory`; `model` adds its summary and graph as text; `histograms` adds
    /// the parameter and gradient histograms (`bucketCount` equal-width buckets each).
    public init(directory: URL, model: Axon? = nil, histograms: Bool = true, bucketCount: Int = 30) {
        self.directory = directory
        self.model = model
        self.histograms = histograms
        self.bucketCount = Swift.max(bucketCount, 1)
    }

    /// The event file this run writes, once it has started.
    public var eventFile: URL? { file?.url }

    public var needsGradients: Bool { histograms }

    /// Numbers the event files this process writes.
    private static let files = FileCounter()

    private final class FileCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0

        func next() -> Int {
            lock.withLock {
                count += 1
                return count
            }
        }
    }

    public func runStarted(state: LoopState) throws {
        let now = Date().timeIntervalSince1970
        // TensorBoard's own naming, with a per-process counter so runs started within the same
        // second never share a file.
        let name = "events.out.tfevents.\(Int(now)).\(ProcessInfo.processInfo.hostName).\(getpid()).\(Self.files.next())"
        file = try AppendOnlyFile(directory.appendingPathComponent(name), truncate: true)
        var version = Tensorboard_Event()
        version.wallTime = now
        version.fileVersion = "brain.Event:2"
        try write(version)
        if let model {
            try write(text: "```\n\(model.description)\n```", tag: "model/summary", step: state.step)
            try write(text: "```\n\(try model.graph(.mermaid))```", tag: "model/graph", step: state.step)
        }
    }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        var summary = Tensorboard_Summary()
        for (name, value) in record.values.sorted(by: { $0.key < $1.key }) {
            var entry = Tensorboard_Summary.Value()
            entry.tag = "\(record.scope.rawValue)/\(name)"
            entry.simpleValue = Float(value)
            summary.value.append(entry)
        }
        if record.scope == .epoch && histograms {
            for (group, store) in [("parameters", state.stepState.model.parameters), ("gradients", state.gradients ?? ParameterStore())] {
                for (name, tensor) in store where tensor.dtype == .float32 {
                    var entry = Tensorboard_Summary.Value()
                    entry.tag = "\(group)/\(name)"
                    entry.histo = histogram(try tensor.scalars)
                    summary.value.append(entry)
                }
            }
        }
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(record.step)
        event.summary = summary
        try write(event)
        if record.scope == .epoch { try file?.sync() }
    }

    public func runEnded(state: LoopState, completed: Bool) throws {
        try file?.close()
    }

    /// `values` in `bucketCount` equal-width buckets; each bucket counts the values up to its
    /// limit and above the previous one (the first also takes the minimum).
    func histogram(_ values: [Float]) -> Tensorboard_HistogramProto {
        var proto = Tensorboard_HistogramProto()
        let finite = values.filter(\.isFinite).map(Double.init)
        guard let low = finite.min(), let high = finite.max() else { return proto }
        proto.min = low
        proto.max = high
        proto.num = Double(finite.count)
        proto.sum = finite.reduce(0, +)
        proto.sumSquares = finite.reduce(0) { $0 + $1 * $1 }
        let buckets = high > low ? bucketCount : 1
        let width = (high - low) / Double(buckets)
        proto.bucketLimit = (1...buckets).map { $0 == buckets ? high : low + Double($0) * width }
        var counts = [Double](repeating: 0, count: buckets)
        for value in finite {
            let index = width > 0 ? Int(((value - low) / width).rounded(.up)) - 1 : 0
            counts[Swift.min(Swift.max(index, 0), buckets - 1)] += 1
        }
        proto.bucket = counts
        return proto
    }

    private func write(text: String, tag: String, step: Int) throws {
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.metadata.pluginData.pluginName = "text"
        entry.metadata.dataClass = .tensor
        entry.tensor.dtype = .dtString
        entry.tensor.stringVal = [Data(text.utf8)]
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        event.summary.value = [entry]
        try write(event)
    }

    private func write(_ event: Tensorboard_Event) throws {
        guard let file else { throw AxonError.invalidValue(operation: "TensorBoardLogger", reason: "the run has not started") }
        try file.append(TensorBoardRecords.frame(try event.serializedData()))
    }
}

/// TensorFlow's record framing, which event files use.
public enum TensorBoardRecords {
    /// `payload` framed as one record: its length (8 bytes, little-endian), the masked CRC-32C
    /// of those 8 bytes, the payload, and the payload's masked CRC-32C.
    public static func frame(_ payload: Data) -> Data {
        var length = Data()
        length.append(littleEndian: UInt64(payload.count))
        var record = length
        record.append(littleEndian: maskedCRC(length))
        record.append(payload)
        record.append(littleEndian: maskedCRC(payload))
        return record
    }

    /// CRC-32C rotated right by 15 bits plus 0xA282EAD8: TensorFlow masks its checksums so that
    /// a CRC computed over data holding CRCs stays well distributed.
    public static func maskedCRC(_ data: Data) -> UInt32 {
        var crc = CRC32(.castagnoli)
        crc.update(data)
        let value = crc.value
        return ((value >> 15) | (value << 17)) &+ 0xA282_EAD8
    }
}
