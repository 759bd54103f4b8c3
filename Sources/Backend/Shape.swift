/// The dimensions of a dense, row-major array.
///
/// A rank-0 shape (`[]`) describes a scalar with one element.
public struct Shape: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible,
    RandomAccessCollection
{
    /// The size of each dimension, outermost first.
    public var dimensions: [Int]

    /// A shape of `dimensions`.
    public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    /// The number of dimensions.
    public var rank: Int { dimensions.count }

    /// The number of elements (1 for a scalar).
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// The number of elements, or nil when a dimension is negative or the product overflows
    /// `Int`: the count to use for a shape that came from outside (a file, a user).
    public var checkedElementCount: Int? {
        var count = 1
        for dimension in dimensions {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= dimensions[axis]
        }
        return strides
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { dimensions.count }
    public subscript(position: Int) -> Int {
        get { dimensions[position] }
        set { dimensions[position] = newValue }
    }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }

    /// Turns a possibly negative axis (counting from the end) into an index in `0..<rank`.
    public func normalizedAxis(_ axis: Int, operation: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw BackendError.invalidArgument(
                operation: operation, reason: "axis \(axis) is out of range for shape \(self)")
        }
        return resolved
    }

    /// The NumPy-style broadcast of two shapes: dimensions are aligned from the right and each
    /// pair must be equal or contain a 1.
    public static func broadcast(_ a: Shape, _ b: Shape, operation: String) throws -> Shape {
        let rank = Swift.max(a.rank, b.rank)
        var result = [Int](repeating: 1, count: rank)
        for index in 0..<rank {
            let da = index < rank - a.rank ? 1 : a[index - (rank - a.rank)]
            let db = index < rank - b.rank ? 1 : b[index - (rank - b.rank)]
            guard da == db || da == 1 || db == 1 else {
                throw BackendError.shapeMismatch(
                    operation: operation,
                    reason: "shapes \(a) and \(b) cannot be broadcast together (dimension \(index) is \(da) vs \(db))")
            }
            result[index] = da == 1 ? db : da
        }
        return Shape(result)
    }

    /// Strides that read this shape as if broadcast to `target`: broadcast dimensions get
    /// stride 0. The caller guarantees that `self` broadcasts to `target`.
    public func broadcastStrides(to target: Shape) -> [Int] {
        let own = strides
        let offset = target.rank - rank
        return (0..<target.rank).map { axis in
            axis < offset || dimensions[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }
}
