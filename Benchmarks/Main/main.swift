// swift run -c release Benchmarks [--quick] [--output DIR]: every workload on every linked
// backend; scripts/bench.sh adds JAX and PyTorch beside them.
import AxonBenchmarks

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
BenchmarkSuite.registerBackends()
if let index = arguments.firstIndex(of: "--rss"), index + 1 < arguments.count {
    try BenchmarkSuite.runChild(backend: arguments[index + 1], quick: quick)
} else {
    let output = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] } ?? ".build/bench"
    try BenchmarkSuite.run(quick: quick, output: output, childArguments: [])
}
