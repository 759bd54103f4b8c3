import CPeak
import Dispatch
import Foundation

/// The machine the benchmarks ran on: its processor and its float32 multiply-add peak, the
/// ceiling that the GFLOPS rows, and the ratios to the peers of workloads bound by arithmetic,
/// are read against (a product already at the peak cannot run faster in any framework).
struct Machine: Codable {
    /// The processor's model name from `/proc/cpuinfo`, or "unknown".
    let processor: String
    /// The threads the peak was measured on: one per core.
    let threads: Int
    /// Float32 GFLOPS of independent multiply-add chains on every thread at once, the best of three runs.
    let peakGFLOPS: Double

    /// Measures this machine (a fraction of a second; tiny with `quick`).
    static func measure(quick: Bool) -> Machine {
        let threads = Swift.max(ProcessInfo.processInfo.activeProcessorCount, 1)
        let iterations = quick ? 100_000 : 20_000_000  // 7.7 GFLOP a thread: ~70 ms at 110 GFLOPS a core
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in _ = axon_multiply_add_chains(iterations) }
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let operations = 384 * Double(iterations) * Double(threads)  // 12 chains × 16 lanes × 2 a round
        return Machine(processor: processorName(), threads: threads, peakGFLOPS: operations / best / 1e9)
    }

    private static func processorName() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let name = line.split(separator: ":", maxSplits: 1).last
        else { return "unknown" }
        return name.trimmingCharacters(in: .whitespaces)
    }
}

extension Machine: CustomStringConvertible {
    var description: String {
        String(format: "%@, float32 multiply-add peak %.0f GFLOPS on %d threads", processor, peakGFLOPS, threads)
    }
}
