import Backend

/// A run of consecutive plan calls on one backend that read no setting and no per-run random
/// key, so that every run issues the very same device work on new data. On a backend that
/// records work (``Backend/recordWork(inputs:_:)``, Vulkan's command buffers) the plan records
/// the run once and afterwards submits the recording instead of making the calls.
final class RecordedSegment {
    /// The plan's calls the segment covers.
    let calls: Range<Int>
    let backend: any Backend
    /// The slots the calls read that were filled before the segment, as they are read, but
    /// for constants, which the recording reads where they are.
    let inputs: [Trace.View]
    /// The slots the calls fill that later calls or the plan's results read.
    let outputs: [Trace.View]
    /// Whether each output is a result of the plan, which must outlive the next run.
    let keeping: [Bool]
    /// The recording, once made.
    var work: (any RecordedWork)?

    private init(calls: Range<Int>, backend: any Backend, inputs: [Trace.View], outputs: [Trace.View], keeping: [Bool]) {
        self.calls = calls
        self.backend = backend
        self.inputs = inputs
        self.outputs = outputs
        self.keeping = keeping
    }

    /// Whether a call issues the same work on every run: it reads no setting and, if random,
    /// a key fixed when traced.
    static func replayable(_ call: Trace.Call) -> Bool {
        guard call.settings.isEmpty else { return false }
        switch call.key {
        case nil, .fixed?: return true
        case .folded?: return false
        }
    }

    /// The segments of `calls`: each longest run of at least two replayable calls on one
    /// backend, keyed by its first call.
    static func segments(of calls: [Trace.Call], sources: [Trace.Source], results: [Trace.View]) -> [Int: RecordedSegment] {
        var segments: [Int: RecordedSegment] = [:]
        var start = 0
        while start < calls.count {
            var end = start
            while end < calls.count, replayable(calls[end]), calls[end].backend.isSameBackend(as: calls[start].backend) {
                end += 1
            }
            if let segment = RecordedSegment(start..<end, of: calls, sources: sources, results: results) { segments[start] = segment }
            start = Swift.max(end, start + 1)
        }
        return segments
    }

    /// The segment of `range`, or `nil` when it is shorter than two calls or a slot crossing
    /// its boundary is read at two extents (a recording copies whole buffers in and out).
    convenience init?(_ range: Range<Int>, of calls: [Trace.Call], sources: [Trace.Source], results: [Trace.View]) {
        guard range.count >= 2 else { return nil }
        var inputs: [Int: Trace.View] = [:], inputOrder: [Int] = []
        var produced: [Int: Trace.View] = [:]
        for call in calls[range] {
            for view in call.inputs where produced[view.slot] == nil {
                if case .constant = sources[view.slot] { continue }
                if let seen = inputs[view.slot] {
                    guard Self.sameExtent(seen, view) else { return nil }
                } else {
                    inputs[view.slot] = view
                    inputOrder.append(view.slot)
                }
            }
            for view in call.outputs { produced[view.slot] = view }
        }
        let laterReads = calls[range.upperBound...].flatMap(\.inputs) + results
        var outputs: [Trace.View] = [], keeping: [Bool] = []
        for slot in produced.keys.sorted() {
            guard let view = produced[slot] else { continue }
            let reads = laterReads.filter { $0.slot == slot }
            guard !reads.isEmpty else { continue }
            guard reads.allSatisfy({ Self.sameExtent($0, view) }) else { return nil }
            outputs.append(view)
            keeping.append(results.contains { $0.slot == slot })
        }
        self.init(
            calls: range, backend: calls[range.lowerBound].backend, inputs: inputOrder.compactMap { inputs[$0] },
            outputs: outputs, keeping: keeping)
    }

    /// Whether two views of a slot cover the same elements.
    private static func sameExtent(_ a: Trace.View, _ b: Trace.View) -> Bool {
        a.dtype == b.dtype && a.shape.elementCount == b.shape.elementCount
    }

    /// The part of this segment before `call` and the part after it, each a segment if it is
    /// long enough: what is left to record when `call` cannot be recorded.
    func split(around call: Int, of calls: [Trace.Call], sources: [Trace.Source], results: [Trace.View]) -> [Int: RecordedSegment] {
        var parts: [Int: RecordedSegment] = [:]
        for range in [self.calls.lowerBound..<call, (call + 1)..<self.calls.upperBound] {
            if let part = RecordedSegment(range, of: calls, sources: sources, results: results) { parts[range.lowerBound] = part }
        }
        return parts
    }
}
