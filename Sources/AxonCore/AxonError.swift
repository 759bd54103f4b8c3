import Backend

/// Errors raised by the Axon library itself (backend errors pass through as `BackendError`).
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
    /// A layer rejected its inputs or options when the model was built or run.
    case layer(name: String, kind: String, reason: String)
    /// Data given for a model input does not fit its declared shape or dtype, or is missing.
    case input(name: String, reason: String)
    /// A file or directory could not be read or written, or its contents are not what was
    /// expected; `reason` says why in words (`cannot create the directory: permission denied`).
    case file(path: String, reason: String)

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
        case let .layer(name, kind, reason):
            return "layer '\(name)' (\(kind)): \(reason)"
        case let .input(name, reason):
            return "input '\(name)': \(reason)"
        case let .file(path, reason):
            return "\(path): \(reason)"
        }
    }
}
