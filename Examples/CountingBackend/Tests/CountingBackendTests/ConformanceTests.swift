import AxonConformance
import Backend
import CountingBackend
import Foundation
import Testing

/// The repository's MNIST files (../shared/datasets/mnist beside it), for the training recipes.
private let mnist = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("shared/datasets/mnist")

@Test func countingBackendPassesTheConformanceSuite() throws {
    let backend = CountingBackend(fallback: ConformanceSuite.referenceBackend())
    let report = try ConformanceSuite.run(on: backend, mnistDirectory: mnist)
    #expect(report.passed, "failed: \(report.failures.map(\.name))")
    #expect(backend.counts["matmul", default: 0] > 0)
    #expect(backend.counts["convolution", default: 0] > 0)
}

@Test func countingBackendCountsEachPrimitiveCall() throws {
    let backend = CountingBackend(fallback: ConformanceSuite.referenceBackend()).checked
    let a = try backend.upload(HostArray(shape: [2, 3], elements: .float32([1, 2, 3, 4, 5, 6])))
    let b = try backend.upload(HostArray(shape: [3, 1], elements: .float32([1, 0, -1])))
    let product = try backend.download(try backend.matmul(a, b, transposeA: false, transposeB: false))
    #expect(product.elements == .float32([-2, -2]))
    let counting = try #require(backend.implementation as? CountingBackend)
    #expect(counting.counts == ["matmul": 1])
}
