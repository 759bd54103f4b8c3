// swift run -c release Benchmarks [--quick] [--output DIR] [--backends a,b]: every workload on
// every linked backend (or those listed); scripts/bench.sh adds JAX and PyTorch beside them.
import AxonBackends
import AxonBenchmarks

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
/// The value after `flag`, if the flag is given with one.
func value(after flag: String) -> String? {
    arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
LinkedBackends.register()
if let backend = value(after: "--rss") {
    try BenchmarkSuite.runChild(backend: backend, quick: quick)
} else {
    let output = value(after: "--output") ?? ".build/bench"
    let only = value(after: "--backends").map { $0.split(separator: ",").map(String.init) }
    try BenchmarkSuite.run(quick: quick, output: output, childArguments: [], only: only)
}
