import ArgumentParser
import AxonCore
import AxonConformance
import Backend
import Foundation

/// `axon conformance`: runs every conformance case on every registered backend (or those named
/// with `--backend`), prints the report and writes it as Markdown and JSON. Exits non-zero when
/// any case fails or a named backend does not start.
struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cross-backend conformance suite and write its report.",
        discussion: """
            Examples:
              axon conformance --output .build/conformance
              axon conformance --backend vulkan --backend-option vulkan.validation=on
            """)

    @Option(help: "Directory of extra case files (JSON + .npy).") var cases = "Tests/Conformance/Cases"
    @Option(name: .customLong("mnist-dir"), help: "MNIST IDX files for the training recipes.") var mnistDirectory = "../shared/datasets/mnist"
    @Option(help: "Where to write conformance.md and conformance.json.") var output = ".build/conformance"
    @Option(name: .customLong("backend"), help: "A backend to check (repeatable; default: every registered backend).")
    var selected: [String] = []
    @OptionGroup var settings: BackendSettings

    func run() throws {
        try runReportingErrors { try FileAccess.prepareDirectory(URL(fileURLWithPath: output)) }  // fail before the long run
        try settings.apply()
        let registry = BackendRegistry.shared
        var backends: [(name: String, backend: any Backend)] = []
        var failedToStart: [String] = []
        let available = registry.availableNames
        if let unknown = selected.first(where: { !available.contains($0) }) {
            try runReportingErrors { throw BackendError.unknownBackend(name: unknown, available: available) }
        }
        for name in available where selected.isEmpty || selected.contains(name) {
            do {
                backends.append((name, try registry.backend(named: name)))
            } catch {
                failedToStart.append("\(name): \(error)")
            }
        }
        var allCases = ConformanceRunner.builtInCases(mnistDirectory: URL(fileURLWithPath: mnistDirectory))
        if FileManager.default.fileExists(atPath: cases) {
            allCases += try CaseFile.loadAll(from: URL(fileURLWithPath: cases))
        }
        let report = ConformanceReport(backends: backends.map(\.name), results: ConformanceRunner(backends: backends).run(allCases))
        print(report.markdown)
        try runReportingErrors { try report.write(to: URL(fileURLWithPath: output)) }
        print("report written to \(output)/conformance.md and conformance.json")
        for failure in failedToStart { print("backend did not start: \(failure)") }
        if !report.passed || !failedToStart.isEmpty {
            print("\(report.failures.count) case(s) failed")
            throw ExitCode.failure
        }
    }
}
