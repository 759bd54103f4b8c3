import Dispatch
import Foundation

/// How long a data-parallel trainer's collective operations ran, and how much of that time its
/// steps waited for them: the rest was hidden behind the backward pass.
public final class CommunicationClock: @unchecked Sendable {
    private let lock = NSLock()
    private var communicatingTotal: Double = 0
    private var waitingTotal: Double = 0

    /// A clock at zero.
    public init() {}

    /// Seconds the collective operations of training steps took.
    public var communicating: Double { lock.withLock { communicatingTotal } }
    /// Seconds the steps waited for them (the communication not hidden).
    public var waiting: Double { lock.withLock { waitingTotal } }
    /// The share of the communication that ran while the step computed, in `0...1`.
    public var hidden: Double {
        lock.withLock { communicatingTotal > 0 ? Swift.max(0, 1 - waitingTotal / communicatingTotal) : 0 }
    }

    /// Starts counting again from zero.
    public func reset() { lock.withLock { (communicatingTotal, waitingTotal) = (0, 0) } }

    func add(communicating seconds: Double) { lock.withLock { communicatingTotal += seconds } }
    func add(waiting seconds: Double) { lock.withLock { waitingTotal += seconds } }
}

/// One rank's collective operations during a step, run one after another on a thread of their
/// own in the order they are asked for: every rank asks in the same order (the same graph runs
/// backwards the same way), as MPI requires, and the step goes on computing while they run.
/// A collective that must be called from the training thread runs each operation at once.
final class CollectiveQueue: @unchecked Sendable {
    let collective: any Collective
    let clock: CommunicationClock
    private let queue = DispatchQueue(label: "axon.collective")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: (any Error)?

    init(_ collective: any Collective, clock: CommunicationClock) {
        self.collective = collective
        self.clock = clock
    }

    /// Starts `work` after everything asked for before it; ``wait()`` returns when it is done.
    func start(_ work: @escaping @Sendable (any Collective) throws -> Void) {
        guard collective.callableFromAnyThread else {
            record { try timed(work) }
            return
        }
        queue.async(group: group) { [self] in
            guard lock.withLock({ failure == nil }) else { return }  // a peer is gone: do not wait on it again
            record { try timed(work) }
        }
    }

    /// Runs `work` after everything asked for before it and returns its result.
    func run<T>(_ work: (any Collective) throws -> T) throws -> T {
        let begin = Date()
        defer { clock.add(waiting: Date().timeIntervalSince(begin)) }
        try rethrowFailure()
        guard collective.callableFromAnyThread else { return try timed(work) }
        return try queue.sync { try timed(work) }
    }

    /// Waits for everything started, throwing the first error one of them threw.
    func wait() throws {
        let begin = Date()
        group.wait()
        clock.add(waiting: Date().timeIntervalSince(begin))
        try rethrowFailure()
    }

    private func timed<T>(_ work: (any Collective) throws -> T) throws -> T {
        let begin = Date()
        defer { clock.add(communicating: Date().timeIntervalSince(begin)) }
        return try work(collective)
    }

    private func record(_ work: () throws -> Void) {
        do { try work() } catch { lock.withLock { if failure == nil { failure = error } } }
    }

    private func rethrowFailure() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}

/// Averages tensors over the ranks in buckets: a step's gradients while the backward pass still
/// runs (each joins a bucket as soon as it is final, and a full bucket's all-reduce starts at once
/// on the ``CollectiveQueue``; buckets fill in the order the gradients become final, which is
/// the same on every rank), and its model state after it.
final class RankAverage {
    private final class Bucket: @unchecked Sendable {
        var entries: [(name: String, tensor: Tensor)] = []
        var values: [Float] = []
    }

    private let queue: CollectiveQueue
    private let limit: Int
    private let weight: Float
    private let total: Float
    private var pending = Bucket()
    private var started: [Bucket] = []

    /// The sum over the ranks of each tensor times `weight`, divided by `total`, in buckets of
    /// at most `bucketBytes`.
    init(queue: CollectiveQueue, weight: Float, total: Float, bucketBytes: Int) {
        self.queue = queue
        limit = Swift.max(bucketBytes / 4, 1)
        self.weight = weight
        self.total = Swift.max(total, 1)
    }

    /// Takes a tensor that is final on this rank (a gradient of this rank's mean loss).
    func add(_ name: String, _ tensor: Tensor) throws {
        guard tensor.dtype == .float32 else {
            throw AxonError.invalidValue(operation: "data-parallel training", reason: "only float32 tensors can be averaged over ranks, got \(tensor.dtype) for '\(name)'")
        }
        let values = try tensor.scalars
        if !pending.values.isEmpty, pending.values.count + values.count > limit { startPending() }
        pending.entries.append((name, tensor))
        pending.values += weight == 1 ? values : values.map { $0 * weight }
        if pending.values.count >= limit { startPending() }
    }

    /// The averaged tensors (for gradients: those of the global batch's mean loss), once every
    /// bucket is reduced.
    func averaged() throws -> ParameterStore {
        if !pending.entries.isEmpty { startPending() }
        try queue.wait()
        var result = ParameterStore()
        for bucket in started {
            var offset = 0
            for (name, tensor) in bucket.entries {
                let count = tensor.count
                let values = bucket.values[offset..<(offset + count)].map { $0 / total }
                result[name] = try Tensor(values, shape: tensor.shape, on: tensor.backend)
                offset += count
            }
        }
        return result
    }

    private func startPending() {
        let bucket = pending
        started.append(bucket)
        pending = Bucket()
        queue.start { collective in try collective.allReduceSum(&bucket.values) }
    }
}
