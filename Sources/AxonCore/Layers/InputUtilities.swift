import Backend

extension Axon {
    /// An input that may be left out when the model runs. Without it, the layers that read it
    /// (directly or through others) are left out too, as Axon's optional inputs; wrap it (or a
    /// layer computed from it) in ``optional(name:)`` where the reading layer can do without it.
    ///
    /// ```swift
    /// let mask = Axon.optionalInput("mask", shape: [nil, 1, 1, 5])
    /// let attended = Axon.dotProductAttention(query: q, key: k, value: v, mask: mask.optional())  // unmasked without it
    /// ```
    public static func optionalInput(_ name: String, shape: SymbolicShape, axes: [String]? = nil, dtype: DType = .float32) -> Axon {
        Axon(Node(layer: InputLayer(shape: shape, dtype: dtype, isOptional: true, axisNames: axes), inputs: [], name: name))
    }

    /// Marks this value as one the next layer can do without: when an optional input it depends
    /// on is not given, the layer reading it runs without this argument instead of being left out
    /// (attention without its mask, for example). Otherwise it passes the value through.
    public func optional(name: String? = nil) -> Axon {
        apply(OptionalLayer(), name: name)
    }

    /// Stacks inputs of one value per example (`[batch]` or `[batch, 1]` each) as the columns of
    /// one `[batch, columns]` tensor, in the order given, as Axon's `stack_columns` (for tabular
    /// data that arrives as named columns).
    ///
    /// ```swift
    /// let features = Axon.stackColumns([Axon.input("age", shape: [nil]), Axon.input("income", shape: [nil, 1])])
    /// ```
    public static func stackColumns(_ columns: [Axon], name: String? = nil) -> Axon {
        apply(StackColumnsLayer(), to: columns, name: name)
    }

    /// A function of one tensor as a layer without parameters, as Axon's `nx`: any composition of
    /// ``Tensor`` operations, differentiated through like every other layer. The output shape is
    /// found by running `function` once on zeros when the model is built.
    ///
    /// ```swift
    /// let scaled = Axon.input("x", shape: [nil, 4]).nx("log1p") { x in try (x.abs() + 1).log() }
    /// ```
    public func nx(_ kind: String = "nx", name: String? = nil, _ function: @escaping @Sendable (Tensor) throws -> Tensor) -> Axon {
        Axon.layer(kind, inputs: [self], name: name) { inputs, _ in try function(inputs[0]) }
    }
}

/// Passes its input through; marks it as one the next layer may run without (see ``Axon/optional(name:)``).
struct OptionalLayer: SerializableLayer {
    var kind: String { "optional" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { inputs[0] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { inputs[0] }
}

/// One-value-per-example inputs as the columns of a matrix.
struct StackColumnsLayer: SerializableLayer {
    var kind: String { "stack_columns" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard !inputs.isEmpty else { throw LayerError("needs at least one column") }
        for (index, input) in inputs.enumerated() where !(input.count == 1 || (input.count == 2 && input[1] == 1)) {
            throw LayerError("column \(index) has shape \(input.shapeDescription); each column must be [batch] or [batch, 1]")
        }
        let batches = Set(inputs.compactMap { $0[0] })
        guard batches.count <= 1 else {
            throw LayerError("columns have different batch sizes: \(inputs.map(\.shapeDescription).joined(separator: ", "))")
        }
        return [batches.first, inputs.count]
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Tensor.concatenate(inputs.map { try $0.reshaped(to: [$0.shape[0], 1]) }, axis: 1)
    }
}

/// A layer that can run without some of its trailing inputs, when they come through
/// ``Axon/optional(name:)`` from an optional input that was not given.
protocol RunsWithoutOptionalInputs: Layer {
    /// How many inputs it needs at least.
    var requiredInputs: Int { get }
}

extension DotProductAttentionLayer: RunsWithoutOptionalInputs { var requiredInputs: Int { 3 } }
extension HeadsAttentionLayer: RunsWithoutOptionalInputs { var requiredInputs: Int { 3 } }
extension AdditiveAttentionLayer: RunsWithoutOptionalInputs { var requiredInputs: Int { 3 } }
extension MergeLayer: RunsWithoutOptionalInputs { var requiredInputs: Int { 1 } }
