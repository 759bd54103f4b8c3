import Backend

/// One batch: named model inputs and the targets.
public struct Batch: Sendable {
    /// The model's inputs by name.
    public let inputs: [String: Tensor]
    /// The targets of a model with one output; with targets by output name, the first by name
    /// (every target has the batch's examples along its first axis).
    public let targets: Tensor
    /// Targets by output name, for models with several outputs (empty for one unnamed target).
    public let namedTargets: [String: Tensor]
    /// The smallest and largest target when the targets are `int32` class indices known on the
    /// host, so a trainer can check them against the model's classes without reading the device.
    public let targetRange: ClosedRange<Int32>?

    /// A batch of `inputs` by name and one `targets` tensor; `targetRange` is the valid range of integer targets, checked by losses that index with them.
    public init(inputs: [String: Tensor], targets: Tensor, targetRange: ClosedRange<Int32>? = nil) {
        self.inputs = inputs
        self.targets = targets
        self.namedTargets = [:]
        self.targetRange = targetRange
    }

    /// A batch with a target per model output, by output name.
    public init(inputs: [String: Tensor], targets: [String: Tensor]) throws {
        guard let first = targets.keys.sorted().first, let firstTarget = targets[first] else {
            throw AxonError.invalidValue(operation: "Batch", reason: "needs at least one named target")
        }
        self.inputs = inputs
        self.targets = firstTarget
        self.namedTargets = targets
        self.targetRange = nil
    }
}

/// Where a loop gets its batches: a count per epoch and each batch by index. Sources that
/// shuffle reorder by epoch, so a resumed run sees the same batches as an uninterrupted one.
public protocol BatchSource: Sendable {
    /// The number of batches in an epoch.
    var batchCount: Int { get }
    /// Batch `index` of epoch `epoch` (the epoch decides the order when the source shuffles).
    func batch(_ index: Int, epoch: Int) throws -> Batch
}

/// A fixed list of batches is a source that repeats them every epoch.
extension Array: BatchSource where Element == Batch {
    /// The number of batches.
    public var batchCount: Int { count }
    /// Batch `index`; the same in every epoch.
    public func batch(_ index: Int, epoch: Int) throws -> Batch { self[index] }
}

/// Examples in host memory: features `[N, ...]` and labels `[N, ...]`.
public struct Dataset: Sendable {
    /// The examples, with the example axis first.
    public let features: HostArray
    /// One label (or target row) per example.
    public let labels: HostArray

    /// A data set of `features` and `labels` with the same number of examples (first dimension); throws otherwise.
    public init(features: HostArray, labels: HostArray) throws {
        guard features.shape.rank >= 1, labels.shape.rank >= 1, features.shape[0] == labels.shape[0] else {
            throw AxonError.invalidValue(
                operation: "Dataset", reason: "features \(features.shape) and labels \(labels.shape) need the same number of examples")
        }
        self.features = features
        self.labels = labels
    }

    /// The number of examples.
    public var count: Int { features.shape[0] }

    /// Examples at `indices`, in that order.
    public func subset(_ indices: [Int]) throws -> Dataset {
        try Dataset(features: Dataset.take(features, indices), labels: Dataset.take(labels, indices))
    }

    /// The first `index` examples and the rest.
    public func split(at index: Int) throws -> (Dataset, Dataset) {
        let cut = Swift.min(Swift.max(index, 0), count)
        return (try subset(Array(0..<cut)), try subset(Array(cut..<count)))
    }

    /// Batches of `size` examples as tensors on `backend`, features under `inputName`.
    ///
    /// - Parameters:
    ///   - size: examples per batch (positive).
    ///   - shuffle: reorders the examples every epoch by a permutation drawn from Philox bits of
    ///     `seed` folded with the epoch number.
    ///   - seed: the key of the shuffling permutations.
    ///   - dropLast: leaves out a final batch smaller than `size`.
    ///   - inputName: the model input the features feed.
    ///   - backend: where the batches' tensors live.
    public func batches(
        size: Int, shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false, inputName: String = "features",
        on backend: any Backend
    ) throws -> DatasetBatches {
        guard size > 0 else { throw AxonError.invalidValue(operation: "batches", reason: "batch size must be positive, got \(size)") }
        return DatasetBatches(
            dataset: self, plan: BatchPlan(count: count, size: size, shuffle: shuffle, seed: seed, dropLast: dropLast), inputName: inputName,
            backend: backend.checked)
    }

