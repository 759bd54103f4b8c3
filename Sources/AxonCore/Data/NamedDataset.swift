import Backend

/// Examples in host memory as named arrays: inputs by model input name and targets by model
/// output name, every array with the examples along its first axis. For models with several
/// inputs or outputs; ``Dataset`` is the one-input, one-target case.
///
/// ```swift
/// let data = try NamedDataset(
///     inputs: ["image": images, "metadata": metadata],
///     targets: ["digit": digits, "parity": parities])
/// let batches = try data.batches(size: 32, shuffle: true, seed: 1, on: backend)
/// ```
public struct NamedDataset: Sendable {
    /// The input arrays by model input name.
    public let inputs: [String: HostArray]
    /// The target arrays by model output name.
    public let targets: [String: HostArray]

    /// A data set of named inputs and targets, every array with the same number of examples (first dimension); throws otherwise.
    public init(inputs: [String: HostArray], targets: [String: HostArray]) throws {
        guard !inputs.isEmpty, !targets.isEmpty else {
            throw AxonError.invalidValue(operation: "NamedDataset", reason: "needs at least one input and one target")
        }
        let all = inputs.map { ("input '\($0.key)'", $0.value) } + targets.map { ("target '\($0.key)'", $0.value) }
        let counts = Set(all.map { $0.1.shape.rank >= 1 ? $0.1.shape[0] : -1 })
        guard counts.count == 1, let count = counts.first, count >= 0 else {
            let shapes = all.sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1.shape)" }.joined(separator: ", ")
            throw AxonError.invalidValue(operation: "NamedDataset", reason: "every array needs the same number of examples along its first axis: \(shapes)")
        }
        self.inputs = inputs
        self.targets = targets
    }

    /// The number of examples.
    public var count: Int { inputs.first?.value.shape[0] ?? 0 }

    /// Batches of `size` examples as tensors on `backend`, shuffled every epoch as
    /// ``Dataset/batches(size:shuffle:seed:dropLast:inputName:on:)`` does.
    public func batches(size: Int, shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false, on backend: any Backend) throws -> NamedDatasetBatches {
        guard size > 0 else { throw AxonError.invalidValue(operation: "batches", reason: "batch size must be positive, got \(size)") }
        return NamedDatasetBatches(
            dataset: self, plan: BatchPlan(count: count, size: size, shuffle: shuffle, seed: seed, dropLast: dropLast), backend: backend.checked)
    }
}

/// The batches of a ``NamedDataset``.
public struct NamedDatasetBatches: BatchSource {
    let dataset: NamedDataset
    let plan: BatchPlan
    let backend: any Backend

    /// The number of batches in an epoch.
    public var batchCount: Int { plan.batchCount }

    /// Batch `index` of `epoch`, with inputs and targets by name.
    public func batch(_ index: Int, epoch: Int) throws -> Batch {
        let indices = try plan.indices(ofBatch: index, epoch: epoch)
        func tensors(_ arrays: [String: HostArray]) throws -> [String: Tensor] {
            try arrays.mapValues { try Tensor(Dataset.take($0, indices), on: backend) }
        }
        return try Batch(inputs: tensors(dataset.inputs), targets: tensors(dataset.targets))
    }
}
