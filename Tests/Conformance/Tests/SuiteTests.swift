import AxonConformance
import Backend
import CPUReference
import Foundation
import Testing

@Suite("Conformance: every case on every backend")
struct SuiteTests {
    /// Every linked backend; one that cannot start is recorded as a failure, never skipped.
    var runner: ConformanceRunner {
        var backends: [(name: String, backend: any Backend)] = []
        for name in ConformanceBackends.names {
            do {
                backends.append((name, try ConformanceBackends.backend(name)))
            } catch {
                Issue.record("backend \(name) is linked but does not start: \(error)")
            }
        }
        return ConformanceRunner(backends: backends)
    }

    func check(_ cases: [ConformanceCase]) {
        let results = runner.run(cases)
        for result in results where !result.passed {
            let details = result.outcomes.filter { !$0.passed }.map { "\($0.backend): \($0.note ?? "abs \($0.worst.absolute), rel \($0.worst.relative)")" }
            Issue.record("\(result.name): \(details.joined(separator: "; "))")
        }
        #expect(results.count == cases.count)
    }

    @Test("primitives and fused ops") func primitives() { check(PrimitiveCases.all) }
    @Test("layers, activations, losses, metrics, initializers, optimizers, schedules") func library() { check(LibraryCases.all) }
    @Test("gradients (and finite differences on the reference)") func gradients() { check(GradientCase.all.map(\.conformanceCase)) }
    @Test("training recipes") func training() { check(TrainingRecipes.all(mnistDirectory: ConformanceBackends.mnist)) }
    @Test("error contract: each invalid input throws the same error on every backend") func errorContract() { check(ErrorContractCases.all) }
    @Test("bfloat16: casts bit for bit, and every float op within bfloat16 tolerance of the reference and of float32")
    func bfloat16() { check(BFloat16Cases.all) }

    @Test("one call runs the suite on a backend from outside the registry, and catches its faults")
    func oneCall() throws {
        let selected: (ConformanceCase) -> Bool = { $0.covers.contains("unary.exp") || $0.name.contains("gather at an index out of range") }
        let sound = try ConformanceSuite.run(on: ReferenceBackend(), including: selected)
        #expect(sound.results.count >= 2 && sound.passed)
        let broken = try ConformanceSuite.run(on: BrokenExpBackend(), including: selected)
        #expect(!broken.failures.isEmpty && broken.failures.allSatisfy { !$0.name.hasPrefix("rejects") })
        let lax = try ConformanceSuite.run(on: LaxGatherBackend(ReferenceBackend()), including: selected)
        #expect(lax.failures.map(\.name) == ["rejects gather at an index out of range"])
    }

    @Test("the error contract fails a backend that computes where it should throw")
    func laxBackendFailsTheErrorContract() throws {
        let lax = ConformanceRunner(backends: [("lax", CheckedBackend(LaxGatherBackend(ConformanceBackends.reference)))])
        let results = lax.run(ErrorContractCases.all.filter { $0.name.contains("gather at an index out of range") })
        #expect(results.count == 1)
        #expect(results.allSatisfy { !$0.passed && $0.outcomes[0].note == "did not throw" })
    }

    @Test("case files load and pass")
    func caseFiles() throws {
        let cases = try CaseFile.loadAll(from: ConformanceBackends.root.appendingPathComponent("Tests/Conformance/Cases"))
        // Three op cases; the cases recorded from optax: trajectories of 13 named optimizers and
        // 11 transformations and schedules, and 10 losses with their gradients; and 25 layers,
        // 21 activations, 8 recurrent layers and a bilinear layer with their gradients recorded
        // from PyTorch and jax.image.resize.
        #expect(cases.filter { $0.name.hasSuffix("recorded from optax") }.count == 34)
        #expect(cases.filter { $0.covers.contains { $0.hasPrefix("layer.") } }.count == 55)
        #expect(cases.count == 92)
        #expect(cases.allSatisfy { !$0.covers.isEmpty })
        check(cases)
    }

    @Test("a wrong expected value in a case file fails the case")
    func wrongExpectation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-case-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOf: ConformanceBackends.root.appendingPathComponent("Tests/Conformance/Cases/matmul_by_hand.json"), encoding: .utf8)
        try text.replacingOccurrences(of: "154", with: "155").write(to: directory.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        let results = runner.run(try CaseFile.loadAll(from: directory))
        #expect(results.count == 1 && !results[0].passed)
    }

    @Test("a deliberately broken backend op is caught")
    func brokenOp() throws {
        let broken = ConformanceRunner(backends: [("broken", BrokenExpBackend())])
        let results = broken.run(PrimitiveCases.all.filter { $0.covers.contains("unary.exp") || $0.covers.contains("unary.tanh") })
        #expect(results.first { $0.name == "unary exp" }?.passed == false)
        #expect(results.first { $0.name == "unary tanh" }?.passed == true)
    }

    @Test("the report lists every case and backend and writes Markdown and JSON")
    func report() throws {
        let results = runner.run(Array(PrimitiveCases.all.prefix(3)))
        let report = ConformanceReport(backends: ConformanceBackends.names, results: results)
        #expect(report.markdown.contains("| unary negate | elementwise | pass abs"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try report.write(to: directory)
        let decoded = try JSONDecoder().decode(ConformanceReport.self, from: Data(contentsOf: directory.appendingPathComponent("conformance.json")))
        #expect(decoded.results.count == 3)
    }
}
