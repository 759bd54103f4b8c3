import ArgumentParser
import Distributed
import AxonCore
import Backend
import Foundation

/// The `axon` command-line tool. The executable registers the backends linked into it with
/// `BackendRegistry.shared`, then calls ``runLoadingPlugins()``; the commands use whatever is
/// registered.
///
/// ```swift
/// import AxonCommands
///
/// AxonCommand.runLoadingPlugins()  // a program with no backend compiled in
/// ```
public struct AxonCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "axon",
        abstract: "Axon for Swift: train and inspect neural networks on interchangeable backends.",
        discussion: """
            Examples:
              axon train --model mnist-cnn --data mnist --data-dir ../shared/datasets/mnist
              axon summary --model mnist-lstm
              axon backends

            Exit status: 0 on success, 1 when the command fails (the reason on standard error),
            64 when the command line is wrong. Shell completion: axon --generate-completion-script bash|zsh|fish.
            """,
        version: Axon.version,
        subcommands: [Train.self, Evaluate.self, Predict.self, Plot.self, Export.self, Import.self, Summary.self, Backends.self, Conformance.self, Bench.self, DistributedBench.self],
        defaultSubcommand: Train.self
    )

    public init() {}

    /// Loads the backend plugins on the plugin path into the shared registry, notes each one
    /// skipped on standard error (`axon backends` lists them all), and runs the command line.
    public static func runLoadingPlugins() {
        for report in BackendRegistry.shared.loadPlugins() where !report.loaded {
            FileHandle.standardError.write(Data("note: plugin \(report)\n".utf8))
        }
        main()
    }
}

/// Options shared by subcommands that run a model. The help texts list the registered backends
/// and the options each declares, from the registry.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "\(BackendRegistry.shared.availableNames.joined(separator: ", ")) or auto (default: $AXON_BACKEND, else auto).",
        discussion: "Backends:\n" + BackendRegistry.shared.descriptorsByPriority.map(\.helpText).joined(separator: "\n")))
    var backend: String?

    @OptionGroup var settings: BackendSettings

    func resolve() throws -> any Backend {
        try settings.apply()
        return try BackendRegistry.shared.resolve(backend)
    }
}

/// The options of the registered backends, set as `--backend-option backend.option=value`.
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
            try BackendRegistry.shared.validateOptions(assignments)
        } catch let error as BackendError {
            throw ValidationError("--backend-option: \(error)")
        }
    }

    /// `--backend-option` values, with `--threads` as the oneDNN option it stands for.
    var assignments: [String] {
        backendOptions + (threads.map { ["onednn.threads=\($0)"] } ?? [])
    }

    /// Sets these options on the registered backends.
    func apply() throws {
        try BackendRegistry.shared.setOptions(assignments)
    }
}

/// Prints a library error as one line on standard error and exits with status 1, instead of
/// a stack trace or the usage text. `onFailure` (a distributed run's abort of every process)
/// runs after any error is printed.
func runReportingErrors(onFailure: (() -> Never)? = nil, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error where error is BackendError || error is AxonError || error is DistributedError || onFailure != nil {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        onFailure?()
        throw ExitCode.failure
    }
}
