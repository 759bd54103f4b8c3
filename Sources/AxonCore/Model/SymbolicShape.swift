import Backend

/// A shape known at model-build time: `nil` marks a dimension fixed only when data arrives
/// (usually the batch).
public typealias SymbolicShape = [Int?]

extension Array where Element == Int? {
    /// `[nil, 784]` style text.
    var shapeDescription: String {
        "[" + map { $0.map(String.init) ?? "nil" }.joined(separator: ", ") + "]"
    }

    /// Whether a concrete shape fits (same rank, equal wherever a size is known).
    func accepts(_ shape: Shape) -> Bool {
        count == shape.rank && zip(self, shape.dimensions).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
    }

    /// The shape with every unknown dimension replaced by `value`.
    func concrete(filling value: Int = 1) -> Shape { Shape(map { $0 ?? value }) }

    /// Whether two symbolic shapes can describe the same tensors.
    func isCompatible(with other: SymbolicShape) -> Bool {
        count == other.count && zip(self, other).allSatisfy { $0.0 == nil || $0.1 == nil || $0.0 == $0.1 }
    }

    /// The number of elements when every dimension is known.
    var knownElementCount: Int? {
        guard allSatisfy({ $0 != nil }) else { return nil }
        return Shape(compactMap { $0 }).checkedElementCount
    }
}

extension Shape {
    /// This concrete shape with `nil` wherever `template` is unknown.
    func symbolic(like template: SymbolicShape) -> SymbolicShape {
        dimensions.enumerated().map { index, size in index < template.count && template[index] == nil ? nil : size }
    }
}
