import AxonCore
import Backend
import Testing

@Suite("Initializers")
struct InitializerTests {
    let key = Philox.Key(seed: 42)

    @Test("the same seed gives bit-identical values, different seeds differ")
    func determinism() throws {
        let all: [Initializer] = [
            .uniform(), .normal(), .glorotUniform, .glorotNormal, .heUniform, .heNormal, .lecunUniform,
            .lecunNormal, .varianceScaling(scale: 3, mode: .fanOut, distribution: .untruncatedNormal), .orthogonal(),
        ]
        for initializer in all {
            let a = try initializer.tensor(shape: [16, 8], key: key, on: backend)
            let b = try initializer.tensor(shape: [16, 8], key: key, on: backend)
            let c = try initializer.tensor(shape: [16, 8], key: Philox.Key(seed: 43), on: backend)
            let (va, vb, vc) = (try a.scalars, try b.scalars, try c.scalars)
            #expect(va.map(\.bitPattern) == vb.map(\.bitPattern), "\(initializer)")
            #expect(va != vc, "\(initializer)")
        }
    }

    @Test("Keras fan conventions")
    func fans() {
        #expect(Fans(shape: []) == Fans(shape: [1]))
        #expect(Fans(shape: [5]).fanIn == 5 && Fans(shape: [5]).fanOut == 5)
        #expect(Fans(shape: [3, 7]).fanIn == 3 && Fans(shape: [3, 7]).fanOut == 7)
        let conv = Fans(shape: [3, 3, 16, 32])
        #expect(conv.fanIn == 144 && conv.fanOut == 288)
    }

    func moments(_ values: [Float]) -> (mean: Double, variance: Double, maxAbs: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0) { $0 + Double($1) } / n
        let variance = values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance, values.map { Double(Swift.abs($0)) }.max() ?? 0)
    }

    @Test("variance-scaling distributions have the published variance scale/n")
    func varianceScaling() throws {
        let shape: Shape = [200, 300]
        // Glorot: scale 1, n = (200 + 300) / 2 → variance 0.004; He: scale 2, n = 200 → 0.01.
        let cases: [(Initializer, Double, Double?)] = [
            (.glorotUniform, 0.004, (3 * 0.004).squareRoot()),
            (.glorotNormal, 0.004, 2 * 0.004.squareRoot() / 0.87962566103423978),
            (.heUniform, 0.01, (3 * 0.01).squareRoot()),
            (.heNormal, 0.01, 2 * 0.01.squareRoot() / 0.87962566103423978),
            (.lecunUniform, 0.005, (3 * 0.005).squareRoot()),
            (.lecunNormal, 0.005, 2 * 0.005.squareRoot() / 0.87962566103423978),
            (.varianceScaling(scale: 1, mode: .fanOut, distribution: .untruncatedNormal), 1.0 / 300, nil),
        ]
        for (initializer, variance, bound) in cases {
            let stats = moments(try initializer.values(shape: shape, key: key))
            #expect(Swift.abs(stats.mean) < 0.02 * variance.squareRoot() * 10, "\(initializer) mean \(stats.mean)")
            #expect(Swift.abs(stats.variance / variance - 1) < 0.03, "\(initializer) variance \(stats.variance)")
            if let bound { #expect(stats.maxAbs <= bound * (1 + 1e-6), "\(initializer) bound") }
        }
    }

    @Test("uniform, normal, constants")
    func simpleDistributions() throws {
        let u = try Initializer.uniform(minimum: 2, maximum: 3).values(shape: [10_000], key: key)
        #expect(u.allSatisfy { $0 >= 2 && $0 < 3 })
        #expect(Swift.abs(moments(u).mean - 2.5) < 0.01)
        let n = moments(try Initializer.normal(mean: 1, standardDeviation: 2).values(shape: [40_000], key: key))
        #expect(Swift.abs(n.mean - 1) < 0.05 && Swift.abs(n.variance / 4 - 1) < 0.03)
        #expect(try Initializer.full(3).values(shape: [2], key: key) == [3, 3])
        #expect(try Initializer.zeros.values(shape: [2], key: key) == [0, 0])
        #expect(try Initializer.ones.values(shape: [1], key: key) == [1])
    }

    @Test("identity is a scaled eye and needs rank 2")
    func identity() throws {
        #expect(try Initializer.identity(gain: 2).values(shape: [2, 3], key: key) == [2, 0, 0, 0, 2, 0])
        let message = errorMessage { _ = try Initializer.identity().values(shape: [2, 2, 2], key: key) }
        #expect(message == "initializer identity cannot fill shape [2, 2, 2]: needs a rank-2 shape")
    }

    @Test("orthogonal matrices satisfy QᵀQ = gain²·I for tall and wide shapes")
    func orthogonal() throws {
        for (rows, columns) in [(6, 4), (4, 6), (5, 5)] {
            let q = try Initializer.orthogonal(gain: 1.5).values(shape: [rows, columns], key: key)
            let short = Swift.min(rows, columns)
            for i in 0..<short {
                for j in 0..<short {
                    // Columns are orthonormal for tall matrices, rows for wide ones.
                    var dot: Float = 0
                    for r in 0..<Swift.max(rows, columns) {
                        dot += rows >= columns ? q[r * columns + i] * q[r * columns + j] : q[i * columns + r] * q[j * columns + r]
                    }
                    #expect(Swift.abs(dot - (i == j ? 2.25 : 0)) < 1e-5)
                }
            }
        }
    }
}
