/// Low and high padding of one dimension.
public struct Padding: Sendable, Hashable, Codable {
    /// Elements added before the first (negative values crop).
    public var low: Int
    /// Elements added after the last (negative values crop).
    public var high: Int
    /// Padding of `low` before and `high` after.
    public init(_ low: Int, _ high: Int) {
        self.low = low
        self.high = high
    }
}

/// Attributes of an N-dimensional convolution.
///
/// Layout is channels-last: the input is `[N, spatial..., C]` and the kernel is
/// `[spatial..., C / groups, O]` (HWIO), so the output is `[N, spatial'..., O]`. The number of
/// spatial dimensions comes from the input's rank.
///
/// For each spatial dimension, the input is first dilated (`inputDilation - 1` zeros between
/// elements, as a transposed convolution needs), then padded with `padding`, then correlated
/// with the kernel dilated by `kernelDilation` at step `strides`.
public struct ConvolutionDescriptor: Sendable, Hashable {
    /// The step of the kernel per spatial dimension.
    public var strides: [Int]
    /// Padding per spatial dimension, applied after input dilation.
    public var padding: [Padding]
    /// The input's dilation per spatial dimension (1: none).
    public var inputDilation: [Int]
    /// The kernel's dilation per spatial dimension (1: none).
    public var kernelDilation: [Int]
    /// The number of channel groups; input and output channels must both divide by it.
    public var groups: Int

    /// Creates a descriptor; omitted per-dimension lists default to 1 (strides, dilations) or
    /// 0 (padding) in every spatial dimension of the operands.
    public init(
        strides: [Int] = [], padding: [Padding] = [], inputDilation: [Int] = [],
        kernelDilation: [Int] = [], groups: Int = 1
    ) {
        self.strides = strides
        self.padding = padding
        self.inputDilation = inputDilation
        self.kernelDilation = kernelDilation
        self.groups = groups
    }

    /// The descriptor with every per-dimension list filled to `spatialRank` entries.
    public func resolved(spatialRank: Int) throws -> ConvolutionDescriptor {
        func fill<T>(_ values: [T], _ defaultValue: T, _ name: String) throws -> [T] {
            if values.isEmpty { return Array(repeating: defaultValue, count: spatialRank) }
            guard values.count == spatialRank else {
                throw BackendError.invalidArgument(
                    operation: "convolution",
                    reason: "\(name) has \(values.count) entries but the operands have \(spatialRank) spatial dimensions")
            }
            return values
        }
        var result = self
        result.strides = try fill(strides, 1, "strides")
        result.padding = try fill(padding, Padding(0, 0), "padding")
        result.inputDilation = try fill(inputDilation, 1, "inputDilation")
        result.kernelDilation = try fill(kernelDilation, 1, "kernelDilation")
        guard (result.strides + result.inputDilation + result.kernelDilation).allSatisfy({ $0 >= 1 }) else {
            throw BackendError.invalidArgument(
                operation: "convolution", reason: "strides and dilations must be at least 1")
        }
        guard groups >= 1 else {
            throw BackendError.invalidArgument(operation: "convolution", reason: "groups must be at least 1, got \(groups)")
        }
        try ShapeRules.requireRepresentable(
            result.strides + result.inputDilation + result.kernelDilation + result.padding.flatMap { [$0.low, $0.high] } + [groups],
            "convolution attribute", operation: "convolution")
        return result
    }
}

/// Attributes of a window reduction (pooling) over every dimension of the operand.
///
/// `windowDimensions`, `strides` and `padding` have one entry per dimension of the input, so
/// one descriptor covers 1-, 2- and 3-d pooling in any layout (use 1 for batch and channels).
public struct WindowDescriptor: Sendable, Hashable {
    /// The window's size per dimension of the input (1 for the batch and channels).
    public var windowDimensions: [Int]
    /// The window's step per dimension.
    public var strides: [Int]
    /// Padding per dimension.
    public var padding: [Padding]

    /// A window over every dimension of the input.
    public init(windowDimensions: [Int], strides: [Int], padding: [Padding]) {
        self.windowDimensions = windowDimensions
        self.strides = strides
        self.padding = padding
    }
}

/// Attributes of the fused normalisation `y = (x − mean) / sqrt(var + ε) · scale + offset`,
/// with mean and (biased) variance taken over `axes`. Batch norm reduces over all axes but the
/// channel axis; layer norm over the trailing feature axes.
public struct NormalizationDescriptor: Sendable, Hashable {
    /// The axes normalised over.
    public var axes: [Int]
    /// Added to the variance before its square root.
    public var epsilon: Float
    /// The dtype `normalize` writes its output in: `nil` for the dtype it computes in (the
    /// parameters'), or `bfloat16` with `float32` parameters, which rounds the output to nearest,
    /// ties to even — the bits of a cast after it, without the `float32` output's pass over
    /// memory. The statistics keep the parameters' dtype; `normalizeBackward` ignores it.
    public var outputDType: DType?

    /// Normalisation over `axes` with `epsilon`, its output in `outputDType` (default: the
    /// parameters' dtype).
    public init(axes: [Int], epsilon: Float, outputDType: DType? = nil) {
        self.axes = axes
        self.epsilon = epsilon
        self.outputDType = outputDType
    }

    /// This descriptor with its output in the dtype the normalisation computes in.
    public var computingOutput: NormalizationDescriptor {
        NormalizationDescriptor(axes: axes, epsilon: epsilon)
    }
}

/// Hyper-parameters of one Adam/AdamW step, following Kingma & Ba (2015) with optax's
/// placement of ε (outside the square root) and decoupled weight decay (Loshchilov & Hutter).
public struct AdamStep: Sendable, Hashable {
    /// The step size.
    public var learningRate: Float
    /// The first moment's decay.
    public var beta1: Float
    /// The second moment's decay.
    public var beta2: Float
    /// Added to the second moment's root.
    public var epsilon: Float
    /// Decoupled weight decay; 0 gives plain Adam.
    public var weightDecay: Float
    /// The 1-based step number used for bias correction.
    public var step: Int

    /// One Adam step's hyper-parameters.
    public init(
        learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, step: Int
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.step = step
    }
}

/// Hyper-parameters of one SGD step with heavy-ball or Nesterov momentum, in optax's form:
/// `v ← g + μ·v`, update `−lr · (nesterov ? g + μ·v : v)`.
public struct MomentumStep: Sendable, Hashable {
    /// The step size.
    public var learningRate: Float
    /// The velocity's decay.
    public var momentum: Float
    /// Whether the update looks ahead along the velocity (Nesterov).
    public var nesterov: Bool

    /// One momentum step's hyper-parameters.
    public init(learningRate: Float, momentum: Float, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
    }
}
