#if OneDNN
import Backend
import COneDNNKernels

// Batch normalisation over channels-last data with this backend's own passes
// (`normalization.c`), cut along the rows into chunks the cores share: oneDNN's primitive runs
// on one thread here (every primitive does, see `WorkSharing`), and its statistics span the
// whole batch, so it cannot be cut by the batch the way convolutions are. The data may be
// bfloat16 with float32 parameters (mixed precision): it is widened as it is read, and the input
// gradient rounded as it is written, so no cast of the data costs a pass of its own.

/// A block of whole rows long enough for the passes' loops to vectorise, and the per-channel
/// vectors tiled over it.
struct ChannelBlock {
    let channels: Int
    /// Rows per block.
    let rows: Int
    /// Elements per block: `rows · channels`.
    var period: Int { rows * channels }

    init(channels: Int) {
        self.channels = channels
        rows = Swift.max(1, 256 / channels)
    }

    /// `vector` (one value per channel) repeated over the block's rows.
    func tiled(_ vector: [Float]) -> [Float] {
        Array([[Float]](repeating: vector, count: rows).joined())
    }
}

extension OneDNNBackend {
    /// The channel count when `normalize` is a batch norm these passes take: float32 or
    /// bfloat16 data (and gradient) with float32 parameters, reduced over every axis but the
    /// last (of at least one element each), scale and offset of shape `[1, ..., 1, C]`.
    func batchNormChannels(_ x: Buffer, _ scale: Buffer, _ offset: Buffer, _ d: NormalizationDescriptor) -> Int? {
        let rank = x.shape.rank
        guard rank >= 2, x.dtype == .float32 || x.dtype == .bfloat16, scale.dtype == .float32, offset.dtype == .float32,
            x.shape.dimensions.allSatisfy({ $0 > 0 }), Set(d.axes.map { $0 < 0 ? $0 + rank : $0 }) == Set(0..<(rank - 1))
        else { return nil }
        let channels = x.shape[rank - 1]
        let expected = Shape([Int](repeating: 1, count: rank - 1) + [channels])
        return scale.shape == expected && offset.shape == expected ? channels : nil
    }

    /// Normalises each channel of `x` (the last axis) over all its other axes, writing the output
    /// in `outputDType` (float32, or bfloat16 rounded as it is written).
    func batchNorm(
        _ x: Buffer, scale: Buffer, offset: Buffer, channels: Int, epsilon: Float, outputDType: DType
    ) throws -> NormalizationResult {
        let count = x.shape.elementCount, rows = count / channels
        let block = ChannelBlock(channels: channels)
        let data = try address(x, "normalize"), isBFloat16: Int32 = x.dtype == .bfloat16 ? 1 : 0
        let plan = work.plan(items: rows, operations: count * Self.streamedOperationsPerElement)
        var sums = [Double](repeating: 0, count: 2 * plan.count * block.period)
        try sums.withUnsafeMutableBufferPointer { sums in
            let base = sums.baseAddress
            try work.forEach(plan) { chunk in
                let range = plan.range(chunk), part = base.map { $0 + 2 * chunk * block.period }
                axon_periodic_moments(
                    data + range.lowerBound * channels * x.dtype.byteSize, isBFloat16, range.count * channels, block.period,
                    part, part.map { $0 + block.period })
            }
        }
        let moments = Self.totals(sums, block: block, parts: plan.count)
        let (total, squares) = (moments[0], moments[1])
        let mean = total.map { Float($0 / Double(rows)) }
        // One pass: the variance is the mean square less the squared mean, in double, which
        // keeps float32's precision unless the mean exceeds the spread by some 10⁷.
        let inverseStd = zip(total, squares).map { sum, squares in
            let mean = sum / Double(rows)
            return Float(1 / (Swift.max(squares / Double(rows) - mean * mean, 0) + Double(epsilon)).squareRoot())
        }
        let scales = try floats(scale, "normalize"), offsets = try floats(offset, "normalize")
        let factor = zip(scales, inverseStd).map { $0 * $1 }
        let (output, y) = try allocate(x.shape, outputDType)
        let outputIsBFloat16: Int32 = outputDType == .bfloat16 ? 1 : 0
        let (tiledMean, tiledFactor, tiledOffset) = (block.tiled(mean), block.tiled(factor), block.tiled(offsets))
        try work.forEach(plan) { chunk in
            let range = plan.range(chunk), start = range.lowerBound * channels
            axon_periodic_normalize(
                data + start * x.dtype.byteSize, isBFloat16, range.count * channels, block.period, tiledMean, tiledFactor, tiledOffset,
                y + start * outputDType.byteSize, outputIsBFloat16)
        }
        return NormalizationResult(
            output: output, mean: try buffer(mean, shape: scale.shape), inverseStd: try buffer(inverseStd, shape: scale.shape))
    }

