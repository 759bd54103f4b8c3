import Backend
import Foundation

/// One node of a model as shape inference sees it, without running anything.
public struct LayerDescription: Sendable, Equatable {
    /// The unique name (`dense_0`, or the name given).
    public let name: String
    /// The name its parameters are stored under (`name` itself, except in a later application of
    /// a shared ``Block``, where it is the first application's layer name).
    public let parameterScope: String
    /// The layer kind (`dense`, `conv`, `input`, ...).
    public let kind: String
    /// The output shape from the shape rules, `nil` where only tracing at build time knows it.
    public let outputShape: SymbolicShape?
    /// The names of the output's axes, carried from the inputs' declared names (`nil` for an
    /// unnamed axis); empty when no input names any.
    public let axisNames: [String?]
    /// The names of the nodes it reads, in order.
    public let inputs: [String]
    /// Its parameters and state: full name (`dense_0.kernel`) and shape.
    public let parameters: [ParameterDescription]
    /// The layer's type and options as a saved model records them (``GraphSerialization``):
    /// `type` such as `DenseLayer`, `options` as JSON such as `{"units":3,"useBias":true,…}`;
    /// both `nil` for custom layers and layers holding closures; axes given by name appear as
    /// their positions. Exporters read them.
    public let type: String?
    /// The layer's options as JSON, when the layer can be saved.
    public let options: Data?
}

/// A parameter or state tensor a layer declares.
public struct ParameterDescription: Sendable, Equatable {
    /// The full name, such as `dense_0.kernel`.
    public let name: String
    /// The shape.
    public let shape: Shape
    /// Whether gradients update it (false for model state such as running statistics).
    public let trainable: Bool
}

extension Axon {
    /// Every node in execution order with its output shape, inputs and parameters, from the
    /// shape rules alone: no backend, no memory for the parameters.
    ///
    /// ```swift
    /// let model = Axon.input("x", shape: [nil, 4]).dense(3)
    /// let dense = try model.layers().last   // dense_0, [nil, 3], dense_0.kernel [4, 3], dense_0.bias [3]
    /// ```
    public func layers() throws -> [LayerDescription] {
        let nodes = try GraphAnalysis.analyze(node, backend: nil)
        return try nodes.filter { !($0.node.layer is ContainerLayer) }.map { node in
            let serializable = node.layer as? any SerializableLayer
            return LayerDescription(
                name: node.name, parameterScope: node.parameterScope, kind: node.kind, outputShape: node.outputShape,
                axisNames: node.axisNames, inputs: node.inputIndices.map { nodes[$0].name },
                parameters: node.parameters.map {
                    ParameterDescription(name: node.parameterName($0), shape: $0.shape, trainable: $0.role == .trainable && !node.node.frozen)
                },
                type: serializable.map { type(of: $0).serializationTag },
                options: try serializable.map { try GraphSerialization.encoder.encode($0) })
        }
    }

    /// The model's inputs: name and declared shape.
    public func inputs() throws -> [(name: String, shape: SymbolicShape)] {
        try layers().filter { $0.kind == "input" }.map { ($0.name, $0.outputShape ?? []) }
    }
}
