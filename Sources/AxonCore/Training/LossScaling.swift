/// Loss scaling, for training whose gradients would underflow in reduced precision: the loss is
/// multiplied by a scale before it is differentiated, and the gradients divided by it before
/// the optimizer sees them. With a power-of-two scale and no overflow, the update is exactly the
/// unscaled one.
///
/// ```swift
/// let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .adam(learningRate: 1e-3),
///                             on: backend, lossScaling: .dynamic())
/// ```
public enum LossScaling: Sendable, Equatable {
    /// No scaling.
    case none
    /// One scale throughout.
    case fixed(Float)
    /// Starts at `initial`; a step whose gradients are not all finite is skipped and divides the
    /// scale by `factor` (down to 1), and `growthInterval` finite steps in a row multiply it by
    /// `factor`. The scale and the count live in the optimizer state, so checkpoints keep them.
    case dynamic(initial: Float = 32_768, factor: Float = 2, growthInterval: Int = 2_000)

    /// The optimizer-state keys of the dynamic scale and its run of finite steps.
    public static let scaleKey = "loss_scale", finiteStepsKey = "loss_scale_finite_steps"

    /// Throws unless the settings are usable.
    func validate() throws {
        func refuse(_ reason: String) -> AxonError { AxonError.invalidValue(operation: "loss scaling", reason: reason) }
        switch self {
        case .none: return
        case let .fixed(scale):
            guard scale.isFinite, scale > 0 else { throw refuse("the scale must be finite and positive, got \(scale)") }
        case let .dynamic(initial, factor, interval):
            guard initial.isFinite, initial >= 1 else { throw refuse("the initial scale must be finite and at least 1, got \(initial)") }
            guard factor.isFinite, factor > 1 else { throw refuse("the factor must be finite and above 1, got \(factor)") }
            guard interval >= 1 else { throw refuse("the growth interval must be at least 1, got \(interval)") }
        }
    }

    /// The scale to use for the next step, from `state` for a dynamic scale.
    func scale(_ state: OptimizerState) -> Float? {
        switch self {
        case .none: return nil
        case let .fixed(scale): return scale
        case let .dynamic(initial, _, _): return state.hyperparameters[Self.scaleKey] ?? initial
        }
    }

    /// Records in `state` whether the step's gradients were finite, adjusting a dynamic scale.
    func update(_ state: inout OptimizerState, scale: Float, finite: Bool) {
        guard case let .dynamic(_, factor, interval) = self else { return }
        let run = finite ? state.counts[Self.finiteStepsKey, default: 0] + 1 : 0
        var next = finite ? scale : Swift.max(scale / factor, 1)
        if run >= interval { next = (scale * factor).isFinite ? scale * factor : scale }
        state.hyperparameters[Self.scaleKey] = next
        state.counts[Self.finiteStepsKey] = run >= interval ? 0 : run
    }

    /// Throws when a step's gradients are not finite although the scale is already at its
    /// smallest, 1: lowering it cannot help, so skipping would go on for ever.
    func requireProgress(scale: Float, finite: Bool, step: Int) throws {
        guard case .dynamic = self, !finite, scale <= 1 else { return }
        throw AxonError.invalidValue(
            operation: "loss scaling",
            reason: "step \(step) has gradients that are not finite at loss scale 1, so no smaller scale can find a finite step; "
                + "the model has diverged or the batch holds NaN or infinity: lower the learning rate, clip gradients, or check the data")
    }

    /// Whether a dynamic scale skips steps whose gradients are not finite.
    var skipsNonFiniteSteps: Bool {
        if case .dynamic = self { return true }
        return false
    }
}

extension ParameterStore {
    /// Whether every element of every tensor is finite, with one value read back.
    func allFinite() throws -> Bool {
        var probe: Tensor?
        for (_, tensor) in self {
            let zeroed = try (tensor.detached() * 0).sum()  // NaN exactly when an element is not finite
            probe = try probe.map { try $0 + zeroed } ?? zeroed
        }
        return try probe.map { try $0.item().isFinite } ?? true
    }

    /// Every tensor divided by `scale`.
    func divided(by scale: Float) throws -> ParameterStore {
        var result = ParameterStore()
        for (name, tensor) in self { result[name] = try tensor * (1 / scale) }
        return result
    }
}
