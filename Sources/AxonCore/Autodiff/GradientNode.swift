import Backend

/// One recorded operation: which tracked tensors it read, and how to turn the cotangent of its
/// result into cotangents of those inputs (its vector-Jacobian product).
final class GradientNode: @unchecked Sendable {
    /// The node of each input, `nil` for inputs that do not depend on a differentiated value.
    let parents: [GradientNode?]
    /// Maps the output's cotangent to one cotangent per input (`nil`: no contribution).
    let pullback: (Tensor) throws -> [Tensor?]

    init(parents: [GradientNode?], pullback: @escaping (Tensor) throws -> [Tensor?]) {
        self.parents = parents
        self.pullback = pullback
    }

    /// A node for a value being differentiated: it has no inputs.
    static func leaf() -> GradientNode { GradientNode(parents: []) { _ in [] } }
}

extension Tensor {
    /// Runs `forward` on the inputs' buffers and, if any input is tracked, records `pullback`.
    /// `forward` must read only the buffers it is handed (see ``computeBuffers(_:_:on:key:_:)``).
    ///
    /// The pullback receives the output's cotangent, the inputs and the output, all detached,
    /// so the gradient computation itself records nothing.
    static func make(
        _ operation: String, _ inputs: [Tensor], elementwise: Trace.Elementwise? = nil, _ forward: @escaping (any Backend, [Buffer]) throws -> Buffer,
        pullback: @escaping (_ cotangent: Tensor, _ inputs: [Tensor], _ output: Tensor) throws -> [Tensor?]
    ) throws -> Tensor {
        try make(operation, inputs, elementwise: elementwise, forward) { cotangent, inputs, output, _ in try pullback(cotangent, inputs, output) }
    }

    /// ``make(_:_:_:pullback:)`` for an operation whose input cotangents cost enough to skip
    /// the unwanted ones: `wanted[i]` says whether input `i` depends on a differentiated value
    /// (the model's data, labels and constants do not), and a cotangent not wanted may be `nil`.
    static func make(
        _ operation: String, _ inputs: [Tensor], elementwise: Trace.Elementwise? = nil, _ forward: @escaping (any Backend, [Buffer]) throws -> Buffer,
        pullback: @escaping (_ cotangent: Tensor, _ inputs: [Tensor], _ output: Tensor, _ wanted: [Bool]) throws -> [Tensor?]
    ) throws -> Tensor {
        let (backend, outputs) = try computeBuffers(operation, inputs, elementwise: elementwise) { backend, buffers, _ in [try forward(backend, buffers)] }
        return record(outputs[0], on: backend, inputs: inputs, pullback: pullback)
    }

    /// Wraps an already computed buffer, recording `pullback` if any input is tracked.
    static func record(
        _ output: Buffer, on backend: any Backend, inputs: [Tensor],
        pullback: @escaping (_ cotangent: Tensor, _ inputs: [Tensor], _ output: Tensor) throws -> [Tensor?]
    ) -> Tensor {
        record(output, on: backend, inputs: inputs) { cotangent, inputs, output, _ in try pullback(cotangent, inputs, output) }
    }

    /// ``record(_:on:inputs:pullback:)`` whose pullback is told which inputs want a cotangent.
    static func record(
        _ output: Buffer, on backend: any Backend, inputs: [Tensor],
        pullback: @escaping (_ cotangent: Tensor, _ inputs: [Tensor], _ output: Tensor, _ wanted: [Bool]) throws -> [Tensor?]
    ) -> Tensor {
        guard inputs.contains(where: { $0.node != nil }), output.dtype.isFloatingPoint else {
            return Tensor(buffer: output, backend: backend)
        }
        let detachedInputs = inputs.map { $0.detached() }
        let detachedOutput = Tensor(buffer: output, backend: backend)
        let wanted = inputs.map { $0.node != nil }
        let node = GradientNode(parents: inputs.map(\.node)) { cotangent in
            try pullback(cotangent, detachedInputs, detachedOutput, wanted)
        }
        return Tensor(buffer: output, backend: backend, node: node)
    }

    /// The backend all operands share, or an error naming the ones that differ.
    static func commonBackend(_ operation: String, _ inputs: [Tensor]) throws -> any Backend {
        guard let first = inputs.first?.backend else {
            throw AxonError.invalidValue(operation: operation, reason: "needs at least one operand")
        }
        for input in inputs.dropFirst() where !input.backend.isSameBackend(as: first) {
            throw AxonError.backendMismatch(operation: operation, backends: inputs.map(\.backend.name))
        }
        return first
    }
}
