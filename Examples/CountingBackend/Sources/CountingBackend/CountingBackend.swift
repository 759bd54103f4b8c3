import Backend
import Foundation

/// A backend that runs every primitive on the host fallback (the reference backend) and counts
/// the calls by primitive, for seeing what a model asks of a backend. Fused ops it does not
/// override run as `Backend`'s default compositions on this backend, so their primitives are
/// counted too.
public final class CountingBackend: DelegatingBackend, @unchecked Sendable {
    public let fallback: any Backend
    private let lock = NSLock()
    private var calls: [String: Int] = [:]

    public var name: String { "counting" }
    public var deviceDescription: String { "counts primitives and runs them on \(fallback.name)" }

    public init(fallback: any Backend) {
        self.fallback = fallback
    }

    /// Calls so far, by primitive.
    public var counts: [String: Int] { lock.withLock { calls } }

    /// How the backend describes itself to a registry: below `reference` for `auto`, which should
    /// never pick it, and on top of the registry's host fallback.
    public static var descriptor: BackendDescriptor {
        BackendDescriptor(name: "counting", priority: -1, summary: "counts the primitives it runs on the host fallback") { configuration in
            CountingBackend(fallback: try configuration.hostFallback())
        }
    }

    private func counted<T>(_ primitive: String, _ body: () throws -> T) rethrows -> T {
        lock.withLock { calls[primitive, default: 0] += 1 }
        return try body()
    }

    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        try counted("unary") { try fallback.unary(operation, x) }
    }

    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        try counted("binary") { try fallback.binary(operation, a, b) }
    }

    public func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        try counted("reduce") { try fallback.reduce(operation, x, axes: axes, keepDimensions: keepDimensions) }
    }

    public func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        try counted("matmul") { try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    }

    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try counted("convolution") { try fallback.convolution(input, kernel: kernel, descriptor: descriptor) }
    }
}
