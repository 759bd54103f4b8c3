/// A node as graph surgery sees it: its unique name, its kind and its layer.
public struct GraphNode: Sendable {
    /// The unique name (`dense_0`, `encoder/dense_1`, or the name given).
    public let name: String
    /// The layer kind (`dense`, `relu`, `input`, ...).
    public let kind: String
    /// The layer itself (custom layers can be recognised by type).
    public let layer: any Layer
}

extension Axon {
    /// Replaces nodes, as Axon's `map_nodes` and `rewrite_nodes`: `rewrite` sees every node,
    /// inputs first, and returns `nil` to keep it or a function that builds its replacement from
    /// the node's (already rewritten) inputs. Nodes after a replaced one read the replacement;
    /// give the replacement the node's name to keep it (and its parameters' names).
    ///
    /// ```swift
    /// // Every ReLU becomes a tanh under the same name.
    /// let smooth = try model.rewriteNodes { node in
    ///     node.kind == "relu" ? { inputs in inputs[0].tanh(name: node.name) } : nil
    /// }
    /// ```
    public func rewriteNodes(_ rewrite: (GraphNode) throws -> (([Axon]) -> Axon)?) throws -> Axon {
        try rewriting { info, node in
            guard let replacement = try rewrite(info) else { return node }
            return replacement(node.inputs.map(Axon.init)).node
        }
    }

    /// Removes the nodes `predicate` selects: each is replaced by its first input (and so must
    /// have one). Removing a node that changes a later layer's input shape fails when built.
    ///
    /// ```swift
    /// let withoutDropout = try model.removeNodes { $0.kind == "dropout" }
    /// ```
    public func removeNodes(where predicate: (GraphNode) throws -> Bool) throws -> Axon {
        try rewriting { info, node in
            guard try predicate(info) else { return node }
            guard let input = node.inputs.first else {
                throw AxonError.layer(name: info.name, kind: info.kind, reason: "cannot be removed: it has no input to take its place")
            }
            return input
        }
    }

    /// Freezes the layers `predicate` selects (their parameters get no gradients), after the
    /// model is built up, as Axon's `freeze` with a function.
    ///
    /// ```swift
    /// let fineTuned = try backbone.dense(10).freeze { $0.kind == "conv" }  // train the head and norms only
    /// ```
    public func freeze(where predicate: (GraphNode) throws -> Bool) throws -> Axon {
        try rewriting { info, node in try predicate(info) ? node.with(frozen: true) : node }
    }

    /// Unfreezes the layers `predicate` selects.
    public func unfreeze(where predicate: (GraphNode) throws -> Bool) throws -> Axon {
        try rewriting { info, node in try predicate(info) ? node.with(frozen: false) : node }
    }

    /// Freezes the layers named in `names`; an unknown name is an error that lists the layers.
    public func freeze(_ names: Set<String>) throws -> Axon {
        try checkLayerNames(names, "freeze")
        return try freeze { names.contains($0.name) }
    }

    /// Unfreezes the layers named in `names`; an unknown name is an error that lists the layers.
    public func unfreeze(_ names: Set<String>) throws -> Axon {
        try checkLayerNames(names, "unfreeze")
        return try unfreeze { names.contains($0.name) }
    }

    private func checkLayerNames(_ names: Set<String>, _ operation: String) throws {
        let known = try GraphAnalysis.analyze(node, backend: nil).map(\.name)
        if let unknown = names.subtracting(known).sorted().first {
            throw AxonError.invalidValue(operation: operation, reason: "no layer named '\(unknown)'; layers: \(known.joined(separator: ", "))")
        }
    }

    /// ``rewritten(_:)`` with each node's unique name and kind; output containers are kept.
    func rewriting(_ body: (GraphNode, Node) throws -> Node) throws -> Axon {
        var analyzed: [ObjectIdentifier: AnalyzedNode] = [:]
        for entry in try GraphAnalysis.analyze(node, backend: nil) { analyzed[ObjectIdentifier(entry.node)] = entry }
        return try rewritten { original, rebuilt in
            guard let entry = analyzed[ObjectIdentifier(original)], !(original.layer is ContainerLayer) else { return rebuilt }
            return try body(GraphNode(name: entry.name, kind: entry.kind, layer: original.layer), rebuilt)
        }
    }
}
