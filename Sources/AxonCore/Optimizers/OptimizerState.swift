import Backend

/// The state of a gradient transformation: tensors keyed `slot/parameter` (for example
/// `mu/dense_0.kernel`), step counters, and hyper-parameters that handlers may change while
/// training (`learning_rate_scale`). `chain(_:)` keeps each part's state under its index
/// (`0/mu/dense_0.kernel`), so any optimizer's state is one flat, checkpointable store.
public struct OptimizerState: Sendable {
    /// Slot tensors by `slot/parameter` name (`mu/dense_0.kernel`).
    public var tensors: ParameterStore
    /// Step counts by name.
    public var counts: [String: Int]
    /// Shared by every part of a chain.
    public var hyperparameters: [String: Float]

    /// A state of the given tensors, counts and hyper-parameters.
    public init(tensors: ParameterStore = ParameterStore(), counts: [String: Int] = [:], hyperparameters: [String: Float] = [:]) {
        self.tensors = tensors
        self.counts = counts
        self.hyperparameters = hyperparameters
    }

    /// The key of the learning-rate multiplier that ``Loop/reduceLROnPlateau(monitor:factor:patience:mode:minimumScale:)``
    /// adjusts; learning rates are multiplied by it (default 1).
    public static let learningRateScale = "learning_rate_scale"

    /// The slot tensor for `parameter`.
    public func tensor(_ slot: String, _ parameter: String) throws -> Tensor { try tensors.tensor("\(slot)/\(parameter)") }

    /// Sets the slot tensor `slot` of `parameter`.
    public mutating func set(_ slot: String, _ parameter: String, _ value: Tensor) { tensors["\(slot)/\(parameter)"] = value }

    /// The part of the state under `prefix/`, with the prefix removed: the state of one of
    /// several optimizers kept in one store, or of one part of a chain.
    public func part(_ prefix: String) -> OptimizerState {
        let marker = prefix + "/"
        var result = OptimizerState(hyperparameters: hyperparameters)
        for (name, tensor) in tensors where name.hasPrefix(marker) { result.tensors[String(name.dropFirst(marker.count))] = tensor }
        for (name, count) in counts where name.hasPrefix(marker) { result.counts[String(name.dropFirst(marker.count))] = count }
        return result
    }

    /// Stores `part` under `prefix/`, replacing what was there.
    public mutating func merge(_ part: OptimizerState, prefix: String) {
        for (name, tensor) in part.tensors { tensors["\(prefix)/\(name)"] = tensor }
        for (name, count) in part.counts { counts["\(prefix)/\(name)"] = count }
        hyperparameters.merge(part.hyperparameters) { _, new in new }
    }
}
