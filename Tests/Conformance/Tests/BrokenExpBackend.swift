import AxonConformance
import Backend
import CPUReference

/// The reference backend with `exp` off by one part in a thousand: the suite must notice.
final class BrokenExpBackend: ForwardingBackend, @unchecked Sendable {
    init() { super.init(ReferenceBackend()) }

    override var name: String { "broken" }

    override func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        let result = try base.unary(operation, x)
        guard operation == .exp else { return result }
        return try base.binary(.multiply, result, base.full(1.001, shape: [], dtype: .float32))
    }
}

/// The reference backend answering an out-of-range gather with zeros instead of an error:
/// the error contract must notice.
final class LaxGatherBackend: ForwardingBackend, @unchecked Sendable {
    override var name: String { "lax" }

    override func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer {
        let shape = try ShapeRules.gather(x.shape, indices: indices.shape, axis: axis).shape
        return try base.full(0, shape: shape, dtype: x.dtype)
    }
}
