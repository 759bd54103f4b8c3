import Backend

/// A node with its unique name, input positions, inferred output shape and parameters.
struct AnalyzedNode: Sendable {
    let node: Node
    let name: String
    let inputIndices: [Int]
    /// `nil` only when the shape needs tracing and no backend was given.
    let outputShape: SymbolicShape?
    let parameters: [ParameterSpec]

    var kind: String { node.layer.kind }
    func parameterName(_ spec: ParameterSpec) -> String { "\(name).\(spec.name)" }
}

/// Names every node and infers every shape, in execution order.
enum GraphAnalysis {
    static func analyze(_ root: Node, backend: (any Backend)?) throws -> [AnalyzedNode] {
        let order = root.topologicalOrder
        var position: [ObjectIdentifier: Int] = [:]
        var used: Set<String> = []
        var counters: [String: Int] = [:]
        var result: [AnalyzedNode] = []
        for (index, node) in order.enumerated() {
            position[ObjectIdentifier(node)] = index
            let name = try uniqueName(node, used: &used, counters: &counters)
            let inputIndices = node.inputs.map { position[ObjectIdentifier($0)]! }
            let inputShapes = inputIndices.map { result[$0].outputShape }
            do {
                let (shape, parameters) = try infer(node.layer, inputShapes, name: name, backend: backend)
                result.append(AnalyzedNode(
                    node: node, name: name, inputIndices: inputIndices, outputShape: shape, parameters: parameters))
            } catch let error as LayerError {
                throw AxonError.layer(name: name, kind: node.layer.kind, reason: error.message)
            } catch let error as BackendError {
                throw AxonError.layer(name: name, kind: node.layer.kind, reason: "\(error)")
            }
        }
        return result
    }

    /// A user-given name (checked for uniqueness) or `kind_N` within the node's namespace.
    private static func uniqueName(_ node: Node, used: inout Set<String>, counters: inout [String: Int]) throws -> String {
        var prefix = ""
        if !(node.layer is InputLayer) {
            for part in node.namespace { prefix += part + "/" }
        }
        if let given = node.name {
            let name = prefix + given
            if used.contains(name) {
                throw AxonError.layer(name: name, kind: node.layer.kind, reason: "the name is used by another layer; names must be unique")
            }
            used.insert(name)
            return name
        }
        let family = prefix + node.layer.kind
        var counter = counters[family, default: 0]
        while used.contains("\(family)_\(counter)") { counter += 1 }
        counters[family] = counter + 1
        let name = "\(family)_\(counter)"
        used.insert(name)
        return name
    }

    private static func infer(
        _ layer: any Layer, _ inputs: [SymbolicShape?], name: String, backend: (any Backend)?
    ) throws -> (SymbolicShape?, [ParameterSpec]) {
        let known = inputs.compactMap { $0 }
        guard known.count == inputs.count else { return (nil, []) }
        let parameters = try layer.parameters(for: known)
        if let shape = try layer.outputShape(for: known) { return (shape, parameters) }
        guard let backend else { return (nil, parameters) }
        return (try trace(layer, known, parameters, name: name, backend: backend), parameters)
    }

    /// Runs the layer on zeros (unknown dimensions set to 1) and reads the output's shape;
    /// a leading unknown dimension stays unknown.
    private static func trace(
        _ layer: any Layer, _ inputs: [SymbolicShape], _ parameters: [ParameterSpec], name: String, backend: any Backend
    ) throws -> SymbolicShape {
        let tensors = try inputs.map { try Tensor.zeros(shape: $0.concrete(), on: backend) }
        var values: [String: Tensor] = [:]
        for spec in parameters {
            values[spec.name] = try spec.initializer.tensor(shape: spec.shape, key: Philox.Key(seed: 0), on: backend)
        }
        let context = LayerContext(layerName: name, mode: .inference, randomKey: Philox.Key(seed: 0), backend: backend) { key in
            guard let value = values[key] else { throw LayerError("no parameter named '\(key)' was declared") }
            return value
        }
        var shape: SymbolicShape = try layer.apply(tensors, context).shape.dimensions.map { $0 }
        if let first = inputs.first, first.first == .some(nil), !shape.isEmpty { shape[0] = nil }
        return shape
    }
}
