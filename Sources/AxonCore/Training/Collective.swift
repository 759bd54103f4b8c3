/// The collective operations of data-parallel training over a group of processes (ranks).
///
/// The `Distributed` module implements it over MPI (`MPICommunicator`); the training loop uses
/// only this protocol, so `AxonCore` does not depend on MPI. Every rank must call each operation
/// in the same order with the same element counts, as MPI requires. An implementation throws
/// when a peer fails rather than waiting for it forever.
public protocol Collective: AnyObject, Sendable {
    /// This process's rank, in `0..<size`.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Replaces `values` on every rank by their elementwise sum over all ranks.
    func allReduceSum(_ values: inout [Float]) throws
    /// Replaces `values` on every rank by their elementwise sum over all ranks.
    func allReduceSum(_ values: inout [Double]) throws
    /// Replaces `bytes` on every rank by rank `root`'s (every rank passes the same count).
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws
    /// Every rank's `bytes` (every rank passes the same count), in rank order.
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Returns once every rank has called it.
    func barrier() throws
    /// Whether the operations may be called from any thread, one at a time (MPI's
    /// `MPI_THREAD_SERIALIZED`); then the trainer reduces gradients on a thread of its own while
    /// the backward pass runs. `false` unless an implementation says otherwise.
    var callableFromAnyThread: Bool { get }
}

extension Collective {
    /// `false`: the operations are called from the training thread only.
    public var callableFromAnyThread: Bool { false }
}

/// How ``Loop/trainer(model:loss:optimizer:on:seed:frozen:initialState:lossScaling:dataParallel:)``
/// trains one model on several ranks: each rank runs the step on its share of every batch, and
/// the gradients are averaged over the ranks (weighted by each share's examples) before every
/// rank applies the same update.
///
/// Each rank's dropout masks are its rows of the global batch's masks. With
/// ``synchronizesBatchStatistics``, batch normalisation uses the global batch's statistics too,
/// and N ranks with batch B train like one process with batch N·B, up to the order of
/// floating-point sums; without it (the default, as PyTorch's `DistributedDataParallel`), each
/// rank normalises over its own part, which is faster and trains as well.
///
/// ```swift
/// let communicator = try MPICommunicator.world()   // import Distributed; launched by mpirun
/// let loop = try Loop.trainer(model: model, loss: loss, optimizer: .adam(learningRate: 1e-3), on: backend,
///                             dataParallel: DataParallel(communicator))
/// let batches = try train.batches(size: 64 * communicator.size, shuffle: true, seed: 1, on: backend)
///     .shard(communicator.rank, of: communicator.size)
/// ```
public struct DataParallel: Sendable {
    /// The ranks.
    public let collective: any Collective
    /// The most bytes of gradients one all-reduce carries; larger models take several.
    public var bucketBytes: Int
    /// What else every rank must agree on, checked with the model when training starts: the
    /// data, its order and the optimizer's settings, for example (`axon train` gives its run
    /// configuration).
    public var settings: String
    /// Whether batch normalisation in training normalises over the global batch (two small
    /// all-reduces per layer forward and two backward, like PyTorch's `SyncBatchNorm`, computed
    /// from elementwise operations rather than the backend's fused normalisation) rather than
    /// over each rank's part (the default, as `DistributedDataParallel`'s).
    public var synchronizesBatchStatistics: Bool
    /// How long the training steps' collective operations ran and waited (for benchmarks).
    public let clock = CommunicationClock()

    /// Data parallelism over `collective`, reducing gradients in buckets of `bucketBytes`, with
    /// batch statistics over the global batch when `synchronizesBatchStatistics`; training
    /// refuses to start unless every rank gives the same `settings`.
    public init(
        _ collective: any Collective, bucketBytes: Int = 16 << 20, synchronizesBatchStatistics: Bool = false, settings: String = ""
    ) {
        self.collective = collective
        self.bucketBytes = Swift.max(bucketBytes, 4)
        self.settings = settings
        self.synchronizesBatchStatistics = synchronizesBatchStatistics
    }
}
