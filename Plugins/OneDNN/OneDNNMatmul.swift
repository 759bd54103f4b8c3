#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// The logical `[batch..., rows, columns]` view of an operand with `rank` dimensions:
    /// missing batch dimensions are 1 (oneDNN broadcasts them) and a transposed operand is
    /// read with swapped strides instead of being copied.
    static func matrixView(_ shape: Shape, rank: Int, transposed: Bool) -> (dims: [Int], strides: [Int]) {
        let own = shape.strides
        let offset = rank - shape.rank
        var dims: [Int] = [], strides: [Int] = []
        for axis in 0..<(rank - 2) {
            dims.append(axis < offset ? 1 : shape[axis - offset])
            strides.append(axis < offset ? shape.elementCount : own[axis - offset])
        }
        let (r, c) = (shape.rank - 2, shape.rank - 1)
        if transposed {
            dims += [shape[c], shape[r]]
            strides += [own[c], own[r]]
        } else {
            dims += [shape[r], shape[c]]
            strides += [own[r], own[c]]
        }
        return (dims, strides)
    }

    /// `activation(A · B + bias)` through oneDNN matmul primitives, cached per shape: the
    /// output's rows are cut into chunks for the cores (``WorkSharing``), each a product of the
    /// matching rows of `A` with all of `B`.
    func matmulPrimitive(
        _ a: Buffer, _ b: Buffer, bias: Buffer?, transposeA: Bool, transposeB: Bool, activation: FusedActivation
    ) throws -> Buffer {
        let geometry = try ShapeRules.matmul(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        let rank = geometry.output.rank
        let viewA = Self.matrixView(a.shape, rank: rank, transposed: transposeA)
        let viewB = Self.matrixView(b.shape, rank: rank, transposed: transposeB)
        let outputDims = geometry.output.dimensions, outputStrides = DNNL.denseStrides(outputDims)
        var biasDims = [Int](repeating: 1, count: rank)
        biasDims[rank - 1] = geometry.n
        let dtype = a.dtype
        let mdB = try DNNL.memoryDescriptor(viewB.dims, strides: viewB.strides, dtype: dtype)
        let mdBias = try DNNL.memoryDescriptor(biasDims, strides: DNNL.denseStrides(biasDims), dtype: dtype)
        let (output, pointer) = try allocate(geometry.output, dtype)
        let (pointerA, pointerB) = (try address(a, "matmul"), try address(b, "matmul"))
        let pointerBias = try bias.map { try address($0, "dense") }
        let rowAxis = rank - 2, rows = outputDims[rowAxis]
        let operations = 2 * geometry.output.elementCount * viewA.dims[rank - 1]
        try work.forEachChunk(items: rows, operations: operations) { chunk in
            var (dimsA, dimsC) = (viewA.dims, outputDims)
            (dimsA[rowAxis], dimsC[rowAxis]) = (chunk.count, chunk.count)
            let mdA = try DNNL.memoryDescriptor(dimsA, strides: viewA.strides, dtype: dtype)
            let mdC = try DNNL.memoryDescriptor(dimsC, strides: outputStrides, dtype: dtype)
            let key = "matmul " + (dtype == .float32 ? "" : "\(dtype) ")
                + "\(dimsA) \(viewA.strides) \(viewB.dims) \(viewB.strides) \(dimsC) \(outputStrides) bias \(bias != nil) \(activation)"
            let primitive = try cache.primitive(key) {
                var descriptor = dnnl_matmul_desc_t()
                var (sa, sb, sc, sbias) = (mdA, mdB, mdC, mdBias)
                let status = bias == nil
                    ? dnnl_matmul_desc_init(&descriptor, &sa, &sb, nil, &sc)
                    : dnnl_matmul_desc_init(&descriptor, &sa, &sb, &sbias, &sc)
                try DNNL.check(status, "matmul descriptor")
                return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: attributes(activation)) }
            }
            let size = dtype.byteSize
            var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, pointerA + chunk.lowerBound * viewA.strides[rowAxis] * size, mdA), (DNNL_ARG_WEIGHTS, pointerB, mdB),
                (DNNL_ARG_DST, pointer + chunk.lowerBound * outputStrides[rowAxis] * size, mdC),
            ]
            if let pointerBias { arguments.append((DNNL_ARG_BIAS, pointerBias, mdBias)) }
            try execute(primitive, arguments)
        }
        return output
    }

    /// Whether oneDNN can take these operands (all float32, or all bfloat16 — which only the
    /// families declared native in bfloat16 receive —, no empty dimension, rank ≤ 12).
    static func supports(_ buffers: [Buffer]) -> Bool {
        buffers.allSatisfy {
            ($0.dtype == .float32 || $0.dtype == .bfloat16) && $0.dtype == buffers[0].dtype
                && $0.shape.rank <= 12 && $0.shape.dimensions.allSatisfy { $0 > 0 }
        }
    }

    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        guard Self.supports([a, b]) else {
            if a.dtype == .bfloat16 {
                return try computingInFloat32([a, b]) { try matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
            }
            return try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        }
        return try matmulPrimitive(a, b, bias: nil, transposeA: transposeA, transposeB: transposeB, activation: .identity)
    }

    /// One matmul primitive with the bias and activation as post-ops, over the input viewed
    /// as a matrix `[examples, features]`.
    public func dense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer {
        let outFeatures = weight.shape.rank == 2 ? weight.shape[1] : -1
        guard x.shape.rank >= 2, weight.shape.rank == 2, x.shape[x.shape.rank - 1] == weight.shape[0],
            bias.map({ $0.shape.elementCount == outFeatures && $0.shape.rank <= 2 }) ?? true,
            Self.supports([x, weight] + (bias.map { [$0] } ?? []))
        else {
            if x.dtype == .bfloat16 {
                return try computingInFloat32([x, weight] + (bias.map { [$0] } ?? [])) {
                    try dense($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, activation: activation)
                }
            }
            return try composedDense(x, weight: weight, bias: bias, activation: activation)
        }
        let rows = x.shape.elementCount / weight.shape[0]
        let matrix = try reshape(x, to: [rows, weight.shape[0]])
        let flatBias = try bias.map { try reshape($0, to: [outFeatures]) }
        let y = try matmulPrimitive(matrix, weight, bias: flatBias, transposeA: false, transposeB: false, activation: activation)
        return try reshape(y, to: Shape(Array(x.shape.dimensions.dropLast()) + [outFeatures]))
    }
}
#endif
