#if MPI
import AxonCore
import CMPI
import Foundation

/// The processes an MPI launcher (`mpirun`, `mpiexec`, a batch scheduler) started, as one
/// `Collective` for data-parallel training: rank, world size, the rank on this
/// machine, and the collective operations on host memory.
///
/// ```swift
/// let world = try MPICommunicator.world()
/// let loop = try Loop.trainer(model: model, loss: loss, optimizer: optimizer, on: backend,
///                             dataParallel: DataParallel(world))
/// ```
///
/// MPI's errors come back as thrown ``DistributedError``s (the communicator's error handler is
/// `MPI_ERRORS_RETURN`). When a rank dies, Open MPI's launcher ends the others; a rank that
/// throws should call ``abortWorld(_:)`` so that its peers stop too instead of waiting in a collective.
public final class MPICommunicator: Collective, @unchecked Sendable {
    /// This process's rank, in `0..<size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// This process's rank among those on the same machine (for choosing a device).
    public let localRank: Int
    private let communicator: MPI_Comm
    private let lock = NSLock()

    private static let worldLock = NSLock()
    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// The world communicator, initialising MPI on first use. Throws when the process was not
    /// started by an MPI launcher (a world of one would silently train alone).
    public static func world() throws -> MPICommunicator {
        try worldLock.withLock {
            if let shared { return shared }
            guard isLaunched else {
                throw DistributedError.notLaunched(
                    "this process was not started by an MPI launcher; run it as `mpirun -np N \(CommandLine.arguments.first ?? "program") ...`")
            }
            var initialized: Int32 = 0, provided: Int32 = 0
            try check(MPI_Initialized(&initialized), "MPI_Initialized")
            if initialized == 0 {
                try check(MPI_Init_thread(nil, nil, axon_mpi_thread_serialized(), &provided), "MPI_Init_thread")
                atexit { MPICommunicator.finalize() }
            } else {
                try check(MPI_Query_thread(&provided), "MPI_Query_thread")
            }
            guard let world = axon_mpi_comm_world() else { throw DistributedError.invalid("MPI has no world communicator") }
            try check(MPI_Comm_set_errhandler(world, axon_mpi_errors_return()), "MPI_Comm_set_errhandler")
            var (rank, size): (Int32, Int32) = (0, 0)
            try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
            try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
            let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap(Int.init) ?? Int(rank)
            let made = MPICommunicator(
                communicator: world, rank: Int(rank), size: Int(size), localRank: local,
                callableFromAnyThread: provided >= axon_mpi_thread_serialized())
            shared = made
            return made
        }
    }

    /// Whether an MPI launcher started this process (Open MPI's, or a PMI-based one).
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"].contains { environment[$0] != nil }
    }

    /// The MPI library's own description, such as `Open MPI v4.1.4, ...`.
    public static var libraryVersion: String {
        var bytes = [CChar](repeating: 0, count: Int(axon_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&bytes, &length) == MPI_SUCCESS else { return "unknown MPI library" }
        return String(decoding: bytes.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether MPI was initialised for calls from any thread, one at a time
    /// (`MPI_THREAD_SERIALIZED`, which Open MPI provides), so that gradients are reduced while
    /// the backward pass runs.
    public let callableFromAnyThread: Bool

    private init(communicator: MPI_Comm, rank: Int, size: Int, localRank: Int, callableFromAnyThread: Bool) {
        self.communicator = communicator
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.callableFromAnyThread = callableFromAnyThread
    }

    public func allReduceSum(_ values: inout [Float]) throws {
        try allReduce(&values, axon_mpi_float(), "float32")
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try allReduce(&values, axon_mpi_double(), "float64")
    }

    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
        guard (0..<size).contains(root) else { throw DistributedError.invalid("broadcast from rank \(root) of \(size)") }
        let count = try Self.count(bytes.count)
        let what = "MPI_Bcast of \(bytes.count) bytes from rank \(root)"
        try lock.withLock {
            try bytes.withUnsafeMutableBytes { buffer in
                try Self.check(MPI_Bcast(buffer.baseAddress, count, axon_mpi_byte(), Int32(root), communicator), what)
            }
        }
    }

    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let count = try Self.count(bytes.count)
        _ = try Self.count(bytes.count * size)
        var gathered = [UInt8](repeating: 0, count: bytes.count * size)
        try lock.withLock {
            try bytes.withUnsafeBytes { send in
                try gathered.withUnsafeMutableBytes { receive in
                    try Self.check(
                        MPI_Allgather(send.baseAddress, count, axon_mpi_byte(), receive.baseAddress, count, axon_mpi_byte(), communicator),
                        "MPI_Allgather of \(bytes.count) bytes")
                }
            }
        }
        return (0..<size).map { Array(gathered[($0 * bytes.count)..<(($0 + 1) * bytes.count)]) }
    }

    public func barrier() throws {
        try lock.withLock { try Self.check(MPI_Barrier(communicator), "MPI_Barrier") }
    }

    /// Ends every process of the world with `code` (`MPI_Abort`), or this one when MPI is not
    /// running: what a rank that cannot go on calls, so that its peers do not wait for it in a
    /// collective.
    public static func abortWorld(_ code: Int32) -> Never {
        fflush(nil)  // every output stream, before the processes end
        var (initialized, finalized): (Int32, Int32) = (0, 0)
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0, finalized == 0, let world = axon_mpi_comm_world() { MPI_Abort(world, code) }
        exit(code)
    }

    private func allReduce<Element>(_ values: inout [Element], _ type: MPI_Datatype, _ name: String) throws {
        let count = try Self.count(values.count)
        let what = "MPI_Allreduce of \(values.count) \(name) values"
        try lock.withLock {
            try values.withUnsafeMutableBytes { buffer in
                try Self.check(MPI_Allreduce(axon_mpi_in_place(), buffer.baseAddress, count, type, axon_mpi_sum(), communicator), what)
            }
        }
    }

    private static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// `count` as MPI's `int`, or an error for a buffer too large for one call.
    private static func count(_ count: Int) throws -> Int32 {
        guard let converted = Int32(exactly: count) else {
            throw DistributedError.invalid("\(count) elements are more than one MPI call carries (at most \(Int32.max))")
        }
        return converted
    }

    private static func check(_ status: Int32, _ what: String) throws {
        guard status != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(axon_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(status, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DistributedError.mpi(operation: what, code: Int(status), message: message)
    }
}
#endif
