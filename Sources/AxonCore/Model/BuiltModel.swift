import Backend

/// A model's variables: trainable (and frozen) parameters, and non-trainable state such as
/// batch-norm running statistics. Both are keyed `layer.param`.
public struct ModelState: Sendable {
    /// The trainable and frozen parameters by name (`dense_0.kernel`).
    public var parameters: ParameterStore
    /// State that is not trained by gradients, such as batch normalisation's running statistics.
    public var state: ParameterStore

    /// Parameters and state as given.
    public init(parameters: ParameterStore, state: ParameterStore = ParameterStore()) {
        self.parameters = parameters
        self.state = state
    }
}

/// What ``BuiltModel/predict(_:inputs:randomKey:)`` returns: the outputs by name and, in
/// training mode, the updated state.
public struct ModelOutput: Sendable {
    /// Output names in declaration order.
    public let names: [String]
    /// The outputs by name.
    public let outputs: [String: Tensor]
    /// The state after this call (unchanged in inference mode).
    public let state: ParameterStore
    /// Outputs left out because an optional input they depend on was not given, with that input.
    var absent: [String: String] = [:]

    /// The model's only output.
    public func output() throws -> Tensor {
        guard names.count == 1, let only = outputs[names[0]] else {
            throw AxonError.invalidValue(
                operation: "output", reason: "the model has \(names.count) outputs (\(names.joined(separator: ", "))); read them by name")
        }
        return only
    }

    /// The output called `name`.
    public func output(_ name: String) throws -> Tensor {
        if let input = absent[name] {
            throw AxonError.invalidValue(operation: "output", reason: "output '\(name)' was left out: it depends on the optional input '\(input)', which was not given")
        }
        guard let tensor = outputs[name] else {
            throw AxonError.invalidValue(operation: "output", reason: "no output named '\(name)'; outputs: \(names.joined(separator: ", "))")
        }
        return tensor
    }
}

extension Axon {
    /// Checks shapes and options, names every layer, and binds the model to a backend and mode.
    ///
    /// - Parameters:
    ///   - backend: the backend the model's tensors live on.
    ///   - mode: `.inference`, or `.train` for dropout and batch statistics.
    ///   - frozen: layer names (`dense_0`) or parameter names (`dense_0.kernel`) whose
    ///     parameters get no gradients, in addition to layers frozen with ``freeze()``.
    public func build(on backend: any Backend, mode: Mode = .inference, frozen: Set<String> = []) throws -> BuiltModel {
        let backend = backend.checked
        return try BuiltModel(root: node, nodes: GraphAnalysis.analyze(node, backend: backend), backend: backend, mode: mode, frozen: frozen)
    }
}

/// A model bound to a backend and mode: an init function and a predict function, as Axon's
/// `build` returns.
public struct BuiltModel: Sendable {
    /// The backend the model runs on, behind its front door.
    public let backend: any Backend
    /// Inference, or training (dropout active, batch statistics used and updated).
    public let mode: Mode
    let nodes: [AnalyzedNode]
    /// Names of parameters that get no gradients.
    public let frozenParameters: Set<String>

    init(root: Node, nodes: [AnalyzedNode], backend: any Backend, mode: Mode, frozen: Set<String>) throws {
        self.backend = backend
        self.mode = mode
        self.nodes = nodes
        var frozenNames: Set<String> = []
        for node in nodes {
            for spec in node.parameters where spec.role == .trainable {
                let name = node.parameterName(spec)
                if node.node.frozen || frozen.contains(node.name) || frozen.contains(name) { frozenNames.insert(name) }
            }
        }
        let known = Set(nodes.map(\.name)).union(nodes.flatMap { node in node.parameters.map { node.parameterName($0) } })
        if let unknown = frozen.subtracting(known).sorted().first {
            throw AxonError.invalidValue(operation: "build", reason: "cannot freeze '\(unknown)': no such layer or parameter")
        }
        frozenParameters = frozenNames
    }

    /// The model's inputs: name, shape and dtype, in execution order.
    public var inputs: [(name: String, shape: SymbolicShape, dtype: DType)] {
        nodes.compactMap { node in
            (node.node.layer as? InputLayer).map { (node.name, $0.shape, $0.dtype) }
        }
    }

    /// The unique layer names in execution order.
    public var layerNames: [String] { nodes.map(\.name) }

    /// The names ``predict(_:inputs:randomKey:)`` returns outputs under: a container's names, or
    /// the last layer's name.
    public var outputNames: [String] {
        guard let last = nodes.last else { return [] }
        return (last.node.layer as? ContainerLayer)?.names ?? [last.name]
    }

    /// Fresh variables: each parameter's initializer runs on the host from the key of
    /// `seed` folded with the parameter's full name, so values do not depend on the backend or
    /// on the order of layers. A block's parameters are created once, however often it is applied.
    public func initialize(seed: UInt64) throws -> ModelState {
        let key = Philox.Key(seed: seed)
        var result = ModelState(parameters: ParameterStore())
        for node in nodes where !node.sharesParameters {
            for spec in node.parameters {
                let name = node.parameterName(spec)
                let value = try spec.initializer.tensor(shape: spec.shape, key: key.folded(with: name), on: backend)
                if spec.role == .trainable { result.parameters[name] = value } else { result.state[name] = value }
            }
        }
        return result
    }

    /// The parameters that receive gradients (all but the frozen ones).
    public func trainableParameters(_ state: ModelState) -> ParameterStore {
        state.parameters.selecting { !frozenParameters.contains($0) }
    }

