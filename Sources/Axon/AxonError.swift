import Backend

/// Errors raised by the Axon library itself (backend errors pass through as ``BackendError``).
public enum AxonError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Operands live on different backends.
    case backendMismatch(operation: String, backends: [String])
    /// A gradient was requested of a function whose result is not a single float.
    case nonScalarOutput(operation: String, shape: Shape, dtype: DType)
    /// Gradients were requested with respect to a non-float tensor.
    case notDifferentiable(operation: String, reason: String)
    /// An initializer cannot produce the requested shape.
    case invalidInitializer(initializer: String, shape: Shape, reason: String)
    /// A value was read in a way its shape does not allow.
    case invalidValue(operation: String, reason: String)

    public var description: String {
        switch self {
        case let .backendMismatch(operation, backends):
            return "\(operation): operands live on different backends (\(backends.joined(separator: ", "))); move them to one backend first"
        case let .nonScalarOutput(operation, shape, dtype):
            return "\(operation): the function must return a single float32 value to differentiate, got \(dtype) of shape \(shape)"
        case let .notDifferentiable(operation, reason):
            return "\(operation): not differentiable: \(reason)"
        case let .invalidInitializer(initializer, shape, reason):
            return "initializer \(initializer) cannot fill shape \(shape): \(reason)"
        case let .invalidValue(operation, reason):
            return "\(operation): \(reason)"
        }
    }
}
