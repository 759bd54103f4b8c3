import ArgumentParser
import Axon
import Backend
import CPUReference
import Foundation
#if OneDNN
import OneDNN
#endif
#if Vulkan
import Vulkan
#endif

/// The `axon` command-line tool.
@main
struct AxonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axon",
        abstract: "Axon for Swift: train and inspect neural networks on interchangeable backends.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Summary.self, Backends.self, Conformance.self, Bench.self],
        defaultSubcommand: Train.self
    )
}

/// Registers every backend linked into this executable; `threads` sets oneDNN's OpenMP
/// thread count (the reference backend uses one thread per core).
func registerLinkedBackends(threads: Int? = nil) {
    ReferenceBackend.register()
    #if OneDNN
    OneDNNBackend.register(threads: threads)
    #endif
    #if Vulkan
    VulkanBackend.register()
    #endif
}

/// Options shared by subcommands that run a model.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: "reference, onednn, vulkan or auto (default: $AXON_BACKEND, else auto).")
    var backend: String?

    @Option(help: "Threads for the oneDNN backend (default: $OMP_NUM_THREADS, else one per core).")
    var threads: Int?

    func validate() throws {
        guard let threads else { return }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard threads <= cores else {
            throw ValidationError("--threads \(threads) is more than this machine's \(cores) cores; threads beyond the cores only wait for each other")
        }
    }

    func resolve() throws -> any Backend {
        registerLinkedBackends(threads: threads)
        return try BackendRegistry.shared.resolve(backend)
    }
}

/// Prints a library error as one line on standard error and exits with status 1, instead of
/// a stack trace or the usage text.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as BackendError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as AxonError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