    static func take(_ array: HostArray, _ indices: [Int]) throws -> HostArray {
        let row = array.shape.dimensions.dropFirst().reduce(1, *)
        let shape = Shape([indices.count] + array.shape.dimensions.dropFirst())
        func gather<T>(_ values: [T]) -> [T] { indices.flatMap { values[($0 * row)..<($0 * row + row)] } }
        switch array.elements {
        case let .float32(values): return try HostArray(shape: shape, elements: .float32(gather(values)))
        case let .bfloat16(values): return try HostArray(shape: shape, elements: .bfloat16(gather(values)))
        case let .int32(values): return try HostArray(shape: shape, elements: .int32(gather(values)))
        case let .uint32(values): return try HostArray(shape: shape, elements: .uint32(gather(values)))
        case let .bool(values): return try HostArray(shape: shape, elements: .bool(gather(values)))
        }
    }
}

/// The batches of a ``Dataset``; see ``Dataset/batches(size:shuffle:seed:dropLast:inputName:on:)``.
public struct DatasetBatches: BatchSource {
    let dataset: Dataset
    let plan: BatchPlan
    let inputName: String
    let backend: any Backend
    /// This process's part of every batch in data-parallel training (``shard(_:of:)``).
    var part: (rank: Int, count: Int)?

    /// The number of batches in an epoch.
    public var batchCount: Int {
        guard let part else { return plan.batchCount }
        // A final batch with fewer examples than ranks would leave some rank nothing.
        let last = plan.count - (plan.batchCount - 1) * plan.size
        return plan.batchCount - (plan.batchCount > 0 && last < part.count ? 1 : 0)
    }

    /// This rank's share of every batch, for data-parallel training (``DataParallel``): batch
    /// `i` holds the `rank`-th of `count` contiguous parts of the global batch `i`, whose sizes
    /// differ by at most one, so that over the ranks every example is seen once per epoch in the
    /// order one process would see it. A final batch with fewer examples than ranks is left out.
    /// Throws unless `rank` is in `0..<count` and a batch has at least `count` examples.
    public func shard(_ rank: Int, of count: Int) throws -> DatasetBatches {
        guard count >= 1, (0..<count).contains(rank) else {
            throw AxonError.invalidValue(operation: "shard", reason: "rank \(rank) is not one of \(count) ranks")
        }
        guard plan.size >= count else {
            throw AxonError.invalidValue(
                operation: "shard", reason: "a batch of \(plan.size) examples cannot be shared by \(count) ranks; use a batch of at least \(count)")
        }
        var sharded = self
        sharded.part = (rank, count)
        return sharded
    }

    /// The example order of `epoch`: a Fisher–Yates shuffle driven by Philox bits.
    public func order(epoch: Int) -> [Int] { plan.order(epoch: epoch) }

    /// Batch `index` of `epoch`, gathered from the data set in that epoch's order.
    public func batch(_ index: Int, epoch: Int) throws -> Batch {
        guard index < batchCount else {
            throw AxonError.invalidValue(operation: "batch", reason: "batch \(index) is out of range 0..<\(batchCount)")
        }
        var indices = try plan.indices(ofBatch: index, epoch: epoch)
        if let part {
            let bounds = (part.rank * indices.count / part.count, (part.rank + 1) * indices.count / part.count)
            indices = Array(indices[bounds.0..<bounds.1])
        }
        let subset = try dataset.subset(indices)
        var range: ClosedRange<Int32>?
        if case let .int32(labels) = subset.labels.elements, let first = labels.first {
            range = labels.reduce(first...first) { Swift.min($0.lowerBound, $1)...Swift.max($0.upperBound, $1) }
        }
        return Batch(
            inputs: [inputName: try Tensor(subset.features, on: backend)], targets: try Tensor(subset.labels, on: backend),
            targetRange: range)
    }
}

/// Which examples make up each batch of an epoch: shared by ``DatasetBatches`` and
/// ``NamedDatasetBatches``.
struct BatchPlan: Sendable {
    let count: Int
    let size: Int
    let shuffle: Bool
    let seed: UInt64
    let dropLast: Bool

    var batchCount: Int { count / size + (dropLast || count % size == 0 ? 0 : 1) }

    /// The example order of `epoch`: the identity, or a Fisher–Yates shuffle driven by Philox
    /// bits of `seed` folded with the epoch.
    func order(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        guard shuffle, order.count > 1 else { return order }
        let bits = Philox.bits(key: Philox.Key(seed: seed).folded(with: UInt64(epoch)), offset: 0, count: order.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int((UInt64(bits[i]) * UInt64(i + 1)) >> 32))
        }
        return order
    }

    /// The examples of batch `index` in `epoch`.
    func indices(ofBatch index: Int, epoch: Int) throws -> [Int] {
        guard index >= 0, index < batchCount else {
            throw AxonError.invalidValue(operation: "batch", reason: "batch \(index) is out of range 0..<\(batchCount)")
        }
        let start = index * size  // at most count, since index < batchCount
        return Array(order(epoch: epoch)[start..<(start + Swift.min(size, count - start))])
    }
}
