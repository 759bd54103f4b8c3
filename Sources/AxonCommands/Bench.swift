import ArgumentParser
import AxonBenchmarks

/// `axon bench`: the benchmark workloads on every registered backend (see docs/benchmarks.md;
/// `scripts/bench.sh` also runs JAX and PyTorch beside them).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the benchmark workloads on every registered backend.",
        discussion: """
            Examples:
              axon bench --backends onednn --threads 2
              axon bench --quick --output /tmp/bench
              axon bench --backends onednn --threads 2 --contention busy
              axon bench --backends onednn --workloads "MLP,CNN" --contention process
            """)

    @Flag(help: "Tiny sizes, for a smoke run.") var quick = false
    @Option(help: "Where to write swift.json and swift.md.") var output = ".build/bench"
    @OptionGroup var settings: BackendSettings
    @Option(help: "Comma-separated backends to run (default: all registered).") var backends: String?
    @Option(help: "Comma-separated parts of workload names: run only the rows naming one (default: all).") var workloads: String?
    @Option(help: "Run every workload again beside competing work: busy (busy loops), syscalls (system-call loops) or process (a second multi-threaded training process), one per core.")
    var contention: Contention?
    @Option(help: .hidden) var rss: String?
    @Option(help: .hidden) var contender: Contention?

    func run() throws {
        try settings.apply()
        if let contender { try contender.run() }
        if let rss {
            try BenchmarkSuite.runChild(backend: rss, quick: quick)
            return
        }
        try runReportingErrors {
            try BenchmarkSuite.run(
                quick: quick, output: output, childArguments: ["bench"], only: backends?.split(separator: ",").map(String.init),
                workloads: workloads?.split(separator: ",").map(String.init), contention: contention)
        }
    }
}

/// `--contention` (and the contender child's `--contender`) take a kind by its name.
extension Contention: ExpressibleByArgument {}
