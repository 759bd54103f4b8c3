import Dispatch
import Foundation

/// How many threads the reference backend's parallel loops use: one per core.
enum ReferenceThreads {
    static let count = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// Runs `body(i)` for `i` in `0..<iterations` across the cores and returns when all are done.
/// Callers give each iteration disjoint memory to write.
func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
    if iterations <= 1 {
        if iterations == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { escaping in
        nonisolated(unsafe) let work = escaping
        DispatchQueue.concurrentPerform(iterations: iterations) { work($0) }
    }
}
