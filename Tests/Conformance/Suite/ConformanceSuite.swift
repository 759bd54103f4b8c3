import AxonCore
import Backend
import CPUReference
import Foundation

/// The conformance suite as one call, so a backend built in another package can prove itself
/// against the reference backend: every built-in case (primitives, fused ops against their
/// compositions, optional primitives against their decompositions, layers, losses,
/// optimizers, gradients, training recipes and the error contract) plus any case files.
///
/// ```swift
/// import AxonConformance
///
/// let report = ConformanceSuite.run(on: MyBackend())
/// print(report.markdown)
/// assert(report.passed)
/// ```
public enum ConformanceSuite {
    /// Runs the suite on `backend` (behind its front door) and returns the report.
    ///
    /// - Parameters:
    ///   - backend: the backend to check (it runs behind its front door, `CheckedBackend`).
    ///   - mnistDirectory: MNIST IDX files for the training recipes; without them those cases fail.
    ///   - caseDirectory: extra case files (JSON and `.npy`), if any.
    ///   - including: which cases to run (default: all).
    public static func run(
        on backend: any Backend, mnistDirectory: URL = defaultMNISTDirectory, caseDirectory: URL? = nil,
        including: (ConformanceCase) -> Bool = { _ in true }
    ) throws -> ConformanceReport {
        var cases = ConformanceRunner.builtInCases(mnistDirectory: mnistDirectory)
        if let caseDirectory { cases += try CaseFile.loadAll(from: caseDirectory) }
        let runner = ConformanceRunner(backends: [(backend.name, backend.checked)])
        return ConformanceReport(backends: [backend.name], results: runner.run(cases.filter(including)))
    }

    /// The reference backend, the suite's oracle: also the fallback a delegating backend under
    /// test runs its other primitives on, for packages that do not link `CPUReference` themselves.
    public static func referenceBackend() -> any Backend { ReferenceBackend() }

    /// `../shared/datasets/mnist` from the working directory, where this repository keeps MNIST.
    public static var defaultMNISTDirectory: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
            .appendingPathComponent("shared/datasets/mnist")
    }
}
