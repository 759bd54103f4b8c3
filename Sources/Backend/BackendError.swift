/// An error thrown by a backend or by shape checking shared by all backends.
///
/// Every case names the operation and says what was expected, so a message can be shown to a
/// user as it is.
public enum BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Operand shapes do not fit the operation.
    case shapeMismatch(operation: String, reason: String)
    /// An operand has a dtype the operation does not accept.
    case unsupportedDType(operation: String, dtype: DType, reason: String)
    /// An attribute (axis, stride, rate, ...) is out of its valid range.
    case invalidArgument(operation: String, reason: String)
    /// A gather or scatter index lies outside the indexed dimension.
    case indexOutOfRange(operation: String, index: Int, size: Int)
    /// A buffer produced by one backend was handed to another.
    case foreignBuffer(operation: String, expected: String)
    /// No backend of that name is registered, or none could start.
    case unknownBackend(name: String, available: [String])
    /// A backend exists but cannot run here (no device, missing library, ...).
    case unavailable(backend: String, reason: String)
    /// Memory could not be allocated.
    case outOfMemory(backend: String, bytes: Int)
    /// The device failed while running work (lost device, driver error).
    case deviceFailure(backend: String, reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, reason):
            return "\(operation): shape mismatch: \(reason)"
        case let .unsupportedDType(operation, dtype, reason):
            return "\(operation): unsupported dtype \(dtype): \(reason)"
        case let .invalidArgument(operation, reason):
            return "\(operation): invalid argument: \(reason)"
        case let .indexOutOfRange(operation, index, size):
            return "\(operation): index \(index) is out of range for a dimension of size \(size)"
        case let .foreignBuffer(operation, expected):
            return "\(operation): the buffer belongs to another backend (expected a \(expected) buffer)"
        case let .unknownBackend(name, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "unknown backend '\(name)'; available backends: \(list)"
        case let .unavailable(backend, reason):
            return "backend '\(backend)' is not available: \(reason)"
        case let .outOfMemory(backend, bytes):
            return "backend '\(backend)' is out of memory allocating \(bytes) bytes"
        case let .deviceFailure(backend, reason):
            return "backend '\(backend)' device failure: \(reason)"
        }
    }
}
