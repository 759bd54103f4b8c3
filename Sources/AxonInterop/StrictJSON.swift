import AxonData
import Foundation

/// A JSON value parsed strictly, for file headers that must be validated rather than trusted:
/// duplicate keys are an error (Foundation's decoder keeps one silently), integers are kept
/// exact, and nesting is bounded so a hostile header cannot exhaust the stack.
enum StrictJSON: Equatable {
    case object([(key: String, value: StrictJSON)])
    case array([StrictJSON])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    static func == (a: StrictJSON, b: StrictJSON) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The deepest nesting a document may have.
    static let maximumDepth = 64

    /// Parses `bytes` as one JSON document; the failure says what is wrong and where.
    static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(FormatProblem) -> StrictJSON {
        var parser = Parser(bytes: Array(bytes))
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == parser.bytes.count else { throw parser.fail("text after the end of the document") }
        return value
    }

    var objectMembers: [(key: String, value: StrictJSON)]? { if case let .object(members) = self { members } else { nil } }
    var arrayElements: [StrictJSON]? { if case let .array(elements) = self { elements } else { nil } }
    var stringValue: String? { if case let .string(text) = self { text } else { nil } }
    var integerValue: Int? { if case let .integer(value) = self { value } else { nil } }

    /// The value of `key` in an object.
    subscript(key: String) -> StrictJSON? { objectMembers?.first(where: { $0.key == key })?.value }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        func fail(_ reason: String) -> FormatProblem { FormatProblem("\(reason) at byte \(position)") }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func expect(_ character: Character) throws(FormatProblem) {
            guard take(character.asciiValue!) else { throw fail("expected '\(character)'") }
        }

        mutating func value(depth: Int) throws(FormatProblem) -> StrictJSON {
            guard depth < StrictJSON.maximumDepth else { throw fail("nesting deeper than \(StrictJSON.maximumDepth) levels") }
            skipSpace()
            guard position < bytes.count else { throw fail("the document ends where a value should be") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(key: String, value: StrictJSON)] = []
                var keys = Set<String>()
                if take(UInt8(ascii: "}")) { return .object(members) }
                repeat {
                    skipSpace()
                    let key = try string()
                    guard keys.insert(key).inserted else { throw fail("the key \"\(key.prefix(100))\" appears twice") }
                    try expect(":")
                    members.append((key, try value(depth: depth + 1)))
                } while take(UInt8(ascii: ","))
                try expect("}")
                return .object(members)
            case UInt8(ascii: "["):
                position += 1
                var elements: [StrictJSON] = []
                if take(UInt8(ascii: "]")) { return .array(elements) }
                repeat { elements.append(try value(depth: depth + 1)) } while take(UInt8(ascii: ","))
                try expect("]")
                return .array(elements)
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try word("true", .bool(true))
            case UInt8(ascii: "f"): return try word("false", .bool(false))
            case UInt8(ascii: "n"): return try word("null", .null)
            default: return try number()
            }
        }

        mutating func word(_ text: String, _ value: StrictJSON) throws(FormatProblem) -> StrictJSON {
            guard bytes[position...].starts(with: text.utf8) else { throw fail("an unknown word") }
            position += text.utf8.count
            return value
        }

        mutating func number() throws(FormatProblem) -> StrictJSON {
            let start = position
            let allowed = Set("+-0123456789.eE".utf8)
            while position < bytes.count, allowed.contains(bytes[position]) { position += 1 }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if let integer = Int(text) { return .integer(integer) }
            guard !text.isEmpty, let value = Double(text), value.isFinite else {
                position = start
                throw fail(text.isEmpty ? "an unexpected character" : "'\(text.prefix(40))' is not a number this reader can hold")
            }
            return .number(value)
        }

        mutating func string() throws(FormatProblem) -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            position += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll()
            }
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard position < bytes.count else { throw fail("the document ends inside a string") }
                    let escape = bytes[position]
                    position += 1
                    let simple: [UInt8: Unicode.Scalar] = [
                        UInt8(ascii: "\""): "\"", UInt8(ascii: "\\"): "\\", UInt8(ascii: "/"): "/", UInt8(ascii: "b"): "\u{8}",
                        UInt8(ascii: "f"): "\u{C}", UInt8(ascii: "n"): "\n", UInt8(ascii: "r"): "\r", UInt8(ascii: "t"): "\t",
                    ]
                    if let scalar = simple[escape] {
                        scalars.append(scalar)
                        continue
                    }
                    guard escape == UInt8(ascii: "u") else { throw fail("an unknown escape") }
                    let first = try hexQuad()
                    var code = first
                    if (0xD800..<0xDC00).contains(first) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw fail("an unpaired surrogate")
                        }
                        position += 2
                        let second = try hexQuad()
                        guard (0xDC00..<0xE000).contains(second) else { throw fail("an unpaired surrogate") }
                        code = 0x10000 + (first - 0xD800) << 10 + (second - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("an invalid code point") }
                    scalars.append(scalar)
                case 0..<0x20:
                    throw fail("a control character inside a string")
                default:
                    raw.append(byte)
                }
            }
            throw fail("the document ends inside a string")
        }

        mutating func hexQuad() throws(FormatProblem) -> UInt32 {
            guard position + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16) else {
                throw fail("a bad \\u escape")
            }
            position += 4
            return code
        }
    }
}
