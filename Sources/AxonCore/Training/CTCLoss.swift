import Backend

extension Losses {
    /// A log-probability that stands for zero in the CTC recursion: finite, so that neither the
    /// value nor its gradient meets `−∞ − (−∞)`, and far below any real path's log-probability.
    static let ctcLogZero: Float = -1e30

    /// Connectionist temporal classification (Graves et al., 2006), Axon's
    /// `connectionist_temporal_classification`, PyTorch's `ctc_loss` and optax's `ctc_loss`: the
    /// negative log-probability of `labels` summed over every alignment of them to the frames of
    /// `logits`, by the forward recursion in log space.
    ///
    /// - Parameters:
    ///   - logits: `[batch, time, classes]` unnormalised scores (log-softmaxed here).
    ///   - labels: `int32` `[batch, maximum label length]`, padded beyond each `labelLengths` entry.
    ///   - inputLengths: frames of each sequence (`1...time`); `nil` means all.
    ///   - labelLengths: labels of each sequence; `nil` means the whole row.
    ///   - blank: the blank class (0, as PyTorch and optax use).
    ///   - reduction: `.none` gives each sequence's loss; `.mean` divides each by its label
    ///     length (at least 1) and averages, as PyTorch's `mean`; `.sum` adds them.
    ///   - zeroInfinity: gives sequences that no alignment fits (too few frames) a loss of zero
    ///     instead of infinity. Either way their gradient is zero.
    public static func connectionistTemporalClassification(
        logits: Tensor, labels: Tensor, inputLengths: [Int]? = nil, labelLengths: [Int]? = nil, blank: Int = 0,
        reduction: Reduction = .mean, zeroInfinity: Bool = false
    ) throws -> Tensor {
        let problem = try CTCProblem(logits: logits, labels: labels, inputLengths: inputLengths, labelLengths: labelLengths, blank: blank)
        let backend = logits.backend
        let (batch, width) = (problem.batch, problem.extendedWidth)
        let logZero = try Tensor(ctcLogZero, on: backend)
        // emissions[b, t, s]: the log-probability of extended label s at frame t.
        let logProbabilities = try logits.logSoftmax(axis: -1)
        let emissions = try logProbabilities.matmul(Tensor(problem.extendedOneHot, shape: [batch, problem.classes, width], on: backend))
        let skipAllowed = try Tensor(problem.skipAllowed, shape: [batch, width], on: backend)
        var alpha = try emissions.sliced(axis: 1, 0..<1).reshaped(to: [batch, width]) + Tensor(problem.startMask, shape: [batch, width], on: backend)
        for t in 1..<problem.time {
            let column = try logZero.broadcast(to: [batch, 1])
            // Stay, advance by one, or skip a blank between two different labels.
            var terms = [alpha]
            if width >= 2 { terms.append(try Tensor.concatenate([column, alpha.sliced(axis: 1, 0..<(width - 1))], axis: 1)) }
            if width >= 3 {
                let shifted = try Tensor.concatenate([column, column, alpha.sliced(axis: 1, 0..<(width - 2))], axis: 1)
                terms.append(try skipAllowed.select(shifted, logZero))
            }
            let next = try logSumExp(terms) + emissions.sliced(axis: 1, t..<(t + 1)).reshaped(to: [batch, width])
            let running = try Tensor(problem.inputLengths.map { $0 > t }, shape: [batch, 1], on: backend)
            alpha = try running.select(next, alpha)
        }
        let ends = try Tensor(problem.endMask, shape: [batch, width], on: backend)
        let total = try logSumExp(alpha, ends: ends, logZero: logZero)
        // A total near ctcLogZero means no alignment fits.
        let feasible = try total.compare(.greater, ctcLogZero / 2)
        let perSequence = try feasible.select(-total, Tensor(zeroInfinity ? 0 : .infinity, on: backend))
        if reduction == .mean {
            let labelCounts = try Tensor(problem.labelLengths.map { Float(Swift.max($0, 1)) }, shape: [batch], on: backend)
            return try (perSequence / labelCounts).mean()
        }
        return try reduction.apply(perSequence)
    }

    /// `log Σ exp` of same-shaped tensors, elementwise, stable for finite inputs (the maximum is
    /// a constant shift, so it carries no gradient of its own).
    static func logSumExp(_ terms: [Tensor]) throws -> Tensor {
        let maximum = try terms.dropFirst().reduce(terms[0]) { try $0.maximum($1) }.detached()
        let total = try terms.dropFirst().reduce(try (terms[0] - maximum).exp()) { try $0 + ($1 - maximum).exp() }
        return try maximum + total.log()
    }

