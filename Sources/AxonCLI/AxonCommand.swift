import ArgumentParser
import Axon
import AxonBackends
import Backend
import Foundation

/// The `axon` command-line tool.
@main
struct AxonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axon",
        abstract: "Axon for Swift: train and inspect neural networks on interchangeable backends.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Export.self, Import.self, Summary.self, Backends.self, Conformance.self, Bench.self],
        defaultSubcommand: Train.self
    )
}

/// Options shared by subcommands that run a model. The help texts list the linked backends
/// and the options each declares, from the registry.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "\(BackendRegistry.shared.availableNames.joined(separator: ", ")) or auto (default: $AXON_BACKEND, else auto).",
        discussion: "Linked backends:\n" + LinkedBackends.helpText()))
    var backend: String?

    @OptionGroup var settings: BackendSettings

    func resolve() throws -> any Backend {
        try settings.apply()
        return try BackendRegistry.shared.resolve(backend)
    }
}

/// The options of the linked backends, set as `--backend-option backend.option=value`.
struct BackendSettings: ParsableArguments {
    @Option(name: .customLong("backend-option"), help: ArgumentHelp(
        "A backend option, backend.option=value (repeatable); `axon backends` lists them.", valueName: "backend.option=value"))
    var backendOptions: [String] = []

    @Option(help: "Threads for the oneDNN backend: short for --backend-option onednn.threads=N.")
    var threads: Int?

    func validate() throws {
        if let threads {
            let cores = ProcessInfo.processInfo.activeProcessorCount
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            guard threads <= cores else {
                throw ValidationError("--threads \(threads) is more than this machine's \(cores) cores; threads beyond the cores only wait for each other")
            }
        }
        do {
            try BackendRegistry().configuredForValidation(options: assignments)
        } catch let error as BackendError {
            throw ValidationError("--backend-option: \(error)")
        }
    }

    /// `--backend-option` values, with `--threads` as the oneDNN option it stands for.
    var assignments: [String] {
        backendOptions + (threads.map { ["onednn.threads=\($0)"] } ?? [])
    }

    /// Registers the linked backends with these options set.
    func apply() throws {
        LinkedBackends.register()
        try BackendRegistry.shared.setOptions(assignments)
    }
}

extension BackendRegistry {
    /// Checks option assignments against the linked backends' declarations without starting any.
    func configuredForValidation(options: [String]) throws {
        LinkedBackends.register(in: self)
        try setOptions(options)
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