    /// Gradients of ``batchNorm(_:scale:offset:channels:epsilon:outputDType:)`` from a float32 or bfloat16
    /// `gradOutput`; the input's in the input's dtype.
    func batchNormBackward(
        _ gradOutput: Buffer, _ input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer, channels: Int
    ) throws -> NormalizationGradients {
        let count = input.shape.elementCount, rows = count / channels
        let block = ChannelBlock(channels: channels)
        let g = try address(gradOutput, "normalizeBackward"), gradientIsBFloat16: Int32 = gradOutput.dtype == .bfloat16 ? 1 : 0
        let data = try address(input, "normalizeBackward"), isBFloat16: Int32 = input.dtype == .bfloat16 ? 1 : 0
        let means = try floats(mean, "normalizeBackward"), inverse = try floats(inverseStd, "normalizeBackward")
        let tiledMean = block.tiled(means)
        let plan = work.plan(items: rows, operations: count * Self.streamedOperationsPerElement)
        var sums = [Double](repeating: 0, count: 2 * plan.count * block.period)
        try sums.withUnsafeMutableBufferPointer { sums in
            let base = sums.baseAddress
            try work.forEach(plan) { chunk in
                let range = plan.range(chunk), start = range.lowerBound * channels
                let part = base.map { $0 + 2 * chunk * block.period }
                axon_periodic_gradient_sums(
                    g + start * gradOutput.dtype.byteSize, gradientIsBFloat16, data + start * input.dtype.byteSize, isBFloat16, range.count * channels, block.period, tiledMean,
                    part, part.map { $0 + block.period })
            }
        }
        let gradientSums = Self.totals(sums, block: block, parts: plan.count)
        let (gradientSum, dot) = (gradientSums[0], gradientSums[1])
        let scales = try floats(scale, "normalizeBackward")
        // dx = scale·σ⁻¹·(g − mean(g)) − (x − mean)·scale·σ⁻³·Σ g·(x − mean) / rows
        let factor = zip(scales, inverse).map { $0 * $1 }
        let meanGradient = gradientSum.map { Float($0 / Double(rows)) }
        let slope = (0..<channels).map { Float(Double(factor[$0]) * Double(inverse[$0]) * Double(inverse[$0]) * dot[$0] / Double(rows)) }
        let (gradInput, gradPointer) = try allocate(input.shape, input.dtype)
        let (tiledFactor, tiledMeanGradient, tiledSlope) = (block.tiled(factor), block.tiled(meanGradient), block.tiled(slope))
        try work.forEach(plan) { chunk in
            let range = plan.range(chunk), start = range.lowerBound * channels
            axon_periodic_input_gradient(
                g + start * gradOutput.dtype.byteSize, gradientIsBFloat16, data + start * input.dtype.byteSize, isBFloat16, range.count * channels, block.period, tiledMean,
                tiledFactor, tiledMeanGradient, tiledSlope, gradPointer + start * input.dtype.byteSize)
        }
        let gradScale = (0..<channels).map { Float(dot[$0] * Double(inverse[$0])) }
        return NormalizationGradients(
            input: gradInput, scale: try buffer(gradScale, shape: scale.shape),
            offset: try buffer(gradientSum.map { Float($0) }, shape: scale.shape))
    }

    /// The per-channel totals of the `kinds` sums each chunk wrote (one period each, side by
    /// side), added in chunk order.
    static func totals(_ sums: [Double], block: ChannelBlock, parts: Int, kinds: Int = 2) -> [[Double]] {
        var totals = [[Double]](repeating: [Double](repeating: 0, count: block.channels), count: kinds)
        for part in 0..<parts {
            for kind in 0..<kinds {
                let start = (kinds * part + kind) * block.period
                for position in 0..<block.period { totals[kind][position % block.channels] += sums[start + position] }
            }
        }
        return totals
    }

    /// A float32 buffer of `shape` holding `values`.
    func buffer(_ values: [Float], shape: Shape) throws -> Buffer {
        let (buffer, pointer) = try allocate(shape)
        pointer.assumingMemoryBound(to: Float.self).update(from: values, count: Swift.min(values.count, shape.elementCount))
        return buffer
    }

    /// A float32 buffer's elements.
    func floats(_ buffer: Buffer, _ operation: String) throws -> [Float] {
        let pointer = try address(buffer, operation).assumingMemoryBound(to: Float.self)
        return Array(UnsafeBufferPointer(start: pointer, count: buffer.shape.elementCount))
    }
}
#endif
