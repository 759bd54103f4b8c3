import Backend

/// A mixed-precision policy, as Axon's `Axon.MixedPrecision`: the dtype parameters are kept in,
/// the dtype a layer computes in, and the dtype it hands on.
///
/// Under ``bfloat16`` a layer casts its floating-point inputs and its parameters to `bfloat16`,
/// computes, and casts its output back to `float32`. The parameters themselves stay `float32`:
/// that master copy is what the optimizer updates and checkpoints store, and the casts'
/// gradients bring each update back to it in `float32`. Integer inputs (labels, token ids) are
/// never cast, so no integer loses its value.
///
/// ```swift
/// let model = Axon.input("x", shape: [nil, 784]).dense(128, activation: .relu).batchNorm().dense(10)
/// let mixed = try model.applyingPolicy(.bfloat16)  // batch_norm stays float32
/// ```
public struct PrecisionPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The dtype parameters are stored and updated in (the master copy): `float32`.
    public let parameters: DType
    /// The dtype a layer computes in: `float32` or `bfloat16`.
    public let compute: DType
    /// The dtype of a layer's floating-point output: `float32` or `bfloat16`.
    public let output: DType

    /// A policy; throws unless `parameters` is `float32` (the master copy the optimizer
    /// updates) and `compute` and `output` are floating-point dtypes.
    public init(parameters: DType = .float32, compute: DType, output: DType = .float32) throws {
        guard parameters == .float32 else {
            throw AxonError.invalidValue(
                operation: "precision policy",
                reason: "parameters are kept as a float32 master copy, got \(parameters); ask for \(parameters) computation with compute: .\(parameters)")
        }
        for (role, dtype) in [("compute", compute), ("output", output)] where !dtype.isFloatingPoint {
            throw AxonError.invalidValue(
                operation: "precision policy", reason: "the \(role) dtype must be float32 or bfloat16, got \(dtype)")
        }
        (self.parameters, self.compute, self.output) = (parameters, compute, output)
    }

    private init(compute: DType) {
        self.parameters = .float32
        self.compute = compute
        self.output = .float32
    }

    /// `float32` parameters, `bfloat16` computation, `float32` outputs.
    public static let bfloat16 = PrecisionPolicy(compute: .bfloat16)
    /// Everything in `float32`: the default.
    public static let float32 = PrecisionPolicy(compute: .float32)

    /// The layer kinds a policy leaves in `float32` unless told otherwise: normalisation, whose
    /// statistics need `float32`'s precision.
    public static let float32Kinds: Set<String> = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]

    public var description: String { "parameters \(parameters), compute \(compute), output \(output)" }

    /// `tensor` in the compute dtype when it holds floats.
    func computing(_ tensor: Tensor) throws -> Tensor {
        tensor.dtype.isFloatingPoint ? try tensor.cast(to: compute) : tensor
    }

    /// `tensor` in the output dtype when it holds floats.
    func emitting(_ tensor: Tensor) throws -> Tensor {
        tensor.dtype.isFloatingPoint ? try tensor.cast(to: output) : tensor
    }
}

extension Axon {
    /// Applies `policy` to every layer built so far except those of the kinds in `except`
    /// (normalisation by default), as Axon's `apply_policy`.
    public func applyingPolicy(_ policy: PrecisionPolicy, except kinds: Set<String> = PrecisionPolicy.float32Kinds) throws -> Axon {
        try applyingPolicy(policy) { !kinds.contains($0.kind) }
    }

    /// Applies `policy` to the layers `predicate` selects (inputs are never computed, so never selected).
    ///
    /// ```swift
    /// let model = Axon.input("x", shape: [nil, 784]).dense(128, activation: .relu).dense(10)
    /// let headInBFloat16 = try model.applyingPolicy(.bfloat16) { $0.name == "dense_1" }
    /// ```
    public func applyingPolicy(_ policy: PrecisionPolicy, where predicate: (GraphNode) throws -> Bool) throws -> Axon {
        try rewriting { info, node in
            guard !(info.layer is InputLayer), try predicate(info) else { return node }
            return node.with(policy: policy)
        }
    }

    /// The policy of each layer that has one, by layer name.
    public var policies: [String: PrecisionPolicy] {
        get throws {
            try GraphAnalysis.analyze(node, backend: nil).reduce(into: [:]) { result, entry in
                if let policy = entry.node.policy { result[entry.name] = policy }
            }
        }
    }
}
