import Backend

/// How a parameter gets its first value. Values are computed on the host from Philox bits of a
/// key and then uploaded, so one key gives bit-identical parameters on every backend.
///
/// The variance-scaling family follows Keras: with `n` the fan given by `mode` (see ``Fans``),
/// `uniform` draws from `[−√(3·scale/n), √(3·scale/n)]`, `truncatedNormal` from a normal of
/// standard deviation `√(scale/n) / 0.87962566103423978` cut at two standard deviations, and
/// `untruncatedNormal` from a normal of standard deviation `√(scale/n)`.
///
/// ```swift
/// let kernel = try Initializer.glorotUniform.tensor(shape: [784, 128], key: Philox.Key(seed: 42), on: backend)
/// ```
public enum Initializer: Sendable, Equatable, Codable {
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// Every element the given value.
    case full(Float)
    /// Uniform on `[minimum, maximum)`; Keras's default is ±0.05.
    case uniform(minimum: Float = -0.05, maximum: Float = 0.05)
    /// Normal with the given mean and standard deviation; Keras's default is 0 and 0.05.
    case normal(mean: Float = 0, standardDeviation: Float = 0.05)
    /// Scale 1, fan average, uniform (Glorot & Bengio, 2010).
    case glorotUniform
    /// Scale 1, fan average, truncated normal.
    case glorotNormal
    /// Scale 2, fan in, uniform (He et al., 2015).
    case heUniform
    /// Scale 2, fan in, truncated normal.
    case heNormal
    /// Scale 1, fan in, uniform (LeCun et al., 1998).
    case lecunUniform
    /// Scale 1, fan in, truncated normal.
    case lecunNormal
    /// Variance `scale / fan` (the fan chosen by `mode`), sampled from `distribution` (Keras's `VarianceScaling`).
    case varianceScaling(scale: Double, mode: FanMode, distribution: Distribution)
    /// `gain` times the identity matrix; rank-2 shapes only (rectangular allowed).
    case identity(gain: Float = 1)
    /// `gain` times a random orthogonal matrix (Saxe et al., 2014): the shape is flattened to
    /// `[∏ leading, last]`, a normal matrix is orthonormalised by QR, with the signs of R's
    /// diagonal folded in.
    case orthogonal(gain: Float = 1)
    /// Equal blocks along the last axis, each from its own initializer (block `i` with the key
    /// folded with `i`): for example an LSTM bias `[4·units]` with ones in the forget gate's
    /// block, or a recurrent kernel orthogonal per gate.
    case blocks([Initializer])

    /// Which fan the variance-scaling initializers divide by.
    public enum FanMode: String, Sendable, Equatable, Codable {
        /// The input fan, the output fan, or their mean.
        case fanIn, fanOut, fanAverage
    }

    /// The distribution the variance-scaling initializers sample.
    public enum Distribution: String, Sendable, Equatable, Codable {
        /// Uniform with that variance, a normal truncated at two standard deviations (rescaled to keep the variance), or a plain normal.
        case uniform, truncatedNormal, untruncatedNormal
    }

