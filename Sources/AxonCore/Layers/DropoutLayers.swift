import Backend
import Foundation

// Spatial, alpha and feature-alpha dropout and DropBlock. Their masks come from the same
// Philox bits as dropout (`bits < ⌊(1 − rate)·2³²⌋` keeps), so they are bit-identical on every
// backend; in inference every one of them is the identity.

extension Layers {
    /// The keep-mask (`bool`, of `shape`) that dropout at `rate` draws from `key` at `offset`:
    /// the backend's `dropoutMask(rate:key:offset:shape:)`.
    public static func keepMask(rate: Float, key: Philox.Key, offset: UInt64 = 0, shape: Shape, on backend: any Backend) throws -> Tensor {
        let (backend, mask) = try Tensor.computeBuffers("dropoutMask", [], on: backend, key: key) { backend, _, key in
            [try backend.dropoutMask(rate: rate, key: key, offset: offset, shape: shape)]
        }
        return Tensor(buffer: mask[0], backend: backend)
    }

    /// The elements of `shape` per example (along axis 0), for ``LayerContext/maskOffset(elementsPerExample:)``.
    static func elementsPerExample(_ shape: Shape) -> Int {
        shape.rank > 0 && shape[0] > 0 ? shape.elementCount / shape[0] : 0
    }

    /// The noise shape that drops whole channels: 1 on every spatial axis.
    static func channelNoiseShape(_ x: Tensor, _ channels: ChannelLayout) -> Shape {
        Shape(x.shape.dimensions.enumerated().map { axis, size in
            axis == 0 || axis == (channels == .last ? x.rank - 1 : 1) ? size : 1
        })
    }

    /// Alpha dropout (Klambauer et al., 2017) for SELU networks: dropped values become
    /// `α′ = −λα ≈ −1.7581`, then `a·x + b` with `a = ((1 − q)(1 + q·α′²))^(−½)`, `b = −a·α′·q`
    /// restores zero mean and unit variance (`q` the rate), as PyTorch's `alpha_dropout`.
    /// The mask has `noiseShape` (default: the input's), broadcast to the input, and is drawn
    /// from `key`'s bits at `offset`.
    public static func alphaDropout(_ x: Tensor, rate: Float, key: Philox.Key, offset: UInt64 = 0, noiseShape: Shape? = nil) throws -> Tensor {
        guard rate > 0 else { return x }
        let alphaPrime: Float = -1.758_099_340_847_376_6
        let q = rate
        let a = 1 / ((1 - q) * (1 + q * alphaPrime * alphaPrime)).squareRoot()
        let b = -a * alphaPrime * q
        let keep = try keepMask(rate: rate, key: key, offset: offset, shape: noiseShape ?? x.shape, on: x.backend)
        return try keep.select(x, x.constant(alphaPrime)) * a + b
    }

    /// DropBlock (Ghiasi et al., 2018): drops `blockSize`-wide blocks of every spatial axis.
    /// Seeds are drawn with probability `γ = rate·Πn / (blockSizeᵈ·Π(n − blockSize + 1))` at
    /// the positions where a whole block fits; a seed at `p` drops `p ..< p + blockSize` on every
    /// axis; the kept values are scaled by `count / kept`, as torchvision's `drop_block`.
    /// `firstExample` is where `x`'s examples start in the batch the seeds are drawn for (a
    /// data-parallel rank's ``LayerContext/firstExample``).
    public static func dropBlock(
        _ x: Tensor, rate: Float, blockSize: Int, key: Philox.Key, channels: ChannelLayout = .last, firstExample: Int = 0
    ) throws -> Tensor {
        guard rate > 0 else { return x }
        let input = try toChannelsLast(x, channels)
        let spatial = Array(input.shape.dimensions.dropFirst().dropLast())
        guard blockSize >= 1, spatial.allSatisfy({ $0 >= blockSize }) else {
            throw AxonError.invalidValue(operation: "dropBlock", reason: "block size \(blockSize) must be between 1 and every spatial size \(spatial)")
        }
        let fits = spatial.map { Double($0 - blockSize + 1) }
        let gamma = Double(rate) * spatial.reduce(1.0) { $0 * Double($1) }
            / (pow(Double(blockSize), Double(spatial.count)) * fits.reduce(1, *))
        let seedShape = Shape([input.shape[0]] + fits.map { Int($0) } + [input.shape[input.rank - 1]])
        // A seed where the bits fall below γ·2³², i.e. dropout's keep-mask at rate 1 − γ.
        let seeds = try keepMask(rate: Float(Swift.max(0, 1 - Swift.min(gamma, 1))), key: key, offset: UInt64(firstExample) &* UInt64(elementsPerExample(seedShape)), shape: seedShape, on: input.backend)
            .cast(to: input.dtype)
        let spread = [Padding(0, 0)] + spatial.map { _ in Padding(blockSize - 1, blockSize - 1) } + [Padding(0, 0)]
        let window = WindowDescriptor(
            windowDimensions: [1] + spatial.map { _ in blockSize } + [1], strides: [Int](repeating: 1, count: input.rank),
            padding: spread)
        let dropped = try seeds.window(.max, descriptor: window)
        let keep = try 1 - dropped
        let kept = try keep.sum()
        let scale = try keep.constant(Float(input.count)) / (kept + 1e-6)
        return try fromChannelsLast(input * keep * scale, channels)
    }
}

