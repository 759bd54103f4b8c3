import AxonCore
import Backend
import PropertyBased
import Testing

/// Properties of the shape rules and broadcasting over generated shapes: the results of the
/// reference backend against element-by-element definitions written here, the published
/// convolution size formula, and shape arithmetic that throws instead of trapping on sizes
/// that overflow.
@Suite("Shape rules and broadcasting, property-based")
struct ShapePropertyTests {
    /// Shapes of rank 0–4 with small sizes, 1 often, so that broadcasting happens.
    static let shapes = Gen.int(in: 1...3).array(of: 0...4).map { dims in dims.map { $0 == 3 ? 1 : $0 } }

    /// The row-major offsets of every coordinate of `shape`, first to last.
    static func coordinates(_ shape: [Int]) -> [[Int]] {
        shape.reduce([[]]) { prefixes, size in prefixes.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
    }

    /// The offset of `coordinate` (aligned to the right of `shape`'s axes) in a row-major
    /// `shape`, reading size-1 axes at 0: NumPy's broadcasting, written directly.
    static func offset(_ coordinate: [Int], in shape: [Int]) -> Int {
        let aligned = Array(coordinate.suffix(shape.count))
        return zip(aligned, shape).reduce(0) { total, pair in total * pair.1 + (pair.1 == 1 ? 0 : pair.0) }
    }

    @Test("broadcasting is symmetric, and an elementwise result reads each operand through its broadcast coordinates")
    func broadcastingMatchesTheDefinition() async throws {
        await propertyCheck(count: 200, input: Self.shapes, Self.shapes) { a, b in
            let forward = try? Shape.broadcast(Shape(a), Shape(b), operation: "test")
            let backward = try? Shape.broadcast(Shape(b), Shape(a), operation: "test")
            #expect(forward == backward)
            // NumPy: aligned from the right, each pair equal or one of them 1.
            let compatible = zip(a.reversed(), b.reversed()).allSatisfy { $0 == $1 || $0 == 1 || $1 == 1 }
            #expect((forward != nil) == compatible, "\(a) and \(b)")
            guard let result = forward else { return }
            #expect(result.rank == Swift.max(a.count, b.count))
            let x = try sample(Shape(a), seed: 1), y = try sample(Shape(b), seed: 2)
            let (xs, ys) = (try x.scalars, try y.scalars)
            let sum = try (x + y).scalars
            for (index, coordinate) in Self.coordinates(result.dimensions).enumerated() {
                #expect(sum[index] == xs[Self.offset(coordinate, in: a)] + ys[Self.offset(coordinate, in: b)])
            }
        }
    }

    @Test("a batched matrix product is the sum of products over the inner axis, batch axes broadcast")
    func matmulMatchesTheDefinition() async throws {
        let batch = Gen.int(in: 1...2).array(of: 0...2)
        let sizes = Gen.int(in: 1...4).array(of: 3)
        await propertyCheck(count: 60, input: batch, batch, sizes) { batchA, batchB, mnk in
            let (m, n, k) = (mnk[0], mnk[1], mnk[2])
            let (a, b) = (batchA + [m, k], batchB + [k, n])
            let geometry = try? ShapeRules.matmul(Shape(a), Shape(b), transposeA: false, transposeB: false)
            let batchCompatible = zip(batchA.reversed(), batchB.reversed()).allSatisfy { $0 == $1 || $0 == 1 || $1 == 1 }
            #expect((geometry != nil) == batchCompatible)
            guard let geometry else { return }
            let x = try sample(Shape(a), seed: 3), y = try sample(Shape(b), seed: 4)
            let (xs, ys, product) = (try x.scalars, try y.scalars, try x.matmul(y).scalars)
            #expect(try x.matmul(y).shape == geometry.output)
            for (index, coordinate) in Self.coordinates(geometry.output.dimensions).enumerated() {
                let (row, column, batchCoordinate) = (coordinate[coordinate.count - 2], coordinate[coordinate.count - 1], Array(coordinate.dropLast(2)))
                var expected: Float = 0
                for inner in 0..<k {
                    expected += xs[Self.offset(batchCoordinate + [row, inner], in: a)] * ys[Self.offset(batchCoordinate + [inner, column], in: b)]
                }
                #expect(Swift.abs(product[index] - expected) <= 1e-5, "\(a) · \(b) at \(coordinate)")
            }
        }
    }

    @Test("a convolution's output size is PyTorch's ⌊(L + p₀ + p₁ − d·(k − 1) − 1) / s⌋ + 1")
    func convolutionSizeFollowsThePublishedFormula() async throws {
        let geometry = Gen.int(in: 1...9).array(of: 6)  // length, kernel, stride, dilation, low and high padding
        await propertyCheck(count: 200, input: geometry) { g in
            let (length, kernel, stride, dilation, low, high) = (g[0] + 1, Swift.min(g[1], 5), Swift.min(g[2], 3), Swift.min(g[3], 3), g[4] - 1, g[5] - 1)
            let descriptor = ConvolutionDescriptor(strides: [stride], padding: [Padding(low, high)], kernelDilation: [dilation])
            let numerator = length + low + high - dilation * (kernel - 1) - 1
            let rule = try? ShapeRules.convolution(input: [2, length, 3], kernel: [kernel, 3, 4], descriptor: descriptor)
            #expect((rule != nil) == (numerator >= 0), "L \(length) k \(kernel) s \(stride) d \(dilation) p \(low),\(high)")
            guard let rule else { return }
            #expect(rule.output == [2, numerator / stride + 1, 4])
            let output = try sample([2, length, 3], seed: 5).convolution(kernel: try sample([kernel, 3, 4], seed: 6), descriptor: descriptor)
            #expect(output.shape == rule.output)
        }
    }

    @Test("sizes whose element count overflows are thrown errors, not traps, wherever a user can give them")
    func hugeSizesThrow() async throws {
        let huge = Gen.int(in: (Int.max / 8)...Int.max).array(of: 1...4)
        await propertyCheck(count: 200, input: huge, Self.shapes) { big, small in
            let x = try sample(Shape(small), seed: 7)
            #expect(throws: (any Error).self) { try x.reshaped(to: Shape(big + [8])) }
            #expect(throws: (any Error).self) { try Tensor.zeros(shape: Shape(big + [8]), on: backend) }
            #expect(throws: (any Error).self) { try x.broadcast(to: Shape(big + [8])) }
            #expect(throws: (any Error).self) {
                try ShapeRules.convolution(
                    input: [1, big[0], 1], kernel: [1, 1, 1], descriptor: ConvolutionDescriptor(padding: [Padding(Int.max / 2, Int.max / 2)]))
            }
            // Rules that only compare sizes answer either way.
            _ = try? Shape.broadcast(Shape(big), Shape(small), operation: "test")
            _ = try? ShapeRules.matmul(Shape(big + [2]), Shape([2] + big), transposeA: false, transposeB: false)
        }
    }
}
