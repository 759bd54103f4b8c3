#if OneDNN
import Backend
import CDNNL

/// What decides a matrix product's primitives: the operands' shapes and flags.
struct MatmulCall: Hashable {
    let a: Shape, b: Shape
    let transposeA: Bool, transposeB: Bool, bias: Bool
    let activation: FusedActivation
    let dtype: DType
}

/// A matrix product's primitives and memory descriptors, one chunk of output rows each.
struct MatmulSetup: @unchecked Sendable {
    struct Chunk {
        let primitive: Primitive
        let a: dnnl_memory_desc_t, c: dnnl_memory_desc_t
        /// Byte offsets of the chunk's first row in `A` and in the output.
        let offsetA: Int, offsetC: Int
    }

    let output: Shape
    let plan: ChunkPlan
    let b: dnnl_memory_desc_t, bias: dnnl_memory_desc_t
    let chunks: [Chunk]
}

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
        let call = MatmulCall(
            a: a.shape, b: b.shape, transposeA: transposeA, transposeB: transposeB, bias: bias != nil, activation: activation, dtype: a.dtype)
        let setup = try matmulSetups.value(for: call) { try matmulSetup(call) }
        let (output, pointer) = try allocate(setup.output, call.dtype)
        let (pointerA, pointerB) = (try address(a, "matmul"), try address(b, "matmul"))
        let pointerBias = try bias.map { try address($0, "dense") }
        try work.forEach(setup.plan) { index in
            let chunk = setup.chunks[index]
            var arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, pointerA + chunk.offsetA, chunk.a), (DNNL_ARG_WEIGHTS, pointerB, setup.b),
                (DNNL_ARG_DST, pointer + chunk.offsetC, chunk.c),
            ]
            if let pointerBias { arguments.append((DNNL_ARG_BIAS, pointerBias, setup.bias)) }
            try execute(chunk.primitive, arguments)
        }
        return output
    }

    /// The primitives and memory descriptors of every chunk of a product of this signature,
    /// made once: a small product's call would otherwise spend a tenth of its time describing
    /// memory and naming its primitive.
    private func matmulSetup(_ call: MatmulCall) throws -> MatmulSetup {
        let geometry = try ShapeRules.matmul(call.a, call.b, transposeA: call.transposeA, transposeB: call.transposeB)
        let rank = geometry.output.rank
        let viewA = Self.matrixView(call.a, rank: rank, transposed: call.transposeA)
        let viewB = Self.matrixView(call.b, rank: rank, transposed: call.transposeB)
        let outputDims = geometry.output.dimensions, outputStrides = DNNL.denseStrides(outputDims)
        var biasDims = [Int](repeating: 1, count: rank)
        biasDims[rank - 1] = geometry.n
        let dtype = call.dtype
        let mdB = try DNNL.memoryDescriptor(viewB.dims, strides: viewB.strides, dtype: dtype)
        let mdBias = try DNNL.memoryDescriptor(biasDims, strides: DNNL.denseStrides(biasDims), dtype: dtype)
        let rowAxis = rank - 2
        let plan = work.plan(items: outputDims[rowAxis], operations: 2 * geometry.output.elementCount * viewA.dims[rank - 1])
        let chunks = try (0..<plan.count).map { index in
            let chunk = plan.range(index)
            var (dimsA, dimsC) = (viewA.dims, outputDims)
            (dimsA[rowAxis], dimsC[rowAxis]) = (chunk.count, chunk.count)
            let mdA = try DNNL.memoryDescriptor(dimsA, strides: viewA.strides, dtype: dtype)
            let mdC = try DNNL.memoryDescriptor(dimsC, strides: outputStrides, dtype: dtype)
            let primitive = try cache.primitive(
                PrimitiveKey.kind("matmul", dtype), dimsA, viewA.strides, viewB.dims, viewB.strides, dimsC, outputStrides, call.bias, call.activation
            ) {
                var descriptor = dnnl_matmul_desc_t()
                var (sa, sb, sc, sbias) = (mdA, mdB, mdC, mdBias)
                let status = call.bias
                    ? dnnl_matmul_desc_init(&descriptor, &sa, &sb, &sbias, &sc)
                    : dnnl_matmul_desc_init(&descriptor, &sa, &sb, nil, &sc)
                try DNNL.check(status, "matmul descriptor")
                return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: attributes(call.activation)) }
            }
            let size = dtype.byteSize
            return MatmulSetup.Chunk(
                primitive: primitive, a: mdA, c: mdC, offsetA: chunk.lowerBound * viewA.strides[rowAxis] * size,
                offsetC: chunk.lowerBound * outputStrides[rowAxis] * size)
        }
        return MatmulSetup(output: geometry.output, plan: plan, b: mdB, bias: mdBias, chunks: chunks)
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
