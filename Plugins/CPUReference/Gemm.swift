/// Row-major single-precision matrix product `C = A · B` (or `C += A · B`), where A is m×k with
/// row stride `lda`, B is k×n with row stride `ldb` and C is m×n with row stride `ldc`.
///
/// The loops are blocked so a panel of B stays in cache, and four rows of C are updated
/// together so each loaded row of B is used four times; the innermost loop runs over
/// contiguous columns and is vectorised by the compiler. Large products split their rows
/// across the cores.
struct Gemm {
    var m: Int, n: Int, k: Int
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var accumulate = false

    static let columnBlock = 512
    static let depthBlock = 128
    static let parallelThreshold = 1 << 18

    func run() {
        let chunks = m * n * k >= Gemm.parallelThreshold ? Swift.min(ReferenceThreads.count, Swift.max(m / 4, 1)) : 1
        if chunks <= 1 {
            rows(0, m)
            return
        }
        let rowsPerChunk = ((m + chunks - 1) / chunks + 3) / 4 * 4
        parallelFor(chunks) { chunk in
            let start = chunk * rowsPerChunk
            rows(start, Swift.min(start + rowsPerChunk, m))
        }
    }

    /// Computes rows `start ..< end` of C.
    func rows(_ start: Int, _ end: Int) {
        guard start < end else { return }
        if !accumulate {
            for i in start..<end { (c + i * ldc).update(repeating: 0, count: n) }
        }
        var j0 = 0
        while j0 < n {
            let width = Swift.min(Gemm.columnBlock, n - j0)
            var p0 = 0
            while p0 < k {
                let depth = Swift.min(Gemm.depthBlock, k - p0)
                var i = start
                while i + 4 <= end {
                    fourRows(i, j0, width, p0, depth)
                    i += 4
                }
                while i < end {
                    oneRow(i, j0, width, p0, depth)
                    i += 1
                }
                p0 += depth
            }
            j0 += width
        }
    }

    @inline(__always)
    private func fourRows(_ i: Int, _ j0: Int, _ width: Int, _ p0: Int, _ depth: Int) {
        let c0 = c + i * ldc + j0, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc
        for p in p0..<(p0 + depth) {
            let a0 = a[i * lda + p], a1 = a[(i + 1) * lda + p]
            let a2 = a[(i + 2) * lda + p], a3 = a[(i + 3) * lda + p]
            let row = b + p * ldb + j0
            for j in 0..<width {
                let v = row[j]
                c0[j] += a0 * v
                c1[j] += a1 * v
                c2[j] += a2 * v
                c3[j] += a3 * v
            }
        }
    }

    @inline(__always)
    private func oneRow(_ i: Int, _ j0: Int, _ width: Int, _ p0: Int, _ depth: Int) {
        let c0 = c + i * ldc + j0
        for p in p0..<(p0 + depth) {
            let a0 = a[i * lda + p]
            let row = b + p * ldb + j0
            for j in 0..<width { c0[j] += a0 * row[j] }
        }
    }
}

/// Copies an r×c row-major matrix (row stride `ld`) into `out` transposed (c×r, contiguous).
func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int, into out: UnsafeMutablePointer<Float>) {
    let tile = 32
    var i0 = 0
    while i0 < rows {
        var j0 = 0
        while j0 < columns {
            for i in i0..<Swift.min(i0 + tile, rows) {
                for j in j0..<Swift.min(j0 + tile, columns) { out[j * rows + i] = source[i * ld + j] }
            }
            j0 += tile
        }
        i0 += tile
    }
}
