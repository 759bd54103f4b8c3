#if OneDNN
import CDNNL
import COneDNNKernels
import Dispatch
import Foundation
import Synchronization

/// How the oneDNN backend spreads an op over the cores. Every oneDNN primitive runs on one
/// thread (an OpenMP team of one); an op with enough work is cut along an axis of independent
/// items — a batch, a matrix's rows — into chunks, and the calling thread and the helper
/// threads of a ``ChunkPool`` claim the chunks one at a time until none is left.
///
/// Why not oneDNN's own OpenMP threads: OpenMP splits each primitive statically, one part per
/// thread, and every thread waits at the end of the primitive for the others, spinning. On a
/// machine with other work (a second training process, a build) the partner is often not
/// running, and a step of many primitives then waits out whole scheduler slices: the MLP
/// training step fell from ~500 to ~175 steps/s beside a second training process, below the
/// pure-Swift backend. With chunks claimed as they come, a thread that is not scheduled simply
/// takes no chunk, the threads that run do the work, and no thread spins for long.
struct WorkSharing: Sendable {
    /// The most threads one op uses (the backend's `threads` option; one per core by default).
    let threads: Int

    /// The least floating-point work worth a chunk of its own: below it, waking a helper
    /// (tens of µs on a virtual machine) costs about what the chunk would save.
    static let grain = 2_000_000

    init(threads: Int) { self.threads = Swift.max(1, threads) }

    /// How `items` independent items costing `operations` in all are cut: one chunk when the
    /// work is small, else up to two per thread, so that a thread that is held up leaves a
    /// chunk to the others rather than the whole of its share.
    func plan(items: Int, operations: Int) -> ChunkPlan {
        let chunks = threads > 1 && items > 1 ? Swift.max(1, Swift.min(items, 2 * threads, operations / Self.grain)) : 1
        return ChunkPlan(items: items, chunks: chunks)
    }

    /// Runs `body(i)` for every chunk `i` of `plan` — at once on several threads when there
    /// are several — and returns when all are done. Rethrows the first error a chunk threw.
    func forEach(_ plan: ChunkPlan, _ body: (Int) throws -> Void) throws {
        switch plan.count {
        case 0: return
        case 1: try body(0)
        default: try ChunkPool.shared.run(count: plan.count, width: threads, body)
        }
    }

    /// Runs `body` over the ranges of `plan(items:operations:)`, as ``forEach(_:_:)`` does.
    func forEachChunk(items: Int, operations: Int, _ body: (Range<Int>) throws -> Void) throws {
        let plan = plan(items: items, operations: operations)
        try forEach(plan) { try body(plan.range($0)) }
    }

    /// Makes oneDNN on the calling thread create and run primitives for one thread: OpenMP's
    /// thread count is per thread, so every thread that touches oneDNN sets it.
    static func singleThreadedOpenMP() {
        omp_set_num_threads(1)
    }
}

/// Consecutive ranges covering `0..<items`, of equal lengths but the last, so that a primitive
/// created for one length serves every chunk but the last.
struct ChunkPlan: Sendable {
    let items: Int
    /// The length of every range but the last.
    let length: Int
    /// The number of ranges.
    let count: Int

    init(items: Int, chunks: Int) {
        self.items = items
        length = items > 0 ? (items + chunks - 1) / chunks : 0
        count = items > 0 ? (items + length - 1) / length : 0
    }

    func range(_ chunk: Int) -> Range<Int> { chunk * length..<Swift.min(items, (chunk + 1) * length) }
}

/// The float32 parts of a gradient that chunks of a batch computed, added up in chunk order.
final class GradientParts {
    private let memory: UnsafeMutablePointer<Float>
    private let count: Int, elements: Int

    init(count: Int, elements: Int) {
        (self.count, self.elements) = (count, elements)
        memory = .allocate(capacity: Swift.max(1, count * elements))
    }

    deinit { memory.deallocate() }

    subscript(part: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(memory + part * elements) }

    /// Writes the sum of the parts, in part order, to `total`.
    func sum(into total: UnsafeMutablePointer<Float>) {
        total.initialize(repeating: 0, count: elements)
        for part in 0..<count {
            let values = memory + part * elements
            for index in 0..<elements { total[index] += values[index] }
        }
    }

    /// Writes the sum of the parts, rounded to bfloat16, to `total`.
    func sum(intoBFloat16 total: UnsafeMutablePointer<UInt16>) {
        let sum = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, elements))
        defer { sum.deallocate() }
        self.sum(into: sum)
        axon_bfloat16_from_float(UnsafeRawPointer(sum).assumingMemoryBound(to: UInt32.self), total, elements)
    }
}

