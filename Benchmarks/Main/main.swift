// swift run -c release Benchmarks [--quick] [--output DIR] [--backends a,b] [--workloads MLP,CNN]
//   [--contention busy|syscalls|process]:
// every workload on every linked backend (or those listed), and again beside competing work;
// scripts/bench.sh adds JAX and PyTorch beside them.
import AxonBackends
import AxonBenchmarks

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
/// The value after `flag`, if the flag is given with one.
func value(after flag: String) -> String? {
    arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
LinkedBackends.register()
if let kind = value(after: "--contender").flatMap(Contention.init(rawValue:)) {
    try kind.run()
} else if let backend = value(after: "--rss") {
    try BenchmarkSuite.runChild(backend: backend, quick: quick)
} else {
    let output = value(after: "--output") ?? ".build/bench"
    let only = value(after: "--backends").map { $0.split(separator: ",").map(String.init) }
    let workloads = value(after: "--workloads").map { $0.split(separator: ",").map(String.init) }
    let contention = try value(after: "--contention").map { kind in
        guard let parsed = Contention(rawValue: kind) else {
            throw BenchmarkArgumentError("--contention takes \(Contention.allCases.map(\.rawValue).joined(separator: ", ")), got '\(kind)'")
        }
        return parsed
    }
    try BenchmarkSuite.run(quick: quick, output: output, childArguments: [], only: only, workloads: workloads, contention: contention)
}

/// A command line the benchmark cannot run.
struct BenchmarkArgumentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
