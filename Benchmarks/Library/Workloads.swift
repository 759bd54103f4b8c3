import AxonCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The workloads, named as in `Benchmarks/peers/peers.py` so the report can match them.
enum Workloads {
    static let peakRSSName = "MLP training process peak RSS"

    /// How a row turns its timed calls into one figure.
    enum Statistic {
        /// The median call: steady on a quiet machine.
        case median
        /// All calls' wall time over their count: beside competing work the scheduler's lost
        /// slices fall on a few calls, which a median leaves out and a user's run does not.
        case throughput

        /// The typical seconds of one call among `times` (not empty).
        func seconds(_ times: [Double]) -> Double {
            switch self {
            case .median: times.sorted()[times.count / 2]
            case .throughput: times.reduce(0, +) / Double(times.count)
            }
        }
    }

    /// The statistic of the rows measured in this task: throughput in contended runs.
    @TaskLocal static var statistic = Statistic.median

    /// One row of the report: its name and how to measure it.
    struct Row {
        let workload: String
        let unit: String
        let higherIsBetter: Bool
        let measure: () throws -> Double?
    }

    /// Measures the rows whose names contain one of `filters` (case-insensitive; all when `nil`).
    static func run(on backend: any Backend, quick: Bool, filters: [String]? = nil) throws -> [Measurement] {
        try rows(on: backend, quick: quick).compactMap { row in
            guard filters?.contains(where: { row.workload.localizedCaseInsensitiveContains($0) }) ?? true,
                let value = try row.measure()
            else { return nil }
            return Measurement(workload: row.workload, value: value, unit: row.unit, higherIsBetter: row.higherIsBetter)
        }
    }

    /// Every row, in report order.
    static func rows(on backend: any Backend, quick: Bool) -> [Row] {
        var rows: [Row] = []
        for size in quick ? [64, 128] : [512, 1024, 2048] {
            let flops = 2 * pow(Double(size), 3)
            rows.append(Row(workload: "matmul \(size)³", unit: "GFLOPS", higherIsBetter: true) {
                flops / (try matmulSeconds(size: size, dtype: .float32, on: backend, repeats: quick ? 3 : 7)) / 1e9
            })
            #if OneDNN
            if backend.name == "onednn" {
                rows.append(Row(workload: "matmul \(size)³ through the protocol vs a direct oneDNN call", unit: "%", higherIsBetter: true) {
                    let seconds = try matmulSeconds(size: size, dtype: .float32, on: backend, repeats: quick ? 3 : 7)
                    return DirectOneDNN.matmulSeconds(size: size, threads: onednnThreads(backend), repeats: quick ? 3 : 7).map { 100 * $0 / seconds }
                })
            }
            #endif
        }
        let batch = quick ? 4 : 64
        for dtype in [DType.float32, .bfloat16] {
            let suffix = dtype == .float32 ? "" : " (bf16)"
            rows.append(Row(workload: "conv forward N\(batch) 28² 32→64 3×3\(suffix)", unit: "GFLOPS", higherIsBetter: true) {
                2.0 * Double(batch * 28 * 28 * 64 * 9 * 32) / (try convolutionSeconds(batch: batch, dtype: dtype, on: backend, repeats: quick ? 2 : 5)) / 1e9
            })
        }
        // bfloat16 beside float32, in the same run: the product and the training steps under the bfloat16 policy.
        let bf16Size = quick ? 128 : 1024
        rows.append(Row(workload: "matmul \(bf16Size)³ (bf16)", unit: "GFLOPS", higherIsBetter: true) {
            2 * pow(Double(bf16Size), 3) / (try matmulSeconds(size: bf16Size, dtype: .bfloat16, on: backend, repeats: quick ? 3 : 7)) / 1e9
        })
        let mlpBatch = quick ? 16 : 128
        rows.append(Row(workload: "MLP 784-128-10 training step, batch \(mlpBatch), Adam", unit: "steps/s", higherIsBetter: true) {
            try mlpTraining(on: backend, batch: mlpBatch, steps: quick ? 3 : 300)
        })
        rows.append(Row(workload: "MLP 784-128-10 training step, batch \(mlpBatch), Adam (eager)", unit: "steps/s", higherIsBetter: true) {
            try trainingSteps(mlp, inputShape: [mlpBatch, 784], optimizer: .adam(learningRate: 1e-3), on: backend, steps: quick ? 3 : 300, compiled: false)
        })
        rows.append(Row(workload: "MLP 784-128-10 training step, batch \(mlpBatch), Adam (bf16)", unit: "steps/s", higherIsBetter: true) {
            try trainingSteps(try mlp.applyingPolicy(.bfloat16), inputShape: [mlpBatch, 784], optimizer: .adam(learningRate: 1e-3), on: backend, steps: quick ? 3 : 300)
        })
        let cnnBatch = quick ? 4 : 64
        rows.append(Row(workload: "CNN training step, batch \(cnnBatch), SGD momentum", unit: "steps/s", higherIsBetter: true) {
            try cnnTraining(on: backend, batch: cnnBatch, steps: quick ? 2 : 30)
        })
        rows.append(Row(workload: "CNN training step, batch \(cnnBatch), SGD momentum (bf16)", unit: "steps/s", higherIsBetter: true) {
            try trainingSteps(try cnn.applyingPolicy(.bfloat16), inputShape: [cnnBatch, 28, 28, 1], optimizer: .sgd(learningRate: 0.01, momentum: 0.9), on: backend, steps: quick ? 2 : 30)
        })
        rows.append(Row(workload: "LSTM 32→128, sequence 50, batch 32 training step, Adam", unit: "steps/s", higherIsBetter: true) {
            try trainingSteps(lstm, inputShape: [32, 50, 32], optimizer: .adam(learningRate: 1e-3), on: backend, steps: quick ? 2 : 30)
        })
        let inferenceBatch = quick ? 32 : 1024
        rows.append(Row(workload: "MLP inference, batch \(inferenceBatch)", unit: "batches/s", higherIsBetter: true) {
            try mlpInference(on: backend, batch: inferenceBatch, repeats: quick ? 3 : 300, compiled: true)
        })
        rows.append(Row(workload: "MLP inference, batch \(inferenceBatch) (eager)", unit: "batches/s", higherIsBetter: true) {
            try mlpInference(on: backend, batch: inferenceBatch, repeats: quick ? 3 : 300, compiled: false)
        })
        let geluSize = quick ? 64 : 1024
        for compiled in [true, false] {
            rows.append(Row(workload: "GELU (tanh) of \(geluSize)×\(geluSize), 9 elementwise ops" + (compiled ? "" : " (eager)"), unit: "ms", higherIsBetter: false) {
                try geluSeconds(on: backend, size: geluSize, repeats: quick ? 3 : 50, compiled: compiled) * 1e3
            })
        }
        rows.append(Row(workload: "tiny-op dispatch (1-element add)", unit: "µs", higherIsBetter: false) {
            try tinyOp(on: backend, repeats: quick ? 100 : 20_000) * 1e6
        })
        rows.append(Row(workload: "dispatch round trip (1-element add, then download)", unit: "µs", higherIsBetter: false) {
            try roundTrip(on: backend, repeats: quick ? 20 : 2_000) * 1e6
        })
        return rows
    }

