import Backend
import Foundation

/// How ``Axon/resize(_:method:antialias:alignCorners:channels:name:)`` samples between input
/// positions: the interpolation kernels of `jax.image.resize` and Elixir Axon's `resize`.
public enum ResizeMethod: String, Sendable, CaseIterable, Codable {
    /// The input at `⌊(o + ½)·in/out⌋` (PyTorch's `nearest-exact`).
    case nearest
    /// Linear interpolation in each spatial dimension (the triangle kernel `max(0, 1 − |x|)`).
    case linear
    /// Keys's cubic convolution with `a = −½` in each spatial dimension.
    case cubic
    /// The Lanczos kernel of radius 3.
    case lanczos3
    /// The Lanczos kernel of radius 5.
    case lanczos5

    /// How far from a sample position the kernel reaches, in input positions.
    var radius: Double {
        switch self {
        case .nearest: return 0.5
        case .linear: return 1
        case .cubic: return 2
        case .lanczos3: return 3
        case .lanczos5: return 5
        }
    }

    /// The kernel's weight at distance `x ≥ 0`.
    func kernel(_ x: Double) -> Double {
        switch self {
        case .nearest: return x < 0.5 ? 1 : 0
        case .linear: return Swift.max(0, 1 - x)
        case .cubic:
            if x >= 2 { return 0 }
            if x >= 1 { return ((-0.5 * x + 2.5) * x - 4) * x + 2 }
            return (1.5 * x - 2.5) * x * x + 1
        case .lanczos3, .lanczos5:
            guard x < radius else { return 0 }
            guard x > 1e-3 else { return 1 }
            return radius * sin(.pi * x) * sin(.pi * x / radius) / (.pi * .pi * x * x)
        }
    }
}

/// The resampling of one axis as a gather of `taps` inputs per output and their weights:
/// output `o` is `Σₜ weights[o·taps + t] · input[indices[o·taps + t]]`.
struct ResamplingTaps {
    let taps: Int
    let indices: [Int32]
    let weights: [Float]

    /// At most this many gathered elements per output row of one axis, so a resize cannot ask
    /// for an unbounded host allocation.
    static let maximumCount = 1 << 28

    /// The taps from `input` to `output` positions, as `jax.image.resize` weighs them: samples at
    /// `(o + ½)·in/out − ½` (or `o·(in − 1)/(out − 1)` with `alignCorners`), the kernel stretched
    /// by `in/out` when downsampling with `antialias`, weights normalised to sum to one.
    init(method: ResizeMethod, input: Int, output: Int, antialias: Bool, alignCorners: Bool) throws {
        let scale = Double(input) / Double(output)
        guard output <= ResamplingTaps.maximumCount else {
            throw LayerError("resizing to \(output) positions needs more than the \(ResamplingTaps.maximumCount) sample positions one axis may have")
        }
        if method == .nearest {
            taps = 1
            indices = (0..<output).map { Int32(Swift.min(input - 1, Int((Double($0) + 0.5) * scale))) }
            weights = Array(repeating: 1, count: output)
            return
        }
        let stretch = antialias ? Swift.max(1, scale) : 1
        let reach = method.radius * stretch
        let samples = (0..<output).map { o -> Double in
            if alignCorners { return output == 1 ? 0 : Double(o) * Double(input - 1) / Double(output - 1) }
            return (Double(o) + 0.5) * scale - 0.5
        }
        let windows = samples.map { sample in
            Swift.max(0, Int((sample - reach).rounded(.up)))...Swift.min(input - 1, Int((sample + reach).rounded(.down)))
        }
        let width = Swift.max(1, windows.map(\.count).max() ?? 1)
        guard width <= ResamplingTaps.maximumCount / output else {
            throw LayerError("resizing \(input) positions to \(output) needs \(width) taps per output, more than \(ResamplingTaps.maximumCount) in all")
        }
        var indices: [Int32] = [], weights: [Float] = []
        indices.reserveCapacity(output * width)
        weights.reserveCapacity(output * width)
        for (sample, window) in zip(samples, windows) {
            let raw = window.map { method.kernel(Swift.abs(sample - Double($0)) / stretch) }
            let total = raw.reduce(0, +)
            let usable = Swift.abs(total) > 1000 * Double(Float.ulpOfOne)
            for t in 0..<width {
                indices.append(Int32(t < window.count ? window.lowerBound + t : window.lowerBound))
                weights.append(t < window.count && usable ? Float(raw[t] / total) : 0)
            }
        }
        (self.taps, self.indices, self.weights) = (width, indices, weights)
    }
}

