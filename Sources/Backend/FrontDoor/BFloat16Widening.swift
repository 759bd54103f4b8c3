// The one mechanism by which every backend computes in bfloat16: an operation whose family the
// implementation does not declare native for bfloat16 runs in float32 on widened operands
// (widening is exact) and its float32 results round back to bfloat16, as the specification
// allows. A backend declares the families it computes natively in `NativeOperations.bfloat16`.

/// The families of operations a backend may compute natively in `bfloat16`.
public enum OperationFamily: String, Sendable, Hashable, CaseIterable {
    /// `unary`, `binary`, `compare` and `select`.
    case elementwise
    /// `reduce` and `indexReduce`.
    case reduction
    /// `matmul` and the fused `dense`.
    case matrix
    /// Convolutions, fused or not, transposed, and their backward ops.
    case convolution
    /// `window` and `windowBackward`.
    case window
    /// Reshapes, permutes, slices, pads, concatenation, broadcasts, gathers and `scatterAdd`.
    case layout
    /// `normalize` and `normalizeBackward`.
    case normalization
    /// `softmax`, `logSoftmax` and softmax cross-entropy forward and backward.
    case rows
    /// `attention` and `attentionBackward`.
    case attention
    /// `recurrentSequence` and its backward.
    case recurrent
    /// `dropout` and `dropoutBackward`.
    case dropout
    /// `momentumUpdate` and `adamUpdate`.
    case optimizer
}

/// A result whose buffers the front door can round back to `bfloat16` after computing in `float32`.
public protocol BufferBundle {
    /// The result with `transform` applied to each of its buffers.
    func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> Self
}

extension Buffer: BufferBundle {
    /// `transform(self)`.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> Buffer { try transform(self) }
}

extension NormalizationResult: BufferBundle {
    /// The result with `transform` applied to the output and the statistics.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> NormalizationResult {
        NormalizationResult(output: try transform(output), mean: try transform(mean), inverseStd: try transform(inverseStd))
    }
}

extension NormalizationGradients: BufferBundle {
    /// The gradients with `transform` applied to each.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> NormalizationGradients {
        NormalizationGradients(input: try transform(input), scale: try transform(scale), offset: try transform(offset))
    }
}

extension DropoutResult: BufferBundle {
    /// The result with `transform` applied to the output and the mask.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> DropoutResult {
        DropoutResult(output: try transform(output), mask: try transform(mask))
    }
}

extension AttentionResult: BufferBundle {
    /// The result with `transform` applied to the output and the weights.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> AttentionResult {
        AttentionResult(output: try transform(output), weights: try transform(weights))
    }
}

extension AttentionGradients: BufferBundle {
    /// The gradients with `transform` applied to each.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> AttentionGradients {
        AttentionGradients(query: try transform(query), key: try transform(key), value: try transform(value))
    }
}

extension RecurrentSequenceResult: BufferBundle {
    /// The result with `transform` applied to the output, the states and the workspace.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> RecurrentSequenceResult {
        RecurrentSequenceResult(output: try transform(output), states: try states.map(transform), workspace: try workspace.map(transform))
    }
}

extension RecurrentSequenceGradients: BufferBundle {
    /// The gradients with `transform` applied to each.
    public func mapBuffers(_ transform: (Buffer) throws -> Buffer) rethrows -> RecurrentSequenceGradients {
        RecurrentSequenceGradients(
            input: try transform(input), kernel: try transform(kernel), recurrentKernel: try transform(recurrentKernel),
            bias: try bias.map(transform), recurrentBias: try recurrentBias.map(transform),
            initialStates: try initialStates.map(transform))
    }
}

/// Widens `bfloat16` operands to `float32` for an operation computed in `float32`, and rounds
/// its `float32` results back, with `backend`'s casts (the door's, or a backend's own).
struct BFloat16Widening {
    let backend: any Backend

    /// `x` in `float32` when it is `bfloat16`, else `x`.
    func callAsFunction(_ x: Buffer) throws -> Buffer {
        x.dtype == .bfloat16 ? try backend.cast(x, to: .float32) : x
    }

    /// `x` widened when present.
    func callAsFunction(_ x: Buffer?) throws -> Buffer? {
        try x.map { try self($0) }
    }

    /// Every floating-point operand of a recurrent sequence widened.
    func callAsFunction(_ operands: RecurrentOperands) throws -> RecurrentOperands {
        RecurrentOperands(
            input: try self(operands.input), kernel: try self(operands.kernel), recurrentKernel: try self(operands.recurrentKernel),
            bias: try self(operands.bias), recurrentBias: try self(operands.recurrentBias),
            initialStates: try operands.initialStates.map { try self($0) }, lengths: operands.lengths,
            recurrentMask: try self(operands.recurrentMask))
    }

    /// Every `float32` buffer of `result` rounded to `bfloat16`; other dtypes (masks, indices) kept.
    func narrow<Result: BufferBundle>(_ result: Result) throws -> Result {
        try result.mapBuffers { $0.dtype == .float32 ? try backend.cast($0, to: .bfloat16) : $0 }
    }
}

extension CheckedBackend {
    /// A widening when any of `operands` is `bfloat16` and the implementation does not compute
    /// `family` natively in `bfloat16`; `nil` when the operation runs as given.
    func widening(_ family: OperationFamily, _ operands: [Buffer?]) -> BFloat16Widening? {
        // The operands first: on the common float32 path that is the only work.
        guard operands.contains(where: { $0?.dtype == .bfloat16 }), !nativeOperations.bfloat16.contains(family) else { return nil }
        return BFloat16Widening(backend: self)
    }
}

extension Backend {
    /// `body` on `operands` with every `bfloat16` one widened to `float32`, and every `float32`
    /// buffer of its result rounded to `bfloat16`: how a backend that declares a family native
    /// in `bfloat16` (``NativeOperations/bfloat16``) runs the cases its fast path cannot take.
    public func computingInFloat32<Result: BufferBundle>(_ operands: [Buffer], _ body: ([Buffer]) throws -> Result) throws -> Result {
        let widening = BFloat16Widening(backend: self)
        return try widening.narrow(body(operands.map { try widening($0) }))
    }
}
