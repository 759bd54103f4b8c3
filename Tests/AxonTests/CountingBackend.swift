import AxonConformance
import Backend
import CPUReference
import Foundation

/// The reference backend with a count of every primitive called, to check how often a model
/// runs each node.
final class CountingBackend: ForwardingBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    init() { super.init(ReferenceBackend()) }

    override var name: String { base.name }

    func count(_ operation: String) -> Int { lock.withLock { counts[operation, default: 0] } }

    override func observe(_ operation: String) { lock.withLock { counts[operation, default: 0] += 1 } }
}
