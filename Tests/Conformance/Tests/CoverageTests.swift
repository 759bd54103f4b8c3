import AxonConformance
import Foundation
import Testing

/// A new public op, layer, loss, metric, initializer, transformation, optimizer or schedule
/// without a conformance case fails here. The lists come from the source code itself, not
/// from a hand-kept list.
@Suite("Conformance: coverage derived from the code")
struct CoverageTests {
    let covered = Set(ConformanceRunner.builtInCases(mnistDirectory: ConformanceBackends.mnist).flatMap(\.covers))

    func source(_ path: String) throws -> String {
        try String(contentsOf: ConformanceBackends.root.appendingPathComponent(path), encoding: .utf8)
    }

    /// First capture group of every match of `pattern` in `text`.
    func names(_ pattern: String, in text: String) throws -> Set<String> {
        let regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines, .dotMatchesLineSeparators])
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    }

    func expectCovered(_ family: String, _ declared: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!declared.isEmpty, "no \(family) found in the sources", sourceLocation: sourceLocation)
        let missing = declared.filter { !covered.contains("\(family).\($0)") }.sorted()
        #expect(missing.isEmpty, "\(family) without a conformance case: \(missing)", sourceLocation: sourceLocation)
    }

    @Test("every Backend protocol requirement has op cases")
    func backendProtocol() throws {
        let text = try source("Sources/Backend/Primitives.swift") + source("Sources/Backend/Backend.swift")
        let requirements = try names(#"^    func (\w+)\("#, in: text)
        // Host transfers are exercised by the copy round trip (and ownership by the error
        // contract's foreign buffer, which also covers copy); every other requirement is an op
        // name or the family prefix of op names (unary.exp, reduce.sum, ...).
        let aliases = ["upload": "copy", "download": "copy", "synchronize": "copy", "owns": "copy"]
        let opsWithCases = Set(covered.filter { OpTable.names.contains($0) })
        let families = Set(opsWithCases.map { $0.split(separator: ".")[0] }.map(String.init))
        let missing = requirements.filter { requirement in
            let name = aliases[requirement] ?? requirement
            return !opsWithCases.contains(name) && !families.contains(name)
        }
        #expect(missing.isEmpty, "Backend requirements without a case: \(missing.sorted())")
        let untested = OpTable.names.filter { !covered.contains($0) }
        #expect(untested.isEmpty, "ops in the op table without a case: \(untested)")
    }

    @Test("every layer builder")
    func layers() throws {
        let directory = ConformanceBackends.root.appendingPathComponent("Sources/AxonCore/Layers")
        var declared: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            declared.formUnion(try names(#"public (?:static )?func (\w+)\([^{]*?\) -> \[?(?:Axon|Parameter)\]? \{"#, in: text))
        }
        expectCovered("layer", declared)
    }

    @Test("every activation")
    func activations() throws {
        let text = try source("Sources/AxonCore/Layers/Activation.swift")
        let declared = try names(#"^    case (\w+)"#, in: text)
        let kinds = Dictionary(uniqueKeysWithValues: zip(
            ["celu", "elu", "exp", "gelu", "hardTanh", "hardSigmoid", "hardSilu", "leakyRelu", "linear", "logSigmoid", "logSoftmax", "logSumExp", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "softplus", "softsign", "tanh"],
            ["celu", "elu", "exp", "gelu", "hard_tanh", "hard_sigmoid", "hard_silu", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "log_sumexp", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "softplus", "softsign", "tanh"]))
        #expect(declared.count == 22)
        let unknown = declared.filter { kinds[$0] == nil }
        #expect(unknown.isEmpty, "activations without a known layer name: \(unknown)")
        expectCovered("activation", Set(declared.compactMap { kinds[$0] }))
    }

    @Test("every loss, metric, initializer, transformation, optimizer and schedule")
    func library() throws {
        let losses = try source("Sources/AxonCore/Training/Losses.swift")
        expectCovered("loss", try names(#"public static func (\w+)\(_ "#, in: String(losses.prefix(upTo: losses.range(of: "public struct Loss:")!.lowerBound))))
        let metrics = try source("Sources/AxonCore/Training/Metrics.swift")
        expectCovered("metric", try names(#"public static (?:func|let) (\w+)"#, in: String(metrics.prefix(upTo: metrics.range(of: "public enum Metrics")!.lowerBound))))
        expectCovered("initializer", try names(#"^    case (\w+)"#, in: try source("Sources/AxonCore/Initializers/Initializer.swift")))
        let transformations = try source("Sources/AxonCore/Optimizers/Transformations.swift") + source("Sources/AxonCore/Optimizers/GradientTransformation.swift")
        expectCovered("transformation", try names(#"^public func (\w+)\("#, in: transformations).subtracting(["applyUpdates"]))
        expectCovered("optimizer", try names(#"public static func (\w+)\("#, in: try source("Sources/AxonCore/Optimizers/Optimizer.swift")))
        expectCovered("schedule", try names(#"public static func (\w+)\("#, in: try source("Sources/AxonCore/Optimizers/Schedules.swift")))
    }
}
