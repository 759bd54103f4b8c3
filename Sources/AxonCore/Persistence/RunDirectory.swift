import Backend
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory that one training run owns: its checkpoints (`checkpoint_epoch_N.axon` when
/// epoch N completes, `checkpoint_step_S.axon` in the middle of an epoch), a `latest` file naming
/// the newest complete checkpoint, and a lock.
///
/// - The lock (`axon.lock`, an advisory `flock` that the system releases when the process ends,
///   however it ends) lets one run at a time use the directory; a second is refused with the
///   first one's process id.
/// - A new run refuses a directory that already holds another run's checkpoints unless told to
///   resume it or to overwrite it.
/// - Every file is written atomically and durably, `latest` only after the checkpoint it names,
///   so a run killed at any moment leaves a `latest` that loads; the temporary files of a killed
///   writer are removed when the directory is next opened.
/// - A ``Retention`` policy removes checkpoints that are neither among the last *N* nor among
///   the best *K* by a metric (Keras's `ModelCheckpoint`, Lightning's `save_top_k`); the one
///   `latest` names is always kept.
///
/// One object serves one run on one thread at a time (the loop's); it is not safe to save from
/// several threads at once.
///
/// ```swift
/// let run = try RunDirectory(URL(fileURLWithPath: "runs/mlp"), retention: .init(keepLast: 3))
/// let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .adam(learningRate: 1e-3), on: backend)
///     .checkpoint(in: run)
/// ```
public final class RunDirectory: @unchecked Sendable {
    /// How to treat what the directory already holds.
    public enum OpenMode: Sendable {
        /// Start a run; refuse a directory that holds checkpoints already.
        case new
        /// Start a run after removing the checkpoints of an earlier one.
        case overwrite
        /// Continue the run whose checkpoints the directory holds; refuse one with none.
        case resume
    }

    /// Which checkpoints to keep. A checkpoint is kept when it is among the last `keepLast`, or
    /// among the best `keepBest` epochs by a metric, or is `latest`; with neither set, all are.
    public struct Retention: Sendable {
        /// The best `count` epoch checkpoints by `metric` (lower is better with `.min`).
        public struct Best: Sendable {
            /// Keep the `count` checkpoints with the best `metric`, the lowest or highest by `mode`.
            public let metric: String, mode: MonitorMode, count: Int

            /// Keeps the `count` best checkpoints by `metric`.
            public init(metric: String, mode: MonitorMode, count: Int = 1) {
                (self.metric, self.mode, self.count) = (metric, mode, count)
            }
        }

        /// How many of the newest checkpoints to keep (all when `nil`).
        public let keepLast: Int?
        /// The best checkpoints to keep besides.
        public let keepBest: Best?

        /// Keep every checkpoint.
        public static let all = Retention()

        /// A policy keeping the union of the newest `keepLast` and the best by `keepBest`; `latest` is always kept.
        public init(keepLast: Int? = nil, keepBest: Best? = nil) {
            (self.keepLast, self.keepBest) = (keepLast, keepBest)
        }
    }

    /// The name of the file that names the newest complete checkpoint.
    public static let latestFileName = "latest"
    /// The name of the lock file.
    public static let lockFileName = "axon.lock"

    /// The run's directory.
    public let url: URL
    /// Which checkpoints survive a save.
    public let retention: Retention
    /// Saved in every checkpoint from now on (for example the configuration of a command-line run).
    public var metadata: [String: String]
    /// What killed writers left and opening the directory removed: temporary files, and
    /// checkpoints that no `latest` named.
    public let removedStaleFiles: [String]

    private var lockDescriptor: Int32
    private var checkpoints: [String: Checkpoint.Summary]

    /// Opens `url` (creating it if needed) for one run and takes its lock.
    public init(_ url: URL, mode: OpenMode = .new, retention: Retention = .all, metadata: [String: String] = [:]) throws {
        if let keepLast = retention.keepLast, keepLast < 1 {
            throw AxonError.invalidValue(operation: "RunDirectory", reason: "keepLast must be at least 1, got \(keepLast)")
        }
        if let best = retention.keepBest, best.count < 1 {
            throw AxonError.invalidValue(operation: "RunDirectory", reason: "keepBest's count must be at least 1, got \(best.count)")
        }
        (self.url, self.retention, self.metadata) = (url, retention, metadata)
        if case .resume = mode, !FileManager.default.fileExists(atPath: url.path) {
            throw AxonError.file(path: url.path, reason: "holds no checkpoint to resume from (it does not exist)")
        }
        try FileAccess.prepareDirectory(url)
        lockDescriptor = try Self.lock(url)
        do {
            var stale = try FileAccess.removeStaleTemporaryFiles(in: url)
            var names = try Self.checkpointNames(in: url)
            if !FileManager.default.fileExists(atPath: url.appendingPathComponent(Self.latestFileName).path) {
                // Checkpoints that no `latest` ever named: a first save killed between its two renames.
                for name in names { try FileAccess.remove(url.appendingPathComponent(name)) }
                stale += names
                names = []
            }
            removedStaleFiles = stale
            switch mode {
            case .new:
                if !names.isEmpty {
                    throw AxonError.file(
                        path: url.path,
                        reason: "already holds checkpoints of an earlier run (\(names.count), the newest \(try Self.latestCheckpoint(in: url)?.lastPathComponent ?? "unknown")); resume that run or overwrite it (axon train: --resume DIR or --overwrite)")
                }
            case .overwrite:
                for name in names { try FileAccess.remove(url.appendingPathComponent(name)) }
                try FileAccess.remove(url.appendingPathComponent(Self.latestFileName))
                try FileAccess.syncDirectory(url)
            case .resume:
                guard try Self.latestCheckpoint(in: url) != nil else {
                    throw AxonError.file(path: url.path, reason: "holds no checkpoint to resume from")
                }
            }
            checkpoints = [:]
            for name in try Self.checkpointNames(in: url) {
                checkpoints[name] = try? Checkpoint.summary(of: url.appendingPathComponent(name))
            }
        } catch {
            Self.unlock(lockDescriptor)
            throw error
        }
    }

    deinit { close() }

    /// Releases the directory's lock; the object can no longer save.
    public func close() {
        Self.unlock(lockDescriptor)
        lockDescriptor = -1
    }

    /// The checkpoint `latest` names, or nil when there is none.
    public var latest: URL? {
        get throws { try Self.latestCheckpoint(in: url) }
    }

    /// Saves `state` as a new checkpoint, makes it `latest`, applies the retention policy and
    /// returns the checkpoint's location.
    @discardableResult
    public func save(_ state: LoopState) throws -> URL {
        guard lockDescriptor >= 0 else {
            throw AxonError.invalidValue(operation: "RunDirectory.save", reason: "\(url.path) was closed")
        }
        let name = state.iteration == 0
            ? "checkpoint_epoch_\(state.epoch).\(Checkpoint.fileExtension)" : "checkpoint_step_\(state.step).\(Checkpoint.fileExtension)"
        let file = url.appendingPathComponent(name)
        try Checkpoint.save(state, metadata: metadata, to: file)
        try FileAccess.writeAtomically(Data("\(name)\n".utf8), to: url.appendingPathComponent(Self.latestFileName))
        checkpoints[name] = Checkpoint.Summary(
            epoch: state.epoch, iteration: state.iteration, step: state.step,
            lastEpochMetrics: state.iteration == 0 ? state.history.last ?? [:] : [:], history: state.history, metadata: metadata)
        let removed = Set(checkpoints.keys).subtracting(kept(latest: name))
        for old in removed.sorted() {
            try FileAccess.remove(url.appendingPathComponent(old))
            checkpoints[old] = nil
        }
        if !removed.isEmpty { try FileAccess.syncDirectory(url) }
        return file
    }

    /// The checkpoints the retention policy keeps.
    private func kept(latest: String) -> Set<String> {
        guard retention.keepLast != nil || retention.keepBest != nil else { return Set(checkpoints.keys) }
        var kept: Set<String> = [latest]
        if let keepLast = retention.keepLast {
            kept.formUnion(checkpoints.sorted { $0.value.step > $1.value.step }.prefix(keepLast).map(\.key))
        }
        if let best = retention.keepBest {
            let ranked = checkpoints.compactMap { name, summary -> (name: String, value: Double, step: Int)? in
                guard summary.iteration == 0, let value = summary.lastEpochMetrics[best.metric], !value.isNaN else { return nil }
                return (name, best.mode == .min ? value : -value, summary.step)
            }
            kept.formUnion(ranked.sorted { ($0.value, $0.step) < ($1.value, $1.step) }.prefix(best.count).map(\.name))
        }
        return kept
    }

    /// The checkpoint that `latest` in `directory` names, or nil when there is no `latest`;
    /// reads without taking the lock (for evaluating a run that is still going).
    public static func latestCheckpoint(in directory: URL) throws -> URL? {
        let pointer = directory.appendingPathComponent(latestFileName)
        guard FileManager.default.fileExists(atPath: pointer.path) else { return nil }
        let name = String(decoding: try FileAccess.read(pointer, upTo: 256), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard isCheckpointName(name) else {
            throw AxonError.file(path: pointer.path, reason: "does not name a checkpoint file (it holds '\(name.prefix(80))')")
        }
        let checkpoint = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw AxonError.file(path: pointer.path, reason: "names \(name), which does not exist")
        }
        return checkpoint
    }

    private static func isCheckpointName(_ name: String) -> Bool {
        name.hasPrefix("checkpoint_") && name.hasSuffix(".\(Checkpoint.fileExtension)") && !name.contains("/")
    }

    private static func checkpointNames(in directory: URL) throws -> [String] {
        try FileAccess.fileNames(in: directory).filter(isCheckpointName)
    }

    /// Takes the directory's lock, or throws naming the process that holds it.
    private static func lock(_ directory: URL) throws -> Int32 {
        let path = directory.appendingPathComponent(lockFileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileAccess.failure(path, "cannot create the lock file") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? nil : FileAccess.reasonInWords(errno)
            var holder = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &holder, holder.count, 0)
            closeDescriptor(descriptor)
            if let reason { throw AxonError.file(path: path, reason: "cannot lock the run directory: \(reason)") }
            let pid = Int(String(decoding: holder.prefix(Swift.max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            throw AxonError.file(
                path: directory.path,
                reason: "is in use by another training run (\(pid.map { "process \($0)" } ?? "a process that is starting")); wait for it to end or use another directory")
        }
        let pid = Data("\(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0, pid.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) == pid.count else {
            let error = FileAccess.failure(path, "cannot write the lock file")
            unlock(descriptor)
            throw error
        }
        return descriptor
    }

    private static func unlock(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        closeDescriptor(descriptor)
    }
}

/// `close(2)`, reachable by that name where ``RunDirectory/close()`` shadows it.
private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
