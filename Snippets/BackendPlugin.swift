// Writing a backend: a delegating backend that counts matrix products, registered in-process,
// exported as a run-time plugin, and checked by the conformance suite.
import AxonConformance
import AxonCore
import Backend
import CPUReference
import Foundation

// snippet.backend
/// Counts matrix products and runs every primitive on the reference backend.
final class MatmulCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend
    private let lock = NSLock()
    private var count = 0

    var name: String { "matmul-counter" }
    var deviceDescription: String { "counts matrix products on \(fallback.name)" }
    var matmuls: Int { lock.withLock { count } }

    init(fallback: any Backend) { self.fallback = fallback }

    func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        lock.withLock { count += 1 }
        return try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }
}
// snippet.end

// snippet.register
extension MatmulCounter {
    /// How the registry knows the backend: a name, a priority (below `reference`, so that
    /// `auto` never picks it) and a factory given the registry's host fallback.
    static var descriptor: BackendDescriptor {
        BackendDescriptor(name: "matmul-counter", priority: -1, summary: "counts matrix products") { configuration in
            MatmulCounter(fallback: try configuration.hostFallback())
        }
    }
}

ReferenceBackend.register()
BackendRegistry.shared.register(MatmulCounter.descriptor)
let backend = try BackendRegistry.shared.resolve("matmul-counter")
// snippet.end

// snippet.plugin
// In a shared library, this entry point is what `axon` finds when it loads the plugin.
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "matmul-counter", version: "1.0.0") {
        BackendPlugin.retained { MatmulCounter.descriptor }
    }
}
// snippet.end

// snippet.conformance
let counter = MatmulCounter(fallback: ReferenceBackend())
let report = try ConformanceSuite.run(on: counter, including: { $0.name.contains("matmul") })
print(report.markdown)  // each case, the worst discrepancy and the tolerance
// snippet.end

// snippet.hide
let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: backend)
let product = try x.matmul(x)
// Hand computation: [[1, 2], [3, 4]]² = [[7, 10], [15, 22]].
guard try product.scalars == [7, 10, 15, 22], report.passed, !report.results.isEmpty, counter.matmuls > 0 else {
    throw SnippetCheck("the counting backend's product \(try product.scalars), report passed \(report.passed), \(counter.matmuls) products")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
