/// Errors of distributed training.
public enum DistributedError: Error, Sendable, CustomStringConvertible {
    /// A communicator was asked for outside an MPI launcher, or in a build without MPI.
    case notLaunched(String)
    /// An MPI call failed: which, its error code and MPI's description of it.
    case mpi(operation: String, code: Int, message: String)
    /// An argument no MPI call accepts (a rank outside the world, a buffer too large).
    case invalid(String)

    public var description: String {
        switch self {
        case let .notLaunched(reason): return "distributed training: \(reason)"
        case let .mpi(operation, code, message): return "distributed training: \(operation) failed (MPI error \(code)): \(message)"
        case let .invalid(reason): return "distributed training: \(reason)"
        }
    }
}
