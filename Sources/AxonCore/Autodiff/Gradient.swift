import Backend

/// The value of `f` at `x` and the gradient of that value with respect to `x`.
///
/// `f` must return a single `float32` element. Every operation on tensors derived from `x`
/// inside `f` is recorded and then run backwards through its vector-Jacobian product.
///
/// ```swift
/// let x = try Tensor([1, 2, 3], on: backend)
/// let (value, gradient) = try valueAndGradient(at: x) { x in try (x * x).sum() }
/// // value = 14, gradient = [2, 4, 6]
/// ```
public func valueAndGradient(
    at x: Tensor, of f: (Tensor) throws -> Tensor
) throws -> (value: Tensor, gradient: Tensor) {
    guard x.dtype.isFloatingPoint else {
        throw AxonError.notDifferentiable(operation: "valueAndGradient", reason: "the input is \(x.dtype), not float32")
    }
    let leaf = GradientNode.leaf()
    let value = try f(Tensor(buffer: x.buffer, backend: x.backend, node: leaf))
    let gradients = try backpropagate(from: value, to: [leaf])
    return (value.detached(), try gradients[0] ?? x.detached().filled(with: 0))
}

/// The gradient of `f` at `x`; see ``valueAndGradient(at:of:)-(Tensor,_)``.
public func gradient(at x: Tensor, of f: (Tensor) throws -> Tensor) throws -> Tensor {
    try valueAndGradient(at: x, of: f).gradient
}

/// The value of `f` at `parameters` and its gradient with respect to every parameter, keyed by
/// the same names. Parameters that do not influence the value get zero gradients.
///
/// ```swift
/// let parameters: ParameterStore = ["w": try Tensor([2], on: backend)]
/// let (loss, gradients) = try valueAndGradient(at: parameters) { p in
///     let w = try p.tensor("w")
///     return try (w * w).sum()
/// }
/// // gradients["w"] = [4]
/// ```
public func valueAndGradient(
    at parameters: ParameterStore, of f: (ParameterStore) throws -> Tensor
) throws -> (value: Tensor, gradients: ParameterStore) {
    var tracked = ParameterStore()
    var leaves: [GradientNode] = []
    for (name, tensor) in parameters {
        guard tensor.dtype.isFloatingPoint else {
            throw AxonError.notDifferentiable(operation: "valueAndGradient", reason: "parameter '\(name)' is \(tensor.dtype)")
        }
        let leaf = GradientNode.leaf()
        leaves.append(leaf)
        tracked[name] = Tensor(buffer: tensor.buffer, backend: tensor.backend, node: leaf)
    }
    let value = try f(tracked)
    let found = try backpropagate(from: value, to: leaves)
    var gradients = ParameterStore()
    for ((name, tensor), gradient) in zip(parameters, found) {
        gradients[name] = try gradient ?? tensor.detached().filled(with: 0)
    }
    return (value.detached(), gradients)
}

/// The gradients of `parameters`; see ``valueAndGradient(at:of:)-(ParameterStore,_)``.
public func gradient(at parameters: ParameterStore, of f: (ParameterStore) throws -> Tensor) throws -> ParameterStore {
    try valueAndGradient(at: parameters, of: f).gradients
}

/// Runs the recorded graph backwards from `output` (seeded with 1) and returns the cotangent
/// reaching each of `leaves`, `nil` where none does.
private func backpropagate(from output: Tensor, to leaves: [GradientNode]) throws -> [Tensor?] {
    guard output.dtype.isFloatingPoint, output.count == 1 else {
        throw AxonError.nonScalarOutput(operation: "valueAndGradient", shape: output.shape, dtype: output.dtype)
    }
    guard let root = output.node else { return leaves.map { _ in nil } }

    // Every node after the nodes it reads from; walked backwards below.
    let order = postOrder(from: root) { $0.parents.compactMap { $0 } }

    var cotangents: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): try output.detached().filled(with: 1)]
    for node in order.reversed() {
        guard let cotangent = cotangents.removeValue(forKey: ObjectIdentifier(node)) else { continue }
        if node.parents.isEmpty {
            cotangents[ObjectIdentifier(node)] = cotangent  // a leaf keeps its total
            continue
        }
        let contributions = try node.pullback(cotangent)
        for (parent, contribution) in zip(node.parents, contributions) {
            guard let parent, let contribution else { continue }
            let key = ObjectIdentifier(parent)
            cotangents[key] = try cotangents[key].map { try $0 + contribution } ?? contribution
        }
    }
    return leaves.map { cotangents[ObjectIdentifier($0)] }
}

/// The nodes reachable from `root` through `children`, each after all of its children
/// (iterative depth-first post-order, so deep graphs do not exhaust the stack).
func postOrder<Node: AnyObject>(from root: Node, children: (Node) -> [Node]) -> [Node] {
    var order: [Node] = []
    var visited: Set<ObjectIdentifier> = []
    var stack: [(Node, Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded {
            order.append(node)
            continue
        }
        guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for child in children(node).reversed() where !visited.contains(ObjectIdentifier(child)) {
            stack.append((child, false))
        }
    }
    return order
}
