import Backend

/// Merges inputs of one shape elementwise.
struct MergeLayer: SerializableLayer, AxisNamingLayer {
    enum Operation: String, Sendable, Codable { case add, subtract, multiply }
    let operation: Operation
    var kind: String { operation.rawValue }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard inputs.count >= 2 else { throw LayerError("needs at least two inputs, got \(inputs.count)") }
        guard inputs.allSatisfy({ $0.isCompatible(with: inputs[0]) }) else {
            throw LayerError("inputs must have one shape, got \(inputs.map(\.shapeDescription).joined(separator: " and "))")
        }
        // Where one input knows a size, the output does.
        return inputs[0].indices.map { axis in inputs.lazy.compactMap { $0[axis] }.first }
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        var result = inputs[0]
        for input in inputs.dropFirst() {
            switch operation {
            case .add: result = try result + input
            case .subtract: result = try result - input
            case .multiply: result = try result * input
            }
        }
        return result
    }

    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        try AxisNaming.agreedNames(inputs, output: output)
    }
}

struct ConcatenateLayer: SerializableLayer, NamedAxisLayer, AxisNamingLayer {
    let axis: Axis
    var kind: String { "concatenate" }

    func resolvingAxes(in inputs: [NamedShape]) throws -> ConcatenateLayer {
        guard let first = inputs.first else { return self }
        return ConcatenateLayer(axis: .index(try first.position(of: axis)))
    }

    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        try AxisNaming.agreedNames(inputs, output: output)
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        guard let first = inputs.first else { throw LayerError("needs at least one input") }
        let axis = try self.axis.position()
        let resolved = axis < 0 ? axis + first.count : axis
        guard resolved >= 0, resolved < first.count else {
            throw LayerError("axis \(axis) is out of range for input \(first.shapeDescription)")
        }
        for input in inputs {
            let others = input.enumerated().filter { $0.offset != resolved }.map(\.element)
            let firstOthers = first.enumerated().filter { $0.offset != resolved }.map(\.element)
            guard input.count == first.count, others.isCompatible(with: firstOthers) else {
                throw LayerError("inputs must agree outside axis \(axis), got \(inputs.map(\.shapeDescription).joined(separator: " and "))")
            }
        }
        var shape = first
        shape[resolved] = inputs.reduce(Optional(0)) { total, input in total.flatMap { t in input[resolved].map { t + $0 } } }
        return shape
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        try Tensor.concatenate(inputs, axis: axis.position())
    }
}

/// One of `parts` equal slices along `axis`.
struct SplitLayer: SerializableLayer, NamedAxisLayer {
    let part: Int
    let parts: Int
    let axis: Axis
    var kind: String { "split" }

    func resolvingAxes(in inputs: [NamedShape]) throws -> SplitLayer {
        SplitLayer(part: part, parts: parts, axis: .index(try inputs[0].position(of: axis)))
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        let axis = try self.axis.position()
        var shape = inputs[0]
        let resolved = axis < 0 ? axis + shape.count : axis
        guard resolved >= 0, resolved < shape.count, let size = shape[resolved], parts > 0, size % parts == 0 else {
            throw LayerError("cannot split axis \(axis) of \(inputs[0].shapeDescription) into \(parts) equal parts")
        }
        shape[resolved] = size / parts
        return shape
    }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        let x = inputs[0]
        let resolved = try x.shape.normalizedAxis(axis.position(), operation: "split")
        let size = x.shape[resolved] / parts
        return try x.sliced(axis: resolved, (part * size)..<((part + 1) * size))
    }
}

extension Axon {
    /// The elementwise sum of models of one shape.
    public static func add(_ inputs: [Axon], name: String? = nil) -> Axon { apply(MergeLayer(operation: .add), to: inputs, name: name) }
    /// The first input minus the others.
    public static func subtract(_ inputs: [Axon], name: String? = nil) -> Axon { apply(MergeLayer(operation: .subtract), to: inputs, name: name) }
    /// The elementwise product.
    public static func multiply(_ inputs: [Axon], name: String? = nil) -> Axon { apply(MergeLayer(operation: .multiply), to: inputs, name: name) }
    /// Joins models along `axis` (a position or a name, see ``Axis``). Inputs that name an
    /// axis differently are refused.
    public static func concatenate(_ inputs: [Axon], axis: Axis = -1, name: String? = nil) -> Axon {
        apply(ConcatenateLayer(axis: axis), to: inputs, name: name)
    }

    /// This node plus `other`, elementwise with broadcasting.
    public func add(_ other: Axon, name: String? = nil) -> Axon { Axon.add([self, other], name: name) }
    /// This node minus `other`, elementwise with broadcasting.
    public func subtract(_ other: Axon, name: String? = nil) -> Axon { Axon.subtract([self, other], name: name) }
    /// This node times `other`, elementwise with broadcasting.
    public func multiply(_ other: Axon, name: String? = nil) -> Axon { Axon.multiply([self, other], name: name) }

    /// `self + block(self)`: a residual connection around `block`.
    public func residual(name: String? = nil, _ block: (Axon) -> Axon) -> Axon { add(block(self), name: name) }

    /// Splits into `parts` equal slices along `axis` (a position or a name), one model per slice.
    public func split(_ parts: Int, axis: Axis = -1) -> [Axon] {
        (0..<Swift.max(parts, 1)).map { apply(SplitLayer(part: $0, parts: parts, axis: axis)) }
    }
}
