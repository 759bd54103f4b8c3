import AxonCore
import Foundation

/// The conformance report: one row per case, one column per backend.
public struct ConformanceReport: Sendable, Codable {
    /// The backends checked.
    public let backends: [String]
    /// Each case's outcome on each backend.
    public let results: [CaseResult]

    /// A report of `results` on `backends`.
    public init(backends: [String], results: [CaseResult]) {
        self.backends = backends
        self.results = results
    }

    /// The cases that failed on some backend.
    public var failures: [CaseResult] { results.filter { !$0.passed } }
    /// Whether every case passed on every backend.
    public var passed: Bool { failures.isEmpty }

    /// A Markdown table: pass/fail with the worst absolute and relative error and the tolerance.
    public var markdown: String {
        var lines = ["# Conformance report", ""]
        lines.append("\(results.count) cases on \(backends.joined(separator: ", ")): \(results.count - failures.count) passed, \(failures.count) failed.")
        lines.append("Rule: |x − y| ≤ max(atol, rtol · max(|x|, |y|)) against the reference backend; NaN and ±∞ must match exactly.")
        let contract = results.filter { $0.opClass == .error }
        lines.append("Error contract (class `error`): \(contract.filter(\.passed).count) of \(contract.count) invalid inputs throw the same error on every backend.")
        lines.append("")
        lines.append("| case | class | " + backends.joined(separator: " | ") + " |")
        lines.append("|---|---|" + backends.map { _ in "---|" }.joined())
        for result in results {
            let cells = backends.map { backend -> String in
                guard let outcome = result.outcomes.first(where: { $0.backend == backend }) else { return "not run" }
                let status = outcome.passed ? "pass" : "**FAIL**"
                if result.opClass == .error { return status + (outcome.note.map { "; \($0)" } ?? "") }
                let numbers = String(format: "abs %.1e, rel %.1e (atol %.0e, rtol %.0e)", outcome.worst.absolute, outcome.worst.relative,
                                     outcome.tolerance.absolute, outcome.tolerance.relative)
                return "\(status) \(numbers)" + (outcome.note.map { "; \($0)" } ?? "")
            }
            lines.append("| \(result.name) | \(result.opClass.rawValue) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as JSON (`conformance.json`).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes `conformance.md` and `conformance.json` into `directory`.
    public func write(to directory: URL) throws {
        try FileAccess.prepareDirectory(directory)
        try FileAccess.writeAtomically(Data(markdown.utf8), to: directory.appendingPathComponent("conformance.md"))
        try FileAccess.writeAtomically(try json(), to: directory.appendingPathComponent("conformance.json"))
    }
}
