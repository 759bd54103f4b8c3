/// The one interface through which every numeric operation of Axon runs.
///
/// A backend implements the primitive families (each declared in its own protocol, in its own
/// file) and may override the fused ops, whose default implementations in `Fused*.swift`
/// compose primitives. Every operation takes and returns immutable ``Buffer``s owned by the
/// backend. Callers reach a backend through its front door, ``CheckedBackend``, which checks
/// operands by the rules of ``ShapeRules`` once and throws ``BackendError`` on bad input, so a
/// backend computes on operands that are already valid.
///
/// ```swift
/// func double(_ x: Buffer, on backend: any Backend) throws -> Buffer {
///     try backend.binary(.add, x, x)
/// }
/// ```
public protocol Backend: BufferOperations, ElementwiseOperations, ReductionOperations,
    MatrixOperations, ConvolutionOperations, WindowOperations, LayoutOperations, RandomOperations,
    AnyObject, Sendable
{
    /// The registry name: `reference`, `onednn`, `vulkan`, ...
    var name: String { get }
    /// The device the backend computes on, in words (for `axon backends` and reports).
    var deviceDescription: String { get }
    /// The optional primitives this backend runs natively (default: all of them); the front
    /// door decomposes the others into required ones.
    var nativeOperations: NativeOperations { get }

    // MARK: Fused ops (default compositions in FusedLayers.swift, FusedAttention.swift, FusedRecurrent.swift and FusedOptimizers.swift)

    /// `activation(x · weight + bias)` over the last axis of `x`; `weight` is `[in, out]`.
    func dense(_ x: Buffer, weight: Buffer, bias: Buffer?, activation: FusedActivation) throws -> Buffer
    /// `activation(convolution(input, kernel) + bias)`; `bias` has one value per output channel.
    func convolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer
    /// `activation(transposedConvolution(input, kernel) + bias)`: the adjoint of the
    /// convolution that `descriptor` and `kernel` describe from `outputShape` to `input.shape`
    /// (``ConvolutionOperations/convolutionBackwardInput(gradOutput:kernel:inputShape:descriptor:)``
    /// with `input` as the gradient), so each input element scatters `kernel` into the output.
    /// `kernel` is `[spatial..., outChannels / groups, inChannels]`; `bias` has one value per
    /// output channel.
    func transposedConvolution(
        _ input: Buffer, kernel: Buffer, bias: Buffer?, outputShape: Shape, descriptor: ConvolutionDescriptor,
        activation: FusedActivation
    ) throws -> Buffer
    /// Scaled dot-product attention `softmax(s · q·kᵀ + mask) · v` over the last two axes, with
    /// dropout on the weights (see ``AttentionDescriptor``). `query` is `[batch..., queries, d]`,
    /// `key` `[batch..., keys, d]`, `value` `[batch..., keys, dv]` with the same batch axes; `mask`
    /// broadcasts to `[batch..., queries, keys]` and is added (the query's float dtype) or keeps where true (`bool`).
    func attention(query: Buffer, key: Buffer, value: Buffer, mask: Buffer?, descriptor: AttentionDescriptor) throws -> AttentionResult
    /// Gradients of ``attention(query:key:value:mask:descriptor:)`` for the query, key and value,
    /// from the weights it returned (the mask is a constant).
    func attentionBackward(
        gradOutput: Buffer, query: Buffer, key: Buffer, value: Buffer, weights: Buffer, descriptor: AttentionDescriptor
    ) throws -> AttentionGradients
    /// A recurrent layer over a whole sequence (see ``RecurrentDescriptor`` for the cells):
    /// every step's output, the final states, and a workspace for the backward pass.
    func recurrentSequence(_ operands: RecurrentOperands, descriptor: RecurrentDescriptor) throws -> RecurrentSequenceResult
    /// Gradients of ``recurrentSequence(_:descriptor:)`` through time, from the gradients of its
    /// output and final states and the workspace it returned.
    func recurrentSequenceBackward(
        gradOutput: Buffer, gradStates: [Buffer], operands: RecurrentOperands, workspace: [Buffer], descriptor: RecurrentDescriptor
    ) throws -> RecurrentSequenceGradients
    /// `exp(x) / Σ exp(x)` along `axis`, computed stably (the maximum is subtracted first).
    func softmax(_ x: Buffer, axis: Int) throws -> Buffer
    /// `x − log Σ exp(x)` along `axis`, computed stably.
    func logSoftmax(_ x: Buffer, axis: Int) throws -> Buffer
    /// `−Σ labels · logSoftmax(logits)` along `axis`, which is removed from the result.
    /// `labels` are probabilities (one-hot or smoothed) of the logits' shape.
    func softmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer
    /// The gradient of ``softmaxCrossEntropy(logits:labels:axis:)`` with respect to the logits:
    /// `gradLoss · (softmax(logits) · Σ labels − labels)`.
    func softmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer
    /// The cotangent of `x` carried back through `y = activation(x)`, from the output `y` and
    /// its cotangent `gradOutput` (of `y`'s shape and dtype): `gradOutput · activation′(x)`, i.e.
    /// `gradOutput` where `y > 0` (else 0) for relu, `gradOutput · y · (1 − y)` for sigmoid and
    /// `gradOutput · (1 − y²)` for tanh. One pass in place of the compare-and-select or products
    /// it composes.
    func activationBackward(_ activation: FusedActivation, output: Buffer, gradOutput: Buffer) throws -> Buffer
    /// Runs a chain of elementwise operations (see ``ElementwiseProgram``) on its inputs, each
    /// of the result's shape or a single element: ideally one pass over memory instead of one
    /// per operation, with each element's bits those of the primitives it chains. Float32
    /// only: the front door runs a bfloat16 program as its primitives, each rounding its result.
    func elementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer
    /// Normalises `x` over `descriptor.axes`, then scales and offsets (both broadcast to `x`).
    ///
    /// Mixed precision: `x` may be `bfloat16` while `scale` and `offset` are `float32`. Then `x`
    /// is widened (exactly) and everything is computed and returned in `float32`: the same
    /// result as on `x` cast to `float32`, without that cast's pass over memory. With `float32`
    /// parameters, `descriptor.outputDType` may ask for a `bfloat16` output (rounded as a cast
    /// would round it); the front door casts for an implementation that does not declare
    /// `normalization` in ``NativeOperations/bfloat16``, and one that does must honour it.
    func normalize(
        _ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor
    ) throws -> NormalizationResult
    /// Gradients of ``normalize(_:scale:offset:descriptor:)`` for the input, scale and offset,
    /// the latter two summed back to their own shapes. Mixed precision: `input` and
    /// `gradOutput` may each be `bfloat16` while `scale`, `mean` and `inverseStd` are
    /// `float32`; everything is computed in `float32`, the input's gradient is returned in the
    /// input's dtype and the others in `float32`.
    func normalizeBackward(
        gradOutput: Buffer, input: Buffer, scale: Buffer, mean: Buffer, inverseStd: Buffer,
        descriptor: NormalizationDescriptor
    ) throws -> NormalizationGradients
    /// Inverted dropout: keeps an element where its random bits are below `(1 − rate) · 2³²`
    /// and scales kept elements by `1 / (1 − rate)`. The mask (`bool`, of `noiseShape`, which
    /// broadcasts to `x`) uses the bits of ``RandomOperations/randomBits(key:offset:shape:)``.
    func dropout(_ x: Buffer, rate: Float, key: Philox.Key, offset: UInt64, noiseShape: Shape) throws -> DropoutResult
    /// The gradient of ``dropout(_:rate:key:offset:noiseShape:)``: `gradient · 1/(1 − rate)`
    /// where `mask` (the forward's, which broadcasts to `gradient`) is true and zero elsewhere,
    /// with the same float32 scale as the forward.
    func dropoutBackward(_ gradient: Buffer, mask: Buffer, rate: Float) throws -> Buffer
    /// One SGD-with-momentum step; returns the new parameter and velocity.
    func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer)
    /// One Adam/AdamW step; returns the new parameter and moments.
    func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer)

    // MARK: Recording (default in RecordedWork.swift: none)

    /// Records the work of the operations `body` calls on this backend for replaying (see
    /// ``RecordedWork``), or returns `nil` without calling `body` when the backend does not
    /// record. `body` receives buffers of `inputs`' shapes and dtypes that stand for them —
    /// their contents are the inputs' only when the recording runs — and returns the outputs.
    /// While `body` records nothing runs, so an operation that needs a result on the host (to
    /// check indices, say) throws, and so does the recording.
    func recordWork(inputs: [Buffer], _ body: ([Buffer]) throws -> [Buffer]) throws -> (any RecordedWork)?
}

