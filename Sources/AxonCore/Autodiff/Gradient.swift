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
    try valueAndGradient(at: parameters, whenFinal: nil, of: f)
}

/// ``valueAndGradient(at:of:)-(ParameterStore,_)`` that also hands each parameter's gradient to
/// `whenFinal` as soon as the backward pass has run every operation that reads the parameter
/// (data-parallel training starts reducing it then, while the rest of the pass runs).
/// Parameters that do not influence the value are handed zeros after the pass.
func valueAndGradient(
    at parameters: ParameterStore, whenFinal: ((String, Tensor) throws -> Void)?, of f: (ParameterStore) throws -> Tensor
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
    let names = parameters.map(\.0)
    var handed = Set<Int>()
    let found = try backpropagate(from: value, to: leaves, whenFinal: whenFinal.map { handler in
        { index, gradient in
            handed.insert(index)
            try handler(names[index], gradient)
        }
    })
    var gradients = ParameterStore()
    for (index, ((name, tensor), gradient)) in zip(parameters, found).enumerated() {
        let total = try gradient ?? tensor.detached().filled(with: 0)
        gradients[name] = total
        if !handed.contains(index) { try whenFinal?(name, total) }
    }
    return (value.detached(), gradients)
}

/// The gradients of `parameters`; see ``valueAndGradient(at:of:)-(ParameterStore,_)``.
public func gradient(at parameters: ParameterStore, of f: (ParameterStore) throws -> Tensor) throws -> ParameterStore {
    try valueAndGradient(at: parameters, of: f).gradients
}

/// Runs the recorded graph backwards from `output` (seeded with 1) and returns the cotangent
/// reaching each of `leaves`, `nil` where none does. `whenFinal` receives a leaf's index and
/// total as soon as every operation reading the leaf has run backwards.
private func backpropagate(
    from output: Tensor, to leaves: [GradientNode], whenFinal: ((Int, Tensor) throws -> Void)? = nil
) throws -> [Tensor?] {
    guard output.dtype.isFloatingPoint, output.count == 1 else {
        throw AxonError.nonScalarOutput(operation: "valueAndGradient", shape: output.shape, dtype: output.dtype)
    }
    guard let root = output.node else { return leaves.map { _ in nil } }

    // Every node after the nodes it reads from; walked backwards below.
    let order = postOrder(from: root) { $0.parents.compactMap { $0 } }
    // For `whenFinal`: each leaf's readers not yet run backwards.
    var leafIndex: [ObjectIdentifier: Int] = [:], unread: [ObjectIdentifier: Int] = [:]
    if whenFinal != nil {
        for (index, leaf) in leaves.enumerated() { leafIndex[ObjectIdentifier(leaf)] = index }
        for node in order {
            for case let parent? in node.parents where leafIndex[ObjectIdentifier(parent)] != nil { unread[ObjectIdentifier(parent), default: 0] += 1 }
        }
    }

    var cotangents: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): try output.detached().filled(with: 1)]
    for node in order.reversed() {
        if node.parents.isEmpty { continue }  // a leaf keeps its total
        if let cotangent = cotangents.removeValue(forKey: ObjectIdentifier(node)) {
            let contributions = try node.pullback(cotangent)
            for (parent, contribution) in zip(node.parents, contributions) {
                guard let parent, let contribution else { continue }
                let key = ObjectIdentifier(parent)
                cotangents[key] = try cotangents[key].map { try $0 + contribution } ?? contribution
            }
        }
        guard let whenFinal else { continue }
        for case let parent? in node.parents {
            let key = ObjectIdentifier(parent)
            guard let count = unread[key] else { continue }
            unread[key] = count - 1
            if count == 1, let index = leafIndex[key], let total = cotangents[key] { try whenFinal(index, total) }
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
