#if !MPI
import AxonCore
import Foundation

/// In a build without the `MPI` trait there is no communicator: asking for one throws, saying
/// how to build with it.
public enum MPICommunicator {
    /// Throws: this build has no MPI.
    public static func world() throws -> any Collective {
        throw DistributedError.notLaunched("this build of Axon has no MPI; build with the package trait MPI (libopenmpi-dev)")
    }

    /// Whether an MPI launcher started this process; always false without MPI.
    public static var isLaunched: Bool { false }

    /// No MPI library is linked.
    public static var libraryVersion: String { "none (built without the MPI trait)" }

    /// Ends this process with `code` (there are no other ranks).
    public static func abortWorld(_ code: Int32) -> Never { exit(code) }
}
#endif