    /// Runs the model. Each node runs once, however many layers read it. `randomKey` seeds
    /// dropout (each layer folds in its own name); pass a new key per step when training.
    public func predict(_ variables: ModelState, inputs: [String: Tensor], randomKey: Philox.Key = Philox.Key(seed: 0)) throws -> ModelOutput {
        try predict(variables, inputs: inputs, randomKey: randomKey, share: nil)
    }

    /// ``predict(_:inputs:randomKey:)`` on one rank's part of a data-parallel batch.
    func predict(_ variables: ModelState, inputs: [String: Tensor], randomKey: Philox.Key, share: RankShare?) throws -> ModelOutput {
        var values: [Tensor?] = Array(repeating: nil, count: nodes.count)
        var state = variables.state
        // Nodes left out for want of an optional input (with that input), and those among them
        // that the layer reading them runs without (`optional()`).
        var absent: [Int: String] = [:]
        var droppable: Set<Int> = []
        for (index, node) in nodes.enumerated() {
            if let input = node.node.layer as? InputLayer {
                if inputs[node.name] == nil, input.isOptional == true {
                    absent[index] = node.name
                    continue
                }
                let value = try check(inputs[node.name], for: node.name, input)
                values[index] = node.node.hooks.isEmpty ? value : try node.runningHooks(on: value)
                continue
            }
            if node.node.layer is ContainerLayer { continue }
            if !absent.isEmpty {  // only when an optional input was left out
                let missing = node.inputIndices.filter { absent[$0] != nil }
                if let cause = missing.first.flatMap({ absent[$0] }) {
                    if node.node.layer is OptionalLayer {
                        // Left out, but the layer reading it runs without it.
                        absent[index] = cause
                        droppable.insert(index)
                        continue
                    }
                    guard missing.allSatisfy(droppable.contains) else {
                        absent[index] = cause  // it needs what is missing: left out too
                        continue
                    }
                    guard let flexible = node.node.layer as? any RunsWithoutOptionalInputs,
                          node.inputIndices.count - missing.count >= flexible.requiredInputs else {
                        throw AxonError.layer(
                            name: node.name, kind: node.kind,
                            reason: "cannot run without its input from the optional input '\(cause)', which was not given")
                    }
                }
            }
            let policy = node.node.policy
            // A policy layer's float32 output read here in bfloat16 is its bfloat16 output
            // again, not a rounding of it (see `Tensor.cast(to:)`).
            let arguments = try node.inputIndices.compactMap { index -> Tensor? in
                guard let policy else { return values[index] }
                return try values[index].map(policy.computing)
            }
            let layerKey = randomKey.folded(with: node.name)
            Tracing.current?.noteFold(randomKey, name: node.name, layerKey)
            let context = LayerContext(
                layerName: node.name, mode: mode, randomKey: layerKey, backend: backend, share: share
            ) { key in
                let name = "\(node.parameterScope).\(key)"
                if let value = variables.parameters[name] ?? state[name] { return try policy?.computing(value) ?? value }
                throw AxonError.invalidValue(operation: "predict", reason: "no value for parameter '\(name)'; initialize the model first")
            }
            do {
                let output = try node.layer.apply(arguments, context)
                values[index] = try policy?.emitting(output) ?? output
            } catch let error as LayerError {
                throw AxonError.layer(name: node.name, kind: node.kind, reason: error.message)
            } catch let error as BackendError {
                throw AxonError.layer(name: node.name, kind: node.kind, reason: "\(error)")
            }
            if !node.node.hooks.isEmpty, let value = values[index] { values[index] = try node.runningHooks(on: value) }
            if mode == .train {
                for (key, value) in context.updatedState {
                    let name = "\(node.parameterScope).\(key)"
                    state[name] = try state[name].map { try value.cast(to: $0.dtype) } ?? value  // kept in the master dtype
                }
            }
        }
        let last = nodes[nodes.count - 1]
        if let container = last.node.layer as? ContainerLayer {
            var outputs: [String: Tensor] = [:], left: [String: String] = [:]
            for (name, input) in zip(container.names, last.inputIndices) {
                outputs[name] = values[input]
                left[name] = absent[input]
            }
            return ModelOutput(names: container.names, outputs: outputs, state: state, absent: left)
        }
        guard let value = values[nodes.count - 1] else {
            let cause = absent[nodes.count - 1] ?? last.name
            throw AxonError.input(
                name: cause, reason: "was not given; it is optional, but the output needs it (mark it optional() where the layer reading it can do without)")
        }
        return ModelOutput(names: [last.name], outputs: [last.name: value], state: state)
    }

    private func check(_ tensor: Tensor?, for name: String, _ input: InputLayer) throws -> Tensor {
        guard let tensor else {
            let names = inputs.map(\.name).joined(separator: ", ")
            throw AxonError.input(name: name, reason: "no data given; the model's inputs are: \(names)")
        }
        guard input.shape.accepts(tensor.shape) else {
            throw AxonError.input(name: name, reason: "expected shape \(input.shapeDescription), got \(tensor.shape)")
        }
        guard tensor.dtype == input.dtype else {
            throw AxonError.input(name: name, reason: "expected dtype \(input.dtype), got \(tensor.dtype)")
        }
        guard tensor.backend.isSameBackend(as: backend) else {
            throw AxonError.backendMismatch(operation: "predict", backends: [backend.name, tensor.backend.name])
        }
        return tensor
    }
}
