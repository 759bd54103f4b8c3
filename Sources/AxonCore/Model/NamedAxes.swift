import Backend

/// An axis of a model's value: by position (negative positions count from the end) or by the
/// name an input gave it (``Axon/input(_:shape:axes:dtype:)``), which the names carry through
/// the layers in between.
///
/// Integer and string literals convert, so layers take either:
///
/// ```swift
/// let frames = Axon.input("frames", shape: [nil, 20, 8], axes: ["batch", "time", "features"])
/// let pooled = frames.softmax(axis: "time")        // the same as softmax(axis: 1)
/// let joined = Axon.concatenate([frames, pooled], axis: "features")
/// ```
public enum Axis: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, CustomStringConvertible, Codable {
    /// The axis at this position in the layer's own numbering.
    case index(Int)
    /// The axis an input named so.
    case named(String)

    public init(integerLiteral value: Int) { self = .index(value) }
    public init(stringLiteral value: String) { self = .named(value) }

    public var description: String {
        switch self {
        case let .index(position): "\(position)"
        case let .named(name): "'\(name)'"
        }
    }

    /// A position saves as a number and a name as a string, so graphs saved before axes had
    /// names still load.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let position = try? container.decode(Int.self) {
            self = .index(position)
        } else {
            self = .named(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .index(position): try container.encode(position)
        case let .named(name): try container.encode(name)
        }
    }

    /// The position for a running layer. The builder replaces every named axis by its
    /// position before a layer runs (``NamedAxisLayer``), so a name here means the layer ran
    /// outside a built model.
    func position() throws -> Int {
        switch self {
        case let .index(position): return position
        case let .named(name): throw LayerError("axis '\(name)' is named; named axes get their position when the model is built")
        }
    }
}

/// The names of a value's axes, `nil` for an unnamed axis; one per axis, or empty when
/// nothing upstream named any.
typealias AxisNames = [String?]

/// A value's shape with its axis names, as shape inference passes them between layers.
struct NamedShape: Sendable {
    let shape: SymbolicShape
    let names: AxisNames

    init(_ shape: SymbolicShape, names: AxisNames) {
        self.shape = shape
        self.names = names.contains(where: { $0 != nil }) ? names : []
    }

    /// The name of axis `position`, if it has one.
    func name(_ position: Int) -> String? { names.indices.contains(position) ? names[position] : nil }

    /// `axis` as a position in this shape: a position as given (the layer checks its range), a
    /// name looked up.
    func position(of axis: Axis) throws -> Int {
        switch axis {
        case let .index(position): return position
        case let .named(name):
            guard let position = names.firstIndex(of: name) else {
                let known = names.compactMap { $0 }
                throw LayerError(known.isEmpty
                    ? "has no axis named '\(name)': its input \(shape.shapeDescription) has no named axes (name them on the model's input)"
                    : "has no axis named '\(name)': its input is \(description), with axes \(known.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return position
        }
    }

    /// `axis` as an example axis (numbered from 0 after the batch axis), for layers that count
    /// so: a number as given, a name looked up and refused if it names the batch axis.
    func exampleAxis(of axis: Axis) throws -> Int {
        guard case .named = axis else { return try axis.position() }
        let position = try position(of: axis)
        guard position > 0 else { throw LayerError("cannot work on the batch axis \(axis) of \(description); it works on the example axes after it") }
        return position - 1
    }

    /// `[batch: nil, time: 50, features: 3]`, or the plain shape when no axis is named.
    var description: String { shape.shapeDescription(names: names) }
}

extension Array where Element == Int? {
    /// `[batch: nil, time: 50, 3]`: the shape with each named axis's name.
    func shapeDescription(names: AxisNames) -> String {
        guard names.count == count else { return shapeDescription }
        let parts = zip(self, names).map { size, name in
            let text = size.map(String.init) ?? "nil"
            return name.map { "\($0): \(text)" } ?? text
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}

/// A layer that can be told an axis by name: before it runs, the builder asks it for a copy
/// with every named axis replaced by that axis's position.
protocol NamedAxisLayer: Layer {
    func resolvingAxes(in inputs: [NamedShape]) throws -> Self
}

/// A layer that moves, drops or merges axes in a way the default rule (``AxisNaming``) gets
/// wrong: it says which names its output's axes carry.
protocol AxisNamingLayer: Layer {
    func outputAxisNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames
}

/// How names flow from a layer's inputs to its output.
enum AxisNaming {
    static func names(of layer: any Layer, inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        if let naming = layer as? any AxisNamingLayer { return try naming.outputAxisNames(inputs, output: output) }
        guard inputs.contains(where: { !$0.names.isEmpty }) else { return [] }
        guard let first = inputs.first else { return [] }
        // Most layers compute along the axes they are given (dense, convolutions, activations,
        // normalisation), so an output of the same rank keeps the names where they are.
        if first.shape.count == output.count { return first.names }
        return leadingNames(first, output: output)
    }

    /// The names of the leading axes whose sizes the output keeps: a reshape or flatten keeps
    /// `batch` (and any other leading axis it does not touch) and leaves the rest unnamed.
    static func leadingNames(_ input: NamedShape, output: SymbolicShape) -> AxisNames {
        var names = AxisNames(repeating: nil, count: output.count)
        for position in 0..<Swift.min(input.shape.count, output.count) {
            guard input.shape[position] == output[position] else { break }
            names[position] = input.name(position)
        }
        return names
    }

    /// The names of inputs combined position by position (a merge or a concatenation): each
    /// axis takes the name any input gives it, and two inputs naming one axis differently is
    /// an error, since it usually means one of them is transposed.
    static func agreedNames(_ inputs: [NamedShape], output: SymbolicShape) throws -> AxisNames {
        var names = AxisNames(repeating: nil, count: output.count)
        var namedBy = [Int](repeating: 0, count: output.count)
        for (number, input) in inputs.enumerated() where input.shape.count == output.count {
            for position in 0..<output.count {
                guard let name = input.name(position) else { continue }
                if let earlier = names[position], earlier != name {
                    throw LayerError(
                        "its inputs name axis \(position) differently: '\(earlier)' in input \(namedBy[position]) \(inputs[namedBy[position]].description) but '\(name)' in input \(number) \(input.description); transpose one of them or name the axes alike")
                }
                names[position] = name
                namedBy[position] = number
            }
        }
        return names
    }

    /// Checks the names an input declares: one per axis, none empty, none twice.
    static func validateDeclared(_ names: [String], shape: SymbolicShape) throws {
        guard names.count == shape.count else {
            throw LayerError("names \(names.count) axes (\(names.joined(separator: ", "))) but its shape \(shape.shapeDescription) has \(shape.count)")
        }
        if let empty = names.firstIndex(where: \.isEmpty) { throw LayerError("axis \(empty) has an empty name") }
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            throw LayerError("names two axes '\(name)'; axis names must be unique")
        }
    }
}
