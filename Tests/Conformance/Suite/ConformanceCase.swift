import AxonCore
import Backend

/// How a case makes one input.
public indirect enum InputSpec: Sendable, Equatable {
    /// Literal values.
    case literal(HostArray)
    /// Literal elements in `shape`, checked against it when the input is made.
    case elements(shape: [Int], HostElements)
    /// Uniform floats in [low, high) from Philox bits of `seed`.
    case uniform(shape: [Int], seed: UInt64, low: Float, high: Float)
    /// `int32` values in [0, upper) from Philox bits of `seed`.
    case indices(shape: [Int], seed: UInt64, upper: Int32)
    /// Another spec's elements cast to `bfloat16` (rounded to nearest even).
    case bfloat16(InputSpec)

    /// The host array this spec describes (the same on every backend).
    public func make() throws -> HostArray {
        switch self {
        case let .literal(array):
            return array
        case let .elements(shape, elements):
            return try HostArray(shape: Shape(shape), elements: elements)
        case let .uniform(shape, seed, low, high):
            let count = Shape(shape).elementCount
            let values = Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: count).map { low + (high - low) * Philox.unitFloat($0) }
            return try HostArray(shape: Shape(shape), elements: .float32(values))
        case let .indices(shape, seed, upper):
            let count = Shape(shape).elementCount
            let values = Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: count).map { Int32((UInt64($0) * UInt64(upper)) >> 32) }
            return try HostArray(shape: Shape(shape), elements: .int32(values))
        case let .bfloat16(spec):
            let array = try spec.make()
            return try HostArray(shape: array.shape, elements: array.elements.converted(to: .bfloat16))
        }
    }
}

/// An attribute value of an op case.
public enum Attribute: Sendable, Codable, Equatable {
    /// An integer.
    case int(Int)
    /// A number.
    case double(Double)
    /// A truth value.
    case bool(Bool)
    /// Text.
    case string(String)
    /// A list of integers.
    case ints([Int])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode([Int].self) { self = .ints(value) }
        else { self = .string(try container.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .bool(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .ints(value): try container.encode(value)
        }
    }
}

/// Attributes by name, with typed accessors that explain what is missing.
public struct Attributes: Sendable, Codable, Equatable {
    /// The attributes by name.
    public var values: [String: Attribute]

    /// Attributes of `values`.
    public init(_ values: [String: Attribute] = [:]) { self.values = values }

    public init(from decoder: any Decoder) throws { values = try [String: Attribute](from: decoder) }
    public func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }

    func require(_ name: String) throws -> Attribute {
        guard let value = values[name] else { throw ConformanceError("missing attribute '\(name)'") }
        return value
    }

    /// The integer `name`, or `fallback` when absent; throws when it is absent without a fallback or not an integer.
    public func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        if values[name] == nil, let fallback { return fallback }
        guard case let .int(value) = try require(name) else { throw ConformanceError("attribute '\(name)' must be an integer") }
        return value
    }

    /// The number `name` (an integer reads as a number), or `fallback`; throws as ``int(_:default:)`` does.
    public func double(_ name: String, default fallback: Double? = nil) throws -> Double {
        if values[name] == nil, let fallback { return fallback }
        switch try require(name) {
        case let .double(value): return value
        case let .int(value): return Double(value)
        default: throw ConformanceError("attribute '\(name)' must be a number")
        }
    }

    /// The truth value `name`, or `fallback` when absent; throws when it is not one.
    public func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = values[name] else { return fallback }
        guard case let .bool(flag) = value else { throw ConformanceError("attribute '\(name)' must be true or false") }
        return flag
    }

    /// The integer list `name`, or `fallback`; throws as ``int(_:default:)`` does.
    public func ints(_ name: String, default fallback: [Int]? = nil) throws -> [Int] {
        if values[name] == nil, let fallback { return fallback }
        switch try require(name) {
        case let .ints(value): return value
        case let .int(value): return [value]
        default: throw ConformanceError("attribute '\(name)' must be a list of integers")
        }
    }

    /// The text `name`, or `fallback`; throws as ``int(_:default:)`` does.
    public func string(_ name: String, default fallback: String? = nil) throws -> String {
        if values[name] == nil, let fallback { return fallback }
        guard case let .string(value) = try require(name) else { throw ConformanceError("attribute '\(name)' must be a string") }
        return value
    }
}

/// A problem with a case itself (unknown op, missing attribute, unreadable file).
public struct ConformanceError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// An error described by `description`.
    public init(_ description: String) { self.description = description }
}

/// One conformance case: what to run and how to judge it.
public struct ConformanceCase: Sendable {
    /// What the case runs.
    public enum Body: Sendable {
        /// A backend operation from the op table (``OpTable``), on generated inputs.
        case op(name: String, inputs: [InputSpec], attributes: Attributes)
        /// Any computation through the library on a backend, returning host arrays.
        case library(@Sendable (any Backend) throws -> [HostArray])
    }

    /// The name shown in reports.
    public let name: String
    /// What the case covers, e.g. `unary.exp`, `layer.dense`, `loss.huber`: the coverage
    /// check matches these against the names found in the code.
    public let covers: [String]
    /// The class whose tolerance applies.
    public let opClass: OpClass
    /// What the case runs.
    public let body: Body
    /// Independent expected outputs (hand-derived or recorded elsewhere), checked on every
    /// backend including the reference.
    public let expected: [HostArray]?
    /// The tolerance: the class's, or a tighter one.
    public let tolerance: Tolerance

    /// A case; `tighterTolerance` may only tighten the class's tolerance.
    public init(
        _ name: String, covers: [String], opClass: OpClass, body: Body, expected: [HostArray]? = nil, tighterTolerance: Tolerance? = nil
    ) {
        self.name = name
        self.covers = covers
        self.opClass = opClass
        self.body = body
        self.expected = expected
        self.tolerance = Tolerance.of(opClass).tightened(by: tighterTolerance)
    }

    /// An op case.
    public static func op(
        _ name: String, _ op: String, _ inputs: [InputSpec], _ attributes: [String: Attribute] = [:], opClass: OpClass,
        expected: [HostArray]? = nil
    ) -> ConformanceCase {
        ConformanceCase(name, covers: [op], opClass: opClass, body: .op(name: op, inputs: inputs, attributes: Attributes(attributes)), expected: expected)
    }

    /// Runs the case on `backend`.
    public func run(on backend: any Backend) throws -> [HostArray] {
        switch body {
        case let .op(name, inputs, attributes):
            let buffers = try inputs.map { try backend.upload($0.make()) }
            return try OpTable.run(name, on: backend, inputs: buffers, attributes: attributes).map { try backend.download($0) }
        case let .library(function):
            return try function(backend)
        }
    }
}
