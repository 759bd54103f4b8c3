import Backend

/// Fan-in and fan-out of a weight shape, by Keras's convention: a rank-1 shape has both equal
/// to its size; a rank-2 `[in, out]` matrix has fan-in `in` and fan-out `out`; a kernel
/// `[spatial..., in, out]` multiplies both by the receptive field (the product of the spatial
/// sizes). A scalar has both equal to 1.
public struct Fans: Sendable, Equatable, Codable {
    /// The number of inputs each output sees (receptive field × input channels).
    public let fanIn: Double
    /// The number of outputs each input reaches (receptive field × output channels).
    public let fanOut: Double

    /// The fans of a kernel of `shape` laid out `[spatial..., in, out]`, as Keras computes them.
    public init(shape: Shape) {
        switch shape.rank {
        case 0:
            (fanIn, fanOut) = (1, 1)
        case 1:
            (fanIn, fanOut) = (Double(shape[0]), Double(shape[0]))
        default:
            let receptiveField = Double(shape.dimensions.dropLast(2).reduce(1, *))
            fanIn = Double(shape[shape.rank - 2]) * receptiveField
            fanOut = Double(shape[shape.rank - 1]) * receptiveField
        }
    }
}
