import AxonCore
import Backend
import CPUReference
import Foundation

/// The outcome of one case on one backend.
public struct CaseOutcome: Sendable, Codable {
    /// The backend.
    public let backend: String
    /// Whether the case passed on it.
    public let passed: Bool
    /// The worst disagreement with the reference backend (or the expected values).
    public let worst: Discrepancy
    /// The tolerance applied.
    public let tolerance: Tolerance
    /// Why it failed, or what else was checked (fused vs composition, finite differences).
    public let note: String?
}

/// One report row: a case and its outcome on every backend.
public struct CaseResult: Sendable, Codable {
    /// The case's name.
    public let name: String
    /// Its class.
    public let opClass: OpClass
    /// One outcome per backend.
    public let outcomes: [CaseOutcome]
    /// Whether it passed everywhere.
    public var passed: Bool { outcomes.allSatisfy(\.passed) }
}

/// Runs cases on every backend and compares each with the reference backend.
public struct ConformanceRunner {
    /// The backends checked, by name.
    public let backends: [(name: String, backend: any Backend)]
    let reference: any Backend = ReferenceBackend().checked

    /// Backends by name; `reference` is always compared with itself, with its independent
    /// expectations (expected values, finite differences) checked.
    public init(backends: [(name: String, backend: any Backend)]) { self.backends = backends }

    /// Every built-in case: primitives, fused ops, library parts, gradients and training recipes.
    public static func builtInCases(mnistDirectory: URL) -> [ConformanceCase] {
        PrimitiveCases.all + LibraryCases.all + GradientCase.all.map(\.conformanceCase) + TrainingRecipes.all(mnistDirectory: mnistDirectory)
            + ErrorContractCases.all + BFloat16Cases.all
    }

    /// Runs every case on every backend.
    public func run(_ cases: [ConformanceCase]) -> [CaseResult] {
        cases.map { run($0) }
    }

    /// Runs one case on every backend and on the reference backend, and compares.
    public func run(_ testCase: ConformanceCase) -> CaseResult {
        if testCase.opClass == .error { return runErrorContract(testCase) }
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
                if testCase.opClass == .bfloat16, case let .op(op, inputs, attributes) = testCase.body {
                    let float32 = try BFloat16Cases.float32Result(op, inputs, attributes, on: reference)
                    let widened = try output.map { try HostArray(shape: $0.shape, elements: $0.elements.converted(to: $0.dtype == .bfloat16 ? .float32 : $0.dtype)) }
                    let (difference, ok) = Discrepancy.measure(widened, float32, tolerance: testCase.tolerance)
                    notes.append(ok ? "within tolerance of float32 (worst abs \(difference.absolute))" : "differs from float32 (worst abs \(difference.absolute), \(difference.mismatch ?? "numeric"))")
                    passed = passed && ok
                }
                if case let .op(op, inputs, attributes) = testCase.body, OpTable.fused.contains(op) {
                    // Behind a door, which computes bfloat16 through float32 as for the fused op.
                    let composition = CheckedBackend(ForwardingBackend(backend))
                    let buffers = try inputs.map { try composition.upload($0.make()) }
                    let composed = try OpTable.run(op, on: composition, inputs: buffers, attributes: attributes).map { try composition.download($0) }
                    let (difference, ok) = Discrepancy.measure(output, composed, tolerance: testCase.tolerance)
                    notes.append(ok ? "fused = composition" : "fused differs from its composition (worst abs \(difference.absolute))")
                    passed = passed && ok
                }
                if case let .op(op, inputs, attributes) = testCase.body, OpTable.optional.contains(op) {
                    let core = CheckedBackend(CoreOnlyBackend(backend))
                    let buffers = try inputs.map { try core.upload($0.make()) }
                    let decomposed = try OpTable.run(op, on: core, inputs: buffers, attributes: attributes).map { try core.download($0) }
                    let (difference, ok) = Discrepancy.measure(output, decomposed, tolerance: testCase.tolerance)
                    notes.append(ok ? "native = decomposition" : "native differs from its decomposition (worst abs \(difference.absolute))")
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

extension ConformanceRunner {
    /// An error-contract case passes on a backend when it throws the reference backend's error:
    /// a ``BackendError`` or ``AxonError`` of the same case and message (with each backend's
    /// own name read as `BACKEND`).
    func runErrorContract(_ testCase: ConformanceCase) -> CaseResult {
        let expected = Self.signature(of: testCase, on: reference)
        let outcomes = backends.map { name, backend -> CaseOutcome in
            let actual = Self.signature(of: testCase, on: backend)
            let passed: Bool
            let note: String
            switch (expected, actual) {
            case let (.success(wanted), .success(got)) where wanted == got:
                (passed, note) = (true, "throws \(got)")
            case let (.success(wanted), .success(got)):
                (passed, note) = (false, "throws \(got), but the reference throws \(wanted)")
            case let (.failure(problem), _), let (_, .failure(problem)):
                (passed, note) = (false, problem.description)
            }
            return CaseOutcome(backend: name, passed: passed, worst: Discrepancy(), tolerance: testCase.tolerance, note: note)
        }
        return CaseResult(name: testCase.name, opClass: testCase.opClass, outcomes: outcomes)
    }

    /// What running the case throws, with the backend's name neutralised, or why that is not
    /// an acceptable outcome (it returned, or threw something other than a library error).
    static func signature(of testCase: ConformanceCase, on backend: any Backend) -> Result<String, ConformanceError> {
        do {
            _ = try testCase.run(on: backend)
            return .failure(ConformanceError("did not throw"))
        } catch {
            guard let signature = errorSignature(error, on: backend) else {
                return .failure(ConformanceError("threw \(type(of: error)) instead of a BackendError or AxonError: \(error)"))
            }
            return .success(signature)
        }
    }

    /// A library error as the error contract compares it: its type, case name and message,
    /// with the backend's own name read as `BACKEND`; nil for any other error.
    public static func errorSignature(_ error: any Error, on backend: any Backend) -> String? {
        func neutral(_ type: String, _ error: some Error & CustomStringConvertible) -> String {
            let caseName = Mirror(reflecting: error).children.first?.label ?? "\(error)"
            return type + "." + caseName + ": " + error.description.replacingOccurrences(of: backend.name, with: "BACKEND")
        }
        switch error {
        case let error as BackendError: return neutral("BackendError", error)
        case let error as AxonError: return neutral("AxonError", error)
        default: return nil
        }
    }
}