/// Spatial, alpha, feature-alpha dropout and DropBlock as layers.
struct StructuredDropoutLayer: SerializableLayer {
    enum Variant: Sendable, Codable { case spatial, alpha, featureAlpha, block(Int) }
    let variant: Variant
    let rate: Float
    let channels: ChannelLayout
    var kind: String {
        switch variant {
        case .spatial: return "spatial_dropout"
        case .alpha: return "alpha_dropout"
        case .featureAlpha: return "feature_alpha_dropout"
        case .block: return "drop_block"
        }
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard rate >= 0, rate < 1 else { throw LayerError("rate must be in [0, 1), got \(rate)") }
        switch variant {
        case .alpha: break
        case .spatial, .featureAlpha: _ = try spatialGeometry(inputs[0], channels)
        case let .block(size):
            let (spatial, _) = try spatialGeometry(inputs[0], channels)
            guard size >= 1, spatial.allSatisfy({ $0 >= size }) else {
                throw LayerError("block size \(size) must be between 1 and every spatial size of \(inputs[0].shapeDescription)")
            }
        }
        return inputs[0]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        guard context.mode == .train, rate > 0 else { return x }
        // Every mask here follows the batch: a rank draws its rows of the global batch's mask.
        func offset(_ mask: Shape) -> UInt64 { context.maskOffset(elementsPerExample: Layers.elementsPerExample(mask)) }
        let channelNoise = Layers.channelNoiseShape(x, channels)
        switch variant {
        case .spatial: return try x.dropout(rate: rate, key: context.randomKey, offset: offset(channelNoise), noiseShape: channelNoise)
        case .alpha: return try Layers.alphaDropout(x, rate: rate, key: context.randomKey, offset: offset(x.shape))
        case .featureAlpha:
            return try Layers.alphaDropout(x, rate: rate, key: context.randomKey, offset: offset(channelNoise), noiseShape: channelNoise)
        case let .block(size):
            return try Layers.dropBlock(x, rate: rate, blockSize: size, key: context.randomKey, channels: channels, firstExample: context.firstExample)
        }
    }
}

extension Axon {
    /// Dropout of whole channels (Tompson et al., 2015; Keras's `SpatialDropout`).
    public func spatialDropout(rate: Float = 0.5, channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(StructuredDropoutLayer(variant: .spatial, rate: rate, channels: channels), name: name)
    }

    /// Alpha dropout for self-normalising (SELU) networks: keeps zero mean and unit variance.
    public func alphaDropout(rate: Float = 0.5, name: String? = nil) -> Axon {
        apply(StructuredDropoutLayer(variant: .alpha, rate: rate, channels: .last), name: name)
    }

    /// Alpha dropout of whole channels (PyTorch's `FeatureAlphaDropout`).
    public func featureAlphaDropout(rate: Float = 0.5, channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(StructuredDropoutLayer(variant: .featureAlpha, rate: rate, channels: channels), name: name)
    }

    /// DropBlock (Ghiasi et al., 2018): drops contiguous `blockSize`-wide blocks.
    public func dropBlock(rate: Float = 0.1, blockSize: Int = 3, channels: ChannelLayout = .last, name: String? = nil) -> Axon {
        apply(StructuredDropoutLayer(variant: .block(blockSize), rate: rate, channels: channels), name: name)
    }
}
