import Backend

/// A kind of layer: how it names itself, which parameters it declares, how it infers its output
/// shape and how it computes. Layers are thin: ``apply(_:_:)`` calls a functional
/// implementation in ``Layers``.
///
/// Conform to it for a reusable layer type; for a one-off, ``Axon/layer(_:inputs:parameters:outputShape:name:_:)``
/// wraps a closure.
public protocol Layer: Sendable {
    /// The kind shown in summaries and used for default names (`dense` → `dense_0`).
    var kind: String { get }
    /// The parameters (and state) this layer needs for inputs of these shapes. Throw
    /// ``LayerError`` to reject them.
    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec]
    /// The output shape for inputs of these shapes, or `nil` to infer it by tracing
    /// ``apply(_:_:)`` on zeros. Throw ``LayerError`` to reject them.
    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape?
    /// Computes the layer's output.
    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor
}

extension Layer {
    public func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] { [] }
}

/// A problem with a layer's inputs or options, reported with the layer's name by the builder.
public struct LayerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// An error with `message`; the builder adds the layer's name and kind.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parameter or state tensor that a layer declares.
public struct ParameterSpec: Sendable {
    /// What a parameter is for.
    public enum Role: Sendable, Equatable {
        /// Updated by the optimizer.
        case trainable
        /// Updated by the layer itself in training mode (e.g. batch-norm running statistics).
        case state
    }

    /// The name within the layer (`kernel`), prefixed with the layer's name when stored.
    public let name: String
    /// The shape.
    public let shape: Shape
    /// How it starts.
    public let initializer: Initializer
    /// Whether it is trained by gradients or is model state.
    public let role: Role
    /// A penalty the training loop adds to the loss.
    public let regularizer: Regularizer?

    /// Declares a parameter `name` of `shape`.
    public init(_ name: String, shape: Shape, initializer: Initializer, role: Role = .trainable, regularizer: Regularizer? = nil) {
        self.name = name
        self.shape = shape
        self.initializer = initializer
        self.role = role
        self.regularizer = regularizer
    }
}

/// Whether a model runs for training or for inference.
public enum Mode: String, Sendable {
    /// Dropout is active and batch norm uses and updates batch statistics.
    case train
    /// Dropout is off and batch norm uses its running statistics.
    case inference
}

/// What a layer sees while it runs: its parameters and state by name, the mode, and a random
/// key of its own.
public final class LayerContext {
    /// The layer's unique name (`dense_0`).
    public let layerName: String
    /// Inference or training.
    public let mode: Mode
    /// A key for this layer and step, derived from the call's key and the layer's name.
    public let randomKey: Philox.Key
    /// The backend the layer computes on.
    public let backend: any Backend
    let parameterLookup: (String) throws -> Tensor
    /// This rank's part of the global batch in data-parallel training, `nil` otherwise.
    let share: RankShare?
    var updatedState: [String: Tensor] = [:]

    init(
        layerName: String, mode: Mode, randomKey: Philox.Key, backend: any Backend, share: RankShare? = nil,
        parameterLookup: @escaping (String) throws -> Tensor
    ) {
        self.layerName = layerName
        self.mode = mode
        self.randomKey = randomKey
        self.backend = backend
        self.share = share
        self.parameterLookup = parameterLookup
    }

    /// Where this rank's examples start in the global batch in data-parallel training (0 in
    /// one process).
    public var firstExample: Int { share?.start ?? 0 }

    /// The Philox offset at which a random mask whose first axis runs over the batch starts,
    /// for masks with `elementsPerExample` elements per example: 0 in one process; in
    /// data-parallel training, where this rank's examples start in the global batch, so that
    /// the ranks' masks are the rows of the one mask a single process draws for the whole
    /// batch. Pass 0 for a mask shared by every example.
    ///
    /// ```swift
    /// // In a custom layer's apply: drop features per example.
    /// let kept = try x.dropout(rate: 0.1, key: context.randomKey,
    ///                          offset: context.maskOffset(elementsPerExample: x.count / x.shape[0]))
    /// ```
    public func maskOffset(elementsPerExample: Int) -> UInt64 {
        guard elementsPerExample > 0 else { return 0 }
        return UInt64(firstExample) &* UInt64(elementsPerExample)
    }

    /// The layer's parameter or state tensor called `name` (as declared in its ``ParameterSpec``).
    public func parameter(_ name: String) throws -> Tensor { try parameterLookup(name) }

    /// Replaces a state tensor for the next call (training mode only keeps it).
    public func updateState(_ name: String, _ value: Tensor) { updatedState[name] = value.detached() }
}
