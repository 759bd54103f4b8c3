#if OneDNN
import Backend
import COneDNNKernels

/// The elementwise ops and reductions of a training step that pass over whole activations —
/// relu and its backward, and the sums over the batch behind bias gradients — as single
/// vectorised passes spread over the cores (``WorkSharing``), in float32 (relu and its backward
/// also on bfloat16 bits, the sums reading bfloat16 as they go (`axon_periodic_sum`), other
/// functions on bfloat16 tile by tile in float32). Every other case runs on the fallback (or as
/// the default composition), in float32 for bfloat16 operands.
extension OneDNNBackend {
    /// Elementwise work per element, for ``WorkSharing``: a memory-bound pass is worth a second
    /// thread only over a few hundred thousand elements.
    static let elementwiseCost = 8
    /// The same for a transcendental function (a polynomial of a dozen vector operations).
    static let transcendentalCost = 40

    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        if operation == .relu, x.dtype == .bfloat16 {
            return try onBFloat16Bits([x], "unary") { axon_bfloat16_relu($0[0], $1, $2) }
        }
        let kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
        if operation == .relu {
            kernel = { Kernels.relu($0, $1, $2) }
        } else if let function = operation.vectorFunction {
            kernel = { axon_vector_function(function, $0, $1, $2) }
        } else {
            return try widenedIfBFloat16([x]) { try fallback.unary(operation, $0[0]) }
        }
        guard x.dtype == .float32 else { return try inFloat32Tiles([x], "unary") { kernel($0[0], $1, $2) } }
        let count = x.shape.elementCount
        let source = try address(x, "unary").assumingMemoryBound(to: Float.self)
        let (output, pointer) = try output(x.shape, over: [x])
        let target = pointer.assumingMemoryBound(to: Float.self)
        let cost = operation == .relu ? Self.elementwiseCost : Self.transcendentalCost
        try work.forEachChunk(items: count, operations: count * cost) { range in
            kernel(source + range.lowerBound, target + range.lowerBound, range.count)
        }
        return output
    }

    public func activationBackward(_ activation: FusedActivation, output: Buffer, gradOutput: Buffer) throws -> Buffer {
        guard output.dtype == gradOutput.dtype, output.shape == gradOutput.shape, activation != .identity else {
            return try widenedIfBFloat16([output, gradOutput]) {
                try composedActivationBackward(activation, output: $0[0], gradOutput: $0[1])
            }
        }
        if output.dtype == .bfloat16, activation == .relu {
            return try onBFloat16Bits([output, gradOutput], "activationBackward") { axon_bfloat16_relu_backward($0[0], $0[1], $1, $2) }
        }
        if output.dtype == .bfloat16 {
            return try inFloat32Tiles([output, gradOutput], "activationBackward") { Self.activationBackward(activation, $0[0], $0[1], $1, $2) }
        }
        let count = output.shape.elementCount
        let y = try address(output, "activationBackward").assumingMemoryBound(to: Float.self)
        let g = try address(gradOutput, "activationBackward").assumingMemoryBound(to: Float.self)
        let (result, pointer) = try self.output(output.shape, over: [gradOutput, output])
        let target = pointer.assumingMemoryBound(to: Float.self)
        try work.forEachChunk(items: count, operations: count * Self.elementwiseCost) { range in
            let start = range.lowerBound
            Self.activationBackward(activation, y + start, g + start, target + start, range.count)
        }
        return result
    }

    /// The gradient through `activation` of `count` elements, from its outputs `y` and the
    /// output gradients `g`.
    static func activationBackward(
        _ activation: FusedActivation, _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        switch activation {
        case .relu: Kernels.reluBackward(y, g, out, count)
        case .sigmoid: Kernels.sigmoidBackward(y, g, out, count)
        case .tanh: Kernels.tanhBackward(y, g, out, count)
        case .identity: out.update(from: g, count: count)
        }
    }

    /// Sums and means over leading axes (a bias's gradient: every axis but the channels) in one
    /// pass, each chunk of rows accumulating in double precision as the reference does (bfloat16
    /// rows widened a tile at a time); other reductions run on the fallback, in float32 for
    /// bfloat16 operands.
    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        let rank = x.shape.rank
        let resolved = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        let leading = resolved.count
        guard operation == .sum || operation == .mean, x.dtype == .float32 || x.dtype == .bfloat16, leading > 0, leading < rank,
            resolved == Set(0..<leading), x.shape.elementCount > 0
        else { return try widenedIfBFloat16([x]) { try fallback.reduce(operation, $0[0], axes: axes, keepDimensions: keepDimensions) } }
        let (outShape, _) = try ShapeRules.reduction(x.shape, axes: axes, keepDimensions: keepDimensions, operation: "reduce")
        let columns = Array(x.shape.dimensions[leading...]).reduce(1, *)
        let rows = x.shape.elementCount / columns
        let source = try address(x, "reduce"), isBFloat16: Int32 = x.dtype == .bfloat16 ? 1 : 0
        let block = ChannelBlock(channels: columns)
        let plan = work.plan(items: rows, operations: x.shape.elementCount * Self.elementwiseCost)
        var sums = [Double](repeating: 0, count: plan.count * block.period)
        try sums.withUnsafeMutableBufferPointer { sums in
            let base = sums.baseAddress
            try work.forEach(plan) { chunk in
                let range = plan.range(chunk)
                axon_periodic_sum(
                    source + range.lowerBound * columns * x.dtype.byteSize, isBFloat16, range.count * columns, block.period,
                    base.map { $0 + chunk * block.period })
            }
        }
        let totals = Self.totals(sums, block: block, parts: plan.count, kinds: 1)[0]
        let (output, pointer) = try allocate(outShape, x.dtype)
        for (column, total) in totals.enumerated() {
            let value = Float(operation == .mean ? total / Double(rows) : total)
            if x.dtype == .bfloat16 {
                pointer.assumingMemoryBound(to: UInt16.self)[column] = BFloat16(value).bitPattern
            } else {
                pointer.assumingMemoryBound(to: Float.self)[column] = value
            }
        }
        return output
    }

    public func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        try widenedIfBFloat16([x]) { try fallback.indexReduce(operation, $0[0], axis: axis, keepDimensions: keepDimensions) }
    }
}
/// The loops of the passes above, over plain pointers so that the compiler vectorises them.
/// The choices by sign are made with vector masks: as branches they mispredict on every other
/// element of a real activation (a relu backward ran 15× slower).
extension UnaryOperation {
    /// The vectorised libmvec kernel (`axon_vector_function`) that runs this operation on
    /// float32, if there is one; each element's bits are the kernel's wherever it runs.
    var vectorFunction: AxonVectorFunction? {
        switch self {
        case .exp: return AxonVectorExp
        case .expm1: return AxonVectorExpm1
        case .log: return AxonVectorLog
        case .log1p: return AxonVectorLog1p
        case .tanh: return AxonVectorTanh
        case .erf: return AxonVectorErf
        case .sigmoid: return AxonVectorSigmoid
        default: return nil
        }
    }
}

enum Kernels {
    typealias Vector = SIMD16<Float>

    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + Vector.scalarCount <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: Vector.self)
            i += Vector.scalarCount
        }
        while i < count {
            y[i] = x[i] < 0 ? 0 : x[i]  // as the reference: NaN and −0 pass through
            i += 1
        }
    }

    // The products in the default composition's order, so that the results are the same.
    static func reluBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + Vector.scalarCount <= count {
            let (yv, gv) = (UnsafeRawPointer(y + i).loadUnaligned(as: Vector.self), UnsafeRawPointer(g + i).loadUnaligned(as: Vector.self))
            UnsafeMutableRawPointer(out + i).storeBytes(of: gv.replacing(with: 0, where: .!(yv .> 0)), as: Vector.self)
            i += Vector.scalarCount
        }
        while i < count {
            out[i] = y[i] > 0 ? g[i] : 0
            i += 1
        }
    }

    static func sigmoidBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { out[i] = g[i] * (y[i] * (1 - y[i])) }
    }

    static func tanhBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { out[i] = g[i] * (1 - y[i] * y[i]) }
    }
}
#endif
