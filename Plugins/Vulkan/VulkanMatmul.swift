#if Vulkan
import Backend

/// One operand of the strided GEMM shader: where element (row, column) of batch `b` lives.
struct MatrixView {
    var offset = 0
    var batchStride = 0
    var rowStride: Int
    var columnStride: Int

    var words: [UInt32] { [offset, batchStride, rowStride, columnStride].map { UInt32($0) } }
}

extension VulkanBackend {
    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        let geometry = try ShapeRules.matmul(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        let batch = geometry.batch.elementCount
        let (left, leftStride) = try batchOperand(a, geometry.batch)
        let (right, rightStride) = try batchOperand(b, geometry.batch)
        let (m, n, k) = (geometry.m, geometry.n, geometry.k)
        // A stored as [m, k] (or [k, m] when transposed); likewise B.
        let viewA = MatrixView(batchStride: leftStride, rowStride: transposeA ? 1 : k, columnStride: transposeA ? m : 1)
        let viewB = MatrixView(batchStride: rightStride, rowStride: transposeB ? 1 : n, columnStride: transposeB ? k : 1)
        let output = try makeBuffer(geometry.output, .float32)
        try gemm(m: m, n: n, k: k, batch: batch, left, viewA, right, viewB, output, MatrixView(batchStride: m * n, rowStride: n, columnStride: 1))
        return output
    }

    /// Records `C = activation(A · B + bias)`, or `C += A · B` when `accumulate`, for `batch`
    /// matrices given as strided views; `bias` has one value per column of C, `biasBatchStride`
    /// apart between batches. `k == 0` gives the epilogue of zeros.
    func gemm(
        m: Int, n: Int, k: Int, batch: Int, _ a: Buffer, _ viewA: MatrixView, _ b: Buffer, _ viewB: MatrixView,
        _ c: Buffer, _ viewC: MatrixView, bias: Buffer? = nil, biasBatchStride: Int = 0, activation: FusedActivation = .identity,
        accumulate: Bool = false
    ) throws {
        guard m > 0, n > 0, batch > 0 else { return }
        guard batch <= 65_535 else {
            throw BackendError.invalidArgument(operation: "matmul", reason: "the vulkan backend supports at most 65,535 batch matrices, got \(batch)")
        }
        let push = [UInt32(m), UInt32(n), UInt32(k)] + viewA.words + viewB.words + viewC.words.prefix(3) + [UInt32(biasBatchStride)]
        let activationCode = UInt32(FusedActivation.allCases.firstIndex(of: activation)!)
        try run(
            "matmul", constants: [bias == nil ? 0 : 1, activationCode, accumulate ? 1 : 0], inputs: [a, b, bias ?? a], outputs: [c], push: push,
            groups: (UInt32((n + 63) / 64), UInt32((m + 63) / 64), UInt32(batch)))
    }

    /// The operand with its batch axes equal to `batch` (materialised when it broadcasts
    /// partially), and the element stride between its matrices (0 for a single matrix).
    private func batchOperand(_ x: Buffer, _ batch: Shape) throws -> (Buffer, Int) {
        let matrix = x.shape.dimensions.suffix(2).reduce(1, *)
        let own = Shape(Array(x.shape.dimensions.dropLast(2)))
        if own.elementCount == 1 { return (x, 0) }
        if own == batch { return (x, matrix) }
        let full = Shape(batch.dimensions + x.shape.dimensions.suffix(2))
        return (try broadcast(x, to: full), matrix)
    }
}
#endif
