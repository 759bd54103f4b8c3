/// When a hook runs: with a layer's output as the model computes it, or with the gradient of
/// the differentiated value with respect to that output.
public enum HookEvent: String, Sendable {
    /// After a layer computes its output; when the gradient of that output is known.
    case forward, backward
}

/// A function attached to a layer with ``Axon/hook(_:_:)``.
struct LayerHook: Sendable {
    let event: HookEvent
    let body: @Sendable (_ layer: String, _ value: Tensor) throws -> Void
}

extension Axon {
    /// Calls `body` with this layer's name and output each time the built model runs
    /// (`.forward`: feature extraction, debugging), or with the gradient reaching that output
    /// whenever a value computed from it is differentiated (`.backward`: exploding or vanishing
    /// gradients). Hooks see detached tensors and cannot change them; a hook that throws stops
    /// the run with an error naming the layer. A model without hooks pays nothing for them.
    /// Hooks hold closures, so a saved model does not keep them.
    ///
    /// ```swift
    /// let features = Features()  // a class collecting what the hook sees
    /// let model = Axon.input("x", shape: [nil, 4]).dense(8).hook(.forward) { layer, value in
    ///     features.record(layer, try value.array)
    /// }.dense(2)
    /// ```
    public func hook(_ event: HookEvent = .forward, _ body: @escaping @Sendable (_ layer: String, _ value: Tensor) throws -> Void) -> Axon {
        Axon(node.with(hooks: node.hooks + [LayerHook(event: event, body: body)]))
    }
}

extension AnalyzedNode {
    /// Runs the forward hooks on `output` and returns it wrapped so that the backward hooks
    /// see its gradient. Errors name the layer.
    func runningHooks(on output: Tensor) throws -> Tensor {
        let (name, kind) = (self.name, self.kind)
        // A compiled function would replay the layer's operations without calling its hooks.
        Tracing.current?.fail("layer '\(name)' has hooks, host code that runs on every call")
        func failed(_ error: any Error, _ event: HookEvent) -> AxonError {
            AxonError.layer(name: name, kind: kind, reason: "its \(event.rawValue) hook failed: \(error)")
        }
        for hook in node.hooks where hook.event == .forward {
            do { try hook.body(name, output.detached()) } catch { throw failed(error, .forward) }
        }
        let backward = node.hooks.filter { $0.event == .backward }
        guard !backward.isEmpty else { return output }
        return Tensor.record(output.buffer, on: output.backend, inputs: [output]) { cotangent, _, _ in
            for hook in backward {
                do { try hook.body(name, cotangent) } catch { throw failed(error, .backward) }
            }
            return [cotangent]
        }
    }
}
