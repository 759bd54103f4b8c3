// swift run -c release Benchmarks [--quick] [--output DIR] [--backends a,b]: every workload on
// every linked backend (or those listed); scripts/bench.sh adds JAX and PyTorch beside them.
import AxonBenchmarks

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
try BenchmarkSuite.registerBackends()
if let index = arguments.firstIndex(of: "--rss"), index + 1 < arguments.count {
    try BenchmarkSuite.runChild(backend: arguments[index + 1], quick: quick)
} else {
    let output = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] } ?? ".build/bench"
    let only = arguments.firstIndex(of: "--backends").map { arguments[$0 + 1].split(separator: ",").map(String.init) }
    try BenchmarkSuite.run(quick: quick, output: output, childArguments: [], only: only)
}
