import AxonCore
import Backend
import Testing

/// Lp, adaptive and padding-counting pooling against values derived by hand from their
/// published definitions (PyTorch's adaptive bins ⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉, LPPool's (Σxᵖ)^(1/p),
/// count_include_pad), and their gradients against finite differences.
@Suite("Pooling: Lp, adaptive, counting padding")
struct PoolingLayerTests {
    func run(_ model: Axon, _ values: [Float], _ shape: Shape) throws -> [Float] {
        let built = try model.build(on: backend)
        return try built.predict(built.initialize(seed: 0), inputs: ["x": tensor(values, shape)]).output().scalars
    }

    let row = Axon.input("x", shape: [nil, 5, 1])

    @Test("adaptive pools of 5 inputs into 3 bins: {1, 2}, {2, 3, 4}, {4, 5}")
    func adaptiveBins() throws {
        let x: [Float] = [1, 2, 3, 4, 5]
        #expect(try run(row.adaptiveAvgPool(outputSize: [3]), x, [1, 5, 1]) == [1.5, 3, 4.5])
        #expect(try run(row.adaptiveMaxPool(outputSize: [3]), x, [1, 5, 1]) == [2, 4, 5])
        #expect(try run(row.adaptiveLpPool(norm: 1, outputSize: [3]), x, [1, 5, 1]) == [3, 9, 9])
    }

    @Test("adaptive pooling to more outputs than inputs repeats inputs, as PyTorch's bins do")
    func adaptiveUpsampling() throws {
        // 2 inputs into 3 bins: {a}, {a, b}, {b}.
        let pair = Axon.input("x", shape: [nil, 2, 1])
        #expect(try run(pair.adaptiveAvgPool(outputSize: [3]), [2, 4], [1, 2, 1]) == [2, 3, 4])
    }

    @Test("adaptive pooling is separable over two spatial axes")
    func adaptiveTwoDimensional() throws {
        // A 2×4 grid into 1×2 bins: columns {0, 1} and {2, 3} over both rows.
        let grid = Axon.input("x", shape: [nil, 2, 4, 1])
        #expect(try run(grid.adaptiveAvgPool(outputSize: [1, 2]), [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4, 1]) == [3.5, 5.5])
    }

    @Test("Lp pooling is the p-norm of each window")
    func lpPool() throws {
        let four = Axon.input("x", shape: [nil, 4, 1])
        #expect(try run(four.lpPool(norm: 2, kernelSize: [2]), [3, 4, 6, 8], [1, 4, 1]) == [5, 10])
        let pair = Axon.input("x", shape: [nil, 2, 1])
        #expect(try run(pair.globalLpPool(norm: 2), [3, 4], [1, 2, 1]) == [5])
    }

    @Test("average pooling counts padding only when asked")
    func countPadding() throws {
        let three = Axon.input("x", shape: [nil, 3, 1])
        let padding = PaddingMode.explicit([Padding(0, 1)])
        // Windows {1, 2} and {3, padding}.
        #expect(try run(three.avgPool(kernelSize: [2], padding: padding), [1, 2, 3], [1, 3, 1]) == [1.5, 3])
        #expect(try run(three.avgPool(kernelSize: [2], padding: padding, countPadding: true), [1, 2, 3], [1, 3, 1]) == [1.5, 1.5])
    }

    @Test("gradients of the new pools match finite differences")
    func gradients() throws {
        let values: [Float] = (0..<30).map { 0.5 + Float(($0 * 7) % 11) / 10 }
        let x = try tensor(values, [1, 5, 6, 1])
        for model in [
            Axon.input("x", shape: [nil, 5, 6, 1]).adaptiveAvgPool(outputSize: [3, 4]),
            Axon.input("x", shape: [nil, 5, 6, 1]).adaptiveLpPool(norm: 3, outputSize: [2, 3]),
            Axon.input("x", shape: [nil, 5, 6, 1]).lpPool(norm: 2, kernelSize: [2], padding: .same),
            Axon.input("x", shape: [nil, 5, 6, 1]).avgPool(kernelSize: [2], padding: .same, countPadding: true),
        ] {
            let built = try model.build(on: backend)
            let state = try built.initialize(seed: 0)
            try checkGradients([x], atol: 3e-3) { xs in try built.predict(state, inputs: ["x": xs[0]]).output() }
        }
    }
}