/// Helper threads, one per core but one, that take chunks of one job at a time beside the
/// thread that posted it. A helper that finds no job, like a poster waiting for the helpers'
/// last chunks, looks again for up to 200 µs (ops of a step follow each other that closely,
/// and waking from a sleep costs tens of microseconds on a virtual machine) and then sleeps
/// until the next job, so an idle machine loses at most that much to it; on a crowded machine
/// (``Crowding``) both sleep at once. A job posted while another runs is done by its own
/// thread alone.
final class ChunkPool: @unchecked Sendable {
    static let shared = ChunkPool(helpers: Swift.max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// How long a helper looks for the next job, or a poster for the last chunks, before it sleeps.
    private static let spinNanoseconds: UInt64 = 200_000
    private static let crowding = Crowding(cores: ProcessInfo.processInfo.activeProcessorCount)

    /// Checks `ready` until it holds or the time to look is up (not at all on a crowded
    /// machine); returns whether it held, so that the caller sleeps only when it did not.
    static func lookFor(_ ready: () -> Bool) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + (crowding.isCrowded ? 0 : spinNanoseconds)
        while !ready() {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { return false }
        }
        return true
    }

    private let lock = NSLock()
    private var current: Job?
    private let posted = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let helpers: Int

    private init(helpers: Int) {
        self.helpers = helpers
        for _ in 0..<helpers {
            let thread = Thread { [unowned self] in self.help() }
            thread.stackSize = 1 << 20
            thread.name = "axon onednn helper"
            thread.start()
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count` on the calling thread and up to `width − 1`
    /// helpers, and returns when all are done.
    func run(count: Int, width: Int, _ body: (Int) throws -> Void) throws {
        try withoutActuallyEscaping(body) { escaping in
            let job = Job(count: count, width: width, body: escaping)
            let mine = lock.withLock { () -> Bool in
                guard current == nil else { return false }
                current = job
                return true
            }
            if mine {
                _ = posted.add(1, ordering: .releasing)
                for _ in 0..<Swift.min(helpers, width - 1) { wake.signal() }
            }
            while job.runOne() {}
            job.waitUntilDone()
            if mine { lock.withLock { current = nil } }
            try job.release()
        }
    }

    /// A helper's life: look for a job, take its chunks, look again for a while, then sleep.
    private func help() -> Never {
        var seen = 0
        while true {
            if !Self.lookFor({ posted.load(ordering: .acquiring) != seen }) { wake.wait() }
            seen = posted.load(ordering: .acquiring)
            if let job = lock.withLock({ current }), job.join() {
                while job.runOne() {}
            }
        }
    }
}

/// One posted job: its chunks, the helpers that joined it, and the first error.
private final class Job: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int, helpers: Int
    private var body: ((Int) throws -> Void)?
    private var claimed = 0, joined = 0
    private let finished = Atomic<Int>(0)
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)

    /// A job of `count` chunks for its poster and up to `width − 1` helpers.
    init(count: Int, width: Int, body: @escaping (Int) throws -> Void) {
        (self.count, self.helpers, self.body) = (count, width - 1, body)
    }

    /// Joins the job as a helper if it has room for one and chunks left.
    func join() -> Bool {
        lock.withLock {
            guard joined < helpers, claimed < count else { return false }
            joined += 1
            return true
        }
    }

    /// Claims and runs one chunk; false when none is left. The closure is released before the
    /// chunk counts as finished, so that none outlives ``ChunkPool/run(count:width:_:)``.
    func runOne() -> Bool {
        guard claimAndRun() else { return false }
        if finished.add(1, ordering: .acquiringAndReleasing).newValue == count { done.signal() }
        return true
    }

    private func claimAndRun() -> Bool {
        guard let (chunk, body) = lock.withLock({ () -> (Int, (Int) throws -> Void)? in
            guard claimed < count, let body else { return nil }
            claimed += 1
            return (claimed - 1, body)
        }) else { return false }
        do { try body(chunk) } catch { lock.withLock { if failure == nil { failure = error } } }
        return true
    }

    /// Waits until every chunk has run (each runs even after another failed: simpler than
    /// cancelling, and failures here are rare): looks for a while first, because the last
    /// chunks usually end within microseconds and waking from a sleep costs tens of them.
    func waitUntilDone() {
        if !ChunkPool.lookFor({ finished.load(ordering: .acquiring) == count }) { done.wait() }
    }

    /// Drops the closure (helpers may still hold the job) and rethrows a chunk's error.
    func release() throws {
        let error = lock.withLock { () -> (any Error)? in
            body = nil
            return failure
        }
        if let error { throw error }
    }
}
#endif