struct ResizeLayer: SerializableLayer {
    let size: [Int]
    let method: ResizeMethod
    let antialias: Bool
    let alignCorners: Bool
    let channels: ChannelLayout
    var kind: String { "resize" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let (spatial, channelCount) = try spatialGeometry(inputs[0], channels)
        try Layers.checkResize(spatial: spatial, size: size, method: method, alignCorners: alignCorners)
        return assemble(batch: inputs[0][0], spatial: size, channels: channelCount, channels)
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Layers.resize(inputs[0], size: size, method: method, antialias: antialias, alignCorners: alignCorners, channels: channels)
    }
}

extension Layers {
    static func checkResize(spatial: [Int], size: [Int], method: ResizeMethod, alignCorners: Bool) throws {
        guard size.count == spatial.count else {
            throw LayerError("resize needs \(spatial.count) output sizes for \(spatial.count) spatial dimensions, got \(size)")
        }
        guard size.allSatisfy({ $0 >= 1 && $0 <= ShapeRules.maximumDimension }) else {
            throw LayerError("resize needs output sizes between 1 and 2³¹ − 1, got \(size)")
        }
        guard spatial.allSatisfy({ $0 >= 1 }) else { throw LayerError("resize needs a non-empty input, got spatial sizes \(spatial)") }
        guard !(alignCorners && method == .nearest) else {
            throw LayerError("alignCorners applies to the linear, cubic and Lanczos methods, not nearest")
        }
    }

    /// Resizes the spatial axes of `x` to `size` (one entry per spatial axis), one axis after
    /// another, as `jax.image.resize` and Elixir Axon's `resize` do: half-pixel sample positions
    /// (or `alignCorners`, PyTorch's `align_corners=True`), kernel weights normalised to sum to
    /// one (so edges renormalise rather than clamp), and with `antialias` the kernel widened by
    /// the scale when downsampling. Gradients flow to `x` through the gathers.
    public static func resize(
        _ x: Tensor, size: [Int], method: ResizeMethod = .nearest, antialias: Bool = true, alignCorners: Bool = false,
        channels: ChannelLayout = .last
    ) throws -> Tensor {
        guard x.rank >= 3 else { throw LayerError("resize needs an input [batch, spatial..., channels] of rank ≥ 3, got \(x.shape)") }
        let spatialAxes = channels == .last ? Array(1..<(x.rank - 1)) : Array(2..<x.rank)
        try checkResize(spatial: spatialAxes.map { x.shape[$0] }, size: size, method: method, alignCorners: alignCorners)
        var y = x
        for (axis, output) in zip(spatialAxes, size) where y.shape[axis] != output {
            let taps = try ResamplingTaps(method: method, input: y.shape[axis], output: output, antialias: antialias, alignCorners: alignCorners)
            let gathered = try y.gather(indices: Tensor(integers: taps.indices, shape: [taps.indices.count], on: y.backend), axis: axis)
            if method == .nearest {
                y = gathered
                continue
            }
            var split = y.shape.dimensions
            split[axis] = output
            split.insert(taps.taps, at: axis + 1)
            let weights = try Tensor(taps.weights, shape: Shape([output, taps.taps] + Array(repeating: 1, count: y.rank - axis - 1)), on: y.backend)
            y = try (gathered.reshaped(to: Shape(split)) * weights).sum(axes: [axis + 1])
        }
        return y
    }
}

extension Axon {
    /// Resizes the spatial axes to `size` (one entry per spatial axis, any number of them) by
    /// `method`, as Elixir Axon's `resize` and `jax.image.resize` do: half-pixel centres, weights
    /// normalised at the edges, and with `antialias` (the default, as in Axon) a widened kernel
    /// when downsampling. `alignCorners` samples at `o·(in − 1)/(out − 1)` instead (PyTorch's
    /// `align_corners=True`; linear, cubic and Lanczos only). PyTorch's `bilinear` with
    /// `antialias=False` gives the same values as `linear`; its `bicubic` uses `a = −¾` and
    /// clamps at the edges, so it differs from `cubic` (`a = −½`, renormalised).
    public func resize(
        _ size: [Int], method: ResizeMethod = .nearest, antialias: Bool = true, alignCorners: Bool = false,
        channels: ChannelLayout = .last, name: String? = nil
    ) -> Axon {
        apply(ResizeLayer(size: size, method: method, antialias: antialias, alignCorners: alignCorners, channels: channels), name: name)
    }
}
