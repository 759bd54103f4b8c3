import ArgumentParser
import AxonCore
import AxonData
import Distributed
import Foundation

/// `axon bench-distributed`: under an MPI launcher, the all-reduce bandwidth for 1–64 MB and the
/// data-parallel training throughput of the MLP and CNN recipes, with the share of each step
/// spent communicating. `scripts/bench-distributed.sh` runs it at 1 process × 2 threads and
/// 2 processes × 1 thread.
struct DistributedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-distributed",
        abstract: "Time all-reduce and data-parallel training on the processes an MPI launcher started.",
        discussion: """
            Examples:
              mpirun -np 2 axon bench-distributed --backend onednn --threads 1
              mpirun -np 1 --bind-to none axon bench-distributed --backend onednn --threads 2
            """)

    @OptionGroup var backendOptions: BackendOptions
    @Flag(help: "Tiny sizes, for a smoke run.") var quick = false
    @Option(name: .customLong("batch-size"), help: "Examples per process in each training step.") var batchSize = 64

    func run() throws {
        try runReportingErrors(onFailure: { MPICommunicator.abortWorld(1) }) {
            let world = try MPICommunicator.world()
            let backend = try backendOptions.resolve()
            let timed = TimedCollective(world)
            func say(_ line: String) { if world.rank == 0 { print(line) } }
            say("world: \(world.size) processes on \(backend.name) (\(backend.deviceDescription)); \(MPICommunicator.libraryVersion)")
            say("")
            if world.size > 1 {
                say("| all-reduce of float32 | median time | algorithm bandwidth | bus bandwidth |")
                say("|---|---|---|---|")
            } else {
                say("one process: no all-reduce to time")
            }
            for megabytes in world.size > 1 ? (quick ? [1] : [1, 4, 16, 64]) : [] {
                var values = [Float](repeating: 1, count: megabytes << 18)
                try world.allReduceSum(&values)  // warm-up: connections and buffers
                var times: [Double] = []
                for _ in 0..<(quick ? 2 : 7) {
                    try world.barrier()
                    let start = Date()
                    try world.allReduceSum(&values)
                    times.append(Date().timeIntervalSince(start))
                }
                let median = times.sorted()[times.count / 2]
                let bytes = Double(megabytes << 20)
                // A ring all-reduce moves 2(N−1)/N of the buffer through each link (NCCL's "bus bandwidth").
                let bus = bytes * 2 * Double(world.size - 1) / Double(world.size) / median
                say(String(format: "| %d MB | %.2f ms | %.2f GB/s | %.2f GB/s |", megabytes, median * 1e3, bytes / median / 1e9, bus / 1e9))
            }
            say("")
            say("| training (\(batchSize) examples per process) | samples/s | time communicating | hidden behind backward |")
            say("|---|---|---|---|")
            let data = try Digits.generate(count: quick ? 512 : 4_096, seed: 1)
            for (recipe, synchronized) in [(ModelName.mnistMLP, false), (.mnistCNN, false), (.mnistCNN, true)] {
                let batches = try data.batches(size: batchSize * world.size, shuffle: true, seed: 1, on: backend).shard(world.rank, of: world.size)
                let parallel = DataParallel(timed, synchronizesBatchStatistics: synchronized)
                let loop = try Loop.trainer(
                    model: recipe.model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 1e-3),
                    on: backend, dataParallel: parallel)
                _ = try loop.run(batches, epochs: 1, iterations: 2)  // warm-up: primitives, pools
                timed.reset()
                parallel.clock.reset()
                let start = Date()
                _ = try loop.run(batches, epochs: 1)
                let seconds = Date().timeIntervalSince(start)
                // Every collective call (metrics too), and the share of the steps' own that ran behind the backward pass.
                var shares = [timed.seconds / seconds, parallel.clock.hidden]
                try world.allReduceSum(&shares)
                let examples = Double(batches.batchCount * batchSize * world.size)
                let ranks = Double(world.size)
                say(String(format: "| %@ | %.0f | %.1f%% | %.0f%% |", recipe.rawValue + (synchronized ? " (synchronised batch norm)" : ""), examples / seconds, 100 * shares[0] / ranks, 100 * shares[1] / ranks))
            }
        }
    }
}

/// A collective that adds up the time its calls take.
final class TimedCollective: Collective, @unchecked Sendable {
    let base: any Collective
    private(set) var seconds: Double = 0

    init(_ base: any Collective) { self.base = base }

    var rank: Int { base.rank }
    var size: Int { base.size }
    var callableFromAnyThread: Bool { base.callableFromAnyThread }

    func reset() { seconds = 0 }

    private func timed<T>(_ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        return try body()
    }

    func allReduceSum(_ values: inout [Float]) throws { try timed { try base.allReduceSum(&values) } }
    func allReduceSum(_ values: inout [Double]) throws { try timed { try base.allReduceSum(&values) } }
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws { try timed { try base.broadcast(&bytes, from: root) } }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { try timed { try base.allGather(bytes) } }
    func barrier() throws { try timed { try base.barrier() } }
}
