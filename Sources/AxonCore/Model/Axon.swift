import Backend

/// One operation in a model graph: a layer applied to the outputs of other nodes. Nodes are
/// immutable and shared, so a model is a DAG in which a reused node is computed once.
final class Node: Sendable {
    let layer: any Layer
    let inputs: [Node]
    /// The name the user gave, if any.
    let name: String?
    /// Enclosing model names, outermost first (see ``Axon/namespace(_:)``).
    let namespace: [String]
    /// Whether the node's parameters are excluded from training.
    let frozen: Bool
    /// The application of a shared block this node belongs to, if any (see ``Block``).
    let application: BlockApplication?
    /// Functions called with the node's output or its gradient (see ``Axon/hook(_:_:)``).
    let hooks: [LayerHook]
    /// The mixed-precision policy the node computes under, if any (see ``PrecisionPolicy``).
    let policy: PrecisionPolicy?

    init(
        layer: any Layer, inputs: [Node], name: String?, namespace: [String] = [], frozen: Bool = false,
        application: BlockApplication? = nil, hooks: [LayerHook] = [], policy: PrecisionPolicy? = nil
    ) {
        self.policy = policy
        self.layer = layer
        self.inputs = inputs
        self.name = name
        self.namespace = namespace
        self.frozen = frozen
        self.application = application
        self.hooks = hooks
    }

    /// This node and everything it depends on, inputs before the nodes that read them.
    var topologicalOrder: [Node] { postOrder(from: self) { $0.inputs } }
}

/// A model: an immutable graph of layers, built by chaining functions from inputs, as in
/// Elixir's Axon.
///
/// ```swift
/// let model = Axon.input("features", shape: [nil, 784])
///     .dense(128, activation: .relu)
///     .dropout(rate: 0.2)
///     .dense(10)
/// let built = try model.build(on: backend, mode: .inference)
/// let variables = try built.initialize(seed: 42)
/// let x = try Tensor.zeros(shape: [1, 784], on: backend)
/// let logits = try built.predict(variables, inputs: ["features": x]).output()
/// ```
///
/// Building functions never throw; shapes and options are checked when the model is built, and
/// errors name the layer and the shapes involved.
public struct Axon: Sendable {
    let node: Node

    init(_ node: Node) { self.node = node }

    /// Adds a node applying `layer` to `inputs`.
    static func apply(_ layer: any Layer, to inputs: [Axon], name: String?) -> Axon {
        Axon(Node(layer: layer, inputs: inputs.map(\.node), name: name))
    }

    /// Applies `layer` to this model's output.
    public func apply(_ layer: any Layer, name: String? = nil) -> Axon {
        Axon.apply(layer, to: [self], name: name)
    }

    /// A named input. `shape` may leave dimensions unknown with `nil` (usually the batch).
    ///
    /// `axes` names its axes, one name each: the names flow through the layers (see ``Axis``),
    /// show in the summary and in shape errors, and layers can be told an axis by name.
    ///
    /// ```swift
    /// let audio = Axon.input("audio", shape: [nil, 100, 40], axes: ["batch", "time", "features"])
    /// ```
    public static func input(_ name: String, shape: SymbolicShape, axes: [String]? = nil, dtype: DType = .float32) -> Axon {
        Axon(Node(layer: InputLayer(shape: shape, dtype: dtype, axisNames: axes), inputs: [], name: name))
    }

    /// Several outputs under names; `predict` returns each by its name.
    public static func container(_ outputs: KeyValuePairs<String, Axon>) -> Axon {
        let names = outputs.map(\.key)
        return apply(ContainerLayer(names: names), to: outputs.map(\.value), name: nil)
    }

    /// Marks every layer built so far as frozen: their parameters get no gradients.
    public func freeze() -> Axon { rewritten { _, node in node.with(frozen: true) } }

    /// Groups every layer built so far under `name`: layer names become `name/dense_0` and
    /// parameters `name/dense_0.kernel`, so composed models keep their parameters apart.
    public func namespace(_ name: String) -> Axon { rewritten { _, node in node.with(namespace: [name] + node.namespace) } }

