import Axon
import Backend
import CPUReference
import Foundation
#if OneDNN
import OneDNN
#endif

/// Times the core kernels on each linked backend and prints medians. A benchmark, not a test:
/// run it with `swift run -c release Benchmarks [--quick]`.
@main
struct Benchmarks {
    static func main() throws {
        let quick = CommandLine.arguments.contains("--quick")
        ReferenceBackend.register()
        #if OneDNN
        OneDNNBackend.register()
        #endif
        for name in BackendRegistry.shared.availableNames {
            let backend = try BackendRegistry.shared.backend(named: name)
            print("backend: \(name) — \(backend.deviceDescription)")
            for size in quick ? [64, 128] : [256, 512, 1024, 2048] {
                let a = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 1), on: backend)
                let b = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 2), on: backend)
                let seconds = try median(repeats: quick ? 3 : 5) {
                    _ = try backend.matmul(a.buffer, b.buffer, transposeA: false, transposeB: false)
                    try backend.synchronize()
                }
                print(String(format: "  matmul %d³: %.2f ms, %.1f GFLOPS", size, seconds * 1e3, 2 * pow(Double(size), 3) / seconds / 1e9))
                #if OneDNN
                if name == "onednn", let direct = DirectOneDNN.matmulSeconds(size: size, repeats: quick ? 3 : 5) {
                    print(String(format: "    direct oneDNN call: %.1f GFLOPS; through the protocol: %.0f%% of it",
                                 2 * pow(Double(size), 3) / direct / 1e9, 100 * direct / seconds))
                }
                #endif
            }
            let batch = quick ? 4 : 64
            let input = try Initializer.uniform().tensor(shape: [batch, 28, 28, 32], key: Philox.Key(seed: 3), on: backend)
            let kernel = try Initializer.uniform().tensor(shape: [3, 3, 32, 64], key: Philox.Key(seed: 4), on: backend)
            let descriptor = ConvolutionDescriptor(padding: [Padding(1, 1), Padding(1, 1)])
            let seconds = try median(repeats: 3) {
                _ = try backend.convolution(input.buffer, kernel: kernel.buffer, descriptor: descriptor)
                try backend.synchronize()
            }
            let flops = 2.0 * Double(batch * 28 * 28 * 64 * 3 * 3 * 32)
            print(String(format: "  conv N%d 28² 32→64 3×3: %.2f ms, %.1f GFLOPS", batch, seconds * 1e3, flops / seconds / 1e9))
            let pool = WindowDescriptor(
                windowDimensions: [1, 2, 2, 1], strides: [1, 2, 2, 1], padding: Array(repeating: Padding(0, 0), count: 4))
            let poolSeconds = try median(repeats: 3) { _ = try backend.download(backend.window(.max, input.buffer, descriptor: pool)) }
            print(String(format: "  max pool N%d 28² C32 2×2: %.2f ms", batch, poolSeconds * 1e3))
            let scale = try Tensor.ones(shape: [1, 1, 1, 32], on: backend), offset = try Tensor.zeros(shape: [1, 1, 1, 32], on: backend)
            let normSeconds = try median(repeats: 3) {
                _ = try backend.download(backend.normalize(
                    input.buffer, scale: scale.buffer, offset: offset.buffer, descriptor: NormalizationDescriptor(axes: [0, 1, 2], epsilon: 1e-5)).output)
            }
            print(String(format: "  batch norm N%d 28² C32: %.2f ms", batch, normSeconds * 1e3))
            let mlp = Axon.input("features", shape: [nil, 784]).dense(128, activation: .relu).dense(10)
            let mlpRate = try trainingSteps(mlp, inputShape: [quick ? 16 : 128, 784], optimizer: .adam(learningRate: 1e-3), on: backend, repeats: quick ? 3 : 30)
            print(String(format: "  MLP 784-128-10 training step, batch %d, Adam: %.0f steps/s", quick ? 16 : 128, mlpRate))
            let cnn = Axon.input("features", shape: [nil, 28, 28, 1])
                .conv(32, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
                .conv(64, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
                .flatten().dropout(rate: 0.25).dense(10)
            let cnnRate = try trainingSteps(cnn, inputShape: [quick ? 4 : 64, 28, 28, 1], optimizer: .sgd(learningRate: 0.01, momentum: 0.9), on: backend, repeats: quick ? 2 : 5)
            print(String(format: "  CNN training step, batch %d, SGD momentum: %.1f steps/s", quick ? 4 : 64, cnnRate))
        }
    }

    /// Training steps per second (median step time) of `model` on random data with 10 classes.
    static func trainingSteps(_ model: Axon, inputShape: Shape, optimizer: Optimizer, on backend: any Backend, repeats: Int) throws -> Double {
        let x = try Initializer.uniform(minimum: 0, maximum: 1).tensor(shape: inputShape, key: Philox.Key(seed: 5), on: backend)
        let labels = try Tensor(integers: (0..<inputShape[0]).map { Int32($0 % 10) }, shape: [inputShape[0]], on: backend)
        let batch = Batch(inputs: ["features": x], targets: labels)
        let loop = try Loop.trainer(model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: optimizer, on: backend)
        var times: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        loop.handle(.iterationCompleted) { _ in
            let now = DispatchTime.now().uptimeNanoseconds
            times.append(Double(now - last) / 1e9)
            last = now
            return .proceed
        }
        _ = try loop.run(Array(repeating: batch, count: repeats + 1), epochs: 1)
        let steady = times.dropFirst().sorted()  // the first step creates primitives
        return 1 / steady[steady.count / 2]
    }

    /// The median wall time of `repeats` runs of `body`, after one warm-up run.
    static func median(repeats: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