    /// The host values for `shape` from the stream of `key`, in row-major order.
    public func values(shape: Shape, key: Philox.Key) throws -> [Float] {
        let count = try Self.checkedCount(shape, initializer: "\(self)")
        var random = HostRandom(key: key)
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .ones: return [Float](repeating: 1, count: count)
        case let .full(value): return [Float](repeating: value, count: count)
        case let .uniform(minimum, maximum):
            return random.uniform(count, low: Double(minimum), high: Double(maximum)).map { Float($0) }
        case let .normal(mean, standardDeviation):
            return random.normal(count).map { Float(Double(mean) + Double(standardDeviation) * $0) }
        case .glorotUniform: return try Initializer.varianceScaling(scale: 1, mode: .fanAverage, distribution: .uniform).values(shape: shape, key: key)
        case .glorotNormal: return try Initializer.varianceScaling(scale: 1, mode: .fanAverage, distribution: .truncatedNormal).values(shape: shape, key: key)
        case .heUniform: return try Initializer.varianceScaling(scale: 2, mode: .fanIn, distribution: .uniform).values(shape: shape, key: key)
        case .heNormal: return try Initializer.varianceScaling(scale: 2, mode: .fanIn, distribution: .truncatedNormal).values(shape: shape, key: key)
        case .lecunUniform: return try Initializer.varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform).values(shape: shape, key: key)
        case .lecunNormal: return try Initializer.varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal).values(shape: shape, key: key)
        case let .varianceScaling(scale, mode, distribution):
            guard scale > 0 else {
                throw AxonError.invalidInitializer(initializer: "varianceScaling", shape: shape, reason: "scale must be positive, got \(scale)")
            }
            let fans = Fans(shape: shape)
            let fan: Double
            switch mode {
            case .fanIn: fan = fans.fanIn
            case .fanOut: fan = fans.fanOut
            case .fanAverage: fan = (fans.fanIn + fans.fanOut) / 2
            }
            let variance = scale / Swift.max(1, fan)
            switch distribution {
            case .uniform:
                let limit = (3 * variance).squareRoot()
                return random.uniform(count, low: -limit, high: limit).map { Float($0) }
            case .truncatedNormal:
                // 0.8796… is the standard deviation of a unit normal truncated to [−2, 2].
                let deviation = variance.squareRoot() / 0.879_625_661_034_239_78
                return random.truncatedNormal(count).map { Float($0 * deviation) }
            case .untruncatedNormal:
                return random.normal(count).map { Float($0 * variance.squareRoot()) }
            }
        case let .identity(gain):
            guard shape.rank == 2 else {
                throw AxonError.invalidInitializer(initializer: "identity", shape: shape, reason: "needs a rank-2 shape")
            }
            return (0..<count).map { $0 / shape[1] == $0 % shape[1] ? gain : 0 }
        case let .blocks(initializers):
            guard shape.rank >= 1, !initializers.isEmpty, shape[shape.rank - 1] % initializers.count == 0 else {
                throw AxonError.invalidInitializer(
                    initializer: "blocks", shape: shape, reason: "the last dimension must split into \(initializers.count) equal blocks")
            }
            let width = shape[shape.rank - 1] / initializers.count
            let blockShape = Shape(shape.dimensions.dropLast() + [width])
            let blocks = try initializers.enumerated().map { try $1.values(shape: blockShape, key: key.folded(with: UInt64($0))) }
            return (0..<count).map { index in
                let (row, column) = (index / shape[shape.rank - 1], index % shape[shape.rank - 1])
                return blocks[column / width][row * width + column % width]
            }
        case let .orthogonal(gain):
            guard shape.rank >= 2 else {
                throw AxonError.invalidInitializer(initializer: "orthogonal", shape: shape, reason: "needs rank ≥ 2")
            }
            return Orthogonal.matrix(
                rows: count / shape[shape.rank - 1], columns: shape[shape.rank - 1], random: &random
            ).map { Float(Double(gain) * $0) }
        }
    }

    /// The element count of `shape`, refused before any sampling when a dimension is negative,
    /// the count overflows, or the samples (drawn in double precision) would not fit in memory.
    static func checkedCount(_ shape: Shape, initializer: String) throws -> Int {
        guard let count = shape.checkedElementCount else {
            throw AxonError.invalidInitializer(
                initializer: initializer, shape: shape, reason: "a dimension is negative or the element count overflows")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Double>.size)
        guard !overflow, bytes <= CheckedBackend.defaultMaximumAllocationBytes else {
            throw AxonError.invalidInitializer(
                initializer: initializer, shape: shape, reason: "\(count) elements are more than this machine's memory holds")
        }
        return count
    }

    /// A tensor of `shape` on `backend` holding ``values(shape:key:)``.
    public func tensor(shape: Shape, key: Philox.Key, on backend: any Backend) throws -> Tensor {
        try Tensor(values(shape: shape, key: key), shape: shape, on: backend)
    }
}

/// Random orthogonal matrices by modified Gram–Schmidt QR in double precision.
enum Orthogonal {
    /// A `rows × columns` matrix (row-major) with orthonormal columns when `rows ≥ columns`,
    /// orthonormal rows otherwise.
    static func matrix(rows: Int, columns: Int, random: inout HostRandom) -> [Double] {
        let (tall, short) = (Swift.max(rows, columns), Swift.min(rows, columns))
        // a: tall × short, column-major here so each column is contiguous.
        let samples = random.normal(tall * short)
        var q = (0..<short).map { column in (0..<tall).map { samples[$0 * short + column] } }
        for j in 0..<short {
            for i in 0..<j {
                let projection = zip(q[i], q[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for r in 0..<tall { q[j][r] -= projection * q[i][r] }
            }
            // R's diagonal is this norm, which is positive, so no sign correction is needed.
            let norm = q[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
            q[j] = q[j].map { $0 / norm }
        }
        var result = [Double](repeating: 0, count: rows * columns)
        for r in 0..<tall {
            for c in 0..<short {
                if rows >= columns { result[r * columns + c] = q[c][r] } else { result[c * columns + r] = q[c][r] }
            }
        }
        return result
    }
}
