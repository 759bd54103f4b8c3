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
            for size in quick ? [64, 128] : [256, 512, 1024] {
                let a = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 1), on: backend)
                let b = try Initializer.uniform().tensor(shape: [size, size], key: Philox.Key(seed: 2), on: backend)
                let seconds = try median(repeats: quick ? 3 : 5) {
                    _ = try backend.download(backend.matmul(a.buffer, b.buffer, transposeA: false, transposeB: false))
                }
                print(String(format: "  matmul %d³: %.2f ms, %.1f GFLOPS", size, seconds * 1e3, 2 * pow(Double(size), 3) / seconds / 1e9))
            }
            let batch = quick ? 4 : 64
            let input = try Initializer.uniform().tensor(shape: [batch, 28, 28, 32], key: Philox.Key(seed: 3), on: backend)
            let kernel = try Initializer.uniform().tensor(shape: [3, 3, 32, 64], key: Philox.Key(seed: 4), on: backend)
            let descriptor = ConvolutionDescriptor(padding: [Padding(1, 1), Padding(1, 1)])
            let seconds = try median(repeats: 3) {
                _ = try backend.download(backend.convolution(input.buffer, kernel: kernel.buffer, descriptor: descriptor))
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
        }
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
