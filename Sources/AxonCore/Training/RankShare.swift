import Backend

/// One rank's part of a data-parallel step's global batch: which examples are its own, and the
/// ranks to combine batch statistics with. Layers see it through ``LayerContext`` so that N
/// ranks compute what one process computes on the whole batch: batch normalisation over the
/// global batch, dropout masks that are this rank's rows of the global batch's mask.
struct RankShare {
    /// The ranks' collective operations, in order with the step's gradient reductions.
    let queue: CollectiveQueue
    /// The index of this rank's first example in the global batch.
    let start: Int
    /// This rank's examples.
    let examples: Int
    /// The global batch's examples (every rank's together).
    let total: Int
    /// Whether batch normalisation uses the global batch's statistics.
    let synchronizesBatchStatistics: Bool

    /// Every rank's part of one step's batch from their example counts (one all-gather), the
    /// ranks' parts in rank order as ``DatasetBatches/shard(_:of:)`` cuts them.
    init(_ parallel: DataParallel, queue: CollectiveQueue, examples: Int) throws {
        let counts = try queue.run { try $0.allGather(Self.bytes(examples)) }.map(Self.count)
        self.queue = queue
        start = counts.prefix(parallel.collective.rank).reduce(0, +)
        self.examples = examples
        total = counts.reduce(0, +)
        synchronizesBatchStatistics = parallel.synchronizesBatchStatistics
    }

    private static func bytes(_ count: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt64(count).littleEndian) { Array($0) }
    }

    private static func count(_ bytes: [UInt8]) -> Int {
        Int(truncatingIfNeeded: bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
}

extension Tensor {
    /// This `float32` tensor summed elementwise over the ranks, differentiably.
    ///
    /// Each rank differentiates its own mean loss, so a cotangent here is in that rank's units;
    /// the gradient of the global batch's mean loss reaching this rank's input is the sum of
    /// every rank's cotangent weighted by its examples, and dividing by this rank's examples
    /// puts it back in this rank's units (the trainer weights the ranks' parameter gradients
    /// by their examples again when it averages them).
    func summedOverRanks(_ share: RankShare) throws -> Tensor {
        let queue = share.queue
        func allReduced(_ tensor: Tensor, weight: Double) throws -> Tensor {
            var values = try tensor.scalars.map { Double($0) * weight }
            values = try queue.run { collective in
                var reduced = values
                try collective.allReduceSum(&reduced)
                return reduced
            }
            return try Tensor(values.map { Float($0 / weight) }, shape: tensor.shape, on: tensor.backend)
        }
        let summed = try allReduced(self, weight: 1)
        let weight = Double(Swift.max(share.examples, 1))
        return Tensor.record(summed.buffer, on: backend, inputs: [self]) { cotangent, _, _ in
            [try allReduced(cotangent, weight: weight)]
        }
    }
}
