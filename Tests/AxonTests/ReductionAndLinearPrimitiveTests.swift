import AxonCore
import Backend
import Testing

@Suite("Reference backend: reductions and matrix products")
struct ReductionAndLinearPrimitiveTests {
    let x: Tensor

    init() throws {
        x = try tensor([1, 5, 3, 4, 2, 6], [2, 3])
    }

    @Test("reductions over chosen axes")
    func reductions() throws {
        try expectClose(x.sum(), [21], shape: [])
        try expectClose(x.sum(axes: [0]), [5, 7, 9], shape: [3])
        try expectClose(x.sum(axes: [1], keepDimensions: true), [9, 12], shape: [2, 1])
        try expectClose(x.mean(axes: [-1]), [3, 4])
        try expectClose(x.max(axes: [0]), [4, 5, 6])
        try expectClose(x.min(axes: [1]), [1, 2])
        try expectClose(x.product(axes: [1]), [15, 48])
        try expectClose(x.sum(axes: []), [1, 5, 3, 4, 2, 6], shape: [2, 3])
    }

    @Test("max and min propagate NaN; sums of empty sets are 0")
    func specialValues() throws {
        try expectClose(tensor([1, .nan, 3], [3]).max(), [.nan])
        try expectClose(tensor([1, .nan, 3], [3]).min(), [.nan])
        try expectClose(tensor([], [0, 2]).sum(axes: [0]), [0, 0], shape: [2])
    }

    @Test("integer sums")
    func integerSum() throws {
        let labels = try Tensor(integers: [1, 2, 3, 4], shape: [2, 2], on: backend)
        #expect(try labels.sum(axes: [0]).array.elements == .int32([4, 6]))
    }

    @Test("argmax and argmin pick the first extreme")
    func argReductions() throws {
        let y = try tensor([3, 7, 7, 1, 0, 0], [2, 3])
        #expect(try y.argmax(axis: 1).array.elements == .int32([1, 0]))
        #expect(try y.argmin(axis: 1).array.elements == .int32([0, 1]))
        #expect(try y.argmax(axis: 0).array.elements == .int32([0, 0, 0]))
        #expect(try y.argmax(axis: 1, keepDimensions: true).shape == [2, 1])
    }

    @Test("matmul with every transpose combination")
    func matmulTransposes() throws {
        let a = try tensor([1, 2, 3, 4, 5, 6], [2, 3])
        let b = try tensor([7, 8, 9, 10, 11, 12], [3, 2])
        // [[1,2,3],[4,5,6]] · [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
        try expectClose(a.matmul(b), [58, 64, 139, 154], shape: [2, 2])
        let aT = try a.transposed(), bT = try b.transposed()
        try expectClose(aT.matmul(b, transposeSelf: true), [58, 64, 139, 154])
        try expectClose(a.matmul(bT, transposeOther: true), [58, 64, 139, 154])
        try expectClose(aT.matmul(bT, transposeSelf: true, transposeOther: true), [58, 64, 139, 154])
    }

    @Test("batched matmul broadcasts batch axes")
    func batchedMatmul() throws {
        let a = try tensor([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2])
        let b = try tensor([1, 2, 3, 4], [2, 2])
        try expectClose(a.matmul(b), [1, 2, 3, 4, 2, 4, 6, 8], shape: [2, 2, 2])
    }

    @Test("large matmul agrees with a naive triple loop")
    func blockedMatmul() throws {
        // Sizes that exercise the four-row kernel, remainders, blocks and both threads.
        let (m, k, n) = (67, 300, 530)
        let a = try sample([m, k], seed: 1), b = try sample([k, n], seed: 2)
        let (av, bv) = (try a.scalars, try b.scalars)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total: Double = 0
                for p in 0..<k { total += Double(av[i * k + p]) * Double(bv[p * n + j]) }
                expected[i * n + j] = Float(total)
            }
        }
        try expectClose(a.matmul(b), expected, atol: 1e-4, rtol: 1e-4)
    }

    @Test("matmul shape errors name both shapes")
    func matmulErrors() throws {
        let message = errorMessage { _ = try tensor([1, 2, 3, 4, 5, 6], [2, 3]).matmul(try tensor([1, 2], [2, 1])) }
        #expect(message == "matmul: shape mismatch: inner dimensions differ: [2, 3] · [2, 1] has 3 vs 2")
        #expect(throws: BackendError.self) { try tensor([1, 2], [2]).matmul(try tensor([1, 2], [2, 1])) }
    }
}
