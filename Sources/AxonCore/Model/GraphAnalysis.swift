import Backend

/// A node with its unique name, input positions, inferred output shape and parameters.
struct AnalyzedNode: Sendable {
    let node: Node
    /// The layer that runs: the node's, with any axes given by name replaced by their positions.
    let layer: any Layer
    let name: String
    let inputIndices: [Int]
    /// `nil` only when the shape needs tracing and no backend was given.
    let outputShape: SymbolicShape?
    /// The names of the output's axes, from the inputs' declared names (empty when none).
    let axisNames: AxisNames
    let parameters: [ParameterSpec]
    /// The name its parameters are stored under: its own, or in a later application of a
    /// shared block, the first application's layer name.
    let parameterScope: String
    /// The block it belongs to and which application of it (0 for the first), if any.
    let block: (name: String, application: Int)?

    var kind: String { node.layer.kind }
    /// The output shape with its axis names (`nil` where the shape is).
    var namedShape: NamedShape? { outputShape.map { NamedShape($0, names: axisNames) } }
    func parameterName(_ spec: ParameterSpec) -> String { "\(parameterScope).\(spec.name)" }
    /// Whether its parameters are another layer's (a later application of a block).
    var sharesParameters: Bool { parameterScope != name }
}

/// Names every node and infers every shape, in execution order.
enum GraphAnalysis {
    static func analyze(_ root: Node, backend: (any Backend)?) throws -> [AnalyzedNode] {
        let order = root.topologicalOrder
        var position: [ObjectIdentifier: Int] = [:]
        var used: Set<String> = []
        var counters: [String: Int] = [:]
        var blocks = BlockNaming()
        var result: [AnalyzedNode] = []
        var shared: [String: (shape: Shape, layer: String)] = [:]
        for (index, node) in order.enumerated() {
            position[ObjectIdentifier(node)] = index
            var prefix = node.layer is InputLayer ? "" : node.namespace.map { $0 + "/" }.joined()
            let block = try node.application.map { try blocks.name(of: $0) }
            var scopePrefix = prefix
            if let block {
                prefix += block.application == 0 ? "\(block.name)/" : "\(block.name)[\(block.application)]/"
                scopePrefix += "\(block.name)/"
            }
            let name = try uniqueName(node, prefix: prefix, used: &used, counters: &counters)
            let scope = scopePrefix + name.dropFirst(prefix.count)
            let inputIndices = node.inputs.compactMap { position[ObjectIdentifier($0)] }  // all there: inputs come first
            let inputShapes = inputIndices.map { result[$0].namedShape }
            do {
                let inferred = try infer(node.layer, inputShapes, name: name, backend: backend)
                if let block { try recordShared(inferred.parameters, scope: scope, layer: name, block: block.name, in: &shared) }
                result.append(AnalyzedNode(
                    node: node, layer: inferred.layer, name: name, inputIndices: inputIndices, outputShape: inferred.shape,
                    axisNames: inferred.names, parameters: inferred.parameters, parameterScope: scope, block: block))
            } catch let error as LayerError {
                throw AxonError.layer(name: name, kind: node.layer.kind, reason: error.message + namedInputs(inputShapes))
            } catch let error as BackendError {
                throw AxonError.layer(name: name, kind: node.layer.kind, reason: "\(error)" + namedInputs(inputShapes))
            }
        }
        return result
    }

    /// Records the parameters a block's layer declares under `scope`, refusing one that an
    /// earlier application of the block declared with another shape.
    private static func recordShared(
        _ parameters: [ParameterSpec], scope: String, layer: String, block: String, in shared: inout [String: (shape: Shape, layer: String)]
    ) throws {
        for spec in parameters {
            let full = "\(scope).\(spec.name)"
            guard let first = shared[full] else {
                shared[full] = (spec.shape, layer)
                continue
            }
            guard first.shape == spec.shape else {
                throw LayerError(
                    "shares parameter \(full) with \(first.layer), where it has shape \(first.shape), but here it needs \(spec.shape): block '\(block)' is applied to inputs of incompatible shapes")
            }
        }
    }

    /// A user-given name (checked for uniqueness) or `kind_N`, after `prefix` (the namespace and block).
    private static func uniqueName(_ node: Node, prefix: String, used: inout Set<String>, counters: inout [String: Int]) throws -> String {
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

    /// A shape error's inputs with their axis names, when any are named (the layer's own message
    /// shows the bare shapes).
    private static func namedInputs(_ inputs: [NamedShape?]) -> String {
        let named = inputs.compactMap { $0 }.filter { !$0.names.isEmpty }
        guard !named.isEmpty else { return "" }
        return " (inputs with named axes: \(inputs.map { $0?.description ?? "?" }.joined(separator: ", ")))"
    }

    /// The layer with named axes resolved, its output shape and axis names, and its parameters;
    /// the shape is `nil` when an input's is, or when it needs tracing and no backend was given.
    private static func infer(
        _ layer: any Layer, _ inputs: [NamedShape?], name: String, backend: (any Backend)?
    ) throws -> (layer: any Layer, shape: SymbolicShape?, names: AxisNames, parameters: [ParameterSpec]) {
        let named = inputs.compactMap { $0 }
        guard named.count == inputs.count else { return (layer, nil, [], []) }
        let resolved = try (layer as? any NamedAxisLayer)?.resolvingAxes(in: named) ?? layer
        let known = named.map(\.shape)
        let parameters = try resolved.parameters(for: known)
        var shape = try resolved.outputShape(for: known)
        if shape == nil, let backend { shape = try trace(resolved, known, parameters, name: name, backend: backend) }
        guard let shape else { return (resolved, nil, [], parameters) }
        return (resolved, shape, try AxisNaming.names(of: resolved, inputs: named, output: shape), parameters)
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

/// Names blocks (given, or `block_N` in order of first use) and numbers each block's
/// applications in the order the graph reaches them.
private struct BlockNaming {
    private var names: [ObjectIdentifier: String] = [:]
    private var applications: [ObjectIdentifier: Int] = [:]
    private var counts: [ObjectIdentifier: Int] = [:]
    private var nextUnnamed = 0

    mutating func name(of application: BlockApplication) throws -> (name: String, application: Int) {
        let block = ObjectIdentifier(application.block)
        let name: String
        if let known = names[block] {
            name = known
        } else {
            if let given = application.block.name {
                name = given
            } else {
                while names.values.contains("block_\(nextUnnamed)") { nextUnnamed += 1 }
                name = "block_\(nextUnnamed)"
            }
            guard !names.values.contains(name) else {
                throw AxonError.layer(name: name, kind: "block", reason: "two different blocks are named '\(name)'; block names must be unique")
            }
            names[block] = name
        }
        if let index = applications[ObjectIdentifier(application)] { return (name, index) }
        let index = counts[block, default: 0]
        counts[block] = index + 1
        applications[ObjectIdentifier(application)] = index
        return (name, index)
    }
}
