import Axon
import Backend
import CPUReference
import Foundation

/// The outcome of one case on one backend.
public struct CaseOutcome: Sendable, Codable {
    public let backend: String
    public let passed: Bool
    public let worst: Discrepancy
    public let tolerance: Tolerance
    /// Why it failed, or what else was checked (fused vs composition, finite differences).
    public let note: String?
}

/// One report row: a case and its outcome on every backend.
public struct CaseResult: Sendable, Codable {
    public let name: String
    public let opClass: OpClass
    public let outcomes: [CaseOutcome]
    public var passed: Bool { outcomes.allSatisfy(\.passed) }
}

/// Runs cases on every backend and compares each with the reference backend.
public struct ConformanceRunner {
    public let backends: [(name: String, backend: any Backend)]
    let reference = ReferenceBackend()

    /// Backends by name; `reference` is always compared with itself, with its independent
    /// expectations (expected values, finite differences) checked.
    public init(backends: [(name: String, backend: any Backend)]) { self.backends = backends }

    /// Every built-in case: primitives, fused ops, library parts, gradients and training recipes.
    public static func builtInCases(mnistDirectory: URL) -> [ConformanceCase] {
        PrimitiveCases.all + LibraryCases.all + GradientCase.all.map(\.conformanceCase) + TrainingRecipes.all(mnistDirectory: mnistDirectory)
    }

    public func run(_ cases: [ConformanceCase]) -> [CaseResult] {
        cases.map { run($0) }
    }

    public func run(_ testCase: ConformanceCase) -> CaseResult {
        let referenceOutput = Result { try testCase.run(on: reference) }
        let outcomes = backends.map { name, backend -> CaseOutcome in
            do {
                let expectedBaseline = try referenceOutput.get()
                let output = try testCase.run(on: backend)
                var (worst, passed) = Discrepancy.measure(output, expectedBaseline, tolerance: testCase.tolerance)
                var notes: [String] = worst.mismatch.map { [$0] } ?? []
                if let expected = testCase.expected {
                    let (against, ok) = Discrepancy.measure(output, expected, tolerance: testCase.tolerance)
                    if !ok { notes.append("differs from the expected values (worst abs \(against.absolute), \(against.mismatch ?? "numeric"))") }
                    passed = passed && ok
                }
                if case let .op(op, inputs, attributes) = testCase.body, OpTable.fused.contains(op) {
                    let composition = ForwardingBackend(backend)
                    let buffers = try inputs.map { try composition.upload($0.make()) }
                    let composed = try OpTable.run(op, on: composition, inputs: buffers, attributes: attributes).map { try composition.download($0) }
                    let (difference, ok) = Discrepancy.measure(output, composed, tolerance: testCase.tolerance)
                    notes.append(ok ? "fused = composition" : "fused differs from its composition (worst abs \(difference.absolute))")
                    passed = passed && ok
                }
                if name == "reference", case .library = testCase.body, let gradientCase = GradientCase.all.first(where: { "gradient \($0.name)" == testCase.name }) {
                    let numeric = try gradientCase.finiteDifferences(on: backend)
                    let (difference, ok) = Discrepancy.measure(output, numeric, tolerance: Tolerance(absolute: 3e-3, relative: 3e-2))
                    notes.append(ok ? "matches finite differences" : "differs from finite differences (worst abs \(difference.absolute))")
                    passed = passed && ok
                }
                return CaseOutcome(backend: name, passed: passed, worst: worst, tolerance: testCase.tolerance, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
            } catch {
                return CaseOutcome(backend: name, passed: false, worst: Discrepancy(), tolerance: testCase.tolerance, note: "error: \(error)")
            }
        }
        return CaseResult(name: testCase.name, opClass: testCase.opClass, outcomes: outcomes)
    }
}
