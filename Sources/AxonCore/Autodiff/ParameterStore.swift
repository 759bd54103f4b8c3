import Backend

/// Tensors addressed by name (`dense_0.kernel`, ...): how parameters, gradients and optimizer
/// state travel. Iteration follows the names in sorted order, so it is deterministic.
public struct ParameterStore: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    private var tensors: [String: Tensor]

    /// An empty store.
    public init() { tensors = [:] }
    /// A store of `tensors` by name.
    public init(_ tensors: [String: Tensor]) { self.tensors = tensors }
    public init(dictionaryLiteral elements: (String, Tensor)...) {
        tensors = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// The tensor called `name`, or an error listing the names that exist.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw AxonError.invalidValue(
                operation: "ParameterStore", reason: "no parameter named '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return tensor
    }

    /// Names in sorted order.
    public var names: [String] { tensors.keys.sorted() }
    /// The number of tensors.
    public var count: Int { tensors.count }
    /// Whether the store holds no tensor.
    public var isEmpty: Bool { tensors.isEmpty }

    /// Total number of scalar elements over all tensors.
    public var elementCount: Int { tensors.values.reduce(0) { $0 + $1.count } }

    /// These tensors with `other`'s replacing those of the same names (an optimizer's update of
    /// some parameters put back among all of them).
    public func merging(_ other: ParameterStore) -> ParameterStore {
        ParameterStore(tensors.merging(other.tensors) { _, new in new })
    }

    /// The tensors whose names `include` selects.
    public func selecting(where include: (String) throws -> Bool) rethrows -> ParameterStore {
        ParameterStore(try tensors.filter { try include($0.key) })
    }

    public func makeIterator() -> IndexingIterator<[(name: String, tensor: Tensor)]> {
        names.map { (name: $0, tensor: tensors[$0]!) }.makeIterator()
    }
}