    /// Composes models: this model with its single input replaced by `inner`'s output, so
    /// `outer(inner)` computes `outer(inner(x))` from `inner`'s inputs.
    public func callAsFunction(_ inner: Axon) -> Axon {
        let inputs = node.topologicalOrder.filter { $0.layer is InputLayer }
        guard inputs.count == 1, let name = inputs[0].name else {
            return Axon.apply(
                InvalidLayer(message: "composition needs a model with exactly one input, this one has \(inputs.count); pass inputs by name"),
                to: [self], name: nil)
        }
        return callAsFunction([name: inner])
    }

    /// Composes models: this model with each named input replaced by the given model's output.
    public func callAsFunction(_ replacements: [String: Axon]) -> Axon {
        rewritten { _, node in
            guard node.layer is InputLayer, let name = node.name, let replacement = replacements[name] else { return node }
            return replacement.node
        }
    }

    /// Rebuilds the graph bottom-up, letting `transform` replace each node: it gets the original
    /// node and the node with its inputs already rebuilt (the same object when none changed).
    /// Every graph rewrite (composition, namespaces, freezing, surgery, blocks) goes through it.
    func rewritten(_ transform: (_ original: Node, _ rebuilt: Node) throws -> Node) rethrows -> Axon {
        var mapped: [ObjectIdentifier: Node] = [:]
        for original in node.topologicalOrder {
            let inputs = original.inputs.map { mapped[ObjectIdentifier($0)] ?? $0 }
            let rebuilt = zip(inputs, original.inputs).allSatisfy { $0 === $1 } ? original : original.with(inputs: inputs)
            mapped[ObjectIdentifier(original)] = try transform(original, rebuilt)
        }
        return Axon(mapped[ObjectIdentifier(node)] ?? node)
    }
}

extension Node {
    /// This node with some of its properties replaced.
    func with(
        inputs: [Node]? = nil, namespace: [String]? = nil, frozen: Bool? = nil, application: BlockApplication? = nil,
        hooks: [LayerHook]? = nil, policy: PrecisionPolicy? = nil
    ) -> Node {
        Node(
            layer: layer, inputs: inputs ?? self.inputs, name: name, namespace: namespace ?? self.namespace,
            frozen: frozen ?? self.frozen, application: application ?? self.application, hooks: hooks ?? self.hooks,
            policy: policy ?? self.policy)
    }
}

/// A model input: checks the data's shape and dtype when the model runs.
struct InputLayer: SerializableLayer, AxisNamingLayer {
    let shape: SymbolicShape
    let dtype: DType
    /// Whether the model may run without it (``Axon/optionalInput(_:shape:axes:dtype:)``); absent
    /// from saved graphs of ordinary inputs.
    var isOptional: Bool?
    /// The names of its axes, if given; absent from saved graphs otherwise.
    var axisNames: [String]?
    var kind: String { "input" }

    init(shape: SymbolicShape, dtype: DType, isOptional: Bool? = nil, axisNames: [String]? = nil) {
        self.shape = shape
        self.dtype = dtype
        self.isOptional = isOptional
        self.axisNames = axisNames
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? {
        if let axisNames { try AxisNaming.validateDeclared(axisNames, shape: shape) }
        return shape
    }

    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames { axisNames ?? [] }

    /// The declared shape with its axis names, as errors show it.
    var shapeDescription: String { shape.shapeDescription(names: axisNames ?? []) }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { inputs[0] }
}

/// Stands for a graph-building mistake found while chaining (building functions do not
/// throw); `build` reports it with the layer's name.
struct InvalidLayer: Layer {
    let message: String
    var kind: String { "invalid" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { throw LayerError(message) }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { throw LayerError(message) }
}

/// Groups several outputs; it computes nothing itself.
struct ContainerLayer: SerializableLayer {
    let names: [String]
    var kind: String { "container" }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { [] }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor {
        throw LayerError("a container is not a tensor; read its outputs by name")
    }
}