/// What ``Backend/normalize(_:scale:offset:descriptor:)`` returns. `mean` and `inverseStd`
/// keep the reduced axes as size-1 dimensions.
public struct NormalizationResult: Sendable {
    /// The normalised, scaled and shifted input.
    public let output: Buffer
    /// The mean over the normalised axes.
    public let mean: Buffer
    /// `1 / √(variance + ε)` over the normalised axes.
    public let inverseStd: Buffer
    /// A result of the three buffers.
    public init(output: Buffer, mean: Buffer, inverseStd: Buffer) {
        self.output = output
        self.mean = mean
        self.inverseStd = inverseStd
    }
}

/// What ``Backend/normalizeBackward(gradOutput:input:scale:mean:inverseStd:descriptor:)`` returns.
public struct NormalizationGradients: Sendable {
    /// The gradient with respect to the input.
    public let input: Buffer
    /// The gradient with respect to the scale.
    public let scale: Buffer
    /// The gradient with respect to the offset.
    public let offset: Buffer
    /// Gradients of the three operands.
    public init(input: Buffer, scale: Buffer, offset: Buffer) {
        self.input = input
        self.scale = scale
        self.offset = offset
    }
}

/// What ``Backend/dropout(_:rate:key:offset:noiseShape:)`` returns.
public struct DropoutResult: Sendable {
    /// The input with dropped elements zeroed and kept ones scaled by `1 / (1 − rate)`.
    public let output: Buffer
    /// `true` where an element was kept.
    public let mask: Buffer
    /// A result of the output and its mask.
    public init(output: Buffer, mask: Buffer) {
        self.output = output
        self.mask = mask
    }
}
