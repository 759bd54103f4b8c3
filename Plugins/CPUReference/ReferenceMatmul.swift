import Backend

extension ReferenceBackend {
    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        let geometry = try ShapeRules.matmul(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        let left = try a.floats("matmul"), right = try b.floats("matmul")
        let (m, n, k) = (geometry.m, geometry.n, geometry.k)
        let batchA = Shape(Array(a.shape.dimensions.dropLast(2)))
        let batchB = Shape(Array(b.shape.dimensions.dropLast(2)))
        // Matrix offsets of each operand for every batch element, following broadcasting.
        var offsetsA: [Int] = [], offsetsB: [Int] = []
        forEachElement(geometry.batch, batchA.broadcastStrides(to: geometry.batch), batchB.broadcastStrides(to: geometry.batch)) {
            _, i, j, _ in
            offsetsA.append(i * m * k)
            offsetsB.append(j * k * n)
        }
        // Transposed operands are copied once into row-major scratch space.
        let scratchA = transposeA ? UnsafeMutablePointer<Float>.allocate(capacity: m * k) : nil
        let scratchB = transposeB ? UnsafeMutablePointer<Float>.allocate(capacity: k * n) : nil
        defer {
            scratchA?.deallocate()
            scratchB?.deallocate()
        }
        return makeBuffer(geometry.output, .float32, as: Float.self) { out in
            for (batch, (offsetA, offsetB)) in zip(offsetsA, offsetsB).enumerated() {
                var pa = UnsafePointer(left.baseAddress! + offsetA)
                var pb = UnsafePointer(right.baseAddress! + offsetB)
                if let scratchA {
                    transpose(pa, rows: k, columns: m, ld: m, into: scratchA)
                    pa = UnsafePointer(scratchA)
                }
                if let scratchB {
                    transpose(pb, rows: n, columns: k, ld: k, into: scratchB)
                    pb = UnsafePointer(scratchB)
                }
                Gemm(m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: out.baseAddress! + batch * m * n, ldc: n).run()
            }
        }
    }
}
