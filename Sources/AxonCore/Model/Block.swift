/// A subgraph defined once and applied any number of times with one set of parameters, as
/// Elixir Axon's `block`: the two towers of a Siamese network, a tied encoder. Gradients from
/// every application accumulate into the shared parameters.
///
/// Each application's layers get their own names (`encoder/dense_0`, then `encoder[1]/dense_0`,
/// ...) and share the first application's parameters (`encoder/dense_0.kernel`); the summary
/// marks the later ones as sharing. Applying a block to inputs that need parameters of other
/// shapes is an error when the model is built.
///
/// ```swift
/// let encoder = Axon.block("encoder") { x in x.dense(16, activation: .relu).dense(8) }
/// let left = encoder(Axon.input("left", shape: [nil, 4]))
/// let right = encoder(Axon.input("right", shape: [nil, 4]))
/// let model = Axon.container(["left": left, "right": right])  // one set of encoder weights
/// ```
public struct Block: Sendable {
    let identity: BlockIdentity
    let arity: Int
    let body: @Sendable ([Axon]) -> Axon

    /// Applies the block to `inputs` (as many as its body takes).
    public func callAsFunction(_ inputs: Axon...) -> Axon { apply(inputs) }

    /// Applies the block to `inputs` (as many as its body takes).
    public func apply(_ inputs: [Axon]) -> Axon {
        guard inputs.count == arity else {
            let name = identity.name.map { "block '\($0)'" } ?? "a block"
            return Axon.apply(InvalidLayer(message: "\(name) takes \(arity) input(s), but was applied to \(inputs.count)"), to: inputs, name: nil)
        }
        let application = BlockApplication(block: identity)
        let output = body(inputs)
        // Only the layers the body added belong to this application, not the inputs' graphs.
        let existing = Set(inputs.flatMap { $0.node.topologicalOrder.map(ObjectIdentifier.init) })
        return output.rewritten { original, rebuilt in
            // A block applied inside another keeps its own application: its parameters are shared
            // across every application of the inner block.
            existing.contains(ObjectIdentifier(original)) || original.application != nil ? rebuilt : rebuilt.with(application: application)
        }
    }
}

extension Axon {
    /// A block of one input: see ``Block``. `name` prefixes its layers' and parameters' names
    /// (default `block_0`, `block_1`, ... in order of first use).
    public static func block(_ name: String? = nil, _ body: @escaping @Sendable (Axon) -> Axon) -> Block {
        Block(identity: BlockIdentity(name: name), arity: 1) { body($0[0]) }
    }

    /// A block of `inputs` inputs: see ``Block``.
    public static func block(_ name: String? = nil, inputs: Int, _ body: @escaping @Sendable ([Axon]) -> Axon) -> Block {
        Block(identity: BlockIdentity(name: name), arity: inputs, body: body)
    }
}

/// What makes two applications the same block.
final class BlockIdentity: Sendable {
    let name: String?
    init(name: String?) { self.name = name }
}

/// One application of a block: its layers are named apart from other applications' but share
/// their parameters.
final class BlockApplication: Sendable {
    let block: BlockIdentity
    init(block: BlockIdentity) { self.block = block }
}