    /// `log Σ exp(alpha)` over the positions `ends` marks, per row.
    static func logSumExp(_ alpha: Tensor, ends: Tensor, logZero: Tensor) throws -> Tensor {
        let chosen = try ends.select(alpha, logZero)
        let maximum = try chosen.max(axes: [1], keepDimensions: true).detached()
        return try ((chosen - maximum).exp().sum(axes: [1], keepDimensions: true).log() + maximum).reshaped(to: [alpha.shape[0]])
    }
}

/// The host-side layout of a CTC problem: lengths checked, labels extended with blanks.
struct CTCProblem {
    let batch: Int, time: Int, classes: Int, extendedWidth: Int
    let inputLengths: [Int], labelLengths: [Int]
    /// `[batch, classes, 2·maxLabels + 1]`: column s is the one-hot of extended label s.
    let extendedOneHot: [Float]
    /// Where a path may skip from s − 2 to s (a label differing from the one before it).
    let skipAllowed: [Bool]
    /// 0 where a path may start (s ≤ 1), ctcLogZero elsewhere.
    let startMask: [Float]
    /// Where a path may end (s = 2L or 2L − 1).
    let endMask: [Bool]

    init(logits: Tensor, labels: Tensor, inputLengths: [Int]?, labelLengths: [Int]?, blank: Int) throws {
        let name = "connectionistTemporalClassification"
        guard logits.rank == 3, labels.rank == 2, labels.dtype == .int32, labels.shape[0] == logits.shape[0] else {
            throw AxonError.invalidValue(
                operation: name, reason: "needs logits [batch, time, classes] and int32 labels [batch, labels], got \(logits.shape) and \(labels.dtype) \(labels.shape)")
        }
        let (batch, time, classes) = (logits.shape[0], logits.shape[1], logits.shape[2])
        (self.batch, self.time, self.classes) = (batch, time, classes)
        let maximumLabels = labels.shape[1]
        guard time >= 1, classes >= 2, (0..<classes).contains(blank) else {
            throw AxonError.invalidValue(operation: name, reason: "needs at least one frame, two classes and a blank among them, got logits \(logits.shape), blank \(blank)")
        }
        let frames = inputLengths ?? Array(repeating: time, count: batch)
        let counts = labelLengths ?? Array(repeating: maximumLabels, count: batch)
        guard frames.count == batch, frames.allSatisfy({ (1...time).contains($0) }) else {
            throw AxonError.invalidValue(operation: name, reason: "needs \(batch) input lengths in 1...\(time), got \(frames)")
        }
        guard counts.count == batch, counts.allSatisfy({ (0...maximumLabels).contains($0) }) else {
            throw AxonError.invalidValue(operation: name, reason: "needs \(batch) label lengths in 0...\(maximumLabels), got \(counts)")
        }
        (self.inputLengths, self.labelLengths) = (frames, counts)
        guard case let .int32(values) = try labels.array.elements else { throw AxonError.invalidValue(operation: name, reason: "needs int32 labels") }
        let extendedWidth = 2 * maximumLabels + 1
        self.extendedWidth = extendedWidth
        var oneHot = [Float](repeating: 0, count: batch * classes * extendedWidth)
        var skip = [Bool](repeating: false, count: batch * extendedWidth)
        var start = [Float](repeating: Losses.ctcLogZero, count: batch * extendedWidth)
        var end = [Bool](repeating: false, count: batch * extendedWidth)
        for b in 0..<batch {
            let row = values[(b * maximumLabels)..<(b * maximumLabels + counts[b])].map(Int.init)
            if let bad = row.first(where: { !(0..<classes).contains($0) || $0 == blank }) {
                throw AxonError.invalidValue(operation: name, reason: "label \(bad) of sequence \(b) is not a class in 0..<\(classes) other than the blank \(blank)")
            }
            let extended = [blank] + row.flatMap { [$0, blank] } + Array(repeating: blank, count: 2 * (maximumLabels - row.count))
            for (s, label) in extended.enumerated() {
                oneHot[(b * classes + label) * extendedWidth + s] = 1
                skip[b * extendedWidth + s] = s >= 2 && label != blank && label != extended[s - 2]
            }
            start[b * extendedWidth] = 0
            if !row.isEmpty { start[b * extendedWidth + 1] = 0 }
            end[b * extendedWidth + 2 * row.count] = true
            if !row.isEmpty { end[b * extendedWidth + 2 * row.count - 1] = true }
        }
        (extendedOneHot, skipAllowed, startMask, endMask) = (oneHot, skip, start, end)
    }
}
