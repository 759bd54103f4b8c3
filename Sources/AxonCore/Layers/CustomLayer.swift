import Backend
import Foundation

extension Axon {
    /// A trainable parameter declared by a custom layer (see ``layer(_:inputs:parameters:outputShape:name:_:)``).
    public struct Parameter: Sendable {
        let name: String
        let shape: @Sendable ([SymbolicShape]) throws -> Shape
        let initializer: Initializer
    }

    /// Declares a parameter of a fixed shape.
    public static func param(_ name: String, shape: Shape, initializer: Initializer = .glorotUniform) -> Parameter {
        Parameter(name: name, shape: { _ in shape }, initializer: initializer)
    }

    /// Declares a parameter whose shape depends on the layer's input shapes.
    public static func param(
        _ name: String, initializer: Initializer = .glorotUniform, shape: @escaping @Sendable ([SymbolicShape]) throws -> Shape
    ) -> Parameter {
        Parameter(name: name, shape: shape, initializer: initializer)
    }

    /// A custom layer: a closure over tensors plus named trainable parameters. The closure gets
    /// the input tensors and a context whose `parameter(_:)` returns each declared parameter
    /// by name. The output shape comes from `outputShape` or, when that is `nil`, from running
    /// the closure once on zeros at build time.
    ///
    /// ```swift
    /// let scaled = Axon.layer(
    ///     "scale_shift", inputs: [x],
    ///     parameters: [Axon.param("scale", shape: [4], initializer: .ones), Axon.param("shift", shape: [4], initializer: .zeros)]
    /// ) { inputs, context in
    ///     try inputs[0] * context.parameter("scale") + context.parameter("shift")
    /// }
    /// ```
    public static func layer(
        _ kind: String, inputs: [Axon], parameters: [Parameter] = [],
        outputShape: (@Sendable ([SymbolicShape]) throws -> SymbolicShape)? = nil, name: String? = nil,
        _ body: @escaping @Sendable (_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor
    ) -> Axon {
        apply(CustomLayer(kind: kind, declared: parameters, shapeRule: outputShape, body: body), to: inputs, name: name)
    }
}

struct CustomLayer: Layer {
    let kind: String
    let declared: [Axon.Parameter]
    let shapeRule: (@Sendable ([SymbolicShape]) throws -> SymbolicShape)?
    let body: @Sendable ([Tensor], LayerContext) throws -> Tensor

    func parameters(for inputs: [SymbolicShape]) throws -> [ParameterSpec] {
        let names = declared.map(\.name)
        guard Set(names).count == names.count else { throw LayerError("parameter names must be unique, got \(names)") }
        return try declared.map { ParameterSpec($0.name, shape: try $0.shape(inputs), initializer: $0.initializer) }
    }

    func outputShape(for inputs: [SymbolicShape]) throws -> SymbolicShape? { try shapeRule?(inputs) }

    func apply(_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor { try body(inputs, context) }
}

/// The custom layers a saved model may name. A model file records a custom layer by its kind
/// alone (a Swift closure cannot be saved), so a program that loads such a model registers the
/// same kind first, with the same parameters and body.
///
/// ```swift
/// CustomLayers.register("scale_shift", parameters: [Axon.param("scale", shape: [4], initializer: .ones)]) { inputs, context in
///     try inputs[0] * context.parameter("scale")
/// }
/// ```
public enum CustomLayers {
    nonisolated(unsafe) private static var registered: [String: CustomLayer] = [:]
    private static let lock = NSLock()

    /// Registers (or replaces) the custom layer `kind`; models built with
    /// ``Axon/layer(_:inputs:parameters:outputShape:name:_:)`` of that kind load with it.
    public static func register(
        _ kind: String, parameters: [Axon.Parameter] = [], outputShape: (@Sendable ([SymbolicShape]) throws -> SymbolicShape)? = nil,
        _ body: @escaping @Sendable (_ inputs: [Tensor], _ context: LayerContext) throws -> Tensor
    ) {
        lock.withLock { registered[kind] = CustomLayer(kind: kind, declared: parameters, shapeRule: outputShape, body: body) }
    }

    /// The kinds registered so far, sorted.
    public static var kinds: [String] { lock.withLock { registered.keys.sorted() } }

    static func layer(_ kind: String) -> CustomLayer? { lock.withLock { registered[kind] } }
}