    /// The threads the onednn backend uses, as its device description gives them ("(2 threads)").
    static func onednnThreads(_ backend: any Backend) -> Int {
        let words = backend.deviceDescription.split(separator: " ")
        return words.firstIndex(of: "threads)").flatMap { $0 > 0 ? Int(words[$0 - 1].dropFirst()) : nil }
            ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// The typical seconds of a `size`³ product of `dtype` matrices.
    static func matmulSeconds(size: Int, dtype: DType, on backend: any Backend, repeats: Int) throws -> Double {
        let a = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 1), on: backend).cast(to: dtype)
        let b = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 2), on: backend).cast(to: dtype)
        return try typicalSeconds(repeats: repeats) {
            _ = try backend.matmul(a.buffer, b.buffer, transposeA: false, transposeB: false)
            try backend.synchronize()
        }
    }

    /// The typical seconds of a 3×3, 32→64-channel convolution over a batch of 28² `dtype` images.
    static func convolutionSeconds(batch: Int, dtype: DType, on backend: any Backend, repeats: Int) throws -> Double {
        let input = try Initializer.uniform().tensor(shape: [batch, 28, 28, 32], key: Philox.Key(seed: 3), on: backend).cast(to: dtype)
        let kernel = try Initializer.uniform().tensor(shape: [3, 3, 32, 64], key: Philox.Key(seed: 4), on: backend).cast(to: dtype)
        let descriptor = ConvolutionDescriptor(padding: [Padding(1, 1), Padding(1, 1)])
        return try typicalSeconds(repeats: repeats) {
            _ = try backend.convolution(input.buffer, kernel: kernel.buffer, descriptor: descriptor)
            try backend.synchronize()
        }
    }

    static var mlp: Axon { Axon.input("features", shape: [nil, 784]).dense(128, activation: .relu).dense(10) }

    static var cnn: Axon {
        Axon.input("features", shape: [nil, 28, 28, 1])
            .conv(32, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .conv(64, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dropout(rate: 0.25).dense(10)
    }

    /// The sequence classifier of the LSTM row: its last output into 10 classes.
    static var lstm: Axon { Axon.input("features", shape: [nil, 50, 32]).lstm(128).last.dense(10) }

    static func mlpTraining(on backend: any Backend, batch: Int, steps: Int) throws -> Double {
        try trainingSteps(mlp, inputShape: [batch, 784], optimizer: .adam(learningRate: 1e-3), on: backend, steps: steps)
    }

    static func cnnTraining(on backend: any Backend, batch: Int, steps: Int) throws -> Double {
        try trainingSteps(cnn, inputShape: [batch, 28, 28, 1], optimizer: .sgd(learningRate: 0.01, momentum: 0.9), on: backend, steps: steps)
    }

    /// Steps per second (the typical step time, the first step excluded) on random data, with the
    /// trainer's steps compiled (its default) or all eager.
    static func trainingSteps(
        _ model: Axon, inputShape: Shape, optimizer: Optimizer, on backend: any Backend, steps: Int, compiled: Bool = true
    ) throws -> Double {
        let x = try Initializer.uniform(minimum: 0, maximum: 1).tensor(shape: inputShape, key: Philox.Key(seed: 5), on: backend)
        let labels = try Tensor(integers: (0..<inputShape[0]).map { Int32($0 % 10) }, shape: [inputShape[0]], on: backend)
        let loop = try Loop.trainer(model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: optimizer, on: backend)
        loop.compilation?.isEnabled = compiled
        var times: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        loop.handle(.iterationCompleted) { _ in
            let now = DispatchTime.now().uptimeNanoseconds
            times.append(Double(now - last) / 1e9)
            last = now
            return .proceed
        }
        _ = try loop.run(Array(repeating: Batch(inputs: ["features": x], targets: labels), count: steps + 1), epochs: 1)
        return 1 / statistic.seconds(Array(times.dropFirst()))
    }

    /// Batches per second through ``BuiltModel/compiled()`` or the eager ``BuiltModel/predict(_:inputs:randomKey:)``.
    static func mlpInference(on backend: any Backend, batch: Int, repeats: Int, compiled: Bool) throws -> Double {
        let built = try mlp.build(on: backend)
        let fast = built.compiled()
        let state = try built.initialize(seed: 0)
        let x = try Initializer.uniform(minimum: 0, maximum: 1).tensor(shape: [batch, 784], key: Philox.Key(seed: 6), on: backend)
        let seconds = try typicalSeconds(repeats: repeats) {
            _ = try (compiled ? fast.predict(state, inputs: ["features": x]) : built.predict(state, inputs: ["features": x])).output()
            try backend.synchronize()
        }
        return 1 / seconds
    }

    /// Mean seconds of a 1-element tensor addition through the `Tensor` API.
    static func tinyOp(on backend: any Backend, repeats: Int) throws -> Double {
        let a = try Tensor([1], on: backend), b = try Tensor([2], on: backend)
        _ = try a + b
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { _ = try a + b }
        try backend.synchronize()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
    }

    /// Typical seconds of the tanh approximation of GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`,
    /// over a `size`² matrix, written as nine elementwise operations: replayed by a compiled
    /// function (one fused program where the backend runs programs) or eagerly, one pass per operation.
    static func geluSeconds(on backend: any Backend, size: Int, repeats: Int, compiled: Bool) throws -> Double {
        let x = try Initializer.uniform(minimum: -3, maximum: 3).tensor(shape: [size, size], key: Philox.Key(seed: 5), on: backend)
        let gelu = CompiledFunction { arguments, _ in
            guard let x = arguments["x"] else { return [:] }
            let inner = try ((x * x * x * 0.044715 + x) * 0.797_884_6).tanh()
            return ["y": try (inner + 1) * x * 0.5]
        }
        // The first two calls trace the function and check the plan.
        for _ in 0..<2 { _ = try gelu(["x": x]) }
        return try typicalSeconds(repeats: repeats) {
            _ = try compiled ? gelu(["x": x]) : gelu.eager(["x": x])
            try backend.synchronize()
        }
    }

    /// Mean seconds of a 1-element addition whose result is read back at once: for an
    /// asynchronous backend, a submission and a wait for the device each time.
    static func roundTrip(on backend: any Backend, repeats: Int) throws -> Double {
        let a = try Tensor([1], on: backend), b = try Tensor([2], on: backend)
        _ = try (a + b).item()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { _ = try (a + b).item() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
    }

    /// This process's peak resident set in megabytes: `VmHWM` from `/proc/self/status` where
    /// there is one, because `getrusage`'s `ru_maxrss` of a spawned child also counts the memory
    /// it shared with its (larger) parent before `exec`.
    static func peakResidentMegabytes() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        {
            return kilobytes / 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Runs this executable with `arguments` (its peak-RSS child mode) and reads the number it prints.
    static func childPeakRSS(arguments: [String]) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The typical wall time of `repeats` runs of `body` (``statistic``), after one warm-up run.
    static func typicalSeconds(repeats: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return statistic.seconds(times)
    }
}
